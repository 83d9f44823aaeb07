// Micro-benchmarks (Google Benchmark) of the functions every payment runs through: the
// terminal frames' JSON decode and encode, the merchant request's HMAC check, the payment
// request parser, the payment answer and outbox event bodies, and one state machine step. Figures
// and how to read them: docs/performance.md. Each benchmark checks its own result, so the smoke run
// in the test command (`micro_benchmarks --benchmark_min_time=0.0001`) fails when a hot function
// stops doing its job, not only when it does it slowly.
//
//   cmake --build --preset release --target micro_benchmarks
//   build/release/micro_benchmarks [--benchmark_filter=Decode]
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

#include "api/merchant_auth.hpp"
#include "crypto/crypto.hpp"
#include "domain/transaction.hpp"
#include "json/json.hpp"
#include "store/store.hpp"
#include "terminal/codec.hpp"
#include "views/payment_request_parser.hpp"
#include "views/transaction_view.hpp"
#include "webhooks/events.hpp"

namespace {

using namespace tillgate;

// Google Benchmark reports a benchmark's error but still exits 0: the smoke run must fail.
int failures = 0;

void fail(benchmark::State& state, const char* what) {
  ++failures;
  state.SkipWithError(what);
}

// A terminal's result with a card, as docs/terminal-protocol.md shows it.
constexpr std::string_view kPaymentResult =
    R"({"type":"payment.result","transactionId":"TXN-3","status":"SUCCESS",)"
    R"("authorizationCode":"AUTH654321","receiptData":"VISA ****4242\nAPPROVED",)"
    R"("completedAt":"2024-01-15T10:32:00.000Z","card":{"maskedPan":"539983******4297",)"
    R"("scheme":"MASTERCARD","rrn":"401512345678","stan":"123456"}})";

// A merchant's push (POST /v1/terminals/{terminalId}/payments), as Modulus's own reference
// writes it (docs/api.md).
constexpr std::string_view kPaymentRequest =
    R"({"transactionId":"TXN-20240115-001","amount":"99.99","currency":"USD",)"
    R"("paymentMethod":"CARD","products":[{"id":"PROD-001","name":"Widget","price":"99.99",)"
    R"("quantity":1,"category":"tools","sku":"W-1"}],"customerInfo":{"customerId":"CUST-123",)"
    R"("email":"customer@example.com"},"metadata":{"orderId":"ORD-12345","items":2,"gift":true,)"
    R"("tags":["spring"]}})";

store::TransactionRecord pending_transaction() {
  store::TransactionRecord transaction;
  transaction.merchant_id = "mer_0123456789";
  transaction.transaction_id = "TXN-20240115-001";
  transaction.device_id = "till-1";
  transaction.amount_minor = 9999;
  transaction.currency = "USD";
  transaction.request_json = std::string(kPaymentRequest);
  transaction.created_at = domain::Timestamp{std::chrono::milliseconds{1'705'314'600'000}};
  transaction.updated_at = transaction.created_at;
  transaction.deadline = transaction.created_at + std::chrono::seconds{90};
  return transaction;
}

void DecodePaymentResult(benchmark::State& state) {
  for (auto _ : state) {
    auto message = terminal::decode(kPaymentResult);
    if (!message || !std::holds_alternative<terminal::PaymentResult>(*message)) {
      fail(state, "payment.result did not decode");
      break;
    }
    benchmark::DoNotOptimize(message);
  }
}
BENCHMARK(DecodePaymentResult);

void EncodePaymentRequest(benchmark::State& state) {
  const auto transaction = pending_transaction();
  for (auto _ : state) {
    std::string frame = terminal::encode_payment_request(transaction);
    if (frame.find("payment.request") == std::string::npos) {
      fail(state, "payment.request frame without its type");
      break;
    }
    benchmark::DoNotOptimize(frame);
  }
}
BENCHMARK(EncodePaymentRequest);

void ParsePaymentRequest(benchmark::State& state) {
  views::RequestLimits limits;
  limits.max_json_depth = 16;
  for (auto _ : state) {
    auto request = views::parse_payment_request(kPaymentRequest, limits);
    if (!request) {
      fail(state, "the payment request did not parse");
      break;
    }
    benchmark::DoNotOptimize(request);
  }
}
BENCHMARK(ParsePaymentRequest);

// The merchant's 200 answer of a finished payment, written straight into its text.
void RenderPaymentAnswer(benchmark::State& state) {
  const auto transaction = pending_transaction();
  const auto now = transaction.created_at + std::chrono::seconds{30};
  for (auto _ : state) {
    std::string body = views::payment_answer(transaction, now);
    if (body.find("TXN-20240115-001") == std::string::npos) {
      fail(state, "the answer lost its transactionId");
      break;
    }
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(RenderPaymentAnswer);

// A final change's outbox event: the standard webhook body and the POS notification.
void RenderPaymentEvent(benchmark::State& state) {
  auto transaction = pending_transaction();
  transaction.status = domain::TransactionStatus::completed;
  const auto now = transaction.created_at + std::chrono::seconds{30};
  for (auto _ : state) {
    auto event = webhooks::payment_event(transaction, now);
    if (!event || event->payload.find("TXN-20240115-001") == std::string::npos ||
        !event->notification) {
      fail(state, "the event lost its body");
      break;
    }
    benchmark::DoNotOptimize(event);
  }
}
BENCHMARK(RenderPaymentEvent);

// The merchant request's signature: the string to sign (with the body's SHA-256), its
// HMAC and the constant-time comparison, for a body of the usual size.
void VerifyMerchantSignature(benchmark::State& state) {
  const std::string secret = "sk_test_0123456789abcdef0123456789abcdef";
  const std::string timestamp = "2024-01-15T10:30:00Z";
  const std::string signed_text =
      api::string_to_sign("POST", "/v1/payments", timestamp, kPaymentRequest);
  const std::string signature = crypto::base64_encode(crypto::hmac_sha256(secret, signed_text));
  for (auto _ : state) {
    const std::string text =
        api::string_to_sign("POST", "/v1/payments", timestamp, kPaymentRequest);
    if (!api::signature_matches(text, signature, secret)) {
      fail(state, "a good signature did not match");
      break;
    }
  }
}
BENCHMARK(VerifyMerchantSignature);

void StateMachineStep(benchmark::State& state) {
  auto current = domain::TransactionStatus::pending;
  for (auto _ : state) {
    benchmark::DoNotOptimize(current);
    const auto transition = domain::decide(current, domain::TransactionEvent::terminal_succeeded);
    benchmark::DoNotOptimize(transition);
    if (transition.next != domain::TransactionStatus::completed) {
      fail(state, "PENDING + SUCCESS did not make COMPLETED");
      break;
    }
  }
}
BENCHMARK(StateMachineStep);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 2;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return failures == 0 ? 0 : 1;
}
