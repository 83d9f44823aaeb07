// `tillgate admin` and `tillgate pay` against a running gateway (operations.md).
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class CliTest : public GatewayTest {
 protected:
  CommandResult admin_cli(std::vector<std::string> args) {
    std::vector<std::string> full{"admin", "--url", gateway().url(), "--token",
                                  gateway().admin_token()};
    full.insert(full.end(), args.begin(), args.end());
    return run_tillgate(full);
  }

  json::Value json_out(const CommandResult& result) {
    EXPECT_EQ(result.exit_code, 0) << "stdout:\n" << result.out << "stderr:\n" << result.err;
    return parse_json(result.out);
  }
};

TEST_F(CliTest, AdminCommandsProvisionMerchantsKeysAndDevices) {
  const auto created = json_out(admin_cli({"merchants", "create", "--name", "CLI Shop", "--json"}));
  const auto merchant_id = string_at(created, "merchantId");
  ASSERT_FALSE(merchant_id.empty());
  EXPECT_EQ(string_at(created, "name"), "CLI Shop");
  const Merchant merchant{
      merchant_id, "CLI Shop", {string_at(created, "apiKey"), string_at(created, "apiSecret")}};
  EXPECT_EQ(signed_request(merchant, "GET", "/v1/terminals").status, 200);

  const auto list = admin_cli({"merchants", "list", "--json"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(merchant_id), std::string::npos) << list.out;

  const auto got = json_out(admin_cli({"merchants", "get", merchant_id, "--json"}));
  EXPECT_EQ(string_at(got, "merchantId"), merchant_id);

  const auto key = json_out(admin_cli({"keys", "create", merchant_id, "--json"}));
  const Merchant second{
      merchant_id, "CLI Shop", {string_at(key, "apiKey"), string_at(key, "apiSecret")}};
  ASSERT_FALSE(second.credentials.api_key.empty());
  EXPECT_EQ(signed_request(second, "GET", "/v1/terminals").status, 200);
  const auto revoked = admin_cli({"keys", "revoke", merchant_id, second.credentials.api_key});
  EXPECT_EQ(revoked.exit_code, 0) << revoked.out << revoked.err;
  expect_error(signed_request(second, "GET", "/v1/terminals"), 401, "UNAUTHORIZED");

  const auto device = json_out(admin_cli({"devices", "create", merchant_id, "--device-id",
                                          "till-cli", "--label", "Front desk", "--json"}));
  EXPECT_EQ(string_at(device, "deviceId"), "till-cli");
  EXPECT_EQ(string_at(device, "merchantId"), merchant_id);
  EXPECT_EQ(string_at(device, "label"), "Front desk");
  EXPECT_FALSE(string_at(device, "deviceSecret").empty());

  // Human-readable output names the fields.
  const auto readable = admin_cli({"merchants", "create", "--name", "Readable"});
  EXPECT_EQ(readable.exit_code, 0) << readable.err;
  EXPECT_NE(readable.out.find("apiKey"), std::string::npos) << readable.out;
  EXPECT_NE(readable.out.find("merchantId"), std::string::npos) << readable.out;
}

TEST_F(CliTest, AdminCommandTakesUrlAndTokenFromTheEnvironment) {
  const auto result = run_tillgate(
      {"admin", "merchants", "create", "--name", "Env Shop", "--json"},
      {{"TILLGATE_URL", gateway().url()}, {"TILLGATE_ADMIN_TOKEN", gateway().admin_token()}});
  const auto created = json_out(result);
  EXPECT_EQ(string_at(created, "name"), "Env Shop");
}

TEST_F(CliTest, AdminCommandWithWrongTokenFails) {
  const auto result =
      run_tillgate({"admin", "--url", gateway().url(), "--token", "wrong", "merchants", "list"});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.err.find("UNAUTHORIZED"), std::string::npos) << result.err;
}

TEST_F(CliTest, PayCommandTakesAPayment) {
  const auto merchant = create_merchant("Pay Shop");
  const auto device = create_device(merchant, "till-pay");
  SimulatedTerminal terminal(gateway(), device, "approve");
  ASSERT_TRUE(terminal.wait_online());
  const EnvMap env{{"TILLGATE_URL", gateway().url()},
                   {"TILLGATE_API_KEY", merchant.credentials.api_key},
                   {"TILLGATE_API_SECRET", merchant.credentials.api_secret}};

  const auto readable =
      run_tillgate({"pay", "--terminal", device.device_id, "--amount", "12.34", "--currency", "USD",
                    "--method", "CARD", "--transaction-id", "TXN-CLI-1"},
                   env);
  EXPECT_EQ(readable.exit_code, 0) << readable.out << readable.err;
  EXPECT_NE(readable.out.find("SUCCESS"), std::string::npos) << readable.out;
  EXPECT_NE(readable.out.find("TXN-CLI-1"), std::string::npos) << readable.out;
  EXPECT_NE(readable.out.find("authorizationCode"), std::string::npos) << readable.out;

  const auto as_json =
      run_tillgate({"pay", "--terminal", device.device_id, "--amount", "1.00", "--currency", "USD",
                    "--method", "CASH", "--json", "--url", gateway().url(), "--api-key",
                    merchant.credentials.api_key, "--api-secret", merchant.credentials.api_secret});
  const auto body = json_out(as_json);
  EXPECT_EQ(string_at(body, "status"), "SUCCESS");
  const auto* payment = body.find("paymentResponse");
  ASSERT_NE(payment, nullptr) << as_json.out;
  EXPECT_EQ(string_at(*payment, "paymentMethod"), "CASH");
  EXPECT_EQ(string_at(*payment, "amount"), "1.00");
}

TEST_F(CliTest, PayCommandReportsErrors) {
  const auto merchant = create_merchant("Pay Shop");
  const auto offline = create_device(merchant, "till-offline");
  const EnvMap env{{"TILLGATE_URL", gateway().url()},
                   {"TILLGATE_API_KEY", merchant.credentials.api_key},
                   {"TILLGATE_API_SECRET", merchant.credentials.api_secret}};
  const auto not_found = run_tillgate(
      {"pay", "--terminal", "nope", "--amount", "1.00", "--currency", "USD", "--method", "CARD"},
      env);
  EXPECT_EQ(not_found.exit_code, 1) << not_found.out << not_found.err;
  EXPECT_NE(not_found.err.find("TERMINAL_NOT_FOUND"), std::string::npos) << not_found.err;

  const auto offline_result = run_tillgate({"pay", "--terminal", offline.device_id, "--amount",
                                            "1.00", "--currency", "USD", "--method", "CARD"},
                                           env);
  EXPECT_EQ(offline_result.exit_code, 1);
  EXPECT_NE(offline_result.err.find("TERMINAL_OFFLINE"), std::string::npos) << offline_result.err;

  const auto invalid = run_tillgate({"pay", "--terminal", offline.device_id, "--amount", "1.234",
                                     "--currency", "USD", "--method", "CARD"},
                                    env);
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_NE(invalid.err.find("VALIDATION_ERROR"), std::string::npos) << invalid.err;
}

}  // namespace
}  // namespace tillgate::ft
