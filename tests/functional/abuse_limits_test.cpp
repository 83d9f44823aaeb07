// Issue 8, "limits under abuse": each bound provoked from one client address while another
// address (127.0.0.2, a different client as far as the gateway can tell) is still served.
// Connection caps per address on the merchant and terminal sides, slow senders on HTTP and
// WebSocket, idle connections, and the failed-authentication budget per address.
#include <gtest/gtest.h>

#include <thread>

#include "client/request_signer.hpp"
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kUpgrade =
    "GET /v1/terminal/ws HTTP/1.1\r\nHost: gateway\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

// A signed GET /v1/terminals as raw HTTP, so that it can come from any source address.
std::string signed_get(const Merchant& merchant, std::string_view target) {
  std::string request = "GET " + std::string(target) + " HTTP/1.1\r\nHost: gateway\r\n";
  for (const auto& [name, value] : client::sign_request(merchant.credentials, "GET", target, "")) {
    request += name + ": " + value + "\r\n";
  }
  return request + "Connection: close\r\n\r\n";
}

int status_of(const std::string& answer) {
  return answer.starts_with("HTTP/1.1 ") ? std::atoi(answer.c_str() + 9) : 0;
}

class AbuseLimitsTest : public GatewayTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_MAX_HTTP_CONNECTIONS_PER_IP", "3"},
            {"TILLGATE_MAX_TERMINAL_CONNECTIONS_PER_IP", "2"},
            {"TILLGATE_HTTP_READ_TIMEOUT_S", "2"},
            {"TILLGATE_HTTP_IDLE_TIMEOUT_S", "2"},
            {"TILLGATE_HELLO_TIMEOUT_S", "2"},
            {"TILLGATE_AUTH_FAILURE_RATE_LIMIT_RPS", "1"},
            {"TILLGATE_AUTH_FAILURE_BURST", "5"}};
  }

  std::unique_ptr<RawConnection> connect_from(const std::string& source) {
    return std::make_unique<RawConnection>(gateway().host(), gateway().port(), source);
  }
  int healthz_from(const std::string& source) {
    return healthz_status_from(gateway().host(), gateway().port(), source);
  }
};

TEST_F(AbuseLimitsTest, OneAddressCannotTakeEveryHttpConnection) {
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(connect_from("127.0.0.1"));
  }
  std::this_thread::sleep_for(200ms);  // accepted and counted
  // A fourth is closed at once, its request unanswered (the idle timeout is 2 s away).
  auto fourth = connect_from("127.0.0.1");
  (void)fourth->send("GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n");
  EXPECT_TRUE(fourth->closed_within(500ms)) << "a fourth connection from the address was kept";
  EXPECT_TRUE(fourth->received().empty()) << fourth->received();
  EXPECT_EQ(healthz_from("127.0.0.2"), 200) << "another address must still be served";
  // One of the three ends: the address may connect again.
  held.pop_back();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(healthz_from("127.0.0.1"), 200);
  EXPECT_NE(gateway().stderr_text().find("TILLGATE_MAX_HTTP_CONNECTIONS_PER_IP"), std::string::npos)
      << "the refusal should be logged with the setting that caused it";
}

TEST_F(AbuseLimitsTest, OneAddressCannotTakeEveryTerminalConnection) {
  // Two upgraded connections from 127.0.0.1 that never say hello; they stay counted as
  // terminal connections until the hello timeout closes them.
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(connect_from("127.0.0.1"));
    ASSERT_TRUE(held.back()->send(kUpgrade));
    EXPECT_NE(held.back()->read_until("\r\n\r\n", 2s).find("101 Switching Protocols"),
              std::string::npos)
        << held.back()->received();
  }
  auto third = connect_from("127.0.0.1");
  ASSERT_TRUE(third->send(kUpgrade));
  EXPECT_TRUE(third->closed_within(2s));
  EXPECT_EQ(third->received().find("101"), std::string::npos) << third->received();
  // Another address upgrades, and a real terminal works from there too.
  auto other = connect_from("127.0.0.2");
  ASSERT_TRUE(other->send(kUpgrade));
  EXPECT_NE(other->read_until("\r\n\r\n", 2s).find("101 Switching Protocols"), std::string::npos)
      << other->received();
  EXPECT_EQ(healthz_from("127.0.0.1"), 200) << "the HTTP side has its own count";
}

