// The WebSocket session core (net/ws_session.hpp) behind a real HttpServer and
// UpgradeRouter on a loopback socket, with a real Beast WebSocket client, all on one
// io_context driven by the test. Every deadline of the sessions comes from a
// ManualTimeSource, so the heartbeat, the open timeout and the write deadline pass only
// when the test moves time.
#include "net/ws_session.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/http_server.hpp"
#include "net/rate_limiter.hpp"
#include "net/time_source.hpp"
#include "net/upgrade_router.hpp"
#include "net/ws_server.hpp"

namespace tillgate {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;
using ::testing::ElementsAre;

constexpr std::size_t kMaxOutbox = 8;
constexpr std::size_t kMaxMessage = 1024;

net::WsSettings test_settings() {
  net::WsSettings s;
  s.handshake_timeout = 5s;  // Beast's own timer: real time, never reached here
  s.open_timeout = 5s;
  s.heartbeat = 30s;
  s.pong_timeout = 10s;
  s.write_timeout = 10s;
  s.max_message_bytes = kMaxMessage;
  s.max_outbox_frames = kMaxOutbox;
  return s;
}

net::AdmissionSettings test_admission() {
  net::AdmissionSettings a;
  a.what = "test connections";
  a.max_connections = 100;
  a.max_connections_per_address = 3;
  return a;
}

// What the test protocol saw, shared by every connection of a surface.
struct Probe {
  std::vector<std::string> frames;  // received, in order
  std::vector<bool> sends;          // send_text results of the last "flood"
  int opened = 0;
  int open_timeouts = 0;
  int closed = 0;
  std::optional<error_code> stall_ended;  // how the "stall" frame's wait ended
};

// Commands, one a frame: "establish", "flood N" (N one-byte frames at once), "big N"
// (N frames of 4 MiB at once), "mib" (one 1 MiB frame), "close CODE", "throw", "stall"
// (handled until the session is cancelled); any other frame is echoed.
class TestProtocol final : public net::WsProtocol {
 public:
  explicit TestProtocol(Probe& probe) : probe_(probe) {}

  void on_open(std::weak_ptr<net::WsSession> session) override {
    session_ = std::move(session);
    ++probe_.opened;
  }
  asio::awaitable<void> on_frame(std::string text) override {
    probe_.frames.push_back(text);
    if (text == "stall") {
      asio::steady_timer forever(co_await asio::this_coro::executor,
                                 asio::steady_timer::time_point::max());
      error_code ec;
      co_await forever.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      probe_.stall_ended = ec;
      co_return;
    }
    act(text);
  }
  void on_open_timeout() override {
    ++probe_.open_timeouts;
    session_.lock()->close(4001, "too slow");
  }
  void on_close() override { ++probe_.closed; }
  [[nodiscard]] std::string describe() const override { return "test peer"; }

 private:
  void act(const std::string& text) {
    auto session = session_.lock();
    ASSERT_TRUE(session);
    if (text == "establish") {
      session->establish();
    } else if (text.starts_with("flood ")) {
      probe_.sends.clear();
      for (int i = std::stoi(text.substr(6)); i > 0; --i) {
        probe_.sends.push_back(session->send_text("x"));
      }
    } else if (text.starts_with("big ")) {
      for (int i = std::stoi(text.substr(4)); i > 0; --i) {
        session->send_text(std::string(4 << 20, 'b'));
      }
    } else if (text == "mib") {
      session->send_text(std::string(1 << 20, 'm'));
    } else if (text.starts_with("close ")) {
      session->close(static_cast<std::uint16_t>(std::stoi(text.substr(6))), "asked to");
    } else if (text == "throw") {
      throw std::runtime_error("the protocol gave up");
    } else {
      session->send_text("echo " + text);
    }
  }

  Probe& probe_;
  std::weak_ptr<net::WsSession> session_;
};

// Every request that is not a routed upgrade: 404.
class NotFound final : public net::RequestHandler {
 public:
  asio::awaitable<net::HttpResponse> handle(net::HttpRequest) override {
    net::HttpResponse response;
    response.status = 404;
    response.body = "{}";
    co_return response;
  }
  net::HttpResponse refuse(int status, std::string_view, std::string_view,
                           std::string_view) override {
    net::HttpResponse response;
    response.status = status;
    return response;
  }
};

// Runs `io` until `done` or `timeout` of real time.
template <class Done>
bool run_until(asio::io_context& io, Done done, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    io.restart();
    io.run_one_for(10ms);
  }
  return true;
}

