// nomba-compat.md against the real binary: a Nomba "Push Payment to Terminal" integration
// (token, push, webhook, lookup) runs with only its base URL and credentials changed.
// Tokens that are expired, for another account, tampered with or refreshed away are
// refused in Nomba's envelope, and every error of the push and the lookup keeps the main
// API's status with Nomba's code. Webhook signatures are checked with the openssl command
// line over a signing string this test builds itself from the received body.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "openapi_check.hpp"
#include "webhook_test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

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

  client::HttpResponse refresh(const Merchant& merchant, const std::string& refresh_token) {
    return issue_token(merchant.merchant_id,
                       json::object({{"grant_type", "refresh_token"},
                                     {"refresh_token", json::Value(refresh_token)}}));
  }

  client::HttpResponse push(const std::string& access_token, std::string_view account_id,
                            std::string_view terminal_id, std::string_view body) {
    return nomba_request(
        "POST", "/v1/terminals/payment-request/" + std::string(terminal_id), body,
        {{"Authorization", "Bearer " + access_token}, {"accountId", std::string(account_id)}});
  }

  client::HttpResponse lookup(const std::string& access_token, std::string_view account_id,
                              std::string_view query) {
    return nomba_request(
        "GET", "/v1/transactions/accounts/single?" + std::string(query), {},
        {{"Authorization", "Bearer " + access_token}, {"accountId", std::string(account_id)}});
  }

  // A "nomba" endpoint on the receiver; its validation ping must verify too.
  Endpoint create_nomba_endpoint(const Merchant& merchant, WebhookReceiver& receiver) {
    const auto res = signed_request(
        merchant, "POST", "/v1/webhooks/endpoints",
        json::serialize(json::object({{"url", json::Value(receiver.url())}, {"format", "nomba"}})));
    EXPECT_EQ(res.status, 201) << res.body;
    const auto created = parse_json(res.body);
    EXPECT_EQ(string_at(created, "format"), "nomba");
    return Endpoint{string_at(created, "endpointId"), string_at(created, "secret")};
  }

  // Every answer of these routes is the envelope: {code,description,data}, "00" only on 2xx.
  static void expect_envelope(const client::HttpResponse& res) {
    const auto body = parse_json(res.body);
    ASSERT_TRUE(body.is_object()) << res.body;
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
    EXPECT_TRUE(is_iso8601_ms(timestamp)) << timestamp;
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

TEST_F(NombaTest, TheNombaGuidesSequenceEndsInAVerifiedPaymentSuccess) {
  WebhookReceiver receiver;
  const auto endpoint = create_nomba_endpoint(merchant_, receiver);
  ASSERT_TRUE(receiver.wait_for(1, 5s));
  {  // The validation ping is signed the Nomba way too.
    const auto ping = receiver.requests().front();
    const auto payload = parse_json(ping.body);
    EXPECT_EQ(string_at(payload, "event_type"), "ping");
    const auto violations =
        openapi::Document::served().validate(payload, "#/components/schemas/NombaPingEvent");
    EXPECT_TRUE(violations.empty()) << openapi::describe(violations);
    EXPECT_EQ(ping.header("nomba-signature").value_or("(none)"),
              openssl_nomba_signature(endpoint.secret, payload,
                                      ping.header("nomba-timestamp").value_or("")));
  }
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
  EXPECT_TRUE(IsIsoMs(tokens.data.find("expiresAt")));

  // 2. Push the guide's body: 1000 is one thousand naira.
  const auto pushed = push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                           R"({"merchantTxRef":"55555555","amount":1000,"currency":"NGN"})");
  ASSERT_EQ(pushed.status, 200) << pushed.body;
  const auto data = *parse_json(pushed.body).find("data");
  EXPECT_EQ(string_at(data, "paymentId"), "55555555");
  EXPECT_EQ(string_at(data, "merchantTxRef"), "55555555");
  EXPECT_EQ(string_at(data, "status"), "pending");
  EXPECT_EQ(json_at(data, "amount"), "1000");
  EXPECT_EQ(string_at(data, "currency"), "NGN");
  EXPECT_TRUE(IsIsoMs(data.find("createdAt")));

  // 3. The terminal is asked for NGN 1000.00 and approves.
  const auto request = read_frame(*terminal.ws, "payment.request");
  EXPECT_EQ(string_at(request, "transactionId"), "55555555");
  EXPECT_EQ(string_at(request, "amount"), "1000.00");
  EXPECT_EQ(string_at(request, "currency"), "NGN");
  ASSERT_TRUE(terminal.ws->send_json(result_frame("55555555", "SUCCESS", "AUTH-777")));
  (void)read_frame(*terminal.ws, "payment.result.ack");

  // 4. The receiver gets payment_success in Nomba's POS payload, signed.
  ASSERT_TRUE(eventually([&] { return !nomba_events(receiver).empty(); }, 10s));
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
  EXPECT_EQ(string_at(transaction, "responseCode"), "00");
  EXPECT_EQ(string_at(transaction, "responseCodeMessage"), "Approved");
  EXPECT_EQ(json_at(transaction, "transactionAmount"), "1000");
  EXPECT_EQ(string_at(transaction, "currency"), "NGN");
  EXPECT_TRUE(IsIsoMs(transaction.find("time")));

  // 5. The lookup agrees, by either reference.
  for (const std::string query : {"merchantTxRef=55555555", "transactionRef=55555555"}) {
    const auto found = lookup(tokens.access_token, merchant_.merchant_id, query);
    ASSERT_EQ(found.status, 200) << found.body;
    const auto view = *parse_json(found.body).find("data");
    EXPECT_EQ(string_at(view, "paymentId"), "55555555");
    EXPECT_EQ(string_at(view, "terminalId"), "TERM-01");
    EXPECT_EQ(string_at(view, "status"), "PAYMENT_SUCCESSFUL");
    EXPECT_EQ(string_at(view, "responseCode"), "00");
    EXPECT_EQ(json_at(view, "amount"), "1000");
    EXPECT_TRUE(IsIsoMs(view.find("completedAt")));
  }
  // The main API sees the same transaction.
  EXPECT_EQ(transaction_status(merchant_, "55555555"), "COMPLETED");
}

