#pragma once
// A token bucket per key (a merchant, or a client address for pairing): `rate` requests a
// second on average, bursts of up to `burst`. The number of keys tracked is bounded: when
// full, the key used least recently is forgotten (it starts again with a full bucket,
// which errs on the side of letting a request through, never of refusing one wrongly).
// Pure and single-threaded: the router calls it on the network thread.
#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tillgate::net {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter(double rate_per_second, double burst, std::size_t max_keys);

  // nullopt: admitted (one token taken). Otherwise refused, with the whole seconds (at
  // least 1) after which one token will be available again: the Retry-After value.
  [[nodiscard]] std::optional<std::chrono::seconds> admit(std::string_view key,
                                                          Clock::time_point now);

  // Whether `key` has less than one token at `now`, without taking one or tracking the key:
  // nullopt when a request would be admitted, otherwise the Retry-After as admit() gives it.
  [[nodiscard]] std::optional<std::chrono::seconds> blocked(std::string_view key,
                                                            Clock::time_point now) const;

  [[nodiscard]] std::size_t tracked_keys() const { return buckets_.size(); }

 private:
  [[nodiscard]] std::optional<std::chrono::seconds> retry_after(double tokens) const;

  struct Bucket {
    std::string key;
    double tokens = 0;
    Clock::time_point refilled_at;
  };

  double rate_;
  double burst_;
  std::size_t max_keys_;
  std::list<Bucket> recency_;  // most recently used first
  std::unordered_map<std::string_view, std::list<Bucket>::iterator> buckets_;
};

}  // namespace tillgate::net
