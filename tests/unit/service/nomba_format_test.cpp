// The Nomba-compatible edge (nomba/nomba_format.hpp): envelope, error mapping, amount
// units, statuses, response codes and the transaction views.
#include "nomba/nomba_format.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "domain/terminal_outcome_json.hpp"
#include "views/errors.hpp"

namespace tillgate::nomba {
namespace {

using domain::TransactionStatus;

const domain::Currency kNgn = *domain::find_currency("NGN");

domain::Timestamp at_iso(std::string_view text) {
  return *domain::parse_iso8601(text);
}

json::Value number(std::string_view text) {
  return json::Value(json::Number{std::string(text)});
}

store::TransactionRecord record(TransactionStatus status) {
  store::TransactionRecord r;
  r.merchant_id = "mch_1";
  r.transaction_id = "55555555";
  r.device_id = "TERM-01";
  r.status = status;
  r.amount_minor = 100000;
  r.currency = "NGN";
  r.payment_method = domain::PaymentMethod::card;
  r.created_at = at_iso("2024-01-15T10:30:00.000Z");
  r.updated_at = at_iso("2024-01-15T10:30:42.250Z");
  r.deadline = at_iso("2024-01-15T10:31:30.000Z");
  return r;
}

// `response_json` as the store reads it: text that is not an outcome is no result.
store::TransactionRecord finished(TransactionStatus status, std::string_view response_json) {
  auto r = record(status);
  r.outcome = domain::terminal_outcome_from_json(response_json);
  r.completed_at = at_iso("2024-01-15T10:30:42.250Z");
  return r;
}

// ---- Envelope ---------------------------------------------------------------------------

TEST(NombaEnvelope, SuccessWrapsTheData) {
  EXPECT_EQ(json::serialize(nomba_success(json::object({{"paymentId", "p1"}}))),
            R"({"code":"00","description":"Success","data":{"paymentId":"p1"}})");
  EXPECT_EQ(json::serialize(nomba_success(json::Value(nullptr))),
            R"({"code":"00","description":"Success","data":null})");
}

TEST(NombaEnvelope, ErrorsHaveNombasPublishedCodesAndNullData) {
  using K = NombaErrorKind;
  const std::pair<NombaErrorKind, std::string_view> cases[] = {
      {K::not_found, "01"},     {K::validation, "02"},    {K::bad_credentials, "01"},
      {K::token_expired, "02"}, {K::unauthorized, "401"}, {K::not_permitted, "05"},
      {K::do_not_retry, "06"},  {K::retryable, "01"},
  };
  for (const auto& [kind, code] : cases) {
    EXPECT_EQ(nomba_code(kind), code);
    EXPECT_EQ(
        json::serialize(nomba_error(kind, "what is wrong")),
        R"({"code":")" + std::string(code) + R"(","description":"what is wrong","data":null})");
  }
}

// ---- Error mapping ----------------------------------------------------------------------

TEST(NombaErrors, EveryMainApiCodeKeepsItsStatusAndGetsItsNombaCode) {
  using views::ErrorCode;
  using K = NombaErrorKind;
  const std::pair<ErrorCode, K> expected[] = {
      {ErrorCode::validation_error, K::validation},
      {ErrorCode::no_webhook_endpoints, K::validation},
      {ErrorCode::invalid_pairing_code, K::validation},
      {ErrorCode::unauthorized, K::unauthorized},
      {ErrorCode::invalid_signature, K::unauthorized},
      {ErrorCode::timestamp_expired, K::token_expired},
      {ErrorCode::replayed_request, K::unauthorized},
      {ErrorCode::terminal_not_found, K::not_found},
      {ErrorCode::transaction_not_found, K::not_found},
      {ErrorCode::merchant_not_found, K::not_found},
      {ErrorCode::route_not_found, K::not_found},
      {ErrorCode::method_not_allowed, K::validation},
      {ErrorCode::payment_in_progress, K::not_permitted},
      {ErrorCode::duplicate_transaction, K::do_not_retry},
      {ErrorCode::transaction_final, K::do_not_retry},
      {ErrorCode::device_id_taken, K::do_not_retry},
      {ErrorCode::payload_too_large, K::validation},
      {ErrorCode::rate_limited, K::retryable},
      {ErrorCode::internal_error, K::retryable},
      {ErrorCode::service_unavailable, K::retryable},
      {ErrorCode::store_unavailable, K::retryable},
      {ErrorCode::terminal_offline, K::retryable},
      {ErrorCode::timeout, K::retryable},
      {ErrorCode::endpoint_validation_failed, K::validation},
      {ErrorCode::endpoint_limit_reached, K::do_not_retry},
      {ErrorCode::endpoint_not_found, K::not_found},
      {ErrorCode::endpoint_inactive, K::do_not_retry},
      {ErrorCode::delivery_not_found, K::not_found},
  };
  const auto table = nomba_error_table();
  for (const auto& [code, kind] : expected) {
    const auto name = views::wire_name(code);
    EXPECT_EQ(nomba_error_kind(code), kind) << name;
    EXPECT_EQ(nomba_error_kind(name, 999), kind) << name;  // by the table, not the status
    const auto row = std::find_if(table.begin(), table.end(),
                                  [&](const auto& r) { return r.main_code == name; });
    ASSERT_NE(row, table.end()) << name << " is missing from the table";
    EXPECT_EQ(row->http_status, views::http_status(code)) << name;
    EXPECT_EQ(row->kind, kind) << name;
  }
  // The HTTP server's own refusals, written before any route runs.
  EXPECT_EQ(nomba_error_kind("BAD_REQUEST", 400), NombaErrorKind::validation);
  EXPECT_EQ(nomba_error_kind("HEADERS_TOO_LARGE", 431), NombaErrorKind::validation);
  EXPECT_EQ(table.size(), std::size(expected) + 2);
}

TEST(NombaErrors, UnknownCodesGoByStatus) {
  EXPECT_EQ(nomba_error_kind("SOMETHING_NEW", 404), NombaErrorKind::not_found);
  EXPECT_EQ(nomba_error_kind("SOMETHING_NEW", 401), NombaErrorKind::unauthorized);
  EXPECT_EQ(nomba_error_kind("SOMETHING_NEW", 403), NombaErrorKind::unauthorized);
  EXPECT_EQ(nomba_error_kind("SOMETHING_NEW", 409), NombaErrorKind::do_not_retry);
  EXPECT_EQ(nomba_error_kind("SOMETHING_NEW", 429), NombaErrorKind::retryable);
  EXPECT_EQ(nomba_error_kind("SOMETHING_NEW", 502), NombaErrorKind::retryable);
  EXPECT_EQ(nomba_error_kind("SOMETHING_NEW", 400), NombaErrorKind::validation);
  EXPECT_EQ(nomba_error_kind("SOMETHING_NEW", 422), NombaErrorKind::validation);
}

TEST(NombaErrors, ApiErrorBecomesANombaAnswerWithTheSameStatus) {
  views::ApiError validation{views::ErrorCode::validation_error,
                             "the payment request is not valid: see details",
                             {{"amount", "must be a JSON number"}, {"currency", "is required"}},
                             std::nullopt,
                             std::nullopt};
  const auto answer = nomba_error_response(validation);
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.body,
            R"({"code":"02","description":"the payment request is not valid: amount must be a )"
            R"(JSON number; currency is required","data":null})");

  views::ApiError limited{views::ErrorCode::rate_limited, "too many requests", {}, std::nullopt, 3};
  const auto refused = nomba_error_response(limited);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.body, R"({"code":"01","description":"too many requests","data":null})");
  ASSERT_EQ(refused.headers.size(), 1u);
  EXPECT_EQ(refused.headers[0], (std::pair<std::string, std::string>{"Retry-After", "3"}));

  const auto offline = nomba_error_response(views::ApiError{
      views::ErrorCode::terminal_offline, "terminal TERM-01 is offline", {}, "55555555", {}});
  EXPECT_EQ(offline.status, 503);
  EXPECT_EQ(offline.body,
            R"({"code":"01","description":"terminal TERM-01 is offline","data":null})");
}

