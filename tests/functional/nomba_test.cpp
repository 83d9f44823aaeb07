// nomba-compat.md against the real binary: a Nomba "Push Payment to Terminal" integration
// (token, push, webhook, lookup) runs with only its base URL and credentials changed.
// Tokens that are expired, for another account, tampered with or refreshed away are
// refused in Nomba's envelope, and every error of the push and the lookup keeps the main
// API's status with Nomba's code. Webhook signatures are checked with the openssl command
// line over a signing string this test builds itself from the received body.
#include <gtest/gtest.h>

#include <ctime>
#include <regex>
#include <set>
#include <thread>

#include "openapi_check.hpp"
#include "webhook_test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

// nomba-compat.md v2: every time the Nomba edge shows is RFC 3339 UTC in whole seconds.
bool is_whole_second_utc(std::string_view text) {
  static const std::regex kPattern(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)");
  return std::regex_match(text.begin(), text.end(), kPattern);
}

::testing::AssertionResult IsWholeSecondUtc(const json::Value* value) {
  if (value == nullptr || !value->is_string()) {
    return ::testing::AssertionFailure() << "not a string";
  }
  if (!is_whole_second_utc(value->as_string())) {
    return ::testing::AssertionFailure() << value->as_string() << " is not whole-second UTC";
  }
  return ::testing::AssertionSuccess();
}

struct NombaTokens {
  std::string access_token;
  std::string refresh_token;
  json::Value data;
};

// A Nomba webhook as a receiver got it.
struct NombaDelivery {
  json::Value payload;
  ReceivedRequest request;
};

// The field at a dotted `path` as the signature string shows it: strings as they are, the
// text "null" and missing values or JSON null as empty, numbers as their JSON text.
std::string signed_field(const json::Value& payload, std::initializer_list<std::string_view> path) {
  const json::Value* value = &payload;
  for (const auto key : path) {
    value = value->find(key);
    if (value == nullptr) {
      return {};
    }
  }
  if (value->is_string()) {
    return value->as_string() == "null" ? std::string() : value->as_string();
  }
  return value->is_number() ? value->as_number().text : std::string();
}

// nomba-compat.md: base64(hmac_sha256(secret, event_type:requestId:userId:walletId:
// transactionId:type:time:responseCode:nomba-timestamp)), computed by openssl.
std::string openssl_nomba_signature(const std::string& secret, const json::Value& payload,
                                    const std::string& nomba_timestamp) {
  const std::string content =
      signed_field(payload, {"event_type"}) + ":" + signed_field(payload, {"requestId"}) + ":" +
      signed_field(payload, {"data", "merchant", "userId"}) + ":" +
      signed_field(payload, {"data", "merchant", "walletId"}) + ":" +
      signed_field(payload, {"data", "transaction", "transactionId"}) + ":" +
      signed_field(payload, {"data", "transaction", "type"}) + ":" +
      signed_field(payload, {"data", "transaction", "time"}) + ":" +
      signed_field(payload, {"data", "transaction", "responseCode"}) + ":" + nomba_timestamp;
  EXPECT_EQ(content.find('\''), std::string::npos);
  return run_shell("printf '%s' '" + content + "' | openssl dgst -sha256 -hmac '" + secret +
                   "' -binary | openssl base64 -A");
}

class NombaTest : public WebhookTest {
 protected:
  EnvMap gateway_env() override {
    auto env = WebhookTest::gateway_env();
    env["TILLGATE_NOMBA_WEBHOOK_RETRY_S"] = "1,1,1";
    return env;
  }

  void SetUp() override {
    WebhookTest::SetUp();
    merchant_ = create_merchant("Nomba Shop");
    device_ = create_device(merchant_, "TERM-01");
  }

  client::HttpResponse nomba_request(std::string_view method, std::string_view target,
                                     std::string_view body, const client::HeaderList& headers) {
    auto res = plain_request(method, target, body, headers);
    expect_envelope(res);
    return res;
  }

  client::HttpResponse issue_token(std::string_view account_id, const json::Value& body) {
    return nomba_request("POST", "/v1/auth/token/issue", json::serialize(body),
                         {{"accountId", std::string(account_id)}});
  }

  NombaTokens client_credentials(const Merchant& merchant) {
    const auto res = issue_token(
        merchant.merchant_id,
        json::object({{"grant_type", "client_credentials"},
                      {"client_id", json::Value(merchant.credentials.api_key)},
                      {"client_secret", json::Value(merchant.credentials.api_secret)}}));
    EXPECT_EQ(res.status, 200) << res.body;
    return tokens_of(res);
  }

  NombaTokens tokens_of(const client::HttpResponse& res) {
    const auto body = parse_json(res.body);
    const auto* data = body.find("data");
    if (data == nullptr || !data->is_object()) {
      ADD_FAILURE() << "no data: " << res.body;
      return {};
    }
    return {string_at(*data, "access_token"), string_at(*data, "refresh_token"), *data};
  }

  // POST /v1/auth/token/refresh, as Nomba's reference sends it.
  client::HttpResponse refresh(const Merchant& merchant, const std::string& refresh_token) {
    return nomba_request(
        "POST", "/v1/auth/token/refresh",
        json::serialize(json::object(
            {{"grant_type", "refresh_token"}, {"refresh_token", json::Value(refresh_token)}})),
        {{"accountId", merchant.merchant_id}});
  }

  client::HttpResponse push(const std::string& access_token, std::string_view account_id,
                            std::string_view terminal_id, std::string_view body) {
    return nomba_request(
        "POST", "/v1/terminals/payment-request/" + std::string(terminal_id), body,
        {{"Authorization", "Bearer " + access_token}, {"accountId", std::string(account_id)}});
  }

  // The push exactly as Nomba's reference shows it: the bare token, no accountId header.
  client::HttpResponse push_as_reference(const std::string& access_token,
                                         std::string_view terminal_id, std::string_view body) {
    return nomba_request("POST", "/v1/terminals/payment-request/" + std::string(terminal_id), body,
                         {{"Authorization", access_token}});
  }

  client::HttpResponse lookup(const std::string& access_token, std::string_view account_id,
                              std::string_view query) {
    return nomba_request(
        "GET", "/v1/transactions/accounts/single?" + std::string(query), {},
        {{"Authorization", "Bearer " + access_token}, {"accountId", std::string(account_id)}});
  }

  // A "nomba" endpoint on the receiver (saved without a ping: Nomba has none), with the
  // merchant's own secret when `secret` is given.
  Endpoint create_nomba_endpoint(const Merchant& merchant, WebhookReceiver& receiver,
                                 std::optional<std::string> secret = std::nullopt) {
    auto body = json::object({{"url", json::Value(receiver.url())}, {"format", "nomba"}});
    if (secret) {
      body.as_object().push_back({"secret", json::Value(*secret)});
    }
    const auto res =
        signed_request(merchant, "POST", "/v1/webhooks/endpoints", json::serialize(body));
    EXPECT_EQ(res.status, 201) << res.body;
    const auto created = parse_json(res.body);
    EXPECT_EQ(string_at(created, "format"), "nomba");
    return Endpoint{string_at(created, "endpointId"), string_at(created, "secret")};
  }

  // Every answer of these routes is the envelope: {code,description,data}, "00" only on 2xx
  // (the revoke route's success, as Nomba's, has no data).
  static void expect_envelope(const client::HttpResponse& res) {
    const auto body = parse_json(res.body);
    ASSERT_TRUE(body.is_object()) << res.body;
    if (res.status == 200 && body.find("data") == nullptr) {
      EXPECT_EQ(string_at(body, "code"), "00") << res.body;
      return;
    }
    std::vector<std::string> keys;
    for (const auto& member : body.as_object()) {
      keys.push_back(member.key);
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"code", "description", "data"})) << res.body;
    if (res.status == 200) {
      EXPECT_EQ(string_at(body, "code"), "00") << res.body;
      EXPECT_EQ(string_at(body, "description"), "Success") << res.body;
    } else {
      EXPECT_NE(string_at(body, "code"), "00") << res.body;
      EXPECT_EQ(json_at(body, "data"), "null") << res.body;
      EXPECT_FALSE(string_at(body, "description").empty()) << res.body;
    }
  }

  // Asserts the status and the Nomba code; returns the description.
  static std::string expect_nomba_error(const client::HttpResponse& res, int status,
                                        std::string_view code) {
    EXPECT_EQ(res.status, status) << res.body;
    const auto body = parse_json(res.body);
    EXPECT_EQ(string_at(body, "code"), code) << res.body;
    return string_at(body, "description");
  }

  // The Nomba payment events (not pings) the receiver got, in order.
  static std::vector<NombaDelivery> nomba_events(const WebhookReceiver& receiver) {
    std::vector<NombaDelivery> events;
    for (const auto& request : receiver.requests()) {
      auto payload = json::parse(request.body);
      if (payload && payload->find_string("event_type").value_or("ping") != "ping") {
        events.push_back({std::move(*payload), request});
      }
    }
    return events;
  }

  // The request's signature, as an independent receiver checks it, and its body as
  // docs/openapi.json documents it.
  static void expect_signed(const NombaDelivery& delivery, const std::string& secret) {
    const auto violations = openapi::Document::served().validate(
        delivery.payload, "#/components/schemas/NombaWebhookEvent");
    EXPECT_TRUE(violations.empty()) << openapi::describe(violations);
    const auto timestamp = delivery.request.header("nomba-timestamp").value_or("");
    EXPECT_TRUE(is_whole_second_utc(timestamp)) << timestamp;
    const auto signature = delivery.request.header("nomba-signature").value_or("(none)");
    EXPECT_EQ(signature, openssl_nomba_signature(secret, delivery.payload, timestamp));
    EXPECT_EQ(delivery.request.header("nomba-sig-value").value_or("(none)"), signature);
    EXPECT_EQ(delivery.request.header("nomba-signature-algorithm").value_or(""), "HmacSHA256");
    EXPECT_EQ(delivery.request.header("nomba-signature-version").value_or(""), "1.0.0");
  }

  Merchant merchant_;
  Device device_;
};

