#pragma once
// The JSON shapes of a transaction on the merchant API (merchant-api.md sections 4 and 5).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "domain/time.hpp"
#include "json/json.hpp"
#include "json/writer.hpp"
#include "store/store.hpp"

namespace tillgate::views {

// Where a payment response's members are written: the merchant's paymentResponse
// ({transactionId, status, amount, currency, paymentMethod, authorizationCode, errorCode,
// errorMessage, receiptData, timestamp, metadata}), or a webhook event's `data`, which has
// the terminal's id instead of the timestamp ({..., receiptData, terminalId, metadata}).
enum class PaymentResponseForm { answer, event_data };
// Room made at once for a body that carries a payment response (json::Writer): about its
// size with a request's usual metadata, so that writing it does not grow the string in steps.
inline constexpr std::size_t kPaymentBodyBytes = 1024;
// Those members, into the object `out` has open: the bodies a payment produces are written
// straight into their text, with no document model built (json/writer.hpp).
void write_payment_response_members(json::Writer& out, const store::TransactionRecord& transaction,
                                    PaymentResponseForm form);
// paymentResponse as a document, for the views that are built as one.
[[nodiscard]] json::Value payment_response(const store::TransactionRecord& transaction);
// The 200 answer of a payment, as its body: {transactionId, status, paymentResponse,
// timestamp}.
[[nodiscard]] std::string payment_answer(const store::TransactionRecord& transaction,
                                         domain::Timestamp now);
// A transaction's `response`: the payment response plus the terminal's `card` when it
// reported one (terminal-protocol.md v2); null before the terminal's result.
[[nodiscard]] json::Value transaction_response(const store::TransactionRecord& transaction);
// GET /v1/transactions/{id}
[[nodiscard]] json::Value transaction_view(const store::TransactionRecord& transaction);
// The merchant's notification of the payment event `event_id` that left `transaction` as
// it is (pos-websocket.md): {"action":"paymentComplete","eventId","transactionId",
// "terminalId","status","paymentResponse"} for a final status other than VOIDED,
// {"action":"paymentVoided",...,"reason",...} for VOIDED, as its text; nullopt for an
// unfinished one. The
// POS API adds its timestamp, groupId and version when it sends one; the outbox fixes it
// with the event, for resume.
[[nodiscard]] std::optional<std::string> payment_notification(
    const store::TransactionRecord& transaction, std::string_view event_id);

}  // namespace tillgate::views
