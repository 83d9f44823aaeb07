// Settings that contradict each other stop `tillgate serve` before anything is opened:
// exit 1, a message naming both settings and their values, no "listening on", no database.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

class ConfigRelationsTest : public ::testing::Test {
 protected:
  CommandResult serve(EnvMap env) {
    env["TILLGATE_LISTEN"] = "127.0.0.1:0";
    env["TILLGATE_DB"] = "sqlite:" + db_path();
    return run_tillgate({"serve"}, env);
  }
  std::string db_path() const { return (dir_.path() / "tillgate.db").string(); }

  TempDir dir_{"tillgate-config-relations"};
};

TEST_F(ConfigRelationsTest, APerAddressCapAboveItsGlobalCapRefusesToStart) {
  const auto result = serve({{"TILLGATE_MAX_HTTP_CONNECTIONS", "50"},
                             {"TILLGATE_MAX_WAITING_PAYMENTS", "50"},
                             {"TILLGATE_MAX_HTTP_CONNECTIONS_PER_IP", "80"}});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_EQ(result.out.find("listening on"), std::string::npos) << result.out;
  for (const std::string needle : {"cannot start", "TILLGATE_MAX_HTTP_CONNECTIONS_PER_IP (80)",
                                   "at most", "TILLGATE_MAX_HTTP_CONNECTIONS (50)"}) {
    EXPECT_NE(result.err.find(needle), std::string::npos) << "missing '" << needle << "' in:\n"
                                                          << result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(db_path())) << "the store was opened";
}

TEST_F(ConfigRelationsTest, APongTimeoutNotBelowTheHeartbeatRefusesToStart) {
  const auto result = serve({{"TILLGATE_HEARTBEAT_S", "10"}, {"TILLGATE_PONG_TIMEOUT_S", "10"}});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(
      result.err.find("TILLGATE_PONG_TIMEOUT_S (10) must be less than TILLGATE_HEARTBEAT_S (10)"),
      std::string::npos)
      << result.err;
  EXPECT_FALSE(std::filesystem::exists(db_path())) << "the store was opened";
}

TEST_F(ConfigRelationsTest, AResumePageOverThePosOutboxRefusesToStart) {
  const auto result =
      serve({{"TILLGATE_POS_WS_MAX_OUTBOX", "16"}, {"TILLGATE_POS_WS_RESUME_PAGE", "17"}});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.err.find("TILLGATE_POS_WS_RESUME_PAGE (17) must be at most "
                            "TILLGATE_POS_WS_MAX_OUTBOX (16)"),
            std::string::npos)
      << result.err;
  EXPECT_FALSE(std::filesystem::exists(db_path())) << "the store was opened";
}

}  // namespace
}  // namespace tillgate::ft