TEST_F(NombaTest, ADeclineSendsPaymentFailedWithTheTerminalsCode) {
  WebhookReceiver receiver;
  const auto endpoint = create_nomba_endpoint(merchant_, receiver);
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  ASSERT_EQ(push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                 R"({"merchantTxRef":"order-51","amount":250.75,"currency":"NGN"})")
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
  EXPECT_EQ(string_at(*parse_json(found.body).find("data"), "status"), "PAYMENT_FAILED");
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
                push(other_tokens.access_token, merchant_.merchant_id, "TERM-01", body), 401, "03")
                .find("another accountId"),
            std::string::npos);
  expect_nomba_error(lookup(tokens.access_token, other.merchant_id, "merchantTxRef=x1"), 401, "03");

  // Tampered: the claims swapped for the other merchant's, the signature kept.
  const auto dot1 = tokens.access_token.find('.');
  const auto dot2 = tokens.access_token.find('.', dot1 + 1);
  const auto other_dot1 = other_tokens.access_token.find('.');
  const auto other_dot2 = other_tokens.access_token.find('.', other_dot1 + 1);
  const std::string swapped =
      tokens.access_token.substr(0, dot1) +
      other_tokens.access_token.substr(other_dot1, other_dot2 - other_dot1) +
      tokens.access_token.substr(dot2);
  expect_nomba_error(push(swapped, other.merchant_id, "TERM-01", body), 401, "03");
  std::string flipped = tokens.access_token;
  flipped[dot2 + 3] = flipped[dot2 + 3] == 'A' ? 'B' : 'A';
  expect_nomba_error(push(flipped, merchant_.merchant_id, "TERM-01", body), 401, "03");

  // Missing pieces and garbage.
  expect_nomba_error(nomba_request("POST", "/v1/terminals/payment-request/TERM-01", body,
                                   {{"accountId", merchant_.merchant_id}}),
                     401, "03");
  expect_nomba_error(nomba_request("POST", "/v1/terminals/payment-request/TERM-01", body,
                                   {{"Authorization", "Bearer " + tokens.access_token}}),
                     401, "03");
  expect_nomba_error(nomba_request("GET", "/v1/transactions/accounts/single?merchantTxRef=x1", {},
                                   {{"Authorization", "Basic " + tokens.access_token},
                                    {"accountId", merchant_.merchant_id}}),
                     401, "03");
  for (const std::string& garbage : std::vector<std::string>{
           "x", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", std::string(5000, 'a')}) {
    expect_nomba_error(push(garbage, merchant_.merchant_id, "TERM-01", body), 401, "03");
  }
  // The real token still works: the refusals above changed nothing.
  expect_nomba_error(push(tokens.access_token, merchant_.merchant_id, "TERM-01", body), 503, "04");
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
    descriptions.insert(expect_nomba_error(issue_token(account, body), 401, "03"));
  }
  EXPECT_EQ(descriptions.size(), 1U) << "the refusals tell which part was wrong";

  // No accountId header.
  expect_nomba_error(
      nomba_request("POST", "/v1/auth/token/issue", json::serialize(attempts.front().second), {}),
      401, "03");
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

