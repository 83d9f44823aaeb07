// The shared replay cache of merchant signatures (PostgreSQL migration 3): several nodes on
// one database, each with its own store, refuse a signature any of them accepted; expired
// rows go in bounded batches. A SQLite file serves one node, which remembers signatures in
// memory (api/replay_guard.hpp): its store keeps no shared cache.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

RememberedSignature signature(const std::string& digest, std::int64_t expires_at_ms,
                              std::int64_t purge_before_ms = 0, std::int64_t purge_limit = 16) {
  return RememberedSignature{.digest = digest,
                             .expires_at = ms(expires_at_ms),
                             .purge_before = ms(purge_before_ms),
                             .purge_limit = purge_limit};
}

using SharedReplayCacheTest = StoreTest;

TEST_P(SharedReplayCacheTest, ASignatureRememberedByOneNodeIsAReplayForAnother) {
  auto other_node = open_store(db_url());
  EXPECT_TRUE(store_->remember_signature(signature("digest-1", 400'000)));
  EXPECT_FALSE(other_node->remember_signature(signature("digest-1", 400'000)));
  EXPECT_FALSE(store_->remember_signature(signature("digest-1", 400'000)));
  EXPECT_TRUE(other_node->remember_signature(signature("digest-2", 400'000)));
  EXPECT_FALSE(store_->remember_signature(signature("digest-2", 400'000)));
  // Only the digests are kept, with their expiry.
  RawDb raw = raw_db();
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM replay_signatures"), 2);
  EXPECT_EQ(raw.query_int("SELECT MIN(expires_at) FROM replay_signatures"), 400'000);
}

TEST_P(SharedReplayCacheTest, NodesRememberingAtOnceAcceptEachSignatureOnce) {
  auto other_node = open_store(db_url());
  constexpr int kSignatures = 60;
  std::atomic<int> accepted{0};
  const auto remember_all = [&accepted](Store& store) {
    for (int i = 0; i < kSignatures; ++i) {
      if (store.remember_signature(signature("digest-" + std::to_string(i), 400'000))) {
        ++accepted;
      }
    }
  };
  std::thread other([&] { remember_all(*other_node); });
  remember_all(*store_);
  other.join();
  EXPECT_EQ(accepted.load(), kSignatures);
}

TEST_P(SharedReplayCacheTest, ExpiredRowsGoInBoundedBatchesWithTheInserts) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->remember_signature(signature("old-" + std::to_string(i), 100 + i)));
  }
  RawDb raw = raw_db();
  ASSERT_EQ(raw.query_int("SELECT COUNT(*) FROM replay_signatures"), 5);
  // Rows that expired before 103 (100, 101, 102): two of them go, the oldest first.
  ASSERT_TRUE(store_->remember_signature(signature("new-1", 400'000, 103, 2)));
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM replay_signatures"), 4);
  EXPECT_EQ(raw.query_int("SELECT MIN(expires_at) FROM replay_signatures"), 102);
  // The next insert takes the last of them; rows not expired before 103 stay.
  ASSERT_TRUE(store_->remember_signature(signature("new-2", 400'000, 103, 2)));
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM replay_signatures"), 4);
  EXPECT_EQ(raw.query_int("SELECT MIN(expires_at) FROM replay_signatures"), 103);
  // A replay deletes what it may too, and is still a replay.
  EXPECT_FALSE(store_->remember_signature(signature("new-1", 400'000, 200'000, 16)));
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM replay_signatures"), 2);
}

INSTANTIATE_TEST_SUITE_P(Postgres, SharedReplayCacheTest, ::testing::Values(Backend::postgres),
                         backend_name);

using OneNodeReplayCacheTest = StoreTest;

TEST_P(OneNodeReplayCacheTest, ASqliteStoreKeepsNoSharedReplayCache) {
  EXPECT_THROW((void)store_->remember_signature(signature("digest-1", 400'000)), StoreError);
}

TILLGATE_SQLITE_ONLY(OneNodeReplayCacheTest);

}  // namespace
}  // namespace tillgate::store::testing
