#include "app/gateway.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdio>
#include <optional>

#include "api/admin_auth.hpp"
#include "api/admin_routes.hpp"
#include "api/console_routes.hpp"
#include "api/device_routes.hpp"
#include "api/merchant_authenticator.hpp"
#include "api/nomba_auth.hpp"
#include "api/nomba_routes.hpp"
#include "api/payment_routes.hpp"
#include "api/route_table.hpp"
#include "api/router.hpp"
#include "api/service_routes.hpp"
#include "api/webhook_routes.hpp"
#include "app/logging.hpp"
#include "app/store_metrics.hpp"
#include "crypto/crypto.hpp"
#include "metrics/gateway_metrics.hpp"
#include "net/http_server.hpp"
#include "net/open_file_limit.hpp"
#include "net/rate_limiter.hpp"
#include "net/time_source.hpp"
#include "net/tls.hpp"
#include "net/upgrade_router.hpp"
#include "nomba/nomba_webhook_format.hpp"
#include "payments/coordinator.hpp"
#include "payments/node_sync.hpp"
#include "pos/pos_service.hpp"
#include "store/async_store.hpp"
#include "store/database_lock.hpp"
#include "store/database_url.hpp"
#include "store/node_store.hpp"
#include "terminal/terminal_service.hpp"
#include "webhooks/delivery_client.hpp"
#include "webhooks/dispatcher.hpp"
#include "webhooks/standard_format.hpp"

namespace tillgate::app {

namespace asio = boost::asio;
using std::chrono::seconds;

namespace {

// The webhook outbox's wake-up, on the event seam: a change that wrote an outbox event
// starts its delivery at once (otherwise the dispatcher finds it at its next look).
class WebhookWakeup final : public payments::PaymentEventListener {
 public:
  explicit WebhookWakeup(webhooks::WebhookDispatcher& dispatcher) : dispatcher_(dispatcher) {}
  void status_changed(const payments::PaymentStatusChanged& change) override {
    if (change.event_id) {
      dispatcher_.notify();
    }
  }

 private:
  webhooks::WebhookDispatcher& dispatcher_;
};

}  // namespace

struct Gateway::Parts {
  Parts(asio::io_context& io_context, Config config_in)
      : io(io_context),
        config(std::move(config_in)),
        tls(server_tls(config)),
        registry(config.limits.max_metric_series),
        metrics(registry),
        store_metrics(metrics),
        store(store::open_store(config.database_url, database_options(config)),
              store::open_store_readers(config.database_url, database_options(config)),
              config.limits.max_store_queue,
              store::StoreBatchSettings{
                  config.limits.store_batch_max,
                  std::chrono::microseconds(config.limits.store_batch_wait_us)}),
        auth_failures(config.limits.auth_failure_rate_limit_rps, config.limits.auth_failure_burst,
                      config.limits.max_rate_limit_keys),
        terminals(io_context.get_executor(), store, clock, auth_failures,
                  terminal_settings(config)),
        webhook_client(io_context.get_executor(), webhook_client_settings(config)),
        webhook_formats(make_webhook_formats(config)),
        webhooks(io_context.get_executor(), store, webhook_client, webhook_formats, clock,
                 dispatcher_settings(config, &metrics)),
        webhook_wakeup(webhooks),
        webhook_wakeup_subscription(payment_events.subscribe(webhook_wakeup)),
        coordinator(io_context.get_executor(), store, terminals.port(), clock, payment_events,
                    payment_settings(config, &metrics)),
        merchant_requests(config.rate_limit_rps, 2.0 * config.rate_limit_rps,
                          config.limits.max_rate_limit_keys),
        replay_guard(make_replay_guard(config, store)),
        merchant_auth(store, clock, seconds(config.signature_skew_s), *replay_guard),
        nomba_auth(store, clock),
        admin_auth(config.admin_token),
        service_routes(store, clock, &metrics),
        admin_routes(store, clock, request_limits(config)),
        payment_routes(store, coordinator, terminals.port(), clock, request_limits(config)),
        device_routes(store, terminals.port(), clock, device_route_settings(config)),
        webhook_routes(store, webhooks, clock, webhook_route_settings(config)),
        nomba_routes(store, coordinator, terminals.port(), nomba_auth, merchant_requests, clock,
                     webhooks, nomba_route_settings(config)),
        console_routes(config.console),
        pos(io_context.get_executor(), store, clock, auth_failures, merchant_auth, terminals.port(),
            coordinator, payment_events, merchant_requests, request_limits(config),
            pos_settings(config, &metrics)),
        routes(route_table(*this)),
        router(routes, api::Authenticators{merchant_auth, nomba_auth, admin_auth},
               api::RouterBudgets{auth_failures, merchant_requests}, clock, &metrics),
        server(io_context, server_limits(config), router, upgrades, clock, tls) {
    terminals.set_coordinator(coordinator);
    upgrades.add(std::string(terminal::kTerminalWebSocketPath), terminals.upgrade_handler());
    upgrades.add(std::string(pos::kPosWebSocketPath), pos.upgrade_handler());
    coordinator.set_webhook_outbox(webhooks);
    if (shared_database(config)) {  // PostgreSQL: one of many nodes
      node = std::make_unique<payments::NodeSync>(io_context.get_executor(), store, coordinator,
                                                  terminals.port(), clock, payment_events,
                                                  node_settings(config));
      coordinator.set_remote_terminals(*node);
    }
    // Read at scrape time, on the network thread that owns both counts.
    metrics.set_terminals_connected([this] { return static_cast<double>(terminals.connected()); });
    metrics.set_long_polls_waiting([this] { return static_cast<double>(coordinator.waiting()); });
    metrics.set_pos_clients_connected([this] { return static_cast<double>(pos.connected()); });
    store.set_observer(&store_metrics);  // batch sizes, commit times, queue depth
  }

