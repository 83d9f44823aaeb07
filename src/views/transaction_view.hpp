#pragma once
// The JSON shapes of a transaction on the merchant API (merchant-api.md sections 4 and 5).
#include <string_view>

#include "domain/time.hpp"
#include "json/json.hpp"
#include "store/store.hpp"

namespace tillgate::views {

// paymentResponse: {transactionId, status, amount, currency, paymentMethod,
// authorizationCode, errorCode, errorMessage, receiptData, timestamp, metadata}
[[nodiscard]] json::Value payment_response(const store::TransactionRecord& transaction);
// The 200 answer of a payment: {transactionId, status, paymentResponse, timestamp}.
[[nodiscard]] json::Value payment_answer(const store::TransactionRecord& transaction,
                                         domain::Timestamp now);
// A transaction's `response`: the payment response plus the terminal's `card` when it
// reported one (terminal-protocol.md v2); null before the terminal's result.
[[nodiscard]] json::Value transaction_response(const store::TransactionRecord& transaction);
// GET /v1/transactions/{id}
[[nodiscard]] json::Value transaction_view(const store::TransactionRecord& transaction);
// The merchant's notification of the payment event `event_id` that left `transaction` as
// it is (pos-websocket.md): {"action":"paymentComplete","eventId","transactionId",
// "terminalId","status","paymentResponse"} for a final status other than VOIDED,
// {"action":"paymentVoided",...,"reason",...} for VOIDED; null for an unfinished one. The
// POS API adds its timestamp, groupId and version when it sends one; the outbox fixes it
// with the event, for resume.
[[nodiscard]] json::Value payment_notification(const store::TransactionRecord& transaction,
                                               std::string_view event_id);

}  // namespace tillgate::views