TEST_F(NombaTest, ARefreshTokenWorksOnceAndItsReuseRevokesTheFamily) {
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
      expect_nomba_error(refresh(merchant_, first.refresh_token), 401, "03").find("already used"),
      std::string::npos);
  expect_nomba_error(refresh(merchant_, second.refresh_token), 401, "03");

  // Another merchant cannot use a refresh token, nor can garbage pass.
  const auto third = client_credentials(merchant_);
  const auto other = create_merchant("Other Shop");
  expect_nomba_error(
      issue_token(other.merchant_id,
                  json::object({{"grant_type", "refresh_token"},
                                {"refresh_token", json::Value(third.refresh_token)}})),
      401, "03");
  expect_nomba_error(refresh(merchant_, "rt_not-a-token"), 401, "03");
  expect_nomba_error(refresh(merchant_, std::string(10'000, 'x')), 401, "03");
  // ... and the attempt by the other merchant did not use it up.
  EXPECT_EQ(refresh(merchant_, third.refresh_token).status, 200);
}

TEST_F(NombaTest, RevokingTheApiKeyEndsItsTokens) {
  const auto tokens = client_credentials(merchant_);
  ASSERT_EQ(lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=none").status, 404);
  const auto revoked = admin("DELETE", "/admin/v1/merchants/" + merchant_.merchant_id + "/keys/" +
                                           merchant_.credentials.api_key);
  ASSERT_EQ(revoked.status, 204) << revoked.body;
  EXPECT_NE(expect_nomba_error(
                lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=none"), 401, "03")
                .find("revoked"),
            std::string::npos);
  expect_nomba_error(refresh(merchant_, tokens.refresh_token), 401, "03");
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
  EXPECT_NE(expect_nomba_error(
                lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=none"), 401, "03")
                .find("expired"),
            std::string::npos);
  EXPECT_NE(expect_nomba_error(refresh(merchant_, tokens.refresh_token), 401, "03").find("expired"),
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
      expect_nomba_error(push(access, account, "TERM-01", body), 503, "04").find("not connected"),
      std::string::npos);

  const auto description = expect_nomba_error(
      push(access, account, "TERM-01", R"({"merchantTxRef":"bad ref","amount":"1000"})"), 400,
      "02");
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
      409, "04");
  EXPECT_NE(expect_nomba_error(push(access, account, "TERM-01",
                                    R"({"merchantTxRef":"e1","amount":999,"currency":"NGN"})"),
                               409, "04")
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
  expect_nomba_error(lookup(access, account, "orderId=1"), 400, "02");
  expect_nomba_error(lookup(access, account, "merchantTxRef=a&transactionRef=b"), 400, "02");
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
            "no payment with merchantTxRef theirs-1");
  EXPECT_EQ(expect_nomba_error(lookup(access, account, "merchantTxRef=theirs-2"), 404, "01"),
            "no payment with merchantTxRef theirs-2");
  // Its push with our token and its accountId is refused, and our terminal is not theirs.
  expect_nomba_error(push(access, other.merchant_id, "THEIRS-01",
                          R"({"merchantTxRef":"mine-1","amount":1,"currency":"NGN"})"),
                     401, "03");
  expect_nomba_error(push(access, account, "THEIRS-01",
                          R"({"merchantTxRef":"mine-1","amount":1,"currency":"NGN"})"),
                     404, "01");
  // A pending payment reads PENDING_PAYMENT with no response code yet.
  const auto pending =
      lookup(other_tokens.access_token, other.merchant_id, "transactionRef=theirs-1");
  ASSERT_EQ(pending.status, 200) << pending.body;
  const auto view = *parse_json(pending.body).find("data");
  EXPECT_EQ(string_at(view, "status"), "PENDING_PAYMENT");
  EXPECT_EQ(json_at(view, "responseCode"), "null");
  EXPECT_EQ(json_at(view, "completedAt"), "null");
}

// A main-API request signed with x-api-key for a terminal called "payment-request" stays
// the main API's.
TEST_F(NombaTest, ASignedMainApiRequestOnTheSamePathIsTheMainApis) {
  create_device(merchant_, "payment-request");
  const auto res = signed_request(merchant_, "POST", "/v1/terminals/payment-request/payments",
                                  payment_body("10.00", "NGN", "main-1"));
  expect_error(res, 503, "TERMINAL_OFFLINE");
}

class NombaMinorUnitTest : public NombaTest {
 protected:
  EnvMap gateway_env() override {
    auto env = NombaTest::gateway_env();
    env["TILLGATE_NOMBA_AMOUNT_UNIT"] = "minor";
    return env;
  }
};

TEST_F(NombaMinorUnitTest, AmountsAreKoboBothWays) {
  WebhookReceiver receiver;
  create_nomba_endpoint(merchant_, receiver);
  auto terminal = connect_terminal(device_);
  const auto tokens = client_credentials(merchant_);
  const auto pushed = push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                           R"({"merchantTxRef":"kobo-1","amount":1000,"currency":"NGN"})");
  ASSERT_EQ(pushed.status, 200) << pushed.body;
  EXPECT_EQ(json_at(*parse_json(pushed.body).find("data"), "amount"), "1000");
  const auto request = read_frame(*terminal.ws, "payment.request");
  EXPECT_EQ(string_at(request, "amount"), "10.00");
  ASSERT_TRUE(terminal.ws->send_json(result_frame("kobo-1", "SUCCESS", "A1")));
  (void)read_frame(*terminal.ws, "payment.result.ack");
  ASSERT_TRUE(eventually([&] { return !nomba_events(receiver).empty(); }, 10s));
  EXPECT_EQ(json_at(*nomba_events(receiver).front().payload.find("data")->find("transaction"),
                    "transactionAmount"),
            "1000");
  const auto found = lookup(tokens.access_token, merchant_.merchant_id, "merchantTxRef=kobo-1");
  EXPECT_EQ(json_at(*parse_json(found.body).find("data"), "amount"), "1000");
  const auto stored = parse_json(get_transaction(merchant_, "kobo-1").body);
  EXPECT_EQ(string_at(*stored.find("request"), "amount"), "10.00");
  expect_nomba_error(push(tokens.access_token, merchant_.merchant_id, "TERM-01",
                          R"({"merchantTxRef":"kobo-2","amount":1000.5,"currency":"NGN"})"),
                     400, "02");
}

}  // namespace
}  // namespace tillgate::ft
