#pragma once
// The WebSocket session core, once for every protocol spoken over a WebSocket (the
// terminals', later the merchant POS API's): the handshake under a deadline, the largest
// message read (above it the connection closes with 1009, as Beast does), a bounded outbox
// of frames written by one write loop with a deadline per write, the heartbeat, close
// codes, and a read loop that hands each message to the protocol. The protocol (a
// WsProtocol) decides what the messages mean and what to send; it knows nothing of Beast.
//
// A session runs as one task of the surface's TaskGroup, a chain of completion handlers
// (TaskGroup::Chain: the handshake, then the reads, each message's on_frame() coroutine
// spawned bound to the task's cancellation slot); its frames are written by a second chain
// of handlers while the outbox holds any, and its deadlines wait in the surface's
// DeadlineQueue, which takes them from the TimeSource, so a test drives them with a
// ManualTimeSource. Plain (ws://) and TLS (wss://) connections share all of it;
// ssl_stream stays out of this header (net/upgrade.hpp).
//
// Single-threaded: everything runs on the thread of the group's executor.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>

#include "net/admission.hpp"
#include "net/upgrade.hpp"

namespace tillgate::net {

class DeadlineQueue;
class TaskGroup;
class TimeSource;

// The close code of a peer that let its outbox fill up (RFC 6455 7.4.1, 1013 "try again
// later"): the frames still queued are dropped, and the close frame is the next one written.
inline constexpr std::uint16_t kCloseSlowReader = 1013;

// All required: a surface fills each from its configuration.
struct WsSettings {
  std::chrono::milliseconds handshake_timeout{};  // the opening and the closing handshake
  // From the handshake until the protocol calls WsSession::establish() (it authenticated
  // the peer); then WsProtocol::on_open_timeout().
  std::chrono::milliseconds open_timeout{};
  // Once established: a ping after `heartbeat` of quiet, and the peer is dead when its
  // pong has not come `pong_timeout` later.
  std::chrono::milliseconds heartbeat{};
  std::chrono::milliseconds pong_timeout{};
  // One frame's write, from its start: a peer that does not read is cut off.
  std::chrono::milliseconds write_timeout{};
  std::size_t max_message_bytes = 0;
  // Frames in the outbox: waiting to be written, and the one being written. A peer that
  // lets them pile up is cut off, not buffered for: closed with kCloseSlowReader (1013).
  std::size_t max_outbox_frames = 0;
};

// What a protocol can do with its session.
class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  virtual ~WsSession();

  // Queues a text frame. false, and nothing queued, when the session is closing or closed,
  // or when the outbox is full: the peer is then cut off at once, its queued frames dropped
  // and the connection closed with kCloseSlowReader (1013).
  virtual bool send_text(std::string frame) = 0;
  // Completes once at most `frames` frames are in the outbox (at once when they already
  // do): a protocol that sends many frames in a row (a replay) paces itself with it instead
  // of filling the outbox. false when the session is closing: nothing more will be sent.
  virtual boost::asio::awaitable<bool> drained(std::size_t frames) = 0;
  // Queues a close frame with `code` (RFC 6455 7.4) after the frames already queued;
  // nothing is sent after it. The session ends when the peer answers it, or when the
  // handshake timeout passes.
  virtual void close(std::uint16_t code, std::string reason) = 0;
  // Closes the socket now, without a close frame: every pending operation fails.
  virtual void abort() = 0;
  // The protocol accepted the peer: the open deadline ends and the heartbeat starts. Once.
  virtual void establish() = 0;
  // A close was queued or the socket closed: nothing more will be sent.
  [[nodiscard]] virtual bool closing() const = 0;
  [[nodiscard]] virtual const std::string& remote_address() const = 0;
};

// One protocol spoken over a session: one object per connection.
class WsProtocol {
 public:
  virtual ~WsProtocol();

  // The handshake completed. `session` is the handle to send and close with; it expires
  // when the session has ended (after on_close()).
  virtual void on_open(std::weak_ptr<WsSession> session) = 0;
  // One message (text, or binary taken as text), in order: the next is read only after
  // this one's coroutine has ended.
  virtual boost::asio::awaitable<void> on_frame(std::string text) = 0;
  // The open timeout passed without WsSession::establish().
  virtual void on_open_timeout() = 0;
  // The session ended, whatever the reason (after on_open(), once). May not suspend.
  virtual void on_close() = 0;
  // Names the peer in log lines ("terminal dev_1").
  [[nodiscard]] virtual std::string describe() const = 0;
};

// What a session gets from the surface that starts it; all of it outlives the session.
struct WsSessionContext {
  TaskGroup& group;          // runs the session's task
  TimeSource& time;          // its clock
  DeadlineQueue& deadlines;  // its deadlines
  const WsSettings& settings;
  // Every session of the surface from its start until it ended, so the surface can close
  // them all at shutdown. A session is in it once.
  std::unordered_set<WsSession*>& live;
};

// Runs the WebSocket handshake for `request` on `stream`, then the session, in
// `context.group`; `ticket` (the connection's admission) is held until the session ended.
// false when the group is closed: the stream is dropped (closed) unanswered.
bool start_ws_session(const WsSessionContext& context, boost::beast::tcp_stream stream,
                      UpgradeRequest request, std::shared_ptr<WsProtocol> protocol,
                      Admission::Ticket ticket);
bool start_ws_session(const WsSessionContext& context, TlsStream stream, UpgradeRequest request,
                      std::shared_ptr<WsProtocol> protocol, Admission::Ticket ticket);

}  // namespace tillgate::net
