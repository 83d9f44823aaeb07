// The terminal's outcome as a typed value through the core: the codec decodes payment.result
// (with its v2 card) into domain::TerminalOutcome, and the views, the standard webhook event
// and the Nomba view and webhook read its fields, with and without a card.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "domain/terminal_outcome.hpp"
#include "domain/terminal_outcome_json.hpp"
#include "json/json.hpp"
#include "nomba/nomba_format.hpp"
#include "nomba/nomba_webhook.hpp"
#include "terminal/codec.hpp"
#include "views/transaction_view.hpp"
#include "webhooks/events.hpp"

namespace tillgate {
namespace {

using domain::CardDetails;
using domain::TerminalOutcome;
using domain::TerminalStatus;
using domain::TransactionStatus;

domain::Timestamp at_iso(std::string_view text) {
  return *domain::parse_iso8601(text);
}

// ---- the codec --------------------------------------------------------------------------

TerminalOutcome decoded(const std::string& frame) {
  auto message = terminal::decode(frame);
  EXPECT_TRUE(message) << frame;
  if (!message) {
    return TerminalOutcome{.status = TerminalStatus::failed};
  }
  return std::get<terminal::PaymentResult>(*message).outcome;
}

TEST(TypedOutcomeCodec, DecodesTheResultAndItsCard) {
  EXPECT_EQ(
      decoded(R"({"type":"payment.result","transactionId":"X-1","status":"SUCCESS",)"
              R"("authorizationCode":"A1","receiptData":"r","errorCode":null,"errorMessage":7,)"
              R"("completedAt":"2024-01-15T12:30:04.5123+02:00","card":{"stan":"000123",)"
              R"("rrn":"123456789012","issuerBank":"Access Bank","scheme":"MASTERCARD",)"
              R"("maskedPan":"539983******4297","expiry":"12/29","holder":null}})"),
      (TerminalOutcome{.status = TerminalStatus::success,
                       .authorization_code = "A1",
                       .receipt_data = "r",
                       .completed_at = "2024-01-15T10:30:04.512Z",
                       .card = CardDetails{.masked_pan = "539983******4297",
                                           .scheme = "MASTERCARD",
                                           .issuer_bank = "Access Bank",
                                           .rrn = "123456789012",
                                           .stan = "000123"}}));
  // No card, a null card, and an empty one.
  const std::string head = R"({"type":"payment.result","transactionId":"X-1","status":"FAILED",)"
                           R"("completedAt":"2024-01-15T10:30:00Z")";
  const TerminalOutcome none{.status = TerminalStatus::failed,
                             .completed_at = "2024-01-15T10:30:00.000Z"};
  EXPECT_EQ(decoded(head + "}"), none);
  EXPECT_EQ(decoded(head + R"(,"card":null})"), none);
  auto empty_card = none;
  empty_card.card = CardDetails{};
  EXPECT_EQ(decoded(head + R"(,"card":{"scheme":null}})"), empty_card);
}

TEST(TypedOutcomeCodec, RefusesACardWithAFullNumberOrOutOfBounds) {
  const std::string head = R"({"type":"payment.result","transactionId":"X-1","status":"SUCCESS",)"
                           R"("completedAt":"2024-01-15T10:30:00Z","card":)";
  const std::vector<std::string> cards{R"("539983******4297")",
                                       R"({"maskedPan":"5399831234564297"})",
                                       R"({"maskedPan":"5399 8312 3456 4297"})",
                                       R"({"scheme":1})",
                                       R"({"rrn":")" + std::string(33, '1') + R"("})",
                                       R"({"issuerBank":")" + std::string(129, 'b') + R"("})"};
  for (const std::string& card : cards) {
    const auto message = terminal::decode(head + card + "}");
    ASSERT_FALSE(message) << card;
    EXPECT_FALSE(message.error().invalid_json);
    EXPECT_EQ(message.error().message.find("5399831234564297"), std::string::npos);
  }
}

// ---- the views and the standard webhook event --------------------------------------------

store::TransactionRecord finished(TransactionStatus status,
                                  std::optional<TerminalOutcome> outcome) {
  store::TransactionRecord r;
  r.merchant_id = "mch_1";
  r.transaction_id = "55555555";
  r.device_id = "TERM-01";
  r.status = status;
  r.amount_minor = 100000;
  r.currency = "NGN";
  r.payment_method = domain::PaymentMethod::card;
  r.request_json = R"({"amount":"1000.00","currency":"NGN","metadata":{"orderId":"A-1"}})";
  r.created_at = at_iso("2024-01-15T10:30:00.000Z");
  r.updated_at = at_iso("2024-01-15T10:30:42.250Z");
  r.deadline = at_iso("2024-01-15T10:31:30.000Z");
  r.completed_at = r.updated_at;
  r.outcome = std::move(outcome);
  return r;
}

TerminalOutcome paid(std::optional<CardDetails> card) {
  return TerminalOutcome{.status = TerminalStatus::success,
                         .authorization_code = "AUTH1",
                         .receipt_data = "receipt",
                         .completed_at = "2024-01-15T10:30:41.000Z",
                         .card = std::move(card)};
}

const CardDetails kCard{.masked_pan = "539983******4297",
                        .scheme = "MASTERCARD",
                        .issuer_bank = "Access Bank",
                        .rrn = "123456789012",
                        .stan = "000123"};

constexpr std::string_view kPaidResponse =
    R"({"transactionId":"55555555","status":"SUCCESS","amount":"1000.00","currency":"NGN",)"
    R"("paymentMethod":"CARD","authorizationCode":"AUTH1","errorCode":null,"errorMessage":null,)"
    R"("receiptData":"receipt","timestamp":"2024-01-15T10:30:41.000Z",)"
    R"("metadata":{"orderId":"A-1"}})";

TEST(TypedOutcomeViews, ThePaymentResponseReadsTheOutcomesFields) {
  EXPECT_EQ(json::serialize(views::payment_response(
                finished(TransactionStatus::completed, paid(std::nullopt)))),
            kPaidResponse);
  // The card is not part of the payment response.
  EXPECT_EQ(
      json::serialize(views::payment_response(finished(TransactionStatus::completed, paid(kCard)))),
      kPaidResponse);
  // No outcome: the terminal's fields null, the time the record's.
  EXPECT_EQ(json::serialize(views::payment_response(finished(TransactionStatus::timeout, {}))),
            R"({"transactionId":"55555555","status":"TIMEOUT","amount":"1000.00",)"
            R"("currency":"NGN","paymentMethod":"CARD","authorizationCode":null,)"
            R"("errorCode":null,"errorMessage":null,"receiptData":null,)"
            R"("timestamp":"2024-01-15T10:30:42.250Z","metadata":{"orderId":"A-1"}})");
  // An outcome without completedAt: the record's time; an empty text stays "".
  EXPECT_EQ(json::serialize(views::payment_response(
                finished(TransactionStatus::failed,
                         TerminalOutcome{.status = TerminalStatus::failed, .error_code = ""}))),
            R"({"transactionId":"55555555","status":"FAILED","amount":"1000.00",)"
            R"("currency":"NGN","paymentMethod":"CARD","authorizationCode":null,)"
            R"("errorCode":"","errorMessage":null,"receiptData":null,)"
            R"("timestamp":"2024-01-15T10:30:42.250Z","metadata":{"orderId":"A-1"}})");
}

// The bodies a payment produces are written without a document model: the same bytes.
TEST(TypedOutcomeViews, ThePaymentAnswerAndNotificationWrapThePaymentResponse) {
  const auto paid_record = finished(TransactionStatus::completed, paid(kCard));
  EXPECT_EQ(views::payment_answer(paid_record, at_iso("2024-01-15T10:30:43.000Z")),
            R"({"transactionId":"55555555","status":"SUCCESS","paymentResponse":)" +
                std::string(kPaidResponse) + R"(,"timestamp":"2024-01-15T10:30:43.000Z"})");
  EXPECT_EQ(views::payment_notification(paid_record, "evt_1"),
            R"({"action":"paymentComplete","eventId":"evt_1","transactionId":"55555555",)"
            R"("terminalId":"TERM-01","status":"SUCCESS","paymentResponse":)" +
                std::string(kPaidResponse) + "}");
  auto voided = finished(TransactionStatus::voided, paid(std::nullopt));
  voided.void_reason = "SUCCESS_AFTER_TIMEOUT";
  const auto notification = views::payment_notification(voided, "evt_2");
  ASSERT_TRUE(notification);
  EXPECT_NE(notification->find(R"({"action":"paymentVoided","eventId":"evt_2",)"
                               R"("transactionId":"55555555","terminalId":"TERM-01",)"
                               R"("reason":"SUCCESS_AFTER_TIMEOUT","paymentResponse":{)"),
            std::string::npos)
      << *notification;
  EXPECT_FALSE(
      views::payment_notification(finished(TransactionStatus::pending, std::nullopt), "e"));
}

// The request's metadata is copied as the gateway stored it (its own compact JSON), and is
// an empty object when the request had none.
TEST(TypedOutcomeViews, TheMetadataIsTheStoredRequestsAsWritten) {
  auto record = finished(TransactionStatus::completed, paid(std::nullopt));
  record.request_json =
      R"({"amount":"1.00","metadata":{"note":"caf\u00e9 \"x\"","n":[1,2.50,{"k":null}]},"z":1})";
  const auto answer = views::payment_answer(record, at_iso("2024-01-15T10:30:43.000Z"));
  EXPECT_NE(answer.find(R"("metadata":{"note":"caf\u00e9 \"x\"","n":[1,2.50,{"k":null}]}})"),
            std::string::npos)
      << answer;
  record.request_json = R"({"amount":"1.00"})";
  EXPECT_NE(views::payment_answer(record, at_iso("2024-01-15T10:30:43.000Z"))
                .find(R"("metadata":{}},"timestamp")"),
            std::string::npos);
}

