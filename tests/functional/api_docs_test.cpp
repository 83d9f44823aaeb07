// docs/api.md: the signing recipe a merchant copies (bash, curl, openssl) works against a
// real gateway as printed, for a GET, a GET with a query string, and a POST with a body.
// docs/nomba.md: the Nomba session (token, push, lookup with curl) takes a payment.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "openapi_check.hpp"
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

// A response as `curl -i` prints it.
struct Printed {
  int status = 0;
  client::HeaderList headers;
  std::string body;
};

Printed parse_printed(const std::string& out) {
  Printed printed;
  std::istringstream in(out);
  std::string line;
  bool headers_done = false;
  bool first = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (headers_done) {
      printed.body += (printed.body.empty() ? "" : "\n") + line;
    } else if (first) {
      first = false;
      const auto space = line.find(' ');  // "HTTP/1.1 200 OK"
      if (line.starts_with("HTTP/") && space != std::string::npos) {
        printed.status = std::atoi(line.c_str() + space + 1);
      }
    } else if (line.empty()) {
      headers_done = true;
    } else if (const auto colon = line.find(':'); colon != std::string::npos) {
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      printed.headers.emplace_back(line.substr(0, colon), value);
    }
  }
  return printed;
}

class ApiDocsTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    merchant_ = create_merchant("Recipe Shop");
    device_ = create_device(merchant_, "till-recipe");
    const std::string script =
        block_from_docs("docs/api.md", "<!-- recipe: signed-request -->", "bash");
    ASSERT_FALSE(script.empty());
    script_path_ = (dir_.path() / "signed-request.sh").string();
    std::ofstream(script_path_) << script;
  }

  // Runs the recipe as a merchant would: credentials in the environment, the request as
  // arguments. The printed response is checked against docs/openapi.json too.
  Printed run_recipe(const std::string& method, const std::string& target,
                     const std::string& body = {}) {
    std::string command = "TILLGATE_URL='" + gateway().url() + "' TILLGATE_API_KEY='" +
                          merchant_.credentials.api_key + "' TILLGATE_API_SECRET='" +
                          merchant_.credentials.api_secret + "' bash '" + script_path_ + "' " +
                          method + " '" + target + "'";
    if (!body.empty()) {
      command += " '" + body + "'";
    }
    const std::string out = run_shell(command + " 2>&1");
    auto printed = parse_printed(out);
    EXPECT_NE(printed.status, 0) << "the recipe printed no HTTP response:\n" << out;
    client::HttpResponse response{printed.status, printed.headers, printed.body};
    openapi::expect_documented(method, target, response);
    return printed;
  }

  TempDir dir_{"tillgate-recipe"};
  Merchant merchant_;
  Device device_;
  std::string script_path_;
};

TEST_F(ApiDocsTest, RecipeListsTheMerchantsTerminals) {
  const auto printed = run_recipe("GET", "/v1/terminals");
  ASSERT_EQ(printed.status, 200) << printed.body;
  const auto body = parse_json(printed.body);
  const auto* terminals = body.find("terminals");
  ASSERT_TRUE(terminals && terminals->is_array()) << printed.body;
  ASSERT_EQ(terminals->as_array().size(), 1u) << printed.body;
  EXPECT_EQ(string_at(terminals->as_array()[0], "terminalId"), "till-recipe");
}

TEST_F(ApiDocsTest, RecipeSignsTheQueryString) {
  const auto printed = run_recipe("GET", "/v1/transactions?limit=5&terminalId=till-recipe");
  ASSERT_EQ(printed.status, 200) << printed.body;
  const auto body = parse_json(printed.body);
  EXPECT_EQ(json_at(body, "transactions"), "[]");
  EXPECT_EQ(json_at(body, "nextCursor"), "null");
}

TEST_F(ApiDocsTest, RecipeSignsTheBody) {
  // The terminal is not connected: a correctly signed body gets as far as 503
  // TERMINAL_OFFLINE; a wrong body hash would be 401 INVALID_SIGNATURE.
  const auto printed = run_recipe(
      "POST", "/v1/terminals/till-recipe/payments",
      R"({"amount":"12.50","currency":"USD","paymentMethod":"CARD","webhookMode":false})");
  EXPECT_EQ(printed.status, 503) << printed.body;
  EXPECT_EQ(string_at(parse_json(printed.body), "code"), "TERMINAL_OFFLINE") << printed.body;
}

// docs/nomba.md's first payment, run as printed against an approving terminal.
TEST_F(ApiDocsTest, TheNombaSessionTakesAPayment) {
  const std::string session =
      block_from_docs("docs/nomba.md", "<!-- recipe: nomba-session -->", "bash");
  ASSERT_FALSE(session.empty());
  const std::string session_path = (dir_.path() / "nomba-session.sh").string();
  std::ofstream(session_path) << session;
  SimulatedTerminal terminal(gateway(), device_, "approve");
  ASSERT_TRUE(terminal.wait_online());
  const std::string out = run_shell(
      "BASE_URL='" + gateway().url() + "' ACCOUNT_ID='" + merchant_.merchant_id + "' CLIENT_ID='" +
      merchant_.credentials.api_key + "' CLIENT_SECRET='" + merchant_.credentials.api_secret +
      "' TERMINAL_ID=till-recipe REF=docs-1 bash '" + session_path + "' 2>&1; echo \"exit $?\"");
  EXPECT_NE(out.find(R"("paymentId":"docs-1")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("status":"SUCCESS")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("responseCode":"00")"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("exit 0")) << out;
  EXPECT_EQ(transaction_status(merchant_, "docs-1"), "COMPLETED");
}

}  // namespace
}  // namespace tillgate::ft
