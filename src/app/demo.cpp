// `tillgate demo`: the gateway on a fresh SQLite file, a demo merchant, two simulated
// terminals and a webhook receiver of its own on the same event loop, with the console's
// URL, its credentials and a payment command printed ready to paste.
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "api/provisioning.hpp"
#include "app/demo_receiver.hpp"
#include "app/gateway.hpp"
#include "app/logging.hpp"
#include "domain/ids.hpp"
#include "sim/terminal_simulator.hpp"
#include "store/database_url.hpp"
#include "webhooks/events.hpp"
#include "webhooks/signature.hpp"

namespace tillgate::app {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDemoDatabase = "sqlite:./data/demo.db";
constexpr const char* kDemoDirectory = "data";  // the database (SQLite) and the journals

struct DemoTerminal {
  const char* device_id;
  const char* label;
  const char* behavior;
  const char* what;
};

constexpr DemoTerminal kTerminals[] = {
    {"demo-till-1", "Front counter", "approve", "approves every payment"},
    {"demo-till-2", "Back counter", "decline", "declines every payment"},
};

// The demo database is recreated on every run, so the printed secrets always match it.
// The previous demo's files: its terminals' journals, and its database when it is the
// demo's own SQLite file (a PostgreSQL database is the user's).
void remove_demo_files(bool database) {
  for (const char* name :
       {"demo.db", "demo.db-wal", "demo.db-shm", "demo-till-1.journal", "demo-till-2.journal"}) {
    if (database || std::string_view(name).ends_with(".journal")) {
      std::error_code ignored;
      fs::remove(fs::path(kDemoDirectory) / name, ignored);
    }
  }
}

// data/ for the journals: created private (0700), as the SQLite store creates it.
void create_demo_directory() {
  if (fs::create_directories(kDemoDirectory)) {
    fs::permissions(kDemoDirectory, fs::perms::owner_all, fs::perm_options::replace);
  }
}

std::string own_binary() {
  std::error_code ec;
  const auto path = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return "tillgate";
  }
  const auto relative = fs::relative(path, fs::current_path(), ec);
  if (ec || relative.empty() || relative.string().starts_with("..")) {
    return path.string();
  }
  return "./" + relative.string();
}

// The console needs WebCrypto, which browsers offer on http:// only for loopback names: a
// gateway listening on every address is shown by its loopback address.
std::string console_url(const Config& config, std::uint16_t port) {
  const bool any = config.listen_host == "0.0.0.0" || config.listen_host == "::";
  const bool v6 = !any && config.listen_host.find(':') != std::string::npos;
  const std::string host = any  ? "127.0.0.1"
                           : v6 ? "[" + config.listen_host + "]"
                                : config.listen_host;
  return "http://" + host + ":" + std::to_string(port) + "/console/";
}

void print_console(const Config& config, std::uint16_t port, std::uint16_t receiver_port) {
  if (config.console) {
    std::printf("\nOpen the console: %s\n", console_url(config, port).c_str());
    std::printf(
        "  sign in with the merchant API key and secret above (or the admin token),\n"
        "  then open its Virtual terminal and pair it with a code from Terminals.\n");
  }
  std::printf(
      "Webhooks of every payment go to the demo's receiver at http://127.0.0.1:%u/webhooks,\n"
      "  which verifies each signature and prints [webhook] lines here.\n",
      static_cast<unsigned>(receiver_port));
}

void print_banner(const Config& config, std::uint16_t port, const store::ApiKeyRecord& key,
                  const domain::Secret& admin_token) {
  const std::string url = "http://" + config.listen_host + ":" + std::to_string(port);
  std::printf("listening on %s:%u\n\n", config.listen_host.c_str(), static_cast<unsigned>(port));
  std::printf("Tillgate demo is running at %s (database %s)\n", url.c_str(),
              config.database_url.c_str());
  std::printf("  merchant id       %s (the Nomba API's accountId)\n", key.merchant_id.c_str());
  std::printf("  merchant API key  %s\n  merchant secret   %s\n", key.api_key.c_str(),
              key.api_secret.reveal().c_str());
  std::printf("  admin token       %s\n", admin_token.reveal().c_str());
  for (const auto& terminal : kTerminals) {
    std::printf("  terminal          %s (%s)\n", terminal.device_id, terminal.what);
  }
  const std::string binary = own_binary();
  std::printf("\nTake a payment (in another shell):\n\n");
  std::printf(
      "  %s pay --url %s --api-key %s --api-secret %s \\\n"
      "      --terminal demo-till-1 --amount 12.50 --currency USD --method CARD\n\n",
      binary.c_str(), url.c_str(), key.api_key.c_str(), key.api_secret.reveal().c_str());
  std::printf("Use --terminal demo-till-2 to see a decline. Ctrl-C stops the demo.\n");
  std::fflush(stdout);
}

std::unique_ptr<sim::TerminalSimulator> start_terminal(boost::asio::io_context& io,
                                                       const DemoTerminal& terminal,
                                                       const std::string& secret,
                                                       std::uint16_t port) {
  sim::TerminalSimulatorOptions options;
  options.port = port;
  options.device_id = terminal.device_id;
  options.device_secret = secret;
  options.behavior = *sim::parse_behavior(terminal.behavior);
  options.journal_path =
      (fs::path(kDemoDirectory) / (std::string(terminal.device_id) + ".journal")).string();
  options.on_log = [id = std::string(terminal.device_id)](std::string_view line) {
    std::printf("[%s] %.*s\n", id.c_str(), static_cast<int>(line.size()), line.data());
    std::fflush(stdout);
  };
  auto simulator = std::make_unique<sim::TerminalSimulator>(io.get_executor(), std::move(options));
  simulator->start();
  return simulator;
}

