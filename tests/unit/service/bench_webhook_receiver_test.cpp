// The bench's webhook receiver (src/sim/bench_http.cpp): its accept loop and connections
// are tasks of its TaskGroup, so stop() plus a bounded wait ends them all, including a
// keep-alive connection idling towards its 10 s read timeout.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "sim/bench_http.hpp"

namespace tillgate {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct Outcome {
  int status = 0;                   // of the one delivery's answer
  std::optional<bool> tasks_ended;  // what wait() said
  std::chrono::steady_clock::duration stop_to_end{};
};

// Delivers one webhook over a keep-alive connection, leaves that connection open, then
// stops the receiver and waits for its tasks.
asio::awaitable<void> deliver_then_stop(sim::bench::WebhookReceiver& receiver, std::uint16_t port,
                                        Outcome& outcome) {
  const auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  stream.expires_after(5s);
  co_await stream.async_connect(endpoint, asio::use_awaitable);
  http::request<http::string_body> request{http::verb::post, "/tillgate-bench", 11};
  request.set(http::field::host, "127.0.0.1");
  request.body() = R"({"eventType":"payment.completed","data":{"transactionId":"t-1"}})";
  request.keep_alive(true);
  request.prepare_payload();
  co_await http::async_write(stream, request, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  co_await http::async_read(stream, buffer, response, asio::use_awaitable);
  outcome.status = static_cast<int>(response.result_int());
  stream.expires_never();

  const auto stopped_at = std::chrono::steady_clock::now();
  receiver.stop();
  outcome.tasks_ended = co_await receiver.wait(5'000ms);
  outcome.stop_to_end = std::chrono::steady_clock::now() - stopped_at;
}

// Stops the receiver from a coroutine on its executor, as the bench does, and waits.
asio::awaitable<void> stop_and_wait(sim::bench::WebhookReceiver& receiver,
                                    std::optional<bool>& result) {
  receiver.stop();
  result = co_await receiver.wait(5'000ms);
}

TEST(BenchWebhookReceiver, StopAndWaitEndTheAcceptLoopAndAnIdleKeepAliveConnection) {
  asio::io_context io;
  std::vector<sim::bench::Delivery> deliveries;
  sim::bench::WebhookReceiver receiver(
      io.get_executor(),
      [&deliveries](sim::bench::Delivery delivery) { deliveries.push_back(std::move(delivery)); });
  const auto port = receiver.start();
  Outcome outcome;
  std::exception_ptr failure;
  asio::co_spawn(io, deliver_then_stop(receiver, port, outcome),
                 [&failure](std::exception_ptr e) { failure = e; });
  io.run_for(20s);
  ASSERT_FALSE(failure);
  EXPECT_EQ(outcome.status, 204);
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].event_type, "payment.completed");
  EXPECT_EQ(deliveries[0].transaction_id, "t-1");
  EXPECT_FALSE(deliveries[0].authentic);  // no secret was set
  EXPECT_EQ(outcome.tasks_ended, std::optional<bool>(true));
  // Cancelled, not ended by the connection's 10 s read timeout.
  EXPECT_LT(outcome.stop_to_end, 5s);
  EXPECT_EQ(receiver.requests(), 1u);
}  // the receiver's destructor asserts that none of its tasks is still live

TEST(BenchWebhookReceiver, StopBeforeAnyConnectionEndsTheAcceptLoop) {
  asio::io_context io;
  sim::bench::WebhookReceiver receiver(io.get_executor(), nullptr);
  receiver.start();
  io.poll();  // the accept loop is waiting for a connection
  std::optional<bool> ended;
  asio::co_spawn(io, stop_and_wait(receiver, ended), [](std::exception_ptr) {});
  io.run_for(10s);
  EXPECT_EQ(ended, std::optional<bool>(true));
}

}  // namespace
}  // namespace tillgate