TEST(NombaErrors, AMainApiErrorAnswerIsReshaped) {
  const auto now = at_iso("2024-01-15T10:30:00.000Z");
  const auto main = views::error_response(
      views::ApiError{views::ErrorCode::terminal_not_found, "no terminal TERM-9", {}, {}, {}}, now);
  const auto answer = nomba_error_response(main);
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(answer.body, R"({"code":"01","description":"no terminal TERM-9","data":null})");

  views::ApiError validation{views::ErrorCode::validation_error,
                             "the payment request is not valid: see details",
                             {{"merchantTxRef", "must be 1-64 characters"}},
                             {},
                             {}};
  EXPECT_EQ(nomba_error_response(views::error_response(validation, now)).body,
            nomba_error_response(validation).body);

  // The HTTP server's refusal (views::error_response with a status and a code string).
  const auto too_large =
      nomba_error_response(views::error_response(413, "PAYLOAD_TOO_LARGE", "body too big", now));
  EXPECT_EQ(too_large.status, 413);
  EXPECT_EQ(too_large.body, R"({"code":"02","description":"body too big","data":null})");

  net::HttpResponse not_json;
  not_json.status = 502;
  not_json.body = "<html>";
  not_json.content_type = "text/html";
  const auto kept = nomba_error_response(not_json);
  EXPECT_EQ(kept.body, "<html>");
  EXPECT_EQ(kept.content_type, "text/html");
}

