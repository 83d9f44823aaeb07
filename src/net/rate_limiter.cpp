#include "net/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tillgate::net {

RateLimiter::RateLimiter(double rate_per_second, double burst, std::size_t max_keys)
    : rate_(rate_per_second), burst_(burst), max_keys_(max_keys) {
  if (!(rate_ > 0) || !(burst_ >= 1) || max_keys_ == 0) {
    throw std::invalid_argument("rate limiter needs rate > 0, burst >= 1 and max_keys > 0");
  }
}

std::optional<std::chrono::seconds> RateLimiter::admit(std::string_view key,
                                                       Clock::time_point now) {
  auto found = buckets_.find(key);
  if (found == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      buckets_.erase(recency_.back().key);
      recency_.pop_back();
    }
    recency_.push_front(Bucket{std::string(key), burst_, now});
    found = buckets_.emplace(recency_.front().key, recency_.begin()).first;
  } else {
    recency_.splice(recency_.begin(), recency_, found->second);
  }
  Bucket& bucket = *found->second;
  if (now > bucket.refilled_at) {
    const std::chrono::duration<double> elapsed = now - bucket.refilled_at;
    bucket.tokens = std::min(burst_, bucket.tokens + elapsed.count() * rate_);
    bucket.refilled_at = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return std::nullopt;
  }
  return retry_after(bucket.tokens);
}

std::optional<std::chrono::seconds> RateLimiter::blocked(std::string_view key,
                                                         Clock::time_point now) const {
  const auto found = buckets_.find(key);
  if (found == buckets_.end()) {
    return std::nullopt;  // an untracked key has a full bucket
  }
  const Bucket& bucket = *found->second;
  double tokens = bucket.tokens;
  if (now > bucket.refilled_at) {
    const std::chrono::duration<double> elapsed = now - bucket.refilled_at;
    tokens = std::min(burst_, tokens + elapsed.count() * rate_);
  }
  return retry_after(tokens);
}

std::optional<std::chrono::seconds> RateLimiter::retry_after(double tokens) const {
  if (tokens >= 1.0) {
    return std::nullopt;
  }
  const double wait_s = (1.0 - tokens) / rate_;
  return std::chrono::seconds(
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait_s))));
}

}  // namespace tillgate::net
