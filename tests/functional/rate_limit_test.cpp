// 429 RATE_LIMITED with Retry-After: per merchant (TILLGATE_RATE_LIMIT_RPS, bursts of twice
// that) and, for the unauthenticated pairing route, per client address.
#include <gtest/gtest.h>

#include <thread>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class RateLimitTest : public GatewayTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_RATE_LIMIT_RPS", "2"}, {"TILLGATE_PAIR_RATE_LIMIT_RPS", "1"}};
  }
};

TEST_F(RateLimitTest, MerchantOverItsRateGets429WithRetryAfterAndOthersAreUnaffected) {
  const auto merchant = create_merchant();
  const auto other = create_merchant("Other Shop");
  int accepted = 0;
  std::optional<client::HttpResponse> refused;
  for (int i = 0; i < 12 && !refused; ++i) {
    auto res = signed_request(merchant, "GET", "/v1/terminals");
    if (res.status == 200) {
      ++accepted;
    } else {
      refused = std::move(res);
    }
  }
  ASSERT_TRUE(refused.has_value()) << "12 requests at once never hit a limit of 2/s, burst 4";
  EXPECT_GE(accepted, 4);  // the burst
  EXPECT_LE(accepted, 6);  // the burst, plus what refilled while the requests ran
  const auto body = expect_error(*refused, 429, "RATE_LIMITED");
  const auto retry_after = refused->header("retry-after");
  ASSERT_TRUE(retry_after.has_value());
  EXPECT_EQ(*retry_after, "1");

  // The limit is the merchant's, not the gateway's.
  EXPECT_EQ(signed_request(other, "GET", "/v1/terminals").status, 200);

  // After Retry-After the merchant is served again.
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(signed_request(merchant, "GET", "/v1/terminals").status, 200);
}

TEST_F(RateLimitTest, EveryMerchantRouteCountsAndBadSignaturesDoNot) {
  const auto merchant = create_merchant();
  // Requests that fail authentication spend nothing of the merchant's budget.
  auto forged = merchant;
  forged.credentials.api_secret = "not-the-secret";
  for (int i = 0; i < 10; ++i) {
    expect_error(signed_request(forged, "GET", "/v1/terminals"), 401, "INVALID_SIGNATURE");
  }
  EXPECT_EQ(signed_request(merchant, "GET", "/v1/transactions").status, 200);
  EXPECT_EQ(signed_request(merchant, "GET", "/v1/transactions/NOPE").status, 404);
  EXPECT_EQ(signed_request(merchant, "POST", payments_path("nope"), "{}").status, 400);
  int refused = 0;
  for (int i = 0; i < 6; ++i) {
    refused += signed_request(merchant, "GET", "/v1/terminals").status == 429 ? 1 : 0;
  }
  EXPECT_GE(refused, 1);
}

TEST_F(RateLimitTest, PairingIsLimitedPerClientAddress) {
  // The route needs no credentials.
  int refused = 0;
  std::optional<client::HttpResponse> last;
  for (int i = 0; i < 6; ++i) {
    auto client = http();
    auto res =
        client.request("POST", "/v1/devices/pair", R"({"code":"ABCDEFGH","serialNumber":"SN-1"})",
                       {{"content-type", "application/json"}});
    if (res.status == 429) {
      ++refused;
      last = std::move(res);
    } else {
      expect_error(res, 400, "INVALID_PAIRING_CODE");
    }
  }
  ASSERT_GE(refused, 1) << "6 pairing attempts at once never hit a limit of 1/s, burst 2";
  expect_error(*last, 429, "RATE_LIMITED");
  EXPECT_TRUE(last->header("retry-after").has_value());
}

}  // namespace
}  // namespace tillgate::ft