  static pos::PosSettings pos_settings(const Config& c, metrics::GatewayMetrics* m) {
    pos::PosSettings s;
    s.metrics = m;
    s.heartbeat = seconds(c.heartbeat_s);
    s.pong_timeout = seconds(c.pong_timeout_s);
    s.write_timeout = seconds(c.limits.terminal_write_timeout_s);
    s.max_outbox_frames = c.limits.max_pos_outbox_frames;
    s.resume_window = seconds(c.limits.pos_resume_window_s);
    s.resume_page = c.limits.pos_resume_page;
    s.max_connections = c.limits.max_pos_connections;
    s.max_connections_per_address = c.limits.max_pos_connections_per_ip;
    s.require_signature = c.pos_ws_auth == "signed";
    return s;
  }
  static nomba::NombaAmountUnit nomba_amount_unit(const Config& c) {
    // The config already refused anything but "major" and "minor".
    return nomba::parse_nomba_amount_unit(c.nomba_amount_unit)
        .value_or(nomba::NombaAmountUnit::minor);
  }
  static webhooks::WebhookClientSettings webhook_client_settings(const Config& c) {
    webhooks::WebhookClientSettings s;
    s.attempt_timeout = std::chrono::milliseconds(c.webhook_attempt_timeout_ms);
    s.extra_ca_file = c.webhook_ca_file;
    s.allow_private_addresses = c.webhook_allow_private;
    return s;
  }
  static std::vector<std::chrono::seconds> schedule(const std::vector<int>& intervals_s) {
    return {intervals_s.begin(), intervals_s.end()};
  }
  // The webhook formats endpoints may have: standard, and Nomba's (nomba-compat.md).
  static webhooks::WebhookFormats make_webhook_formats(const Config& c) {
    webhooks::WebhookFormats formats(
        std::make_unique<webhooks::StandardWebhookFormat>(schedule(c.webhook_retry_s)));
    // Nomba's webhook shows transactionAmount in major units whatever the push's unit.
    formats.add(std::make_unique<nomba::NombaWebhookFormat>(schedule(c.nomba_webhook_retry_s),
                                                            nomba::NombaAmountUnit::major));
    return formats;
  }
  static webhooks::DispatcherSettings dispatcher_settings(const Config& c,
                                                          metrics::GatewayMetrics* m) {
    webhooks::DispatcherSettings s;
    s.metrics = m;
    s.max_in_flight = c.limits.max_webhook_in_flight;
    s.max_in_flight_per_endpoint = c.limits.max_webhook_in_flight_per_endpoint;
    s.batch_size = c.limits.webhook_batch;
    s.max_pings_in_flight = c.limits.max_webhook_pings_in_flight;
    s.logged_response_bytes = c.limits.webhook_logged_response_bytes;
    s.lease = std::chrono::seconds(c.limits.webhook_lease_s);
    return s;
  }

