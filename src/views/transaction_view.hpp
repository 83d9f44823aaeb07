#pragma once
// The JSON shapes of a transaction on the merchant API (merchant-api.md sections 4 and 5).
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

}  // namespace tillgate::views
