#pragma once
// The transaction state machine (merchant-api.md section 6). This file and its .cpp are
// the only place that decides whether a transaction's status may change.
#include <optional>
#include <string_view>

namespace tillgate::domain {

enum class TransactionStatus {
  pending,             // created, pushed or on screen
  awaiting_reconnect,  // its terminal dropped mid-payment; waiting out the reconnect grace
  completed,           // paid
  failed,              // declined or errored
  cancelled,           // cancelled on the terminal, or a merchant cancel the terminal confirmed
  timeout,             // timed out unpaid
  voided,              // success reported after TIMEOUT; the terminal is told to reverse it
};

// "PENDING", "AWAITING_RECONNECT", "COMPLETED", ... (the wire and storage names).
[[nodiscard]] std::string_view to_string(TransactionStatus status);
[[nodiscard]] std::optional<TransactionStatus> parse_transaction_status(std::string_view text);
[[nodiscard]] bool is_final(TransactionStatus status);
// The payment response's status: COMPLETED -> "SUCCESS", others by name.
[[nodiscard]] std::string_view payment_status_name(TransactionStatus status);

// Something that happened to a transaction.
enum class TransactionEvent {
  terminal_succeeded,     // payment.result SUCCESS
  terminal_failed,        // payment.result FAILED
  terminal_cancelled,     // payment.result CANCELLED, before the deadline or asked by the merchant
  terminal_abandoned,     // payment.result CANCELLED after the deadline's payment.cancel TIMEOUT
  terminal_disconnected,  // the terminal's connection dropped while the payment was unfinished
  terminal_reconnected,   // the terminal said hello again within the grace
  grace_expired,     // no final answer within the grace (after a drop, or after a timeout cancel)
  cancel_requested,  // the merchant asked to cancel; the terminal's answer decides
};
[[nodiscard]] std::string_view to_string(TransactionEvent event);
// The event of its to_string name (a history row's cause); nullopt for another text.
[[nodiscard]] std::optional<TransactionEvent> parse_transaction_event(std::string_view text);

enum class Verdict {
  apply,      // the status changes to `next`; persist it, then tell whoever needs to know
  unchanged,  // allowed, but the status stays (e.g. a duplicate result: acknowledge it again)
  refuse,     // not allowed in this status (e.g. cancel of a final transaction)
};

struct Transition {
  Verdict verdict = Verdict::refuse;
  TransactionStatus next = TransactionStatus::pending;  // == current unless verdict is apply
  bool void_on_terminal = false;  // TIMEOUT -> VOIDED: the terminal must reverse the payment
};

// Pure: every (status, event) pair has exactly one answer.
[[nodiscard]] Transition decide(TransactionStatus current, TransactionEvent event);

}  // namespace tillgate::domain