// ---- the documentation's own sequence -----------------------------------------------------

TEST_F(NombaTest, TheNombaReferenceSequenceEndsInAVerifiedPaymentSuccess) {
  WebhookReceiver receiver;
  const auto endpoint = create_nomba_endpoint(merchant_, receiver);
  auto terminal = connect_terminal(device_);

  // 1. Issue a token.
  const auto issued =
      issue_token(merchant_.merchant_id,
                  json::object({{"grant_type", "client_credentials"},
                                {"client_id", json::Value(merchant_.credentials.api_key)},
                                {"client_secret", json::Value(merchant_.credentials.api_secret)}}));
  ASSERT_EQ(issued.status, 200) << issued.body;
  const auto tokens = tokens_of(issued);
  EXPECT_EQ(string_at(tokens.data, "businessId"), merchant_.merchant_id);
  EXPECT_EQ(std::count(tokens.access_token.begin(), tokens.access_token.end(), '.'), 2);
  EXPECT_TRUE(tokens.refresh_token.starts_with("rt_"));
  EXPECT_TRUE(IsWholeSecondUtc(tokens.data.find("expiresAt")));

  // 2. Push the reference's request as it is: bare token, no accountId, amount as a string
  // of kobo. 1000 kobo is ten naira.
  const auto pushed =
      push_as_reference(tokens.access_token, "TERM-01",
                        R"({"merchantTxRef":"55555555","amount":"1000","currency":"NGN"})");
  ASSERT_EQ(pushed.status, 200) << pushed.body;
  const auto data = *parse_json(pushed.body).find("data");
  EXPECT_EQ(string_at(data, "paymentId"), "55555555");
  EXPECT_EQ(string_at(data, "merchantTxRef"), "55555555");
  EXPECT_EQ(string_at(data, "status"), "pending");
  EXPECT_EQ(json_at(data, "amount"), "1000");
  EXPECT_EQ(string_at(data, "currency"), "NGN");
  EXPECT_TRUE(IsWholeSecondUtc(data.find("createdAt")));

  // 3. The terminal is asked for NGN 10.00 and approves.
  const auto request = read_frame(*terminal.ws, "payment.request");
  EXPECT_EQ(string_at(request, "transactionId"), "55555555");
  EXPECT_EQ(string_at(request, "amount"), "10.00");
  EXPECT_EQ(string_at(request, "currency"), "NGN");
  ASSERT_TRUE(terminal.ws->send_json(result_frame("55555555", "SUCCESS", "AUTH-777")));
  (void)read_frame(*terminal.ws, "payment.result.ack");

  // 4. The receiver gets payment_success in Nomba's POS payload, signed; no ping before.
  ASSERT_TRUE(eventually([&] { return !nomba_events(receiver).empty(); }, 10s));
  ASSERT_EQ(receiver.requests().size(), 1U) << "a Nomba endpoint got something besides the event";
  const auto events = nomba_events(receiver);
  ASSERT_EQ(events.size(), 1U);
  const auto& event = events.front();
  SCOPED_TRACE(event.request.body);
  expect_signed(event, endpoint.secret);
  EXPECT_NE(event.request.header("content-type").value_or("").find("application/json"),
            std::string::npos);
  EXPECT_EQ(string_at(event.payload, "event_type"), "payment_success");
  EXPECT_EQ(string_at(event.payload, "requestId").size(), 36U);
  const auto& payload_data = *event.payload.find("data");
  const auto& merchant = *payload_data.find("merchant");
  EXPECT_EQ(string_at(merchant, "userId"), merchant_.merchant_id);
  EXPECT_EQ(string_at(merchant, "walletId"), merchant_.merchant_id);
  const auto& terminal_data = *payload_data.find("terminal");
  EXPECT_EQ(string_at(terminal_data, "terminalId"), "TERM-01");
  EXPECT_EQ(string_at(terminal_data, "terminalLabel"), "test till");
  const auto& transaction = *payload_data.find("transaction");
  EXPECT_EQ(string_at(transaction, "type"), "purchase");
  EXPECT_EQ(string_at(transaction, "transactionId"), "55555555");
  EXPECT_EQ(string_at(transaction, "merchantTxRef"), "55555555");
  EXPECT_EQ(string_at(transaction, "originatingFrom"), "pos");
  EXPECT_EQ(string_at(transaction, "responseCode"), "00");
  EXPECT_EQ(string_at(transaction, "responseCodeMessage"), "Approved");
  EXPECT_EQ(json_at(transaction, "transactionAmount"), "10");  // major units
  EXPECT_EQ(json_at(transaction, "fee"), "0");
  EXPECT_EQ(string_at(transaction, "currency"), "NGN");
  EXPECT_TRUE(IsWholeSecondUtc(transaction.find("time")));

  // 5. The lookup agrees, by every reference, and says SUCCESS as Nomba's docs check it.
  for (const std::string query : {"merchantTxRef=55555555", "transactionRef=55555555",
                                  "orderReference=55555555", "orderId=55555555"}) {
    const auto found = lookup(tokens.access_token, merchant_.merchant_id, query);
    ASSERT_EQ(found.status, 200) << found.body;
    const auto view = *parse_json(found.body).find("data");
    EXPECT_EQ(string_at(view, "id"), "55555555");
    EXPECT_EQ(string_at(view, "merchantTxRef"), "55555555");
    EXPECT_EQ(string_at(view, "terminalId"), "TERM-01");
    EXPECT_EQ(string_at(view, "posTerminalLabel"), "test till");
    EXPECT_EQ(string_at(view, "status"), "SUCCESS");
    EXPECT_EQ(string_at(view, "responseCode"), "00");
    EXPECT_EQ(string_at(view, "gatewayMessage"), "Approved");
    EXPECT_EQ(string_at(view, "userId"), merchant_.merchant_id);
    EXPECT_EQ(string_at(view, "source"), "pos");
    EXPECT_EQ(string_at(view, "type"), "purchase");
    EXPECT_EQ(json_at(view, "fixedCharge"), "0");
    EXPECT_EQ(json_at(view, "amount"), "10");
    EXPECT_TRUE(IsWholeSecondUtc(view.find("timeCreated")));
    EXPECT_TRUE(IsWholeSecondUtc(view.find("timeUpdated")));
  }
  // The main API sees the same transaction, for NGN 10.00.
  EXPECT_EQ(transaction_status(merchant_, "55555555"), "COMPLETED");
  const auto stored = parse_json(get_transaction(merchant_, "55555555").body);
  EXPECT_EQ(string_at(*stored.find("request"), "amount"), "10.00");
}

TEST_F(NombaTest, AmountIsKoboAsANumberOrADigitStringAndAccountIdMustMatchWhenSent) {
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  // A JSON number of kobo, with the accountId header of the token's account.
  ASSERT_EQ(push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                 R"({"merchantTxRef":"k-1","amount":150050,"currency":"NGN"})")
                .status,
            200);
  EXPECT_EQ(string_at(read_frame(*terminal.ws, "payment.request"), "amount"), "1500.50");
  ASSERT_TRUE(terminal.ws->send_json(result_frame("k-1", "SUCCESS", "A1")));
  (void)read_frame(*terminal.ws, "payment.result.ack");
  const auto found = lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=k-1");
  EXPECT_EQ(json_at(*parse_json(found.body).find("data"), "amount"), "1500.5");
  // Not whole kobo, not positive, not digits: refused, and nothing is pushed.
  for (const std::string amount : {"1000.5", "\"10.5\"", "0", "\"-5\"", "\"1,000\"", "\" 100\"",
                                   "\"\"", "true", "null", "1e3"}) {
    const auto refused =
        push_as_reference(tokens.access_token, "TERM-01",
                          R"({"merchantTxRef":"k-2","amount":)" + amount + R"(,"currency":"NGN"})");
    EXPECT_NE(expect_nomba_error(refused, 400, "02").find("amount"), std::string::npos) << amount;
  }
  EXPECT_TRUE(NoFrameWithin(*terminal.ws, 200ms));
  // An accountId that is not the token's is refused.
  const auto other = create_merchant("Other Shop");
  expect_nomba_error(push(tokens.access_token, other.merchant_id, "TERM-01",
                          R"({"merchantTxRef":"k-3","amount":100,"currency":"NGN"})"),
                     401, "401");
}