TEST_F(AbuseLimitsTest, ASlowHttpSenderIsCutOffWhileOthersAreServed) {
  auto slow = connect_from("127.0.0.1");
  const auto started = std::chrono::steady_clock::now();
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Slow: ";
  bool cut_off = false;
  for (std::size_t i = 0; i < 100 && !cut_off; ++i) {
    cut_off = !slow->send(std::string(1, i < request.size() ? request[i] : 'a')) ||
              slow->closed_within(150ms);
    if (i == 3) {
      // Meanwhile, the other clients are served at once.
      const auto before = std::chrono::steady_clock::now();
      EXPECT_EQ(healthz_from("127.0.0.2"), 200);
      EXPECT_EQ(healthz_from("127.0.0.1"), 200);
      EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
    }
  }
  const auto lasted = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(cut_off) << "the slow sender was never cut off";
  EXPECT_GE(lasted, 1500ms) << "cut off before the read timeout";
  EXPECT_LT(lasted, 5s) << "not cut off at the 2 s read timeout";
}

TEST_F(AbuseLimitsTest, AnIdleKeepAliveConnectionIsClosed) {
  auto idle = connect_from("127.0.0.1");
  ASSERT_TRUE(idle->send("GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"));
  EXPECT_EQ(status_of(idle->read_until("\"ok\"", 2s)), 200);
  const auto answered = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle->closed_within(5s));
  const auto idle_for = std::chrono::steady_clock::now() - answered;
  EXPECT_GE(idle_for, 1500ms);
  EXPECT_LT(idle_for, 4s);
}

// A plain connection waits for a request without a read buffer (the idle timeout is a
// deadline of the server's DeadlineQueue, not the stream's read timeout): one that never
// sends a byte is still closed at the idle timeout...
TEST_F(AbuseLimitsTest, AConnectionThatNeverSendsIsClosedAtTheIdleTimeout) {
  auto silent = connect_from("127.0.0.1");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent->closed_within(5s));
  const auto lasted = std::chrono::steady_clock::now() - started;
  EXPECT_GE(lasted, 1500ms) << "closed before the 2 s idle timeout";
  EXPECT_LT(lasted, 4s) << "not closed at the 2 s idle timeout";
  EXPECT_TRUE(silent->received().empty()) << silent->received();
}

// ...and each request starts it again: a connection that sends one a second outlives it.
TEST_F(AbuseLimitsTest, AKeepAliveConnectionInUseOutlivesTheIdleTimeout) {
  auto client = connect_from("127.0.0.1");
  constexpr int kRequests = 4;  // 4 s on one connection, twice the idle timeout
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(client->send("GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"));
    ASSERT_FALSE(client->closed_within(1s)) << "closed after " << i + 1 << " requests";
  }
  int answered = 0;
  for (auto at = client->received().find("HTTP/1.1 200 "); at != std::string::npos;
       at = client->received().find("HTTP/1.1 200 ", at + 1)) {
    ++answered;
  }
  EXPECT_EQ(answered, kRequests) << client->received();
}

TEST_F(AbuseLimitsTest, ASlowTerminalThatNeverFinishesItsHelloIsClosed) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto slow = connect_from("127.0.0.1");
  ASSERT_TRUE(slow->send(kUpgrade));
  ASSERT_NE(slow->read_until("\r\n\r\n", 2s).find("101"), std::string::npos);
  // A masked text frame header announcing 100 bytes, then a byte now and then.
  ASSERT_TRUE(slow->send(std::string("\x81\xE4\x01\x02\x03\x04", 6)));
  const auto started = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    closed = !slow->send("a") || slow->closed_within(150ms);
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "not closed at the hello timeout";
  // A real terminal connects and says hello meanwhile and afterwards.
  auto terminal = connect_terminal(device);
  EXPECT_TRUE(terminal.ws);
}

