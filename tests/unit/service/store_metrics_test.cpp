// app::StoreMetrics: the store thread's batch reports (AsyncStore's observer) as the
// tillgate_store_* metrics; and wired to a real AsyncStore, every call is counted.
#include "app/store_metrics.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "../../support/exposition.hpp"
#include "../../support/temp_dir.hpp"
#include "store/store.hpp"

namespace tillgate::app {
namespace {

using testing_support::parse_exposition;

TEST(StoreMetrics, BatchesBecomeSizesCommitTimesCallsAndDepth) {
  metrics::Registry registry(1000);
  metrics::GatewayMetrics gateway_metrics(registry);
  StoreMetrics observer(gateway_metrics);
  store::StoreBatchObserver& as_observer = observer;

  as_observer.queue_depth(5);
  auto parsed = parse_exposition(registry.render());
  EXPECT_EQ(parsed.value("tillgate_store_queue_depth"), 5.0);
  as_observer.batch_committed(3, std::chrono::microseconds(700), std::chrono::milliseconds(2));
  parsed = parse_exposition(registry.render());
  EXPECT_EQ(parsed.value("tillgate_store_queue_depth"), 2.0);  // 5 waited, 3 were taken
  as_observer.queue_depth(2);
  as_observer.batch_failed(2);
  as_observer.queue_depth(1);
  as_observer.batch_committed(4, std::chrono::milliseconds(3), std::chrono::milliseconds(4));

  parsed = parse_exposition(registry.render());
  ASSERT_TRUE(parsed.errors.empty()) << ::testing::PrintToString(parsed.errors);
  EXPECT_EQ(parsed.value("tillgate_store_calls_total"), 9.0);
  EXPECT_EQ(parsed.value("tillgate_store_batch_size_count"), 2.0);  // the failed one is not
  EXPECT_EQ(parsed.value("tillgate_store_batch_size_sum"), 7.0);
  EXPECT_EQ(parsed.value("tillgate_store_batch_size_bucket", {{"le", "2"}}), 0.0);
  EXPECT_EQ(parsed.value("tillgate_store_batch_size_bucket", {{"le", "4"}}), 2.0);
  EXPECT_EQ(parsed.value("tillgate_store_commit_seconds_bucket", {{"le", "0.001"}}), 1.0);
  EXPECT_EQ(parsed.value("tillgate_store_commit_seconds_bucket", {{"le", "0.005"}}), 2.0);
  EXPECT_EQ(parsed.value("tillgate_store_queue_depth"), 0.0);  // never below zero
}

boost::asio::awaitable<void> call_store(store::AsyncStore& store, int calls) {
  for (int i = 0; i < calls; ++i) {
    auto ping = [](store::Store& s) { s.ping(); };
    co_await store.call(std::move(ping));
  }
}

TEST(StoreMetrics, ARealStoreReportsEveryCall) {
  testing::TempDir dir;
  metrics::Registry registry(1000);
  metrics::GatewayMetrics gateway_metrics(registry);
  StoreMetrics observer(gateway_metrics);
  {
    store::AsyncStore store(store::open_store("sqlite:" + (dir.path() / "m.db").string()), 100,
                            store::StoreBatchSettings{.max_calls = 256, .max_wait = {}});
    store.set_observer(&observer);
    boost::asio::io_context io;
    auto done = boost::asio::co_spawn(io, call_store(store, 7), boost::asio::use_future);
    io.run();
    done.get();
    store.stop();
  }
  const auto parsed = parse_exposition(registry.render());
  ASSERT_TRUE(parsed.errors.empty()) << ::testing::PrintToString(parsed.errors);
  EXPECT_EQ(parsed.value("tillgate_store_calls_total"), 7.0);
  EXPECT_EQ(parsed.value("tillgate_store_batch_size_sum"), 7.0);
  EXPECT_EQ(parsed.value("tillgate_store_commit_seconds_count"),
            parsed.value("tillgate_store_batch_size_count"));
  EXPECT_EQ(parsed.value("tillgate_store_queue_depth"), 0.0);
}

}  // namespace
}  // namespace tillgate::app