TEST(TypedOutcomeViews, TheTransactionsResponseAddsTheCard) {
  EXPECT_EQ(json::serialize(
                views::transaction_response(finished(TransactionStatus::completed, paid(kCard)))),
            std::string(kPaidResponse.substr(0, kPaidResponse.size() - 1)) +
                R"(,"card":{"maskedPan":"539983******4297","scheme":"MASTERCARD",)"
                R"("issuerBank":"Access Bank","rrn":"123456789012","stan":"000123"}})");
  EXPECT_EQ(json::serialize(views::transaction_response(
                finished(TransactionStatus::completed, paid(std::nullopt)))),
            kPaidResponse);
  EXPECT_EQ(
      json::serialize(views::transaction_response(
          finished(TransactionStatus::completed, paid(CardDetails{.rrn = "9"})))),
      std::string(kPaidResponse.substr(0, kPaidResponse.size() - 1)) + R"(,"card":{"rrn":"9"}})");
  // No result yet: null, and so in the transaction view.
  const auto timed_out = finished(TransactionStatus::timeout, std::nullopt);
  EXPECT_TRUE(views::transaction_response(timed_out).is_null());
  EXPECT_TRUE(views::transaction_view(timed_out).find("response")->is_null());
  const auto view = views::transaction_view(finished(TransactionStatus::completed, paid(kCard)));
  EXPECT_EQ(*view.find("response")->find("card")->find_string("maskedPan"), "539983******4297");
}

