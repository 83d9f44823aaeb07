#pragma once
// `tillgate bench`: the load generator (issue 7). It starts the gateway itself (or targets
// a running one with --url/--admin-token), provisions a merchant and N devices through the
// admin API, connects N simulated terminals in this process, and then, by mode:
//   standard / webhook  C merchant clients, each one keep-alive HTTP/1.1 connection doing
//                       signed POST /v1/terminals/{id}/payments, closed loop or at a fixed
//                       arrival rate (--rate); throughput, latency percentiles, errors.
//                       --idle-terminals M connects M more terminals that no payment goes
//                       to, held for the whole run (issue 18: nothing should grow with them)
//   idle (--idle)       holds the N terminals connected; server RSS per terminal
//   long polls          K standard-mode payments held open at once (--long-polls K)
// The numbers it prints and what they mean: docs/performance.md.
#include <cstddef>
#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace tillgate::sim {

struct BenchOptions {
  std::string mode = "standard";  // standard | webhook
  std::size_t terminals = 64;
  std::size_t clients = 16;
  double duration_s = 10;      // measured time after the warm-up; 0: until --payments
  std::uint64_t payments = 0;  // stop after this many measured payments; 0: no count
  double warmup_s = 0;         // payments started in the first warmup_s are not measured
  double rate = 0;             // payments/s arriving at fixed times (open loop); 0: closed loop
  bool idle = false;
  std::size_t idle_terminals = 0;  // payments runs: more terminals connected, never paid on
  std::size_t long_polls = 0;
  std::string behavior;  // the terminals'; empty: approve (slow:DURATION for long polls)
  std::string amount = "1.00";
  std::string currency = "USD";
  std::string source_addresses = "127.0.0.1";
  std::string url;          // a running gateway; empty: start one
  std::string admin_token;  // its admin token (with --url)
  std::string work_dir;     // where the started gateway's directory goes; empty: $TMPDIR
  std::string db_url;       // the started gateway's TILLGATE_DB; empty: SQLite in its directory
  std::size_t nodes = 1;    // gateway nodes started on db_url (above 1: PostgreSQL only)
  bool keep_dir = false;
  std::size_t connect_concurrency = 256;  // connections being opened at once
  std::size_t provision_concurrency = 16;
  int request_timeout_s = 120;        // one payment, request to answer (or webhook)
  std::size_t max_backlog = 100'000;  // open loop: arrivals waiting for a free client
  bool json = false;
};

// Runs the whole bench and prints the results (stdout; progress on stderr). Returns the
// exit code: 0 when payments completed and none failed in error (a decline is not an
// error) and every --idle-terminals one stayed connected, for --idle when every terminal
// stayed connected, for --long-polls when all K were held at once and answered; 1 otherwise.
int run_bench(const BenchOptions& options);

// Adds the `bench` subcommand (src/sim/bench_command.cpp) to `app`.
void register_bench_command(CLI::App& app);

}  // namespace tillgate::sim
