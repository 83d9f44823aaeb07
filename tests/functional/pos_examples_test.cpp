// The runnable examples of docs/pos-guide.md (docs/examples/pos_session.mjs under Node.js
// with the `ws` package, docs/examples/pos_session.py with Debian's python3-websockets),
// run as a reader runs them against the real gateway and a simulated terminal: each must
// complete a payment, and the gateway must have recorded it.
#include <filesystem>
#include <map>
#include <regex>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path kSourceDir = TILLGATE_SOURCE_DIR;

class PosExamplesTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    merchant_ = create_merchant("Example Coffee");
    device_ = create_device(merchant_, "till-example");
    terminal_ = std::make_unique<SimulatedTerminal>(gateway(), device_, "approve");
    ASSERT_TRUE(terminal_->wait_online());
  }

  // Runs `argv` (an absolute program path first) from `cwd` with the session's settings;
  // asserts it completed the payment, and returns its transactionId.
  std::string run_session(std::vector<std::string> argv, const fs::path& cwd) {
    const EnvMap env{
        {"TILLGATE_URL", "ws://" + gateway().host() + ":" + std::to_string(gateway().port())},
        {"TILLGATE_API_KEY", merchant_.credentials.api_key},
        {"TILLGATE_AMOUNT", "7.25"}};
    const auto err_path = gateway().dir() / (fs::path(argv.back()).filename().string() + ".stderr");
    ChildProcess child(argv, env, cwd, err_path);
    const auto status = child.wait(60s);
    const auto out = child.stdout_text();
    const auto err = read_file(err_path);
    EXPECT_TRUE(status) << "the example did not end in 60 s\n" << out << err;
    EXPECT_EQ(status ? exit_code_of(*status) : -1, 0) << out << err;
    EXPECT_NE(out.find("terminal till-example online"), std::string::npos) << out;
    std::smatch match;
    static const std::regex complete(R"(paymentComplete (\S+) SUCCESS eventId evt_\S+)");
    EXPECT_TRUE(std::regex_search(out, match, complete)) << out << err;
    if (match.empty()) {
      return {};
    }
    const std::string transaction_id = match[1];
    EXPECT_NE(out.find("after reconnect: " + transaction_id + " is COMPLETED"), std::string::npos)
        << out;
    const auto res = get_transaction(merchant_, transaction_id);
    const auto transaction = parse_json(res.body);
    EXPECT_EQ(string_at(transaction, "status"), "COMPLETED") << res.body;
    const auto* request = transaction.find("request");
    EXPECT_EQ(request != nullptr ? string_at(*request, "amount") : "(no request)", "7.25")
        << res.body;
    return transaction_id;
  }

  Merchant merchant_;
  Device device_;
  std::unique_ptr<SimulatedTerminal> terminal_;
};

// Every ```js and ```python block of the guide is an excerpt, verbatim, of the example
// that the tests below run: the page cannot show code that was not run.
TEST(PosGuideTest, EveryCodeBlockOfTheGuideIsPartOfATestedExample) {
  const auto guide = read_file(kSourceDir / "docs/pos-guide.md");
  const std::map<std::string, std::string> examples{
      {"js", read_file(kSourceDir / "docs/examples/pos_session.mjs")},
      {"python", read_file(kSourceDir / "docs/examples/pos_session.py")}};
  std::map<std::string, int> blocks;
  static const std::regex fenced(R"(```(js|python)\n([\s\S]*?)```)");
  for (auto it = std::sregex_iterator(guide.begin(), guide.end(), fenced);
       it != std::sregex_iterator(); ++it) {
    const std::string language = (*it)[1];
    const std::string code = (*it)[2];
    ++blocks[language];
    EXPECT_NE(examples.at(language).find(code), std::string::npos)
        << "this " << language << " block of docs/pos-guide.md is not in its example:\n"
        << code;
  }
  EXPECT_GE(blocks["js"], 5);
  EXPECT_EQ(blocks["js"], blocks["python"]) << "each step in both languages";
}

TEST_F(PosExamplesTest, JavaScriptSessionUnderNodeCompletesAPayment) {
  const auto node = run_shell("command -v node");
  ASSERT_FALSE(node.empty()) << "Node.js is missing: run scripts/bootstrap";
  // `ws` (pinned) next to a copy of the example: Node resolves imports from the file's
  // folder. The build folder holds it; the gateway's build itself needs no Node.
  const fs::path dir = fs::path(TILLGATE_BINARY).parent_path() / "pos-examples";
  const auto modules =
      run_shell((kSourceDir / "scripts/pos-example-deps").string() + " " + dir.string() + " 2>&1");
  ASSERT_TRUE(fs::exists(dir / "node_modules/ws/package.json")) << modules;
  fs::copy_file(kSourceDir / "docs/examples/pos_session.mjs", dir / "pos_session.mjs",
                fs::copy_options::overwrite_existing);
  EXPECT_FALSE(run_session({node, "pos_session.mjs"}, dir).empty());
}

TEST_F(PosExamplesTest, PythonSessionWithDebiansWebsocketsCompletesAPayment) {
  // Debian's interpreter, where python3-websockets installs (not a python3 of another
  // origin earlier on PATH).
  const fs::path python = "/usr/bin/python3";
  ASSERT_TRUE(fs::exists(python)) << "run scripts/bootstrap";
  const auto probe = run_shell(python.string() + " -c 'import websockets' 2>&1 && echo ok");
  ASSERT_EQ(probe, "ok") << "python3-websockets is missing: run scripts/bootstrap";
  EXPECT_FALSE(
      run_session({python.string(), (kSourceDir / "docs/examples/pos_session.py").string()},
                  gateway().dir())
          .empty());
}

}  // namespace
}  // namespace tillgate::ft
