// The `bench` subcommand's options (operations.md: "load generator: simulated terminals +
// signed merchant traffic, prints throughput and latency percentiles").
#include <CLI/CLI.hpp>
#include <memory>

#include "sim/load_generator.hpp"

namespace tillgate::sim {

namespace {

// What runs and for how long: the mode, terminals and clients, duration, count, rate, the
// idle terminals held beside the payments, and the --idle and --long-polls runs. Returns
// --duration, whose absence the callback checks.
CLI::Option* add_run_options(CLI::App& cmd, BenchOptions& o) {
  cmd.add_option("--mode", o.mode,
                 "standard (the answer comes on the request) or webhook (202, then the "
                 "signed webhook ends the payment)")
      ->check(CLI::IsMember({"standard", "webhook"}))
      ->capture_default_str();
  cmd.add_option("--terminals", o.terminals, "simulated terminals (one device each)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
      ->capture_default_str();
  cmd.add_option("--clients", o.clients,
                 "merchant clients, each one keep-alive connection; each owns terminals "
                 "--terminals / --clients and pays on one of them at a time")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}))
      ->capture_default_str();
  auto* duration = cmd.add_option("--duration", o.duration_s,
                                  "seconds measured (payments), or held (--idle, --long-polls)")
                       ->check(CLI::Range(0.0, 86'400.0))
                       ->capture_default_str();
  cmd.add_option("--payments", o.payments,
                 "stop after this many measured payments (alone: no time limit)");
  cmd.add_option("--warmup", o.warmup_s, "seconds run first and not measured")
      ->check(CLI::Range(0.0, 3'600.0))
      ->capture_default_str();
  cmd.add_option("--rate", o.rate,
                 "open loop: payments per second started at fixed times, latency counted "
                 "from each one's due time; 0: closed loop (each client pays again at once)")
      ->check(CLI::Range(0.0, 1'000'000.0))
      ->capture_default_str();
  cmd.add_flag("--idle", o.idle,
               "connect the terminals, hold them --duration s, report the server's RSS per "
               "terminal; no payments");
  cmd.add_option("--idle-terminals", o.idle_terminals,
                 "payments runs: this many more terminals connected (before the payments "
                 "start) and held for the whole run, no payment going to them; the payments "
                 "stay on --terminals. How CPU per payment and latency change with connected "
                 "terminals (bench/growth)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1'000'000}))
      ->capture_default_str();
  cmd.add_option("--long-polls", o.long_polls,
                 "K standard-mode payments held open at once (K terminals, K connections; the "
                 "terminals approve after --duration s unless --behavior says otherwise)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  return duration;
}

// What each payment is, and where the connections come from.
void add_payment_options(CLI::App& cmd, BenchOptions& o) {
  cmd.add_option("--behavior", o.behavior,
                 "the terminals': approve|decline|cancel|slow:MS|ignore (default approve; "
                 "slow:DURATION with --long-polls)");
  cmd.add_option("--amount", o.amount, "amount of each payment")->capture_default_str();
  cmd.add_option("--currency", o.currency, "currency of each payment")->capture_default_str();
  cmd.add_option("--source-addresses", o.source_addresses,
                 "addresses the bench connects from, round robin: A.B.C.D-A.B.C.E ranges "
                 "and/or a comma-separated list (each has ~28,000 ephemeral ports)")
      ->capture_default_str();
}

// The gateway: a running one (--url) or where the one the bench starts keeps its files.
void add_gateway_options(CLI::App& cmd, BenchOptions& o) {
  cmd.add_option("--url", o.url, "a running gateway (http://IP:PORT) instead of starting one");
  cmd.add_option("--admin-token", o.admin_token, "its admin token (with --url)")
      ->envname("TILLGATE_ADMIN_TOKEN");
  cmd.add_option("--work-dir", o.work_dir,
                 "where the started gateway's directory (database, logs) goes; default "
                 "$TMPDIR or /tmp");
  cmd.add_flag("--keep-dir", o.keep_dir, "keep that directory afterwards");
  cmd.add_option("--db", o.db_url,
                 "the started gateway's database (a TILLGATE_DB URL, e.g. postgresql://...); "
                 "default a new SQLite file in its directory. Give an empty database: the "
                 "bench provisions its own merchant and terminals in it");
  cmd.add_option("--nodes", o.nodes,
                 "gateway nodes to start on that database (above 1: a postgresql:// one); "
                 "terminal t connects to node t % N and its client pays from the next node")
      ->check(CLI::Range(std::size_t{1}, std::size_t{16}))
      ->capture_default_str();
}

// How hard the bench pushes while setting up, its own limits, and the output format.
void add_limit_options(CLI::App& cmd, BenchOptions& o) {
  cmd.add_option("--connect-concurrency", o.connect_concurrency,
                 "connections (terminals, clients) being opened at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}))
      ->capture_default_str();
  cmd.add_option("--provision-concurrency", o.provision_concurrency,
                 "admin requests creating devices at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000}))
      ->capture_default_str();
  cmd.add_option("--request-timeout-s", o.request_timeout_s,
                 "one payment's limit, request to answer (webhook mode: to its webhook)")
      ->check(CLI::Range(1, 86'400))
      ->capture_default_str();
  cmd.add_option("--max-backlog", o.max_backlog,
                 "open loop: arrivals waiting for a free client; more are dropped as errors")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}))
      ->capture_default_str();
  cmd.add_flag("--json", o.json, "print the result as one JSON object");
}

}  // namespace

void register_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand(
      "bench",
      "Load generator: simulated terminals and signed merchant payments against a "
      "gateway; prints throughput, latency percentiles, errors and the server's RSS");
  cmd->footer(
      "By default it starts the gateway itself (this binary's `serve` on 127.0.0.1, port 0,\n"
      "a fresh SQLite file in a temporary directory, the rate limits and connection caps\n"
      "raised; any TILLGATE_* setting in the environment is passed on and wins), creates a\n"
      "merchant and the devices through the admin API and connects the terminals in this\n"
      "process. --url and --admin-token target a running gateway instead.\n"
      "Runs: payments (default; --mode standard|webhook, closed loop or --rate R; with\n"
      "--idle-terminals M more terminals connected that are never paid on), --idle (server\n"
      "RSS per connected terminal) and --long-polls K (K payments held open at once).\n"
      "Exit status 1 when a payment failed in error (a decline is not one), none completed,\n"
      "or an idle terminal (--idle-terminals) was not online at the end.\n"
      "See docs/performance.md.");
  auto* duration = add_run_options(*cmd, *o);
  add_payment_options(*cmd, *o);
  add_gateway_options(*cmd, *o);
  add_limit_options(*cmd, *o);
  cmd->callback([o, duration] {
    BenchOptions options = *o;
    if (options.payments > 0 && duration->count() == 0) {
      options.duration_s = 0;  // --payments alone: run until that many
    }
    if (const int code = run_bench(options); code != 0) {
      throw CLI::RuntimeError(code);
    }
  });
}

}  // namespace tillgate::sim
