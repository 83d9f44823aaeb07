#include "pos/pos_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cassert>
#include <utility>

#include "api/payment_routes.hpp"
#include "domain/ids.hpp"
#include "metrics/gateway_metrics.hpp"
#include "net/rate_limiter.hpp"
#include "payments/coordinator.hpp"
#include "pos/pos_frames.hpp"
#include "store/async_store.hpp"
#include "views/transaction_view.hpp"

namespace tillgate::pos {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using views::ApiError;
using views::ErrorCode;

namespace {

constexpr std::size_t kMaxRequestIdChars = 64;
constexpr std::size_t kMaxEventIdChars = 128;

ApiError problem(ErrorCode code, std::string message,
                 std::optional<std::string> transaction_id = std::nullopt) {
  return ApiError{code, std::move(message), {}, std::move(transaction_id), std::nullopt};
}

// A required string member: its value, or nullopt when absent, empty or not a string.
std::optional<std::string> required_string(const json::Value& frame, std::string_view key) {
  const auto value = frame.find_string(key);
  if (!value || value->empty()) {
    return std::nullopt;
  }
  return std::string(*value);
}

// Counts a received frame under its action (tillgate_pos_frames_total).
void count_frame(metrics::GatewayMetrics* metrics, const json::Value* frame) {
  if (metrics == nullptr) {
    return;
  }
  const auto action =
      frame != nullptr && frame->is_object() ? frame->find_string("action") : std::nullopt;
  metrics->pos_frame_received(action ? *action : metrics::kPosActionInvalid);
}

}  // namespace

std::shared_ptr<PosSession> PosRegistry::attach(const std::shared_ptr<PosSession>& session) {
  std::shared_ptr<PosSession> replaced;
  auto& slot = by_key_[session->api_key()];
  if (slot) {
    replaced = std::move(slot);
    by_merchant_[replaced->merchant_id()].erase(replaced.get());
  }
  slot = session;
  by_merchant_[session->merchant_id()].insert(session.get());
  return replaced;
}

void PosRegistry::detach(const PosSession& session) {
  const auto it = by_key_.find(session.api_key());
  if (it == by_key_.end() || it->second.get() != &session) {
    return;  // replaced: the newer one holds the key
  }
  by_key_.erase(it);
  const auto merchant = by_merchant_.find(session.merchant_id());
  if (merchant != by_merchant_.end()) {
    merchant->second.erase(const_cast<PosSession*>(&session));
    if (merchant->second.empty()) {
      by_merchant_.erase(merchant);
    }
  }
}

std::vector<std::shared_ptr<PosSession>> PosRegistry::of_merchant(
    const std::string& merchant_id) const {
  std::vector<std::shared_ptr<PosSession>> sessions;
  const auto merchant = by_merchant_.find(merchant_id);
  if (merchant == by_merchant_.end()) {
    return sessions;
  }
  for (PosSession* session : merchant->second) {
    sessions.push_back(session->shared_from_this());
  }
  return sessions;
}

PosSession::PosSession(PosContext& context, std::string remote_address, std::string merchant_id,
                       std::string api_key)
    : context_(context),
      remote_address_(std::move(remote_address)),
      merchant_id_(std::move(merchant_id)),
      api_key_(std::move(api_key)) {}

void PosSession::on_open(std::weak_ptr<net::WsSession> session) {
  assert(session_.expired() && "a POS session is opened once");
  session_ = std::move(session);
  if (const auto core = session_.lock()) {
    core->establish();  // authenticated at the handshake: the heartbeat starts now
  }
  if (const auto replaced = context_.registry.attach(shared_from_this())) {
    spdlog::info("POS {}: a new connection replaces the one from {}", merchant_id_,
                 replaced->remote_address_);
    replaced->force_disconnect();
  }
}

void PosSession::on_close() {
  context_.registry.detach(*this);
}

std::string PosSession::describe() const {
  return "POS connection of " + merchant_id_;
}

bool PosSession::send(std::string frame) {
  const auto session = session_.lock();
  return session && session->send_text(std::move(frame));
}

void PosSession::force_disconnect() {
  send(force_disconnect_frame(context_.clock.now()));
  close(kCloseReplaced, "replaced by a newer connection");
}

void PosSession::push_payment_event(std::optional<std::int64_t> sequence,
                                    const std::string& frame) {
  if (feed_ != Feed::live) {
    newest_live_ = std::max(newest_live_, sequence.value_or(0));
    if (feed_ == Feed::checking) {
      if (held_.size() >= context_.max_outbox) {
        spdlog::warn("POS {}: too many live events held while resuming", merchant_id_);
        close(net::kCloseSlowReader, "slow reader: too many events held");
        return;
      }
      held_.push_back(frame);
    }
    return;  // Feed::replaying: the replay reads it from the store
  }
  // The replay read every event up to sent_through_ (sequences grow in commit order), so
  // only those are dropped. It does not follow the live events: with several nodes they
  // arrive out of commit order (another node's come through the change feed, later than
  // this node's own), and an earlier one arriving after a later one is new to the client.
  if (sent_through_ && sequence) {
    if (*sequence <= *sent_through_) {
      return;  // replayed already
    }
  } else if (!resumed_ && sequence && sent_before_resume_complete_) {
    if (sent_before_resume_.size() < context_.max_outbox) {
      sent_before_resume_.push_back(*sequence);
    } else {
      sent_before_resume_complete_ = false;  // a replay may repeat some (docs/decisions.md)
      sent_before_resume_.clear();
    }
  }
  (void)send(frame);
}

void PosSession::close(std::uint16_t code, std::string reason) {
  if (const auto session = session_.lock()) {
    session->close(code, std::move(reason));
  }
}

bool PosSession::closing() const {
  const auto session = session_.lock();
  return !session || session->closing();
}

asio::awaitable<void> PosSession::on_frame(std::string text) {
  if (closing()) {
    co_return;  // draining until the close handshake completes
  }
  auto parsed = json::parse(text, json::ParseLimits{context_.limits.max_json_depth});
  count_frame(context_.metrics, parsed ? &*parsed : nullptr);
  if (!parsed) {
    close(static_cast<std::uint16_t>(websocket::close_code::bad_payload), "invalid JSON");
    co_return;
  }
  if (!parsed->is_object()) {
    invalid("a frame is one JSON object", std::nullopt);
    co_return;
  }
  Action action{{}, std::nullopt, std::move(*parsed)};
  if (const auto* request_id = action.frame.find("requestId")) {
    if (!request_id->is_string() || request_id->as_string().size() > kMaxRequestIdChars) {
      invalid("requestId must be a string of at most 64 characters", std::nullopt);
      co_return;
    }
    action.request_id = request_id->as_string();
  }
  const auto name = action.frame.find_string("action");
  if (!name) {
    invalid("action is required", action.request_id);
    co_return;
  }
  action.name = std::string(*name);
  const auto retry_after =
      context_.merchant_requests.admit(merchant_id_, net::RateLimiter::Clock::now());
  if (retry_after) {
    fail(ApiError{ErrorCode::rate_limited,
                  "too many requests: retry after " + std::to_string(retry_after->count()) + " s",
                  {},
                  std::nullopt,
                  static_cast<int>(retry_after->count())},
         action.request_id);
    co_return;
  }
  co_await dispatch(std::move(action));
}

asio::awaitable<void> PosSession::dispatch(Action action) {
  if (action.name == "ping") {
    answer(json::object({{"action", json::Value("pong")}}), action);
  } else if (action.name == "getTerminals") {
    co_await get_terminals(action);
  } else if (action.name == "payment") {
    co_await payment(action);
  } else if (action.name == "cancelPayment") {
    co_await cancel_payment(action);
  } else if (action.name == "getTransaction") {
    co_await get_transaction(action);
  } else if (action.name == "resume") {
    co_await resume(action);
  } else {
    invalid("unknown action '" + action.name +
                "': one of ping, getTerminals, payment, cancelPayment, getTransaction, resume",
            action.request_id);
  }
}

asio::awaitable<void> PosSession::get_terminals(const Action& action) {
  const auto devices = co_await context_.store.call(&store::Store::list_devices, merchant_id_);
  auto elsewhere_query = context_.coordinator.terminals_elsewhere(domain::MerchantId(merchant_id_));
  const auto elsewhere = co_await std::move(elsewhere_query);
  json::Array items;
  for (const auto& device : devices) {
    if (!device.revoked_at) {
      items.push_back(
          api::terminal_view(device, context_.terminals, context_.coordinator, elsewhere));
    }
  }
  const auto count = static_cast<std::int64_t>(items.size());
  answer(json::object({{"action", json::Value("terminalsResponse")},
                       {"terminals", json::Value(std::move(items))},
                       {"count", json::Value(count)}}),
         action);
}

// The HTTP API's payment, without the wait: the result comes as paymentComplete.
asio::awaitable<void> PosSession::payment(const Action& action) {
  const auto terminal_id = required_string(action.frame, "terminalId");
  if (!terminal_id) {
    invalid("terminalId is required", action.request_id);
    co_return;
  }
  const auto* body = action.frame.find("paymentRequest");
  if (body == nullptr || !body->is_object()) {
    invalid("paymentRequest is required", action.request_id);
    co_return;
  }
  auto parsed = views::parse_payment_request(json::serialize(*body), context_.limits);
  if (!parsed) {
    fail(ApiError{ErrorCode::validation_error, "the payment request is not valid: see details",
                  parsed.error(), std::nullopt, std::nullopt},
         action.request_id);
    co_return;
  }
  // Answered at once; the result is pushed (docs/decisions.md: POS payments are recorded
  // in webhook mode, which needs no webhook endpoint here).
  parsed->webhook_mode = true;
  parsed->require_webhook_endpoint = false;
  auto submit = context_.coordinator.submit(domain::MerchantId(merchant_id_), *terminal_id,
                                            std::move(*parsed));
  const auto outcome = co_await std::move(submit);
  if (outcome.error) {
    auto error = api::submit_problem(outcome, *terminal_id, "transactionId");
    if (error.code == ErrorCode::terminal_not_found) {
      error.message = "Terminal connection not found";  // Modulus's message
    }
    fail(error, action.request_id);
    co_return;
  }
  if (action.request_id) {
    const auto& transaction = *outcome.transaction;
    answer(json::object({{"action", json::Value("paymentAccepted")},
                         {"transactionId", json::Value(transaction.transaction_id)},
                         {"status", json::Value(domain::to_string(transaction.status))}}),
           action);
  }
}

asio::awaitable<void> PosSession::cancel_payment(const Action& action) {
  const auto transaction_id = required_string(action.frame, "transactionId");
  if (!transaction_id) {
    invalid("transactionId is required", action.request_id);
    co_return;
  }
  auto cancel = context_.coordinator.cancel(domain::MerchantId(merchant_id_),
                                            domain::TransactionId(*transaction_id));
  const auto outcome = co_await std::move(cancel);
  if (outcome.error == payments::CancelError::transaction_not_found) {
    fail(problem(ErrorCode::transaction_not_found, "no transaction " + *transaction_id),
         action.request_id);
  } else if (outcome.error == payments::CancelError::transaction_final) {
    fail(problem(ErrorCode::transaction_final,
                 "transaction " + *transaction_id + " is already final (" +
                     std::string(domain::to_string(outcome.transaction->status)) +
                     "); it cannot be cancelled",
                 *transaction_id),
         action.request_id);
  } else {
    answer(json::object({{"action", json::Value("cancelAccepted")},
                         {"transactionId", json::Value(*transaction_id)},
                         {"status", json::Value(domain::to_string(outcome.transaction->status))}}),
           action);
  }
}

asio::awaitable<void> PosSession::get_transaction(const Action& action) {
  const auto transaction_id = required_string(action.frame, "transactionId");
  if (!transaction_id) {
    invalid("transactionId is required", action.request_id);
    co_return;
  }
  const auto transaction =
      co_await context_.store.read(&store::Store::find_transaction, merchant_id_, *transaction_id);
  if (!transaction) {
    fail(problem(ErrorCode::transaction_not_found, "no transaction " + *transaction_id),
         action.request_id);
    co_return;
  }
  answer(json::object({{"action", json::Value("transactionResponse")},
                       {"transaction", views::transaction_view(*transaction)}}),
         action);
}

// Resume: the merchant's payment events after `afterEventId`, from the store in commit
// order, then the live ones, without a gap or a repeat between the two. Live events are
// held from before the resume point is read; once it is found they are left to the replay,
// which reads pages until it has passed every live event seen meanwhile, and only then
// does the feed go live again (dropping live events the replay already sent).
asio::awaitable<void> PosSession::resume(const Action& action) {
  const auto* after = action.frame.find("afterEventId");
  if (after == nullptr || !after->is_string() || after->as_string().empty() ||
      after->as_string().size() > kMaxEventIdChars) {
    invalid("afterEventId is required: the eventId (a string) of the last event processed",
            action.request_id);
    co_return;
  }
  if (resumed_) {
    invalid("resume was already accepted on this connection", action.request_id);
    co_return;
  }
  const std::string event_id = after->as_string();
  feed_ = Feed::checking;
  newest_live_ = 0;
  bool store_failed = false;
  try {
    const auto start = co_await resume_point(action, event_id);
    if (!start) {
      go_live(std::nullopt);  // refused (the error is sent): the held events follow it
      co_return;
    }
    resumed_ = true;
    held_.clear();  // the replay sends them, from the store
    feed_ = Feed::replaying;
    const auto through = co_await replay_after(*start);
    if (through) {
      go_live(through);
    }
  } catch (const store::StoreError& error) {
    spdlog::warn("POS {}: resume failed: {}", merchant_id_, error.what());
    store_failed = true;
  }
  if (store_failed) {
    // Neither a gap nor a repeat can be promised now: the client resumes again later.
    close(net::kCloseSlowReader, "the store is unavailable: resume again later");
  }
}

// The sequence of the event to resume after, or nullopt once RESUME_TOO_OLD is sent: the
// event is unknown, another merchant's (the same answer), or older than the window.
asio::awaitable<std::optional<std::int64_t>> PosSession::resume_point(const Action& action,
                                                                      const std::string& event_id) {
  const auto event =
      co_await context_.store.read(&store::Store::find_payment_event, merchant_id_, event_id);
  const auto oldest = context_.clock.now() - context_.resume_window;
  if (event && event->created_at >= oldest) {
    co_return event->sequence;
  }
  const std::string why = event ? "event " + event_id + " is older than the resume window (" +
                                      std::to_string(context_.resume_window.count()) + " s)"
                                : "no event " + event_id + " to resume after";
  fail(problem(ErrorCode::resume_too_old, why + ": reconcile with GET /v1/transactions"),
       action.request_id);
  co_return std::nullopt;
}

// Sends, page by page, the events after `sequence`; each page only once the outbox has room
// for it, so a reader that keeps up is never cut off and a slow one is (by the write
// deadline). Ends when a short page leaves no live event unreplayed; answers the last
// sequence sent, or nullopt when the session closed meanwhile.
asio::awaitable<std::optional<std::int64_t>> PosSession::replay_after(std::int64_t sequence) {
  const std::size_t page_size = context_.resume_page;
  while (true) {
    const auto page = co_await context_.store.read(&store::Store::list_payment_events, merchant_id_,
                                                   sequence, page_size);
    const auto core = session_.lock();
    if (!core) {
      co_return std::nullopt;
    }
    const std::size_t room = context_.max_outbox - page.size();
    if (!co_await core->drained(room)) {
      co_return std::nullopt;
    }
    const auto now = context_.clock.now();
    for (const auto& event : page) {
      const bool sent_live = std::find(sent_before_resume_.begin(), sent_before_resume_.end(),
                                       event.sequence) != sent_before_resume_.end();
      const auto frame = sent_live ? std::nullopt : replayed_notification(event, now);
      if (frame) {
        (void)send(*frame);
      }
      sequence = event.sequence;
    }
    if (page.size() < page_size && newest_live_ <= sequence) {
      co_return sequence;
    }
  }
}

void PosSession::go_live(std::optional<std::int64_t> replayed_through) {
  feed_ = Feed::live;
  sent_through_ = replayed_through;
  if (replayed_through) {
    sent_before_resume_.clear();
    sent_before_resume_.shrink_to_fit();
  }
  auto held = std::move(held_);
  held_.clear();
  for (auto& frame : held) {
    (void)send(std::move(frame));
  }
}

void PosSession::answer(json::Value body, const Action& action) {
  send(answer_frame(std::move(body), action.request_id, context_.clock.now()));
}

void PosSession::fail(const ApiError& error, const std::optional<std::string>& request_id) {
  send(error_frame(error, request_id, context_.clock.now()));
}

void PosSession::invalid(std::string message, const std::optional<std::string>& request_id) {
  fail(problem(ErrorCode::validation_error, std::move(message)), request_id);
}

}  // namespace tillgate::pos
