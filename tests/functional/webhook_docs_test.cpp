// docs/webhooks.md: the verifiers a merchant copies (bash + openssl, and Python) accept a
// real delivery captured by the receiver, and refuse it when the body, the secret or the
// timestamp is not the one signed.
#include <gtest/gtest.h>

#include <fstream>

#include "webhook_test_support.hpp"

namespace tillgate::ft {
namespace {

std::string shell_quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

class WebhookDocsTest : public WebhookTest {
 protected:
  void SetUp() override {
    WebhookTest::SetUp();
    const auto merchant = create_merchant();
    endpoint_ = create_endpoint(merchant, receiver_.url());
    const auto device = create_device(merchant);
    auto terminal = connect_terminal(device);
    pay_and_answer(merchant, device, terminal, "T-DOC", "SUCCESS");
    ASSERT_TRUE(wait_for_events(receiver_, {"T-DOC"}));
    delivery_ = received_events(receiver_).begin()->second.request;
    dir_ = gateway().dir();
  }

  std::string header(std::string_view name) const {
    return delivery_.header(name).value_or("(missing)");
  }

  WebhookReceiver receiver_;
  Endpoint endpoint_;
  ReceivedRequest delivery_;
  std::filesystem::path dir_;
};

TEST_F(WebhookDocsTest, TheBashVerifierAcceptsARealDeliveryAndNothingElse) {
  const auto script = block_from_docs("docs/webhooks.md", "<!-- verifier: bash -->", "bash");
  ASSERT_FALSE(script.empty());
  std::ofstream(dir_ / "verify-webhook.sh") << script;
  std::ofstream(dir_ / "body.json", std::ios::binary) << delivery_.body;
  std::ofstream(dir_ / "tampered.json", std::ios::binary) << delivery_.body << " ";
  const auto run = [&](const std::string& secret, const std::string& timestamp,
                       const std::string& body_file) {
    return run_shell("bash " + shell_quoted((dir_ / "verify-webhook.sh").string()) + " " +
                     shell_quoted(secret) + " " + shell_quoted(header("webhook-id")) + " " +
                     shell_quoted(timestamp) + " " + shell_quoted(header("webhook-signature")) +
                     " " + shell_quoted((dir_ / body_file).string()) + " 2>&1; echo \" exit=$?\"");
  };
  EXPECT_EQ(run(endpoint_.secret, header("webhook-timestamp"), "body.json"), "valid\n exit=0");
  EXPECT_EQ(run(endpoint_.secret, header("webhook-timestamp"), "tampered.json"),
            "no signature matches\n exit=1");
  EXPECT_EQ(run("whsec_" + std::string(43, 'A') + "=", header("webhook-timestamp"), "body.json"),
            "no signature matches\n exit=1");
  EXPECT_EQ(run(endpoint_.secret, "1700000000", "body.json"),
            "timestamp too far from now\n exit=1");
}

TEST_F(WebhookDocsTest, ThePythonVerifierAcceptsARealDeliveryAndNothingElse) {
  if (run_shell("command -v python3").empty()) {
    GTEST_SKIP() << "python3 is not installed";
  }
  const auto verifier = block_from_docs("docs/webhooks.md", "<!-- verifier: python -->", "python");
  ASSERT_FALSE(verifier.empty());
  std::ofstream(dir_ / "verifier.py") << verifier;
  std::ofstream(dir_ / "body.json", std::ios::binary) << delivery_.body;
  std::ofstream(dir_ / "check.py")
      << "import json, sys\n"
         "exec(open(sys.argv[1]).read())\n"
         "secret, headers = sys.argv[2], json.loads(sys.argv[3])\n"
         "body = open(sys.argv[4], 'rb').read()\n"
         "print(verify_webhook(secret, headers, body),\n"
         "      verify_webhook(secret, headers, body + b' '),\n"
         "      verify_webhook('whsec_' + 'A' * 43 + '=', headers, body),\n"
         "      verify_webhook(secret, dict(headers, **{'webhook-timestamp': '1700000000'}), "
         "body))\n";
  const auto headers = json::serialize(json::object({
      {"webhook-id", json::Value(header("webhook-id"))},
      {"webhook-timestamp", json::Value(header("webhook-timestamp"))},
      {"webhook-signature", json::Value(header("webhook-signature"))},
  }));
  EXPECT_EQ(run_shell("python3 " + shell_quoted((dir_ / "check.py").string()) + " " +
                      shell_quoted((dir_ / "verifier.py").string()) + " " +
                      shell_quoted(endpoint_.secret) + " " + shell_quoted(headers) + " " +
                      shell_quoted((dir_ / "body.json").string()) + " 2>&1"),
            "True False False False");
}

}  // namespace
}  // namespace tillgate::ft