// ---- Amounts ----------------------------------------------------------------------------

TEST(NombaAmount, MajorUnitsWhenConfigured) {
  const auto amount = parse_nomba_amount(number("1000"), kNgn, NombaAmountUnit::major);
  ASSERT_TRUE(amount.has_value());
  EXPECT_EQ(amount->minor_units(), 100000);  // 1000 naira = 100000 kobo
  EXPECT_EQ(amount->currency(), kNgn);
  EXPECT_EQ(parse_nomba_amount(number("1000.5"), kNgn, NombaAmountUnit::major)->minor_units(),
            100050);
  EXPECT_EQ(parse_nomba_amount(number("0.01"), kNgn, NombaAmountUnit::major)->minor_units(), 1);
  // The exact text of a parsed JSON number, never a double.
  const auto parsed = json::parse(R"({"amount":99.99})");
  EXPECT_EQ(
      parse_nomba_amount(*parsed->find("amount"), kNgn, NombaAmountUnit::major)->minor_units(),
      9999);
}

TEST(NombaAmount, MinorUnitsByDefaultAsANumberOrAStringOfDigits) {
  const auto amount = parse_nomba_amount(number("1000"), kNgn, NombaAmountUnit::minor);
  ASSERT_TRUE(amount.has_value());
  EXPECT_EQ(amount->minor_units(), 1000);  // 1000 kobo = ten naira
  EXPECT_EQ(amount->currency(), kNgn);
  const auto jpy = *domain::find_currency("JPY");
  EXPECT_EQ(parse_nomba_amount(number("500"), jpy, NombaAmountUnit::minor)->minor_units(), 500);
  // Nomba's reference curl sends "1000": the same amount.
  EXPECT_EQ(parse_nomba_amount(json::Value("1000"), kNgn, NombaAmountUnit::minor)->minor_units(),
            1000);
  EXPECT_EQ(parse_nomba_amount(json::Value("1000.5"), kNgn, NombaAmountUnit::major)->minor_units(),
            100050);
}

