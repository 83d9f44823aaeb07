// The dispatcher in process, against a real SQLite store and local receivers: every
// pending delivery is delivered, an endpoint never has more attempts in flight than its
// slots (its answers take 50 ms, so N deliveries through 2 slots take N/2 * 50 ms at
// least), and the other endpoints are not slowed by it. On a ManualTimeSource, a failed
// attempt's retry waits for its deadline and no longer.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <iostream>
#include <thread>

#include "../../support/temp_dir.hpp"
#include "../../support/webhook_receiver.hpp"
#include "domain/terminal_outcome.hpp"
#include "net/time_source.hpp"
#include "store/async_store.hpp"
#include "store/status_change.hpp"
#include "webhooks/dispatcher.hpp"
#include "webhooks/events.hpp"
#include "webhooks/signature.hpp"
#include "webhooks/standard_format.hpp"

namespace tillgate {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::ReceiverReply;
using testing::WebhookReceiver;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// The receivers listen on 127.0.0.1, which a default client refuses.
webhooks::WebhookClientSettings local_client_settings() {
  webhooks::WebhookClientSettings settings;
  settings.attempt_timeout = 10s;
  settings.allow_private_addresses = true;
  return settings;
}

class WebhookDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_store("sqlite:" + (dir_.path() / "tillgate.db").string());
    auto& raw = *opened;
    const auto now = time_->now();
    raw.insert_merchant({.merchant_id = "m1", .name = "Shop", .created_at = now});
    ASSERT_TRUE(raw.insert_device({.device_id = "d1",
                                   .merchant_id = "m1",
                                   .label = "",
                                   .secret_hash = std::string(64, 'a'),
                                   .metadata_json = "{}",
                                   .created_at = now,
                                   .revoked_at = std::nullopt}));
    store_ = std::make_unique<store::AsyncStore>(
        std::move(opened), 10'000, store::StoreBatchSettings{.max_calls = 256, .max_wait = {}});
  }

  void TearDown() override {
    stop();
    other_node_.reset();
    dispatcher_.reset();
    client_.reset();
    store_.reset();
  }

  // Lets the attempts in flight be recorded, then stops the network thread: the store
  // may be read directly afterwards (it is not thread-safe).
  void stop() {
    if (!thread_.joinable()) {
      return;
    }
    std::promise<void> stopped;
    auto shutdown = dispatcher_->shutdown(2s);
    asio::co_spawn(io_, std::move(shutdown),
                   [&stopped](std::exception_ptr) { stopped.set_value(); });
    stopped.get_future().wait();
    if (other_node_) {
      std::promise<void> other_stopped;
      auto other_shutdown = other_node_->shutdown(2s);
      asio::co_spawn(io_, std::move(other_shutdown),
                     [&other_stopped](std::exception_ptr) { other_stopped.set_value(); });
      other_stopped.get_future().wait();
    }
    work_.reset();
    io_.stop();
    thread_.join();
  }

  void add_endpoint(const std::string& endpoint_id, const std::string& url) {
    const auto now = time_->now();
    store::WebhookEndpointRecord endpoint;
    endpoint.endpoint_id = endpoint_id;
    endpoint.merchant_id = "m1";
    endpoint.url = url;
    endpoint.secret = domain::Secret(webhooks::generate_webhook_secret());
    endpoint.events_json = R"(["payment.completed"])";
    endpoint.created_at = endpoint.updated_at = now;
    ASSERT_EQ(store_->direct().insert_webhook_endpoint(endpoint, 16),
              store::EndpointInsertOutcome::inserted);
  }

  // `count` completed transactions, each with its outbox event (one delivery per endpoint).
  void complete_transactions(int count) {
    auto& raw = store_->direct();
    for (int i = 0; i < count; ++i) {
      store::TransactionRecord record;
      record.merchant_id = "m1";
      record.transaction_id = "T" + std::to_string(i);
      record.device_id = "d1";
      record.amount_minor = 100;
      record.currency = "USD";
      record.payment_method = domain::PaymentMethod::card;
      record.request_json = R"({"amount":"1.00","currency":"USD","paymentMethod":"CARD"})";
      record.request_fingerprint = std::string(64, 'f');
      record.created_at = record.updated_at = time_->now();
      record.deadline = record.created_at + 90s;
      ASSERT_EQ(raw.insert_transaction(record), store::InsertOutcome::inserted);
      store::StatusChange change;
      change.merchant_id = "m1";
      change.transaction_id = record.transaction_id;
      change.expected = domain::TransactionStatus::pending;
      change.next = domain::TransactionStatus::completed;
      change.cause = "terminal_succeeded";
      change.at = time_->now();
      change.outcome = domain::TerminalOutcome{.status = domain::TerminalStatus::success};
      change.completed_at = change.at;
      change.webhook_event =
          webhooks::payment_event(store::changed_record(record, change), change.at);
      ASSERT_TRUE(raw.change_status(change)->applied);
    }
  }

