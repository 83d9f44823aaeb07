#pragma once
// What the client commands share to report: the failure that ends a command (exit 1), the
// details of an error body, and the summary of a payment result. Standard streams only.
#include <string>
#include <string_view>

#include "json/json.hpp"

namespace tillgate::client {

inline constexpr int kExitFailure = 1;

// Prints "error: MESSAGE" on stderr and ends the command with exit code 1
// (CLI::RuntimeError).
[[noreturn]] void fail(const std::string& message);

// A string member's text, or any other value as compact JSON.
[[nodiscard]] std::string scalar_text(const json::Value& value);

// "error: <head> CODE: message (transactionId ...)" and one line per entry of `details`
// (the error body of the HTTP API, or a POS `error` frame), on stderr.
void print_error_body(std::string_view head, const json::Value& body);

// status, transactionId, authorizationCode, amount, paymentMethod, errorCode, errorMessage
// of a payment answer (HTTP) or a paymentComplete frame (POS), on stdout.
void print_payment_summary(const json::Value& body);

}  // namespace tillgate::client