// Lets loopback I/O that is under way complete: there is no event to wait for.
void settle(asio::io_context& io) {
  io.restart();
  io.run_for(150ms);
}

// A Beast WebSocket client on the test's io_context.
class Client {
 public:
  explicit Client(asio::io_context& io) : io_(io), ws_(io) {}
  // A pending read's handler refers to this client: close, and let it complete first.
  ~Client() {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    if (read_pending_) {
      EXPECT_TRUE(run_until(io_, [&] { return !read_pending_; }));
    }
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The upgrade: its error (an HTTP status the server answered shows as a handshake error).
  error_code connect(std::uint16_t port, const std::string& target = "/ws",
                     const std::string& from = "127.0.0.1") {
    auto& socket = beast::get_lowest_layer(ws_).socket();
    socket.open(tcp::v4());
    // A fixed, small receive buffer: without it Linux grows a loopback one to tens of MB,
    // and a peer that does not read would take long to stall the server's writes.
    socket.set_option(asio::socket_base::receive_buffer_size(64 * 1024));
    socket.bind(tcp::endpoint(asio::ip::make_address(from), 0));
    std::optional<error_code> result;
    const tcp::endpoint server(asio::ip::make_address("127.0.0.1"), port);
    beast::get_lowest_layer(ws_).async_connect(server, [&](error_code ec) {
      if (ec) {
        result = ec;
        return;
      }
      ws_.async_handshake(response_, "127.0.0.1", target, [&](error_code hs) { result = hs; });
    });
    EXPECT_TRUE(run_until(io_, [&] { return result.has_value(); })) << "no handshake";
    return result.value_or(asio::error::timed_out);
  }

  void send(const std::string& text) {
    std::optional<error_code> result;
    ws_.async_write(asio::buffer(text), [&](error_code ec, std::size_t) { result = ec; });
    ASSERT_TRUE(run_until(io_, [&] { return result.has_value(); }));
    ASSERT_FALSE(*result) << result->message();
  }
  // Writes without waiting for the write to complete (one at a time, as Beast wants).
  void send_async(std::string text) {
    auto owned = std::make_shared<std::string>(std::move(text));
    ws_.async_write(asio::buffer(*owned), [owned](error_code, std::size_t) {});
  }

  // Starts a read (answering pings meanwhile, as Beast does inside reads).
  void start_read() {
    read_result_.reset();
    buffer_.clear();
    read_pending_ = true;
    ws_.async_read(buffer_, [this](error_code ec, std::size_t) {
      read_pending_ = false;
      unconsumed_ = true;
      read_result_ = ec;
    });
  }
  // The next message's text (from the pending read, if one was started), or nullopt when
  // the read ended by an error or a close.
  std::optional<std::string> read() {
    if (!read_pending_ && !unconsumed_) {
      start_read();
    }
    EXPECT_TRUE(run_until(io_, [&] { return read_result_.has_value(); })) << "nothing read";
    unconsumed_ = false;
    if (!read_result_ || *read_result_) {
      return std::nullopt;
    }
    return beast::buffers_to_string(buffer_.data());
  }
  // Reads until the connection ends: the close code the server sent, or 1006 (none).
  int read_close() {
    while (read()) {
    }
    if (read_result_ == websocket::error::closed) {
      return ws_.reason().code;
    }
    return 1006;
  }
  [[nodiscard]] const std::optional<error_code>& read_result() const { return read_result_; }
  [[nodiscard]] unsigned status() const { return response_.result_int(); }

 private:
  asio::io_context& io_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  std::optional<error_code> read_result_;
  bool read_pending_ = false;
  bool unconsumed_ = false;  // a read completed that read() has not returned yet
};

// Shuts `server` down with 1001 and a second of grace; `result` says whether every
// session ended.
asio::awaitable<void> shut_down(net::WsServer& server, std::optional<bool>& result) {
  const std::chrono::milliseconds grace{1000};
  std::string reason = "going away";
  result = co_await server.shutdown(grace, 1001, std::move(reason));
}

// The HTTP server the upgrades come through, with the gateway's default limits.
net::HttpServerLimits http_limits() {
  net::HttpServerLimits limits;
  limits.max_body_bytes = 64 * 1024;
  limits.max_header_bytes = 16 * 1024;
  limits.read_timeout = std::chrono::seconds(30);
  limits.idle_timeout = std::chrono::seconds(60);
  limits.write_timeout = std::chrono::seconds(30);
  limits.max_connections = 10'000;
  limits.max_connections_per_address = 1'000;
  return limits;
}

class WsSessionTest : public ::testing::Test {
 protected:
  WsSessionTest()
      : server_(io_, http_limits(), not_found_, upgrades_, time_),
        ws_(io_.get_executor(), time_, "test sessions", test_settings(), test_admission(),
            &auth_failures_,
            [this](const std::string&) { return std::make_shared<TestProtocol>(probe_); }) {
    upgrades_.add("/ws", ws_);
    port_ = server_.listen("127.0.0.1", 0);
    server_.start();
  }