  // The replay cache's policy, per database: a SQLite file serves one node (its writer
  // lock), which remembers in memory; PostgreSQL may serve several, which share the cache
  // in the database, so a request replayed to another node is refused there too.
  static std::unique_ptr<api::ReplayGuard> make_replay_guard(const Config& c,
                                                             store::AsyncStore& store) {
    if (!shared_database(c)) {
      return std::make_unique<api::MemoryReplayGuard>(c.limits.max_replay_cache_entries);
    }
    return std::make_unique<api::StoreReplayGuard>(store, c.limits.replay_purge_batch);
  }
  // PostgreSQL: a database several nodes may share. SQLite: one node's (its writer lock).
  static bool shared_database(const Config& c) {
    return !store::sqlite_database_path(c.database_url).has_value();
  }
  static store::DatabaseOptions database_options(const Config& c) {
    return store::DatabaseOptions{
        .statement_timeout = std::chrono::milliseconds(c.limits.db_statement_timeout_ms),
        .pool = c.limits.db_pool,
        .node_id = c.node_id};
  }
  static payments::NodeSettings node_settings(const Config& c) {
    return payments::NodeSettings{.node_id = c.node_id,
                                  .lease = seconds(c.limits.node_lease_s),
                                  .poll = std::chrono::milliseconds(c.limits.node_poll_ms),
                                  .reconnect_grace = seconds(c.reconnect_grace_s),
                                  .batch = c.limits.node_feed_batch};
  }
  static terminal::TerminalSettings terminal_settings(const Config& c) {
    terminal::TerminalSettings s;
    s.hello_timeout = seconds(c.hello_timeout_s);
    s.heartbeat = seconds(c.heartbeat_s);
    s.pong_timeout = seconds(c.pong_timeout_s);
    s.write_timeout = seconds(c.limits.terminal_write_timeout_s);
    s.max_frame_bytes = c.limits.max_terminal_frame_bytes;
    s.max_outbox_frames = c.limits.max_terminal_outbox_frames;
    s.max_connections = c.limits.max_terminal_connections;
    s.max_connections_per_address = c.limits.max_terminal_connections_per_ip;
    return s;
  }
  static payments::PaymentSettings payment_settings(const Config& c, metrics::GatewayMetrics* m) {
    return payments::PaymentSettings{
        .payment_timeout = seconds(c.payment_timeout_s),
        .reconnect_grace = seconds(c.reconnect_grace_s),
        .max_waiting = c.limits.max_waiting_payments,
        .store_retry_first = std::chrono::milliseconds(c.limits.store_retry_first_ms),
        .store_retry_max = std::chrono::milliseconds(c.limits.store_retry_max_ms),
        .metrics = m};
  }
  static views::RequestLimits request_limits(const Config& c) {
    views::RequestLimits limits;
    limits.max_json_depth = c.limits.max_json_depth;
    limits.max_products = c.limits.max_products;
    limits.max_product_bytes = c.limits.max_product_bytes;
    limits.max_metadata_keys = c.limits.max_metadata_keys;
    limits.max_metadata_key_chars = c.limits.max_metadata_key_chars;
    limits.max_metadata_depth = c.limits.max_metadata_depth;
    limits.max_metadata_bytes = c.limits.max_metadata_bytes;
    limits.max_customer_info_bytes = c.limits.max_customer_info_bytes;
    return limits;
  }
  static api::DeviceRouteSettings device_route_settings(const Config& c) {
    api::DeviceRouteSettings s;
    s.pairing_code_ttl = seconds(c.pairing_code_ttl_s);
    s.pair_rate_limit_rps = c.pair_rate_limit_rps;
    s.max_rate_limit_keys = c.limits.max_rate_limit_keys;
    s.request_limits = request_limits(c);
    return s;
  }
  static api::WebhookRouteSettings webhook_route_settings(const Config& c) {
    api::WebhookRouteSettings s;
    s.allow_http = c.webhook_allow_http;
    s.max_endpoints = c.limits.max_webhook_endpoints;
    s.request_limits = request_limits(c);
    return s;
  }
  static api::NombaRouteSettings nomba_route_settings(const Config& c) {
    api::NombaRouteSettings s;
    s.amount_unit = nomba_amount_unit(c);
    s.access_token_ttl = seconds(c.nomba_access_token_ttl_s);
    s.refresh_token_ttl = seconds(c.nomba_refresh_token_ttl_s);
    s.rotate_refresh_tokens = c.nomba_rotate_refresh_tokens;
    s.max_refresh_tokens_per_merchant = c.limits.max_refresh_tokens_per_merchant;
    s.max_json_depth = c.limits.max_json_depth;
    s.max_repush_ids = c.limits.nomba_max_repush_ids;
    return s;
  }
  // Every route of every surface, in one table: the router dispatches by it and labels
  // the metrics with it.
  static api::RouteTable route_table(Parts& p) {
    api::RouteTable table;
    p.service_routes.add_routes(table);
    p.admin_routes.add_routes(table);
    p.payment_routes.add_routes(table);
    p.device_routes.add_routes(table);
    p.webhook_routes.add_routes(table);
    p.nomba_routes.add_routes(table);
    p.console_routes.add_routes(table);
    // Any other path under /v1/ is the merchant API's: authenticated before its 404.
    table.add_unrouted("/v1/", api::Auth::merchant);
    return table;
  }
  // TLS termination: both files or neither. Loaded before the store is opened, so that a
  // wrong file stops the start before anything else happens.
  static std::shared_ptr<const net::ServerTls> server_tls(const Config& c) {
    constexpr const char* cert_setting = "TILLGATE_TLS_CERT_FILE";
    constexpr const char* key_setting = "TILLGATE_TLS_KEY_FILE";
    if (c.tls_cert_file.empty() && c.tls_key_file.empty()) {
      return nullptr;
    }
    if (c.tls_cert_file.empty() || c.tls_key_file.empty()) {
      const bool has_cert = !c.tls_cert_file.empty();
      throw ConfigError(std::string(has_cert ? key_setting : cert_setting) + " is not set but " +
                        (has_cert ? cert_setting : key_setting) + " is ('" +
                        (has_cert ? c.tls_cert_file : c.tls_key_file) +
                        "'): TLS needs both the certificate chain and its private key");
    }
    try {
      return std::make_shared<const net::ServerTls>(net::TlsFiles{c.tls_cert_file, c.tls_key_file});
    } catch (const net::TlsSetupError& error) {
      const bool certificate = error.part() == net::TlsSetupError::Part::certificate_chain;
      throw ConfigError(std::string(certificate ? cert_setting : key_setting) + ": " +
                        error.what());
    }
  }
  static net::HttpServerLimits server_limits(const Config& c) {
    net::HttpServerLimits s;
    s.max_body_bytes = c.limits.max_body_bytes;
    s.max_header_bytes = c.limits.max_header_bytes;
    s.read_timeout = seconds(c.limits.http_read_timeout_s);
    s.idle_timeout = seconds(c.limits.http_idle_timeout_s);
    s.write_timeout = seconds(c.limits.http_write_timeout_s);
    s.max_connections = c.limits.max_http_connections;
    s.max_connections_per_address = c.limits.max_http_connections_per_ip;
    return s;
  }

