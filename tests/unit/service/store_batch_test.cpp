// Group commit in AsyncStore (issue 7): calls queued while the store thread is busy share
// one commit, a failing call fails alone, nobody is answered before the commit returned,
// a failed commit fails every call of its batch, the batch and queue bounds hold, and
// stop() commits what is queued. Real SQLite files in temporary directories; the store
// thread is held at chosen points with gates, never timed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../store/store_test_support.hpp"
#include "store/async_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace tillgate::store::testing {
namespace {

namespace asio = boost::asio;
using store::AsyncStore;
using store::StoreBatchSettings;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every method forwards to the real store; tests override the batch steps they watch.
class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  void ping() override { inner_->ping(); }
  void probe_write(Timestamp at) override { inner_->probe_write(at); }
  void insert_merchant(const MerchantRecord& merchant) override {
    inner_->insert_merchant(merchant);
  }
  std::optional<MerchantRecord> find_merchant(const std::string& merchant_id) override {
    return inner_->find_merchant(merchant_id);
  }
  std::vector<MerchantRecord> list_merchants() override { return inner_->list_merchants(); }
  void insert_api_key(const ApiKeyRecord& key) override { inner_->insert_api_key(key); }
  void create_merchant(const MerchantRecord& merchant, const ApiKeyRecord& key) override {
    inner_->create_merchant(merchant, key);
  }
  std::optional<ApiKeyRecord> find_api_key(const std::string& api_key) override {
    return inner_->find_api_key(api_key);
  }
  bool revoke_api_key(const std::string& merchant_id, const std::string& api_key,
                      Timestamp at) override {
    return inner_->revoke_api_key(merchant_id, api_key, at);
  }
  bool insert_device(const DeviceRecord& device) override {
    return inner_->insert_device(std::move(device));
  }
  std::optional<DeviceRecord> find_device(const std::string& device_id) override {
    return inner_->find_device(device_id);
  }
  std::vector<DeviceRecord> list_devices(const std::string& merchant_id) override {
    return inner_->list_devices(merchant_id);
  }
  bool revoke_device(const std::string& merchant_id, const std::string& device_id,
                     Timestamp at) override {
    return inner_->revoke_device(merchant_id, device_id, at);
  }
  DeviceRevokeOutcome revoke_merchant_device(const std::string& merchant_id,
                                             const std::string& device_id, Timestamp at) override {
    return inner_->revoke_merchant_device(merchant_id, device_id, at);
  }
  void insert_pairing_code(const PairingCodeRecord& code) override {
    inner_->insert_pairing_code(code);
  }
  bool insert_new_pairing_code(const PairingCodeRecord& code) override {
    return inner_->insert_new_pairing_code(code);
  }
  std::optional<DeviceRecord> pair_device(const std::string& code_hash, DeviceRecord device,
                                          Timestamp at) override {
    return inner_->pair_device(code_hash, std::move(device), at);
  }
  bool has_active_webhook_endpoint(const std::string& merchant_id) override {
    return inner_->has_active_webhook_endpoint(merchant_id);
  }
  EndpointInsertOutcome insert_webhook_endpoint(const WebhookEndpointRecord& endpoint,
                                                std::size_t max_per_merchant) override {
    return inner_->insert_webhook_endpoint(endpoint, max_per_merchant);
  }
  std::optional<WebhookEndpointRecord> find_webhook_endpoint(
      const std::string& merchant_id, const std::string& endpoint_id) override {
    return inner_->find_webhook_endpoint(merchant_id, endpoint_id);
  }
  std::vector<WebhookEndpointRecord> list_webhook_endpoints(
      const std::string& merchant_id) override {
    return inner_->list_webhook_endpoints(merchant_id);
  }
  bool update_webhook_endpoint(const WebhookEndpointRecord& endpoint) override {
    return inner_->update_webhook_endpoint(endpoint);
  }
  EndpointDeleteOutcome delete_webhook_endpoint(const std::string& merchant_id,
                                                const std::string& endpoint_id,
                                                Timestamp at) override {
    return inner_->delete_webhook_endpoint(merchant_id, endpoint_id, at);
  }
  DueDeliveries claim_due_webhook_deliveries(const DueQuery& query) override {
    return inner_->claim_due_webhook_deliveries(query);
  }
  void release_webhook_claims(const std::vector<WebhookClaim>& claims) override {
    inner_->release_webhook_claims(claims);
  }
  bool record_webhook_attempt(const AttemptOutcome& outcome) override {
    return inner_->record_webhook_attempt(outcome);
  }
  RetryResult retry_webhook_delivery(const std::string& merchant_id, const std::string& delivery_id,
                                     Timestamp at) override {
    return inner_->retry_webhook_delivery(merchant_id, delivery_id, at);
  }
  std::vector<WebhookDeliveryRecord> list_webhook_deliveries(const DeliveryQuery& query) override {
    return inner_->list_webhook_deliveries(query);
  }
  bool set_merchant_nomba_amount_unit(const std::string& merchant_id,
                                      const std::optional<std::string>& unit) override {
    return inner_->set_merchant_nomba_amount_unit(merchant_id, unit);
  }
  std::vector<std::string> find_nomba_deliveries(const std::string& merchant_id,
                                                 const std::string& request_id) override {
    return inner_->find_nomba_deliveries(merchant_id, request_id);
  }
  std::vector<NombaEventLogRecord> list_nomba_event_logs(const NombaEventLogQuery& query) override {
    return inner_->list_nomba_event_logs(query);
  }
  std::vector<WebhookEventRecord> list_webhook_events(const std::string& merchant_id,
                                                      const std::string& transaction_id) override {
    return inner_->list_webhook_events(merchant_id, transaction_id);
  }
  std::optional<PaymentEventRecord> find_payment_event(const std::string& merchant_id,
                                                       const std::string& event_id) override {
    return inner_->find_payment_event(merchant_id, event_id);
  }
  std::vector<PaymentEventRecord> list_payment_events(const std::string& merchant_id,
                                                      std::int64_t after_sequence,
                                                      std::size_t limit) override {
    return inner_->list_payment_events(merchant_id, after_sequence, limit);
  }
  InsertOutcome insert_transaction(const TransactionRecord& transaction) override {
    return inner_->insert_transaction(transaction);
  }
  std::optional<TransactionRecord> find_transaction(const std::string& merchant_id,
                                                    const std::string& transaction_id) override {
    return inner_->find_transaction(merchant_id, transaction_id);
  }
  std::optional<TransactionRecord> find_unfinished_for_device(
      const std::string& device_id) override {
    return inner_->find_unfinished_for_device(device_id);
  }
  std::vector<TransactionRecord> list_transactions(const TransactionQuery& query) override {
    return inner_->list_transactions(query);
  }
  std::vector<TransactionRecord> list_unfinished() override { return inner_->list_unfinished(); }
  std::optional<ChangeResult> change_status(const StatusChange& change) override {
    return inner_->change_status(change);
  }
  std::optional<ChangeResult> request_cancel(const std::string& merchant_id,
                                             const std::string& transaction_id,
                                             Timestamp at) override {
    return inner_->request_cancel(merchant_id, transaction_id, at);
  }
  std::vector<TransactionEventRecord> list_events(const std::string& merchant_id,
                                                  const std::string& transaction_id) override {
    return inner_->list_events(merchant_id, transaction_id);
  }
  void insert_refresh_token(const RefreshTokenRecord& token,
                            std::size_t max_live_per_merchant) override {
    inner_->insert_refresh_token(token, max_live_per_merchant);
  }
  RefreshResult rotate_refresh_token(const RefreshRotation& rotation) override {
    return inner_->rotate_refresh_token(rotation);
  }
  void revoke_access_token(const std::string& token_id, const std::string& merchant_id,
                           Timestamp expires_at, Timestamp at) override {
    inner_->revoke_access_token(token_id, merchant_id, expires_at, at);
  }
  bool is_access_token_revoked(const std::string& token_id) override {
    return inner_->is_access_token_revoked(token_id);
  }
  domain::Secret server_secret(const std::string& name, const domain::Secret& candidate,
                               Timestamp at) override {
    return inner_->server_secret(name, candidate, at);
  }
  void begin_batch(BatchCalls calls) override { inner_->begin_batch(calls); }
  void begin_batch_call() override { inner_->begin_batch_call(); }
  bool end_batch_call(bool keep) override { return inner_->end_batch_call(keep); }
  void commit_batch() override { inner_->commit_batch(); }
  void rollback_batch() noexcept override { inner_->rollback_batch(); }
  void begin_reads() noexcept override { inner_->begin_reads(); }
  void end_reads() noexcept override { inner_->end_reads(); }

