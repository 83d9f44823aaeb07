// Pairing with one-time codes and revocation (merchant-api.md section 5), against the real
// binary: the merchant's codes, a terminal redeeming one, DELETE closing its connection,
// and `tillgate terminal --pair-code`.
#include <sys/stat.h>

#include <cctype>
#include <regex>

#include "domain/time.hpp"
#include "sim/journal.hpp"
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

std::string lower(std::string text) {
  for (auto& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

// The `field`s of a VALIDATION_ERROR's details.
std::vector<std::string> detail_fields(const json::Value& error) {
  std::vector<std::string> fields;
  if (const auto* details = error.find("details"); details && details->is_array()) {
    for (const auto& detail : details->as_array()) {
      fields.push_back(string_at(detail, "field"));
      EXPECT_FALSE(string_at(detail, "problem").empty()) << json::serialize(detail);
    }
  }
  return fields;
}

class PairingTest : public GatewayTest {
 protected:
  // POST /v1/devices/codes, asserting 201; the parsed {code, expiresAt}.
  json::Value create_code(const Merchant& merchant, std::string_view body = {}) {
    const auto res = signed_request(merchant, "POST", "/v1/devices/codes", body);
    EXPECT_EQ(res.status, 201) << res.body;
    return parse_json(res.body);
  }

  std::string new_code(const Merchant& merchant, std::string_view label = {}) {
    const auto body = label.empty()
                          ? std::string()
                          : json::serialize(json::object({{"label", json::Value(label)}}));
    return string_at(create_code(merchant, body), "code");
  }

  // POST /v1/devices/pair, unsigned.
  client::HttpResponse pair(std::string_view code, std::string_view serial_number = "SN-0001",
                            std::string_view model = {}) {
    json::Object fields{{"code", json::Value(code)}, {"serialNumber", json::Value(serial_number)}};
    if (!model.empty()) {
      fields.push_back({"model", json::Value(model)});
    }
    return plain_request("POST", "/v1/devices/pair",
                         json::serialize(json::Value(std::move(fields))));
  }

  // A code, redeemed: the device's credentials (asserting 201).
  Device pair_new_device(const Merchant& merchant, std::string_view label = "Paired till",
                         std::string_view serial_number = "SN-0001") {
    const auto res = pair(new_code(merchant, label), serial_number);
    EXPECT_EQ(res.status, 201) << res.body;
    const auto body = parse_json(res.body);
    return Device{string_at(body, "deviceId"), string_at(body, "deviceSecret"),
                  string_at(body, "merchantId")};
  }

  // The terminal's entry in GET /v1/terminals, or null when it is not listed.
  json::Value listed_terminal(const Merchant& merchant, std::string_view device_id) {
    const auto res = signed_request(merchant, "GET", "/v1/terminals");
    EXPECT_EQ(res.status, 200) << res.body;
    const auto body = parse_json(res.body);
    if (const auto* terminals = body.find("terminals"); terminals && terminals->is_array()) {
      for (const auto& terminal : terminals->as_array()) {
        if (string_at(terminal, "deviceId") == device_id) {
          return terminal;
        }
      }
    }
    return json::Value();
  }

  client::HttpResponse revoke(const Merchant& merchant, std::string_view device_id) {
    return signed_request(merchant, "DELETE", "/v1/devices/" + std::string(device_id));
  }
};

TEST_F(PairingTest, CodeIsEightUnambiguousCharactersValidTenMinutes) {
  const auto merchant = create_merchant();
  const auto before = std::chrono::system_clock::now();
  const auto with_label = create_code(merchant, R"({"label":"Front till"})");
  const auto without_body = create_code(merchant);
  const auto after = std::chrono::system_clock::now();
  for (const auto* created : {&with_label, &without_body}) {
    const auto code = string_at(*created, "code");
    ASSERT_EQ(code.size(), 8u) << json::serialize(*created);
    EXPECT_EQ(code.find_first_not_of(kCodeAlphabet), std::string::npos) << code;
    ASSERT_TRUE(IsIsoMs(created->find("expiresAt"))) << json::serialize(*created);
    const auto expires_at = *domain::parse_iso8601(string_at(*created, "expiresAt"));
    EXPECT_GE(expires_at, before + 600s - 1s) << string_at(*created, "expiresAt");
    EXPECT_LE(expires_at, after + 600s + 1s) << string_at(*created, "expiresAt");
  }
  EXPECT_NE(string_at(with_label, "code"), string_at(without_body, "code"));
  // An empty JSON object is an empty request too.
  EXPECT_EQ(string_at(create_code(merchant, "{}"), "code").size(), 8u);
}

TEST_F(PairingTest, PairedTerminalSaysHelloAndTakesAPayment) {
  const auto merchant = create_merchant();
  const auto code = new_code(merchant, "Front till");
  const auto res = pair(code, "SN-4711", "Sim 2000");
  ASSERT_EQ(res.status, 201) << res.body;
  const auto body = parse_json(res.body);
  const Device device{string_at(body, "deviceId"), string_at(body, "deviceSecret"),
                      string_at(body, "merchantId")};
  EXPECT_EQ(device.device_id.rfind("dev_", 0), 0u) << res.body;
  EXPECT_FALSE(device.device_secret.empty()) << res.body;
  EXPECT_EQ(device.merchant_id, merchant.merchant_id);

  // Listed with the code's label and the terminal's own description.
  const auto listed = listed_terminal(merchant, device.device_id);
  ASSERT_TRUE(listed.is_object()) << "not listed";
  EXPECT_EQ(string_at(listed, "label"), "Front till");
  EXPECT_EQ(json_at(listed, "metadata"), R"({"serialNumber":"SN-4711","model":"Sim 2000"})");
  EXPECT_EQ(string_at(listed, "status"), "offline");

  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws && ws->is_open());
  EXPECT_EQ(string_at(hello_ok, "connectionId").rfind("conn_", 0), 0u);
  auto pending = pay_async(merchant, device.device_id, payment_body("12.34", "USD", "TXN-PAIR-1"));
  const auto request = read_frame(*ws, "payment.request", 10s);
  EXPECT_EQ(string_at(request, "transactionId"), "TXN-PAIR-1");
  ASSERT_TRUE(ws->send_json(ack_frame("TXN-PAIR-1")));
  ASSERT_TRUE(ws->send_json(result_frame("TXN-PAIR-1", "SUCCESS", "AUTH777777")));
  (void)read_frame(*ws, "payment.result.ack");
  const auto paid = await_response(pending, 15s);
  ASSERT_TRUE(paid.has_value()) << "the payment never answered";
  ASSERT_EQ(paid->status, 200) << paid->body;
  EXPECT_EQ(string_at(parse_json(paid->body), "status"), "SUCCESS") << paid->body;
}

TEST_F(PairingTest, CodeWorksOnlyOnce) {
  const auto merchant = create_merchant();
  const auto code = new_code(merchant);
  const auto first = pair(code, "SN-FIRST");
  ASSERT_EQ(first.status, 201) << first.body;
  const auto second = expect_error(pair(code, "SN-SECOND"), 400, "INVALID_PAIRING_CODE");
  EXPECT_NE(string_at(second, "message").find("new code"), std::string::npos)
      << json::serialize(second);
  // Only the first terminal exists; without a model, metadata holds only the serial number.
  const auto listed = signed_request(merchant, "GET", "/v1/terminals");
  const auto terminals = parse_json(listed.body);
  EXPECT_EQ(int_at(terminals, "count"), 1) << listed.body;
  const auto paired = listed_terminal(merchant, string_at(parse_json(first.body), "deviceId"));
  EXPECT_EQ(json_at(paired, "metadata"), R"({"serialNumber":"SN-FIRST"})");
}

TEST_F(PairingTest, UnknownCodeIsRefusedLikeAUsedOne) {
  const auto merchant = create_merchant();
  const auto used = new_code(merchant);
  ASSERT_EQ(pair(used).status, 201);
  const auto used_error = expect_error(pair(used), 400, "INVALID_PAIRING_CODE");
  // Well-formed but never issued (every character of the alphabet), and not a code at all:
  // the same answer, so a guesser learns nothing.
  for (const std::string code : {"ABCDEFGH", "not a code at all", "0O1IL"}) {
    SCOPED_TRACE(code);
    const auto error = expect_error(pair(code), 400, "INVALID_PAIRING_CODE");
    EXPECT_EQ(string_at(error, "message"), string_at(used_error, "message"));
    EXPECT_EQ(error.find("details"), nullptr) << json::serialize(error);
  }
}

TEST_F(PairingTest, CodeIsMatchedWhateverTheCaseAndGrouping) {
  const auto merchant = create_merchant();
  const auto code = new_code(merchant);
  const auto lower_case = pair(lower(code));
  EXPECT_EQ(lower_case.status, 201) << lower_case.body;

  // As a person may type a code read off a screen: "abcd-efgh", "ABCD EFGH".
  const auto grouped = new_code(merchant);
  const auto hyphenated = pair(lower(grouped.substr(0, 4)) + "-" + grouped.substr(4));
  EXPECT_EQ(hyphenated.status, 201) << hyphenated.body;
  const auto spaced = new_code(merchant);
  const auto with_spaces = pair(" " + spaced.substr(0, 4) + " " + spaced.substr(4) + " ");
  EXPECT_EQ(with_spaces.status, 201) << with_spaces.body;
}

TEST_F(PairingTest, PairingValidatesItsFieldsWithoutSpendingTheCode) {
  const auto merchant = create_merchant();
  const auto code = new_code(merchant);
  const std::string long_text(65, 'x');
  struct Case {
    std::string body;
    std::vector<std::string> fields;
  };
  const std::vector<Case> cases = {
      {"{}", {"code", "serialNumber"}},
      {R"({"code":12345678,"serialNumber":""})", {"code", "serialNumber"}},
      {R"({"code":")" + code + R"(","serialNumber":")" + long_text + R"(","model":")" + long_text +
           R"("})",
       {"serialNumber", "model"}},
      {R"({"code":")" + code + R"(","serialNumber":42,"model":true})", {"serialNumber", "model"}},
      {R"({"code":")" + code + R"(",)", {"body"}},
      {R"(["code"])", {"body"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    const auto error =
        expect_error(plain_request("POST", "/v1/devices/pair", c.body), 400, "VALIDATION_ERROR");
    EXPECT_EQ(detail_fields(error), c.fields) << json::serialize(error);
  }
  // 64 characters (not bytes) is the limit: "é" is two bytes.
  std::string serial_64;
  for (int i = 0; i < 64; ++i) {
    serial_64 += "\xC3\xA9";
  }
  const auto paired = pair(code, serial_64);
  EXPECT_EQ(paired.status, 201) << paired.body;
}

