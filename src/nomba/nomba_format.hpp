#pragma once
// The Nomba-compatible edge (nomba-compat.md, docs/nomba.md): the answer envelope, the
// error codes, amounts, statuses and the transaction views. Pure functions over the same
// records the main API shows; the routes that call them live elsewhere.
#include <boost/system/result.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/money.hpp"
#include "domain/transaction.hpp"
#include "json/json.hpp"
#include "net/http_message.hpp"
#include "store/store.hpp"
#include "views/errors.hpp"

namespace tillgate::nomba {

// ---- Envelope ---------------------------------------------------------------------------

inline constexpr std::string_view success_code = "00";
inline constexpr std::string_view success_description = "Success";

// Nomba's published codes (nomba-compat.md section 1). Several situations share a code, so
// the kind, not the code, is what the gateway decides on.
enum class NombaErrorKind {
  not_found,        // "01": terminal, transaction or route
  validation,       // "02": bad body, field or query (400, 413, 431)
  bad_credentials,  // "01": the token routes refuse the client id, secret, accountId or refresh
                    // token
  token_expired,    // "02": an expired access token: refresh it
  unauthorized,     // "401": any other authentication failure
  not_permitted,    // "05": the terminal is busy with another payment
  do_not_retry,     // "06": the same reference with another body, a final payment
  retryable,        // "01": terminal offline, rate limited, timeout, server trouble
};

// "01", "02", "401", "05" or "06".
[[nodiscard]] std::string_view nomba_code(NombaErrorKind kind);

// {"code":"00","description":"Success","data":<data>}
[[nodiscard]] json::Value nomba_success(json::Value data);
// {"code":<code>,"description":<description>,"data":null}
[[nodiscard]] json::Value nomba_error(NombaErrorKind kind, std::string description);

// ---- Errors of the main API in Nomba's envelope -----------------------------------------
//
// The HTTP status stays the one merchant-api.md gives the main API's code; only the body
// changes. Every code the main API (api/errors.hpp) or the HTTP server answers with:
//
//   main API code               status  Nomba code
//   VALIDATION_ERROR             400     02 validation
//   NO_WEBHOOK_ENDPOINTS         400     02 validation
//   INVALID_PAIRING_CODE         400     02 validation
//   BAD_REQUEST                  400     02 validation   (HTTP server: malformed request)
//   UNAUTHORIZED                 401     401
//   INVALID_SIGNATURE            401     401
//   TIMESTAMP_EXPIRED            401     02 token expired (the Nomba authenticator's refusal
//                                                         of an expired access token)
//   REPLAYED_REQUEST             401     401
//   TERMINAL_NOT_FOUND           404     01 not found
//   TRANSACTION_NOT_FOUND        404     01 not found
//   MERCHANT_NOT_FOUND           404     01 not found
//   NOT_FOUND                    404     01 not found    (no such route)
//   ENDPOINT_NOT_FOUND           404     01 not found
//   DELIVERY_NOT_FOUND           404     01 not found
//   METHOD_NOT_ALLOWED           405     02 validation   (the request is wrong, not missing)
//   PAYMENT_IN_PROGRESS          409     05 not permitted
//   DUPLICATE_TRANSACTION        409     06 do not retry
//   TRANSACTION_FINAL            409     06 do not retry
//   DEVICE_ID_TAKEN              409     06 do not retry
//   ENDPOINT_LIMIT_REACHED       409     06 do not retry
//   ENDPOINT_INACTIVE            409     06 do not retry
//   PAYLOAD_TOO_LARGE            413     02 validation
//   ENDPOINT_VALIDATION_FAILED   422     02 validation
//   RATE_LIMITED                 429     01 retryable    (Retry-After kept)
//   HEADERS_TOO_LARGE            431     02 validation   (HTTP server)
//   INTERNAL_ERROR               500     01 retryable
//   SERVICE_UNAVAILABLE          503     01 retryable
//   TERMINAL_OFFLINE             503     01 retryable
//   TIMEOUT                      504     01 retryable
//
// A code not in the table is mapped by its status the same way: 404 -> 01, 401/403 ->
// 401, 409 -> 06, 429/5xx -> 01 retryable, any other 4xx -> 02.

struct NombaErrorMapping {
  std::string_view main_code;  // "TERMINAL_NOT_FOUND"
  int http_status;             // as merchant-api.md
  NombaErrorKind kind;
};

// The table above, in that order.
[[nodiscard]] std::span<const NombaErrorMapping> nomba_error_table();
// The kind for a main-API code (by the table; by `http_status` when not in it).
[[nodiscard]] NombaErrorKind nomba_error_kind(std::string_view main_code, int http_status);
[[nodiscard]] NombaErrorKind nomba_error_kind(views::ErrorCode code);

// An ApiError as Nomba answers it: the same status (and Retry-After), body
// nomba_error(kind, description) where the description is the message, followed for a
// VALIDATION_ERROR by each "field: problem".
[[nodiscard]] net::HttpResponse nomba_error_response(const views::ApiError& error);
// A main-API error answer ({"code","message",...} with its status and headers), e.g. a
// refusal written before any route ran, re-shaped for Nomba with the same status and
// headers. An answer whose body is not such an object is kept as it is.
[[nodiscard]] net::HttpResponse nomba_error_response(const net::HttpResponse& main_api_error);

// ---- Amounts ------------------------------------------------------------------------------
//
// The push's `amount` is a JSON number or a string of digits. Its unit: `minor` (default,
// as Nomba's API reference states: 1000 = 1000 kobo = ten naira) or `major`
// (TILLGATE_NOMBA_AMOUNT_UNIT=major: 1000 = one thousand naira, up to the currency's
// decimals). The push answer echoes it in the same unit. Amounts Nomba shows elsewhere
// (lookup, lists, webhook transactionAmount) are always major units:
//   major: the shortest plain decimal, no exponent, no trailing fraction zeros:
//          NGN 100000 kobo -> 1000, 100050 -> 1000.5, 100055 -> 1000.55; JPY 500 -> 500.
//   minor: the integer count of minor units: NGN 1000.50 -> 100050.

enum class NombaAmountUnit { major, minor };

// "major" or "minor" (exactly, as TILLGATE_NOMBA_AMOUNT_UNIT is written); nullopt otherwise.
[[nodiscard]] std::optional<NombaAmountUnit> parse_nomba_amount_unit(std::string_view text);
[[nodiscard]] std::string_view to_string(NombaAmountUnit unit);

enum class NombaAmountError {
  not_a_number,           // absent, null, a boolean, an object or an array
  not_whole_minor_units,  // minor units with a fraction: 1000.5, and 1000.0 too
  too_many_decimals,      // major units with more decimals than the currency has
  exponent,               // 1e3: write the digits out (as the main API requires)
  too_many_digits,        // more than 15 significant digits
  not_positive,           // zero or negative
  syntax,                 // anything else the Money grammar refuses (" 1", "+1", "1,000")
};

// A sentence for the field problem, e.g. "must be a JSON number".
[[nodiscard]] std::string_view describe(NombaAmountError error);

// Found by ADL so result<Money, NombaAmountError>::value() compiles; it throws
// std::invalid_argument. Prefer checking the result: a bad amount is an expected input.
[[noreturn]] void throw_exception_from_error(NombaAmountError error,
                                             const boost::source_location& loc);

// Reads Nomba's `amount` member: a JSON number's exact text, or a string's text (the same
// grammar: "1000" as Nomba's curl sends). major: through Money::parse (the main API's
// grammar: at most the currency's decimals, at most 15 significant digits). minor: an
// integer only (same digit limit), taken as a count of minor units.
[[nodiscard]] boost::system::result<domain::Money, NombaAmountError> parse_nomba_amount(
    const json::Value& amount, domain::Currency currency, NombaAmountUnit unit);

// The JSON number Nomba shows for `money` (see above).
[[nodiscard]] json::Value render_nomba_amount(const domain::Money& money, NombaAmountUnit unit);
// A stored transaction's amount the same way. A currency the table does not know (corrupt
// data) shows the raw minor units rather than failing the whole answer.
[[nodiscard]] json::Value render_nomba_amount(const store::TransactionRecord& transaction,
                                              NombaAmountUnit unit);

// Every time the Nomba edge shows: RFC 3339 UTC in whole seconds, "2024-01-15T10:30:00Z"
// (the fraction truncated).
[[nodiscard]] std::string format_nomba_time(domain::Timestamp at);

// ---- Statuses and response codes ----------------------------------------------------------
//
//   TransactionStatus    Nomba status     responseCode / gatewayMessage
//   PENDING              PENDING          null / null (no result yet)
//   AWAITING_RECONNECT   PENDING          null / null
//   COMPLETED            SUCCESS          "00" / "Approved"
//   FAILED               PAYMENT_FAILED   terminal's errorCode / errorMessage, each
//                                         defaulting to "05" / "Declined"
//   CANCELLED            PAYMENT_FAILED   terminal's errorCode / errorMessage, each
//                                         defaulting to "17" / "Customer cancellation"
//   TIMEOUT              PAYMENT_FAILED   "68" / "Timed out"
//   VOIDED               REVERSED         "06" / "Reversed: approved after the timeout
//                                         and voided on the terminal"
//
// Two-character codes follow ISO 8583 as card terminals (and Nomba's POS webhooks) use
// them: 00 approved, 05 do not honour, 17 customer cancellation, 68 response received too
// late, 06 error (the late approval was reversed). Only SUCCESS / "00" means paid. The
// terminal's own code and message are passed through as it sent them (at most 64 and 512
// characters, as the terminal protocol bounds them).

[[nodiscard]] std::string_view nomba_status(domain::TransactionStatus status);
// The status a Nomba client names (SUCCESS, PAYMENT_FAILED, PENDING, REVERSED) as the
// statuses it covers; empty for an unknown name.
[[nodiscard]] std::vector<domain::TransactionStatus> statuses_of_nomba_status(
    std::string_view name);

struct NombaResponseCode {
  std::optional<std::string> code;     // null while the transaction is unfinished
  std::optional<std::string> message;  // null while the transaction is unfinished
};
[[nodiscard]] NombaResponseCode nomba_response_code(const store::TransactionRecord& transaction);

// What the terminal reported of the card (terminal-protocol.md `card`), each when known.
struct NombaCardDetails {
  std::optional<std::string> masked_pan;  // "539983******4297"
  std::optional<std::string> scheme;      // "MASTERCARD"
  std::optional<std::string> rrn;
  std::optional<std::string> stan;
};
[[nodiscard]] NombaCardDetails nomba_card_details(const store::TransactionRecord& transaction);

// ---- Views ----------------------------------------------------------------------------------
//
// Identifiers: a Nomba merchantTxRef IS the gateway's transactionId (same rules,
// merchant-api.md section 4, and the same idempotency), and paymentId is that same value:
// the store keys a transaction by (merchant, transactionId) alone, so one identifier
// serves both APIs, and a transaction pushed through either is found through the other.

// The lookup's data (GET /v1/transactions/accounts/single), also each item of the lists:
// {id, status, amount (major units), currency, fixedCharge:0, source:"pos",
//  type:"purchase", gatewayMessage, responseCode, timeCreated, timeUpdated, terminalId,
//  posTerminalLabel, [posSerialNumber], merchantTxRef, userId, [rrn], [stan],
//  [customerBillerId]}; the bracketed members only when known. `device` is the terminal's
// record when it still exists (its label and serial number).
[[nodiscard]] json::Value nomba_transaction_view(const store::TransactionRecord& transaction,
                                                 const store::DeviceRecord* device);

// A terminal's serial number, from what it reported when pairing (its metadata's
// "serialNumber"), if any.
[[nodiscard]] std::optional<std::string> device_serial_number(const store::DeviceRecord& device);

// The push answer's data: {paymentId, merchantTxRef, status:"pending", amount, currency,
// createdAt}, amount in the push's `unit`. The status is the literal "pending" of
// nomba-compat.md: the push answers at once and the result follows by webhook (and the
// lookup).
[[nodiscard]] json::Value nomba_payment_accepted(const store::TransactionRecord& transaction,
                                                 NombaAmountUnit unit);

}  // namespace tillgate::nomba
