// terminal::decode, the inbound frame decoder of the terminal WebSocket
// (terminal-protocol.md). Input: the frame text. Properties beyond "no crash, no sanitizer
// report":
//  - invalid JSON (close 1007) is exactly what json::parse refuses at depth 16; anything else
//    refused is a protocol error with a message, which the gateway echoes to the terminal:
//    it carries at most 64 bytes of the frame's type, and its error frame is valid JSON
//    (so valid UTF-8: the type is never cut inside a character);
//  - hello: deviceId and deviceSecret non-empty, at most 256 bytes, as sent; software as
//    sent or absent;
//  - payment.ack/result/voided: a valid transactionId, as sent;
//  - payment.result: the event matches the status; the recorded result is a JSON object with
//    exactly status, authorizationCode, receiptData, errorCode, errorMessage, completedAt
//    (and card when sent, its maskedPan masked), each optional text as sent within its
//    bound (else null), and completedAt re-formatted as UTC milliseconds, the same instant
//    as sent; the outcome's text, as the store writes it, reads back as the same outcome.
#include <cstddef>
#include <cstdint>
#include <string>

#include "domain/ids.hpp"
#include "domain/terminal_outcome_json.hpp"
#include "fuzz_support.hpp"
#include "json/json.hpp"
#include "terminal/codec.hpp"

namespace {

using namespace tillgate;

void check_text(const json::Value& recorded, const json::Value& sent, std::string_view field,
                std::size_t max_size) {
  const auto* value = recorded.find(field);
  FUZZ_CHECK(value != nullptr);
  const auto original = sent.find_string(field);
  if (original && original->size() <= max_size) {
    FUZZ_CHECK(value->is_string() && value->as_string() == *original);
  } else {
    FUZZ_CHECK(value->is_null());
  }
}

void check_result(const terminal::PaymentResult& result, const json::Value& sent) {
  const auto status = sent.find_string("status");
  FUZZ_CHECK(status.has_value());
  using domain::TransactionEvent;
  FUZZ_CHECK((*status == "SUCCESS" && result.event == TransactionEvent::terminal_succeeded) ||
             (*status == "FAILED" && result.event == TransactionEvent::terminal_failed) ||
             (*status == "CANCELLED" && result.event == TransactionEvent::terminal_cancelled));
  // What the store writes for the outcome, and reads back the same.
  const std::string text = json::serialize(domain::to_json(result.outcome));
  FUZZ_CHECK(domain::terminal_outcome_from_json(text) == result.outcome);
  const auto recorded = json::parse(text);
  FUZZ_CHECK(recorded.has_value() && recorded->is_object());
  FUZZ_CHECK(recorded->as_object().size() == (result.outcome.card ? 7U : 6U));
  if (result.outcome.card && result.outcome.card->masked_pan) {
    FUZZ_CHECK(domain::is_masked_pan(*result.outcome.card->masked_pan));
  }
  FUZZ_CHECK(recorded->find_string("status") == status);
  check_text(*recorded, sent, "authorizationCode", 64);
  check_text(*recorded, sent, "receiptData", 16 * 1024);
  check_text(*recorded, sent, "errorCode", 64);
  check_text(*recorded, sent, "errorMessage", 512);
  const auto completed = recorded->find_string("completedAt");
  FUZZ_CHECK(completed.has_value());
  const auto at = domain::parse_iso8601(*completed);
  FUZZ_CHECK(at.has_value() && domain::format_iso8601(*at) == *completed);
  FUZZ_CHECK(at == domain::parse_iso8601(*sent.find_string("completedAt")));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto frame = fuzz::as_text(data, size);
  const auto decoded = terminal::decode(frame);
  const auto document = json::parse(frame, json::ParseLimits{16});
  if (!decoded) {
    const auto& failure = decoded.error();
    FUZZ_CHECK(failure.invalid_json == !document.has_value());
    FUZZ_CHECK(!failure.message.empty());
    // The message goes back to the terminal in an error frame, which must be valid JSON
    // (and so valid UTF-8) whatever the frame held.
    FUZZ_CHECK(json::parse(terminal::encode_error("PROTOCOL_ERROR", failure.message)));
    if (document && document->is_object()) {
      if (const auto type = document->find_string("type")) {
        // The message quotes at most 64 bytes of the type, with its fixed words around it.
        FUZZ_CHECK(failure.message.size() <= 64 + 64);
      }
    }
    return 0;
  }
  FUZZ_CHECK(document.has_value() && document->is_object());
  const auto type = document->find_string("type");
  FUZZ_CHECK(type.has_value());
  const auto& message = *decoded;
  if (const auto* hello = std::get_if<terminal::Hello>(&message)) {
    FUZZ_CHECK(*type == "hello");
    FUZZ_CHECK(!hello->device_id.empty() && hello->device_id.size() <= 256);
    FUZZ_CHECK(!hello->device_secret.empty() && hello->device_secret.reveal().size() <= 256);
    FUZZ_CHECK(document->find_string("deviceId") == hello->device_id);
    FUZZ_CHECK(document->find_string("deviceSecret") == hello->device_secret.reveal());
    if (hello->software) {
      FUZZ_CHECK(document->find_string("software") == *hello->software);
    }
    return 0;
  }
  std::string transaction_id;
  if (const auto* ack = std::get_if<terminal::PaymentAck>(&message)) {
    FUZZ_CHECK(*type == "payment.ack");
    transaction_id = ack->transaction_id;
  } else if (const auto* voided = std::get_if<terminal::PaymentVoided>(&message)) {
    FUZZ_CHECK(*type == "payment.voided");
    transaction_id = voided->transaction_id;
  } else {
    const auto& result = std::get<terminal::PaymentResult>(message);
    FUZZ_CHECK(*type == "payment.result");
    transaction_id = result.transaction_id;
    check_result(result, *document);
  }
  FUZZ_CHECK(domain::is_valid_transaction_id(transaction_id));
  FUZZ_CHECK(document->find_string("transactionId") == transaction_id);
  return 0;
}