  // With `two_nodes`, a second dispatcher on the same store, as another gateway node on the
  // same database would run.
  void start(webhooks::DispatcherSettings settings, bool two_nodes = false) {
    client_ =
        std::make_unique<webhooks::WebhookHttpClient>(io_.get_executor(), local_client_settings());
    dispatcher_ = std::make_unique<webhooks::WebhookDispatcher>(
        io_.get_executor(), *store_, *client_, formats_, *time_, settings);
    if (two_nodes) {
      other_node_ = std::make_unique<webhooks::WebhookDispatcher>(
          io_.get_executor(), *store_, *client_, formats_, *time_, settings);
    }
    asio::post(io_, [this] {
      dispatcher_->start();
      if (other_node_) {
        other_node_->start();
      }
    });
    thread_ = std::thread([this] { io_.run(); });
  }

  // Runs `f` on the network thread (where the dispatcher and its time source live) and
  // returns its result.
  template <class F>
  auto on_network_thread(F f) {
    std::promise<decltype(f())> result;
    asio::post(io_, [&] { result.set_value(f()); });
    return result.get_future().get();
  }

  tillgate::testing::TempDir dir_;
  net::SystemTimeSource system_time_;
  net::TimeSource* time_ = &system_time_;  // the dispatcher's and the records' time
  webhooks::WebhookFormats formats_{std::make_unique<webhooks::StandardWebhookFormat>(
      std::vector<std::chrono::seconds>{std::chrono::seconds(5)})};
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<store::AsyncStore> store_;
  std::unique_ptr<webhooks::WebhookHttpClient> client_;
  std::unique_ptr<webhooks::WebhookDispatcher> dispatcher_;
  std::unique_ptr<webhooks::WebhookDispatcher> other_node_;  // start(..., two_nodes)
  std::thread thread_;
};

TEST_F(WebhookDispatcherTest, SlotsBoundEachEndpointAndTheOthersAreNotSlowed) {
  WebhookReceiver slow;
  slow.set_default(ReceiverReply::delayed(50ms));
  WebhookReceiver fast;
  add_endpoint("wh_slow", slow.url());
  add_endpoint("wh_fast", fast.url());
  constexpr int kEvents = 40;
  complete_transactions(kEvents);

  webhooks::DispatcherSettings settings;
  settings.max_in_flight = 8;
  settings.max_in_flight_per_endpoint = 2;
  settings.batch_size = 16;
  settings.max_pings_in_flight = 1;
  settings.lease = 60s;
  const auto started = std::chrono::steady_clock::now();
  start(settings);
  ASSERT_TRUE(eventually([&] { return fast.request_count() == kEvents; }, 20s));
  const auto fast_done = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(eventually([&] { return slow.request_count() == kEvents; }, 20s));
  const auto slow_done = std::chrono::steady_clock::now() - started;

  const auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d); };
  std::cout << "[ measure ] " << kEvents
            << " deliveries to a 50 ms endpoint through 2 slots: " << ms(slow_done).count()
            << " ms; the same " << kEvents
            << " to an instant endpoint meanwhile: " << ms(fast_done).count() << " ms\n";
  // Two at a time, 50 ms each: at least 20 rounds of 50 ms.
  EXPECT_GE(ms(slow_done), std::chrono::milliseconds(kEvents / 2 * 50));
  // The instant endpoint finished long before the slow one.
  EXPECT_LT(ms(fast_done) * 2, ms(slow_done));

  // Every delivery is recorded as succeeded, each with one attempt.
  stop();
  store::DeliveryQuery query;
  query.merchant_id = "m1";
  query.limit = 200;
  const auto deliveries = store_->direct().list_webhook_deliveries(query);
  ASSERT_EQ(deliveries.size(), 2U * kEvents);
  for (const auto& delivery : deliveries) {
    EXPECT_EQ(delivery.status, store::DeliveryStatus::succeeded) << delivery.delivery_id;
    EXPECT_EQ(delivery.attempt_count, 1) << delivery.delivery_id;
  }
}

// Two dispatchers on one store, as two gateway nodes on one database: each delivery is
// claimed by one of them and POSTed once, not once per node.
TEST_F(WebhookDispatcherTest, TwoNodesDeliverEachDeliveryOnce) {
  WebhookReceiver receiver;
  receiver.set_default(ReceiverReply::delayed(20ms));
  add_endpoint("wh_1", receiver.url());
  constexpr int kEvents = 30;
  complete_transactions(kEvents);

  webhooks::DispatcherSettings settings;
  settings.max_in_flight = 4;
  settings.max_in_flight_per_endpoint = 4;
  settings.batch_size = 3;
  settings.max_pings_in_flight = 1;
  settings.lease = 60s;
  start(settings, true);
  ASSERT_TRUE(eventually([&] { return receiver.request_count() == kEvents; }, 20s));
  std::this_thread::sleep_for(300ms);  // a second POST of any of them would come meanwhile
  EXPECT_EQ(receiver.request_count(), static_cast<std::size_t>(kEvents));
  stop();
  store::DeliveryQuery query;
  query.merchant_id = "m1";
  query.limit = 100;
  for (const auto& delivery : store_->direct().list_webhook_deliveries(query)) {
    EXPECT_EQ(delivery.status, store::DeliveryStatus::succeeded) << delivery.delivery_id;
    EXPECT_EQ(delivery.attempt_count, 1) << delivery.delivery_id;
  }
}