  ~WsSessionTest() override {
    bool stopped = false;
    asio::co_spawn(io_, stop(), [&](std::exception_ptr) { stopped = true; });
    EXPECT_TRUE(run_until(
        io_, [&] { return stopped; }, 10s));
  }

  asio::awaitable<void> stop() {
    const std::chrono::seconds no_grace{0};
    co_await server_.shutdown(no_grace);
    std::optional<bool> ended;
    co_await shut_down(ws_, ended);
    const std::chrono::milliseconds timeout{1000};
    co_await server_.wait_stopped(timeout);
  }

  // Moves the sessions' time, then lets what that set off run.
  void advance(std::chrono::milliseconds d) {
    time_.advance(d);
    settle(io_);
  }

  // Sends `command` and waits until the protocol has handled it (and for what that set off
  // on the loop to run).
  void command(Client& client, const std::string& command) {
    const auto handled = probe_.frames.size() + 1;
    client.send(command);
    EXPECT_TRUE(run_until(io_, [&] { return probe_.frames.size() >= handled; })) << command;
    settle(io_);
  }

  // A connected client whose session is established (heartbeat on).
  std::unique_ptr<Client> established_client() {
    auto client = std::make_unique<Client>(io_);
    EXPECT_FALSE(client->connect(port_));
    command(*client, "establish");
    return client;
  }