TEST(TypedOutcomeViews, TheStandardWebhookShowsTheOutcomeWithoutTheCard) {
  for (const auto& card : {std::optional<CardDetails>{}, std::optional<CardDetails>{kCard}}) {
    const auto event = webhooks::payment_event(finished(TransactionStatus::completed, paid(card)),
                                               at_iso("2024-01-15T10:30:42.250Z"));
    ASSERT_TRUE(event);
    EXPECT_NE(event->payload.find(
                  R"("data":{"transactionId":"55555555","status":"SUCCESS","amount":"1000.00",)"
                  R"("currency":"NGN","paymentMethod":"CARD","authorizationCode":"AUTH1",)"
                  R"("errorCode":null,"errorMessage":null,"receiptData":"receipt",)"
                  R"("terminalId":"TERM-01","metadata":{"orderId":"A-1"}}})"),
              std::string::npos)
        << event->payload;
  }
}

// ---- the Nomba edge -----------------------------------------------------------------------

TEST(TypedOutcomeNomba, CardDetailsComeFromTheTypedCard) {
  const auto details =
      nomba::nomba_card_details(finished(TransactionStatus::completed, paid(kCard)));
  EXPECT_EQ(details.masked_pan, "539983******4297");
  EXPECT_EQ(details.scheme, "MASTERCARD");
  EXPECT_EQ(details.rrn, "123456789012");
  EXPECT_EQ(details.stan, "000123");
  // An empty text is not a known one; no card, or no outcome, is nothing known.
  const auto blank = nomba::nomba_card_details(
      finished(TransactionStatus::completed, paid(CardDetails{.scheme = "", .rrn = "7"})));
  EXPECT_EQ(blank.masked_pan, std::nullopt);
  EXPECT_EQ(blank.scheme, std::nullopt);
  EXPECT_EQ(blank.rrn, "7");
  for (const auto& record : {finished(TransactionStatus::completed, paid(std::nullopt)),
                             finished(TransactionStatus::timeout, std::nullopt)}) {
    const auto none = nomba::nomba_card_details(record);
    EXPECT_FALSE(none.masked_pan || none.scheme || none.rrn || none.stan);
  }
}

