// Webhooks in Nomba's format (nomba/nomba_webhook.hpp): which statuses send what, the exact
// payload, the signature (checked against the openssl command line), verification and
// the retry schedule.
#include "nomba/nomba_webhook.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include "../../support/run_shell.hpp"
#include "../../support/temp_dir.hpp"
#include "crypto/crypto.hpp"
#include "domain/ids.hpp"
#include "domain/terminal_outcome.hpp"
#include "json/json.hpp"
#include "nomba/nomba_webhook_format.hpp"
#include "webhooks/format.hpp"
#include "webhooks/signature.hpp"
#include "webhooks/standard_format.hpp"

namespace tillgate::nomba {
namespace {

using namespace std::chrono_literals;
using domain::TransactionStatus;

const std::string kRequestId = "0190c7a4-b2e0-7a1f-9c3d-5e6f7a8b9c0d";

domain::Timestamp at_iso(std::string_view text) {
  return *domain::parse_iso8601(text);
}

using tillgate::testing::run_shell;

// base64(HMAC-SHA256) of `message` keyed with `key`'s bytes, by the openssl tool.
std::string openssl_hmac_base64(const std::string& key, const std::string& message) {
  testing::TempDir dir("tillgate-nomba-sig");
  const auto message_file = dir.path() / "message";
  std::ofstream(message_file, std::ios::binary) << message;
  int status = 0;
  auto mac = run_shell("openssl dgst -sha256 -mac HMAC -macopt hexkey:" + crypto::hex_encode(key) +
                           " -binary < '" + message_file.string() + "' | base64",
                       status);
  EXPECT_EQ(status, 0) << "openssl or base64 failed";
  EXPECT_EQ(mac.size(), 44u) << mac;
  return mac;
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
  if (domain::is_final(status)) {
    r.completed_at = at_iso("2024-01-15T10:30:42.250Z");
  }
  return r;
}

NombaWebhookInput success_input() {
  auto paid = record(TransactionStatus::completed);
  paid.outcome = domain::TerminalOutcome{.status = domain::TerminalStatus::success,
                                         .authorization_code = "AUTH1",
                                         .completed_at = "2024-01-15T10:30:41.500Z"};
  return *nomba_webhook_input(paid, "Front desk", NombaAmountUnit::major, kRequestId);
}

TEST(NombaWebhook, EveryEndingAndTheReversalSendAnEvent) {
  EXPECT_EQ(nomba_event_type(TransactionStatus::completed), "payment_success");
  EXPECT_EQ(nomba_event_type(TransactionStatus::failed), "payment_failed");
  EXPECT_EQ(nomba_event_type(TransactionStatus::cancelled), "payment_failed");
  EXPECT_EQ(nomba_event_type(TransactionStatus::timeout), "payment_failed");
  EXPECT_EQ(nomba_event_type(TransactionStatus::voided), "payment_reversal");
  EXPECT_EQ(nomba_event_type(TransactionStatus::pending), std::nullopt);
  EXPECT_EQ(nomba_event_type(TransactionStatus::awaiting_reconnect), std::nullopt);
  auto reversed = record(TransactionStatus::voided);
  reversed.voided_at = at_iso("2024-01-15T10:32:00.000Z");
  const auto reversal = nomba_webhook_input(reversed, "", NombaAmountUnit::major);
  ASSERT_TRUE(reversal);
  EXPECT_EQ(reversal->event_type, "payment_reversal");
  EXPECT_EQ(reversal->response_code, "06");
  EXPECT_EQ(reversal->time, *reversed.voided_at);
  EXPECT_FALSE(nomba_webhook_input(record(TransactionStatus::pending), "", NombaAmountUnit::major));
}

TEST(NombaWebhook, SuccessPayloadIsExactlyTheSpecsShape) {
  EXPECT_EQ(nomba_webhook_payload(success_input()),
            R"({"event_type":"payment_success","requestId":")" + kRequestId +
                R"(",)"
                R"("data":{"merchant":{"userId":"mch_1","walletId":"mch_1"},)"
                R"("terminal":{"terminalId":"TERM-01","terminalLabel":"Front desk"},)"
                R"("transaction":{"type":"purchase","transactionId":"55555555",)"
                R"("merchantTxRef":"55555555","originatingFrom":"pos","responseCode":"00",)"
                R"("responseCodeMessage":"Approved","transactionAmount":1000,"fee":0,)"
                R"("currency":"NGN","time":"2024-01-15T10:30:41Z"}}})");
}

