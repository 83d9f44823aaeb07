// The relations between settings (app::check_relations): the defaults hold them, and each
// broken relation is refused with both settings and their values named. Equal values are
// accepted where the relation is "at most".
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "app/config.hpp"

namespace tillgate {
namespace {

// check_relations(config) throws a ConfigError whose message holds every `needle`.
void expect_refused(const app::Config& config, std::initializer_list<std::string> needles) {
  try {
    app::check_relations(config);
    ADD_FAILURE() << "accepted";
  } catch (const app::ConfigError& error) {
    const std::string message = error.what();
    for (const auto& needle : needles) {
      EXPECT_NE(message.find(needle), std::string::npos)
          << "missing '" << needle << "' in: " << message;
    }
  }
}

// The configuration `change` makes from the defaults.
app::Config with(const std::function<void(app::Config&)>& change) {
  app::Config config;
  change(config);
  return config;
}

TEST(ConfigRelations, TheDefaultsHoldEveryRelation) {
  EXPECT_NO_THROW(app::check_relations(app::Config{}));
}

TEST(ConfigRelations, HttpPerAddressCapAtMostTheGlobalCap) {
  expect_refused(with([](app::Config& c) {
                   c.limits.max_http_connections = 10;
                   c.limits.max_waiting_payments = 10;
                   c.limits.max_http_connections_per_ip = 11;
                 }),
                 {"TILLGATE_MAX_HTTP_CONNECTIONS_PER_IP (11)", "TILLGATE_MAX_HTTP_CONNECTIONS (10)",
                  "at most"});
  EXPECT_NO_THROW(app::check_relations(with([](app::Config& c) {
    c.limits.max_http_connections = 10;
    c.limits.max_waiting_payments = 10;
    c.limits.max_http_connections_per_ip = 10;
  })));
}

TEST(ConfigRelations, WebhookLeaseAtLeastTwiceTheAttemptTimeout) {
  expect_refused(with([](app::Config& c) {
                   c.webhook_attempt_timeout_ms = 2'001;
                   c.limits.webhook_lease_s = 4;
                 }),
                 {"TILLGATE_WEBHOOK_LEASE_S (4 s)", "TILLGATE_WEBHOOK_ATTEMPT_TIMEOUT_MS (2001 ms)",
                  "at least twice"});
  EXPECT_NO_THROW(app::check_relations(with([](app::Config& c) {
    c.webhook_attempt_timeout_ms = 2'000;
    c.limits.webhook_lease_s = 4;
  })));
}

TEST(ConfigRelations, TerminalPerAddressCapAtMostTheGlobalCap) {
  expect_refused(with([](app::Config& c) {
                   c.limits.max_terminal_connections = 100;
                   c.limits.max_terminal_connections_per_ip = 101;
                 }),
                 {"TILLGATE_MAX_TERMINAL_CONNECTIONS_PER_IP (101)",
                  "TILLGATE_MAX_TERMINAL_CONNECTIONS (100)"});
}

TEST(ConfigRelations, LongPollsAtMostTheHttpConnections) {
  expect_refused(with([](app::Config& c) {
                   c.limits.max_http_connections = 500;
                   c.limits.max_http_connections_per_ip = 500;
                   c.limits.max_waiting_payments = 501;
                 }),
                 {"TILLGATE_MAX_WAITING_PAYMENTS (501)", "TILLGATE_MAX_HTTP_CONNECTIONS (500)"});
}

TEST(ConfigRelations, StoreBatchAtMostTheStoreQueue) {
  expect_refused(with([](app::Config& c) {
                   c.limits.max_store_queue = 100;
                   c.limits.store_batch_max = 101;
                 }),
                 {"TILLGATE_STORE_BATCH_MAX (101)", "TILLGATE_MAX_STORE_QUEUE (100)"});
  EXPECT_NO_THROW(app::check_relations(with([](app::Config& c) {
    c.limits.max_store_queue = 100;
    c.limits.store_batch_max = 100;
  })));
}

TEST(ConfigRelations, EndpointInFlightAtMostTheGlobalInFlight) {
  expect_refused(
      with([](app::Config& c) {
        c.limits.max_webhook_in_flight = 8;
        c.limits.max_webhook_in_flight_per_endpoint = 9;
      }),
      {"TILLGATE_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT (9)", "TILLGATE_WEBHOOK_MAX_IN_FLIGHT (8)"});
}

TEST(ConfigRelations, PongTimeoutLessThanTheHeartbeat) {
  expect_refused(with([](app::Config& c) { c.heartbeat_s = 10; }),
                 {"TILLGATE_PONG_TIMEOUT_S (10)", "less than", "TILLGATE_HEARTBEAT_S (10)"});
  expect_refused(with([](app::Config& c) { c.pong_timeout_s = 31; }),
                 {"TILLGATE_PONG_TIMEOUT_S (31)", "TILLGATE_HEARTBEAT_S (30)"});
  EXPECT_NO_THROW(app::check_relations(with([](app::Config& c) { c.heartbeat_s = 11; })));
}

TEST(ConfigRelations, NombaAccessTokenLivesAtMostAsLongAsTheRefreshToken) {
  expect_refused(
      with([](app::Config& c) {
        c.nomba_access_token_ttl_s = 3600;
        c.nomba_refresh_token_ttl_s = 60;
      }),
      {"TILLGATE_NOMBA_ACCESS_TOKEN_TTL_S (3600)", "TILLGATE_NOMBA_REFRESH_TOKEN_TTL_S (60)"});
}

TEST(ConfigRelations, PongTimeoutIsASetting) {
  app::Config config;
  app::apply_environment(config, {{"TILLGATE_PONG_TIMEOUT_S", "5"}});
  EXPECT_EQ(config.pong_timeout_s, 5);
  EXPECT_THROW(app::apply_environment(config, {{"TILLGATE_PONG_TIMEOUT_S", "0"}}),
               app::ConfigError);
}

}  // namespace
}  // namespace tillgate
