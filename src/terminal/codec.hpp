#pragma once
// Terminal frames (terminal-protocol.md): decoding into typed messages, and encoding.
#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "domain/secret.hpp"
#include "domain/terminal_outcome.hpp"
#include "domain/time.hpp"
#include "domain/transaction.hpp"
#include "store/store.hpp"

namespace tillgate::terminal {

struct Hello {
  std::string device_id;
  domain::Secret device_secret;
  std::optional<std::string> software;
};
struct PaymentAck {
  std::string transaction_id;
};
struct PaymentResult {
  std::string transaction_id;
  domain::TransactionEvent event;   // from status SUCCESS | FAILED | CANCELLED
  domain::TerminalOutcome outcome;  // the result as recorded (status, codes, receipt, time, card)
};
struct PaymentVoided {
  std::string transaction_id;
};
using InboundMessage = std::variant<Hello, PaymentAck, PaymentResult, PaymentVoided>;

struct DecodeFailure {
  bool invalid_json = false;  // close 1007; otherwise answer PROTOCOL_ERROR and carry on
  std::string message;
};

[[nodiscard]] boost::system::result<InboundMessage, DecodeFailure> decode(
    std::string_view frame, std::size_t max_depth = 16);

[[nodiscard]] std::string encode_hello_ok(std::string_view connection_id, int heartbeat_seconds,
                                          domain::Timestamp server_time);
[[nodiscard]] std::string encode_error(std::string_view code, std::string_view message);
// Built from the stored canonical request, so a re-sent request is identical to the first.
[[nodiscard]] std::string encode_payment_request(const store::TransactionRecord& transaction);
[[nodiscard]] std::string encode_payment_cancel(std::string_view transaction_id,
                                                std::string_view reason);
[[nodiscard]] std::string encode_payment_void(std::string_view transaction_id,
                                              std::string_view reason);
[[nodiscard]] std::string encode_result_ack(std::string_view transaction_id,
                                            domain::TransactionStatus status);

}  // namespace tillgate::terminal