TEST(TypedOutcomeNomba, TheViewAndWebhookReadTheOutcome) {
  const auto with_card = finished(TransactionStatus::completed, paid(kCard));
  const auto view = nomba::nomba_transaction_view(with_card, nullptr);
  EXPECT_EQ(*view.find_string("rrn"), "123456789012");
  EXPECT_EQ(*view.find_string("stan"), "000123");
  EXPECT_EQ(*view.find_string("customerBillerId"), "539983******4297");
  const auto without = nomba::nomba_transaction_view(
      finished(TransactionStatus::completed, paid(std::nullopt)), nullptr);
  EXPECT_EQ(without.find("rrn"), nullptr);
  EXPECT_EQ(without.find("customerBillerId"), nullptr);

  // The webhook's time is the terminal's completedAt; its card the typed card.
  const auto input =
      nomba::nomba_webhook_input(with_card, "Front desk", nomba::NombaAmountUnit::major, "req-1");
  ASSERT_TRUE(input);
  EXPECT_EQ(input->time, at_iso("2024-01-15T10:30:41.000Z"));
  EXPECT_EQ(input->card.masked_pan, "539983******4297");
  const auto body = nomba::nomba_webhook_payload(*input);
  EXPECT_NE(body.find(R"("cardPan":"539983 **** **** 4297")"), std::string::npos) << body;

  // A declined result's code and message come from the outcome; without one, the defaults.
  const auto declined =
      finished(TransactionStatus::failed, TerminalOutcome{.status = TerminalStatus::failed,
                                                          .error_code = "51",
                                                          .error_message = "Insufficient funds"});
  const auto code = nomba::nomba_response_code(declined);
  EXPECT_EQ(code.code, "51");
  EXPECT_EQ(code.message, "Insufficient funds");
  const auto plain = nomba::nomba_webhook_input(declined, "", nomba::NombaAmountUnit::major, "r");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->time, *declined.completed_at);  // no completedAt in the outcome
  EXPECT_FALSE(plain->card.masked_pan || plain->card.rrn);
  const auto unknown = nomba::nomba_response_code(finished(TransactionStatus::failed, {}));
  EXPECT_EQ(unknown.code, "05");
  EXPECT_EQ(unknown.message, "Declined");
}

}  // namespace
}  // namespace tillgate