TEST_F(PairingTest, CodeRequestValidatesTheLabel) {
  const auto merchant = create_merchant();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {json::serialize(json::object({{"label", json::Value(std::string(201, 'L'))}})), "label"},
      {R"({"label":7})", "label"},
      {R"(["label"])", "body"},
      {"not json", "body"},
  };
  for (const auto& [body, field] : cases) {
    SCOPED_TRACE(body);
    const auto error = expect_error(signed_request(merchant, "POST", "/v1/devices/codes", body),
                                    400, "VALIDATION_ERROR");
    EXPECT_EQ(detail_fields(error), std::vector<std::string>{field}) << json::serialize(error);
  }
  const auto longest =
      json::serialize(json::object({{"label", json::Value(std::string(200, 'L'))}}));
  EXPECT_EQ(signed_request(merchant, "POST", "/v1/devices/codes", longest).status, 201);
}

TEST_F(PairingTest, PairingNeedsNoSignatureButCodesDo) {
  const auto merchant = create_merchant();
  const auto unsigned_code = plain_request("POST", "/v1/devices/codes", "{}");
  expect_error(unsigned_code, 401, "UNAUTHORIZED");
  // Merchant headers on a pairing request are not looked at: the terminal has no key.
  const auto code = new_code(merchant);
  const auto res = plain_request(
      "POST", "/v1/devices/pair",
      json::serialize(
          json::object({{"code", json::Value(code)}, {"serialNumber", json::Value("SN-NO-SIG")}})),
      {{"x-api-key", "tgk_nonsense"}, {"x-timestamp", "yesterday"}, {"x-signature", "bogus"}});
  EXPECT_EQ(res.status, 201) << res.body;
}