  asio::io_context io_;
  net::ManualTimeSource time_{domain::Timestamp{} + std::chrono::hours(24 * 365 * 50)};
  net::RateLimiter auth_failures_{1.0 / 3600, 1, 100};
  Probe probe_;
  NotFound not_found_;
  net::UpgradeRouter upgrades_;
  net::HttpServer server_;
  net::WsServer ws_;
  std::uint16_t port_ = 0;
};

TEST_F(WsSessionTest, FramesReachTheProtocolInOrderAndItsFramesComeBack) {
  Client client(io_);
  ASSERT_FALSE(client.connect(port_));
  EXPECT_EQ(ws_.sessions(), 1u);
  client.send("one");
  client.send("two");
  EXPECT_EQ(client.read(), "echo one");
  EXPECT_EQ(client.read(), "echo two");
  EXPECT_THAT(probe_.frames, ElementsAre("one", "two"));
  EXPECT_EQ(probe_.opened, 1);
  EXPECT_EQ(probe_.closed, 0);
}

TEST_F(WsSessionTest, AFullOutboxCutsThePeerOffWith1013InsteadOfBufferingForIt) {
  Client client(io_);
  ASSERT_FALSE(client.connect(port_));
  client.send("flood 12");  // all at once: the writer cannot drain any of them meanwhile
  ASSERT_TRUE(run_until(io_, [&] { return probe_.sends.size() == 12u; }));
  for (std::size_t i = 0; i < probe_.sends.size(); ++i) {
    EXPECT_EQ(probe_.sends[i], i < kMaxOutbox) << "frame " << i;
  }
  // The queued frames are dropped: the close frame is the first one written.
  EXPECT_EQ(client.read_close(), net::kCloseSlowReader);
  EXPECT_TRUE(run_until(io_, [&] { return probe_.closed == 1; }));
  EXPECT_TRUE(run_until(io_, [&] { return ws_.sessions() == 0; }));
}

TEST_F(WsSessionTest, APeerThatStopsReadingIsClosedWith1013WhenItsOutboxFills) {
  Client client(io_);
  ASSERT_FALSE(client.connect(port_));
  // Each "mib" is answered with 1 MiB that the client does not read yet: once the socket
  // buffers are full the answers pile up in the outbox, and the ninth waiting one cuts it
  // off. The server reads on, whatever it cannot write.
  for (int i = 0; i < 40; ++i) {
    command(client, "mib");
  }
  EXPECT_EQ(probe_.closed, 0) << "the close frame waits behind what the socket holds";
  // Reading now: what was written before the cut, then the close with 1013.
  EXPECT_EQ(client.read_close(), net::kCloseSlowReader);
  EXPECT_TRUE(run_until(io_, [&] { return probe_.closed == 1; }));
  EXPECT_TRUE(run_until(io_, [&] { return ws_.sessions() == 0; }));
}

TEST_F(WsSessionTest, AMessageOverTheLimitClosesWith1009) {
  Client client(io_);
  ASSERT_FALSE(client.connect(port_));
  client.send_async(std::string(kMaxMessage + 1, 'a'));
  EXPECT_EQ(client.read_close(), 1009);
  EXPECT_TRUE(probe_.frames.empty());
  EXPECT_TRUE(run_until(io_, [&] { return probe_.closed == 1; }));
}

TEST_F(WsSessionTest, APeerThatNeverAnswersPingsIsDeadAfterThePongTimeout) {
  auto client = established_client();  // never reads: never answers a ping
  advance(30s);                        // the ping goes out
  advance(9s);
  EXPECT_EQ(probe_.closed, 0) << "dead before the pong timeout";
  advance(1s);
  EXPECT_EQ(probe_.closed, 1);
  EXPECT_EQ(client->read_close(), 1006);
}

TEST_F(WsSessionTest, APeerThatAnswersPingsStaysThroughManyHeartbeats) {
  auto client = established_client();
  client->start_read();  // Beast answers pings while a read is pending
  for (int beat = 0; beat < 5; ++beat) {
    advance(30s);
    advance(10s);
  }
  EXPECT_EQ(probe_.closed, 0);
  EXPECT_FALSE(client->read_result().has_value()) << "the connection ended";
}

TEST_F(WsSessionTest, TheOpenTimeoutReachesTheProtocolThatDidNotEstablishTheSession) {
  Client client(io_);
  ASSERT_FALSE(client.connect(port_));
  advance(4s);
  EXPECT_EQ(probe_.open_timeouts, 0);
  advance(1s);
  EXPECT_EQ(probe_.open_timeouts, 1);
  EXPECT_EQ(client.read_close(), 4001);
  EXPECT_TRUE(run_until(io_, [&] { return probe_.closed == 1; }));
}

TEST_F(WsSessionTest, AWriteThatStallsPastItsDeadlineCutsThePeerOff) {
  auto client = established_client();
  command(*client, "big 6");  // 24 MiB the client does not read: the writer blocks
  advance(9s);
  EXPECT_EQ(probe_.closed, 0) << "cut off before the write deadline";
  advance(1s);
  EXPECT_EQ(probe_.closed, 1);
  EXPECT_TRUE(run_until(io_, [&] { return ws_.sessions() == 0; }));
}

TEST_F(WsSessionTest, TheProtocolsCloseCodeReachesThePeerAfterItsFrames) {
  Client client(io_);
  ASSERT_FALSE(client.connect(port_));
  client.send("hello");
  client.send("close 4002");
  EXPECT_EQ(client.read(), "echo hello");
  EXPECT_EQ(client.read_close(), 4002);
  EXPECT_TRUE(run_until(io_, [&] { return probe_.closed == 1; }));
}

TEST_F(WsSessionTest, AnExceptionFromTheProtocolEndsOnlyThatSession) {
  Client failing(io_);
  Client other(io_);
  ASSERT_FALSE(failing.connect(port_));
  ASSERT_FALSE(other.connect(port_));
  failing.send("throw");
  EXPECT_EQ(failing.read_close(), 1006);
  EXPECT_TRUE(run_until(io_, [&] { return probe_.closed == 1; }));
  other.send("still here");
  EXPECT_EQ(other.read(), "echo still here");
}

TEST_F(WsSessionTest, AnUpgradeToAnUnroutedPathIsAnsweredByTheRequestHandler) {
  Client client(io_);
  EXPECT_EQ(client.connect(port_, "/elsewhere"), websocket::error::upgrade_declined);
  EXPECT_EQ(client.status(), 404u);
  EXPECT_EQ(ws_.sessions(), 0u);
}

TEST_F(WsSessionTest, EachRoutedPathHasItsOwnSurface) {
  Probe second_probe;
  net::WsServer second(
      io_.get_executor(), time_, "second", test_settings(), test_admission(), nullptr,
      [&](const std::string&) { return std::make_shared<TestProtocol>(second_probe); });
  upgrades_.add("/second", second);
  Client client(io_);
  ASSERT_FALSE(client.connect(port_, "/second?version=1"));
  client.send("hi");
  EXPECT_EQ(client.read(), "echo hi");
  EXPECT_THAT(second_probe.frames, ElementsAre("hi"));
  EXPECT_TRUE(probe_.frames.empty());
  client.start_read();  // to answer the close handshake
  std::optional<bool> ended;
  asio::co_spawn(io_, shut_down(second, ended), asio::detached);
  EXPECT_TRUE(run_until(io_, [&] { return ended.has_value(); }));
  EXPECT_EQ(client.read_close(), 1001);
}

TEST_F(WsSessionTest, AdmissionCapsTheConnectionsOfOneAddress) {
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<Client>(io_));
    ASSERT_FALSE(held.back()->connect(port_));
  }
  Client fourth(io_);
  EXPECT_TRUE(fourth.connect(port_)) << "a fourth connection from the address was upgraded";
  Client elsewhere(io_);
  EXPECT_FALSE(elsewhere.connect(port_, "/ws", "127.0.0.2"));
  EXPECT_EQ(ws_.admission().open_from("127.0.0.1"), 3u);
  EXPECT_EQ(ws_.admission().refused(), 1u);
}

