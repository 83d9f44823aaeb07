#include "terminal/codec.hpp"

#include <algorithm>
#include <array>

#include "domain/ids.hpp"
#include "json/json.hpp"

namespace tillgate::terminal {
namespace {

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

// A card number as a terminal may show it: at most the first 6 and the last 4 digits, the
// rest masked ('*', 'X', 'x'), spaces and dashes allowed as separators
// ("539983******4297", "539983 **** **** 4297"). Anything else, a full number above all,
// is refused: it must never be stored.
bool is_masked_pan(std::string_view text) {
  std::size_t leading = 0;
  std::size_t masked = 0;
  std::size_t trailing = 0;
  for (const char c : text) {
    if (c == ' ' || c == '-') {
      continue;
    }
    const bool digit = c >= '0' && c <= '9';
    if (c == '*' || c == 'X' || c == 'x') {
      if (trailing > 0) {
        return false;  // a second masked run: digits in the middle are not allowed
      }
      ++masked;
    } else if (!digit) {
      return false;
    } else if (masked == 0) {
      ++leading;
    } else {
      ++trailing;
    }
  }
  return masked > 0 && leading <= 6 && trailing <= 4 && leading + masked + trailing <= 19;
}

// terminal-protocol.md (v2): the optional `card` of payment.result. Each member is an
// optional bounded string; other members are dropped. nullopt (and `problem` set) when it
// must be refused; a null value when the frame has none.
std::optional<json::Value> decode_card(const json::Value& root, std::string& problem) {
  const auto* card = root.find("card");
  if (card == nullptr || card->is_null()) {
    return json::Value(nullptr);
  }
  if (!card->is_object()) {
    problem = "payment.result card must be an object";
    return std::nullopt;
  }
  constexpr std::array<std::pair<std::string_view, std::size_t>, 5> kMembers{
      {{"maskedPan", 32}, {"scheme", 32}, {"issuerBank", 128}, {"rrn", 32}, {"stan", 32}}};
  json::Object kept;
  for (const auto& [name, max_size] : kMembers) {
    const auto* value = card->find(name);
    if (value == nullptr || value->is_null()) {
      continue;
    }
    if (!value->is_string() || value->as_string().size() > max_size) {
      problem = "payment.result card." + std::string(name) + " must be a string of at most " +
                std::to_string(max_size) + " bytes";
      return std::nullopt;
    }
    if (name == "maskedPan" && !is_masked_pan(value->as_string())) {
      // The number itself is never quoted back, logged or stored.
      problem =
          "payment.result card.maskedPan must be masked: at most the first 6 and the last 4 "
          "digits shown; the result was not recorded";
      return std::nullopt;
    }
    kept.push_back({std::string(name), *value});
  }
  return json::Value(std::move(kept));
}

boost::system::result<InboundMessage, DecodeFailure> decode_result(const json::Value& root,
                                                                   std::string transaction_id) {
  const auto status = root.find_string("status");
  domain::TransactionEvent event;
  if (status == "SUCCESS") {
    event = domain::TransactionEvent::terminal_succeeded;
  } else if (status == "FAILED") {
    event = domain::TransactionEvent::terminal_failed;
  } else if (status == "CANCELLED") {
    event = domain::TransactionEvent::terminal_cancelled;
  } else {
    return protocol("payment.result needs status SUCCESS, FAILED or CANCELLED");
  }
  const auto completed_text = root.find_string("completedAt");
  const auto completed_at = completed_text ? domain::parse_iso8601(*completed_text) : std::nullopt;
  if (!completed_at) {
    return protocol("payment.result needs completedAt as an ISO 8601 UTC timestamp");
  }
  std::string card_problem;
  auto card = decode_card(root, card_problem);
  if (!card) {
    return protocol(std::move(card_problem));
  }
  auto text_or_null = [&](std::string_view field, std::size_t max_size) {
    const auto value = optional_text(root, field, max_size);
    return value ? json::Value(*value) : json::Value(nullptr);
  };
  json::Value response = json::object({
      {"status", json::Value(*status)},
      {"authorizationCode", text_or_null("authorizationCode", 64)},
      {"receiptData", text_or_null("receiptData", 16 * 1024)},
      {"errorCode", text_or_null("errorCode", 64)},
      {"errorMessage", text_or_null("errorMessage", 512)},
      // Re-formatted: the API shows every time as UTC with milliseconds, whatever the
      // terminal's offset or precision.
      {"completedAt", json::Value(domain::format_iso8601(*completed_at))},
  });
  if (!card->is_null()) {
    response.as_object().push_back({"card", std::move(*card)});
  }
  return InboundMessage{PaymentResult{std::move(transaction_id), event, json::serialize(response)}};
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

std::string encode_payment_request(const store::TransactionRecord& transaction) {
  auto request = json::parse(transaction.request_json);
  json::Value fields = request ? std::move(*request) : json::Value(json::Object{});
  auto field = [&](std::string_view name) {
    const auto* value = fields.find(name);
    return value ? *value : json::Value(nullptr);
  };
  return json::serialize(json::object({
      {"type", "payment.request"},
      {"transactionId", json::Value(transaction.transaction_id)},
      {"amount", field("amount")},
      {"currency", json::Value(transaction.currency)},
      {"paymentMethod", json::Value(domain::to_string(transaction.payment_method))},
      {"products", field("products")},
      {"customerInfo", field("customerInfo")},
      {"metadata", field("metadata")},
      {"deadline", json::Value(domain::format_iso8601(transaction.deadline))},
  }));
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
  return json::serialize(
      json::object({{"type", "payment.result.ack"},
                    {"transactionId", json::Value(transaction_id)},
                    {"transactionStatus", json::Value(domain::to_string(status))}}));
}

}  // namespace tillgate::terminal
