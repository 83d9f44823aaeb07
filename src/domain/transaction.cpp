#include "domain/transaction.hpp"

#include <array>
#include <utility>

namespace tillgate::domain {
namespace {

constexpr std::array<std::pair<TransactionStatus, std::string_view>, 7> kStatusNames{{
    {TransactionStatus::pending, "PENDING"},
    {TransactionStatus::awaiting_reconnect, "AWAITING_RECONNECT"},
    {TransactionStatus::completed, "COMPLETED"},
    {TransactionStatus::failed, "FAILED"},
    {TransactionStatus::cancelled, "CANCELLED"},
    {TransactionStatus::timeout, "TIMEOUT"},
    {TransactionStatus::voided, "VOIDED"},
}};

}  // namespace

std::string_view to_string(TransactionStatus status) {
  for (const auto& [candidate, name] : kStatusNames) {
    if (candidate == status) {
      return name;
    }
  }
  return "UNKNOWN";
}

std::optional<TransactionStatus> parse_transaction_status(std::string_view text) {
  for (const auto& [status, name] : kStatusNames) {
    if (name == text) {
      return status;
    }
  }
  return std::nullopt;
}

bool is_final(TransactionStatus status) {
  switch (status) {
    case TransactionStatus::pending:
    case TransactionStatus::awaiting_reconnect:
      return false;
    case TransactionStatus::completed:
    case TransactionStatus::failed:
    case TransactionStatus::cancelled:
    case TransactionStatus::timeout:
    case TransactionStatus::voided:
      return true;
  }
  return false;
}

std::string_view payment_status_name(TransactionStatus status) {
  return status == TransactionStatus::completed ? "SUCCESS" : to_string(status);
}

std::optional<TransactionEvent> parse_transaction_event(std::string_view text) {
  for (const auto event :
       {TransactionEvent::terminal_succeeded, TransactionEvent::terminal_failed,
        TransactionEvent::terminal_cancelled, TransactionEvent::terminal_abandoned,
        TransactionEvent::terminal_disconnected, TransactionEvent::terminal_reconnected,
        TransactionEvent::grace_expired, TransactionEvent::cancel_requested}) {
    if (to_string(event) == text) {
      return event;
    }
  }
  return std::nullopt;
}

std::string_view to_string(TransactionEvent event) {
  switch (event) {
    case TransactionEvent::terminal_succeeded:
      return "terminal_succeeded";
    case TransactionEvent::terminal_failed:
      return "terminal_failed";
    case TransactionEvent::terminal_cancelled:
      return "terminal_cancelled";
    case TransactionEvent::terminal_abandoned:
      return "terminal_abandoned";
    case TransactionEvent::terminal_disconnected:
      return "terminal_disconnected";
    case TransactionEvent::terminal_reconnected:
      return "terminal_reconnected";
    case TransactionEvent::grace_expired:
      return "grace_expired";
    case TransactionEvent::cancel_requested:
      return "cancel_requested";
  }
  return "unknown";
}

namespace {

Transition apply(TransactionStatus next) {
  return {Verdict::apply, next, false};
}
Transition unchanged(TransactionStatus current) {
  return {Verdict::unchanged, current, false};
}
Transition refuse(TransactionStatus current) {
  return {Verdict::refuse, current, false};
}

// A merchant cancel never changes the status by itself: the coordinator sends payment.cancel
// and the terminal's answer (or the grace running out) decides.
Transition decide_pending(TransactionEvent event) {
  constexpr auto self = TransactionStatus::pending;
  switch (event) {
    case TransactionEvent::terminal_succeeded:
      return apply(TransactionStatus::completed);
    case TransactionEvent::terminal_failed:
      return apply(TransactionStatus::failed);
    case TransactionEvent::terminal_cancelled:
      return apply(TransactionStatus::cancelled);
    case TransactionEvent::terminal_abandoned:
      return apply(TransactionStatus::timeout);
    case TransactionEvent::terminal_disconnected:
      return apply(TransactionStatus::awaiting_reconnect);
    case TransactionEvent::terminal_reconnected:
      return unchanged(self);
    case TransactionEvent::grace_expired:
      return apply(TransactionStatus::timeout);
    case TransactionEvent::cancel_requested:
      return unchanged(self);
  }
  return refuse(self);
}

// A terminal may deliver its journaled result on the new connection before (or instead of)
// the reconnect itself being noticed, so results are taken here as in PENDING.
Transition decide_awaiting_reconnect(TransactionEvent event) {
  constexpr auto self = TransactionStatus::awaiting_reconnect;
  switch (event) {
    case TransactionEvent::terminal_succeeded:
      return apply(TransactionStatus::completed);
    case TransactionEvent::terminal_failed:
      return apply(TransactionStatus::failed);
    case TransactionEvent::terminal_cancelled:
      return apply(TransactionStatus::cancelled);
    case TransactionEvent::terminal_abandoned:
      return apply(TransactionStatus::timeout);
    case TransactionEvent::terminal_disconnected:
      return unchanged(self);
    case TransactionEvent::terminal_reconnected:
      return apply(TransactionStatus::pending);
    case TransactionEvent::grace_expired:
      return apply(TransactionStatus::timeout);
    case TransactionEvent::cancel_requested:
      return unchanged(self);
  }
  return refuse(self);
}

// Final statuses never change. Duplicate results are acknowledged again with the recorded
// status (delivery is at-least-once); a merchant cancel is refused (TRANSACTION_FINAL).
Transition decide_final(TransactionStatus self, TransactionEvent event) {
  switch (event) {
    case TransactionEvent::terminal_succeeded:
    case TransactionEvent::terminal_failed:
    case TransactionEvent::terminal_cancelled:
    case TransactionEvent::terminal_abandoned:
    case TransactionEvent::terminal_disconnected:
    case TransactionEvent::terminal_reconnected:
    case TransactionEvent::grace_expired:
      return unchanged(self);
    case TransactionEvent::cancel_requested:
      return refuse(self);
  }
  return refuse(self);
}

// The one exception to finality: money taken after the gateway gave up must be given back.
Transition decide_timeout(TransactionEvent event) {
  constexpr auto self = TransactionStatus::timeout;
  switch (event) {
    case TransactionEvent::terminal_succeeded:
      return {Verdict::apply, TransactionStatus::voided, true};
    case TransactionEvent::terminal_failed:
    case TransactionEvent::terminal_cancelled:
    case TransactionEvent::terminal_abandoned:
    case TransactionEvent::terminal_disconnected:
    case TransactionEvent::terminal_reconnected:
    case TransactionEvent::grace_expired:
      return unchanged(self);
    case TransactionEvent::cancel_requested:
      return refuse(self);
  }
  return refuse(self);
}

}  // namespace

// Every status is listed and there is no default, so adding a status or an event fails the
// build (-Wswitch -Werror) until this table answers it.
Transition decide(TransactionStatus current, TransactionEvent event) {
  switch (current) {
    case TransactionStatus::pending:
      return decide_pending(event);
    case TransactionStatus::awaiting_reconnect:
      return decide_awaiting_reconnect(event);
    case TransactionStatus::completed:
    case TransactionStatus::failed:
    case TransactionStatus::cancelled:
    case TransactionStatus::voided:
      return decide_final(current, event);
    case TransactionStatus::timeout:
      return decide_timeout(event);
  }
  // Only reachable with a value outside the enum (memory corruption or a bad cast).
  return refuse(current);
}

}  // namespace tillgate::domain