TEST_F(NombaTest, ADeclineSendsPaymentFailedWithTheTerminalsCode) {
  WebhookReceiver receiver;
  const auto endpoint = create_nomba_endpoint(merchant_, receiver);
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  ASSERT_EQ(push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                 R"({"merchantTxRef":"order-51","amount":25075,"currency":"NGN"})")
                .status,
            200);
  (void)read_frame(*terminal.ws, "payment.request");
  ASSERT_TRUE(
      terminal.ws->send_json(result_frame("order-51", "FAILED", "", "51", "Insufficient funds")));
  (void)read_frame(*terminal.ws, "payment.result.ack");
  ASSERT_TRUE(eventually([&] { return !nomba_events(receiver).empty(); }, 10s));
  const auto event = nomba_events(receiver).front();
  expect_signed(event, endpoint.secret);
  EXPECT_EQ(string_at(event.payload, "event_type"), "payment_failed");
  const auto& transaction = *event.payload.find("data")->find("transaction");
  EXPECT_EQ(string_at(transaction, "responseCode"), "51");
  EXPECT_EQ(string_at(transaction, "responseCodeMessage"), "Insufficient funds");
  EXPECT_EQ(json_at(transaction, "transactionAmount"), "250.75");
  const auto found = lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=order-51");
  const auto view = *parse_json(found.body).find("data");
  EXPECT_EQ(string_at(view, "status"), "PAYMENT_FAILED");
  EXPECT_EQ(string_at(view, "responseCode"), "51");
  EXPECT_EQ(string_at(view, "gatewayMessage"), "Insufficient funds");
}

TEST_F(NombaTest, AFailingNombaReceiverIsRetriedAndGetsTheSameBodyAndRequestId) {
  WebhookReceiver receiver;
  const auto endpoint = create_nomba_endpoint(merchant_, receiver);
  receiver.script({ReceiverReply::with_status(500), ReceiverReply::with_status(503)});
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  ASSERT_EQ(push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                 R"({"merchantTxRef":"retry-1","amount":5,"currency":"NGN"})")
                .status,
            200);
  (void)read_frame(*terminal.ws, "payment.request");
  ASSERT_TRUE(terminal.ws->send_json(result_frame("retry-1", "SUCCESS", "A1")));
  (void)read_frame(*terminal.ws, "payment.result.ack");
  ASSERT_TRUE(eventually([&] { return nomba_events(receiver).size() >= 3; }, 15s));
  const auto events = nomba_events(receiver);
  ASSERT_EQ(events.size(), 3U);
  for (const auto& event : events) {
    EXPECT_EQ(event.request.body, events.front().request.body);
    expect_signed(event, endpoint.secret);  // re-signed at each attempt's own time
  }
  const auto delivery = only_delivery(merchant_, "?transactionId=retry-1");
  EXPECT_EQ(string_at(delivery, "status"), "succeeded");
  EXPECT_EQ(int_at(delivery, "attemptCount"), 3);
}

TEST_F(NombaTest, AStandardEndpointAndANombaEndpointEachGetTheirOwnFormat) {
  WebhookReceiver standard_receiver;
  WebhookReceiver nomba_receiver;
  create_endpoint(merchant_, standard_receiver.url());
  create_nomba_endpoint(merchant_, nomba_receiver);
  auto terminal = connect_terminal(device_);
  pay_and_answer(merchant_, device_, terminal, "both-1", "SUCCESS");
  ASSERT_TRUE(wait_for_events(standard_receiver, {"both-1"}));
  ASSERT_TRUE(eventually([&] { return !nomba_events(nomba_receiver).empty(); }, 10s));
  EXPECT_EQ(string_at(nomba_events(nomba_receiver).front().payload, "event_type"),
            "payment_success");
  const auto standard = received_events(standard_receiver);
  ASSERT_EQ(standard.size(), 1U);
  EXPECT_EQ(standard.begin()->second.event_type, "payment.completed");
  EXPECT_EQ(json_at(*nomba_events(nomba_receiver).front().payload.find("data")->find("transaction"),
                    "transactionAmount"),
            "12.5");
}

// ---- tokens ---------------------------------------------------------------------------------