TEST(NombaWebhook, CardDetailsAppearWhenTheTerminalReportedThem) {
  auto paid = record(TransactionStatus::completed);
  paid.outcome = domain::TerminalOutcome{
      .status = domain::TerminalStatus::success,
      .completed_at = "2024-01-15T10:30:41.500Z",
      .card = domain::CardDetails{
          .masked_pan = "539983******4297", .scheme = "MASTERCARD", .rrn = "123456789012"}};
  const auto input = nomba_webhook_input(paid, "Front desk", NombaAmountUnit::major, kRequestId);
  ASSERT_TRUE(input);
  const auto body = nomba_webhook_payload(*input);
  EXPECT_NE(
      body.find(R"("time":"2024-01-15T10:30:41Z","rrn":"123456789012",)"
                R"("cardIssuer":"MASTERCARD"},"customer":{"cardPan":"539983 **** **** 4297"}})"),
      std::string::npos)
      << body;
}

TEST(NombaWebhook, FailedEndingsCarryTheirResponseCode) {
  auto declined = record(TransactionStatus::failed);
  declined.outcome = domain::TerminalOutcome{.status = domain::TerminalStatus::failed,
                                             .error_code = "51",
                                             .error_message = "Insufficient funds"};
  const auto input = nomba_webhook_input(declined, "", NombaAmountUnit::minor, kRequestId);
  ASSERT_TRUE(input);
  // No terminal completedAt: the gateway's completion time.
  EXPECT_EQ(
      nomba_webhook_payload(*input),
      R"({"event_type":"payment_failed","requestId":")" + kRequestId +
          R"(",)"
          R"("data":{"merchant":{"userId":"mch_1","walletId":"mch_1"},)"
          R"("terminal":{"terminalId":"TERM-01","terminalLabel":""},)"
          R"("transaction":{"type":"purchase","transactionId":"55555555",)"
          R"("merchantTxRef":"55555555","originatingFrom":"pos","responseCode":"51",)"
          R"("responseCodeMessage":"Insufficient funds",)"
          R"("transactionAmount":100000,"fee":0,"currency":"NGN","time":"2024-01-15T10:30:42Z"}}})");
  const auto code_of = [](TransactionStatus status) {
    return nomba_webhook_input(record(status), "", NombaAmountUnit::major)->response_code;
  };
  EXPECT_EQ(code_of(TransactionStatus::cancelled), "17");
  EXPECT_EQ(code_of(TransactionStatus::timeout), "68");
  // Without a completion time at all, the last update's.
  auto odd = record(TransactionStatus::timeout);
  odd.completed_at.reset();
  EXPECT_EQ(nomba_webhook_input(odd, "", NombaAmountUnit::major)->time, odd.updated_at);
}

TEST(NombaWebhook, ARequestIdIsAUuidWhenNotGiven) {
  const auto input =
      nomba_webhook_input(record(TransactionStatus::completed), "", NombaAmountUnit::major);
  ASSERT_TRUE(input);
  EXPECT_TRUE(domain::is_uuid_v7(input->request_id)) << input->request_id;
  EXPECT_NE(nomba_webhook_input(record(TransactionStatus::completed), "", NombaAmountUnit::major)
                ->request_id,
            input->request_id);
}

TEST(NombaWebhook, ARequestIdDerivedFromAnEventIdIsStableAndTimeOrdered) {
  const domain::Timestamp at{std::chrono::milliseconds(1'765'000'000'123)};
  const auto id = nomba_request_id_for_event("evt_abc", at);
  EXPECT_EQ(id, nomba_request_id_for_event("evt_abc", at));
  EXPECT_NE(id, nomba_request_id_for_event("evt_abd", at));
  ASSERT_EQ(id.size(), 36u);
  for (const std::size_t dash : {8u, 13u, 18u, 23u}) {
    EXPECT_EQ(id[dash], '-') << id;
  }
  EXPECT_TRUE(domain::is_uuid_v7(id)) << id;
  EXPECT_EQ(id.substr(0, 13), "019af232-b27b") << id;  // 1765000000123 ms in hex: 019af232b27b
  // A later event's id sorts after, whatever its event id.
  EXPECT_LT(id, nomba_request_id_for_event("evt_aaa", at + std::chrono::milliseconds(1)));
}

