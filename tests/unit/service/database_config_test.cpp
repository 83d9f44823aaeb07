// TILLGATE_DB_STATEMENT_TIMEOUT_MS (the bound of one database call) and TILLGATE_DB_POOL (the
// store's connections), docs/scale-out.md: their defaults the store's own, their ranges.
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

TEST(DatabaseConfig, ThePoolDefaultsToTheStoresEightConnections) {
  const app::Config config;
  EXPECT_EQ(config.limits.db_pool, 8U);
  EXPECT_EQ(config.limits.db_pool, store::DatabaseOptions{}.pool);
}

TEST(DatabaseConfig, ThePoolIsSetWithinItsRange) {
  app::Config config;
  app::apply_environment(config, {{"TILLGATE_DB_POOL", "1"}});
  EXPECT_EQ(config.limits.db_pool, 1U);
  app::apply_environment(config, {{"TILLGATE_DB_POOL", "256"}});
  EXPECT_EQ(config.limits.db_pool, 256U);
  for (const char* refused : {"0", "257", "-1", "eight", "4.5"}) {
    EXPECT_THROW(app::apply_environment(config, {{"TILLGATE_DB_POOL", refused}}), app::ConfigError)
        << refused;
  }
  EXPECT_EQ(config.limits.db_pool, 256U);
}

}  // namespace
}  // namespace tillgate