  asio::io_context& io;
  Config config;
  std::shared_ptr<const net::ServerTls> tls;  // null: plain HTTP and WebSocket
  net::SystemTimeSource
      clock;  // wall time; the timers of the terminal sessions and of the webhook dispatcher
  metrics::Registry registry;  // one per gateway: GET /metrics renders it
  metrics::GatewayMetrics metrics;
  StoreMetrics store_metrics;  // declared before the store: outlives its thread
  store::AsyncStore store;
  // Failed authentications per client address, HTTP 401s and refused terminal hellos
  // together: one budget per address, whichever door it knocks on.
  net::RateLimiter auth_failures;
  terminal::TerminalService terminals;
  webhooks::WebhookHttpClient webhook_client;  // one client: it loads the CA bundle once
  webhooks::WebhookFormats webhook_formats;
  webhooks::WebhookDispatcher webhooks;
  // The event seam: every committed status change and terminal presence change.
  payments::PaymentEvents payment_events;
  WebhookWakeup webhook_wakeup;  // starts the delivery of each event as it commits
  payments::PaymentEvents::Subscription webhook_wakeup_subscription;
  payments::PaymentCoordinator coordinator;
  // Requests per merchant, after authentication: the router's, and the Nomba token
  // grant's, which authenticates by itself.
  net::RateLimiter merchant_requests;
  // Signatures accepted: in memory on SQLite's one node, in the database on PostgreSQL's
  // several (make_replay_guard).
  std::unique_ptr<api::ReplayGuard> replay_guard;
  api::MerchantAuthenticator merchant_auth;
  api::NombaAuthenticator nomba_auth;
  api::AdminAuthenticator admin_auth;
  api::ServiceRoutes service_routes;
  api::AdminRoutes admin_routes;
  api::PaymentRoutes payment_routes;
  api::DeviceRoutes device_routes;
  api::WebhookRoutes webhook_routes;
  api::NombaRoutes nomba_routes;
  api::ConsoleRoutes console_routes;  // the embedded pages of docs/console.md
  // The merchant POS WebSocket (/v1), subscribed to payment_events (declared above).
  pos::PosService pos;
  api::RouteTable routes;  // of the surfaces above, which outlive it
  api::Router router;
  net::UpgradeRouter upgrades;  // WebSocket paths: the terminals', the POS API's
  net::HttpServer server;
  // PostgreSQL: this node among the others on the database, and what wakes it when another
  // commits (declared after it: stops first). Both null on SQLite.
  std::unique_ptr<payments::NodeSync> node;
  std::unique_ptr<store::ChangeListener> change_listener;
};

namespace {

// The relations between settings are checked before anything is opened or bound.
// A node without a configured name gets one of its own for this process.
Config checked(Config config) {
  check_relations(config);
  if (config.node_id.empty()) {
    constexpr std::size_t kNodeIdBytes = 6;
    config.node_id = "node-" + crypto::hex_encode(crypto::random_bytes(kNodeIdBytes));
  }
  return config;
}

}  // namespace

Gateway::Gateway(asio::io_context& io, Config config)
    : parts_(std::make_unique<Parts>(io, checked(std::move(config)))) {}

Gateway::~Gateway() = default;

store::Store& Gateway::store_for_setup() {
  return parts_->store.direct();
}

const net::ServerTls* Gateway::tls() const {
  return parts_->tls.get();
}

const api::RouteTable& Gateway::routes() const {
  return parts_->routes;
}

std::uint16_t Gateway::start() {
  auto& parts = *parts_;
  if (parts.node) {  // before the recovery: the feed begins before what recovery reads
    parts.node->join(parts.store.direct());
    parts.change_listener =
        store::listen_for_changes(parts.config.database_url, Parts::database_options(parts.config),
                                  [node = parts.node.get()] { node->wake(); });
  }
  const auto port = parts_->server.listen(parts_->config.listen_host, parts_->config.listen_port);
  parts_->server.start();
  parts_->webhooks.start();     // resumes the deliveries pending in the store
  parts_->coordinator.start();  // recovery of the unfinished transactions
  if (parts.node) {
    parts.node->start();
  }
  return port;
}

namespace {

asio::awaitable<void> stop_parts(Gateway::Parts* parts) {
  const auto grace = seconds(parts->config.shutdown_grace_s);
  spdlog::info("shutting down: letting requests in flight finish (at most {} s)", grace.count());
  co_await parts->server.shutdown(grace);
  co_await parts->pos.shutdown(std::chrono::milliseconds(2000));
  parts->coordinator.terminals_closing();
  co_await parts->terminals.shutdown(std::chrono::milliseconds(2000));
  if (parts->node) {  // releases its terminals (a stop is not their drop), ends its lease
    parts->change_listener.reset();
    co_await parts->node->shutdown(std::chrono::milliseconds(2000));
  }
  co_await parts->coordinator.shutdown(std::chrono::milliseconds(2000));
  co_await parts->webhooks.shutdown(std::chrono::milliseconds(2000));
  // The long-polls woke with the coordinator's shutdown: their connections end now.
  const std::chrono::milliseconds last_connections{2000};
  co_await parts->server.wait_stopped(last_connections);
}

}  // namespace

void Gateway::stop(std::function<void()> done) {
  asio::co_spawn(parts_->io, stop_parts(parts_.get()),
                 [done = std::move(done)](std::exception_ptr) { done(); });
}

store::DatabaseLock lock_database(const Config& config) {
  return store::lock_database(config.database_url);
}

// One signal stops the gateway gracefully. The wait is cancelled when the signal set goes
// with this frame; a cancelled handler that runs later (the demo runs the loop again)
// touches nothing.
int run_until_signal(asio::io_context& io, Gateway& gateway, std::function<void()> before_stop) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait(
      [&io, &gateway, &before_stop](const boost::system::error_code& ec, int signal_number) {
        if (ec) {
          return;
        }
        spdlog::info("received signal {}", signal_number);
        if (before_stop) {
          before_stop();
        }
        gateway.stop([&io] { io.stop(); });
      });
  io.run();
  return 0;
}