TEST(NombaAmount, RefusesWhatIsNotAnAmount) {
  using E = NombaAmountError;
  const auto error = [](const json::Value& value, NombaAmountUnit unit,
                        domain::Currency currency = kNgn) {
    const auto result = parse_nomba_amount(value, currency, unit);
    EXPECT_FALSE(result.has_value()) << json::serialize(value);
    return result.has_value() ? E::syntax : result.error();
  };
  const auto major = NombaAmountUnit::major;
  const auto minor = NombaAmountUnit::minor;
  EXPECT_EQ(error(number("1000.5"), minor), E::not_whole_minor_units);
  EXPECT_EQ(error(number("1000.0"), minor), E::not_whole_minor_units);
  EXPECT_EQ(error(number("0.5"), minor), E::not_whole_minor_units);
  EXPECT_EQ(error(number("1000.555"), major), E::too_many_decimals);
  EXPECT_EQ(error(number("1.5"), major, *domain::find_currency("JPY")), E::too_many_decimals);
  EXPECT_EQ(error(number("1e3"), major), E::exponent);
  EXPECT_EQ(error(number("1E3"), minor), E::exponent);
  EXPECT_EQ(error(number("0"), major), E::not_positive);
  EXPECT_EQ(error(number("0"), minor), E::not_positive);
  EXPECT_EQ(error(number("-5"), major), E::not_positive);
  EXPECT_EQ(error(number("-5"), minor), E::not_positive);
  EXPECT_EQ(error(number("1234567890123456"), minor), E::too_many_digits);
  EXPECT_EQ(error(number("12345678901234.56"), major), E::too_many_digits);
  EXPECT_EQ(error(json::Value("10.5"), minor), E::not_whole_minor_units);
  EXPECT_EQ(error(json::Value("0"), minor), E::not_positive);
  EXPECT_EQ(error(json::Value("-100"), minor), E::not_positive);
  EXPECT_EQ(error(json::Value("1e3"), minor), E::exponent);
  for (const std::string_view text :
       {"", " 100", "100 ", "+100", "1,000", "0x10", "abc", "1_000"}) {
    EXPECT_EQ(error(json::Value(text), minor), E::syntax) << text;
  }
  for (const auto unit : {major, minor}) {
    EXPECT_EQ(error(json::Value(nullptr), unit), E::not_a_number);
    EXPECT_EQ(error(json::Value(true), unit), E::not_a_number);
    EXPECT_EQ(error(json::Value(json::Object{}), unit), E::not_a_number);
  }
  EXPECT_EQ(describe(E::not_a_number), "must be a JSON number or a string of digits, such as 1000");
  EXPECT_THROW((void)parse_nomba_amount(json::Value("x"), kNgn, major).value(),
               std::invalid_argument);
}

TEST(NombaAmount, RendersInTheConfiguredUnit) {
  const auto render = [](std::int64_t minor_units, NombaAmountUnit unit,
                         std::string_view currency = "NGN") {
    return json::serialize(render_nomba_amount(
        domain::Money::from_minor_units(minor_units, *domain::find_currency(currency)), unit));
  };
  EXPECT_EQ(render(100000, NombaAmountUnit::major), "1000");
  EXPECT_EQ(render(100050, NombaAmountUnit::major), "1000.5");
  EXPECT_EQ(render(100055, NombaAmountUnit::major), "1000.55");
  EXPECT_EQ(render(5, NombaAmountUnit::major), "0.05");
  EXPECT_EQ(render(500, NombaAmountUnit::major, "JPY"), "500");
  EXPECT_EQ(render(1000, NombaAmountUnit::major, "KWD"), "1");
  EXPECT_EQ(render(1010, NombaAmountUnit::major, "KWD"), "1.01");
  EXPECT_EQ(render(100000, NombaAmountUnit::minor), "100000");
  EXPECT_EQ(render(100050, NombaAmountUnit::minor), "100050");
  // What is shown reads back as the same amount, in either unit.
  for (const auto unit : {NombaAmountUnit::major, NombaAmountUnit::minor}) {
    for (const std::int64_t minor_units :
         std::initializer_list<std::int64_t>{1, 10, 99, 100, 100050, 999999999999999}) {
      const auto money = domain::Money::from_minor_units(minor_units, kNgn);
      const auto back = parse_nomba_amount(render_nomba_amount(money, unit), kNgn, unit);
      ASSERT_TRUE(back.has_value()) << minor_units;
      EXPECT_TRUE(*back == money) << minor_units;
    }
  }
}

TEST(NombaAmount, UnitSettingIsMajorOrMinor) {
  EXPECT_EQ(parse_nomba_amount_unit("major"), NombaAmountUnit::major);
  EXPECT_EQ(parse_nomba_amount_unit("minor"), NombaAmountUnit::minor);
  EXPECT_EQ(parse_nomba_amount_unit("MINOR"), std::nullopt);
  EXPECT_EQ(parse_nomba_amount_unit("kobo"), std::nullopt);
  EXPECT_EQ(parse_nomba_amount_unit(""), std::nullopt);
  EXPECT_EQ(to_string(NombaAmountUnit::minor), "minor");
  EXPECT_EQ(to_string(NombaAmountUnit::major), "major");
}

// ---- Statuses and response codes --------------------------------------------------------

