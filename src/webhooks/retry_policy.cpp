#include "webhooks/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace tillgate::webhooks {

std::chrono::milliseconds jittered(std::chrono::seconds interval, double unit) {
  const auto base = std::chrono::duration_cast<std::chrono::milliseconds>(interval);
  const double shift =
      std::clamp(unit, -1.0, 1.0) * max_retry_jitter * static_cast<double>(base.count());
  return base + std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(shift)));
}

store::AttemptOutcome attempt_outcome(const store::WebhookDeliveryRecord& delivery,
                                      const DeliveryAttempt& attempt,
                                      const std::vector<std::chrono::seconds>& schedule,
                                      domain::Timestamp now, double jitter_unit) {
  store::AttemptOutcome outcome;
  outcome.delivery_id = delivery.delivery_id;
  outcome.expected_version = delivery.version;
  outcome.attempt.started_at = attempt.started_at;
  outcome.attempt.duration_ms = attempt.duration.count();
  if (attempt.http_status) {
    outcome.attempt.http_status = *attempt.http_status;
  }
  if (!attempt.error.empty()) {
    outcome.attempt.error = attempt.error;
  }
  outcome.at = now;
  outcome.retry_step = delivery.retry_step;
  if (attempt.succeeded()) {
    outcome.next_status = store::DeliveryStatus::succeeded;
    return outcome;
  }
  const auto step = static_cast<std::size_t>(std::max<std::int64_t>(delivery.retry_step, 0));
  if (step >= schedule.size()) {
    outcome.next_status = store::DeliveryStatus::failed;
    return outcome;
  }
  outcome.next_status = store::DeliveryStatus::pending;
  outcome.retry_step = delivery.retry_step + 1;
  outcome.next_attempt_at = now + jittered(schedule[step], jitter_unit);
  return outcome;
}

}  // namespace tillgate::webhooks
