// Pure service-layer logic: merchant signing and replay refusal, terminal frame decoding,
// and configuration parsing.
#include <gtest/gtest.h>

#include <chrono>

#include "api/merchant_auth.hpp"
#include "app/config.hpp"
#include "crypto/crypto.hpp"
#include "domain/terminal_outcome_json.hpp"
#include "json/json.hpp"
#include "terminal/codec.hpp"

namespace tillgate {
namespace {

using namespace std::chrono_literals;

domain::Timestamp at(std::string_view iso) {
  return *domain::parse_iso8601(iso);
}

net::HttpRequest signed_request(std::string_view secret, std::string_view timestamp) {
  net::HttpRequest request;
  request.method = "POST";
  request.target = "/v1/terminals/T1/payments?x=1";
  request.body = R"({"amount":"1.00"})";
  const auto signature = crypto::base64_encode(crypto::hmac_sha256(
      secret, api::string_to_sign(request.method, request.target, timestamp, request.body)));
  request.headers = {
      {"x-api-key", "tgk_1"}, {"x-timestamp", std::string(timestamp)}, {"x-signature", signature}};
  return request;
}

TEST(MerchantAuth, StringToSignHashesTheBody) {
  EXPECT_EQ(api::string_to_sign("GET", "/v1/terminals", "2024-01-15T10:30:00.000Z", ""),
            "GET\n/v1/terminals\n2024-01-15T10:30:00.000Z\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(MerchantAuth, SignatureMatchesOnlyTheSignedRequest) {
  const auto request = signed_request("tgs_secret", "2024-01-15T10:30:00.000Z");
  api::SignedHeaders headers;
  ASSERT_FALSE(api::read_signed_headers(request, at("2024-01-15T10:31:00Z"), 300s, headers));
  EXPECT_TRUE(api::signature_matches(request, headers, "tgs_secret"));
  EXPECT_FALSE(api::signature_matches(request, headers, "tgs_other"));
  auto tampered = request;
  tampered.body = R"({"amount":"9.00"})";
  EXPECT_FALSE(api::signature_matches(tampered, headers, "tgs_secret"));
  tampered = request;
  tampered.target = "/v1/terminals/T2/payments?x=1";
  EXPECT_FALSE(api::signature_matches(tampered, headers, "tgs_secret"));
}

TEST(MerchantAuth, HeadersAndWindow) {
  api::SignedHeaders headers;
  auto request = signed_request("s", "2024-01-15T10:30:00Z");
  const auto now = at("2024-01-15T10:30:00Z");
  EXPECT_FALSE(api::read_signed_headers(request, now + 300s, 300s, headers));
  EXPECT_EQ(api::read_signed_headers(request, now + 301s, 300s, headers),
            api::AuthFailure::timestamp_expired);
  EXPECT_EQ(api::read_signed_headers(request, now - 301s, 300s, headers),
            api::AuthFailure::timestamp_expired);
  request.headers[1].second = "yesterday";
  EXPECT_EQ(api::read_signed_headers(request, now, 300s, headers),
            api::AuthFailure::timestamp_expired);
  request.headers.pop_back();  // no x-signature
  EXPECT_EQ(api::read_signed_headers(request, now, 300s, headers), api::AuthFailure::unauthorized);
}

TEST(ReplayCache, RefusesASecondUseUntilTheWindowHasPassed) {
  api::ReplayCache cache(10);
  api::SignedHeaders headers{"tgk_1", "t", "c2ln", at("2024-01-15T10:30:00Z")};
  const auto now = at("2024-01-15T10:30:00Z");
  EXPECT_FALSE(cache.remember(headers, now, 300s));
  EXPECT_EQ(cache.remember(headers, now + 10s, 300s), api::AuthFailure::replayed_request);
  // Once the timestamp is out of the window the entry is forgotten (the window check
  // refuses the request before the cache would be asked).
  EXPECT_FALSE(cache.remember(headers, now + 302s, 300s));
}

TEST(ReplayCache, FullOfLiveEntriesRefusesInsteadOfForgetting) {
  api::ReplayCache cache(2);
  const auto now = at("2024-01-15T10:30:00Z");
  EXPECT_FALSE(cache.remember({"k", "t", "a", now}, now, 300s));
  EXPECT_FALSE(cache.remember({"k", "t", "b", now}, now, 300s));
  EXPECT_EQ(cache.remember({"k", "t", "c", now}, now, 300s), api::AuthFailure::replay_cache_full);
  EXPECT_EQ(cache.remember({"k", "t", "a", now}, now, 300s), api::AuthFailure::replayed_request);
}

TEST(TerminalCodec, DecodesEachInboundType) {
  auto hello = terminal::decode(R"({"type":"hello","deviceId":"T1","deviceSecret":"s"})");
  ASSERT_TRUE(hello);
  EXPECT_EQ(std::get<terminal::Hello>(*hello).device_id, "T1");
  auto result = terminal::decode(
      R"({"type":"payment.result","transactionId":"X-1","status":"FAILED","errorCode":"DECLINED",)"
      R"("completedAt":"2024-01-15T10:30:00.000Z"})");
  ASSERT_TRUE(result);
  const auto& decoded = std::get<terminal::PaymentResult>(*result);
  EXPECT_EQ(decoded.event, domain::TransactionEvent::terminal_failed);
  EXPECT_NE(json::serialize(domain::to_json(decoded.outcome)).find(R"("errorCode":"DECLINED")"),
            std::string::npos);
  EXPECT_TRUE(terminal::decode(R"({"type":"payment.ack","transactionId":"X-1"})"));
  EXPECT_TRUE(terminal::decode(R"({"type":"payment.voided","transactionId":"X-1"})"));
}

TEST(TerminalCodec, ResultTimeIsRecordedAsUtcWithMilliseconds) {
  for (const char* sent :
       {"2024-01-15T10:30:00Z", "2024-01-15T12:30:00+02:00", "2024-01-15T10:30:00.000Z"}) {
    auto result = terminal::decode(
        std::string(R"({"type":"payment.result","transactionId":"X","status":"SUCCESS",)") +
        R"("completedAt":")" + sent + R"("})");
    ASSERT_TRUE(result) << sent;
    const auto recorded =
        json::serialize(domain::to_json(std::get<terminal::PaymentResult>(*result).outcome));
    EXPECT_NE(recorded.find(R"("completedAt":"2024-01-15T10:30:00.000Z")"), std::string::npos)
        << sent << ": " << recorded;
  }
}

TEST(TerminalCodec, InvalidJsonClosesOtherProblemsAreProtocolErrors) {
  auto broken = terminal::decode("{not json");
  ASSERT_FALSE(broken);
  EXPECT_TRUE(broken.error().invalid_json);
  for (
      const char* frame :
      {R"([1,2])", R"({"type":42})", R"({"type":"nope"})", R"({"type":"hello","deviceId":"T1"})",
       R"({"type":"payment.ack","transactionId":"has space"})",
       R"({"type":"payment.result","transactionId":"X","status":"MAYBE","completedAt":"2024-01-15T10:30:00Z"})",
       R"({"type":"payment.result","transactionId":"X","status":"SUCCESS"})"}) {
    SCOPED_TRACE(frame);
    auto decoded = terminal::decode(frame);
    ASSERT_FALSE(decoded);
    EXPECT_FALSE(decoded.error().invalid_json);
    EXPECT_FALSE(decoded.error().message.empty());
  }
}

// Found by fuzz/terminal_frame_fuzzer: a frame with a long type and no valid transactionId
// had its whole type (up to the 64 KiB frame) quoted back in the PROTOCOL_ERROR message;
// only the unknown-type message was bounded. Both now quote at most 64 bytes.
TEST(TerminalCodec, ProtocolErrorsQuoteAtMost64BytesOfTheType) {
  const std::string type(10000, 'x');
  for (const std::string& frame :
       {R"({"type":")" + type + R"("})", R"({"type":")" + type + R"(","transactionId":"X-1"})"}) {
    auto decoded = terminal::decode(frame);
    ASSERT_FALSE(decoded);
    EXPECT_FALSE(decoded.error().invalid_json);
    EXPECT_NE(decoded.error().message.find(type.substr(0, 64)), std::string::npos);
    EXPECT_LE(decoded.error().message.size(), 64U + 40U) << decoded.error().message;
  }
  // Cut on a character boundary: 63 ASCII bytes, then a 2-byte character across byte 64.
  const std::string accented = std::string(63, 'x') + "\u00e9" + std::string(100, 'y');
  auto decoded = terminal::decode(R"({"type":")" + accented + R"("})");
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().message, std::string(63, 'x') + " needs a valid transactionId");
  EXPECT_TRUE(json::parse(terminal::encode_error("PROTOCOL_ERROR", decoded.error().message)));
}

TEST(TerminalCodec, ResultAckCarriesTheRecordedStatus) {
  EXPECT_EQ(
      terminal::encode_result_ack("X-1", domain::TransactionStatus::completed),
      R"({"type":"payment.result.ack","transactionId":"X-1","transactionStatus":"COMPLETED"})");
}

// The request's members go to the terminal as the gateway stored them; one the request did
// not have is null.
TEST(TerminalCodec, PaymentRequestCarriesTheStoredRequestsMembers) {
  store::TransactionRecord transaction;
  transaction.transaction_id = "TXN-1";
  transaction.currency = "NGN";
  transaction.payment_method = domain::PaymentMethod::card;
  transaction.deadline = domain::Timestamp{std::chrono::milliseconds{1'705'314'690'000}};
  transaction.request_json =
      R"({"amount":"12.50","currency":"NGN","products":[{"name":"caf\u00e9 \"x\"","qty":2}],)"
      R"("metadata":{"k":[1,null]}})";
  const std::string expected =
      R"({"type":"payment.request","transactionId":"TXN-1","amount":"12.50","currency":"NGN",)"
      R"("paymentMethod":"CARD","products":[{"name":"caf\u00e9 \"x\"","qty":2}],)"
      R"("customerInfo":null,"metadata":{"k":[1,null]},"deadline":"2024-01-15T10:31:30.000Z"})";
  EXPECT_EQ(terminal::encode_payment_request(transaction), expected);
  EXPECT_TRUE(json::parse(expected));
}

TEST(Config, EnvironmentOverridesDefaultsAndBadValuesNameTheSetting) {
  app::Config config;
  app::apply_environment(config, {{"TILLGATE_LISTEN", "[::1]:0"},
                                  {"TILLGATE_PAYMENT_TIMEOUT_S", "5"},
                                  {"TILLGATE_MAX_BODY_BYTES", "1024"}});
  EXPECT_EQ(config.listen_host, "::1");
  EXPECT_EQ(config.listen_port, 0);
  EXPECT_EQ(config.payment_timeout_s, 5);
  EXPECT_EQ(config.limits.max_body_bytes, 1024U);
  try {
    app::apply_environment(config, {{"TILLGATE_PAYMENT_TIMEOUT_S", "soon"}});
    FAIL() << "a non-integer timeout was accepted";
  } catch (const app::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("TILLGATE_PAYMENT_TIMEOUT_S"), std::string::npos);
  }
  EXPECT_THROW(app::apply_environment(config, {{"TILLGATE_LISTEN", "nocolon"}}), app::ConfigError);
  EXPECT_THROW(app::apply_environment(config, {{"TILLGATE_NOMBA_AMOUNT_UNIT", "cents"}}),
               app::ConfigError);
}

}  // namespace
}  // namespace tillgate
