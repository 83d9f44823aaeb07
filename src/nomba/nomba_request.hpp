#pragma once
// Reads the Nomba push body, POST /v1/terminals/payment-request/{terminalId}
// (nomba-compat.md, "Push a payment"): {merchantTxRef, amount, currency}, into the payment
// request the coordinator runs, collecting every problem with the field it concerns.
#include <boost/system/result.hpp>
#include <cstddef>
#include <string_view>
#include <vector>

#include "domain/payment_request.hpp"
#include "nomba/nomba_format.hpp"
#include "views/errors.hpp"

namespace tillgate::nomba {

// merchantTxRef (required) is the transactionId and the idempotency key: 1-64 characters of
// A-Z a-z 0-9 . _ : - as merchant-api.md section 4. amount: parse_nomba_amount in `unit`.
// currency: an active ISO 4217 code. Members Nomba clients send besides these (an orderId,
// a description) are ignored. The request is a CARD payment answered at once
// (webhook_mode), which needs no webhook endpoint: the lookup serves too.
[[nodiscard]] boost::system::result<domain::PaymentRequest, std::vector<views::FieldProblem>>
parse_nomba_payment_request(std::string_view body, NombaAmountUnit unit,
                            std::size_t max_json_depth);

}  // namespace tillgate::nomba