TEST_F(WsSessionTest, AdmissionRefusesAnAddressWithoutAuthenticationBudget) {
  ASSERT_FALSE(auth_failures_.admit("127.0.0.1", net::RateLimiter::Clock::now()).has_value());
  Client blocked(io_);
  EXPECT_TRUE(blocked.connect(port_));
  Client other(io_);
  EXPECT_FALSE(other.connect(port_, "/ws", "127.0.0.2"));
}

TEST_F(WsSessionTest, ShutdownClosesEverySessionWithItsCodeAndWaitsForThem) {
  Client first(io_);
  Client second(io_);
  ASSERT_FALSE(first.connect(port_));
  ASSERT_FALSE(second.connect(port_));
  first.start_read();
  second.start_read();
  std::optional<bool> ended;
  asio::co_spawn(io_, shut_down(ws_, ended), asio::detached);
  ASSERT_TRUE(run_until(io_, [&] { return ended.has_value(); }));
  EXPECT_TRUE(*ended);
  EXPECT_EQ(ws_.sessions(), 0u);
  EXPECT_EQ(probe_.closed, 2);
  EXPECT_EQ(first.read_close(), 1001);
  EXPECT_EQ(second.read_close(), 1001);
  Client late(io_);
  EXPECT_TRUE(late.connect(port_)) << "a connection after the shutdown was upgraded";
}

// A session whose protocol is still handling a frame when the grace passes: the group's
// cancellation reaches that frame's coroutine (closing the socket would not end it), and
// the session ends within the shutdown.
TEST_F(WsSessionTest, ShutdownCancelsAFrameStillBeingHandled) {
  Client client(io_);
  ASSERT_FALSE(client.connect(port_));
  client.send("stall");
  ASSERT_TRUE(run_until(io_, [&] { return probe_.frames.size() == 1u; }));
  client.start_read();
  std::optional<bool> ended;
  asio::co_spawn(io_, shut_down(ws_, ended), asio::detached);
  ASSERT_TRUE(run_until(
      io_, [&] { return ended.has_value(); }, 10s));
  EXPECT_TRUE(*ended) << "the session outlived the shutdown";
  EXPECT_EQ(probe_.stall_ended, asio::error::operation_aborted);
  EXPECT_EQ(probe_.closed, 1);
  EXPECT_EQ(ws_.sessions(), 0u);
}

}  // namespace
}  // namespace tillgate