class PairingExpiryTest : public PairingTest {
 protected:
  EnvMap gateway_env() override { return {{"TILLGATE_PAIRING_CODE_TTL_S", "1"}}; }
};

TEST_F(PairingExpiryTest, ExpiredCodeIsRefused) {
  const auto merchant = create_merchant();
  const auto before = std::chrono::system_clock::now();
  const auto created = create_code(merchant);
  const auto expires_at = domain::parse_iso8601(string_at(created, "expiresAt"));
  ASSERT_TRUE(expires_at.has_value()) << json::serialize(created);
  EXPECT_LE(*expires_at, std::chrono::system_clock::now() + 1s);
  EXPECT_GE(*expires_at, before + 1s - 100ms);
  std::this_thread::sleep_until(*expires_at + 100ms);
  const auto error = expect_error(pair(string_at(created, "code")), 400, "INVALID_PAIRING_CODE");
  EXPECT_NE(string_at(error, "message").find("new code"), std::string::npos);
}

TEST_F(PairingTest, RevokingClosesTheConnectionAndTheSecretStopsWorking) {
  const auto merchant = create_merchant();
  const auto device = pair_new_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws && ws->is_open());
  ASSERT_EQ(terminal_status(merchant, device.device_id), "online");

  const auto revoked = revoke(merchant, device.device_id);
  EXPECT_EQ(revoked.status, 204) << revoked.body;
  EXPECT_TRUE(revoked.body.empty()) << revoked.body;
  const auto closed = ws->read(5s);
  ASSERT_EQ(closed.kind, WsEvent::Kind::closed) << closed.text;
  EXPECT_EQ(closed.close_code, 4001) << closed.detail;

  // The old secret: error UNAUTHORIZED, then close 4001.
  WsTestClient again(gateway().host(), gateway().port());
  again.connect();
  ASSERT_TRUE(again.send_json(hello_frame(device)));
  const auto refused = read_frame(again, "error");
  EXPECT_EQ(string_at(refused, "code"), "UNAUTHORIZED") << json::serialize(refused);
  const auto refused_close = again.read(5s);
  EXPECT_EQ(refused_close.kind, WsEvent::Kind::closed);
  EXPECT_EQ(refused_close.close_code, 4001) << refused_close.detail;

  EXPECT_TRUE(listed_terminal(merchant, device.device_id).is_null()) << "still listed";
  expect_error(signed_request(merchant, "POST", payments_path(device.device_id),
                              payment_body("1.00", "USD", "TXN-REVOKED")),
               404, "TERMINAL_NOT_FOUND");
  // Revoking again (a retry whose first answer was lost) answers the same.
  EXPECT_EQ(revoke(merchant, device.device_id).status, 204);
}