TEST_F(AbuseLimitsTest, AnAddressThatFailsAuthenticationTooOftenIsRefusedForAWhile) {
  const auto merchant = create_merchant();
  Merchant impostor = merchant;
  impostor.credentials.api_secret = "tgs_wrong";
  // The burst of 5 failures is answered 401 ...
  for (int i = 0; i < 5; ++i) {
    auto attempt = connect_from("127.0.0.1");
    ASSERT_TRUE(attempt->send(signed_get(impostor, "/v1/terminals")));
    EXPECT_EQ(status_of(attempt->read_until_close(5s)), 401) << attempt->received();
  }
  // ... then the address is refused before its credentials are looked at: the right ones too.
  auto blocked = connect_from("127.0.0.1");
  ASSERT_TRUE(blocked->send(signed_get(merchant, "/v1/terminals")));
  const auto answer = blocked->read_until_close(5s);
  EXPECT_EQ(status_of(answer), 429) << answer;
  EXPECT_NE(answer.find("RATE_LIMITED"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Retry-After: "), std::string::npos) << answer;
  // Another address with the right credentials is served.
  auto other = connect_from("127.0.0.2");
  ASSERT_TRUE(other->send(signed_get(merchant, "/v1/terminals")));
  EXPECT_EQ(status_of(other->read_until_close(5s)), 200) << other->received();
  // The admin and Nomba routes share the budget; service routes are not behind it.
  auto admin = connect_from("127.0.0.1");
  ASSERT_TRUE(admin->send("GET /admin/v1/merchants HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer " +
                          gateway().admin_token() + "\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(status_of(admin->read_until_close(5s)), 429) << admin->received();
  auto nomba = connect_from("127.0.0.1");
  ASSERT_TRUE(
      nomba->send("GET /v1/transactions/accounts/single?merchantTxRef=x HTTP/1.1\r\nHost: g\r\n"
                  "Connection: close\r\n\r\n"));
  const auto nomba_answer = nomba->read_until_close(5s);
  EXPECT_EQ(status_of(nomba_answer), 429) << nomba_answer;
  EXPECT_NE(nomba_answer.find(R"("code":"01")"), std::string::npos) << nomba_answer;
  EXPECT_EQ(healthz_from("127.0.0.1"), 200);
  // At 1 per second the budget comes back.
  std::this_thread::sleep_for(1200ms);
  auto later = connect_from("127.0.0.1");
  ASSERT_TRUE(later->send(signed_get(merchant, "/v1/terminals")));
  EXPECT_EQ(status_of(later->read_until_close(5s)), 200) << later->received();
}

TEST_F(AbuseLimitsTest, ATerminalAddressThatFailsHelloTooOftenIsRefusedForAWhile) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  Device impostor = device;
  impostor.device_secret = "tds_wrong";
  for (int i = 0; i < 5; ++i) {
    WsTestClient ws(gateway().host(), gateway().port());
    ws.connect();
    ASSERT_TRUE(ws.send_json(hello_frame(impostor)));
    const auto refused = ws.read(3s);
    ASSERT_EQ(refused.kind, WsEvent::Kind::message) << "expected the error before the close";
  }
  // Even the right secret is refused from that address now: closed before the handshake.
  auto blocked = connect_from("127.0.0.1");
  ASSERT_TRUE(blocked->send(kUpgrade));
  EXPECT_TRUE(blocked->closed_within(2s));
  EXPECT_EQ(blocked->received().find("101"), std::string::npos) << blocked->received();
  // Another address upgrades.
  auto other = connect_from("127.0.0.2");
  ASSERT_TRUE(other->send(kUpgrade));
  EXPECT_NE(other->read_until("\r\n\r\n", 2s).find("101 Switching Protocols"), std::string::npos);
  std::this_thread::sleep_for(1200ms);
  auto terminal = connect_terminal(device);
  EXPECT_TRUE(terminal.ws) << "the budget came back after a second";
}

// The two HTTP timeouts apart: until a request's first byte the idle timeout (4 s), from
// there the read timeout for the whole request (1 s).
class HttpTimeoutsTest : public GatewayTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_HTTP_READ_TIMEOUT_S", "1"}, {"TILLGATE_HTTP_IDLE_TIMEOUT_S", "4"}};
  }
};

TEST_F(HttpTimeoutsTest, ARequestThatStallsAfterItsFirstBytesIsCutAtTheReadTimeout) {
  RawConnection stalled(gateway().host(), gateway().port());
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(stalled.send("GET /healthz HTTP/1.1\r\nHost: gat"));
  EXPECT_TRUE(stalled.closed_within(6s));
  const auto lasted = std::chrono::steady_clock::now() - started;
  EXPECT_GE(lasted, 700ms) << "cut before the 1 s read timeout";
  EXPECT_LT(lasted, 2500ms) << "not cut at the 1 s read timeout (the idle timeout is 4 s)";
}

TEST_F(HttpTimeoutsTest, AConnectionWaitingForARequestIsKeptUntilTheIdleTimeout) {
  RawConnection waiting(gateway().host(), gateway().port());
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(waiting.closed_within(2500ms)) << "closed at the read timeout, not the idle one";
  EXPECT_TRUE(waiting.closed_within(4s));
  const auto lasted = std::chrono::steady_clock::now() - started;
  EXPECT_GE(lasted, 3500ms) << "closed before the 4 s idle timeout";
  EXPECT_LT(lasted, 6s) << "not closed at the 4 s idle timeout";
}

}  // namespace
}  // namespace tillgate::ft
