// Raw, malformed or oversized HTTP: the gateway answers or hangs up, and keeps serving.
#include <sys/wait.h>

#include <memory>
#include <vector>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class HostileHttpTest : public GatewayTest {
 protected:
  void expect_still_serving() {
    auto client = http();
    const auto res = client.request("GET", "/healthz");
    EXPECT_EQ(res.status, 200) << res.body;
  }
};

TEST_F(HostileHttpTest, GarbageRequestLineIsRefused) {
  auto client = http(5s);
  try {
    const auto res = client.send_raw("THIS IS NOT HTTP\r\n\r\n");
    EXPECT_GE(res.status, 400) << res.body;
    EXPECT_LT(res.status, 500) << res.body;
  } catch (const client::HttpError&) {
    // Hanging up on garbage is an acceptable answer too.
  }
  expect_still_serving();
}

// A declared body over the limit is refused from the headers alone, without waiting for
// (or reading) 10 MB that never come.
TEST_F(HostileHttpTest, DeclaredBodyOverTheLimitIsRefusedAtOnce) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  const auto target = payments_path(device.device_id);
  std::string raw = "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] :
       client::sign_request(merchant.credentials, "POST", target, "{}")) {
    raw += name + ": " + value + "\r\n";
  }
  raw += "Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n";
  auto client = http(5s);
  const auto started = std::chrono::steady_clock::now();
  const auto res = client.send_raw(raw);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
  expect_error(res, 413, "PAYLOAD_TOO_LARGE");
  expect_still_serving();
}

// Requests pipelined in one write are answered in order: the read buffer is freed while
// a handler runs only when it holds no bytes of the next request.
TEST_F(HostileHttpTest, PipelinedRequestsAreAnsweredInOrder) {
  auto client = http(5s);
  const auto first = client.send_raw(
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
      "GET /no-such-path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(first.status, 200) << first.body;
  const auto second = client.send_raw("");  // the answer to the second, already sent
  EXPECT_EQ(second.status, 404) << second.body;
  expect_still_serving();
}

TEST_F(HostileHttpTest, ServiceEndpointsAnswerWithoutAuth) {
  auto client = http();
  EXPECT_EQ(client.request("GET", "/healthz").status, 200);
  EXPECT_EQ(client.request("GET", "/readyz").status, 200);
}

// The idle timeouts wait in one deadline queue of the HTTP server, whose timer stays armed
// for a deadline that went. A shutdown waits for the server's tasks, the queue's among them:
// with idle keep-alive connections open it still ends at once, not at the 10 s shutdown
// grace nor the 60 s idle timeout.
TEST_F(HostileHttpTest, AGatewayWithIdleKeepAliveConnectionsStopsAtOnce) {
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawConnection>(gateway().host(), gateway().port()));
    ASSERT_TRUE(idle.back()->send("GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"));
    ASSERT_NE(idle.back()->read_until("\"ok\"", 2s).find("200"), std::string::npos);
  }
  const auto started = std::chrono::steady_clock::now();
  const int status = gateway().stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "the shutdown waited";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  for (auto& connection : idle) {
    EXPECT_TRUE(connection->closed_within(1s));
  }
}

}  // namespace
}  // namespace tillgate::ft
