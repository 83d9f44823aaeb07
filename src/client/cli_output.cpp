#include "client/cli_output.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

namespace tillgate::client {

void fail(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  throw CLI::RuntimeError(kExitFailure);
}

std::string scalar_text(const json::Value& value) {
  if (value.is_string()) {
    return value.as_string();
  }
  return json::serialize(value);
}

void print_error_body(std::string_view head, const json::Value& body) {
  const auto code = body.find_string("code");
  const auto message = body.find_string("message");
  std::cerr << "error: " << head << (head.empty() ? "" : " ") << (code ? *code : "(no code)")
            << ": " << (message ? *message : "(no message)");
  if (const auto txn = body.find_string("transactionId")) {
    std::cerr << " (transactionId " << *txn << ")";
  }
  std::cerr << "\n";
  if (const auto* details = body.find("details"); details && details->is_array()) {
    for (const auto& detail : details->as_array()) {
      const auto field = detail.find_string("field");
      const auto problem = detail.find_string("problem");
      std::cerr << "  " << (field ? *field : "?") << ": " << (problem ? *problem : "?") << "\n";
    }
  }
}

void print_payment_summary(const json::Value& body) {
  const json::Value* payment = body.find("paymentResponse");
  const json::Value& source = (payment != nullptr && payment->is_object()) ? *payment : body;
  const auto line = [&source](std::string_view label, std::string_view key) {
    const json::Value* v = source.find(key);
    if (v != nullptr && !v->is_null()) {
      std::cout << label << scalar_text(*v) << "\n";
    }
  };
  std::cout << "status:            " << body.find_string("status").value_or("?") << "\n";
  std::cout << "transactionId:     " << body.find_string("transactionId").value_or("?") << "\n";
  line("authorizationCode: ", "authorizationCode");
  if (const auto amount = source.find_string("amount")) {
    std::cout << "amount:            " << *amount << " "
              << source.find_string("currency").value_or("") << "\n";
  }
  line("paymentMethod:     ", "paymentMethod");
  line("errorCode:         ", "errorCode");
  line("errorMessage:      ", "errorMessage");
}

}  // namespace tillgate::client
