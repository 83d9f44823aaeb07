#pragma once
// One WebSocket surface (the terminals' /v1/terminal/ws, later the merchant POS API's /v1):
// the UpgradeHandler of its path, which admits each connection (net/admission.hpp, with
// the surface's own caps), runs it as a session of the core (net/ws_session.hpp) in the
// surface's TaskGroup, with a protocol object the surface makes for it, and shuts them
// all down with a close code and a bounded wait.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <variant>

#include "net/admission.hpp"
#include "net/deadline_queue.hpp"
#include "net/task_group.hpp"
#include "net/upgrade.hpp"
#include "net/ws_session.hpp"

namespace tillgate::net {

class RateLimiter;
class TimeSource;

// Makes the protocol object of an admitted connection from `remote_address`.
using WsProtocolFactory =
    std::function<std::shared_ptr<WsProtocol>(const std::string& remote_address)>;

// An upgrade refused before the WebSocket handshake: the HTTP answer written instead.
struct WsRefusal {
  unsigned status = 401;
  std::string body;  // JSON
};
using WsGateAnswer = std::variant<std::shared_ptr<WsProtocol>, WsRefusal>;
// For a surface that authenticates at the handshake (the merchant POS API): looks at the
// upgrade request of an admitted connection and answers its protocol object, or the
// refusal. Runs as a task of the surface's group; the request outlives the wait.
using WsGate = std::function<boost::asio::awaitable<WsGateAnswer>(
    const UpgradeRequest& request, const std::string& remote_address)>;

class WsServer final : public UpgradeHandler {
 public:
  // `name` names the group in log lines ("terminal sessions"). `auth_failures`: the shared
  // failed-authentication budget checked at admission, or null.
  WsServer(boost::asio::any_io_executor executor, TimeSource& time, std::string name,
           WsSettings settings, AdmissionSettings admission, const RateLimiter* auth_failures,
           WsProtocolFactory factory);
  // A surface whose connections pass `gate` before their handshake.
  WsServer(boost::asio::any_io_executor executor, TimeSource& time, std::string name,
           WsSettings settings, AdmissionSettings admission, const RateLimiter* auth_failures,
           WsGate gate);
  // Asserts that shutdown() ran to the end (no session is left).
  ~WsServer() override;
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  void upgrade(boost::beast::tcp_stream stream, UpgradeRequest request) override;
  void upgrade(TlsStream stream, UpgradeRequest request) override;

  // Refuses new connections, closes every session with `code` and `reason`, and waits at
  // most `grace` for them to end; then cuts off (socket closed, tasks cancelled) those left
  // and waits at most a second more. true when every session ended.
  boost::asio::awaitable<bool> shutdown(std::chrono::milliseconds grace, std::uint16_t code,
                                        std::string reason);

  // Sessions from their admission to their end, handshakes included.
  [[nodiscard]] std::size_t sessions() const { return live_.size(); }
  [[nodiscard]] const Admission& admission() const { return admission_; }
  // The group the sessions run in (its failures() counts those that ended by an error).
  [[nodiscard]] const TaskGroup& tasks() const { return group_; }

 private:
  template <class Stream>
  void admit_and_start(Stream stream, UpgradeRequest request);
  template <class Stream>
  boost::asio::awaitable<void> gate_then_start(Stream stream, UpgradeRequest request,
                                               Admission::Ticket ticket);
  void for_each_session(const std::function<void(WsSession&)>& action);

  WsSettings settings_;
  Admission admission_;
  WsProtocolFactory factory_;
  WsGate gate_;
  TaskGroup group_;
  DeadlineQueue deadlines_;  // of every session; its task runs in group_
  std::unordered_set<WsSession*> live_;
  WsSessionContext context_;
};

}  // namespace tillgate::net
