#pragma once
// The JSON frames of the merchant POS WebSocket API (docs/pos-websocket.md): answers,
// errors and notifications, built from the same views as the HTTP API.
#include <optional>
#include <string>
#include <string_view>

#include "domain/ids.hpp"
#include "domain/time.hpp"
#include "json/json.hpp"
#include "payments/payment_events.hpp"
#include "store/store.hpp"
#include "views/errors.hpp"

namespace tillgate::pos {

// The reason phrase of an HTTP status ("Bad Request"): an error frame's `error`.
[[nodiscard]] std::string_view reason_phrase(int status);

// {"action":"error","error","code","message","requestId"?,"transactionId"?,"details"?,
// "timestamp"}: the HTTP API's error for the same problem.
[[nodiscard]] std::string error_frame(const views::ApiError& error,
                                      const std::optional<std::string>& request_id,
                                      domain::Timestamp now);

// An answer: `body` (an object) with "requestId" (when given) and "timestamp" appended.
[[nodiscard]] std::string answer_frame(json::Value body,
                                       const std::optional<std::string>& request_id,
                                       domain::Timestamp now);

// paymentComplete (a final status other than VOIDED) or paymentVoided (VOIDED) of a
// committed change that wrote `event_id`; nullopt for any other change.
[[nodiscard]] std::optional<std::string> payment_notification(
    const store::TransactionRecord& transaction, const domain::EventId& event_id,
    domain::Timestamp now);

// The same notification of a stored payment event (resume); nullopt when the stored body is
// not a JSON object (a corrupt row, skipped).
[[nodiscard]] std::optional<std::string> replayed_notification(
    const store::PaymentEventRecord& event, domain::Timestamp now);

// {"action":"forceDisconnect","reason":"NEW_CONNECTION",...}
[[nodiscard]] std::string force_disconnect_frame(domain::Timestamp now);

// terminalStatusUpdate; `terminal_info` (an item of terminalsResponse) only when connected.
[[nodiscard]] std::string terminal_status_frame(const payments::TerminalPresenceChanged& change,
                                                const json::Value* terminal_info,
                                                domain::Timestamp now);

}  // namespace tillgate::pos