 protected:
  std::unique_ptr<Store> inner_;
};

// The n-th commit (1-based) announces that it was reached, then waits to be let through.
class GatedCommitStore final : public ForwardingStore {
 public:
  GatedCommitStore(std::unique_ptr<Store> inner, int gated_commit)
      : ForwardingStore(std::move(inner)), gated_commit_(gated_commit) {}

  void commit_batch() override {
    if (++commits_ == gated_commit_) {
      reached.set_value();
      release.get_future().wait();
    }
    inner_->commit_batch();
  }

  std::promise<void> reached;
  std::promise<void> release;

 private:
  int gated_commit_;
  int commits_ = 0;  // store thread only
};

// The n-th commit (1-based) fails without committing, as a COMMIT that hits a full disk.
class FailingCommitStore final : public ForwardingStore {
 public:
  FailingCommitStore(std::unique_ptr<Store> inner, int failing_commit)
      : ForwardingStore(std::move(inner)), failing_commit_(failing_commit) {}

  void commit_batch() override {
    if (++commits_ == failing_commit_) {
      throw StoreError("sqlite store: commit_batch: COMMIT: injected commit failure");
    }
    inner_->commit_batch();
  }

 private:
  int failing_commit_;
  int commits_ = 0;  // store thread only
};

// Logs the read transactions and the reads of API keys, in the order the store thread ran
// them (store thread only; read after stop).
class ReadLoggingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  void begin_reads() noexcept override {
    log.emplace_back("begin_reads");
    inner_->begin_reads();
  }
  void end_reads() noexcept override {
    log.emplace_back("end_reads");
    inner_->end_reads();
  }
  void begin_batch(BatchCalls calls) override {
    log.emplace_back("begin_batch");
    inner_->begin_batch(calls);
  }
  std::optional<ApiKeyRecord> find_api_key(const std::string& api_key) override {
    log.push_back("find " + api_key);
    return inner_->find_api_key(api_key);
  }

  std::vector<std::string> log;
};

// What the store thread reported.
class RecordingObserver final : public store::StoreBatchObserver {
 public:
  void batch_committed(std::size_t calls, std::chrono::nanoseconds commit_time,
                       std::chrono::nanoseconds batch_time) override {
    const std::lock_guard lock(mutex_);
    committed_.push_back(calls);
    times_consistent_ = times_consistent_ && commit_time.count() >= 0 && commit_time <= batch_time;
  }
  void queue_depth(std::size_t depth) override {
    const std::lock_guard lock(mutex_);
    depths_.push_back(depth);
  }
  void batch_failed(std::size_t calls) override {
    const std::lock_guard lock(mutex_);
    failed_.push_back(calls);
  }

