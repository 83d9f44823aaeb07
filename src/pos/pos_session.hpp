#pragma once
// The merchant POS WebSocket API (docs/pos-websocket.md) over one WebSocket session of the
// core (net/ws_session.hpp). The merchant was authenticated at the handshake (PosService's
// gate), so the session is established at once; each text frame is one JSON action,
// answered on this connection (errors echo the action's requestId and leave the connection
// open). Invalid JSON closes with 1007; a frame over the limit closes with 1009 (the core).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "domain/time.hpp"
#include "json/json.hpp"
#include "net/ws_session.hpp"
#include "payments/terminal_port.hpp"
#include "views/errors.hpp"
#include "views/payment_request_parser.hpp"

namespace tillgate::metrics {
class GatewayMetrics;
}
namespace tillgate::net {
class RateLimiter;
}
namespace tillgate::payments {
class PaymentCoordinator;
}
namespace tillgate::store {
class AsyncStore;
}

namespace tillgate::pos {

inline constexpr std::uint16_t kCloseReplaced = 4002;  // a newer connection with the same key

class PosSession;

// The open POS connections: one per API key, and those of each merchant (whom a payment
// event goes to). Single-threaded, on the network thread.
class PosRegistry {
 public:
  // Registers `session`; answers the older connection with the same API key, if any (now
  // no longer registered: the caller closes it).
  std::shared_ptr<PosSession> attach(const std::shared_ptr<PosSession>& session);
  // Forgets `session` (a no-op when a newer one replaced it).
  void detach(const PosSession& session);
  // The merchant's open connections.
  [[nodiscard]] std::vector<std::shared_ptr<PosSession>> of_merchant(
      const std::string& merchant_id) const;
  [[nodiscard]] std::size_t size() const { return by_key_.size(); }

 private:
  std::unordered_map<std::string, std::shared_ptr<PosSession>> by_key_;
  std::unordered_map<std::string, std::unordered_set<PosSession*>> by_merchant_;
};

// What every POS session shares; owned by PosService, outlives the sessions.
struct PosContext {
  store::AsyncStore& store;
  const domain::Clock& clock;
  payments::TerminalPort& terminals;
  payments::PaymentCoordinator& coordinator;
  views::RequestLimits limits;
  // The merchant's request budget, shared with the signed HTTP routes: each action spends
  // a token; over it, the action is answered RATE_LIMITED.
  net::RateLimiter& merchant_requests;
  // Resume: how old an event may be to resume after (TILLGATE_POS_WS_RESUME_WINDOW_S), and
  // how many events one store read replays (TILLGATE_POS_WS_RESUME_PAGE, at most the outbox
  // bound, TILLGATE_POS_WS_MAX_OUTBOX, so that a page fits in the outbox once it drained).
  std::chrono::seconds resume_window;
  std::size_t resume_page;
  std::size_t max_outbox;
  PosRegistry registry;
  metrics::GatewayMetrics* metrics = nullptr;  // frames received by action
};

class PosSession final : public net::WsProtocol, public std::enable_shared_from_this<PosSession> {
 public:
  PosSession(PosContext& context, std::string remote_address, std::string merchant_id,
             std::string api_key);

  // net::WsProtocol
  void on_open(std::weak_ptr<net::WsSession> session) override;
  boost::asio::awaitable<void> on_frame(std::string text) override;
  void on_open_timeout() override {}
  void on_close() override;
  [[nodiscard]] std::string describe() const override;

  // Queues a frame; false when it cannot be (see WsSession::send_text).
  bool send(std::string frame);
  // Tells the client a newer connection with its key replaced it, and closes with 4002.
  void force_disconnect();
  // A committed payment event of this merchant, live from the event seam, as `frame`, with
  // its commit sequence: sent, or (during a resume) left to the replay from the store.
  void push_payment_event(std::optional<std::int64_t> sequence, const std::string& frame);

  [[nodiscard]] const std::string& merchant_id() const { return merchant_id_; }
  [[nodiscard]] const std::string& api_key() const { return api_key_; }

 private:
  struct Action {
    std::string name;
    std::optional<std::string> request_id;
    json::Value frame;
  };
  [[nodiscard]] bool closing() const;
  void close(std::uint16_t code, std::string reason);
  boost::asio::awaitable<void> dispatch(Action action);
  boost::asio::awaitable<void> get_terminals(const Action& action);
  boost::asio::awaitable<void> payment(const Action& action);
  boost::asio::awaitable<void> cancel_payment(const Action& action);
  boost::asio::awaitable<void> get_transaction(const Action& action);
  boost::asio::awaitable<void> resume(const Action& action);
  boost::asio::awaitable<std::optional<std::int64_t>> resume_point(const Action& action,
                                                                   const std::string& event_id);
  boost::asio::awaitable<std::optional<std::int64_t>> replay_after(std::int64_t sequence);
  void go_live(std::optional<std::int64_t> replayed_through);
  void answer(json::Value body, const Action& action);
  void fail(const views::ApiError& error, const std::optional<std::string>& request_id);
  void invalid(std::string message, const std::optional<std::string>& request_id);

  PosContext& context_;
  std::string remote_address_;
  std::string merchant_id_;
  std::string api_key_;
  std::weak_ptr<net::WsSession> session_;

  // Resume (docs/pos-websocket.md, "Resume"). While `feed_` is not live, live payment
  // events are not sent: while the resume point is looked up they are held (at most
  // max_outbox of them; more cut the slow client off), to be sent if the resume is
  // refused; while replaying they are only noted (the newest sequence), since the replay
  // reads them from the store.
  enum class Feed { live, checking, replaying };
  Feed feed_ = Feed::live;
  bool resumed_ = false;                      // a resume was accepted on this connection
  std::vector<std::string> held_;             // Feed::checking
  std::int64_t newest_live_ = 0;              // the newest live sequence seen while not live
  std::optional<std::int64_t> sent_through_;  // after a resume: the last sequence replayed
  // Before any resume: the sequences of the live events sent (at most max_outbox; then
  // no longer kept), which a later replay skips, so that a resume sent a moment after
  // connecting repeats nothing.
  std::vector<std::int64_t> sent_before_resume_;
  bool sent_before_resume_complete_ = true;
};

}  // namespace tillgate::pos