TEST(NombaStatus, EveryTransactionStatusHasANombaStatus) {
  EXPECT_EQ(nomba_status(TransactionStatus::pending), "PENDING");
  EXPECT_EQ(nomba_status(TransactionStatus::awaiting_reconnect), "PENDING");
  EXPECT_EQ(nomba_status(TransactionStatus::completed), "SUCCESS");
  EXPECT_EQ(nomba_status(TransactionStatus::failed), "PAYMENT_FAILED");
  EXPECT_EQ(nomba_status(TransactionStatus::cancelled), "PAYMENT_FAILED");
  EXPECT_EQ(nomba_status(TransactionStatus::timeout), "PAYMENT_FAILED");
  EXPECT_EQ(nomba_status(TransactionStatus::voided), "REVERSED");
  // And back: each Nomba status names exactly the statuses shown as it.
  for (const auto status :
       {TransactionStatus::pending, TransactionStatus::awaiting_reconnect,
        TransactionStatus::completed, TransactionStatus::failed, TransactionStatus::cancelled,
        TransactionStatus::timeout, TransactionStatus::voided}) {
    const auto covered = statuses_of_nomba_status(nomba_status(status));
    EXPECT_NE(std::find(covered.begin(), covered.end(), status), covered.end());
  }
  EXPECT_EQ(statuses_of_nomba_status("PAYMENT_FAILED").size(), 3U);
  EXPECT_TRUE(statuses_of_nomba_status("success").empty());
  EXPECT_TRUE(statuses_of_nomba_status("PAYMENT_SUCCESSFUL").empty());
}

TEST(NombaStatus, ResponseCodes) {
  const auto code_of = [](const store::TransactionRecord& r) {
    const auto c = nomba_response_code(r);
    return std::pair{c.code.value_or("<null>"), c.message.value_or("<null>")};
  };
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(code_of(record(TransactionStatus::pending)), (P{"<null>", "<null>"}));
  EXPECT_EQ(code_of(record(TransactionStatus::awaiting_reconnect)), (P{"<null>", "<null>"}));
  // Approved whatever else the terminal said.
  EXPECT_EQ(code_of(finished(TransactionStatus::completed,
                             R"({"status":"SUCCESS","authorizationCode":"AUTH1",)"
                             R"("errorCode":null,"errorMessage":null})")),
            (P{"00", "Approved"}));
  // The terminal's code and message pass through; each defaults on its own.
  EXPECT_EQ(code_of(finished(TransactionStatus::failed, R"({"status":"FAILED","errorCode":"51",)"
                                                        R"("errorMessage":"Insufficient funds"})")),
            (P{"51", "Insufficient funds"}));
  EXPECT_EQ(code_of(finished(TransactionStatus::failed,
                             R"({"status":"FAILED","errorCode":"DECLINED","errorMessage":null})")),
            (P{"DECLINED", "Declined"}));
  EXPECT_EQ(code_of(finished(TransactionStatus::failed, R"({"status":"FAILED","errorCode":""})")),
            (P{"05", "Declined"}));
  auto failed_without_result = record(TransactionStatus::failed);
  EXPECT_EQ(code_of(failed_without_result), (P{"05", "Declined"}));
  EXPECT_EQ(code_of(finished(TransactionStatus::cancelled, R"({"status":"CANCELLED"})")),
            (P{"17", "Customer cancellation"}));
  EXPECT_EQ(code_of(finished(TransactionStatus::cancelled,
                             R"({"status":"CANCELLED","errorMessage":"Cancelled by cashier"})")),
            (P{"17", "Cancelled by cashier"}));
  EXPECT_EQ(code_of(record(TransactionStatus::timeout)), (P{"68", "Timed out"}));
  EXPECT_EQ(code_of(finished(TransactionStatus::voided, R"({"status":"SUCCESS"})")),
            (P{"06", "Reversed: approved after the timeout and voided on the terminal"}));
  // A corrupt stored result is no result.
  EXPECT_EQ(code_of(finished(TransactionStatus::failed, "not json")), (P{"05", "Declined"}));
}

// ---- Views ------------------------------------------------------------------------------

store::DeviceRecord device() {
  store::DeviceRecord d;
  d.device_id = "TERM-01";
  d.merchant_id = "mch_1";
  d.label = "Front desk";
  d.metadata_json = R"({"serialNumber":"SN123","model":"P2"})";
  return d;
}

