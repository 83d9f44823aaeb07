#pragma once
// Admission of connections to one protocol surface (the HTTP listener, the terminals'
// WebSocket, later the POS WebSocket), before any of its bytes are read: a cap on open
// connections, a cap per client address (one host cannot take every connection), and,
// where the surface authenticates its peers, the failed-authentication budget of the
// address (a RateLimiter the application owns and shares between its surfaces, so an
// address has one budget whichever door it knocks on). Refusals are logged at most once
// a second, with how many there were: a flood of connections must not become a flood of
// log lines.
//
// Single-threaded, on the network thread, like the sessions it admits.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "net/rate_limiter.hpp"

namespace tillgate::net {

struct AdmissionSettings {
  // What a refusal line counts: "{n} {what} refused in the last second or so: {why}".
  std::string what = "connections";
  std::size_t max_connections = 0;
  std::size_t max_connections_per_address = 0;
  // Each refusal's why, naming the setting behind it.
  std::string connections_full = "the limit of open connections is reached";
  std::string address_full = "an address reached its limit of open connections";
  std::string budget_spent = "an address failed to authenticate too often";
};

class Admission {
 public:
  using Clock = RateLimiter::Clock;

  // A connection's place, held until the connection ends; moving it moves the place.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

    // Whether this ticket holds a place (a refused admission gives an empty one).
    explicit operator bool() const { return admission_ != nullptr; }
    // The client address it was admitted for ("unknown" when the socket could not say).
    [[nodiscard]] const std::string& address() const { return address_; }

   private:
    friend class Admission;
    Ticket(Admission& admission, std::string address);
    void release();

    Admission* admission_ = nullptr;
    std::string address_;
  };

  // `auth_failures`: the shared failed-authentication budget, or null for a surface that
  // does not check it at admission.
  explicit Admission(AdmissionSettings settings, const RateLimiter* auth_failures = nullptr);
  // Asserts that no ticket is outstanding: the surface ends its connections first.
  ~Admission();
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // A ticket when a connection from `address` may go on at `now`; an empty one when it is
  // refused (the caller closes it unread), and the refusal is logged.
  [[nodiscard]] Ticket admit(std::string address, Clock::time_point now);

  // Connections holding a ticket, in all and from one address.
  [[nodiscard]] std::size_t open() const { return open_; }
  [[nodiscard]] std::size_t open_from(std::string_view address) const;
  // Refusals so far.
  [[nodiscard]] std::size_t refused() const { return refused_; }

 private:
  void refuse(std::string_view why, Clock::time_point now);
  void release(const std::string& address);

  AdmissionSettings settings_;
  const RateLimiter* auth_failures_;
  std::unordered_map<std::string, std::size_t> per_address_;  // addresses with a connection
  std::size_t open_ = 0;
  std::size_t refused_ = 0;
  std::size_t refusals_unlogged_ = 0;
  std::optional<Clock::time_point> last_refusal_log_;  // none yet
};

}  // namespace tillgate::net