// The same dispatcher with time moved by hand: a failed attempt is retried when its
// deadline (schedule 5 s, jitter at most 10%) comes on the time source, not before, however
// long the test waits in real time.
class WebhookDispatcherManualTimeTest : public WebhookDispatcherTest {
 protected:
  WebhookDispatcherManualTimeTest() { time_ = &manual_; }

  // The loop's next wake-up, read on the network thread.
  std::optional<domain::Timestamp> next_deadline() {
    return on_network_thread([this] { return manual_.next_deadline(); });
  }
  void advance(std::chrono::milliseconds d) {
    on_network_thread([this, d] {
      manual_.advance(d);
      return true;
    });
  }

  domain::Timestamp start_ =
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  net::ManualTimeSource manual_{start_};
};

TEST_F(WebhookDispatcherManualTimeTest, RetryWaitsForItsDeadlineOnTheTimeSource) {
  WebhookReceiver receiver;
  receiver.script({ReceiverReply::with_status(500)});  // then the default: 200
  add_endpoint("wh_1", receiver.url());
  complete_transactions(1);

  webhooks::DispatcherSettings settings;
  settings.max_in_flight = 4;
  settings.max_in_flight_per_endpoint = 2;
  settings.batch_size = 10;
  settings.max_pings_in_flight = 1;
  settings.lease = 60s;
  start(settings);
  ASSERT_TRUE(eventually([&] { return receiver.request_count() == 1; }, 10s));
  // The failed attempt is recorded with its retry 5 s +-10% later, and the loop sleeps
  // until then (its idle poll, 30 s, is later).
  ASSERT_TRUE(eventually(
      [&] {
        const auto next = next_deadline();
        return next && *next >= start_ + 4500ms && *next <= start_ + 5500ms;
      },
      10s));
  const auto retry_at = *next_deadline();

  // Real time passing does nothing; time on the source short of the deadline neither.
  std::this_thread::sleep_for(200ms);
  advance(retry_at - start_ - 1ms);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(receiver.request_count(), 1U);

  advance(1ms);  // the deadline: the retry goes out and succeeds
  ASSERT_TRUE(eventually([&] { return receiver.request_count() == 2; }, 10s));
  stop();
  store::DeliveryQuery query;
  query.merchant_id = "m1";
  query.limit = 10;
  const auto deliveries = store_->direct().list_webhook_deliveries(query);
  ASSERT_EQ(deliveries.size(), 1U);
  EXPECT_EQ(deliveries[0].status, store::DeliveryStatus::succeeded);
  EXPECT_EQ(deliveries[0].attempt_count, 2);
}

// A node claimed the delivery and died before recording its attempt: the dispatcher (another
// node) leaves it alone until the lease has passed on its time source, then delivers it.
TEST_F(WebhookDispatcherManualTimeTest, ADeadNodesClaimIsTakenOverWhenItsLeasePasses) {
  WebhookReceiver receiver;
  add_endpoint("wh_1", receiver.url());
  complete_transactions(1);
  const auto dead_node_claim = store_->direct().claim_due_webhook_deliveries(
      store::DueQuery{.now = start_, .limit = 10, .lease = 60s});
  ASSERT_EQ(dead_node_claim.due.size(), 1U);

  webhooks::DispatcherSettings settings;
  settings.max_in_flight = 4;
  settings.max_in_flight_per_endpoint = 2;
  settings.batch_size = 10;
  settings.max_pings_in_flight = 1;
  settings.lease = 60s;
  start(settings);
  // The loop sleeps until its idle poll (30 s), sooner than the lease's end.
  ASSERT_TRUE(eventually([&] { return next_deadline() == start_ + 30s; }, 10s));
  advance(30s);
  ASSERT_TRUE(eventually([&] { return next_deadline() == start_ + 60s; }, 10s));
  advance(29'999ms);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(receiver.request_count(), 0U);

  advance(1ms);  // the lease has passed: this node claims the delivery and delivers it
  ASSERT_TRUE(eventually([&] { return receiver.request_count() == 1; }, 10s));
  stop();
  store::DeliveryQuery query;
  query.merchant_id = "m1";
  const auto deliveries = store_->direct().list_webhook_deliveries(query);
  ASSERT_EQ(deliveries.size(), 1U);
  EXPECT_EQ(deliveries[0].status, store::DeliveryStatus::succeeded);
  EXPECT_EQ(deliveries[0].attempt_count, 1);
}

}  // namespace
}  // namespace tillgate