TEST(NombaViews, LookupOfAnUnfinishedTransaction) {
  const auto d = device();
  EXPECT_EQ(json::serialize(nomba_transaction_view(record(TransactionStatus::pending), &d)),
            R"({"id":"55555555","status":"PENDING","amount":1000,"currency":"NGN",)"
            R"("fixedCharge":0,"source":"pos","type":"purchase","gatewayMessage":null,)"
            R"("responseCode":null,"timeCreated":"2024-01-15T10:30:00Z",)"
            R"("timeUpdated":"2024-01-15T10:30:42Z","terminalId":"TERM-01",)"
            R"("posTerminalLabel":"Front desk","posSerialNumber":"SN123",)"
            R"("merchantTxRef":"55555555","userId":"mch_1"})");
}

TEST(NombaViews, LookupWithTheTerminalsResponseAndCard) {
  const auto d = device();
  const auto paid = finished(TransactionStatus::completed,
                             R"({"status":"SUCCESS","authorizationCode":"AUTH123456",)"
                             R"("completedAt":"2024-01-15T10:30:41.000Z","card":{)"
                             R"("maskedPan":"539983******4297","scheme":"MASTERCARD",)"
                             R"("rrn":"123456789012","stan":"000123"}})");
  EXPECT_EQ(json::serialize(nomba_transaction_view(paid, &d)),
            R"({"id":"55555555","status":"SUCCESS","amount":1000,"currency":"NGN",)"
            R"("fixedCharge":0,"source":"pos","type":"purchase","gatewayMessage":"Approved",)"
            R"("responseCode":"00","timeCreated":"2024-01-15T10:30:00Z",)"
            R"("timeUpdated":"2024-01-15T10:30:42Z","terminalId":"TERM-01",)"
            R"("posTerminalLabel":"Front desk","posSerialNumber":"SN123",)"
            R"("merchantTxRef":"55555555","userId":"mch_1","rrn":"123456789012",)"
            R"("stan":"000123","customerBillerId":"539983******4297"})");
  // The amount is in major units; a deleted terminal has no label or serial.
  auto declined =
      finished(TransactionStatus::failed,
               R"({"status":"FAILED","errorCode":"51","errorMessage":"Insufficient funds"})");
  declined.amount_minor = 100055;
  const auto view = nomba_transaction_view(declined, nullptr);
  EXPECT_EQ(json::serialize(*view.find("amount")), "1000.55");
  EXPECT_EQ(*view.find_string("status"), "PAYMENT_FAILED");
  EXPECT_EQ(*view.find_string("responseCode"), "51");
  EXPECT_EQ(*view.find_string("gatewayMessage"), "Insufficient funds");
  EXPECT_EQ(*view.find_string("posTerminalLabel"), "");
  EXPECT_EQ(view.find("posSerialNumber"), nullptr);
  EXPECT_EQ(view.find("rrn"), nullptr);
}

TEST(NombaViews, TimesAreWholeSeconds) {
  EXPECT_EQ(format_nomba_time(at_iso("2024-01-15T10:30:42.999Z")), "2024-01-15T10:30:42Z");
  EXPECT_EQ(format_nomba_time(at_iso("2024-01-15T10:30:00.000Z")), "2024-01-15T10:30:00Z");
}

TEST(NombaViews, PushAnswerIsPendingInThePushsUnit) {
  EXPECT_EQ(json::serialize(
                nomba_payment_accepted(record(TransactionStatus::pending), NombaAmountUnit::major)),
            R"({"paymentId":"55555555","merchantTxRef":"55555555","status":"pending",)"
            R"("amount":1000,"currency":"NGN","createdAt":"2024-01-15T10:30:00Z"})");
  auto odd = record(TransactionStatus::pending);
  odd.amount_minor = 100050;
  EXPECT_EQ(json::serialize(*nomba_payment_accepted(odd, NombaAmountUnit::major).find("amount")),
            "1000.5");
  EXPECT_EQ(json::serialize(*nomba_payment_accepted(odd, NombaAmountUnit::minor).find("amount")),
            "100050");
}

}  // namespace
}  // namespace tillgate::nomba
