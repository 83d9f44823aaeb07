// The webhook settings: the retry schedule, the attempt timeout, the CA file and the bounds.
#include <gtest/gtest.h>

#include "app/config.hpp"

namespace tillgate {
namespace {

TEST(WebhookConfig, DefaultsAreTheSpecsSchedule) {
  const app::Config config;
  EXPECT_EQ(config.webhook_retry_s, (std::vector<int>{5, 300, 1800, 7200, 18000, 36000, 36000}));
  EXPECT_EQ(config.webhook_attempt_timeout_ms, 10'000);
  EXPECT_FALSE(config.webhook_allow_http);
  EXPECT_TRUE(config.webhook_ca_file.empty());
  EXPECT_EQ(config.limits.max_webhook_endpoints, 16U);
  EXPECT_EQ(config.limits.max_webhook_in_flight, 256U);
  EXPECT_EQ(config.limits.max_webhook_in_flight_per_endpoint, 4U);
  EXPECT_EQ(config.limits.webhook_lease_s, 60);
}

TEST(WebhookConfig, EnvironmentSetsEveryWebhookSetting) {
  app::Config config;
  app::apply_environment(config, {{"TILLGATE_WEBHOOK_RETRY_S", "1,2,3"},
                                  {"TILLGATE_WEBHOOK_ALLOW_HTTP", "1"},
                                  {"TILLGATE_WEBHOOK_ATTEMPT_TIMEOUT_MS", "1500"},
                                  {"TILLGATE_WEBHOOK_CA_FILE", "/etc/tillgate/ca.pem"},
                                  {"TILLGATE_WEBHOOK_MAX_IN_FLIGHT", "32"},
                                  {"TILLGATE_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT", "2"},
                                  {"TILLGATE_WEBHOOK_BATCH", "10"},
                                  {"TILLGATE_WEBHOOK_MAX_PINGS_IN_FLIGHT", "8"},
                                  {"TILLGATE_WEBHOOK_LEASE_S", "15"}});
  EXPECT_EQ(config.webhook_retry_s, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(config.webhook_allow_http);
  EXPECT_EQ(config.webhook_attempt_timeout_ms, 1500);
  EXPECT_EQ(config.webhook_ca_file, "/etc/tillgate/ca.pem");
  EXPECT_EQ(config.limits.max_webhook_in_flight, 32U);
  EXPECT_EQ(config.limits.max_webhook_in_flight_per_endpoint, 2U);
  EXPECT_EQ(config.limits.webhook_batch, 10U);
  EXPECT_EQ(config.limits.max_webhook_pings_in_flight, 8U);
  EXPECT_EQ(config.limits.webhook_lease_s, 15);
}

TEST(WebhookConfig, NombaSettingsHaveNombasDefaultsAndAreSet) {
  const app::Config defaults;
  EXPECT_EQ(defaults.nomba_webhook_retry_s, (std::vector<int>{120, 280, 640, 1440, 3200}));
  EXPECT_EQ(defaults.nomba_access_token_ttl_s, 1800);
  EXPECT_EQ(defaults.nomba_refresh_token_ttl_s, 30 * 24 * 3600);
  EXPECT_EQ(defaults.limits.max_refresh_tokens_per_merchant, 100U);
  EXPECT_EQ(defaults.nomba_amount_unit, "minor");
  EXPECT_FALSE(defaults.nomba_rotate_refresh_tokens);
  app::Config config;
  app::apply_environment(config, {{"TILLGATE_NOMBA_WEBHOOK_RETRY_S", "1,1"},
                                  {"TILLGATE_NOMBA_ACCESS_TOKEN_TTL_S", "60"},
                                  {"TILLGATE_NOMBA_REFRESH_TOKEN_TTL_S", "3600"},
                                  {"TILLGATE_NOMBA_MAX_REFRESH_TOKENS", "5"},
                                  {"TILLGATE_NOMBA_AMOUNT_UNIT", "major"},
                                  {"TILLGATE_NOMBA_ROTATE_REFRESH_TOKENS", "1"}});
  EXPECT_EQ(config.nomba_webhook_retry_s, (std::vector<int>{1, 1}));
  EXPECT_EQ(config.nomba_access_token_ttl_s, 60);
  EXPECT_EQ(config.nomba_refresh_token_ttl_s, 3600);
  EXPECT_EQ(config.limits.max_refresh_tokens_per_merchant, 5U);
  EXPECT_EQ(config.nomba_amount_unit, "major");
  EXPECT_TRUE(config.nomba_rotate_refresh_tokens);
}

TEST(WebhookConfig, BadValuesNameTheSetting) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"TILLGATE_WEBHOOK_RETRY_S", ""},
           {"TILLGATE_WEBHOOK_RETRY_S", "5,,300"},
           {"TILLGATE_WEBHOOK_RETRY_S", "5, 300"},
           {"TILLGATE_WEBHOOK_RETRY_S", "0"},
           {"TILLGATE_WEBHOOK_RETRY_S", "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1"},
           {"TILLGATE_WEBHOOK_ATTEMPT_TIMEOUT_MS", "10"},
           {"TILLGATE_WEBHOOK_MAX_IN_FLIGHT", "0"},
           {"TILLGATE_WEBHOOK_LEASE_S", "0"},
           {"TILLGATE_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT", "many"},
           {"TILLGATE_NOMBA_WEBHOOK_RETRY_S", "0"},
           {"TILLGATE_NOMBA_ACCESS_TOKEN_TTL_S", "0"},
           {"TILLGATE_NOMBA_ACCESS_TOKEN_TTL_S", "86401"},
           {"TILLGATE_NOMBA_REFRESH_TOKEN_TTL_S", "-1"},
           {"TILLGATE_NOMBA_MAX_REFRESH_TOKENS", "0"},
           {"TILLGATE_NOMBA_AMOUNT_UNIT", "kobo"}}) {
    app::Config config;
    try {
      app::apply_environment(config, {{name, value}});
      ADD_FAILURE() << name << "=" << value << " was accepted";
    } catch (const app::ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(name), std::string::npos) << error.what();
    }
  }
}

}  // namespace
}  // namespace tillgate
