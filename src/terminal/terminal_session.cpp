#include "terminal/terminal_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/websocket/rfc6455.hpp>
#include <cassert>
#include <utility>
#include <variant>

#include "crypto/crypto.hpp"
#include "domain/ids.hpp"
#include "net/rate_limiter.hpp"
#include "payments/coordinator.hpp"
#include "store/async_store.hpp"
#include "terminal/terminal_registry.hpp"

namespace tillgate::terminal {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;

TerminalSession::TerminalSession(TerminalContext& context, std::string remote_address)
    : context_(context), remote_address_(std::move(remote_address)) {}

void TerminalSession::on_open(std::weak_ptr<net::WsSession> session) {
  assert(session_.expired() && "a terminal session is opened once");
  session_ = std::move(session);
}

asio::awaitable<void> TerminalSession::on_frame(std::string text) {
  last_activity_ = context_.clock.now();
  if (closing()) {
    co_return;  // draining until the close handshake completes
  }
  auto decoded = decode(text);
  if (!decoded) {
    if (decoded.error().invalid_json) {
      close(static_cast<std::uint16_t>(websocket::close_code::bad_payload), "invalid JSON");
    } else if (!authenticated_) {
      refuse("hello must be the first frame");
    } else {
      protocol_error(decoded.error().message);
    }
    co_return;
  }
  if (!authenticated_) {
    co_await handle_hello(std::move(*decoded));
  } else {
    co_await dispatch(std::move(*decoded));
  }
}

void TerminalSession::on_open_timeout() {
  if (!authenticated_) {
    refuse("no hello within the hello timeout");
  }
}

void TerminalSession::on_close() {
  if (!authenticated_) {
    return;
  }
  // Only the live connection's loss matters: a replaced one has a successor, and a revoked
  // device was reported when it was revoked.
  if (context_.registry.detach(*this)) {
    context_.coordinator->terminal_disconnected(domain::MerchantId(merchant_id_),
                                                domain::DeviceId(device_id_));
  }
}

std::string TerminalSession::describe() const {
  return authenticated_ ? "terminal " + device_id_ : "terminal connection from " + remote_address_;
}

bool TerminalSession::send(std::string frame) {
  const auto session = session_.lock();
  return session && session->send_text(std::move(frame));
}

void TerminalSession::close(std::uint16_t code, std::string reason) {
  if (const auto session = session_.lock()) {
    session->close(code, std::move(reason));
  }
}

bool TerminalSession::closing() const {
  const auto session = session_.lock();
  return !session || session->closing();
}

// The first frame: a hello that authenticates, or the refusal.
asio::awaitable<void> TerminalSession::handle_hello(InboundMessage message) {
  auto* hello = std::get_if<Hello>(&message);
  if (hello == nullptr) {
    refuse("hello must be the first frame");
    co_return;
  }
  if (!co_await authenticate(std::move(*hello))) {
    (void)context_.auth_failures.admit(remote_address_, net::RateLimiter::Clock::now());
    refuse("unknown device, wrong secret, or revoked device");
    co_return;
  }
  if (const auto session = session_.lock()) {
    session->establish();  // the hello deadline ends, the heartbeat starts
  }
  co_await context_.coordinator->claim_terminal(domain::MerchantId(merchant_id_),
                                                domain::DeviceId(device_id_));
  // Before anything the coordinator re-sends on this connection.
  send(encode_hello_ok(connection_id_, static_cast<int>(context_.heartbeat.count()),
                       context_.clock.now()));
  co_await context_.coordinator->terminal_connected(domain::MerchantId(merchant_id_),
                                                    domain::DeviceId(device_id_));
}

asio::awaitable<bool> TerminalSession::authenticate(Hello hello) {
  auto find_device_in_store = [id = hello.device_id](store::Store& store) {
    return store.find_device(id);
  };
  auto device = co_await context_.store.read(std::move(find_device_in_store));
  const std::string presented_hash = crypto::sha256_hex(hello.device_secret.reveal());
  // Compare even for unknown devices, so timing does not reveal which device ids exist.
  const bool secret_ok = crypto::constant_time_equal(
      device ? device->secret_hash : std::string(presented_hash.size(), '0'), presented_hash);
  if (!device || !secret_ok || device->revoked_at || closing()) {
    co_return false;
  }
  device_id_ = device->device_id;
  merchant_id_ = device->merchant_id;
  connection_id_ = domain::new_prefixed_id("conn_");
  connected_at_ = last_activity_ = context_.clock.now();
  authenticated_ = true;
  if (const auto replaced = context_.registry.attach(shared_from_this())) {
    spdlog::info("terminal {}: new connection replaces {}", device_id_, replaced->connection_id());
    replaced->close(kCloseReplaced, "replaced by a newer connection");
  }
  co_return true;
}

asio::awaitable<void> TerminalSession::dispatch(InboundMessage message) {
  auto& coordinator = *context_.coordinator;
  if (auto* ack = std::get_if<PaymentAck>(&message)) {
    if (!co_await coordinator.acknowledge(domain::MerchantId(merchant_id_),
                                          domain::DeviceId(device_id_),
                                          domain::TransactionId(ack->transaction_id))) {
      protocol_error("transaction " + ack->transaction_id + " is not this terminal's");
    }
  } else if (auto* result = std::get_if<PaymentResult>(&message)) {
    co_await record_result(std::move(*result));
  } else if (auto* voided = std::get_if<PaymentVoided>(&message)) {
    if (!co_await coordinator.acknowledge(domain::MerchantId(merchant_id_),
                                          domain::DeviceId(device_id_),
                                          domain::TransactionId(voided->transaction_id))) {
      protocol_error("transaction " + voided->transaction_id + " is not this terminal's");
    } else {
      spdlog::info("terminal {} reversed transaction {}", device_id_, voided->transaction_id);
    }
  } else {
    protocol_error("hello was already accepted on this connection");
  }
}

asio::awaitable<void> TerminalSession::record_result(PaymentResult result) {
  const std::string transaction_id = result.transaction_id;
  payments::TerminalResult recorded{domain::TransactionId(result.transaction_id), result.event,
                                    std::move(result.outcome)};
  const auto outcome = co_await context_.coordinator->record_result(
      domain::MerchantId(merchant_id_), domain::DeviceId(device_id_), std::move(recorded));
  if (!outcome.belongs_to_terminal) {
    protocol_error("transaction " + transaction_id + " is not this terminal's");
  } else {
    // Only now: the result is durably recorded.
    send(encode_result_ack(transaction_id, outcome.recorded_status));
  }
}

void TerminalSession::refuse(std::string message) {
  send(encode_error("UNAUTHORIZED", message));
  close(kCloseUnauthorized, "unauthorized");
}

void TerminalSession::protocol_error(std::string message) {
  send(encode_error("PROTOCOL_ERROR", message));
}

}  // namespace tillgate::terminal