TEST_F(NombaTest, ForeignTamperedMissingAndGarbageTokensAreRefused) {
  const auto tokens = client_credentials(merchant_);
  const auto other = create_merchant("Other Shop");
  const auto other_tokens = client_credentials(other);
  const std::string body = R"({"merchantTxRef":"x1","amount":1,"currency":"NGN"})";

  // Another merchant's token with this merchant's accountId, and the reverse.
  EXPECT_NE(expect_nomba_error(
                push(other_tokens.access_token, merchant_.merchant_id, "TERM-01", body), 401, "401")
                .find("another accountId"),
            std::string::npos);
  expect_nomba_error(lookup(tokens.access_token, other.merchant_id, "merchantTxRef=x1"), 401,
                     "401");

  // Tampered: the claims swapped for the other merchant's, the signature kept.
  const auto dot1 = tokens.access_token.find('.');
  const auto dot2 = tokens.access_token.find('.', dot1 + 1);
  const auto other_dot1 = other_tokens.access_token.find('.');
  const auto other_dot2 = other_tokens.access_token.find('.', other_dot1 + 1);
  const std::string swapped =
      tokens.access_token.substr(0, dot1) +
      other_tokens.access_token.substr(other_dot1, other_dot2 - other_dot1) +
      tokens.access_token.substr(dot2);
  expect_nomba_error(push(swapped, other.merchant_id, "TERM-01", body), 401, "401");
  std::string flipped = tokens.access_token;
  flipped[dot2 + 3] = flipped[dot2 + 3] == 'A' ? 'B' : 'A';
  expect_nomba_error(push(flipped, merchant_.merchant_id, "TERM-01", body), 401, "401");

  // Missing pieces and garbage. (No accountId on the push is Nomba's own form: the token
  // decides, and the terminal is offline.)
  expect_nomba_error(nomba_request("POST", "/v1/terminals/payment-request/TERM-01", body,
                                   {{"accountId", merchant_.merchant_id}}),
                     401, "401");
  expect_nomba_error(nomba_request("POST", "/v1/terminals/payment-request/TERM-01", body,
                                   {{"Authorization", "Bearer " + tokens.access_token}}),
                     503, "01");
  // The lookup requires accountId, as Nomba's.
  expect_nomba_error(nomba_request("GET", "/v1/transactions/accounts/single?merchantTxRef=x1", {},
                                   {{"Authorization", "Bearer " + tokens.access_token}}),
                     401, "401");
  for (const std::string& authorization : std::vector<std::string>{
           "Bearer", "Bearer ", "Token " + tokens.access_token, tokens.access_token + " extra",
           "Bearer " + tokens.access_token + " x"}) {
    SCOPED_TRACE(authorization);
    expect_nomba_error(nomba_request("POST", "/v1/terminals/payment-request/TERM-01", body,
                                     {{"Authorization", authorization}}),
                       401, "401");
  }
  expect_nomba_error(nomba_request("GET", "/v1/transactions/accounts/single?merchantTxRef=x1", {},
                                   {{"Authorization", "Basic " + tokens.access_token},
                                    {"accountId", merchant_.merchant_id}}),
                     401, "401");
  for (const std::string& garbage : std::vector<std::string>{
           "x", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", std::string(5000, 'a')}) {
    expect_nomba_error(push(garbage, merchant_.merchant_id, "TERM-01", body), 401, "401");
  }
  // The real token still works, bare or Bearer: the refusals above changed nothing.
  expect_nomba_error(push(tokens.access_token, merchant_.merchant_id, "TERM-01", body), 503, "01");
  expect_nomba_error(push_as_reference(tokens.access_token, "TERM-01", body), 503, "01");
}

TEST_F(NombaTest, BadClientCredentialsAreRefusedAlike) {
  const auto other = create_merchant("Other Shop");
  const std::vector<std::pair<std::string, json::Value>> attempts{
      {merchant_.merchant_id,
       json::object({{"grant_type", "client_credentials"},
                     {"client_id", json::Value(merchant_.credentials.api_key)},
                     {"client_secret", "wrong-secret"}})},
      {other.merchant_id,  // the right key and secret, another account
       json::object({{"grant_type", "client_credentials"},
                     {"client_id", json::Value(merchant_.credentials.api_key)},
                     {"client_secret", json::Value(merchant_.credentials.api_secret)}})},
      {merchant_.merchant_id,
       json::object({{"grant_type", "client_credentials"},
                     {"client_id", "tgk_unknown"},
                     {"client_secret", json::Value(merchant_.credentials.api_secret)}})},
  };
  std::set<std::string> descriptions;
  for (const auto& [account, body] : attempts) {
    descriptions.insert(expect_nomba_error(issue_token(account, body), 401, "01"));
  }
  EXPECT_EQ(descriptions.size(), 1U) << "the refusals tell which part was wrong";

  // No accountId header.
  expect_nomba_error(
      nomba_request("POST", "/v1/auth/token/issue", json::serialize(attempts.front().second), {}),
      401, "01");
  // Malformed bodies are validation errors.
  for (const std::string body :
       {"", "[]", "{", R"({"grant_type":"password","username":"a","password":"b"})",
        R"({"client_id":"a","client_secret":"b"})", R"({"grant_type":"client_credentials"})",
        R"({"grant_type":"client_credentials","client_id":1,"client_secret":2})",
        R"({"grant_type":"refresh_token"})"}) {
    expect_nomba_error(
        nomba_request("POST", "/v1/auth/token/issue", body, {{"accountId", merchant_.merchant_id}}),
        400, "02");
  }
  expect_nomba_error(nomba_request("GET", "/v1/auth/token/issue", {}, {}), 404, "01");
}

TEST_F(NombaTest, ARefreshAnswersTheSameRefreshTokenWhichStaysValid) {
  const auto first = client_credentials(merchant_);
  // Several instances of the merchant's backend share the refresh token.
  std::set<std::string> access_tokens{first.access_token};
  for (int i = 0; i < 3; ++i) {
    const auto refreshed = refresh(merchant_, first.refresh_token);
    ASSERT_EQ(refreshed.status, 200) << refreshed.body;
    const auto next = tokens_of(refreshed);
    EXPECT_EQ(next.refresh_token, first.refresh_token);
    EXPECT_EQ(string_at(next.data, "businessId"), merchant_.merchant_id);
    EXPECT_TRUE(IsWholeSecondUtc(next.data.find("expiresAt")));
    access_tokens.insert(next.access_token);
    EXPECT_EQ(lookup(next.access_token, merchant_.merchant_id, "merchantTxRef=none").status, 404);
  }
  EXPECT_EQ(access_tokens.size(), 4U);
  // The refresh route takes an Authorization header (even an expired token's) and ignores
  // it; the issue route's refresh_token grant works too; grant_type may be left out.
  const std::string refresh_body =
      json::serialize(json::object({{"refresh_token", json::Value(first.refresh_token)}}));
  EXPECT_EQ(nomba_request("POST", "/v1/auth/token/refresh", refresh_body,
                          {{"accountId", merchant_.merchant_id},
                           {"Authorization", "Bearer expired.or.garbage"}})
                .status,
            200);
  EXPECT_EQ(issue_token(merchant_.merchant_id,
                        json::object({{"grant_type", "refresh_token"},
                                      {"refresh_token", json::Value(first.refresh_token)}}))
                .status,
            200);
  // Refusals: another merchant, garbage, the wrong grant on the refresh route, no accountId.
  const auto other = create_merchant("Other Shop");
  expect_nomba_error(refresh(other, first.refresh_token), 401, "01");
  expect_nomba_error(refresh(merchant_, "rt_not-a-token"), 401, "01");
  expect_nomba_error(refresh(merchant_, std::string(10'000, 'x')), 401, "01");
  expect_nomba_error(nomba_request("POST", "/v1/auth/token/refresh",
                                   R"({"grant_type":"client_credentials","client_id":"a",)"
                                   R"("client_secret":"b"})",
                                   {{"accountId", merchant_.merchant_id}}),
                     400, "02");
  expect_nomba_error(nomba_request("POST", "/v1/auth/token/refresh", refresh_body, {}), 401, "01");
  for (const std::string body :
       {"", "[]", "{", R"({"grant_type":"refresh_token"})", R"({"refresh_token":5})"}) {
    SCOPED_TRACE(body);
    expect_nomba_error(nomba_request("POST", "/v1/auth/token/refresh", body,
                                     {{"accountId", merchant_.merchant_id}}),
                       400, "02");
  }
  // Still valid after all that.
  EXPECT_EQ(refresh(merchant_, first.refresh_token).status, 200);
}

TEST_F(NombaTest, ARevokedAccessTokenIsRefusedFromThenOn) {
  const auto tokens = client_credentials(merchant_);
  const auto kept = client_credentials(merchant_);
  ASSERT_EQ(lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=none").status, 404);
  const auto revoke = [&](const std::string& client_id, const std::string& access_token) {
    return nomba_request(
        "POST", "/v1/auth/token/revoke",
        json::serialize(json::object(
            {{"clientId", json::Value(client_id)}, {"access_token", json::Value(access_token)}})),
        {{"accountId", merchant_.merchant_id}});
  };
  // Another API key's clientId, garbage and bad bodies change nothing.
  expect_nomba_error(revoke("tgk_someone_else", tokens.access_token), 401, "01");
  expect_nomba_error(revoke(merchant_.credentials.api_key, "a.b.c"), 401, "401");
  for (const std::string body : {"", "{}", R"({"clientId":"x"})", R"({"access_token":"x"})"}) {
    SCOPED_TRACE(body);
    expect_nomba_error(nomba_request("POST", "/v1/auth/token/revoke", body,
                                     {{"accountId", merchant_.merchant_id}}),
                       400, "02");
  }
  EXPECT_EQ(lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=none").status, 404);

  const auto revoked = revoke(merchant_.credentials.api_key, tokens.access_token);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.body, R"({"code":"00","description":"Token revoked successfully"})");
  EXPECT_NE(
      expect_nomba_error(lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=none"),
                         401, "401")
          .find("revoked"),
      std::string::npos);
  // Again: still success. Another token of the same key, and the refresh token, live on.
  EXPECT_EQ(revoke(merchant_.credentials.api_key, tokens.access_token).status, 200);
  EXPECT_EQ(lookup(kept.access_token, merchant_.merchant_id, "merchantTxRef=none").status, 404);
  const auto refreshed = refresh(merchant_, tokens.refresh_token);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(
      lookup(tokens_of(refreshed).access_token, merchant_.merchant_id, "merchantTxRef=none").status,
      404);
}

class NombaRotatingRefreshTest : public NombaTest {
 protected:
  EnvMap gateway_env() override {
    auto env = NombaTest::gateway_env();
    env["TILLGATE_NOMBA_ROTATE_REFRESH_TOKENS"] = "1";
    return env;
  }
};

TEST_F(NombaRotatingRefreshTest, ARefreshTokenWorksOnceAndItsReuseRevokesTheFamily) {
  const auto first = client_credentials(merchant_);
  const auto refreshed = refresh(merchant_, first.refresh_token);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const auto second = tokens_of(refreshed);
  EXPECT_NE(second.refresh_token, first.refresh_token);
  EXPECT_NE(second.access_token, first.access_token);
  EXPECT_EQ(string_at(second.data, "businessId"), merchant_.merchant_id);
  // The new access token works.
  EXPECT_EQ(lookup(second.access_token, merchant_.merchant_id, "merchantTxRef=none").status, 404);

  // The refreshed-away token is refused, and its reuse revokes the token that replaced it.
  EXPECT_NE(
      expect_nomba_error(refresh(merchant_, first.refresh_token), 401, "01").find("already used"),
      std::string::npos);
  expect_nomba_error(refresh(merchant_, second.refresh_token), 401, "01");

  // Another merchant cannot use a refresh token, nor can garbage pass.
  const auto third = client_credentials(merchant_);
  const auto other = create_merchant("Other Shop");
  expect_nomba_error(
      issue_token(other.merchant_id,
                  json::object({{"grant_type", "refresh_token"},
                                {"refresh_token", json::Value(third.refresh_token)}})),
      401, "01");
  expect_nomba_error(refresh(merchant_, "rt_not-a-token"), 401, "01");
  expect_nomba_error(refresh(merchant_, std::string(10'000, 'x')), 401, "01");
  // ... and the attempt by the other merchant did not use it up.
  EXPECT_EQ(refresh(merchant_, third.refresh_token).status, 200);
}

TEST_F(NombaTest, RevokingTheApiKeyEndsItsTokens) {
  const auto tokens = client_credentials(merchant_);
  ASSERT_EQ(lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=none").status, 404);
  const auto revoked = admin("DELETE", "/admin/v1/merchants/" + merchant_.merchant_id + "/keys/" +
                                           merchant_.credentials.api_key);
  ASSERT_EQ(revoked.status, 204) << revoked.body;
  EXPECT_NE(
      expect_nomba_error(lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=none"),
                         401, "401")
          .find("revoked"),
      std::string::npos);
  expect_nomba_error(refresh(merchant_, tokens.refresh_token), 401, "01");
}

class NombaShortTokenTest : public NombaTest {
 protected:
  EnvMap gateway_env() override {
    auto env = NombaTest::gateway_env();
    env["TILLGATE_NOMBA_ACCESS_TOKEN_TTL_S"] = "1";
    env["TILLGATE_NOMBA_REFRESH_TOKEN_TTL_S"] = "1";
    return env;
  }
};

TEST_F(NombaShortTokenTest, ExpiredAccessAndRefreshTokensAreRefused) {
  const auto tokens = client_credentials(merchant_);
  ASSERT_EQ(lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=none").status, 404);
  // 1 s of life and 2 s of leeway for the clocks of other nodes.
  std::this_thread::sleep_for(4s);
  // Nomba's "02": token expired, refresh it.
  EXPECT_NE(expect_nomba_error(
                lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=none"), 401, "02")
                .find("expired"),
            std::string::npos);
  EXPECT_NE(expect_nomba_error(refresh(merchant_, tokens.refresh_token), 401, "01").find("expired"),
            std::string::npos);
}

// ---- push errors in the envelope -------------------------------------------------------------

TEST_F(NombaTest, PushErrorsKeepTheMainApisStatusWithNombasCode) {
  const auto tokens = client_credentials(merchant_);
  const auto access = tokens.access_token;
  const auto& account = merchant_.merchant_id;
  const std::string body = R"({"merchantTxRef":"e1","amount":1000,"currency":"NGN"})";

  expect_nomba_error(push(access, account, "NO-SUCH-TERMINAL", body), 404, "01");
  const auto other = create_merchant("Other Shop");
  const auto foreign = create_device(other, "THEIRS-01");
  expect_nomba_error(push(access, account, foreign.device_id, body), 404, "01");
  EXPECT_NE(
      expect_nomba_error(push(access, account, "TERM-01", body), 503, "01").find("not connected"),
      std::string::npos);

  const auto description = expect_nomba_error(
      push(access, account, "TERM-01", R"({"merchantTxRef":"bad ref","amount":"ten"})"), 400, "02");
  EXPECT_NE(description.find("merchantTxRef"), std::string::npos) << description;
  EXPECT_NE(description.find("amount"), std::string::npos) << description;
  EXPECT_NE(description.find("currency"), std::string::npos) << description;
  expect_nomba_error(push(access, account, "TERM-01", "{not json"), 400, "02");
  expect_nomba_error(
      push(access, account, "TERM-01", R"({"merchantTxRef":"e1","amount":1e3,"currency":"NGN"})"),
      400, "02");

  // A body over the limit is refused before any route runs, in the envelope too.
  const auto huge = push(access, account, "TERM-01",
                         R"({"merchantTxRef":"e1","amount":1,"currency":"NGN","pad":")" +
                             std::string(70'000, 'p') + R"("})");
  expect_nomba_error(huge, 413, "02");

  // Busy terminal, and a merchantTxRef reused with another amount.
  auto terminal = connect_terminal(device_);
  ASSERT_EQ(push(access, account, "TERM-01", body).status, 200);
  (void)read_frame(*terminal.ws, "payment.request");
  expect_nomba_error(
      push(access, account, "TERM-01", R"({"merchantTxRef":"e2","amount":5,"currency":"NGN"})"),
      409, "05");
  EXPECT_NE(expect_nomba_error(push(access, account, "TERM-01",
                                    R"({"merchantTxRef":"e1","amount":999,"currency":"NGN"})"),
                               409, "06")
                .find("merchantTxRef"),
            std::string::npos);
  // The same push again answers the same payment and pushes nothing new.
  const auto repeat = push(access, account, "TERM-01", body);
  ASSERT_EQ(repeat.status, 200) << repeat.body;
  EXPECT_EQ(string_at(*parse_json(repeat.body).find("data"), "paymentId"), "e1");
  EXPECT_TRUE(NoFrameWithin(*terminal.ws, 300ms));
  // Unknown routes under the Nomba paths.
  expect_nomba_error(nomba_request("GET", "/v1/terminals/payment-request/TERM-01", {},
                                   {{"Authorization", "Bearer " + access}, {"accountId", account}}),
                     404, "01");
}

TEST_F(NombaTest, LookupErrors) {
  const auto tokens = client_credentials(merchant_);
  const auto access = tokens.access_token;
  const auto& account = merchant_.merchant_id;
  expect_nomba_error(lookup(access, account, ""), 400, "02");
  expect_nomba_error(lookup(access, account, "paymentId=1"), 400, "02");
  expect_nomba_error(lookup(access, account, "merchantTxRef=a&transactionRef=b"), 400, "02");
  expect_nomba_error(lookup(access, account, "orderId=a&orderReference=b"), 400, "02");
  expect_nomba_error(lookup(access, account, "orderId=1"), 404, "01");
  expect_nomba_error(lookup(access, account, "orderReference=" + std::string(129, 'a')), 400, "02");
  expect_nomba_error(lookup(access, account, "merchantTxRef=%zz"), 400, "02");
  expect_nomba_error(lookup(access, account, "merchantTxRef=has%20space"), 400, "02");
  expect_nomba_error(lookup(access, account, "merchantTxRef=nope"), 404, "01");
  EXPECT_EQ(lookup(access, account, "merchantTxRef=nope&transactionRef=nope").status, 404);

  // Another merchant's payment is not found, exactly like one that does not exist.
  const auto other = create_merchant("Other Shop");
  const auto other_device = create_device(other, "THEIRS-01");
  auto other_terminal = connect_terminal(other_device);
  const auto other_tokens = client_credentials(other);
  ASSERT_EQ(push(other_tokens.access_token, other.merchant_id, "THEIRS-01",
                 R"({"merchantTxRef":"theirs-1","amount":1,"currency":"NGN"})")
                .status,
            200);
  EXPECT_EQ(expect_nomba_error(lookup(access, account, "merchantTxRef=theirs-1"), 404, "01"),
            "Transaction not found");
  EXPECT_EQ(expect_nomba_error(lookup(access, account, "merchantTxRef=theirs-2"), 404, "01"),
            "Transaction not found");
  // Its push with our token and its accountId is refused, and our terminal is not theirs.
  expect_nomba_error(push(access, other.merchant_id, "THEIRS-01",
                          R"({"merchantTxRef":"mine-1","amount":1,"currency":"NGN"})"),
                     401, "401");
  expect_nomba_error(push(access, account, "THEIRS-01",
                          R"({"merchantTxRef":"mine-1","amount":1,"currency":"NGN"})"),
                     404, "01");
  // A pending payment reads PENDING with no response code yet.
  const auto pending =
      lookup(other_tokens.access_token, other.merchant_id, "transactionRef=theirs-1");
  ASSERT_EQ(pending.status, 200) << pending.body;
  const auto view = *parse_json(pending.body).find("data");
  EXPECT_EQ(string_at(view, "status"), "PENDING");
  EXPECT_EQ(json_at(view, "responseCode"), "null");
  EXPECT_EQ(json_at(view, "gatewayMessage"), "null");
  EXPECT_EQ(string_at(view, "posTerminalLabel"), "test till");
}

// A main-API request signed with x-api-key for a terminal called "payment-request" stays
// the main API's.
TEST_F(NombaTest, ASignedMainApiRequestOnTheSamePathIsTheMainApis) {
  create_device(merchant_, "payment-request");
  const auto res = signed_request(merchant_, "POST", "/v1/terminals/payment-request/payments",
                                  payment_body("10.00", "NGN", "main-1"));
  expect_error(res, 503, "TERMINAL_OFFLINE");
}

// ---- lists ------------------------------------------------------------------------------

TEST_F(NombaTest, TransactionListsFilterAndPageNewestFirst) {
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  const auto& account = merchant_.merchant_id;
  // Four payments: two paid, one declined, one pending at the end.
  const std::vector<std::pair<std::string, std::string>> outcomes{
      {"list-1", "SUCCESS"}, {"list-2", "FAILED"}, {"list-3", "SUCCESS"}};
  for (const auto& [ref, outcome] : outcomes) {
    ASSERT_EQ(push(tokens.access_token, account, "TERM-01",
                   R"({"merchantTxRef":")" + ref + R"(","amount":500,"currency":"NGN"})")
                  .status,
              200);
    (void)read_frame(*terminal.ws, "payment.request");
    ASSERT_TRUE(terminal.ws->send_json(result_frame(ref, outcome, "A1", "05", "Declined")));
    (void)read_frame(*terminal.ws, "payment.result.ack");
  }
  ASSERT_EQ(push(tokens.access_token, account, "TERM-01",
                 R"({"merchantTxRef":"list-4","amount":500,"currency":"NGN"})")
                .status,
            200);
  const client::HeaderList auth{{"Authorization", tokens.access_token}, {"accountId", account}};
  const auto ids_of = [](const client::HttpResponse& res) {
    std::vector<std::string> ids;
    const auto data = *parse_json(res.body).find("data");
    for (const auto& item : data.find("results")->as_array()) {
      ids.push_back(string_at(item, "id"));
    }
    return ids;
  };
  const auto filter = [&](std::string_view query, std::string_view body) {
    return nomba_request("POST", "/v1/transactions/accounts" + std::string(query), body, auth);
  };
  // Everything, newest first, in pages of 3 then 1.
  const auto page1 = filter("?limit=3", "{}");
  ASSERT_EQ(page1.status, 200) << page1.body;
  EXPECT_EQ(ids_of(page1), (std::vector<std::string>{"list-4", "list-3", "list-2"}));
  const auto cursor = string_at(*parse_json(page1.body).find("data"), "cursor");
  const auto page2 = filter("?limit=3&cursor=" + cursor, "{}");
  EXPECT_EQ(ids_of(page2), (std::vector<std::string>{"list-1"}));
  EXPECT_EQ(json_at(*parse_json(page2.body).find("data"), "cursor"), "null");
  // Each item is the lookup's view.
  const auto first = parse_json(page1.body).find("data")->find("results")->as_array()[1];
  EXPECT_EQ(string_at(first, "status"), "SUCCESS");
  EXPECT_EQ(json_at(first, "amount"), "5");
  EXPECT_EQ(string_at(first, "posTerminalLabel"), "test till");
  // Filters: Nomba statuses, references, terminal, dates.
  EXPECT_EQ(ids_of(filter("", R"({"status":"SUCCESS"})")),
            (std::vector<std::string>{"list-3", "list-1"}));
  EXPECT_EQ(ids_of(filter("", R"({"status":"PAYMENT_FAILED"})")),
            (std::vector<std::string>{"list-2"}));
  EXPECT_EQ(ids_of(filter("", R"({"status":"PENDING"})")), (std::vector<std::string>{"list-4"}));
  EXPECT_EQ(ids_of(filter("", R"({"merchantTxRef":"list-2"})")),
            (std::vector<std::string>{"list-2"}));
  EXPECT_TRUE(ids_of(filter("", R"({"transactionRef":"list-2","status":"SUCCESS"})")).empty());
  EXPECT_TRUE(ids_of(filter("", R"({"terminalId":"OTHER"})")).empty());
  EXPECT_EQ(ids_of(filter("", R"({"dateFrom":"2000-01-01","dateTo":"2999-12-31"})")).size(), 4U);
  EXPECT_TRUE(ids_of(filter("", R"({"dateTo":"2000-01-01"})")).empty());
  // GET: the same, dates in the query.
  const auto listed =
      nomba_request("GET", "/v1/transactions/accounts?limit=2&dateFrom=2000-01-01", {}, auth);
  EXPECT_EQ(ids_of(listed), (std::vector<std::string>{"list-4", "list-3"}));
  // Hostile filters are 400 "02".
  for (const auto& [query, body] : std::vector<std::pair<std::string, std::string>>{
           {"?limit=0", "{}"},
           {"?limit=101", "{}"},
           {"?limit=x", "{}"},
           {"?cursor=garbage", "{}"},
           {"", R"({"status":"COMPLETED"})"},
           {"", R"({"status":5})"},
           {"", R"({"dateFrom":"yesterday"})"},
           {"", R"({"merchantTxRef":"has space"})"},
           {"", R"({"merchantTxRef":"a","transactionRef":"b"})"},
           {"", "[1]"},
           {"", "{"}}) {
    SCOPED_TRACE(query + " " + body);
    expect_nomba_error(filter(query, body), 400, "02");
  }
  expect_nomba_error(nomba_request("GET", "/v1/transactions/accounts?dateTo=2024-13-45", {}, auth),
                     400, "02");
  // Another merchant sees none of these.
  const auto other = create_merchant("Other Shop");
  const auto other_tokens = client_credentials(other);
  EXPECT_TRUE(ids_of(nomba_request("POST", "/v1/transactions/accounts", "{}",
                                   {{"Authorization", other_tokens.access_token}}))
                  .empty());
  expect_nomba_error(nomba_request("POST", "/v1/transactions/accounts", "{}", {}), 401, "401");
}

TEST_F(NombaTest, TheTerminalListShowsEachTerminalsState) {
  const auto second = create_device(merchant_, "TERM-02");
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  const client::HeaderList auth{{"Authorization", "Bearer " + tokens.access_token}};
  const auto res = nomba_request("GET", "/v1/accounts/terminals", {}, auth);
  ASSERT_EQ(res.status, 200) << res.body;
  const auto data = *parse_json(res.body).find("data");
  const auto& results = data.find("results")->as_array();
  ASSERT_EQ(results.size(), 2U) << res.body;
  EXPECT_EQ(string_at(results[0], "terminalId"), "TERM-01");
  EXPECT_EQ(string_at(results[0], "terminalLabel"), "test till");
  EXPECT_EQ(string_at(results[0], "accountId"), merchant_.merchant_id);
  EXPECT_EQ(string_at(results[0], "status"), "online");
  EXPECT_TRUE(IsWholeSecondUtc(results[0].find("createdAt")));
  EXPECT_TRUE(IsWholeSecondUtc(results[0].find("updatedAt")));
  EXPECT_EQ(string_at(results[1], "terminalId"), "TERM-02");
  EXPECT_EQ(string_at(results[1], "status"), "offline");
  EXPECT_EQ(json_at(data, "cursor"), "null");
  // Paged and filtered.
  const auto page = nomba_request("GET", "/v1/accounts/terminals?limit=1", {}, auth);
  const auto page_data = *parse_json(page.body).find("data");
  ASSERT_EQ(page_data.find("results")->as_array().size(), 1U);
  const auto next = nomba_request(
      "GET", "/v1/accounts/terminals?limit=1&cursor=" + string_at(page_data, "cursor"), {}, auth);
  EXPECT_EQ(
      string_at(parse_json(next.body).find("data")->find("results")->as_array()[0], "terminalId"),
      "TERM-02");
  const auto one = nomba_request("GET", "/v1/accounts/terminals?terminalId=TERM-02", {}, auth);
  EXPECT_EQ(parse_json(one.body).find("data")->find("results")->as_array().size(), 1U);
  const auto none = nomba_request("GET", "/v1/accounts/terminals?terminalLabel=nope", {}, auth);
  EXPECT_TRUE(parse_json(none.body).find("data")->find("results")->as_array().empty());
  expect_nomba_error(nomba_request("GET", "/v1/accounts/terminals?limit=500", {}, auth), 400, "02");
  // Another merchant's token lists only its own.
  const auto other = create_merchant("Other Shop");
  const auto theirs =
      nomba_request("GET", "/v1/accounts/terminals", {},
                    {{"Authorization", "Bearer " + client_credentials(other).access_token}});
  EXPECT_TRUE(parse_json(theirs.body).find("data")->find("results")->as_array().empty());
}

// ---- webhooks (v2) ----------------------------------------------------------------------

TEST_F(NombaTest, TheMerchantMayChooseTheSignatureKey) {
  WebhookReceiver receiver;
  const std::string secret = "HkatexKDZg7CLWy96q5sfrVHSvtoz92B";
  const auto endpoint = create_nomba_endpoint(merchant_, receiver, secret);
  EXPECT_EQ(endpoint.secret, secret);
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  ASSERT_EQ(push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                 R"({"merchantTxRef":"own-key","amount":100,"currency":"NGN"})")
                .status,
            200);
  (void)read_frame(*terminal.ws, "payment.request");
  ASSERT_TRUE(terminal.ws->send_json(result_frame("own-key", "SUCCESS", "A1")));
  ASSERT_TRUE(eventually([&] { return !nomba_events(receiver).empty(); }, 10s));
  expect_signed(nomba_events(receiver).front(), secret);
  // Bad keys, and a key for a standard endpoint, are refused.
  for (const auto& [format, key] : std::vector<std::pair<std::string, json::Value>>{
           {"nomba", json::Value("short")},
           {"nomba", json::Value(std::string(129, 'k'))},
           {"nomba", json::Value("sixteen chars\u00e9abc")},
           {"nomba", json::Value("line\nbreak-and-more-text")},
           {"nomba", json::Value(std::int64_t{1234567890123456})},
           {"standard", json::Value("HkatexKDZg7CLWy96q5sfrVHSvtoz92B")}}) {
    const auto res =
        signed_request(merchant_, "POST", "/v1/webhooks/endpoints",
                       json::serialize(json::object({{"url", json::Value(receiver.url())},
                                                     {"format", json::Value(format)},
                                                     {"secret", key}})));
    const auto body = expect_error(res, 400, "VALIDATION_ERROR");
    EXPECT_NE(json::serialize(body).find("secret"), std::string::npos) << res.body;
  }
}

class NombaTimeoutTest : public NombaTest {
 protected:
  EnvMap gateway_env() override {
    auto env = NombaTest::gateway_env();
    env["TILLGATE_PAYMENT_TIMEOUT_S"] = "1";
    env["TILLGATE_RECONNECT_GRACE_S"] = "1";
    return env;
  }
};

TEST_F(NombaTimeoutTest, ALateApprovalIsReversedAndSentAsPaymentReversal) {
  WebhookReceiver receiver;
  const auto endpoint = create_nomba_endpoint(merchant_, receiver);
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  ASSERT_EQ(push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                 R"({"merchantTxRef":"late-1","amount":2500,"currency":"NGN"})")
                .status,
            200);
  (void)read_frame(*terminal.ws, "payment.request");
  (void)read_frame(*terminal.ws, "payment.cancel", 5s);  // the deadline; no answer
  ASSERT_TRUE(eventually([&] { return nomba_events(receiver).size() == 1; }, 10s));
  EXPECT_EQ(string_at(nomba_events(receiver)[0].payload, "event_type"), "payment_failed");
  ASSERT_TRUE(terminal.ws->send_json(result_frame("late-1", "SUCCESS", "AUTH-LATE")));
  (void)read_frame(*terminal.ws, "payment.void");
  ASSERT_TRUE(eventually([&] { return nomba_events(receiver).size() == 2; }, 10s));
  const auto reversal = nomba_events(receiver)[1];
  expect_signed(reversal, endpoint.secret);
  EXPECT_EQ(string_at(reversal.payload, "event_type"), "payment_reversal");
  const auto& transaction = *reversal.payload.find("data")->find("transaction");
  EXPECT_EQ(string_at(transaction, "responseCode"), "06");
  EXPECT_EQ(json_at(transaction, "transactionAmount"), "25");
  EXPECT_NE(string_at(reversal.payload, "requestId"),
            string_at(nomba_events(receiver)[0].payload, "requestId"));
  const auto found = lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=late-1");
  EXPECT_EQ(string_at(*parse_json(found.body).find("data"), "status"), "REVERSED");
  EXPECT_EQ(string_at(*parse_json(found.body).find("data"), "responseCode"), "06");
}

class NombaMajorUnitTest : public NombaTest {
 protected:
  EnvMap gateway_env() override {
    auto env = NombaTest::gateway_env();
    env["TILLGATE_NOMBA_AMOUNT_UNIT"] = "major";
    return env;
  }
};

// For integrations built on naira: the push reads major units, its answer echoes them, and
// the lookup and webhook show major units as always.
TEST_F(NombaMajorUnitTest, ThePushReadsNairaWhenConfigured) {
  WebhookReceiver receiver;
  create_nomba_endpoint(merchant_, receiver);
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  const auto pushed = push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                           R"({"merchantTxRef":"naira-1","amount":1000.5,"currency":"NGN"})");
  ASSERT_EQ(pushed.status, 200) << pushed.body;
  EXPECT_EQ(json_at(*parse_json(pushed.body).find("data"), "amount"), "1000.5");
  const auto request = read_frame(*terminal.ws, "payment.request");
  EXPECT_EQ(string_at(request, "amount"), "1000.50");
  ASSERT_TRUE(terminal.ws->send_json(result_frame("naira-1", "SUCCESS", "A1")));
  (void)read_frame(*terminal.ws, "payment.result.ack");
  ASSERT_TRUE(eventually([&] { return !nomba_events(receiver).empty(); }, 10s));
  EXPECT_EQ(json_at(*nomba_events(receiver).front().payload.find("data")->find("transaction"),
                    "transactionAmount"),
            "1000.5");
  const auto found = lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=naira-1");
  EXPECT_EQ(json_at(*parse_json(found.body).find("data"), "amount"), "1000.5");
  expect_nomba_error(push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                          R"({"merchantTxRef":"naira-2","amount":1000.555,"currency":"NGN"})"),
                     400, "02");
}

// ---- re-push and event logs (nomba-compat.md section 5) -------------------------------------

class NombaHooksTest : public NombaTest {
 protected:
  EnvMap gateway_env() override {
    auto env = NombaTest::gateway_env();
    env["TILLGATE_WEBHOOK_LOGGED_RESPONSE_BYTES"] = "16";
    return env;
  }

  // A Nomba route of this group: "code":"200" on success, as Nomba's; the usual
  // envelope otherwise.
  client::HttpResponse hooks(const std::string& access_token, std::string_view account_id,
                             std::string_view route, std::string_view body) {
    auto res = plain_request(
        "POST", "/v1/webhooks/" + std::string(route), body,
        {{"Authorization", "Bearer " + access_token}, {"accountId", std::string(account_id)}});
    const auto parsed = parse_json(res.body);
    if (res.status == 200) {
      EXPECT_EQ(string_at(parsed, "code"), "200") << res.body;
      EXPECT_NE(parsed.find("data"), nullptr) << res.body;
    } else {
      EXPECT_EQ(json_at(parsed, "data"), "null") << res.body;
    }
    return res;
  }

  // Pushes `reference` to TERM-01 and has the terminal answer `status`; waits until the
  // receiver has `events_after` Nomba events. The requestId of the reference's event.
  std::string pay(WebhookReceiver& receiver, HelloResult& terminal, const std::string& token,
                  std::string_view reference, std::string_view status, std::size_t events_after) {
    const auto body =
        R"({"merchantTxRef":")" + std::string(reference) + R"(","amount":1000,"currency":"NGN"})";
    EXPECT_EQ(push(token, merchant_.merchant_id, "TERM-01", body).status, 200);
    (void)read_frame(*terminal.ws, "payment.request");
    EXPECT_TRUE(terminal.ws->send_json(status == "SUCCESS"
                                           ? result_frame(reference, "SUCCESS", "A1")
                                           : result_frame(reference, "FAILED", "", "51", "No")));
    (void)read_frame(*terminal.ws, "payment.result.ack");
    EXPECT_TRUE(eventually([&] { return nomba_events(receiver).size() >= events_after; }, 10s));
    for (const auto& event : nomba_events(receiver)) {
      const auto* transaction = event.payload.find("data")->find("transaction");
      if (transaction != nullptr && string_at(*transaction, "merchantTxRef") == reference) {
        return string_at(event.payload, "requestId");
      }
    }
    ADD_FAILURE() << "no webhook for " << reference;
    return {};
  }

  static std::vector<std::string> logged_request_ids(const client::HttpResponse& res) {
    std::vector<std::string> ids;
    const auto body = parse_json(res.body);
    const auto* data = body.find("data");
    const auto* list = data != nullptr ? data->find("list") : nullptr;
    if (list == nullptr || !list->is_array()) {
      ADD_FAILURE() << "no data.list: " << res.body;
      return ids;
    }
    for (const auto& item : list->as_array()) {
      ids.push_back(string_at(item, "hookRequestId"));
    }
    return ids;
  }
};

TEST_F(NombaHooksTest, ARePushDeliversTheSameEventAgainWithAFreshSignature) {
  WebhookReceiver receiver;
  const auto endpoint = create_nomba_endpoint(merchant_, receiver);
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  const auto request_id = pay(receiver, terminal, tokens.access_token, "again-1", "SUCCESS", 1);
  ASSERT_FALSE(request_id.empty());
  std::this_thread::sleep_for(1100ms);  // nomba-timestamp counts whole seconds
  const auto res = hooks(tokens.access_token, merchant_.merchant_id, "re-push",
                         R"({"hooksRequestId":")" + request_id + R"("})");
  ASSERT_EQ(res.status, 200) << res.body;
  ASSERT_TRUE(eventually([&] { return nomba_events(receiver).size() >= 2; }, 10s));
  const auto events = nomba_events(receiver);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[1].request.body, events[0].request.body);
  expect_signed(events[1], endpoint.secret);
  EXPECT_NE(events[1].request.header("nomba-timestamp"),
            events[0].request.header("nomba-timestamp"));
  EXPECT_NE(events[1].request.header("nomba-signature"),
            events[0].request.header("nomba-signature"));
  ASSERT_TRUE(eventually(
      [&] {
        return int_at(only_delivery(merchant_, "?transactionId=again-1"), "attemptCount") == 2;
      },
      5s));
}

TEST_F(NombaHooksTest, RePushRefusesMalformedOverlongUnknownAndOtherMerchantsIds) {
  WebhookReceiver receiver;
  create_nomba_endpoint(merchant_, receiver);
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  const auto request_id = pay(receiver, terminal, tokens.access_token, "bulk-1", "SUCCESS", 1);
  const auto other = create_merchant("Other Shop");
  const auto other_tokens = client_credentials(other);
  const auto unknown = hooks(tokens.access_token, merchant_.merchant_id, "re-push",
                             R"({"hooksRequestId":"00000000-0000-4000-8000-000000000000"})");
  const auto description = expect_nomba_error(unknown, 404, "01");
  const auto foreign = hooks(other_tokens.access_token, other.merchant_id, "re-push",
                             R"({"hooksRequestId":")" + request_id + R"("})");
  EXPECT_EQ(expect_nomba_error(foreign, 404, "01"), description);  // told nothing more
  for (const std::string body :
       {"", "[", "{}", R"({"hooksRequestId":7})", R"({"hooksRequestId":""})",
        R"({"hooksRequestIds":[]})", R"({"hooksRequestIds":"x"})", R"({"hooksRequestIds":[1]})"}) {
    const bool bulk = body.find("Ids") != std::string::npos;
    expect_nomba_error(
        hooks(tokens.access_token, merchant_.merchant_id, bulk ? "bulk-re-push" : "re-push", body),
        400, "02");
  }
  std::string ids = R"("x0")";
  for (int i = 1; i < 101; ++i) {
    ids += R"(,"x)" + std::to_string(i) + '"';
  }
  expect_nomba_error(hooks(tokens.access_token, merchant_.merchant_id, "bulk-re-push",
                           R"({"hooksRequestIds":[)" + ids + "]}"),
                     400, "02");
  const auto bulk = hooks(tokens.access_token, merchant_.merchant_id, "bulk-re-push",
                          R"({"hooksRequestIds":[")" + request_id + R"(","nope"]})");
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  const auto data = *parse_json(bulk.body).find("data");
  EXPECT_EQ(json_at(data, "hooksRequestIds"), "[\"" + request_id + "\"]");
  EXPECT_EQ(json_at(data, "notFound"), R"(["nope"])");
  ASSERT_TRUE(eventually([&] { return nomba_events(receiver).size() >= 2; }, 10s));
  // The other merchant's bulk re-push of it sends nothing.
  const auto foreign_bulk = hooks(other_tokens.access_token, other.merchant_id, "bulk-re-push",
                                  R"({"hooksRequestIds":[")" + request_id + R"("]})");
  EXPECT_EQ(json_at(*parse_json(foreign_bulk.body).find("data"), "hooksRequestIds"), "[]");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(nomba_events(receiver).size(), 2U);
}

TEST_F(NombaHooksTest, EventLogsShowTheStoredAnswerFilterByTypeAndDayAndPage) {
  WebhookReceiver receiver;
  create_nomba_endpoint(merchant_, receiver);
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  receiver.script({ReceiverReply::with_body("received, thank you kindly", 200)});
  const auto first = pay(receiver, terminal, tokens.access_token, "log-1", "SUCCESS", 1);
  receiver.script({ReceiverReply::with_body("no", 400)});
  const auto second = pay(receiver, terminal, tokens.access_token, "log-2", "FAILED", 2);
  const auto third = pay(receiver, terminal, tokens.access_token, "log-3", "SUCCESS", 3);
  const auto logs = [&](const std::string& body) {
    return hooks(tokens.access_token, merchant_.merchant_id, "event-logs", body);
  };
  // The failed attempt of log-2 is retried after 1 s; its latest answer is the retry's.
  ASSERT_TRUE(eventually([&] { return nomba_events(receiver).size() >= 4; }, 10s));
  ASSERT_TRUE(eventually(
      [&] { return int_at(only_delivery(merchant_, "?transactionId=log-2"), "attemptCount") == 2; },
      5s));
  const auto all = logs("{}");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(logged_request_ids(all), (std::vector<std::string>{third, second, first}));
  const auto oldest = parse_json(all.body).find("data")->find("list")->as_array().back();
  EXPECT_EQ(string_at(oldest, "webhookUrl"), receiver.url());
  EXPECT_EQ(string_at(oldest, "eventType"), "payment_success");
  EXPECT_EQ(string_at(oldest, "responsePayload"), "received, thank ");  // 16 bytes kept
  EXPECT_EQ(int_at(oldest, "responseHttpStatus"), 200);
  EXPECT_EQ(string_at(oldest, "eventId").rfind("evt_", 0), 0U);
  EXPECT_EQ(json_at(*parse_json(all.body).find("data"), "pageToken"), "null");
  EXPECT_EQ(logged_request_ids(logs(R"({"eventType":"payment_failed"})")),
            std::vector<std::string>{second});
  // Paging: two, then the last one.
  const auto page = logs(R"({"limit":2})");
  EXPECT_EQ(logged_request_ids(page), (std::vector<std::string>{third, second}));
  const auto token = string_at(*parse_json(page.body).find("data"), "pageToken");
  ASSERT_FALSE(token.empty());
  const auto rest = logs(R"({"limit":2,"pageToken":")" + token + R"("})");
  EXPECT_EQ(logged_request_ids(rest), std::vector<std::string>{first});
  // Days, UTC: today holds them all, yesterday none.
  const auto now = std::chrono::system_clock::now();
  const auto day = [](std::chrono::system_clock::time_point at) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[16] = {};
    (void)std::strftime(text, sizeof text, "%Y-%m-%d", &utc);
    return std::string(text);
  };
  const auto today = day(now);
  const auto yesterday = day(now - std::chrono::hours(24));
  EXPECT_EQ(logged_request_ids(
                logs(R"({"startDateTime":")" + today + R"(","endDateTime":")" + today + R"("})"))
                .size(),
            3U);
  EXPECT_TRUE(logged_request_ids(logs(R"({"endDateTime":")" + yesterday + R"("})")).empty());
  // Another merchant sees none of them.
  const auto other = create_merchant("Other Shop");
  const auto other_tokens = client_credentials(other);
  EXPECT_TRUE(
      logged_request_ids(hooks(other_tokens.access_token, other.merchant_id, "event-logs", "{}"))
          .empty());
  for (const std::string body :
       {"[", "[]", R"({"startDateTime":"2024-13-01"})", R"({"startDateTime":"2024-02-30"})",
        R"({"endDateTime":"2024-01-15T00:00:00Z"})", R"({"startDateTime":20240115})",
        R"({"startDateTime":"2024-01-16","endDateTime":"2024-01-15"})", R"({"limit":"5"})",
        R"({"limit":0})", R"({"limit":101})", R"({"limit":2.5})", R"({"pageToken":"garbage"})",
        R"({"pageToken":5})", R"({"eventType":true})"}) {
    expect_nomba_error(logs(body), 400, "02");
  }
}

// ---- per-merchant amount unit (nomba-compat.md section 3) ------------------------------------

TEST_F(NombaTest, EachMerchantMayCarryItsOwnAmountUnit) {
  const auto other = create_merchant("Kobo Shop");
  const auto other_device = create_device(other, "TERM-02");
  EXPECT_EQ(json_at(parse_json(admin("GET", "/admin/v1/merchants/" + merchant_.merchant_id).body),
                    "nombaAmountUnit"),
            "null");
  const auto patched = admin("PATCH", "/admin/v1/merchants/" + merchant_.merchant_id,
                             R"({"nombaAmountUnit":"major"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(string_at(parse_json(patched.body), "nombaAmountUnit"), "major");
  EXPECT_EQ(string_at(parse_json(admin("GET", "/admin/v1/merchants/" + merchant_.merchant_id).body),
                      "nombaAmountUnit"),
            "major");
  auto terminal = connect_terminal(device_);
  auto other_terminal = connect_terminal(other_device);
  const auto tokens = client_credentials(merchant_);
  const auto other_tokens = client_credentials(other);
  const auto naira = push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                          R"({"merchantTxRef":"unit-1","amount":1000.5,"currency":"NGN"})");
  ASSERT_EQ(naira.status, 200) << naira.body;
  EXPECT_EQ(json_at(*parse_json(naira.body).find("data"), "amount"), "1000.5");
  EXPECT_EQ(string_at(read_frame(*terminal.ws, "payment.request"), "amount"), "1000.50");
  const auto kobo = push(other_tokens.access_token, other.merchant_id, "TERM-02",
                         R"({"merchantTxRef":"unit-1","amount":1000,"currency":"NGN"})");
  ASSERT_EQ(kobo.status, 200) << kobo.body;
  EXPECT_EQ(json_at(*parse_json(kobo.body).find("data"), "amount"), "1000");
  EXPECT_EQ(string_at(read_frame(*other_terminal.ws, "payment.request"), "amount"), "10.00");
  // Back to the gateway's default (minor): a fraction is refused again.
  ASSERT_EQ(
      admin("PATCH", "/admin/v1/merchants/" + merchant_.merchant_id, R"({"nombaAmountUnit":null})")
          .status,
      200);
  expect_nomba_error(push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                          R"({"merchantTxRef":"unit-2","amount":1000.5,"currency":"NGN"})"),
                     400, "02");
  for (const std::string body : {"", "[", "{}", R"({"nombaAmountUnit":"kobo"})",
                                 R"({"nombaAmountUnit":1})", R"({"nombaAmountUnit":"MAJOR"})"}) {
    (void)expect_error(admin("PATCH", "/admin/v1/merchants/" + merchant_.merchant_id, body), 400,
                       "VALIDATION_ERROR");
  }
  (void)expect_error(
      admin("PATCH", "/admin/v1/merchants/mch_nope", R"({"nombaAmountUnit":"major"})"), 404,
      "MERCHANT_NOT_FOUND");
}

// ---- terminalSerialNumber (nomba-compat.md section 5) ----------------------------------------

TEST_F(NombaTest, TheWebhookShowsTheSerialNumberTheTerminalPairedWith) {
  WebhookReceiver receiver;
  const auto endpoint = create_nomba_endpoint(merchant_, receiver);
  const auto code = signed_request(merchant_, "POST", "/v1/devices/codes", "");
  ASSERT_EQ(code.status, 201) << code.body;
  const auto paired = plain_request(
      "POST", "/v1/devices/pair",
      json::serialize(json::object({{"code", json::Value(string_at(parse_json(code.body), "code"))},
                                    {"serialNumber", "SN-NOMBA-9"}})));
  ASSERT_EQ(paired.status, 201) << paired.body;
  const auto body = parse_json(paired.body);
  const Device device{string_at(body, "deviceId"), string_at(body, "deviceSecret"),
                      string_at(body, "merchantId")};
  auto serial_terminal = connect_terminal(device);
  auto plain_terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  const auto pay = [&](HelloResult& terminal, const std::string& terminal_id,
                       const std::string& reference, std::size_t events_after) {
    ASSERT_EQ(push(tokens.access_token, merchant_.merchant_id, terminal_id,
                   R"({"merchantTxRef":")" + reference + R"(","amount":100,"currency":"NGN"})")
                  .status,
              200);
    (void)read_frame(*terminal.ws, "payment.request");
    ASSERT_TRUE(terminal.ws->send_json(result_frame(reference, "SUCCESS", "A1")));
    (void)read_frame(*terminal.ws, "payment.result.ack");
    ASSERT_TRUE(eventually([&] { return nomba_events(receiver).size() >= events_after; }, 10s));
  };
  pay(serial_terminal, device.device_id, "serial-1", 1);
  pay(plain_terminal, "TERM-01", "serial-2", 2);
  const auto events = nomba_events(receiver);
  ASSERT_EQ(events.size(), 2U);
  expect_signed(events[0], endpoint.secret);
  const auto& with_serial = *events[0].payload.find("data")->find("transaction");
  EXPECT_EQ(string_at(with_serial, "terminalSerialNumber"), "SN-NOMBA-9");
  // A terminal provisioned without pairing has no serial: the member is left out.
  const auto& without = *events[1].payload.find("data")->find("transaction");
  EXPECT_EQ(without.find("terminalSerialNumber"), nullptr);
}

}  // namespace
}  // namespace tillgate::ft
