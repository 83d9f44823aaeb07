// Group commit, measured: commits per second against store calls per second when many
// coroutines write at once through AsyncStore, for a given batch bound.
//
//   store_batch [--batch-max N] [--workers N] [--seconds S] [--wait-us U] [--dir PATH]
//               [--db postgresql://...]
//
// Each worker owns a device and loops: insert_transaction (PENDING), then change_status
// to COMPLETED, each a store call that waits for its commit, as the payment path does.
// The database is a fresh SQLite file (WAL, synchronous=FULL, as the gateway opens it)
// in --dir (default: the current directory), removed afterwards; or, with --db, the
// PostgreSQL database that URL names (empty: the run adds merchant m1 and its devices,
// and leaves them). Not a test: it prints
// figures, it checks nothing beyond every call succeeding.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "store/async_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace {

namespace asio = boost::asio;
using tillgate::store::AsyncStore;
using tillgate::store::Store;
using tillgate::store::StoreBatchSettings;
using Clock = std::chrono::steady_clock;

struct Counts {
  std::mutex mutex;
  std::size_t commits = 0;
  std::size_t committed_calls = 0;
  std::size_t largest_batch = 0;
  std::chrono::nanoseconds commit_time{0};
};

class CountingObserver final : public tillgate::store::StoreBatchObserver {
 public:
  explicit CountingObserver(Counts& counts) : counts_(counts) {}
  void batch_committed(std::size_t calls, std::chrono::nanoseconds commit_time,
                       std::chrono::nanoseconds) override {
    const std::lock_guard lock(counts_.mutex);
    ++counts_.commits;
    counts_.committed_calls += calls;
    counts_.largest_batch = std::max(counts_.largest_batch, calls);
    counts_.commit_time += commit_time;
  }
  void queue_depth(std::size_t) override {}

 private:
  Counts& counts_;
};

struct Worker {
  std::size_t calls = 0;
  std::size_t failures = 0;
};

tillgate::domain::Timestamp now() {
  return tillgate::domain::SystemClock{}.now();
}

tillgate::store::TransactionRecord make_transaction(const std::string& transaction_id,
                                                    const std::string& device_id) {
  tillgate::store::TransactionRecord record;
  record.merchant_id = "m1";
  record.transaction_id = transaction_id;
  record.device_id = device_id;
  record.amount_minor = 1'250;
  record.currency = "NGN";
  record.payment_method = tillgate::domain::PaymentMethod::card;
  record.request_json = R"({"amount":"12.50","currency":"NGN","paymentMethod":"CARD"})";
  record.request_fingerprint = std::string(64, 'f');
  record.created_at = record.updated_at = now();
  record.deadline = record.created_at + std::chrono::seconds(90);
  return record;
}

asio::awaitable<void> work(AsyncStore* store, std::string device_id, Clock::time_point end,
                           Worker* worker) {
  for (std::size_t i = 0; Clock::now() < end; ++i) {
    auto record = make_transaction(device_id + "-" + std::to_string(i), device_id);
    tillgate::store::StatusChange change;
    change.merchant_id = record.merchant_id;
    change.transaction_id = record.transaction_id;
    change.expected = tillgate::domain::TransactionStatus::pending;
    change.next = tillgate::domain::TransactionStatus::completed;
    change.cause = "terminal_succeeded";
    change.at = now();
    change.outcome = tillgate::domain::TerminalOutcome{
        .status = tillgate::domain::TerminalStatus::success, .authorization_code = "A1"};
    change.completed_at = change.at;
    auto insert = [record](Store& s) { return s.insert_transaction(record); };
    auto complete = [change](Store& s) {
      const auto result = s.change_status(change);
      return result && result->applied;
    };
    try {
      const auto inserted = co_await store->call(std::move(insert));
      const bool completed = co_await store->call(std::move(complete));
      worker->calls += 2;
      if (inserted != tillgate::store::InsertOutcome::inserted || !completed) {
        ++worker->failures;
      }
    } catch (const std::exception& error) {
      ++worker->failures;
      std::fprintf(stderr, "store call failed: %s\n", error.what());
    }
  }
}

std::string_view option(int argc, char** argv, std::string_view name, std::string_view fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) {
      return argv[i + 1];
    }
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const auto batch_max = std::stoul(std::string(option(argc, argv, "--batch-max", "256")));
  const auto workers = std::stoul(std::string(option(argc, argv, "--workers", "64")));
  const auto seconds = std::stoi(std::string(option(argc, argv, "--seconds", "5")));
  const auto wait_us = std::stol(std::string(option(argc, argv, "--wait-us", "0")));
  const std::filesystem::path dir{std::string(option(argc, argv, "--dir", "."))};
  const auto file = dir / ("store_batch_bench_" + std::to_string(::getpid()) + ".db");
  const std::string database{option(argc, argv, "--db", "")};

  Counts counts;
  CountingObserver observer{counts};
  std::vector<Worker> results(workers);
  Clock::duration elapsed{};
  {
    auto sqlite = database.empty() ? std::make_unique<tillgate::store::sqlite::SqliteStore>(file)
                                   : tillgate::store::open_store(database);
    sqlite->insert_merchant({.merchant_id = "m1", .name = "Bench", .created_at = now()});
    for (std::size_t w = 0; w < workers; ++w) {
      sqlite->insert_device({.device_id = "d" + std::to_string(w),
                             .merchant_id = "m1",
                             .label = "",
                             .secret_hash = std::string(64, 'a'),
                             .metadata_json = "{}",
                             .created_at = now(),
                             .revoked_at = std::nullopt});
    }
    AsyncStore store{
        std::move(sqlite), 10'000,
        StoreBatchSettings{.max_calls = batch_max, .max_wait = std::chrono::microseconds(wait_us)}};
    store.set_observer(&observer);
    asio::io_context io(1);
    const auto start = Clock::now();
    const auto end = start + std::chrono::seconds(seconds);
    for (std::size_t w = 0; w < workers; ++w) {
      asio::co_spawn(io, work(&store, "d" + std::to_string(w), end, &results[w]), asio::detached);
    }
    io.run();
    elapsed = Clock::now() - start;
    store.stop();
  }
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  std::filesystem::remove(file.string() + "-shm");

  std::size_t calls = 0;
  std::size_t failures = 0;
  for (const auto& result : results) {
    calls += result.calls;
    failures += result.failures;
  }
  const double s = std::chrono::duration<double>(elapsed).count();
  std::printf(
      "batch_max=%lu wait_us=%ld workers=%lu seconds=%.1f: calls=%zu (%.0f/s) commits=%zu "
      "(%.0f/s) calls/commit=%.1f largest=%zu mean_commit=%.2f ms failures=%zu\n",
      batch_max, wait_us, workers, s, calls, static_cast<double>(calls) / s, counts.commits,
      static_cast<double>(counts.commits) / s,
      counts.commits > 0
          ? static_cast<double>(counts.committed_calls) / static_cast<double>(counts.commits)
          : 0.0,
      counts.largest_batch,
      counts.commits > 0 ? std::chrono::duration<double, std::milli>(counts.commit_time).count() /
                               static_cast<double>(counts.commits)
                         : 0.0,
      failures);
  return failures == 0 ? 0 : 1;
}
