#include "pos/pos_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/beast/websocket/rfc6455.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "api/auth_input.hpp"
#include "api/merchant_authenticator.hpp"
#include "api/payment_routes.hpp"
#include "api/query.hpp"
#include "net/rate_limiter.hpp"
#include "net/time_source.hpp"
#include "pos/pos_frames.hpp"
#include "store/async_store.hpp"

namespace tillgate::pos {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;

namespace {

net::WsSettings session_settings(const PosSettings& s) {
  net::WsSettings ws;
  ws.handshake_timeout = s.handshake_timeout;
  ws.open_timeout = s.handshake_timeout;  // established at once: the gate authenticated
  ws.heartbeat = s.heartbeat;
  ws.pong_timeout = s.pong_timeout;
  ws.write_timeout = s.write_timeout;
  ws.max_message_bytes = s.max_frame_bytes;
  ws.max_outbox_frames = s.max_outbox_frames;
  return ws;
}

net::AdmissionSettings admission_settings(const PosSettings& s) {
  net::AdmissionSettings a;
  a.what = "POS connections";
  a.max_connections = s.max_connections;
  a.max_connections_per_address = s.max_connections_per_address;
  a.connections_full = "the limit of POS connections (TILLGATE_POS_WS_MAX_CONNECTIONS)";
  a.address_full = "an address reached its limit (TILLGATE_POS_WS_MAX_CONNECTIONS_PER_IP)";
  a.budget_spent = "an address failed too many handshakes (TILLGATE_AUTH_FAILURE_RATE_LIMIT_RPS)";
  return a;
}

// What the handshake presents: its headers (names in lower case), the API key and the
// group, each from its header or else from the query.
struct Handshake {
  std::string target;
  api::Headers headers;
  std::optional<std::string> api_key;
  std::optional<std::string> group_id;
};

Handshake read_handshake(const net::UpgradeRequest& request) {
  Handshake hs;
  hs.target = std::string(request.target());
  for (const auto& field : request) {
    std::string name(field.name_string());
    for (auto& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    hs.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  const api::AuthInput input("GET", hs.target, hs.headers, "", "");
  if (const auto key = input.header("x-api-key")) {
    hs.api_key = std::string(*key);
  }
  if (const auto group = input.header("x-group-id")) {
    hs.group_id = std::string(*group);
  }
  const auto question = hs.target.find('?');
  if (question == std::string::npos) {
    return hs;
  }
  const auto query = api::parse_query(std::string_view(hs.target).substr(question + 1));
  for (const auto& [name, value] : query.value_or(decltype(query)::value_type{})) {
    if (name == "x-api-key" && !hs.api_key) {
      hs.api_key = value;
    } else if (name == "x-group-id" && !hs.group_id) {
      hs.group_id = value;
    }
  }
  return hs;
}

net::WsRefusal refusal_of(const views::ApiError& error, domain::Timestamp now) {
  const auto response = views::error_response(error, now);
  return net::WsRefusal{static_cast<unsigned>(response.status), response.body};
}

}  // namespace

PosService::PosService(asio::any_io_executor executor, store::AsyncStore& store,
                       net::TimeSource& time, net::RateLimiter& auth_failures,
                       api::MerchantAuthenticator& merchant_auth, payments::TerminalPort& terminals,
                       payments::PaymentCoordinator& coordinator, payments::PaymentEvents& events,
                       net::RateLimiter& merchant_requests, views::RequestLimits limits,
                       PosSettings settings)
    : store_(store),
      time_(time),
      auth_failures_(auth_failures),
      merchant_auth_(merchant_auth),
      settings_(settings),
      context_{store,
               time,
               terminals,
               coordinator,
               limits,
               merchant_requests,
               settings.resume_window,
               std::min(settings.resume_page, settings.max_outbox_frames),
               settings.max_outbox_frames,
               {},
               settings.metrics},
      tasks_(executor, "POS notifications"),
      server_(std::move(executor), time, "POS sessions", session_settings(settings),
              admission_settings(settings), &auth_failures,
              [this](const net::UpgradeRequest& request, const std::string& remote_address) {
                return gate(request, remote_address);
              }),
      subscription_(events.subscribe(*this)) {}

// The handshake's credentials: an active API key (x-api-key), checked as a signed GET of
// the target when x-timestamp and x-signature come too (or must, in signed mode), and the
// group, which must be the key's merchant.
asio::awaitable<net::WsGateAnswer> PosService::gate(const net::UpgradeRequest& request,
                                                    const std::string& remote_address) {
  Handshake hs = read_handshake(request);
  api::AuthOutcome outcome = api::AuthOutcome::refuse(
      views::ErrorCode::unauthorized,
      settings_.require_signature
          ? "send x-api-key, x-timestamp and x-signature (a signed GET of the request target)"
          : "send x-api-key (header or query) with an active API key");
  const api::AuthInput input("GET", hs.target, hs.headers, "", remote_address);
  const bool signed_handshake = input.header("x-timestamp") && input.header("x-signature");
  if (hs.api_key && (signed_handshake || settings_.require_signature)) {
    if (!input.header("x-api-key")) {
      hs.headers.emplace_back("x-api-key", *hs.api_key);
    }
    const api::AuthInput with_key("GET", hs.target, hs.headers, "", remote_address);
    auto pending = merchant_auth_.authenticate(with_key);
    outcome = co_await std::move(pending);
  } else if (hs.api_key) {
    const auto key = co_await store_.read(&store::Store::find_api_key, *hs.api_key);
    if (key && !key->revoked_at) {
      outcome = api::AuthOutcome::accept(key->merchant_id);
    }
  }
  if (!outcome.accepted()) {
    (void)auth_failures_.admit(remote_address, net::RateLimiter::Clock::now());
    co_return refusal_of(*outcome.refusal, time_.now());
  }
  if (hs.group_id && *hs.group_id != outcome.merchant_id) {
    const auto response = views::error_response(
        403, "GROUP_MISMATCH", "x-group-id is not the merchant of this API key", time_.now());
    co_return net::WsRefusal{403, response.body};
  }
  co_return std::make_shared<PosSession>(context_, remote_address, outcome.merchant_id,
                                         *hs.api_key);
}

void PosService::status_changed(const payments::PaymentStatusChanged& change) {
  // Most merchants have no POS connection: build nothing for them.
  if (!change.event_id || context_.registry.of_merchant(change.transaction.merchant_id).empty()) {
    return;
  }
  const auto frame = payment_notification(change.transaction, *change.event_id, time_.now());
  if (!frame) {
    return;
  }
  for (const auto& session : context_.registry.of_merchant(change.transaction.merchant_id)) {
    session->push_payment_event(change.event_sequence, *frame);  // a full outbox: 1013
  }
}

void PosService::presence_changed(const payments::TerminalPresenceChanged& change) {
  if (context_.registry.of_merchant(change.merchant_id.str()).empty()) {
    return;
  }
  if (change.presence == payments::TerminalPresence::connected) {
    (void)tasks_.spawn("POS terminal connected", announce_connected(change));
    return;
  }
  send_to_merchant(change.merchant_id.str(), terminal_status_frame(change, nullptr, time_.now()));
}

// "connected" carries the terminal as terminalsResponse lists it: its label and metadata
// are read from the store first.
asio::awaitable<void> PosService::announce_connected(payments::TerminalPresenceChanged change) {
  const auto device = co_await store_.read(&store::Store::find_device, change.device_id.str());
  if (!device || device->revoked_at) {
    co_return;
  }
  payments::TerminalsElsewhere elsewhere;
  if (!context_.terminals.connection(change.device_id)) {  // connected to another node
    auto elsewhere_query = context_.coordinator.terminals_elsewhere(change.merchant_id);
    elsewhere = co_await std::move(elsewhere_query);
  }
  const auto info =
      api::terminal_view(*device, context_.terminals, context_.coordinator, elsewhere);
  send_to_merchant(change.merchant_id.str(), terminal_status_frame(change, &info, time_.now()));
}

void PosService::send_to_merchant(const std::string& merchant_id, const std::string& frame) {
  for (const auto& session : context_.registry.of_merchant(merchant_id)) {
    (void)session->send(frame);  // a full outbox cuts that connection off (1013)
  }
}

asio::awaitable<void> PosService::shutdown(std::chrono::milliseconds grace) {
  tasks_.close();
  tasks_.cancel();
  std::string reason = "gateway shutting down";
  const auto going_away = static_cast<std::uint16_t>(websocket::close_code::going_away);
  co_await server_.shutdown(grace, going_away, std::move(reason));
  (void)co_await tasks_.wait(grace);
}

}  // namespace tillgate::pos
