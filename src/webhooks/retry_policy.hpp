#pragma once
// What follows a delivery attempt (webhooks.md, "Delivery guarantees"): a 2xx succeeds
// the delivery; anything else waits the next interval of the retry schedule, with jitter
// of at most 10% either way, and fails the delivery once the schedule is used up. Pure:
// the caller supplies the time and the random draw.
#include <chrono>
#include <cstdint>
#include <vector>

#include "domain/time.hpp"
#include "store/store.hpp"
#include "webhooks/delivery_client.hpp"

namespace tillgate::webhooks {

// The largest share of an interval that jitter adds or takes away.
inline constexpr double max_retry_jitter = 0.10;

// `interval` moved by `unit` (in [-1, 1], clamped) times 10% of it.
[[nodiscard]] std::chrono::milliseconds jittered(std::chrono::seconds interval, double unit);

// The delivery's new state after `attempt` (started from `delivery`), ended at `now`:
// succeeded on a 2xx; otherwise pending again schedule[retry_step] later (jittered by
// `jitter_unit`) with retry_step + 1, or failed when retry_step has reached the end of the
// schedule. A manual retry is the next attempt moved forward, so it follows the same rule:
// a failed delivery retried by hand that fails again is failed again.
[[nodiscard]] store::AttemptOutcome attempt_outcome(
    const store::WebhookDeliveryRecord& delivery, const DeliveryAttempt& attempt,
    const std::vector<std::chrono::seconds>& schedule, domain::Timestamp now, double jitter_unit);

}  // namespace tillgate::webhooks