  std::vector<std::size_t> committed() {
    const std::lock_guard lock(mutex_);
    return committed_;
  }
  std::vector<std::size_t> failed() {
    const std::lock_guard lock(mutex_);
    return failed_;
  }
  std::vector<std::size_t> depths() {
    const std::lock_guard lock(mutex_);
    return depths_;
  }
  bool times_consistent() {
    const std::lock_guard lock(mutex_);
    return times_consistent_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::size_t> committed_;
  std::vector<std::size_t> failed_;
  std::vector<std::size_t> depths_;
  bool times_consistent_ = true;
};

// How one call ended, as its coroutine saw it.
struct Outcome {
  bool done = false;
  std::optional<int> value;
  std::string error;
  bool overloaded = false;
};

using StoreOperation = std::function<int(Store&)>;

asio::awaitable<void> run_call(AsyncStore* store, StoreOperation operation, Outcome* outcome) {
  try {
    const int value = co_await store->call(std::move(operation));
    outcome->value = value;
  } catch (const store::StoreOverloaded& error) {
    outcome->overloaded = true;
    outcome->error = error.what();
  } catch (const StoreError& error) {
    outcome->error = error.what();
  }
  outcome->done = true;
}

asio::awaitable<void> run_read(AsyncStore* store, StoreOperation operation, Outcome* outcome) {
  try {
    const int value = co_await store->read(std::move(operation));
    outcome->value = value;
  } catch (const StoreError& error) {
    outcome->error = error.what();
  }
  outcome->done = true;
}

ApiKeyRecord api_key(const std::string& key, const std::string& merchant_id = "m1") {
  return ApiKeyRecord{.api_key = key,
                      .merchant_id = merchant_id,
                      .api_secret = domain::Secret("secret-" + key),
                      .created_at = ms(1'700'000'000'000),
                      .revoked_at = std::nullopt};
}

StoreOperation insert_key(const std::string& key, const std::string& merchant_id = "m1") {
  return [record = api_key(key, merchant_id)](Store& store) {
    store.insert_api_key(record);
    return 1;
  };
}

StoreOperation insert_transaction(const std::string& transaction_id, const std::string& device) {
  return [record = make_transaction("m1", transaction_id, device)](Store& store) {
    return static_cast<int>(store.insert_transaction(record));
  };
}

StoreOperation find_key(const std::string& key) {
  return [key](Store& store) { return store.find_api_key(key).has_value() ? 1 : 0; };
}

// Holds the store thread inside a call (and so inside a batch) until opened.
struct Gate {
  std::promise<void> entered;
  std::promise<void> opened;
  std::shared_future<void> open_future = opened.get_future().share();
};

StoreOperation wait_at(const std::shared_ptr<Gate>& gate) {
  return [gate](Store&) {
    gate->entered.set_value();
    gate->open_future.wait();
    return 0;
  };
}

// What call_store_methods saw.
struct MethodCalls {
  bool done = false;
  std::optional<ApiKeyRecord> found;
  std::optional<ApiKeyRecord> changed;
  std::vector<MerchantRecord> merchants;
  std::string duplicate_error;
};

// Store methods by member pointer, each argument a named value changed after the call was
// made and before it was awaited: the call runs with the value it was made with.
asio::awaitable<void> call_store_methods(AsyncStore* store, MethodCalls* calls) {
  ApiKeyRecord key = api_key("k1");
  auto insert = store->call(&Store::insert_api_key, key);
  key.api_key = "changed";
  co_await std::move(insert);
  std::string wanted = "k1";
  auto find = store->read(&Store::find_api_key, wanted);
  wanted = "changed";
  calls->found = co_await std::move(find);
  calls->changed = co_await store->read(&Store::find_api_key, wanted);
  calls->merchants = co_await store->call(&Store::list_merchants);
  const ApiKeyRecord again = api_key("k1");
  try {
    co_await store->call(&Store::insert_api_key, again);
  } catch (const StoreError& error) {
    calls->duplicate_error = error.what();
  }
  calls->done = true;
}

// On both backends (the test's parameter), as the store tests.
class StoreBatchTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::postgres) {
      if (PgTestDatabase::skipped()) {
        GTEST_SKIP() << "TILLGATE_TEST_PG_SKIP=1 and no PostgreSQL test cluster";
      }
      pg_ = std::make_unique<PgTestDatabase>();
    }
    auto store = open_store(db_url());
    store->insert_merchant(make_merchant("m1"));
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(store->insert_device(make_device("d" + std::to_string(i), "m1")));
    }
  }

  [[nodiscard]] std::filesystem::path db_path() const { return dir_.path() / "tillgate.db"; }
  [[nodiscard]] std::string db_url() const {
    return pg_ ? pg_->url() : "sqlite:" + db_path().string();
  }
  [[nodiscard]] RawDb raw_db() const {
    return pg_ ? RawDb::postgres(pg_->url()) : RawDb{db_path()};
  }
  // What each backend's message of a violated constraint says.
  [[nodiscard]] std::string unique_violation() const {
    return pg_ ? "violates unique constraint" : "UNIQUE constraint failed";
  }
  [[nodiscard]] std::string foreign_key_violation() const {
    return pg_ ? "violates foreign key constraint" : "FOREIGN KEY constraint failed";
  }
  [[nodiscard]] std::unique_ptr<Store> open() const { return open_store(db_url()); }

  void start(std::unique_ptr<Store> store, std::size_t max_queue, StoreBatchSettings settings) {
    store_ = std::make_unique<AsyncStore>(std::move(store), max_queue, settings);
    store_->set_observer(&observer_);
  }
  // With `readers` reader connections of their own (the pool's policy; on SQLite only in
  // these tests, where WAL lets other connections read while one writes).
  void start_with_readers(std::size_t readers, std::size_t max_queue = 10'000) {
    std::vector<std::unique_ptr<Store>> connections;
    for (std::size_t i = 0; i < readers; ++i) {
      connections.push_back(open());
    }
    store_ = std::make_unique<AsyncStore>(open(), std::move(connections), max_queue,
                                          StoreBatchSettings{.max_calls = 256, .max_wait = {}});
    store_->set_observer(&observer_);
  }
  void spawn_read(StoreOperation operation, Outcome* outcome) {
    asio::co_spawn(io_, run_read(store_.get(), std::move(operation), outcome), asio::detached);
    io_.poll();
  }
  // Runs the network side until every outcome is done, or fails after a bound (never
  // hangs on a read that does not come back).
  [[nodiscard]] bool run_until_done(const std::vector<Outcome*>& outcomes) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    const auto all_done = [&] {
      return std::all_of(outcomes.begin(), outcomes.end(), [](Outcome* o) { return o->done; });
    };
    while (!all_done() && std::chrono::steady_clock::now() < give_up) {
      io_.run_one_for(std::chrono::milliseconds(100));
    }
    return all_done();
  }

  // Starts the call's coroutine and runs the network side until it waits for the store.
  void spawn(StoreOperation operation, Outcome* outcome) {
    asio::co_spawn(io_, run_call(store_.get(), std::move(operation), outcome), asio::detached);
    io_.poll();
  }

  // Holds the store thread in a batch of its own (the gate's call) until the gate opens.
  std::shared_ptr<Gate> hold_store_thread(Outcome* outcome) {
    auto gate = std::make_shared<Gate>();
    spawn(wait_at(gate), outcome);
    gate->entered.get_future().wait();
    return gate;
  }

  // Lets every call made so far finish and be answered; calls may be made afterwards.
  void finish() {
    work_.reset();
    io_.run();
    io_.restart();
    work_.emplace(io_.get_executor());
  }

  // Stops the store thread and reopens the file with a fresh connection.
  std::unique_ptr<Store> reopen() {
    store_->stop();
    store_.reset();
    return open();
  }

  TempDir dir_;
  std::unique_ptr<PgTestDatabase> pg_;  // declared before the store: dropped after it
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      std::in_place, io_.get_executor()};
  RecordingObserver observer_;
  std::unique_ptr<AsyncStore> store_;
};

