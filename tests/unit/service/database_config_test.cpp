// TILLGATE_DB_STATEMENT_TIMEOUT_MS: the bound of one database call (docs/scale-out.md), its
// default the store's own, its range.
#include <gtest/gtest.h>

#include "app/config.hpp"
#include "store/database_options.hpp"

namespace tillgate {
namespace {

TEST(DatabaseConfig, TheStatementTimeoutDefaultsToTheStoresBound) {
  const app::Config config;
  EXPECT_EQ(config.limits.db_statement_timeout_ms, 10'000);
  EXPECT_EQ(std::chrono::milliseconds(config.limits.db_statement_timeout_ms),
            store::DatabaseOptions{}.statement_timeout);
}

TEST(DatabaseConfig, TheStatementTimeoutIsSetWithinItsRange) {
  app::Config config;
  app::apply_environment(config, {{"TILLGATE_DB_STATEMENT_TIMEOUT_MS", "1500"}});
  EXPECT_EQ(config.limits.db_statement_timeout_ms, 1500);
  for (const char* refused : {"99", "600001", "0", "-1", "10s"}) {
    EXPECT_THROW(app::apply_environment(config, {{"TILLGATE_DB_STATEMENT_TIMEOUT_MS", refused}}),
                 app::ConfigError)
        << refused;
  }
  EXPECT_EQ(config.limits.db_statement_timeout_ms, 1500);
}

}  // namespace
}  // namespace tillgate