TEST(NombaWebhook, TheOutboxEventKeepsItsBodysRequestIdAsItsKey) {
  webhooks::WebhookFormats formats(
      std::make_unique<webhooks::StandardWebhookFormat>(std::vector<std::chrono::seconds>{1s}));
  formats.add(std::make_unique<NombaWebhookFormat>(std::vector<std::chrono::seconds>{1s},
                                                   NombaAmountUnit::minor));
  auto paid = record(TransactionStatus::completed);
  paid.outcome = domain::TerminalOutcome{.status = domain::TerminalStatus::success};
  const auto event = webhooks::outbox_event(formats, paid, nullptr, paid.updated_at);
  ASSERT_TRUE(event.has_value());
  const auto body = json::parse(event->format_payloads.at(domain::WebhookFormat::nomba));
  ASSERT_TRUE(body.has_value());
  const auto* request_id = body->find("requestId");
  ASSERT_NE(request_id, nullptr);
  EXPECT_EQ(event->format_keys.at(domain::WebhookFormat::nomba), request_id->as_string());
  EXPECT_EQ(event->format_keys.at(domain::WebhookFormat::nomba),
            nomba_request_id_for_event(event->event_id, event->created_at));
  EXPECT_FALSE(event->format_keys.contains(domain::WebhookFormat::standard));

  // The reversal of a voided payment is its own Nomba event, with its own key.
  const auto voided =
      webhooks::outbox_event(formats, record(TransactionStatus::voided), nullptr, paid.updated_at);
  ASSERT_TRUE(voided.has_value());
  EXPECT_EQ(voided->format_keys.at(domain::WebhookFormat::nomba),
            nomba_request_id_for_event(voided->event_id, voided->created_at));
  EXPECT_NE(voided->format_keys.at(domain::WebhookFormat::nomba),
            event->format_keys.at(domain::WebhookFormat::nomba));
}

TEST(NombaWebhook, HeadersCarryTheSignatureTwiceAndTheTimestamp) {
  const auto secret = webhooks::generate_webhook_secret();
  const auto sent_at = at_iso("2024-01-15T10:30:45.123Z");
  const auto webhook = render_nomba_webhook(success_input(), secret, sent_at);
  EXPECT_EQ(webhook.body, nomba_webhook_payload(success_input()));
  ASSERT_EQ(webhook.headers.size(), 6u);
  const auto signature = sign_nomba_webhook(secret, webhook.body, "2024-01-15T10:30:45Z");
  const webhooks::HeaderList expected{
      {"nomba-signature", signature},
      {"nomba-sig-value", signature},
      {"nomba-signature-algorithm", "HmacSHA256"},
      {"nomba-signature-version", "1.0.0"},
      {"nomba-timestamp", "2024-01-15T10:30:45Z"},
      {"content-type", "application/json"},
  };
  EXPECT_EQ(webhook.headers, expected);
  EXPECT_EQ(nomba_signed_headers(secret, webhook.body, sent_at), expected);
}

// The signature, built the way a receiver following nomba-compat.md would, and MAC'd by
// the openssl tool with the whole "whsec_..." string as the key.
TEST(NombaWebhook, SignatureAgreesWithTheOpensslCommandLine) {
  const auto secret = webhooks::generate_webhook_secret();
  const std::string timestamp = "2024-01-15T10:30:45.123Z";
  const auto body = nomba_webhook_payload(success_input());
  const std::string message = "payment_success:" + kRequestId +
                              ":mch_1:mch_1:55555555:purchase:2024-01-15T10:30:41Z:00:" + timestamp;
  EXPECT_EQ(nomba_signed_content(*json::parse(body), timestamp), message);
  EXPECT_EQ(sign_nomba_webhook(secret, body, timestamp), openssl_hmac_base64(secret, message));
}