TEST_F(PairingTest, RevokingAnotherMerchantsTerminalIsNotFoundAndLeavesItConnected) {
  const auto owner = create_merchant("Owner");
  const auto other = create_merchant("Other");
  const auto device = pair_new_device(owner);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws && ws->is_open());

  const auto foreign = expect_error(revoke(other, device.device_id), 404, "TERMINAL_NOT_FOUND");
  const auto unknown = expect_error(revoke(other, "dev_doesnotexist"), 404, "TERMINAL_NOT_FOUND");
  // Exactly as if it did not exist: the same message but for the id.
  auto message_without_id = [](const json::Value& error, const std::string& id) {
    auto message = string_at(error, "message");
    if (const auto at = message.find(id); at != std::string::npos) {
      message.replace(at, id.size(), "ID");
    }
    return message;
  };
  EXPECT_EQ(message_without_id(foreign, device.device_id),
            message_without_id(unknown, "dev_doesnotexist"));

  EXPECT_TRUE(NoFrameWithin(*ws, 300ms));
  EXPECT_TRUE(ws->is_open());
  EXPECT_EQ(terminal_status(owner, device.device_id), "online");
}

// The `paired as dev_...` line of `tillgate terminal`.
std::string device_id_in(const std::string& line) {
  std::smatch match;
  static const std::regex pattern("(dev_[a-z0-9]+)");
  return std::regex_search(line, match, pattern) ? match[1].str() : std::string();
}

