#include "sim/commands.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "client/http_client.hpp"
#include "crypto/crypto.hpp"
#include "domain/time.hpp"
#include "json/json.hpp"
#include "sim/credentials.hpp"
#include "sim/load_generator.hpp"
#include "sim/terminal_simulator.hpp"

namespace tillgate::sim {

namespace {

constexpr int exit_failure = 1;

struct TerminalCommandOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string ca_file;  // https:// or wss://: CAs trusted for the gateway's certificate
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

// The gateway's error body as "CODE: message", or the raw body when it is not one.
std::string describe_error(const client::HttpResponse& res) {
  const auto parsed = json::parse(res.body);
  const auto code = parsed ? parsed->find_string("code") : std::nullopt;
  const auto message = parsed ? parsed->find_string("message") : std::nullopt;
  if (code && message) {
    return std::string(*code) + ": " + std::string(*message);
  }
  return "HTTP " + std::to_string(res.status) + " " + res.body;
}

// POST /v1/devices/pair: trades a one-time code for a deviceId and deviceSecret, and keeps
// them in `credentials_path` (the secret is never printed). The file is claimed before the
// code is spent, so a code is not lost to an unwritable directory.
void pair(TerminalCommandOptions& o, const client::HttpEndpoint& endpoint,
          const std::string& credentials_path) {
  if (o.serial_number.empty()) {
    o.serial_number = "SIM-" + crypto::hex_encode(crypto::random_bytes(6));
  }
  std::optional<CredentialsWriter> writer;
  try {
    writer.emplace(credentials_path);
  } catch (const std::exception& e) {
    fail(std::string("cannot keep the credentials next to the journal: ") + e.what());
  }
  std::optional<client::HttpClient> http;
  try {
    http.emplace(endpoint, std::chrono::seconds(30), o.ca_file);
  } catch (const client::HttpError& e) {
    fail(std::string("--ca-file: ") + e.what());
  }
  json::Object fields{{"code", json::Value(o.pair_code)},
                      {"serialNumber", json::Value(o.serial_number)}};
  if (!o.model.empty()) {
    fields.push_back({"model", json::Value(o.model)});
  }
  const auto body = json::serialize(json::Value(std::move(fields)));
  client::HttpResponse res;
  try {
    // Not retried: a code pairs once, and a lost answer would spend it either way.
    res = http->request("POST", "/v1/devices/pair", body);
  } catch (const client::HttpError& e) {
    fail(std::string("pairing failed: ") + e.what());
  }
  const auto parsed = json::parse(res.body);
  if (res.status != 201 || !parsed || !parsed->find_string("deviceId") ||
      !parsed->find_string("deviceSecret")) {
    fail("pairing refused: " + describe_error(res));
  }
  const SavedCredentials credentials{std::string(*parsed->find_string("deviceId")),
                                     std::string(*parsed->find_string("deviceSecret")),
                                     std::string(parsed->find_string("merchantId").value_or(""))};
  o.device_id = credentials.device_id;
  o.device_secret = credentials.device_secret;
  try {
    writer->commit(credentials);
    print_line("paired as " + o.device_id + " (merchant " + credentials.merchant_id + ", serial " +
               o.serial_number + "); credentials saved in " + credentials_path);
  } catch (const std::exception& e) {
    print_line("paired as " + o.device_id + " (merchant " + credentials.merchant_id + ")");
    std::cerr << "warning: the credentials could not be saved (" << e.what()
              << "): this run works, a restart needs a new code; ask the merchant to revoke "
              << o.device_id << "\n";
  }
}

// Decides who this terminal is: --device-id/--device-secret as given, else the credentials
// saved next to the journal, else pairs with --pair-code and saves them. Returns the
// credentials file in use (empty with --device-id).
std::string resolve_identity(TerminalCommandOptions& o, const client::HttpEndpoint& endpoint) {
  if (!o.device_id.empty()) {
    if (o.device_secret.empty()) {
      fail("--device-id needs --device-secret (or TILLGATE_DEVICE_SECRET)");
    }
    if (!o.pair_code.empty()) {
      fail("give either --device-id and --device-secret, or --pair-code, not both");
    }
    if (o.journal.empty()) {
      o.journal = "tillgate-terminal-" + o.device_id + ".journal";
    }
    return {};
  }
  if (o.journal.empty()) {
    o.journal = "tillgate-terminal.journal";
  }
  const auto credentials_path = credentials_path_for(o.journal);
  std::optional<SavedCredentials> saved;
  try {
    saved = load_credentials(credentials_path);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  if (saved) {
    o.device_id = saved->device_id;
    o.device_secret = saved->device_secret;
    print_line("using the saved credentials of " + o.device_id + " from " + credentials_path);
    if (!o.pair_code.empty()) {
      print_line(
          "already paired: --pair-code not used (still valid for another terminal); "
          "delete " +
          credentials_path + " to pair this one again");
    }
    return credentials_path;
  }
  if (o.pair_code.empty()) {
    fail(
        "give --pair-code CODE (from the merchant) or --device-id and --device-secret; no "
        "saved credentials in " +
        credentials_path);
  }
  pair(o, endpoint, credentials_path);
  return credentials_path;
}

// The gateway's base URL: http:// and ws:// are plain, https:// and wss:// are TLS; the
// pairing request and the WebSocket go to the same host and port either way.
std::optional<client::HttpEndpoint> parse_gateway_url(std::string url) {
  if (url.starts_with("ws://")) {
    url = "http://" + url.substr(5);
  } else if (url.starts_with("wss://")) {
    url = "https://" + url.substr(6);
  }
  return client::parse_http_url(url);
}

void run_terminal(TerminalCommandOptions o) {
  const auto endpoint = parse_gateway_url(o.url);
  if (!endpoint) {
    fail("--url must look like http://HOST:PORT, https://, ws:// or wss://, got '" + o.url + "'");
  }
  const auto behavior = parse_behavior(o.behavior);
  if (!behavior) {
    fail("unknown --behavior '" + o.behavior +
         "' (approve|decline|cancel|slow:MS|ignore|drop-after-ack)");
  }
  const std::string credentials_path = resolve_identity(o, *endpoint);

  boost::asio::io_context ioc;
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  TerminalSimulatorOptions options;
  options.host = endpoint->host;
  options.port = endpoint->port;
  options.tls = endpoint->tls;
  options.ca_file = o.ca_file;
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
    if (!credentials_path.empty() && status.stop_reason.find("4001") != std::string::npos) {
      std::cerr << "if this terminal was revoked, delete " << credentials_path
                << " and pair it again with a new code\n";
    }
    throw CLI::RuntimeError(exit_failure);
  }
}

}  // namespace

void register_commands(CLI::App& app) {
  auto o = std::make_shared<TerminalCommandOptions>();
  auto* cmd = app.add_subcommand("terminal", "Run a simulated payment terminal until stopped");
  cmd->footer(
      "Identity: --device-id with --device-secret, or --pair-code CODE (a one-time code from\n"
      "POST /v1/devices/codes). A paired terminal keeps its deviceId and deviceSecret in\n"
      "JOURNAL.credentials (mode 0600) next to its journal and reuses them when started again\n"
      "with the same --journal, with or without --pair-code. The secret is never printed.");
  cmd->add_option("--url", o->url,
                  "gateway base URL: http:// or ws:// (plain), https:// or wss:// (TLS)")
      ->envname("TILLGATE_URL")
      ->capture_default_str();
  cmd->add_option("--ca-file", o->ca_file,
                  "TLS: PEM CAs to verify the gateway's certificate with (default: the "
                  "system's)")
      ->envname("TILLGATE_CA_FILE");
  cmd->add_option("--device-id", o->device_id, "this terminal's deviceId");
  cmd->add_option("--device-secret", o->device_secret, "its deviceSecret")
      ->envname("TILLGATE_DEVICE_SECRET");
  cmd->add_option("--pair-code", o->pair_code,
                  "pair with this one-time code instead (case and hyphens do not matter)");
  cmd->add_option("--serial,--serial-number", o->serial_number,
                  "serial number sent when pairing (default SIM- and 12 random hex digits)");
  cmd->add_option("--model", o->model, "model sent when pairing")->capture_default_str();
  cmd->add_option("--behavior", o->behavior, "approve|decline|cancel|slow:MS|ignore|drop-after-ack")
      ->capture_default_str();
  cmd->add_option("--journal", o->journal,
                  "result journal file (default tillgate-terminal-DEVICE.journal, or "
                  "tillgate-terminal.journal when pairing)");
  cmd->add_option("--reconnect-delay-ms", o->reconnect_delay_ms, "first wait after a drop")
      ->capture_default_str()
      ->check(CLI::Range(1, 600'000));
  cmd->callback([o] { run_terminal(*o); });
  register_bench_command(app);
}

}  // namespace tillgate::sim