// Nomba's published test vector (nomba-compat.md section 5): a receiver's verifier written
// from Nomba's docs accepts what this gateway signs.
TEST(NombaWebhook, NombasPublishedTestVectorVerifies) {
  const std::string secret = "HkatexKDZg7CLWy96q5sfrVHSvtoz92B";
  const std::string body =
      R"({"event_type":"payment_success","requestId":"45f2dc2d-d559-4773-bba3-2d5ec17b2e20",)"
      R"("data":{"merchant":{"userId":"b7b10e81-e57d-41d0-8fdc-f4e23a132bbf",)"
      R"("walletId":"6756ff80aafe04a795f18b38"},"transaction":{)"
      R"("transactionId":"API-VACT_TRA-B7B10-0435b274-807a-4bc7-8abe-9dbb4548fd7a",)"
      R"("type":"vact_transfer","time":"2025-09-29T10:51:44Z","responseCode":""}}})";
  const std::string timestamp = "2025-09-29T10:51:44Z";
  EXPECT_EQ(nomba_signed_content(*json::parse(body), timestamp),
            "payment_success:45f2dc2d-d559-4773-bba3-2d5ec17b2e20:"
            "b7b10e81-e57d-41d0-8fdc-f4e23a132bbf:6756ff80aafe04a795f18b38:"
            "API-VACT_TRA-B7B10-0435b274-807a-4bc7-8abe-9dbb4548fd7a:vact_transfer:"
            "2025-09-29T10:51:44Z::2025-09-29T10:51:44Z");
  EXPECT_EQ(sign_nomba_webhook(secret, body, timestamp),
            "Kt9095hQxfgmVbx6iz7G2tPhHdbdXgLlyY/mf35sptw=");
  // A null responseCode signs the same.
  std::string with_null = body;
  with_null.replace(with_null.find(R"("responseCode":"")"), 17, R"("responseCode":null)");
  EXPECT_EQ(sign_nomba_webhook(secret, with_null, timestamp),
            "Kt9095hQxfgmVbx6iz7G2tPhHdbdXgLlyY/mf35sptw=");
}

TEST(NombaWebhook, ANullResponseCodeIsSignedAsEmpty) {
  const auto secret = webhooks::generate_webhook_secret();
  const std::string timestamp = "2024-01-15T10:30:45.123Z";
  auto input = success_input();
  input.event_type = "payment_failed";
  input.response_code.reset();
  input.response_code_message.reset();
  const auto body = nomba_webhook_payload(input);
  ASSERT_NE(body.find(R"("responseCode":null,"responseCodeMessage":null)"), std::string::npos);
  const std::string message = "payment_failed:" + kRequestId +
                              ":mch_1:mch_1:55555555:purchase:2024-01-15T10:30:41Z::" + timestamp;
  EXPECT_EQ(sign_nomba_webhook(secret, body, timestamp), openssl_hmac_base64(secret, message));
}

TEST(NombaWebhook, SignedContentTreatsMissingAndNullTextAsEmpty) {
  const auto payload = json::parse(
      R"({"event_type":"payment_success","requestId":"null",)"
      R"("data":{"merchant":{"userId":"u","walletId":null},)"
      R"("transaction":{"transactionId":12345,"type":"purchase","responseCode":"00"}}})");
  ASSERT_TRUE(payload);
  // requestId "null", walletId null, time missing; a numeric id as its JSON text.
  EXPECT_EQ(nomba_signed_content(*payload, "2024-01-15T10:30:45.123Z"),
            "payment_success::u::12345:purchase::00:2024-01-15T10:30:45.123Z");
  EXPECT_EQ(nomba_signed_content(*json::parse("{}"), "null"), "::::::::");
  EXPECT_THROW((void)sign_nomba_webhook("whsec_x", "[1]", "t"), std::invalid_argument);
  EXPECT_THROW((void)sign_nomba_webhook("whsec_x", "not json", "t"), std::invalid_argument);
}

class NombaVerify : public ::testing::Test {
 protected:
  const std::string secret_ = webhooks::generate_webhook_secret();
  const domain::Timestamp sent_at_ = at_iso("2024-01-15T10:30:45.000Z");
  const std::string timestamp_ = "2024-01-15T10:30:45Z";  // nomba-timestamp: whole seconds
  const NombaWebhook webhook_ = render_nomba_webhook(success_input(), secret_, sent_at_);
  const std::string signature_ = webhook_.headers[0].second;