// The merchant's webhook endpoint at the demo's receiver: every payment event, standard
// format (webhooks.md), with a fresh secret the receiver verifies with.
void register_receiver(store::Store& store, const std::string& merchant_id,
                       const std::string& secret, std::uint16_t receiver_port,
                       domain::Timestamp now) {
  store::WebhookEndpointRecord endpoint;
  endpoint.endpoint_id = domain::new_prefixed_id("wh_");
  endpoint.merchant_id = merchant_id;
  endpoint.url = "http://127.0.0.1:" + std::to_string(receiver_port) + "/webhooks";
  endpoint.secret = domain::Secret(secret);
  std::string events = "[";
  for (const auto type : webhooks::payment_event_types) {
    events += (events.size() > 1 ? ",\"" : "\"") + std::string(type) + "\"";
  }
  endpoint.events_json = events + "]";
  endpoint.description = "tillgate demo's own receiver";
  endpoint.created_at = now;
  endpoint.updated_at = now;
  (void)store.insert_webhook_endpoint(endpoint, 1);
}

// Stops the receiver once the gateway has stopped the event loop: it runs the loop again
// until the receiver's server has closed.
void stop_receiver(boost::asio::io_context& io, DemoWebhookReceiver& receiver) {
  io.restart();
  bool stopped = false;
  boost::asio::co_spawn(io, receiver.stop(),
                        [&stopped](const std::exception_ptr&) { stopped = true; });
  while (!stopped && io.run_one() > 0) {
  }
}

// A start that failed after the gateway started: its tasks run, so it is stopped as on a
// signal before it goes.
void stop_started(boost::asio::io_context& io, Gateway& gateway,
                  std::vector<std::unique_ptr<sim::TerminalSimulator>>& terminals) {
  for (auto& terminal : terminals) {
    terminal->stop();
  }
  gateway.stop([&io] { io.stop(); });
  io.run();
}

// What the demo checks before it touches anything: its own terminals and its printed
// commands use plain HTTP on loopback; and it takes the database's lock first, so that a
// second demo cannot delete the files of the one running. False: refused (said on stderr).
bool claim_demo_database(const Config& config, std::optional<store::DatabaseLock>& database_lock) {
  if (!config.tls_cert_file.empty() || !config.tls_key_file.empty()) {
    std::fprintf(stderr,
                 "tillgate demo: cannot start: the demo serves plain HTTP; unset "
                 "TILLGATE_TLS_CERT_FILE and TILLGATE_TLS_KEY_FILE (use serve for TLS)\n");
    return false;
  }
  try {
    database_lock.emplace(lock_database(config));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tillgate demo: cannot start: %s\n", error.what());
    return false;
  }
  return true;
}

}  // namespace

int run_demo(Config config) {
  std::optional<store::DatabaseLock> database_lock;
  if (!claim_demo_database(config, database_lock)) {
    return 1;
  }
  remove_demo_files(config.database_url == kDemoDatabase);
  if (!config.admin_token) {
    config.admin_token = domain::new_secret("adm_");
  }
  configure_logging(config.log_level);
  boost::asio::io_context io(1);
  std::unique_ptr<Gateway> gateway;
  std::vector<std::unique_ptr<sim::TerminalSimulator>> terminals;
  const std::string webhook_secret = webhooks::generate_webhook_secret();
  DemoWebhookReceiver receiver(io, webhook_secret, [](std::string_view line) {
    std::printf("%.*s\n", static_cast<int>(line.size()), line.data());
    std::fflush(stdout);
  });
  std::uint16_t receiver_port = 0;
  bool started = false;
  try {
    create_demo_directory();  // the journals' (a PostgreSQL demo creates no database file)
    gateway = std::make_unique<Gateway>(io, config);
    auto& store = gateway->store_for_setup();
    const domain::SystemClock clock;
    const auto merchant = api::new_merchant("Demo Coffee", clock.now());
    const auto key = api::new_api_key(merchant.merchant_id, clock.now());
    store.insert_merchant(merchant);
    store.insert_api_key(key);
    std::vector<std::string> secrets;
    for (const auto& terminal : kTerminals) {
      auto device =
          api::new_device(merchant.merchant_id, terminal.device_id, terminal.label, clock.now());
      if (!store.insert_device(device.record)) {
        throw std::runtime_error(std::string("device id ") + terminal.device_id +
                                 " already exists in " + config.database_url);
      }
      secrets.push_back(device.device_secret.reveal());
    }
    receiver_port = receiver.start();
    register_receiver(store, merchant.merchant_id, webhook_secret, receiver_port, clock.now());
    const auto port = gateway->start();
    started = true;
    for (std::size_t i = 0; i < std::size(kTerminals); ++i) {
      terminals.push_back(start_terminal(io, kTerminals[i], secrets[i], port));
    }
    print_banner(config, port, key, *config.admin_token);
    print_console(config, port, receiver_port);
    std::printf("\n");
    std::fflush(stdout);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tillgate demo: cannot start: %s\n", error.what());
    if (started) {
      stop_started(io, *gateway, terminals);
    }
    stop_receiver(io, receiver);
    return 1;
  }
  const int exit_code = run_until_signal(io, *gateway, [&terminals] {
    for (auto& terminal : terminals) {
      terminal->stop();
    }
  });
  stop_receiver(io, receiver);
  terminals.clear();
  gateway.reset();
  return exit_code;
}

Config demo_defaults() {
  Config config;
  config.database_url = kDemoDatabase;
  config.log_level = "warn";  // the console shows the terminals' lines, not JSON logs
  // The demo's own webhook receiver listens on loopback over plain HTTP.
  config.webhook_allow_http = true;
  config.webhook_allow_private = true;
  return config;
}

}  // namespace tillgate::app
