#include "net/admission.hpp"

#include <spdlog/spdlog.h>

#include <cassert>
#include <utility>

namespace tillgate::net {

Admission::Ticket::Ticket(Admission& admission, std::string address)
    : admission_(&admission), address_(std::move(address)) {}

Admission::Ticket::Ticket(Ticket&& other) noexcept
    : admission_(std::exchange(other.admission_, nullptr)), address_(std::move(other.address_)) {}

Admission::Ticket& Admission::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    release();
    admission_ = std::exchange(other.admission_, nullptr);
    address_ = std::move(other.address_);
  }
  return *this;
}

Admission::Ticket::~Ticket() {
  release();
}

void Admission::Ticket::release() {
  if (admission_ != nullptr) {
    std::exchange(admission_, nullptr)->release(address_);
  }
}

Admission::Admission(AdmissionSettings settings, const RateLimiter* auth_failures)
    : settings_(std::move(settings)), auth_failures_(auth_failures) {}

Admission::~Admission() {
  assert(open_ == 0 && "an Admission is destroyed while connections still hold tickets");
}

Admission::Ticket Admission::admit(std::string address, Clock::time_point now) {
  if (open_ >= settings_.max_connections) {
    refuse(settings_.connections_full, now);
    return {};
  }
  if (const auto it = per_address_.find(address);
      it != per_address_.end() && it->second >= settings_.max_connections_per_address) {
    refuse(settings_.address_full, now);
    return {};
  }
  // After the caps, which cost nothing to check: a refused address is not tracked.
  if (auth_failures_ != nullptr && auth_failures_->blocked(address, now)) {
    refuse(settings_.budget_spent, now);
    return {};
  }
  ++per_address_[address];
  ++open_;
  return Ticket(*this, std::move(address));
}

std::size_t Admission::open_from(std::string_view address) const {
  const auto it = per_address_.find(std::string(address));
  return it == per_address_.end() ? 0 : it->second;
}

void Admission::refuse(std::string_view why, Clock::time_point now) {
  ++refused_;
  ++refusals_unlogged_;
  if (!last_refusal_log_ || now - *last_refusal_log_ >= std::chrono::seconds(1)) {
    spdlog::warn("{} {} refused in the last second or so: {}", refusals_unlogged_, settings_.what,
                 why);
    refusals_unlogged_ = 0;
    last_refusal_log_ = now;
  }
}

void Admission::release(const std::string& address) {
  const auto it = per_address_.find(address);
  assert(it != per_address_.end() && it->second > 0 && open_ > 0 &&
         "a ticket is released twice, or by an Admission that did not give it");
  if (--it->second == 0) {
    per_address_.erase(it);
  }
  --open_;
}

}  // namespace tillgate::net
