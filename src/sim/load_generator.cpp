#include "sim/load_generator.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/request_signer.hpp"
#include "crypto/crypto.hpp"
#include "domain/time.hpp"
#include "json/json.hpp"
#include "json/member.hpp"
#include "net/open_file_limit.hpp"
#include "net/task_group.hpp"
#include "sim/bench_http.hpp"
#include "sim/bench_server.hpp"
#include "sim/bench_stats.hpp"
#include "sim/terminal_simulator.hpp"

namespace tillgate::sim {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;
using std::chrono::milliseconds;

// How long the bench waits for a stage that makes no progress before it gives up.
constexpr milliseconds kNoProgressTimeout{30'000};
constexpr milliseconds kAdminTimeout{30'000};
constexpr milliseconds kPollInterval{10};
// The bound on the wait for the bench's tasks once they are cancelled at the end. Each
// ends at its next suspension, so this is only reached by a bug.
constexpr milliseconds kTaskStopTimeout{5'000};
// The percentiles reported, and their JSON names.
const std::vector<double> kPercents{50, 90, 99, 99.9};
const std::vector<std::string> kPercentNames{"p50", "p90", "p99", "p99_9"};

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

json::Value number(double value, int decimals) {
  if (!std::isfinite(value)) {
    return json::Value(nullptr);
  }
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return json::Value(json::Number{text});
}

json::Value json_count(std::uint64_t value) {
  return json::Value(json::Number{std::to_string(value)});
}

json::Value optional_number(const std::optional<double>& value, int decimals) {
  return value ? number(*value, decimals) : json::Value(nullptr);
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string mib(std::optional<double> bytes) {
  return bytes ? fixed(*bytes / (1024.0 * 1024.0), 1) + " MiB" : "n/a";
}

struct TerminalSlot {
  std::string device_id;
  std::string device_secret;
  std::unique_ptr<TerminalSimulator> simulator;
  std::size_t owner = 0;  // the client whose payments go to this terminal
  bool ever_online = false;
  bool quarantined = false;  // its last payment may be unfinished: not used again
};

struct ClientSlot {
  explicit ClientSlot(const asio::any_io_executor& executor) : wake(executor) {}
  std::shared_ptr<bench::Connection> connection;
  std::deque<std::size_t> free_terminals;
  std::size_t live_terminals = 0;
  asio::steady_timer wake;  // cancelled when a terminal or an arrival is there for it
  bool idle = false;        // waiting for an arrival (open loop)
  bool in_idle_queue = false;
};

// Webhook mode: a payment between its request and the end of both its 202 and its webhook.
struct PendingPayment {
  Clock::time_point start;
  Clock::time_point deadline;
  std::size_t terminal = 0;
  bool measured = false;
  bool accepted = false;   // answered 202
  bool delivered = false;  // its webhook arrived
};

struct ServerMetrics {
  std::optional<std::vector<MetricSample>> before;
  std::optional<std::vector<MetricSample>> after;
};

// The members of a payment request's body that are the same for every payment, serialized
// once: {"amount":...,"currency":...,"paymentMethod":"CARD", without the closing brace.
std::string fixed_payment_members(const BenchOptions& o) {
  auto text = json::serialize(json::object({{"amount", json::Value(o.amount)},
                                            {"currency", json::Value(o.currency)},
                                            {"paymentMethod", json::Value("CARD")}}));
  text.pop_back();
  return text;
}

struct Bench {
  Bench(BenchOptions options, asio::io_context& io)
      : o(std::move(options)),
        payment_members(fixed_payment_members(o)),
        executor(io.get_executor()),
        tasks(executor, "bench"),
        ramp_wake(executor) {}

  BenchOptions o;
  std::string payment_members;  // fixed_payment_members(o)
  asio::any_io_executor executor;
  // Every coroutine the bench spawns (provisioning workers, connection openers, the arrival
  // generator, the webhook sweeper, payment clients, long polls). bench_main closes,
  // cancels and waits for it at the end; closed() then means the run is over, and a task
  // records nothing more. The Bench outlives its tasks: bench_main and run_bench hold it.
  net::TaskGroup tasks;
  tcp::endpoint server;
  // Every node the bench started (--nodes; server is the first): terminal t connects to
  // node t % N, and client c pays from node (c + 1) % N, so that with several nodes every
  // payment crosses from one node to another.
  std::vector<tcp::endpoint> nodes;
  std::vector<std::shared_ptr<bench::Connection>> node_admins;  // /metrics of nodes 2..N
  std::string admin_token;
  std::optional<pid_t> server_pid;  // when this process started the gateway
  std::vector<std::string> sources;
  std::string run_id;
  milliseconds timeout{120'000};
  std::shared_ptr<bench::Connection> admin;

  std::string merchant_id;
  client::MerchantCredentials merchant;
  std::optional<client::RequestSigner> signer;  // of `merchant`, once it is created
  std::vector<TerminalSlot> terminals;
  std::size_t provision_next = 0;
  std::size_t provision_running = 0;
  std::size_t connecting = 0;  // terminals started and not yet online for the first time
  std::size_t online_once = 0;
  std::size_t stopped_terminals = 0;
  asio::steady_timer ramp_wake;

  std::vector<std::unique_ptr<ClientSlot>> clients;
  std::size_t running_clients = 0;
  std::unique_ptr<bench::WebhookReceiver> receiver;
  std::unordered_map<std::string, PendingPayment> pending;
  std::deque<Clock::time_point> arrivals;
  std::deque<std::size_t> idle_clients;
  bool issuing = false;
  bool generator_done = true;
  bool sweeping = false;
  std::uint64_t sequence = 0;
  std::uint64_t measured_issued = 0;
  std::uint64_t measured_arrivals = 0;

  Clock::time_point bench_start = Clock::now();
  Clock::time_point run_start;
  Clock::time_point measure_start;
  Clock::time_point last_completion;

  // Results.
  LatencyRecorder latency;
  std::uint64_t completed = 0;         // measured payments that ended (any final status)
  std::uint64_t warmup_completed = 0;  // ended, but started in the warm-up
  std::map<std::string, std::uint64_t> outcomes;
  std::map<std::string, std::uint64_t> errors;
  std::uint64_t error_count = 0;
  std::uint64_t webhook_duplicates = 0;
  ServerMetrics metrics;
  std::optional<double> peak_rss;
  std::string peak_rss_source;
  // --idle: before the terminals connect and after the hold. --long-polls: with the
  // terminals connected, before the merchants' connections open; and the most while all
  // K payments are held (the gateway counts K waiting).
  std::optional<double> rss_before;
  std::optional<double> rss_after;
  std::size_t online_at_end = 0;
  double connect_seconds = 0;
  // --idle-terminals: those of them online when the payments ended.
  std::size_t idle_online_at_end = 0;
  // --long-polls
  std::size_t outstanding = 0;
  std::size_t max_outstanding = 0;
  std::size_t long_polls_sent = 0;
  std::size_t long_polls_done = 0;
  std::optional<double> server_waiting_max;

  std::string fatal;  // a setup failure: the run is void
};

using BenchPtr = std::shared_ptr<Bench>;

void note(const Bench& b, const std::string& text) {
  std::cerr << "bench [" << fixed(seconds_between(b.bench_start, Clock::now()), 1) << " s] " << text
            << std::endl;
}

void add_error(Bench& b, const std::string& key) {
  ++b.errors[key];
  ++b.error_count;
}

std::string describe(const bench::Response& response) {
  if (response.status == 0) {
    return "network " + response.failed_at + ": " + response.error.message();
  }
  const auto parsed = json::parse(response.body);
  const auto code = parsed && parsed->is_object() ? parsed->find_string("code") : std::nullopt;
  return "HTTP " + std::to_string(response.status) + (code ? " " + std::string(*code) : "");
}

std::string describe_fully(const bench::Response& response) {
  auto text = describe(response);
  if (response.status != 0) {
    text += ": " + response.body.substr(0, 300);
  }
  return text;
}

asio::awaitable<void> pause(BenchPtr b, milliseconds how_long) {
  asio::steady_timer timer(b->executor);
  timer.expires_after(how_long);
  error_code ignored;
  auto token = asio::redirect_error(asio::use_awaitable, ignored);
  co_await timer.async_wait(token);
}

// The wait on `timer` for at most `how_long`, to co_await; it ends early when the timer is
// cancelled (`ec` then says so). Not a coroutine: it returns the wait's awaitable.
asio::awaitable<void> nap(asio::steady_timer& timer, milliseconds how_long, error_code& ec) {
  timer.expires_after(how_long);
  return timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

using RequestPtr = std::shared_ptr<const bench::Request>;

RequestPtr admin_request(const Bench& b, std::string method, std::string target, std::string body) {
  auto request = std::make_shared<bench::Request>();
  request->method = std::move(method);
  request->target = std::move(target);
  request->body = std::move(body);
  request->headers.emplace_back("Authorization", "Bearer " + b.admin_token);
  return request;
}

RequestPtr signed_request(Bench& b, std::string method, std::string target, std::string body) {
  auto request = std::make_shared<bench::Request>();
  request->method = std::move(method);
  request->target = std::move(target);
  request->body = std::move(body);
  // The wall clock as it is: every body differs (its transactionId), so two requests never
  // share a signature, and the strictly increasing next_signing_timestamp() would run ahead
  // of the clock by a millisecond per request past 1,000 requests a second.
  const auto stamp = domain::format_iso8601(
      std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now()));
  request->headers = b.signer->sign(request->method, request->target, request->body, stamp);
  return request;
}

std::string payments_target(const std::string& device_id) {
  return "/v1/terminals/" + device_id + "/payments";
}

// {"amount","currency","paymentMethod":"CARD","transactionId"[,"webhookMode":true]}: the
// same bytes as serializing the whole object, with only the id written per payment.
std::string payment_body(const Bench& b, const std::string& transaction_id, bool webhook) {
  std::string body = b.payment_members;
  body += R"(,"transactionId":)";
  body += json::serialize(json::Value(transaction_id));
  body += webhook ? R"(,"webhookMode":true})" : "}";
  return body;
}

// The payment's status in a 200 answer ({"transactionId","status",...}): its top-level
// "status" member, read alone (json::parse_member), not the whole answer built as a
// document for the one string the bench reads. nullopt when it is absent, not a string, or
// the answer is not a JSON object.
std::optional<std::string> answered_status(const bench::Response& response) {
  const auto status = json::parse_member(response.body, "status");
  if (!status || !status->is_string()) {
    return std::nullopt;
  }
  return status->as_string();
}

asio::awaitable<std::optional<std::vector<MetricSample>>> scrape_node(
    std::shared_ptr<bench::Connection> connection) {
  auto get = std::make_shared<bench::Request>();
  get->target = "/metrics";
  const RequestPtr request = get;
  const auto response = co_await bench::exchange(std::move(connection), request, kAdminTimeout);
  if (response.status != 200) {
    co_return std::nullopt;
  }
  co_return parse_metrics_text(response.body);
}

// Every node's samples together: the sums (CPU, payments by outcome, store calls) are the
// whole gateway's, each payment counted once, by the node that committed it.
asio::awaitable<std::optional<std::vector<MetricSample>>> scrape_metrics(BenchPtr b) {
  auto samples = co_await scrape_node(b->admin);
  for (const auto& node : b->node_admins) {
    if (!samples) {
      co_return std::nullopt;
    }
    auto more = co_await scrape_node(node);
    if (!more) {
      co_return std::nullopt;
    }
    samples->insert(samples->end(), more->begin(), more->end());
  }
  co_return samples;
}

const tcp::endpoint& node_of_terminal(const Bench& b, std::size_t terminal) {
  return b.nodes.empty() ? b.server : b.nodes[terminal % b.nodes.size()];
}

const tcp::endpoint& node_of_client(const Bench& b, std::size_t client) {
  return b.nodes.empty() ? b.server : b.nodes[(client + 1) % b.nodes.size()];
}

// The gateway's resident memory now: /proc/PID/status VmRSS of the child this bench
// started, else its /metrics process_resident_memory_bytes.
asio::awaitable<std::optional<double>> server_rss(BenchPtr b) {
  if (b->server_pid) {
    const auto bytes = bench::proc_status_bytes(*b->server_pid, "VmRSS");
    co_return bytes ? std::optional<double>(static_cast<double>(*bytes)) : std::nullopt;
  }
  const auto samples = co_await scrape_metrics(b);
  co_return samples ? metric_sum(*samples, "process_resident_memory_bytes") : std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Provisioning through the admin API

asio::awaitable<void> create_merchant(BenchPtr b) {
  const std::string body =
      json::serialize(json::object({{"name", json::Value("bench " + b->run_id)}}));
  auto request = admin_request(*b, "POST", "/admin/v1/merchants", body);
  const auto response = co_await bench::exchange(b->admin, request, kAdminTimeout);
  const auto parsed = json::parse(response.body);
  if (response.status != 201 || !parsed || !parsed->find_string("apiKey") ||
      !parsed->find_string("apiSecret") || !parsed->find_string("merchantId")) {
    throw std::runtime_error("creating the merchant failed: " + describe_fully(response));
  }
  b->merchant_id = std::string(*parsed->find_string("merchantId"));
  b->merchant = {std::string(*parsed->find_string("apiKey")),
                 std::string(*parsed->find_string("apiSecret"))};
  b->signer.emplace(b->merchant);
}

asio::awaitable<void> provision_worker(BenchPtr b) {
  auto connection = std::make_shared<bench::Connection>(b->executor, b->server, b->sources.front());
  while (b->provision_next < b->terminals.size() && b->fatal.empty()) {
    const auto index = b->provision_next++;
    const std::string body =
        json::serialize(json::object({{"label", json::Value("bench " + std::to_string(index))}}));
    auto request =
        admin_request(*b, "POST", "/admin/v1/merchants/" + b->merchant_id + "/devices", body);
    const auto response = co_await bench::exchange(connection, request, kAdminTimeout);
    const auto parsed = json::parse(response.body);
    if (response.status != 201 || !parsed || !parsed->find_string("deviceId") ||
        !parsed->find_string("deviceSecret")) {
      b->fatal = "creating a device failed: " + describe_fully(response);
      break;
    }
    b->terminals[index].device_id = std::string(*parsed->find_string("deviceId"));
    b->terminals[index].device_secret = std::string(*parsed->find_string("deviceSecret"));
    if ((index + 1) % 10'000 == 0) {
      note(*b, std::to_string(index + 1) + " devices created");
    }
  }
  --b->provision_running;
  b->ramp_wake.cancel();
}

asio::awaitable<void> provision_devices(BenchPtr b, std::size_t count) {
  b->terminals.resize(count);
  const auto workers = std::max<std::size_t>(1, std::min(b->o.provision_concurrency, count));
  b->provision_running = workers;
  error_code ignored;
  for (std::size_t i = 0; i < workers; ++i) {
    b->tasks.spawn("provisioning worker", provision_worker(b));
  }
  while (b->provision_running > 0) {
    co_await nap(b->ramp_wake, milliseconds(100), ignored);
  }
  if (!b->fatal.empty()) {
    throw std::runtime_error(b->fatal);
  }
}

// ---------------------------------------------------------------------------------------
// Terminals

void on_terminal_online(const std::weak_ptr<Bench>& weak, std::size_t index) {
  const auto b = weak.lock();
  if (!b || b->terminals[index].ever_online) {
    return;
  }
  b->terminals[index].ever_online = true;
  ++b->online_once;
  --b->connecting;
  b->ramp_wake.cancel();
}

// Starts every terminal, at most connect_concurrency connecting at once, and waits until
// each has been online once. Throws when they stop coming online.
asio::awaitable<void> connect_terminals(BenchPtr b, Behavior behavior) {
  const std::weak_ptr<Bench> weak = b;
  error_code ignored;
  auto last_progress = Clock::now();
  std::size_t last_online = 0;
  const auto check_progress = [&] {
    if (b->online_once != last_online) {
      last_online = b->online_once;
      last_progress = Clock::now();
      if (last_online % 10'000 == 0) {
        note(*b, std::to_string(last_online) + " terminals online");
      }
    } else if (Clock::now() - last_progress > kNoProgressTimeout) {
      throw std::runtime_error(
          "terminals stopped coming online: " + std::to_string(b->online_once) + " of " +
          std::to_string(b->terminals.size()) +
          " (the open-file limit, the ephemeral ports of the source addresses, or the "
          "gateway's TILLGATE_MAX_TERMINAL_CONNECTIONS(_PER_IP)?)");
    }
  };
  for (std::size_t i = 0; i < b->terminals.size(); ++i) {
    while (b->connecting >= b->o.connect_concurrency) {
      co_await nap(b->ramp_wake, milliseconds(100), ignored);
      check_progress();
    }
    auto& slot = b->terminals[i];
    TerminalSimulatorOptions options;
    options.host = node_of_terminal(*b, i).address().to_string();
    options.port = node_of_terminal(*b, i).port();
    options.device_id = slot.device_id;
    options.device_secret = slot.device_secret;
    options.behavior = behavior;
    options.local_address = b->sources[i % b->sources.size()];
    options.on_online = [weak, i] { on_terminal_online(weak, i); };
    options.on_stopped = [weak](std::string_view) {
      if (const auto bench = weak.lock()) {
        ++bench->stopped_terminals;
      }
    };
    slot.simulator = std::make_unique<TerminalSimulator>(b->executor, std::move(options));
    ++b->connecting;
    slot.simulator->start();
  }
  while (b->online_once < b->terminals.size()) {
    co_await nap(b->ramp_wake, milliseconds(100), ignored);
    check_progress();
  }
}

// Of the terminals from index `first` on, those online now.
std::size_t terminals_online(const Bench& b, std::size_t first = 0) {
  std::size_t online = 0;
  for (std::size_t t = first; t < b.terminals.size(); ++t) {
    const auto& slot = b.terminals[t];
    online += slot.simulator && slot.simulator->status().online ? 1 : 0;
  }
  return online;
}

asio::awaitable<void> stop_terminals(BenchPtr b) {
  std::size_t started = 0;
  for (auto& slot : b->terminals) {
    if (slot.simulator) {
      slot.simulator->stop();
      ++started;
    }
  }
  const auto deadline = Clock::now() + milliseconds(20'000);
  while (b->stopped_terminals < started && Clock::now() < deadline) {
    co_await pause(b, milliseconds(50));
  }
}

// ---------------------------------------------------------------------------------------
// Payments

void release_terminal(Bench& b, std::size_t terminal) {
  auto& client = *b.clients[b.terminals[terminal].owner];
  client.free_terminals.push_back(terminal);
  client.wake.cancel();
}

void quarantine_terminal(Bench& b, std::size_t terminal) {
  auto& slot = b.terminals[terminal];
  if (!slot.quarantined) {
    slot.quarantined = true;
    auto& client = *b.clients[slot.owner];
    --client.live_terminals;
    client.wake.cancel();
  }
}

// After an error answer: a refusal that created no payment frees the terminal; anything
// that may have left a payment unfinished on it (no answer, 5xx, 504, 409) retires it.
void after_error(Bench& b, std::size_t terminal, const bench::Response& response) {
  if (response.status >= 400 && response.status < 500 && response.status != 409) {
    release_terminal(b, terminal);
  } else {
    quarantine_terminal(b, terminal);
  }
}

void record_completion(Bench& b, Clock::time_point start, bool measured,
                       const std::string& status) {
  const auto now = Clock::now();
  if (status == "TIMEOUT" || status == "VOIDED") {
    add_error(b, "payment ended " + status);
    return;
  }
  ++b.outcomes[status];
  if (!measured) {
    ++b.warmup_completed;
    return;
  }
  ++b.completed;
  b.last_completion = now;
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - start).count();
  b.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(micros, 0)));
}

void finish_pending(Bench& b, std::unordered_map<std::string, PendingPayment>::iterator it) {
  const auto terminal = it->second.terminal;
  b.pending.erase(it);
  release_terminal(b, terminal);
}

void on_standard_answer(Bench& b, std::size_t terminal, Clock::time_point start, bool measured,
                        const bench::Response& response) {
  if (response.status == 200) {
    const auto status = answered_status(response);
    if (status && (*status == "SUCCESS" || *status == "FAILED" || *status == "CANCELLED")) {
      record_completion(b, start, measured, *status);
    } else {
      add_error(b, "HTTP 200 without a payment status");
    }
    release_terminal(b, terminal);
    return;
  }
  add_error(b, describe(response));
  after_error(b, terminal, response);
}

void on_webhook_answer(Bench& b, std::size_t terminal, const std::string& transaction_id,
                       const bench::Response& response) {
  const auto it = b.pending.find(transaction_id);
  if (response.status == 202) {
    if (it != b.pending.end()) {
      it->second.accepted = true;
      if (it->second.delivered) {
        finish_pending(b, it);
      }
    }
    return;
  }
  add_error(b, describe(response));
  if (it != b.pending.end()) {
    b.pending.erase(it);
    after_error(b, terminal, response);
  }
}

void on_delivery(const std::weak_ptr<Bench>& weak, bench::Delivery delivery) {
  const auto b = weak.lock();
  if (!b || delivery.event_type == "ping") {
    return;
  }
  if (!delivery.authentic) {
    add_error(*b, "webhook refused by the bench: " + delivery.problem);
    return;
  }
  const auto it = b->pending.find(delivery.transaction_id);
  if (it == b->pending.end() || it->second.delivered) {
    ++b->webhook_duplicates;  // at-least-once: a repeat, or one the bench gave up on
    return;
  }
  it->second.delivered = true;
  record_completion(*b, it->second.start, it->second.measured, delivery.status);
  if (it->second.accepted) {
    finish_pending(*b, it);
  }
}

// Webhook mode: a payment answered 202 whose webhook does not come in time is an error.
asio::awaitable<void> sweep_webhooks(BenchPtr b) {
  while (b->sweeping) {
    co_await pause(b, milliseconds(250));
    if (b->tasks.closed()) {
      break;  // cancelled: the run is over
    }
    const auto now = Clock::now();
    for (auto it = b->pending.begin(); it != b->pending.end();) {
      if (it->second.accepted && !it->second.delivered && now > it->second.deadline) {
        add_error(*b, "no webhook within " + std::to_string(b->timeout.count() / 1000) + " s");
        const auto terminal = it->second.terminal;
        it = b->pending.erase(it);
        quarantine_terminal(*b, terminal);
      } else {
        ++it;
      }
    }
  }
}

// Open loop: payment k is due at run_start + k / rate, whether or not earlier ones have
// finished; its latency counts from then (no coordinated omission).
asio::awaitable<void> generate_arrivals(BenchPtr b) {
  const std::chrono::duration<double> interval(1.0 / b->o.rate);
  std::uint64_t k = 0;
  asio::steady_timer timer(b->executor);
  while (b->issuing) {
    const auto due = b->run_start + std::chrono::duration_cast<Clock::duration>(interval * k);
    if (due > Clock::now()) {
      timer.expires_at(due);
      error_code ignored;
      auto token = asio::redirect_error(asio::use_awaitable, ignored);
      co_await timer.async_wait(token);
      continue;
    }
    const bool measured = due >= b->measure_start;
    if (measured && b->o.payments > 0 && b->measured_arrivals >= b->o.payments) {
      break;
    }
    ++k;
    b->measured_arrivals += measured ? 1 : 0;
    if (b->arrivals.size() >= b->o.max_backlog) {
      add_error(*b, "open loop: arrival dropped, every client busy (backlog full)");
      continue;
    }
    b->arrivals.push_back(due);
    while (!b->idle_clients.empty()) {
      const auto index = b->idle_clients.front();
      b->idle_clients.pop_front();
      auto& client = *b->clients[index];
      client.in_idle_queue = false;
      if (client.idle) {
        client.idle = false;
        client.wake.cancel();
        break;
      }
    }
  }
  b->generator_done = true;
}

bool may_issue(const Bench& b) {
  return b.issuing && !(b.o.payments > 0 && Clock::now() >= b.measure_start &&
                        b.measured_issued >= b.o.payments);
}

asio::awaitable<void> payment_client(BenchPtr b, std::size_t index) {
  auto& client = *b->clients[index];
  const bool open_loop = b->o.rate > 0;
  const bool webhook = b->o.mode == "webhook";
  error_code ignored;
  for (;;) {
    std::optional<Clock::time_point> intended;
    if (open_loop) {
      while (b->arrivals.empty() && !(b->generator_done || !b->issuing)) {
        client.idle = true;
        if (!client.in_idle_queue) {
          client.in_idle_queue = true;
          b->idle_clients.push_back(index);
        }
        co_await nap(client.wake, milliseconds(100), ignored);
        client.idle = false;
      }
      if (b->arrivals.empty()) {
        break;
      }
      intended = b->arrivals.front();
      b->arrivals.pop_front();
    } else if (!may_issue(*b)) {
      break;
    }
    while (client.free_terminals.empty() && client.live_terminals > 0 &&
           (open_loop || b->issuing)) {
      co_await nap(client.wake, milliseconds(100), ignored);
    }
    if (client.free_terminals.empty()) {
      if (intended) {
        add_error(*b, "open loop: arrival dropped, the client has no usable terminal left");
        continue;
      }
      break;
    }
    if (!open_loop && !may_issue(*b)) {
      break;
    }
    const auto terminal = client.free_terminals.front();
    client.free_terminals.pop_front();
    const std::string transaction_id = b->run_id + "-" + std::to_string(b->sequence++);
    auto request = signed_request(*b, "POST", payments_target(b->terminals[terminal].device_id),
                                  payment_body(*b, transaction_id, webhook));
    const auto start = intended.value_or(Clock::now());
    const bool measured = start >= b->measure_start;
    b->measured_issued += measured ? 1 : 0;
    if (webhook) {
      b->pending[transaction_id] = PendingPayment{start, start + b->timeout, terminal, measured};
    }
    const auto response = co_await bench::exchange(client.connection, request, b->timeout);
    if (b->tasks.closed()) {
      break;  // cancelled: the run is over, and an aborted exchange is not a result
    }
    if (webhook) {
      on_webhook_answer(*b, terminal, transaction_id, response);
    } else {
      on_standard_answer(*b, terminal, start, measured, response);
    }
  }
  --b->running_clients;
}

// Opens `connections` at most connect_concurrency at a time; throws on the first failure.
asio::awaitable<void> open_connection(BenchPtr b, std::shared_ptr<bench::Connection> connection,
                                      std::shared_ptr<std::size_t> outstanding,
                                      std::shared_ptr<std::string> failure) {
  const auto ec = co_await bench::connect(connection, kAdminTimeout);
  if (ec && failure->empty()) {
    *failure = "connecting a client: " + ec.message();
  }
  --*outstanding;
  b->ramp_wake.cancel();
}

asio::awaitable<void> open_connections(
    BenchPtr b, std::vector<std::shared_ptr<bench::Connection>> connections) {
  auto outstanding = std::make_shared<std::size_t>(0);
  auto failure = std::make_shared<std::string>();
  error_code ignored;
  for (auto& connection : connections) {
    while (*outstanding >= b->o.connect_concurrency) {
      co_await nap(b->ramp_wake, milliseconds(100), ignored);
    }
    ++*outstanding;
    b->tasks.spawn("connection opener", open_connection(b, connection, outstanding, failure));
  }
  while (*outstanding > 0) {
    co_await nap(b->ramp_wake, milliseconds(100), ignored);
  }
  if (!failure->empty()) {
    throw std::runtime_error(*failure);
  }
}

asio::awaitable<void> register_webhook_endpoint(BenchPtr b) {
  b->receiver = std::make_unique<bench::WebhookReceiver>(
      b->executor, [weak = std::weak_ptr<Bench>(b)](bench::Delivery delivery) {
        on_delivery(weak, std::move(delivery));
      });
  const auto port = b->receiver->start();
  const std::string body = json::serialize(json::object(
      {{"url", json::Value("http://127.0.0.1:" + std::to_string(port) + "/tillgate-bench")},
       {"description", json::Value("tillgate bench " + b->run_id)}}));
  auto request = signed_request(*b, "POST", "/v1/webhooks/endpoints", body);
  const auto response = co_await bench::exchange(b->admin, request, kAdminTimeout);
  const auto parsed = json::parse(response.body);
  if (response.status != 201 || !parsed || !parsed->find_string("secret")) {
    throw std::runtime_error(
        "registering the webhook endpoint failed (a gateway started by hand needs "
        "TILLGATE_WEBHOOK_ALLOW_HTTP=1 and TILLGATE_WEBHOOK_ALLOW_PRIVATE=1): " +
        describe_fully(response));
  }
  b->receiver->set_secret(std::string(*parsed->find_string("secret")));
}

// One client per --clients, each with its connection (not yet open); terminal t of the first
// --terminals belongs to client t % clients (the --idle-terminals after them to none).
// Returns the connections, to be opened.
std::vector<std::shared_ptr<bench::Connection>> make_payment_clients(Bench& b) {
  std::vector<std::shared_ptr<bench::Connection>> connections;
  for (std::size_t i = 0; i < b.o.clients; ++i) {
    b.clients.push_back(std::make_unique<ClientSlot>(b.executor));
    b.clients.back()->connection = std::make_shared<bench::Connection>(
        b.executor, node_of_client(b, i), b.sources[i % b.sources.size()]);
    connections.push_back(b.clients.back()->connection);
  }
  for (std::size_t t = 0; t < b.o.terminals; ++t) {
    auto& client = *b.clients[t % b.o.clients];
    b.terminals[t].owner = t % b.o.clients;
    client.free_terminals.push_back(t);
    ++client.live_terminals;
  }
  return connections;
}

// Starts the clock and the payment tasks; returns the end of the measured time.
Clock::time_point start_payments(const BenchPtr& b) {
  b->run_start = Clock::now();
  b->measure_start = b->run_start + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(b->o.warmup_s));
  b->last_completion = b->measure_start;
  b->issuing = true;
  b->running_clients = b->o.clients;
  if (b->o.rate > 0) {
    b->generator_done = false;
    b->tasks.spawn("arrival generator", generate_arrivals(b));
  }
  if (b->o.mode == "webhook") {
    b->sweeping = true;
    b->tasks.spawn("webhook sweeper", sweep_webhooks(b));
  }
  for (std::size_t i = 0; i < b->o.clients; ++i) {
    b->tasks.spawn("payment client", payment_client(b, i));
  }
  return b->measure_start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(b->o.duration_s));
}

// Until the time is up, the count is reached or every client has stopped.
asio::awaitable<void> wait_for_run_end(BenchPtr b, Clock::time_point measure_end) {
  for (;;) {
    co_await pause(b, kPollInterval);
    const auto now = Clock::now();
    const bool time_up = b->o.duration_s > 0 && now >= measure_end;
    const bool count_reached =
        b->o.payments > 0 && (b->o.rate > 0 ? b->generator_done : !may_issue(*b));
    if (time_up || count_reached || b->running_clients == 0) {
      co_return;
    }
  }
}

// No new payments; waits (a payment's timeout and 5 s at most) for those under way, and
// counts the ones still unfinished then as errors.
asio::awaitable<void> drain_payments(BenchPtr b) {
  b->issuing = false;
  for (auto& client : b->clients) {
    client->wake.cancel();
  }
  const auto drain_deadline = Clock::now() + b->timeout + milliseconds(5'000);
  while ((b->running_clients > 0 || !b->pending.empty() || !b->generator_done) &&
         Clock::now() < drain_deadline) {
    co_await pause(b, kPollInterval);
  }
  b->sweeping = false;
  if (!b->pending.empty()) {
    add_error(*b, "unfinished when the bench stopped waiting");
    b->errors["unfinished when the bench stopped waiting"] += b->pending.size() - 1;
    b->error_count += b->pending.size() - 1;
  }
}

asio::awaitable<void> run_payments(BenchPtr b, Behavior behavior) {
  if (b->o.mode == "webhook") {
    co_await register_webhook_endpoint(b);
  }
  co_await connect_terminals(b, behavior);
  note(*b,
       std::to_string(b->terminals.size()) + " terminals online" +
           (b->o.idle_terminals > 0 ? " (" + std::to_string(b->o.idle_terminals) + " of them idle)"
                                    : std::string()));
  const auto connections = make_payment_clients(*b);
  co_await open_connections(b, connections);
  b->metrics.before = co_await scrape_metrics(b);

  note(*b, "running: " + b->o.mode + " mode, " + std::to_string(b->o.clients) + " clients, " +
               (b->o.rate > 0 ? fixed(b->o.rate, 1) + " payments/s open loop"
                              : std::string("closed loop")));
  const auto measure_end = start_payments(b);
  co_await wait_for_run_end(b, measure_end);
  co_await drain_payments(b);
  b->metrics.after = co_await scrape_metrics(b);
  b->idle_online_at_end = terminals_online(*b, b->o.terminals);
}

// ---------------------------------------------------------------------------------------
// --idle and --long-polls

asio::awaitable<void> run_idle(BenchPtr b, Behavior behavior) {
  b->metrics.before = co_await scrape_metrics(b);
  co_await pause(b, milliseconds(500));
  b->rss_before = co_await server_rss(b);
  const auto started = Clock::now();
  co_await connect_terminals(b, behavior);
  b->connect_seconds = seconds_between(started, Clock::now());
  note(*b, std::to_string(b->terminals.size()) + " terminals online in " +
               fixed(b->connect_seconds, 1) + " s; holding them " + fixed(b->o.duration_s, 0) +
               " s");
  const auto hold_until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(b->o.duration_s));
  while (Clock::now() < hold_until) {
    co_await pause(b, milliseconds(100));
  }
  b->online_at_end = terminals_online(*b);
  b->rss_after = co_await server_rss(b);
  b->metrics.after = co_await scrape_metrics(b);
}

asio::awaitable<void> long_poll(BenchPtr b, std::size_t index) {
  auto& slot = b->terminals[index];
  auto& client = *b->clients[index];
  const std::string transaction_id = b->run_id + "-" + std::to_string(index);
  auto request = signed_request(*b, "POST", payments_target(slot.device_id),
                                payment_body(*b, transaction_id, false));
  const auto hold =
      std::chrono::duration_cast<milliseconds>(std::chrono::duration<double>(b->o.duration_s));
  const auto start = Clock::now();
  ++b->outstanding;
  ++b->long_polls_sent;
  b->max_outstanding = std::max(b->max_outstanding, b->outstanding);
  const auto response = co_await bench::exchange(client.connection, request, hold + b->timeout);
  if (b->tasks.closed()) {
    co_return;  // cancelled: the run is over, and an aborted exchange is not a result
  }
  --b->outstanding;
  ++b->long_polls_done;
  if (response.status == 200) {
    if (const auto status = answered_status(response)) {
      record_completion(*b, start, true, *status);
    } else {
      add_error(*b, "HTTP 200 without a payment status");
    }
  } else if (response.status == 504 && b->o.behavior == "ignore") {
    record_completion(*b, start, true, "TIMEOUT (504, expected of ignore)");
  } else {
    add_error(*b, describe(response));
  }
}

// While the gateway counts every long-poll waiting, its RSS is sampled: the most is the
// memory of K held payments (with their connections) on top of their terminals.
asio::awaitable<void> sample_held_rss(BenchPtr b, const std::vector<MetricSample>& samples) {
  const auto waiting = metric_sum(samples, "tillgate_long_polls_waiting");
  if (!waiting) {
    co_return;
  }
  b->server_waiting_max = std::max(b->server_waiting_max.value_or(0), *waiting);
  if (*waiting >= static_cast<double>(b->terminals.size())) {
    if (const auto rss = co_await server_rss(b)) {
      b->rss_after = std::max(b->rss_after.value_or(0), *rss);
    }
  }
}

asio::awaitable<void> run_long_polls(BenchPtr b, Behavior behavior) {
  co_await connect_terminals(b, behavior);
  note(*b, std::to_string(b->terminals.size()) + " terminals online");
  co_await pause(b, milliseconds(500));
  b->rss_before = co_await server_rss(b);
  std::vector<std::shared_ptr<bench::Connection>> connections;
  for (std::size_t i = 0; i < b->terminals.size(); ++i) {
    b->clients.push_back(std::make_unique<ClientSlot>(b->executor));
    b->clients.back()->connection = std::make_shared<bench::Connection>(
        b->executor, b->server, b->sources[i % b->sources.size()]);
    connections.push_back(b->clients.back()->connection);
  }
  co_await open_connections(b, connections);
  note(*b, std::to_string(connections.size()) + " merchant connections open; sending " +
               std::to_string(connections.size()) + " payments at once");
  b->metrics.before = co_await scrape_metrics(b);
  b->run_start = Clock::now();
  b->measure_start = b->run_start;
  for (std::size_t i = 0; i < b->terminals.size(); ++i) {
    b->tasks.spawn("long poll", long_poll(b, i));
  }
  const auto hold =
      std::chrono::duration_cast<milliseconds>(std::chrono::duration<double>(b->o.duration_s));
  const auto deadline = Clock::now() + hold + b->timeout + milliseconds(10'000);
  auto next_scrape = Clock::now();
  while (b->long_polls_done < b->terminals.size() && Clock::now() < deadline) {
    co_await pause(b, milliseconds(50));
    if (Clock::now() >= next_scrape) {
      next_scrape = Clock::now() + milliseconds(1'000);
      if (const auto samples = co_await scrape_metrics(b)) {
        co_await sample_held_rss(b, *samples);
      }
    }
  }
  if (b->long_polls_done < b->terminals.size()) {
    b->errors["unanswered when the bench stopped waiting"] +=
        b->terminals.size() - b->long_polls_done;
    b->error_count += b->terminals.size() - b->long_polls_done;
  }
  b->last_completion = Clock::now();
  b->metrics.after = co_await scrape_metrics(b);
}

// The end of the run: every task of the bench and of its webhook receiver is cancelled and
// waited for (bounded), so none is left to the io_context's end. After a wait that timed
// out, the task group's destructor asserts.
asio::awaitable<void> end_tasks(BenchPtr b) {
  b->tasks.close();
  b->tasks.cancel();
  const bool tasks_ended = co_await b->tasks.wait(kTaskStopTimeout);
  if (!tasks_ended) {
    note(*b, std::to_string(b->tasks.size()) + " bench tasks did not end when cancelled");
  }
  if (b->receiver) {
    const bool receiver_ended = co_await b->receiver->wait(kTaskStopTimeout);
    if (!receiver_ended) {
      note(*b, "the webhook receiver's tasks did not end when cancelled");
    }
  }
}

asio::awaitable<void> bench_main(BenchPtr b) {
  try {
    b->admin = std::make_shared<bench::Connection>(b->executor, b->server, b->sources.front());
    for (std::size_t n = 1; n < b->nodes.size(); ++n) {
      b->node_admins.push_back(
          std::make_shared<bench::Connection>(b->executor, b->nodes[n], b->sources.front()));
    }
    co_await create_merchant(b);
    const std::size_t devices =
        b->o.long_polls > 0 ? b->o.long_polls : b->o.terminals + b->o.idle_terminals;
    note(*b, "merchant " + b->merchant_id + " created; creating " + std::to_string(devices) +
                 " devices");
    co_await provision_devices(b, devices);
    std::string behavior_text = b->o.behavior;
    if (behavior_text.empty()) {
      behavior_text = b->o.long_polls > 0
                          ? "slow:" + std::to_string(static_cast<long long>(b->o.duration_s * 1000))
                          : "approve";
    }
    const auto behavior = parse_behavior(behavior_text);
    if (!behavior) {
      throw std::runtime_error("unknown --behavior '" + behavior_text + "'");
    }
    if (b->o.idle) {
      co_await run_idle(b, *behavior);
    } else if (b->o.long_polls > 0) {
      co_await run_long_polls(b, *behavior);
    } else {
      co_await run_payments(b, *behavior);
    }
    if (b->server_pid) {
      if (const auto hwm = bench::proc_status_bytes(*b->server_pid, "VmHWM")) {
        b->peak_rss = static_cast<double>(*hwm);
        b->peak_rss_source = "VmHWM";
      }
    } else if (b->metrics.after) {
      b->peak_rss = metric_sum(*b->metrics.after, "tillgate_process_peak_resident_memory_bytes");
      b->peak_rss_source = b->peak_rss ? "metrics" : "";
    }
  } catch (const std::exception& e) {
    b->fatal = e.what();
  }
  if (b->receiver) {
    b->receiver->stop();
  }
  co_await stop_terminals(b);
  co_await end_tasks(b);
}

// ---------------------------------------------------------------------------------------
// The report

struct MetricFigures {
  std::optional<double> http_requests;
  std::map<std::string, double> payments;
  std::optional<double> batch_mean;
  std::optional<double> commits;
  std::optional<double> commit_mean_ms;
  std::optional<double> terminals_connected;
  std::optional<double> long_polls_waiting;
  std::optional<double> peak_rss;
  // process_cpu_seconds_total over the payments made meanwhile, and the store thread's
  // CPU over its calls: microseconds.
  std::optional<double> cpu_per_payment_us;
  std::optional<double> store_cpu_per_call_us;
};

// `numerator` / `denominator` in millionths, when both are known and the denominator is not 0.
std::optional<double> micros_per(std::optional<double> numerator,
                                 std::optional<double> denominator) {
  if (!numerator || !denominator || *denominator <= 0) {
    return std::nullopt;
  }
  return *numerator / *denominator * 1e6;
}

// Counters and histograms as the difference over the run (whole life when there is no
// "before"), gauges as they were at the end.
MetricFigures metric_figures(const ServerMetrics& m) {
  MetricFigures f;
  if (!m.after) {
    return f;
  }
  const auto delta = [&m](std::string_view name) -> std::optional<double> {
    const auto after = metric_sum(*m.after, name);
    if (!after) {
      return std::nullopt;
    }
    const auto before = m.before ? metric_sum(*m.before, name) : std::nullopt;
    return *after - before.value_or(0.0);
  };
  f.http_requests = delta("tillgate_http_requests_total");
  f.payments = metric_by_label(*m.after, "tillgate_payments_total", "outcome");
  if (m.before) {
    for (const auto& [outcome, value] :
         metric_by_label(*m.before, "tillgate_payments_total", "outcome")) {
      f.payments[outcome] -= value;
    }
  }
  const auto batch_sum = delta("tillgate_store_batch_size_sum");
  const auto batch_count = delta("tillgate_store_batch_size_count");
  if (batch_sum && batch_count && *batch_count > 0) {
    f.batch_mean = *batch_sum / *batch_count;
  }
  const auto commit_sum = delta("tillgate_store_commit_seconds_sum");
  f.commits = delta("tillgate_store_commit_seconds_count");
  if (commit_sum && f.commits && *f.commits > 0) {
    f.commit_mean_ms = *commit_sum / *f.commits * 1000.0;
  }
  double payments_made = 0;
  for (const auto& [outcome, n] : f.payments) {
    payments_made += n;
  }
  f.cpu_per_payment_us = micros_per(delta("process_cpu_seconds_total"), payments_made);
  f.store_cpu_per_call_us = micros_per(delta("tillgate_store_thread_cpu_seconds_total"),
                                       delta("tillgate_store_calls_total"));
  f.terminals_connected = metric_sum(*m.after, "tillgate_terminals_connected");
  f.long_polls_waiting = metric_sum(*m.after, "tillgate_long_polls_waiting");
  f.peak_rss = metric_sum(*m.after, "tillgate_process_peak_resident_memory_bytes");
  return f;
}

std::string na(const std::optional<double>& value, int decimals) {
  return value ? fixed(*value, decimals) : "n/a";
}

struct Verdict {
  bool ok = false;
  std::string why;
};

Verdict judge(const Bench& b, const std::optional<std::string>& server_exit_problem) {
  if (!b.fatal.empty()) {
    return {false, b.fatal};
  }
  if (server_exit_problem) {
    return {false, "the gateway " + *server_exit_problem};
  }
  if (b.o.idle) {
    if (b.online_at_end != b.terminals.size()) {
      return {false, std::to_string(b.terminals.size() - b.online_at_end) +
                         " terminals were not online at the end"};
    }
    return {true, ""};
  }
  if (b.error_count > 0) {
    return {false, std::to_string(b.error_count) + " payments failed in error"};
  }
  if (b.idle_online_at_end < b.o.idle_terminals) {
    return {false, std::to_string(b.o.idle_terminals - b.idle_online_at_end) + " of " +
                       std::to_string(b.o.idle_terminals) +
                       " idle terminals were not online at the end"};
  }
  if (b.o.long_polls > 0) {
    if (b.max_outstanding < b.o.long_polls) {
      return {false, "only " + std::to_string(b.max_outstanding) + " long polls open at once"};
    }
    if (b.server_waiting_max && *b.server_waiting_max < static_cast<double>(b.o.long_polls)) {
      return {false, "the gateway held at most " + fixed(*b.server_waiting_max, 0) +
                         " long polls at once (tillgate_long_polls_waiting)"};
    }
  }
  if (b.completed == 0) {
    return {false, "no payment completed"};
  }
  return {true, ""};
}

// What the report derives from the run, in both of its forms.
struct ReportFigures {
  MetricFigures server;
  double elapsed = 0;  // seconds from the end of the warm-up to the last completion
  double throughput = 0;
  std::vector<std::uint64_t> percentiles;  // of kPercents, microseconds
  std::string mode;
  std::optional<double> rss_per_terminal;   // --idle
  std::optional<double> rss_per_long_poll;  // --long-polls: beyond its terminal
};

ReportFigures report_figures(const Bench& b) {
  ReportFigures f;
  f.server = metric_figures(b.metrics);
  f.elapsed = b.completed > 0 ? seconds_between(b.measure_start, b.last_completion) : 0;
  f.throughput = f.elapsed > 0 ? static_cast<double>(b.completed) / f.elapsed : 0;
  f.percentiles = b.latency.percentiles(kPercents);
  f.mode = b.o.idle ? "idle" : b.o.long_polls > 0 ? "long-polls" : b.o.mode;
  if (b.rss_before && b.rss_after && !b.terminals.empty()) {
    const double per_one = (*b.rss_after - *b.rss_before) / static_cast<double>(b.terminals.size());
    (b.o.idle ? f.rss_per_terminal : f.rss_per_long_poll) = per_one;
  }
  return f;
}

bool payments_run(const Bench& b) {
  return !b.o.idle && b.o.long_polls == 0;
}

// The terminals provisioned that payments go to (all of them but the --idle-terminals).
std::size_t paid_terminals(const Bench& b) {
  return b.terminals.size() - std::min(b.terminals.size(), b.o.idle_terminals);
}

json::Value latency_json(const Bench& b, const ReportFigures& f) {
  json::Object latency;
  for (std::size_t i = 0; i < kPercents.size(); ++i) {
    latency.push_back(
        {kPercentNames[i], number(static_cast<double>(f.percentiles[i]) / 1000.0, 3)});
  }
  latency.push_back({"max", number(static_cast<double>(b.latency.max()) / 1000.0, 3)});
  latency.push_back({"mean", number(b.latency.mean() / 1000.0, 3)});
  latency.push_back({"samples", json_count(b.latency.count())});
  latency.push_back({"exact", json::Value(b.latency.exact())});
  return json::Value(std::move(latency));
}

// Payments and long polls: what completed, how fast, and what failed.
void add_payment_results_json(json::Object& out, const Bench& b, const ReportFigures& f) {
  if (payments_run(b)) {
    out.push_back({"clients", json_count(b.o.clients)});
    out.push_back({"rate", b.o.rate > 0 ? number(b.o.rate, 3) : json::Value(nullptr)});
    out.push_back({"warmupSeconds", number(b.o.warmup_s, 3)});
    out.push_back({"seconds", number(f.elapsed, 3)});
    out.push_back({"paymentsPerSecond", number(f.throughput, 1)});
    out.push_back({"idleTerminals", json_count(b.o.idle_terminals)});
    out.push_back({"idleOnlineAtEnd", json_count(b.idle_online_at_end)});
  }
  if (b.o.idle) {
    return;
  }
  out.push_back({"completed", json_count(b.completed)});
  json::Object outcomes;
  for (const auto& [status, n] : b.outcomes) {
    outcomes.push_back({status, json_count(n)});
  }
  out.push_back({"outcomes", json::Value(std::move(outcomes))});
  out.push_back({"latencyMs", latency_json(b, f)});
  out.push_back({"errorCount", json_count(b.error_count)});
  json::Object errors;
  for (const auto& [key, n] : b.errors) {
    errors.push_back({key, json_count(n)});
  }
  out.push_back({"errors", json::Value(std::move(errors))});
}

// The fields of one kind of run only: webhook repeats, idle memory, long polls held.
void add_run_kind_json(json::Object& out, const Bench& b, const ReportFigures& f) {
  if (b.o.mode == "webhook" && payments_run(b)) {
    out.push_back({"webhookRepeats", json_count(b.webhook_duplicates)});
  }
  if (b.o.idle) {
    out.push_back({"onlineAtEnd", json_count(b.online_at_end)});
    out.push_back({"connectSeconds", number(b.connect_seconds, 3)});
    out.push_back({"rssBeforeBytes", optional_number(b.rss_before, 0)});
    out.push_back({"rssAfterBytes", optional_number(b.rss_after, 0)});
    out.push_back({"rssPerTerminalBytes", optional_number(f.rss_per_terminal, 0)});
  }
  if (b.o.long_polls > 0) {
    out.push_back({"longPolls", json_count(b.o.long_polls)});
    out.push_back({"heldAtOnce", json_count(b.max_outstanding)});
    out.push_back({"serverWaitingMax", optional_number(b.server_waiting_max, 0)});
    out.push_back({"rssBeforeBytes", optional_number(b.rss_before, 0)});
    out.push_back({"rssHeldBytes", optional_number(b.rss_after, 0)});
    out.push_back({"rssPerLongPollBytes", optional_number(f.rss_per_long_poll, 0)});
  }
}

json::Value server_metrics_json(const MetricFigures& m) {
  json::Object payments;
  for (const auto& [outcome, n] : m.payments) {
    payments.push_back({outcome, number(n, 0)});
  }
  return json::object({{"httpRequests", optional_number(m.http_requests, 0)},
                       {"payments", json::Value(std::move(payments))},
                       {"storeBatchSizeMean", optional_number(m.batch_mean, 2)},
                       {"storeCommits", optional_number(m.commits, 0)},
                       {"storeCommitMeanMs", optional_number(m.commit_mean_ms, 3)},
                       {"terminalsConnected", optional_number(m.terminals_connected, 0)},
                       {"longPollsWaiting", optional_number(m.long_polls_waiting, 0)},
                       {"peakRssBytes", optional_number(m.peak_rss, 0)},
                       {"cpuPerPaymentUs", optional_number(m.cpu_per_payment_us, 1)},
                       {"storeCpuPerCallUs", optional_number(m.store_cpu_per_call_us, 1)}});
}

void print_json_report(const Bench& b, const ReportFigures& f,
                       const std::string& server_description, const Verdict& verdict) {
  json::Object out{{"mode", json::Value(f.mode)},
                   {"ok", json::Value(verdict.ok)},
                   {"problem", verdict.ok ? json::Value(nullptr) : json::Value(verdict.why)},
                   {"server", json::Value(server_description)},
                   {"terminals", json_count(paid_terminals(b))}};
  add_payment_results_json(out, b, f);
  add_run_kind_json(out, b, f);
  out.push_back({"serverPeakRssBytes", optional_number(b.peak_rss, 0)});
  out.push_back(
      {"serverPeakRssSource", b.peak_rss ? json::Value(b.peak_rss_source) : json::Value(nullptr)});
  out.push_back({"serverMetrics", server_metrics_json(f.server)});
  std::cout << json::serialize(json::Value(std::move(out))) << std::endl;
}

void print_idle_text(const Bench& b, const ReportFigures& f) {
  const auto& per_terminal = f.rss_per_terminal;
  std::cout << "online at end:    " << b.online_at_end << " of " << b.terminals.size()
            << " (all connected in " << fixed(b.connect_seconds, 1) << " s)\n"
            << "server RSS:       " << mib(b.rss_before) << " before, " << mib(b.rss_after)
            << " after\n"
            << "RSS per terminal: "
            << (per_terminal ? fixed(*per_terminal, 0) + " bytes (" +
                                   fixed(*per_terminal / 1024.0, 2) + " KiB)"
                             : std::string("n/a"))
            << "\n";
}

void print_payments_text(const Bench& b, const ReportFigures& f) {
  if (b.o.long_polls > 0) {
    std::cout << "long polls:       " << b.max_outstanding << " of " << b.o.long_polls
              << " open at once; gateway waiting max " << na(b.server_waiting_max, 0) << "\n"
              << "server RSS:       " << mib(b.rss_before) << " with the terminals, "
              << mib(b.rss_after) << " with every payment held: "
              << (f.rss_per_long_poll ? fixed(*f.rss_per_long_poll, 0) + " bytes per long poll"
                                      : std::string("n/a"))
              << "\n";
  } else {
    std::cout << "throughput:       " << fixed(f.throughput, 1) << " payments/s (" << b.completed
              << " in " << fixed(f.elapsed, 2) << " s"
              << (b.o.warmup_s > 0 ? ", after a " + fixed(b.o.warmup_s, 1) + " s warm-up" : "")
              << ")\n";
  }
  std::cout << "completed:        " << b.completed;
  for (const auto& [status, n] : b.outcomes) {
    std::cout << "  " << status << " " << n;
  }
  std::cout << "\nlatency ms:       ";
  for (std::size_t i = 0; i < kPercents.size(); ++i) {
    std::cout << kPercentNames[i] << " " << fixed(static_cast<double>(f.percentiles[i]) / 1000.0, 3)
              << "  ";
  }
  std::cout << "max " << fixed(static_cast<double>(b.latency.max()) / 1000.0, 3)
            << (b.latency.exact() ? "" : "  (percentiles of a uniform sample)") << "\n";
  std::cout << "errors:           " << b.error_count << "\n";
  for (const auto& [key, n] : b.errors) {
    std::cout << "  " << n << "  " << key << "\n";
  }
  if (b.o.mode == "webhook" && b.o.long_polls == 0) {
    std::cout << "webhook repeats:  " << b.webhook_duplicates << "\n";
  }
}

void print_server_text(const Bench& b, const MetricFigures& m) {
  std::cout << "server peak RSS:  " << mib(b.peak_rss)
            << (b.peak_rss ? " (" + b.peak_rss_source + ")" : std::string()) << "\n";
  std::cout << "server /metrics:  http requests " << na(m.http_requests, 0) << ", payments";
  if (m.payments.empty()) {
    std::cout << " n/a";
  }
  for (const auto& [outcome, n] : m.payments) {
    std::cout << " " << outcome << " " << fixed(n, 0);
  }
  std::cout << "\n                  store commits " << na(m.commits, 0) << ", batch size mean "
            << na(m.batch_mean, 2) << ", commit mean " << na(m.commit_mean_ms, 3) << " ms\n"
            << "                  terminals connected " << na(m.terminals_connected, 0)
            << ", long polls waiting " << na(m.long_polls_waiting, 0) << "\n"
            << "                  CPU per payment " << na(m.cpu_per_payment_us, 1)
            << " us, store thread CPU per call " << na(m.store_cpu_per_call_us, 1) << " us\n";
}

void print_text_report(const Bench& b, const ReportFigures& f,
                       const std::string& server_description, const Verdict& verdict) {
  std::cout << "tillgate bench: " << f.mode << ", " << paid_terminals(b) << " terminals";
  if (payments_run(b)) {
    std::cout << ", " << b.o.clients << " clients, "
              << (b.o.rate > 0 ? fixed(b.o.rate, 1) + " payments/s offered (open loop)"
                               : std::string("closed loop"));
    if (b.o.idle_terminals > 0) {
      std::cout << ", " << b.o.idle_terminals << " idle terminals (" << b.idle_online_at_end
                << " online at the end)";
    }
  }
  std::cout << "\nserver:           " << server_description << "\n";
  if (b.o.idle) {
    print_idle_text(b, f);
  } else {
    print_payments_text(b, f);
  }
  print_server_text(b, f.server);
  std::cout << "result:           " << (verdict.ok ? "OK" : "FAILED: " + verdict.why) << std::endl;
}

void print_report(const Bench& b, const std::string& server_description, const Verdict& verdict) {
  const auto figures = report_figures(b);
  if (b.o.json) {
    print_json_report(b, figures, server_description, verdict);
  } else {
    print_text_report(b, figures, server_description, verdict);
  }
}

std::string temp_root(const BenchOptions& o) {
  if (!o.work_dir.empty()) {
    return o.work_dir;
  }
  return std::filesystem::temp_directory_path().string();
}

std::map<std::string, std::string> server_environment(const BenchOptions& o,
                                                      const std::filesystem::path& dir,
                                                      const std::string& admin_token) {
  // Bounds raised so that the bench measures the gateway, not its abuse limits; any
  // TILLGATE_* of this process's environment wins (pass settings to try that way).
  const auto hold_s = static_cast<long long>(std::ceil(o.duration_s));
  std::map<std::string, std::string> defaults{
      {"TILLGATE_RATE_LIMIT_RPS", "1000000"},
      {"TILLGATE_MAX_HTTP_CONNECTIONS", "200000"},
      {"TILLGATE_MAX_HTTP_CONNECTIONS_PER_IP", "200000"},
      {"TILLGATE_MAX_TERMINAL_CONNECTIONS", "200000"},
      {"TILLGATE_MAX_TERMINAL_CONNECTIONS_PER_IP", "200000"},
      {"TILLGATE_MAX_WAITING_PAYMENTS", "200000"},
      {"TILLGATE_MAX_STORE_QUEUE", "1000000"},
      {"TILLGATE_WEBHOOK_MAX_IN_FLIGHT", "1024"},
      {"TILLGATE_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT", "1000"},
      {"TILLGATE_LOG", "warn"}};
  if (o.mode == "webhook") {
    defaults["TILLGATE_WEBHOOK_ALLOW_HTTP"] = "1";
    defaults["TILLGATE_WEBHOOK_ALLOW_PRIVATE"] = "1";
  }
  if (o.long_polls > 0) {
    defaults["TILLGATE_PAYMENT_TIMEOUT_S"] = std::to_string(std::max<long long>(90, hold_s + 60));
  }
  std::map<std::string, std::string> env;
  for (const auto& [name, value] : defaults) {
    if (std::getenv(name.c_str()) == nullptr) {
      env[name] = value;
    }
  }
  env["TILLGATE_LISTEN"] = "127.0.0.1:0";
  env["TILLGATE_DB"] = o.db_url.empty() ? "sqlite:" + (dir / "bench.db").string() : o.db_url;
  env["TILLGATE_ADMIN_TOKEN"] = admin_token;
  return env;
}

std::string validate(const BenchOptions& o) {
  if (o.mode != "standard" && o.mode != "webhook") {
    return "--mode must be standard or webhook";
  }
  if (o.idle && o.long_polls > 0) {
    return "--idle and --long-polls are separate runs";
  }
  if (o.idle_terminals > 0 && (o.idle || o.long_polls > 0)) {
    return "--idle-terminals goes with a payments run (not --idle or --long-polls)";
  }
  if (!o.idle && o.long_polls == 0 && o.terminals < o.clients) {
    return "--terminals must be at least --clients (each terminal serves one client)";
  }
  if (o.terminals == 0 || (o.clients == 0 && !o.idle && o.long_polls == 0)) {
    return "--terminals and --clients must be at least 1";
  }
  if (o.duration_s <= 0 && o.payments == 0 && !o.idle && o.long_polls == 0) {
    return "give --duration or --payments";
  }
  if (!o.url.empty() && o.admin_token.empty()) {
    return "--url needs --admin-token (or TILLGATE_ADMIN_TOKEN)";
  }
  if (!o.url.empty() && !o.db_url.empty()) {
    return "--db is the database of the gateway the bench starts; with --url it has its own";
  }
  if (o.nodes > 1 && (!o.url.empty() || !(o.db_url.starts_with("postgresql://") ||
                                          o.db_url.starts_with("postgres://")))) {
    return "--nodes above 1 starts several nodes on one PostgreSQL database: give --db "
           "postgresql://... (and no --url)";
  }
  if (o.long_polls > 0 && o.mode != "standard") {
    return "--long-polls holds standard-mode requests (no --mode webhook)";
  }
  return "";
}

// The gateway the bench runs against: started by it (processes, one per node, and dir set)
// or --url.
struct BenchGateway {
  std::vector<std::unique_ptr<bench::ServerProcess>> processes;
  std::optional<std::filesystem::path> dir;
  std::string description;
};

void remove_work_dir(const BenchOptions& o, const BenchGateway& gateway) {
  if (!gateway.dir) {
    return;
  }
  if (o.keep_dir) {
    std::cerr << "kept " << gateway.dir->string() << "\n";
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(*gateway.dir, ignored);
  }
}

// Starts `serve` (--nodes of them on one database, each in a directory of its own, named
// bench-node-K) in a fresh directory; false (after saying why) when one did not come up.
bool start_gateway(Bench& b, BenchGateway& gateway) {
  const auto& o = b.o;
  try {
    std::string pattern = (std::filesystem::path(temp_root(o)) / "tillgate-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot create a directory in " + temp_root(o));
    }
    gateway.dir = pattern;
    b.admin_token = crypto::hex_encode(crypto::random_bytes(16));
    for (std::size_t n = 0; n < std::max<std::size_t>(o.nodes, 1); ++n) {
      auto dir = *gateway.dir;
      auto env = server_environment(o, dir, b.admin_token);
      if (o.nodes > 1) {
        dir /= "node-" + std::to_string(n + 1);
        std::filesystem::create_directory(dir);
        env["TILLGATE_NODE_ID"] = "bench-node-" + std::to_string(n + 1);
      }
      gateway.processes.push_back(
          std::make_unique<bench::ServerProcess>(dir, env, milliseconds(60'000)));
      const auto& server = *gateway.processes.back();
      b.nodes.emplace_back(asio::ip::make_address(server.host()), server.port());
      gateway.description += (n == 0 ? "" : "; ") + std::string("started by the bench (pid ") +
                             std::to_string(server.pid()) + ", " + server.host() + ":" +
                             std::to_string(server.port()) + ", " + dir.string() + ")";
    }
    b.server = b.nodes.front();
    b.server_pid = gateway.processes.front()->pid();
    note(b, "gateway " + gateway.description);
    return true;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    gateway.processes.clear();
    if (gateway.dir && !o.keep_dir) {
      std::error_code ignored;
      std::filesystem::remove_all(*gateway.dir, ignored);
    }
    return false;
  }
}

// --url and --admin-token: a gateway already running; false (after saying why) when the
// URL is not http://IP:PORT.
bool use_running_gateway(Bench& b, BenchGateway& gateway) {
  const auto endpoint = client::parse_http_url(b.o.url);
  if (!endpoint) {
    std::cerr << "error: --url must look like http://HOST:PORT, got '" << b.o.url << "'\n";
    return false;
  }
  error_code ec;
  const auto address = asio::ip::make_address(endpoint->host, ec);
  if (ec) {
    std::cerr << "error: --url needs an IP address, got '" << endpoint->host << "'\n";
    return false;
  }
  b.server = tcp::endpoint(address, endpoint->port);
  b.admin_token = b.o.admin_token;
  gateway.description = b.o.url;
  return true;
}

// The options checked and the source addresses parsed; nullopt after saying why not. Warns
// when the open-file limit is below what the run needs.
std::optional<std::vector<std::string>> prepare(const BenchOptions& options) {
  if (const auto problem = validate(options); !problem.empty()) {
    std::cerr << "error: " << problem << "\n";
    return std::nullopt;
  }
  std::string address_error;
  auto sources = parse_source_addresses(options.source_addresses, address_error);
  if (!sources) {
    std::cerr << "error: --source-addresses: " << address_error << "\n";
    return std::nullopt;
  }
  const auto limit = net::raise_open_file_limit();
  const std::size_t connections =
      (options.long_polls > 0 ? 2 * options.long_polls
                              : options.terminals + options.idle_terminals + options.clients) +
      64;
  if (limit.soft > 0 && limit.soft < connections) {
    std::cerr << "warning: the open-file limit is " << limit.soft << " (hard " << limit.hard
              << "), below the ~" << connections
              << " descriptors this run needs; raise it (as root: ulimit -Hn 1048576; ulimit -n "
                 "1048576)\n";
  }
  return sources;
}

// Stops the gateway the bench started, judges the run and prints the report.
Verdict stop_and_report(const Bench& b, BenchGateway& gateway) {
  std::optional<std::string> server_problem;
  for (const auto& process : gateway.processes) {
    const auto exit = process->stop(milliseconds(30'000));
    gateway.description += ", stopped: " + exit.description;
    if (!exit.clean && !server_problem) {
      server_problem = "ended badly (" + exit.description + "):\n" + process->stderr_tail(15);
    }
  }
  const auto verdict = judge(b, server_problem);
  print_report(b, gateway.description, verdict);
  if (!verdict.ok) {
    std::cerr << "error: " << verdict.why << "\n";
    if (!gateway.processes.empty() && !server_problem) {
      std::cerr << "the gateway's last log lines:\n" << gateway.processes.front()->stderr_tail(10);
    }
  }
  return verdict;
}

}  // namespace

int run_bench(const BenchOptions& options) {
  const auto sources = prepare(options);
  if (!sources) {
    return 1;
  }
  asio::io_context io(1);
  auto b = std::make_shared<Bench>(options, io);
  b->sources = *sources;
  b->run_id = "bench-" + crypto::hex_encode(crypto::random_bytes(4));
  b->timeout = milliseconds(static_cast<std::int64_t>(options.request_timeout_s) * 1000);
  BenchGateway gateway;
  if (!(options.url.empty() ? start_gateway(*b, gateway) : use_running_gateway(*b, gateway))) {
    return 1;
  }
  // bench_main cancels and waits for every task it spawned; stopping the loop then only
  // cuts short a terminal simulator that outlasted its bounded stop.
  asio::co_spawn(io, bench_main(b), [&io](std::exception_ptr) { io.stop(); });
  io.run();
  const auto verdict = stop_and_report(*b, gateway);
  gateway.processes.clear();
  remove_work_dir(options, gateway);
  b.reset();
  return verdict.ok ? 0 : 1;
}

}  // namespace tillgate::sim