  std::optional<NombaVerifyFailure> verify(std::string_view body, std::string_view signature,
                                           std::string_view timestamp,
                                           domain::Timestamp now) const {
    return verify_nomba_signature(secret_, body, signature, timestamp, now);
  }
};

TEST_F(NombaVerify, AcceptsWhatWasSent) {
  EXPECT_FALSE(verify(webhook_.body, signature_, timestamp_, sent_at_));
  EXPECT_FALSE(verify(webhook_.body, webhook_.headers[1].second, timestamp_, sent_at_ + 300s));
  EXPECT_FALSE(verify(webhook_.body, signature_, timestamp_, sent_at_ - 300s));
}

TEST_F(NombaVerify, RefusesATamperedPayloadTimestampOrKey) {
  auto tampered = webhook_.body;
  tampered.replace(tampered.find("payment_success"), 15, "payment_failed_");
  EXPECT_EQ(verify(tampered, signature_, timestamp_, sent_at_),
            NombaVerifyFailure::invalid_signature);
  auto other_id = webhook_.body;
  other_id.replace(other_id.find(R"("transactionId":"55555555")"), 26,
                   R"("transactionId":"55555556")");
  EXPECT_EQ(verify(other_id, signature_, timestamp_, sent_at_),
            NombaVerifyFailure::invalid_signature);
  auto approved = success_input();
  approved.response_code = "05";
  EXPECT_EQ(verify(nomba_webhook_payload(approved), signature_, timestamp_, sent_at_),
            NombaVerifyFailure::invalid_signature);
  EXPECT_EQ(verify(webhook_.body, signature_, "2024-01-15T10:30:45.124Z", sent_at_),
            NombaVerifyFailure::invalid_signature);
  EXPECT_EQ(verify_nomba_signature(webhooks::generate_webhook_secret(), webhook_.body, signature_,
                                   timestamp_, sent_at_),
            NombaVerifyFailure::invalid_signature);
  EXPECT_EQ(verify(webhook_.body, "", timestamp_, sent_at_), NombaVerifyFailure::invalid_signature);
  EXPECT_EQ(verify(webhook_.body, signature_ + " ", timestamp_, sent_at_),
            NombaVerifyFailure::invalid_signature);
}

// Nomba's scheme signs identifiers, type, time and responseCode only: the amount, currency,
// merchantTxRef and labels are not covered. Receivers confirm those by the lookup.
TEST_F(NombaVerify, TheAmountIsNotCoveredByNombasScheme) {
  auto other_amount = success_input();
  other_amount.transaction_amount = json::Value(json::Number{"1"});
  EXPECT_FALSE(verify(nomba_webhook_payload(other_amount), signature_, timestamp_, sent_at_));
}

TEST_F(NombaVerify, RefusesStaleOrUnreadableTimestampsAndBodies) {
  EXPECT_EQ(verify(webhook_.body, signature_, timestamp_, sent_at_ + 301s),
            NombaVerifyFailure::timestamp_too_old);
  EXPECT_EQ(verify(webhook_.body, signature_, timestamp_, sent_at_ - 301s),
            NombaVerifyFailure::timestamp_too_new);
  for (const std::string bad : {"", "null", "1705314645", "2024-01-15 10:30:45Z"}) {
    EXPECT_EQ(verify(webhook_.body, signature_, bad, sent_at_),
              NombaVerifyFailure::invalid_timestamp)
        << bad;
  }
  EXPECT_EQ(verify("not json", signature_, timestamp_, sent_at_),
            NombaVerifyFailure::malformed_body);
  EXPECT_EQ(verify("[]", signature_, timestamp_, sent_at_), NombaVerifyFailure::malformed_body);
  EXPECT_EQ(to_string(NombaVerifyFailure::invalid_signature), "invalid_signature");
}

TEST(NombaRetrySchedule, NombasPublishedTableReadAsWaitsBetweenAttempts) {
  EXPECT_EQ(nomba_retry_schedule(),
            (std::vector<std::chrono::seconds>{120s, 280s, 640s, 1440s, 3200s}));
}

}  // namespace
}  // namespace tillgate::nomba