TEST_F(PairingTest, TerminalCommandPairsWithACodeAndApprovesAPayment) {
  const auto merchant = create_merchant();
  const auto code = new_code(merchant, "CLI till");
  const auto journal = gateway().dir() / "paired.journal";
  const std::vector<std::string> command{TILLGATE_BINARY,
                                         "terminal",
                                         "--url",
                                         gateway().url(),
                                         "--pair-code",
                                         lower(code),
                                         "--serial",
                                         "SIM-CLI-1",
                                         "--model",
                                         "Sim CLI",
                                         "--journal",
                                         journal.string(),
                                         "--reconnect-delay-ms",
                                         "100"};
  std::string device_id;
  std::string secret;
  {
    ChildProcess terminal(command, {}, gateway().dir(), gateway().dir() / "terminal.stderr");
    const auto line = terminal.wait_for_line("paired as", 15s);
    ASSERT_TRUE(line.has_value()) << terminal.stdout_text()
                                  << read_file(gateway().dir() / "terminal.stderr");
    device_id = device_id_in(*line);
    ASSERT_FALSE(device_id.empty()) << *line;
    ASSERT_TRUE(eventually([&] { return terminal_status(merchant, device_id) == "online"; }))
        << terminal.stdout_text() << read_file(gateway().dir() / "terminal.stderr");
    const auto listed = listed_terminal(merchant, device_id);
    EXPECT_EQ(string_at(listed, "label"), "CLI till");
    EXPECT_EQ(json_at(listed, "metadata"), R"({"serialNumber":"SIM-CLI-1","model":"Sim CLI"})");

    auto client = http(30s);
    const auto res =
        client::send_signed(client, merchant.credentials, "POST", payments_path(device_id),
                            payment_body("7.50", "USD", "TXN-PAIR-CLI-1"));
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(string_at(parse_json(res.body), "status"), "SUCCESS") << res.body;
    EXPECT_TRUE(
        eventually([&] { return read_file(journal).find("\"acked\"") != std::string::npos; }));
    EXPECT_EQ(exit_code_of(terminal.terminate(10s)), 0) << terminal.stdout_text();

    // The credentials sit next to the journal, readable by the owner only, and the secret
    // appears in no output.
    const auto credentials_path = journal.string() + ".credentials";
    const auto credentials = parse_json(read_file(credentials_path));
    EXPECT_EQ(string_at(credentials, "deviceId"), device_id);
    secret = string_at(credentials, "deviceSecret");
    ASSERT_FALSE(secret.empty());
    struct stat info {};
    ASSERT_EQ(::stat(credentials_path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    EXPECT_EQ(terminal.stdout_text().find(secret), std::string::npos);
    EXPECT_EQ(read_file(gateway().dir() / "terminal.stderr").find(secret), std::string::npos);
  }

  // The same command again (the code is spent by now): the saved credentials are used.
  ChildProcess restarted(command, {}, gateway().dir(), gateway().dir() / "restarted.stderr");
  ASSERT_TRUE(restarted.wait_for_line("using the saved credentials", 15s).has_value())
      << restarted.stdout_text() << read_file(gateway().dir() / "restarted.stderr");
  ASSERT_TRUE(eventually([&] { return terminal_status(merchant, device_id) == "online"; }))
      << restarted.stdout_text() << read_file(gateway().dir() / "restarted.stderr");
  auto client = http(30s);
  const auto res =
      client::send_signed(client, merchant.credentials, "POST", payments_path(device_id),
                          payment_body("2.00", "USD", "TXN-PAIR-CLI-2"));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(string_at(parse_json(res.body), "status"), "SUCCESS") << res.body;
  EXPECT_EQ(exit_code_of(restarted.terminate(10s)), 0) << restarted.stdout_text();
  EXPECT_EQ(restarted.stdout_text().find(secret), std::string::npos);
  EXPECT_EQ(gateway().stderr_text().find(secret), std::string::npos);
  EXPECT_EQ(gateway().stderr_text().find(code), std::string::npos);
  const auto charges = sim::count_journal_charges(journal.string());
  EXPECT_EQ(charges.size(), 2u) << read_file(journal);
}

TEST_F(PairingTest, TerminalCommandRefusesAnUnknownCodeAndDocumentsPairing) {
  const auto refused =
      run_tillgate({"terminal", "--url", gateway().url(), "--pair-code", "ABCDEFGH", "--journal",
                    (gateway().dir() / "refused.journal").string()});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("INVALID_PAIRING_CODE"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(gateway().dir() / "refused.journal.credentials"));
  EXPECT_FALSE(std::filesystem::exists(gateway().dir() / "refused.journal.credentials.tmp"));

  const auto help = run_tillgate({"terminal", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  for (const auto* option : {"--pair-code", "--serial", "--model", "--journal", ".credentials"}) {
    EXPECT_NE(help.out.find(option), std::string::npos) << option << "\n" << help.out;
  }
}

}  // namespace
}  // namespace tillgate::ft
