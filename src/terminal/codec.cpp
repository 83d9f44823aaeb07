#include "terminal/codec.hpp"

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>

#include "domain/ids.hpp"
#include "json/json.hpp"
#include "json/member.hpp"
#include "json/writer.hpp"

namespace tillgate::terminal {
namespace {

// Room made at once for a payment.request frame (json::Writer): about its size with a
// request's usual products and metadata.
constexpr std::size_t kPaymentRequestBytes = 1024;

DecodeFailure protocol(std::string message) {
  return DecodeFailure{false, std::move(message)};
}

// A required, non-empty string field; its absence is a protocol error naming the field.
std::optional<std::string> required(const json::Value& root, std::string_view field) {
  const auto value = root.find_string(field);
  if (!value || value->empty() || value->size() > 256) {
    return std::nullopt;
  }
  return std::string(*value);
}

std::optional<std::string> optional_text(const json::Value& root, std::string_view field,
                                         std::size_t max_size) {
  const auto value = root.find_string(field);
  if (!value || value->size() > max_size) {
    return std::nullopt;
  }
  return std::string(*value);
}

// A frame's type as error messages quote it back to the terminal: at most 64 bytes, cut
// on a UTF-8 character boundary so the error frame stays valid UTF-8 text.
std::string quote_type(std::string_view type) {
  std::size_t length = std::min<std::size_t>(type.size(), 64);
  while (length < type.size() && length > 0 &&
         (static_cast<unsigned char>(type[length]) & 0xC0) == 0x80) {
    --length;
  }
  return std::string(type.substr(0, length));
}

// terminal-protocol.md (v2): the optional `card` of payment.result. Each member is an
// optional bounded string; other members are dropped. False (and `problem` set) when it
// must be refused; `card` stays nullopt when the frame has none.
bool decode_card(const json::Value& root, std::optional<domain::CardDetails>& card,
                 std::string& problem) {
  const auto* sent = root.find("card");
  if (sent == nullptr || sent->is_null()) {
    return true;
  }
  if (!sent->is_object()) {
    problem = "payment.result card must be an object";
    return false;
  }
  using Member = std::optional<std::string> domain::CardDetails::*;
  constexpr std::array<std::tuple<std::string_view, std::size_t, Member>, 5> kMembers{{
      {"maskedPan", 32, &domain::CardDetails::masked_pan},
      {"scheme", 32, &domain::CardDetails::scheme},
      {"issuerBank", 128, &domain::CardDetails::issuer_bank},
      {"rrn", 32, &domain::CardDetails::rrn},
      {"stan", 32, &domain::CardDetails::stan},
  }};
  domain::CardDetails kept;
  for (const auto& [name, max_size, field] : kMembers) {
    const auto* value = sent->find(name);
    if (value == nullptr || value->is_null()) {
      continue;
    }
    if (!value->is_string() || value->as_string().size() > max_size) {
      problem = "payment.result card." + std::string(name) + " must be a string of at most " +
                std::to_string(max_size) + " bytes";
      return false;
    }
    if (name == "maskedPan" && !domain::is_masked_pan(value->as_string())) {
      // The number itself is never quoted back, logged or stored.
      problem =
          "payment.result card.maskedPan must be masked: at most the first 6 and the last 4 "
          "digits shown; the result was not recorded";
      return false;
    }
    kept.*field = value->as_string();
  }
  card = std::move(kept);
  return true;
}

domain::TransactionEvent event_of(domain::TerminalStatus status) {
  switch (status) {
    case domain::TerminalStatus::success:
      return domain::TransactionEvent::terminal_succeeded;
    case domain::TerminalStatus::failed:
      return domain::TransactionEvent::terminal_failed;
    case domain::TerminalStatus::cancelled:
      break;
  }
  return domain::TransactionEvent::terminal_cancelled;
}

boost::system::result<InboundMessage, DecodeFailure> decode_result(const json::Value& root,
                                                                   std::string transaction_id) {
  const auto status_text = root.find_string("status");
  const auto status = status_text ? domain::parse_terminal_status(*status_text) : std::nullopt;
  if (!status) {
    return protocol("payment.result needs status SUCCESS, FAILED or CANCELLED");
  }
  const auto completed_text = root.find_string("completedAt");
  const auto completed_at = completed_text ? domain::parse_iso8601(*completed_text) : std::nullopt;
  if (!completed_at) {
    return protocol("payment.result needs completedAt as an ISO 8601 UTC timestamp");
  }
  std::optional<domain::CardDetails> card;
  std::string card_problem;
  if (!decode_card(root, card, card_problem)) {
    return protocol(std::move(card_problem));
  }
  domain::TerminalOutcome outcome{
      .status = *status,
      .authorization_code = optional_text(root, "authorizationCode", 64),
      .receipt_data = optional_text(root, "receiptData", 16 * 1024),
      .error_code = optional_text(root, "errorCode", 64),
      .error_message = optional_text(root, "errorMessage", 512),
      // Re-formatted: the API shows every time as UTC with milliseconds, whatever the
      // terminal's offset or precision.
      .completed_at = domain::format_iso8601(*completed_at),
      .card = std::move(card),
  };
  return InboundMessage{
      PaymentResult{std::move(transaction_id), event_of(*status), std::move(outcome)}};
}

}  // namespace

boost::system::result<InboundMessage, DecodeFailure> decode(std::string_view frame,
                                                            std::size_t max_depth) {
  auto document = json::parse(frame, json::ParseLimits{max_depth});
  if (!document) {
    return DecodeFailure{true, "frame is not valid JSON: " + document.error().message};
  }
  if (!document->is_object()) {
    return protocol("a frame must be a JSON object with a type");
  }
  const auto type = document->find_string("type");
  if (!type) {
    return protocol("a frame must have a string type");
  }
  if (*type == "hello") {
    auto device_id = required(*document, "deviceId");
    auto secret = required(*document, "deviceSecret");
    if (!device_id || !secret) {
      return protocol("hello needs deviceId and deviceSecret");
    }
    return InboundMessage{Hello{std::move(*device_id), domain::Secret(std::move(*secret)),
                                optional_text(*document, "software", 256)}};
  }
  const std::string quoted_type = quote_type(*type);
  auto transaction_id = required(*document, "transactionId");
  if (!transaction_id || !domain::is_valid_transaction_id(*transaction_id)) {
    return protocol(quoted_type + " needs a valid transactionId");
  }
  if (*type == "payment.ack") {
    return InboundMessage{PaymentAck{std::move(*transaction_id)}};
  }
  if (*type == "payment.result") {
    return decode_result(*document, std::move(*transaction_id));
  }
  if (*type == "payment.voided") {
    return InboundMessage{PaymentVoided{std::move(*transaction_id)}};
  }
  return protocol("unknown frame type '" + quoted_type + "'");
}

std::string encode_hello_ok(std::string_view connection_id, int heartbeat_seconds,
                            domain::Timestamp server_time) {
  return json::serialize(
      json::object({{"type", "hello.ok"},
                    {"connectionId", json::Value(connection_id)},
                    {"heartbeatSeconds", json::Value(heartbeat_seconds)},
                    {"serverTime", json::Value(domain::format_iso8601(server_time))}}));
}

std::string encode_error(std::string_view code, std::string_view message) {
  return json::serialize(json::object(
      {{"type", "error"}, {"code", json::Value(code)}, {"message", json::Value(message)}}));
}

// The request's own members (amount, products, customerInfo, metadata) are copied as the
// gateway stored them (compact JSON it wrote), not parsed and written again.
std::string encode_payment_request(const store::TransactionRecord& transaction) {
  std::string frame;
  json::Writer out(frame, kPaymentRequestBytes);
  const auto copy = [&out, &request = transaction.request_json](json::Key name) {
    const auto member = json::member_text(request, name.name());
    out.key(name).raw(member ? *member : std::string_view("null"));
  };
  out.begin_object();
  out.key("type").string("payment.request");
  out.key("transactionId").string(transaction.transaction_id);
  copy("amount");
  out.key("currency").string(transaction.currency);
  out.key("paymentMethod").string(domain::to_string(transaction.payment_method));
  copy("products");
  copy("customerInfo");
  copy("metadata");
  out.key("deadline").string(domain::format_iso8601(transaction.deadline));
  out.end_object();
  return frame;
}

std::string encode_payment_cancel(std::string_view transaction_id, std::string_view reason) {
  return json::serialize(json::object({{"type", "payment.cancel"},
                                       {"transactionId", json::Value(transaction_id)},
                                       {"reason", json::Value(reason)}}));
}

std::string encode_payment_void(std::string_view transaction_id, std::string_view reason) {
  return json::serialize(json::object({{"type", "payment.void"},
                                       {"transactionId", json::Value(transaction_id)},
                                       {"reason", json::Value(reason)}}));
}

std::string encode_result_ack(std::string_view transaction_id, domain::TransactionStatus status) {
  std::string frame;
  json::Writer out(frame);
  out.begin_object();
  out.key("type").string("payment.result.ack");
  out.key("transactionId").string(transaction_id);
  out.key("transactionStatus").string(domain::to_string(status));
  out.end_object();
  return frame;
}

}  // namespace tillgate::terminal