int run_serve(Config config) {
  configure_logging(config.log_level);
  // A file-size limit reached (ulimit -f) must fail the write, which the store reports and
  // the API answers 503 STORE_UNAVAILABLE, instead of killing the gateway mid-payment.
  std::signal(SIGXFSZ, SIG_IGN);
  net::raise_open_file_limit_for(config.limits.max_http_connections +
                                 config.limits.max_terminal_connections +
                                 config.limits.max_webhook_in_flight + 64);  // + files, SQLite
  asio::io_context io(1);
  // One gateway per database, for the whole life of the process: declared before the
  // gateway, released after its store thread has finished.
  std::optional<store::DatabaseLock> database_lock;
  std::unique_ptr<Gateway> gateway;
  std::uint16_t port = 0;
  try {
    database_lock.emplace(lock_database(config));
    gateway = std::make_unique<Gateway>(io, config);
    port = gateway->start();
  } catch (const std::exception& error) {
    spdlog::critical("cannot start: {}", error.what());
    std::fprintf(stderr, "tillgate: cannot start: %s\n", error.what());
    return 1;
  }
  std::printf("listening on %s:%u\n", config.listen_host.c_str(), static_cast<unsigned>(port));
  std::fflush(stdout);
  spdlog::info("listening on {}:{} with store {}", config.listen_host, port,
               config.database_url.substr(0, config.database_url.find(':')));
  if (const auto* tls = gateway->tls()) {
    spdlog::info(
        "TLS on: HTTPS and WSS only (TLS 1.2 ECDHE+AEAD or TLS 1.3), certificate {} from {}",
        tls->certificate_summary(), config.tls_cert_file);
  }

  const int exit_code = run_until_signal(io, *gateway);
  gateway.reset();  // joins the store thread after its queued work
  spdlog::info("stopped");
  return exit_code;
}

}  // namespace tillgate::app
