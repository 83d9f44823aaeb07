// The per-key token bucket behind 429 RATE_LIMITED.
#include "net/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tillgate::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const RateLimiter::Clock::time_point kStart{seconds(1000)};

int admitted_in_a_row(RateLimiter& limiter, std::string_view key,
                      RateLimiter::Clock::time_point at) {
  int admitted = 0;
  while (!limiter.admit(key, at) && admitted < 10'000) {
    ++admitted;
  }
  return admitted;
}

TEST(RateLimiter, BurstIsTwiceTheRateThenRefusedWithRetryAfter) {
  RateLimiter limiter(100, 200, 16);
  EXPECT_EQ(admitted_in_a_row(limiter, "m1", kStart), 200);
  const auto retry = limiter.admit("m1", kStart);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(*retry, seconds(1));
}

TEST(RateLimiter, RefillsAtTheRate) {
  RateLimiter limiter(10, 20, 16);
  ASSERT_EQ(admitted_in_a_row(limiter, "m1", kStart), 20);
  // 500 ms at 10/s: 5 more requests, then refused again.
  EXPECT_EQ(admitted_in_a_row(limiter, "m1", kStart + milliseconds(500)), 5);
  // A long pause refills only up to the burst.
  EXPECT_EQ(admitted_in_a_row(limiter, "m1", kStart + seconds(3600)), 20);
}

TEST(RateLimiter, SustainedRateAtTheLimitIsNeverRefused) {
  RateLimiter limiter(100, 200, 16);
  for (int i = 0; i < 5'000; ++i) {
    ASSERT_FALSE(limiter.admit("m1", kStart + milliseconds(10 * i)).has_value()) << "request " << i;
  }
}

TEST(RateLimiter, RetryAfterRoundsUpToWholeSeconds) {
  RateLimiter limiter(0.25, 1, 16);  // one request every 4 s
  ASSERT_FALSE(limiter.admit("ip", kStart).has_value());
  EXPECT_EQ(limiter.admit("ip", kStart), seconds(4));
  EXPECT_EQ(limiter.admit("ip", kStart + milliseconds(1500)), seconds(3));
  EXPECT_FALSE(limiter.admit("ip", kStart + seconds(4)).has_value());
}

TEST(RateLimiter, KeysAreIndependent) {
  RateLimiter limiter(1, 2, 16);
  ASSERT_EQ(admitted_in_a_row(limiter, "m1", kStart), 2);
  EXPECT_EQ(admitted_in_a_row(limiter, "m2", kStart), 2);
}

TEST(RateLimiter, TrackedKeysAreBoundedLeastRecentlyUsedFirst) {
  RateLimiter limiter(1, 2, 3);
  ASSERT_EQ(admitted_in_a_row(limiter, "a", kStart), 2);
  ASSERT_EQ(admitted_in_a_row(limiter, "b", kStart), 2);
  ASSERT_TRUE(limiter.admit("a", kStart).has_value());  // "a" is now the most recent
  ASSERT_EQ(admitted_in_a_row(limiter, "c", kStart), 2);
  ASSERT_EQ(admitted_in_a_row(limiter, "d", kStart), 2);  // evicts "b", the least recent
  EXPECT_EQ(limiter.tracked_keys(), 3U);
  EXPECT_TRUE(limiter.admit("a", kStart).has_value());    // still tracked, still empty
  EXPECT_EQ(admitted_in_a_row(limiter, "b", kStart), 2);  // forgotten: a fresh bucket
}

TEST(RateLimiter, BlockedLooksWithoutTakingOrTracking) {
  RateLimiter limiter(1, 3, 16);
  EXPECT_FALSE(limiter.blocked("unknown", kStart));
  EXPECT_EQ(limiter.tracked_keys(), 0U);
  EXPECT_FALSE(limiter.admit("ip", kStart));
  EXPECT_FALSE(limiter.admit("ip", kStart));
  EXPECT_FALSE(limiter.blocked("ip", kStart));  // one token left, and looking takes none
  EXPECT_FALSE(limiter.blocked("ip", kStart));
  EXPECT_FALSE(limiter.admit("ip", kStart));
  const auto blocked = limiter.blocked("ip", kStart);
  ASSERT_TRUE(blocked.has_value());
  EXPECT_EQ(*blocked, seconds(1));
  EXPECT_FALSE(limiter.blocked("ip", kStart + milliseconds(1000)));  // refilled one
  EXPECT_TRUE(limiter.blocked("ip", kStart + milliseconds(999)));
}

TEST(RateLimiter, RejectsNonsenseSettings) {
  EXPECT_THROW(RateLimiter(0, 1, 1), std::invalid_argument);
  EXPECT_THROW(RateLimiter(1, 0.5, 1), std::invalid_argument);
  EXPECT_THROW(RateLimiter(1, 1, 0), std::invalid_argument);
}

}  // namespace
}  // namespace tillgate::net