TEST_P(StoreBatchTest, CallsQueuedWhileTheStoreThreadIsBusyShareOneCommit) {
  start(open(), 10'000, StoreBatchSettings{.max_calls = 256, .max_wait = {}});
  Outcome held;
  auto gate = hold_store_thread(&held);
  std::vector<Outcome> outcomes(20);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    spawn(insert_key("k" + std::to_string(i)), &outcomes[i]);
  }
  gate->opened.set_value();
  finish();

  ASSERT_TRUE(held.done);
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome.done);
    EXPECT_EQ(outcome.value, 1) << outcome.error;
  }
  // 21 calls, 2 commits: the held call alone, then the 20 that queued meanwhile.
  EXPECT_THAT(observer_.committed(), ElementsAre(1U, 20U));
  EXPECT_THAT(observer_.depths(), ElementsAre(1U, 20U));
  EXPECT_TRUE(observer_.failed().empty());
  EXPECT_TRUE(observer_.times_consistent());
  RawDb raw = raw_db();
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM api_keys"), 20);
}

TEST_P(StoreBatchTest, AFailingCallFailsAloneAndTheOthersAreCommitted) {
  start(open(), 10'000, StoreBatchSettings{.max_calls = 256, .max_wait = {}});
  Outcome held;
  auto gate = hold_store_thread(&held);
  std::vector<Outcome> outcomes(6);
  spawn(insert_key("k1"), &outcomes[0]);
  spawn(insert_key("k1"), &outcomes[1]);  // the same key again: a UNIQUE violation
  // Writes a whole transaction (a nested write transaction of its own), then fails.
  StoreOperation write_then_throw = [record = make_transaction("m1", "T1", "d1")](Store& store) {
    if (store.insert_transaction(record) != InsertOutcome::inserted) {
      return 0;
    }
    throw StoreError("failed after writing");
  };
  spawn(std::move(write_then_throw), &outcomes[2]);
  spawn(insert_key("k2", "no-such-merchant"), &outcomes[3]);  // a FOREIGN KEY violation
  spawn(insert_transaction("T2", "d2"), &outcomes[4]);
  spawn(find_key("k1"), &outcomes[5]);  // sees the batch's own write
  gate->opened.set_value();
  finish();

  EXPECT_THAT(observer_.committed(), ElementsAre(1U, 6U));  // one batch of the six
  EXPECT_EQ(outcomes[0].value, 1) << outcomes[0].error;
  EXPECT_FALSE(outcomes[1].value.has_value());
  EXPECT_THAT(outcomes[1].error, HasSubstr(unique_violation()));
  EXPECT_FALSE(outcomes[2].value.has_value());
  EXPECT_EQ(outcomes[2].error, "failed after writing");
  EXPECT_FALSE(outcomes[3].value.has_value());
  EXPECT_THAT(outcomes[3].error, HasSubstr(foreign_key_violation()));
  EXPECT_EQ(outcomes[4].value, static_cast<int>(InsertOutcome::inserted)) << outcomes[4].error;
  EXPECT_EQ(outcomes[5].value, 1) << outcomes[5].error;

  auto reopened = reopen();
  EXPECT_TRUE(reopened->find_api_key("k1").has_value());
  EXPECT_FALSE(reopened->find_api_key("k2").has_value());
  EXPECT_FALSE(reopened->find_transaction("m1", "T1").has_value());
  EXPECT_FALSE(reopened->find_unfinished_for_device("d1").has_value());
  EXPECT_TRUE(reopened->list_events("m1", "T1").empty());
  EXPECT_TRUE(reopened->find_transaction("m1", "T2").has_value());
  EXPECT_EQ(reopened->list_events("m1", "T2").size(), 1U);
}

// The batch runs shared (no savepoints) first. A call that catches the failure of a write
// and goes on cannot have its half-done write undone there: the batch is run again with a
// savepoint per call, where that write is undone alone and the call still succeeds.
TEST_P(StoreBatchTest, ACallThatSwallowsAFailedWriteLeavesNothingOfItAndSucceeds) {
  {
    RawDb raw = raw_db();
    // T-half's row is inserted, then its history row fails: a write left half done.
    ASSERT_EQ(raw.inject_failure("transaction_events", "NEW.transaction_id = 'T-half'"), SQLITE_OK)
        << raw.last_error();
  }
  start(open(), 10'000, StoreBatchSettings{.max_calls = 256, .max_wait = {}});
  Outcome held;
  auto gate = hold_store_thread(&held);
  std::vector<Outcome> outcomes(3);
  spawn(insert_key("k1"), &outcomes[0]);
  StoreOperation swallow = [record = make_transaction("m1", "T-half", "d1")](Store& store) {
    try {
      (void)store.insert_transaction(record);
    } catch (const StoreError&) {
      return 7;  // goes on as if the write had not mattered
    }
    return 0;
  };
  spawn(std::move(swallow), &outcomes[1]);
  spawn(insert_transaction("T2", "d2"), &outcomes[2]);
  gate->opened.set_value();
  finish();

  EXPECT_THAT(observer_.committed(), ElementsAre(1U, 3U));
  EXPECT_EQ(outcomes[0].value, 1) << outcomes[0].error;
  EXPECT_EQ(outcomes[1].value, 7) << outcomes[1].error;
  EXPECT_EQ(outcomes[2].value, static_cast<int>(InsertOutcome::inserted)) << outcomes[2].error;
  auto reopened = reopen();
  EXPECT_TRUE(reopened->find_api_key("k1").has_value());
  EXPECT_FALSE(reopened->find_transaction("m1", "T-half").has_value());
  EXPECT_FALSE(reopened->find_unfinished_for_device("d1").has_value());
  EXPECT_TRUE(reopened->find_transaction("m1", "T2").has_value());
}

TEST_P(StoreBatchTest, NobodyIsAnsweredBeforeTheCommitReturned) {
  auto gated = std::make_unique<GatedCommitStore>(open(), 2);
  auto* commit = gated.get();
  start(std::move(gated), 10'000, StoreBatchSettings{.max_calls = 256, .max_wait = {}});
  Outcome held;
  auto gate = hold_store_thread(&held);
  std::vector<Outcome> outcomes(4);
  spawn(insert_key("k1"), &outcomes[0]);
  spawn(find_key("k1"), &outcomes[1]);
  spawn(insert_key("k1"), &outcomes[2]);  // fails: its error waits for the commit too
  spawn(insert_transaction("T1", "d1"), &outcomes[3]);
  gate->opened.set_value();

  // The batch of the four is at its commit. Whatever was posted to the network side
  // before the commit was reached runs now; none of the four may have been answered.
  commit->reached.get_future().wait();
  io_.poll();
  for (const auto& outcome : outcomes) {
    EXPECT_FALSE(outcome.done);
  }
  EXPECT_THAT(observer_.committed(), ElementsAre(1U));

  commit->release.set_value();
  finish();
  EXPECT_THAT(observer_.committed(), ElementsAre(1U, 4U));
  EXPECT_EQ(outcomes[0].value, 1) << outcomes[0].error;
  EXPECT_EQ(outcomes[1].value, 1) << outcomes[1].error;
  EXPECT_THAT(outcomes[2].error, HasSubstr(unique_violation()));
  EXPECT_EQ(outcomes[3].value, static_cast<int>(InsertOutcome::inserted)) << outcomes[3].error;
}

TEST_P(StoreBatchTest, ReadsAreAnsweredBeforeTheBatchCommitsAndSeeOnlyCommittedData) {
  {
    auto setup = open();
    setup->insert_api_key(api_key("k0"));
  }
  auto gated = std::make_unique<GatedCommitStore>(open(), 2);
  auto* commit = gated.get();
  start(std::move(gated), 10'000, StoreBatchSettings{.max_calls = 256, .max_wait = {}});
  Outcome held;
  auto gate = hold_store_thread(&held);
  Outcome write;
  Outcome read_uncommitted;
  Outcome read_committed;
  spawn(insert_key("k1"), &write);
  asio::co_spawn(io_, run_read(store_.get(), find_key("k1"), &read_uncommitted), asio::detached);
  asio::co_spawn(io_, run_read(store_.get(), find_key("k0"), &read_committed), asio::detached);
  io_.poll();
  gate->opened.set_value();

  // The write's batch is at its commit: the reads queued with it are already answered,
  // from committed data only (k1 is not committed yet), and the write is not.
  commit->reached.get_future().wait();
  io_.poll();
  EXPECT_TRUE(read_uncommitted.done);
  EXPECT_EQ(read_uncommitted.value, 0) << read_uncommitted.error;
  EXPECT_TRUE(read_committed.done);
  EXPECT_EQ(read_committed.value, 1) << read_committed.error;
  EXPECT_FALSE(write.done);

  commit->release.set_value();
  finish();
  EXPECT_EQ(write.value, 1) << write.error;
  EXPECT_THAT(observer_.committed(), ElementsAre(1U, 1U));  // the reads are in no batch
}

TEST_P(StoreBatchTest, ReadsQueuedTogetherShareOneReadTransactionAndAFailedReadFailsAlone) {
  {
    auto setup = open();
    setup->insert_api_key(api_key("k0"));
  }
  auto logging = std::make_unique<ReadLoggingStore>(open());
  auto* log = &logging->log;
  start(std::move(logging), 10'000, StoreBatchSettings{.max_calls = 256, .max_wait = {}});
  Outcome held;
  auto gate = hold_store_thread(&held);
  Outcome found;
  Outcome failed;
  Outcome missing;
  Outcome write;
  spawn_read(find_key("k0"), &found);
  spawn_read(
      [](Store& store) -> int {
        (void)store.find_api_key("k-failing");
        throw StoreError("injected read failure");
      },
      &failed);
  spawn_read(find_key("k9"), &missing);
  spawn(insert_key("k1"), &write);
  gate->opened.set_value();
  finish();

  EXPECT_EQ(found.value, 1) << found.error;
  EXPECT_THAT(failed.error, HasSubstr("injected read failure"));
  EXPECT_EQ(missing.value, 0) << missing.error;
  EXPECT_EQ(write.value, 1) << write.error;
  // Then the store is still usable: the write is read back, outside any open transaction.
  Outcome after;
  spawn_read(find_key("k1"), &after);
  finish();
  EXPECT_EQ(after.value, 1) << after.error;
  store_->stop();
  EXPECT_THAT(*log,
              ElementsAre("begin_batch", "begin_reads", "find k0", "find k-failing", "find k9",
                          "end_reads", "begin_batch", "begin_reads", "find k1", "end_reads"));
}

TEST_P(StoreBatchTest, AFailedCommitFailsEveryCallOfItsBatchAndWritesNothing) {
  start(std::make_unique<FailingCommitStore>(open(), 2), 10'000,
        StoreBatchSettings{.max_calls = 256, .max_wait = {}});
  Outcome held;
  auto gate = hold_store_thread(&held);
  std::vector<Outcome> outcomes(3);
  spawn(insert_key("k1"), &outcomes[0]);
  spawn(insert_transaction("T1", "d1"), &outcomes[1]);
  spawn(find_key("k1"), &outcomes[2]);
  gate->opened.set_value();
  finish();

  EXPECT_EQ(held.value, 0) << held.error;
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome.done);
    EXPECT_FALSE(outcome.value.has_value());
    EXPECT_THAT(outcome.error, HasSubstr("injected commit failure"));
  }
  EXPECT_THAT(observer_.committed(), ElementsAre(1U));
  EXPECT_THAT(observer_.failed(), ElementsAre(3U));

  // The store goes on: the next call commits.
  Outcome after;
  spawn(insert_key("k2"), &after);
  finish();
  EXPECT_EQ(after.value, 1) << after.error;

  auto reopened = reopen();
  EXPECT_FALSE(reopened->find_api_key("k1").has_value());
  EXPECT_FALSE(reopened->find_transaction("m1", "T1").has_value());
  EXPECT_TRUE(reopened->list_events("m1", "T1").empty());
  EXPECT_TRUE(reopened->find_api_key("k2").has_value());
}

// SQLite's RAISE(ROLLBACK), like SQLITE_FULL, ends the batch's transaction under it.
using StoreBatchSqliteTest = StoreBatchTest;

TEST_P(StoreBatchSqliteTest, ABatchTheDatabaseRolledBackFailsEveryCallOfIt) {
  {
    RawDb raw = raw_db();
    // RAISE(ROLLBACK) ends the whole transaction inside SQLite, as SQLITE_FULL may.
    ASSERT_EQ(raw.exec("CREATE TRIGGER inject BEFORE INSERT ON transaction_events "
                       "WHEN NEW.transaction_id = 'T-poison' "
                       "BEGIN SELECT RAISE(ROLLBACK, 'injected failure'); END"),
              SQLITE_OK);
  }
  start(open(), 10'000, StoreBatchSettings{.max_calls = 256, .max_wait = {}});
  Outcome held;
  auto gate = hold_store_thread(&held);
  std::vector<Outcome> outcomes(4);
  spawn(insert_key("k1"), &outcomes[0]);
  spawn(insert_transaction("T-poison", "d1"), &outcomes[1]);
  spawn(insert_key("k2"), &outcomes[2]);  // after the rollback: must not commit on its own
  spawn(find_key("k1"), &outcomes[3]);
  gate->opened.set_value();
  finish();

  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome.done);
    EXPECT_FALSE(outcome.value.has_value());
  }
  EXPECT_THAT(outcomes[1].error, HasSubstr("injected failure"));  // its own error
  EXPECT_THAT(outcomes[0].error, HasSubstr("rolled the batch's transaction back"));
  EXPECT_THAT(outcomes[2].error, HasSubstr("rolled the batch's transaction back"));
  EXPECT_THAT(observer_.failed(), ElementsAre(4U));

  Outcome after;
  spawn(insert_key("k3"), &after);
  finish();
  EXPECT_EQ(after.value, 1) << after.error;

  auto reopened = reopen();
  EXPECT_FALSE(reopened->find_api_key("k1").has_value());
  EXPECT_FALSE(reopened->find_api_key("k2").has_value());
  EXPECT_FALSE(reopened->find_transaction("m1", "T-poison").has_value());
  EXPECT_TRUE(reopened->find_api_key("k3").has_value());
}

TEST_P(StoreBatchTest, NeverMoreThanTheBatchBoundPerCommit) {
  start(open(), 10'000, StoreBatchSettings{.max_calls = 4, .max_wait = {}});
  Outcome held;
  auto gate = hold_store_thread(&held);
  std::vector<Outcome> outcomes(10);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    spawn(insert_key("k" + std::to_string(i)), &outcomes[i]);
  }
  gate->opened.set_value();
  finish();

  for (const auto& outcome : outcomes) {
    EXPECT_EQ(outcome.value, 1) << outcome.error;
  }
  EXPECT_THAT(observer_.committed(), ElementsAre(1U, 4U, 4U, 2U));
  EXPECT_THAT(observer_.depths(), ElementsAre(1U, 10U, 6U, 2U));
  RawDb raw = raw_db();
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM api_keys"), 10);
}

TEST_P(StoreBatchTest, AFullBatchOrStopEndsTheWaitForMoreCalls) {
  // A wait far longer than the test: only a full batch, or stop(), may end it.
  start(open(), 10'000, StoreBatchSettings{.max_calls = 3, .max_wait = std::chrono::minutes(10)});
  auto gate = std::make_shared<Gate>();
  Outcome held;
  std::vector<Outcome> outcomes(6);
  spawn(wait_at(gate), &held);  // the store thread waits for 2 more calls
  spawn(insert_key("k0"), &outcomes[0]);
  spawn(insert_key("k1"), &outcomes[1]);  // the batch is full: it begins
  gate->entered.get_future().wait();
  for (std::size_t i = 2; i < outcomes.size(); ++i) {
    spawn(insert_key("k" + std::to_string(i)), &outcomes[i]);
  }
  gate->opened.set_value();
  // 4 are queued: the next batch is full at once and commits without waiting.
  while (!(outcomes[2].done && outcomes[3].done && outcomes[4].done)) {
    io_.run_one();
  }
  EXPECT_FALSE(outcomes[5].done);  // alone, waiting for company
  store_->stop();                  // ends the wait: the last call is committed
  finish();
  ASSERT_TRUE(held.done);
  for (const auto& outcome : outcomes) {
    EXPECT_EQ(outcome.value, 1) << outcome.error;
  }
  EXPECT_THAT(observer_.committed(), ElementsAre(3U, 3U, 1U));
}

TEST_P(StoreBatchTest, AFullQueueRefusesWithStoreOverloaded) {
  start(open(), 3, StoreBatchSettings{.max_calls = 256, .max_wait = {}});
  Outcome held;
  auto gate = hold_store_thread(&held);  // the first of the 3 places
  std::vector<Outcome> outcomes(3);
  spawn(insert_key("k1"), &outcomes[0]);
  spawn(insert_key("k2"), &outcomes[1]);
  spawn(insert_key("k3"), &outcomes[2]);  // the 4th call: refused at once
  EXPECT_FALSE(outcomes[0].done);
  EXPECT_FALSE(outcomes[1].done);
  ASSERT_TRUE(outcomes[2].done);
  EXPECT_TRUE(outcomes[2].overloaded);
  gate->opened.set_value();
  finish();
  EXPECT_EQ(outcomes[0].value, 1) << outcomes[0].error;
  EXPECT_EQ(outcomes[1].value, 1) << outcomes[1].error;

  // The places are given back once the calls are answered.
  std::vector<Outcome> later(3);
  for (std::size_t i = 0; i < later.size(); ++i) {
    spawn(insert_key("later" + std::to_string(i)), &later[i]);
  }
  finish();
  for (const auto& outcome : later) {
    EXPECT_FALSE(outcome.overloaded);
    EXPECT_EQ(outcome.value, 1) << outcome.error;
  }
}

TEST_P(StoreBatchTest, StopCommitsTheQueuedCallsAndLaterCallsFail) {
  start(open(), 10'000, StoreBatchSettings{.max_calls = 256, .max_wait = {}});
  Outcome held;
  auto gate = hold_store_thread(&held);
  std::vector<Outcome> outcomes(5);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    spawn(insert_key("k" + std::to_string(i)), &outcomes[i]);
  }
  std::thread stopper([this] { store_->stop(); });
  gate->opened.set_value();
  stopper.join();
  finish();
  for (const auto& outcome : outcomes) {
    EXPECT_EQ(outcome.value, 1) << outcome.error;
  }

  Outcome after;
  spawn(insert_key("late"), &after);
  finish();
  ASSERT_TRUE(after.done);
  EXPECT_THAT(after.error, HasSubstr("stopped"));

  auto reopened = reopen();
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    EXPECT_TRUE(reopened->find_api_key("k" + std::to_string(i)).has_value());
  }
  EXPECT_FALSE(reopened->find_api_key("late").has_value());
}

TEST_P(StoreBatchTest, StoreMethodsAreCalledByMemberPointerWithCopiesOfTheirArguments) {
  start(open(), 10'000, StoreBatchSettings{.max_calls = 256, .max_wait = {}});
  MethodCalls calls;
  asio::co_spawn(io_, call_store_methods(store_.get(), &calls), asio::detached);
  finish();
  ASSERT_TRUE(calls.done);
  ASSERT_TRUE(calls.found.has_value());
  EXPECT_EQ(calls.found->api_key, "k1");
  EXPECT_EQ(calls.found->api_secret.reveal(), "secret-k1");
  EXPECT_FALSE(calls.changed.has_value());
  ASSERT_EQ(calls.merchants.size(), 1U);
  EXPECT_EQ(calls.merchants.front().merchant_id, "m1");
  // A method's StoreError reaches the caller as from a lambda.
  EXPECT_THAT(calls.duplicate_error, HasSubstr(unique_violation()));
  EXPECT_TRUE(observer_.failed().empty());
  auto reopened = reopen();
  EXPECT_TRUE(reopened->find_api_key("k1").has_value());
  EXPECT_FALSE(reopened->find_api_key("changed").has_value());
}

// The pool (TILLGATE_DB_POOL): reads on reader connections of their own.

TEST_P(StoreBatchTest, ReadersAnswerReadsWhileTheStoreThreadIsInABatch) {
  {
    auto setup = open();
    setup->insert_api_key(api_key("k0"));
  }
  start_with_readers(1);
  Outcome held;
  auto gate = hold_store_thread(&held);
  Outcome read;
  spawn_read(find_key("k0"), &read);
  // Without a reader this read would wait for the store thread, held until the gate opens.
  EXPECT_TRUE(run_until_done({&read}));
  EXPECT_EQ(read.value, 1) << read.error;
  EXPECT_FALSE(held.done);
  gate->opened.set_value();
  finish();
  EXPECT_EQ(held.value, 0) << held.error;
}

TEST_P(StoreBatchTest, ReadersSeeOnlyCommittedData) {
  start_with_readers(1);
  auto gate = std::make_shared<Gate>();
  Outcome write;
  // The batch writes k1, then waits, its transaction open.
  spawn(
      [gate, record = api_key("k1")](Store& store) {
        store.insert_api_key(record);
        gate->entered.set_value();
        gate->open_future.wait();
        return 1;
      },
      &write);
  gate->entered.get_future().wait();
  Outcome before;
  spawn_read(find_key("k1"), &before);
  ASSERT_TRUE(run_until_done({&before}));
  EXPECT_EQ(before.value, 0) << before.error;  // not committed yet
  gate->opened.set_value();
  ASSERT_TRUE(run_until_done({&write}));
  EXPECT_EQ(write.value, 1) << write.error;
  Outcome after;
  spawn_read(find_key("k1"), &after);
  ASSERT_TRUE(run_until_done({&after}));
  EXPECT_EQ(after.value, 1) << after.error;  // answered after the commit: seen
}

TEST_P(StoreBatchTest, ReadersRunReadsAtTheSameTime) {
  start_with_readers(2);
  // Each read waits, for a bounded time, until both have begun: only two reads running at
  // once both see the other.
  auto begun = std::make_shared<std::atomic<int>>(0);
  const StoreOperation meet = [begun](Store&) {
    begun->fetch_add(1);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (begun->load() < 2 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return begun->load() >= 2 ? 1 : 0;
  };
  Outcome first;
  Outcome second;
  spawn_read(meet, &first);
  spawn_read(meet, &second);
  ASSERT_TRUE(run_until_done({&first, &second}));
  EXPECT_EQ(first.value, 1) << first.error;
  EXPECT_EQ(second.value, 1) << second.error;
  EXPECT_TRUE(observer_.committed().empty());  // reads are in no batch
}

TEST_P(StoreBatchTest, AFailingReadOnAReaderAnswersItsCallerAndTheReaderGoesOn) {
  start_with_readers(1);
  Outcome failed;
  spawn_read([](Store&) -> int { throw StoreError("the read broke"); }, &failed);
  Outcome next;
  spawn_read(find_key("nothing"), &next);
  ASSERT_TRUE(run_until_done({&failed, &next}));
  EXPECT_THAT(failed.error, HasSubstr("the read broke"));
  EXPECT_EQ(next.value, 0) << next.error;
}

TEST_P(StoreBatchTest, ReadsOnReadersCountTowardTheQueueBound) {
  start_with_readers(1, 2);
  Outcome held;
  auto gate = hold_store_thread(&held);  // the first of the 2 places
  auto read_gate = std::make_shared<Gate>();
  Outcome read;
  spawn_read(wait_at(read_gate), &read);  // the second, on the reader
  read_gate->entered.get_future().wait();
  Outcome refused;
  spawn_read(find_key("k1"), &refused);
  ASSERT_TRUE(refused.done);
  EXPECT_THAT(refused.error, HasSubstr("too many queued"));
  read_gate->opened.set_value();
  gate->opened.set_value();
  ASSERT_TRUE(run_until_done({&read, &held}));
  EXPECT_EQ(read.value, 0) << read.error;
  Outcome later;
  spawn_read(find_key("k1"), &later);  // the places are given back
  ASSERT_TRUE(run_until_done({&later}));
  EXPECT_EQ(later.value, 0) << later.error;
}

TEST_P(StoreBatchTest, StopAnswersTheReadersQueuedReadsAndLaterReadsFail) {
  start_with_readers(1);
  auto read_gate = std::make_shared<Gate>();
  Outcome first;
  spawn_read(wait_at(read_gate), &first);
  read_gate->entered.get_future().wait();
  std::vector<Outcome> queued(4);
  for (auto& outcome : queued) {
    spawn_read(find_key("nothing"), &outcome);  // queued behind the held read
  }
  std::thread stopper([this] { store_->stop(); });
  read_gate->opened.set_value();
  stopper.join();
  finish();
  EXPECT_EQ(first.value, 0) << first.error;
  for (const auto& outcome : queued) {
    EXPECT_EQ(outcome.value, 0) << outcome.error;
  }
  Outcome after;
  spawn_read(find_key("nothing"), &after);
  finish();
  ASSERT_TRUE(after.done);
  EXPECT_THAT(after.error, HasSubstr("stopped"));
}

TILLGATE_STORE_BACKENDS(StoreBatchTest);
TILLGATE_SQLITE_ONLY(StoreBatchSqliteTest);

}  // namespace
}  // namespace tillgate::store::testing
