#include "sim/commands.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <memory>
#include <string>

#include "client/http_client.hpp"
#include "crypto/crypto.hpp"
#include "domain/time.hpp"
#include "json/json.hpp"
#include "sim/terminal_simulator.hpp"

namespace tillgate::sim {

namespace {

constexpr int exit_failure = 1;

struct TerminalCommandOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string device_id;
  std::string device_secret;
  std::string pair_code;
  std::string serial_number;
  std::string model = "tillgate-sim";
  std::string behavior = "approve";
  std::string journal;
  int reconnect_delay_ms = 500;
};

[[noreturn]] void fail(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  throw CLI::RuntimeError(exit_failure);
}

void print_line(std::string_view text) {
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::cout << domain::format_iso8601(now) << " " << text << std::endl;
}

// POST /v1/devices/pair: trades a one-time code for a deviceId and deviceSecret.
void pair(TerminalCommandOptions& o, const client::HttpEndpoint& endpoint) {
  if (o.serial_number.empty()) {
    o.serial_number = "SIM-" + crypto::hex_encode(crypto::random_bytes(6));
  }
  client::HttpClient http(endpoint.host, endpoint.port, std::chrono::seconds(30));
  const auto body = json::serialize(json::object({{"code", json::Value(o.pair_code)},
                                                  {"serialNumber", json::Value(o.serial_number)},
                                                  {"model", json::Value(o.model)}}));
  client::HttpResponse res;
  try {
    res = http.request("POST", "/v1/devices/pair", body);
  } catch (const client::HttpError& e) {
    fail(std::string("pairing failed: ") + e.what());
  }
  const auto parsed = json::parse(res.body);
  if (res.status != 201 || !parsed || !parsed->find_string("deviceId") ||
      !parsed->find_string("deviceSecret")) {
    fail("pairing refused: HTTP " + std::to_string(res.status) + " " + res.body);
  }
  o.device_id = std::string(*parsed->find_string("deviceId"));
  o.device_secret = std::string(*parsed->find_string("deviceSecret"));
  // The secret is shown once so that the operator can restart this terminal without a new
  // code; it is the device's own credential, not the merchant's.
  print_line("paired: deviceId " + o.device_id + " deviceSecret " + o.device_secret +
             " merchantId " + std::string(parsed->find_string("merchantId").value_or("?")));
}

void run_terminal(TerminalCommandOptions o) {
  const auto endpoint = client::parse_http_url(o.url);
  if (!endpoint) {
    fail("--url must look like http://HOST:PORT, got '" + o.url + "'");
  }
  const auto behavior = parse_behavior(o.behavior);
  if (!behavior) {
    fail("unknown --behavior '" + o.behavior +
         "' (approve|decline|cancel|slow:MS|ignore|drop-after-ack)");
  }
  const bool has_credentials = !o.device_id.empty() && !o.device_secret.empty();
  if (has_credentials == !o.pair_code.empty()) {
    fail("give either --device-id and --device-secret, or --pair-code");
  }
  if (!o.pair_code.empty()) {
    pair(o, *endpoint);
  }
  if (o.journal.empty()) {
    o.journal = "tillgate-terminal-" + o.device_id + ".journal";
  }

  boost::asio::io_context ioc;
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  TerminalSimulatorOptions options;
  options.host = endpoint->host;
  options.port = endpoint->port;
  options.device_id = o.device_id;
  options.device_secret = o.device_secret;
  options.behavior = *behavior;
  options.journal_path = o.journal;
  options.reconnect_delay = std::chrono::milliseconds(o.reconnect_delay_ms);
  options.on_log = print_line;
  options.on_stopped = [&signals](std::string_view reason) {
    print_line("stopped: " + std::string(reason));
    signals.cancel();
  };
  std::unique_ptr<TerminalSimulator> simulator;
  try {
    simulator = std::make_unique<TerminalSimulator>(ioc.get_executor(), options);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  signals.async_wait([&simulator](boost::system::error_code ec, int) {
    if (!ec) {
      simulator->stop();
    }
  });
  print_line("terminal " + o.device_id + " (" + to_string(*behavior) + ") connecting to " + o.url +
             ", journal " + o.journal);
  simulator->start();
  ioc.run();
  const auto status = simulator->status();
  simulator.reset();
  if (status.failed) {
    throw CLI::RuntimeError(exit_failure);
  }
}

}  // namespace

void register_commands(CLI::App& app) {
  auto o = std::make_shared<TerminalCommandOptions>();
  auto* cmd = app.add_subcommand("terminal", "Run a simulated payment terminal until stopped");
  cmd->add_option("--url", o->url, "gateway base URL")
      ->envname("TILLGATE_URL")
      ->capture_default_str();
  cmd->add_option("--device-id", o->device_id, "this terminal's deviceId");
  cmd->add_option("--device-secret", o->device_secret, "its deviceSecret")
      ->envname("TILLGATE_DEVICE_SECRET");
  cmd->add_option("--pair-code", o->pair_code, "pair with this one-time code instead");
  cmd->add_option("--serial-number", o->serial_number, "serial number sent when pairing");
  cmd->add_option("--behavior", o->behavior, "approve|decline|cancel|slow:MS|ignore|drop-after-ack")
      ->capture_default_str();
  cmd->add_option("--journal", o->journal,
                  "result journal file (default tillgate-terminal-DEVICE.journal)");
  cmd->add_option("--reconnect-delay-ms", o->reconnect_delay_ms, "first wait after a drop")
      ->capture_default_str()
      ->check(CLI::Range(1, 600'000));
  cmd->callback([o] { run_terminal(*o); });
}

}  // namespace tillgate::sim
