// Checkpoints off the commit path (src/store/sqlite/checkpointer.hpp): the background
// thread checkpoints once the WAL passes its size, so the WAL starts over and stays small
// while the writing connection never checkpoints; past the WAL's bound the writing
// connection checkpoints itself; inconsistent settings are refused. Real SQLite files.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "store/sqlite/sqlite_store.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using sqlite::CheckpointSettings;
using sqlite::SqliteOptions;
using sqlite::SqliteStore;

// One commit of a few pages: a merchant whose name needs overflow pages.
void commit_pages(SqliteStore& store, int n) {
  auto merchant = make_merchant("m" + std::to_string(n));
  merchant.name = std::string(8'000, 'x');
  store.insert_merchant(merchant);
}

// Waits (bounded) until the background thread has checkpointed the whole WAL, after at
// least `seen` checkpoints (nothing is committed while this waits).
bool background_checkpoint_after(const SqliteStore& store, std::uint64_t seen) {
  const auto done = [&] {
    return store.background_checkpoints() > seen && store.background_checkpoints_caught_up();
  };
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

std::uintmax_t wal_bytes(const std::filesystem::path& database) {
  return std::filesystem::file_size(database.string() + "-wal");
}

constexpr std::uintmax_t kPage = 4096 + 24;  // a WAL frame: its header and a page

TEST(SqliteCheckpoints, TheBackgroundThreadCheckpointsSoTheWalStartsOverAndTheWriterNeverDoes) {
  TempDir dir;
  const auto path = dir.path() / "tillgate.db";
  SqliteStore store(
      path, SqliteOptions{.checkpoints = {.background_pages = 20, .max_wal_pages = 1'000'000}});
  int n = 0;
  for (int round = 0; round < 50; ++round) {
    const std::uint64_t seen = store.background_checkpoints();
    for (int i = 0; i < 10; ++i) {
      commit_pages(store, n++);
    }
    ASSERT_TRUE(background_checkpoint_after(store, seen)) << "round " << round;
  }
  // 500 commits of 3 pages and more each went through the WAL; it started over after each
  // round's checkpoint, so it holds at most a round's frames. (With no checkpoint it would
  // hold every frame; with SQLite's own auto-checkpoint, up to 1000.)
  EXPECT_LT(wal_bytes(path), 200 * kPage);
  EXPECT_EQ(store.inline_checkpoints(), 0U);
  EXPECT_TRUE(store.find_merchant("m499").has_value());
}

TEST(SqliteCheckpoints, PastTheWalsBoundTheWritingConnectionCheckpointsItself) {
  TempDir dir;
  const auto path = dir.path() / "tillgate.db";
  SqliteStore store(path,
                    SqliteOptions{.checkpoints = {.background_pages = 0, .max_wal_pages = 50}});
  for (int n = 0; n < 300; ++n) {
    commit_pages(store, n);
  }
  // About 1,000 frames were written; the WAL never held much more than its bound, or than
  // the migrations at the store's opening wrote (before the bound applies).
  EXPECT_GE(store.inline_checkpoints(), 5U);
  EXPECT_EQ(store.background_checkpoints(), 0U);
  EXPECT_LT(wal_bytes(path), 150 * kPage);
  EXPECT_TRUE(store.find_merchant("m299").has_value());
}

TEST(SqliteCheckpoints, InconsistentSettingsAreRefused) {
  TempDir dir;
  const auto path = dir.path() / "tillgate.db";
  EXPECT_THROW(SqliteStore(path, SqliteOptions{.checkpoints = {.background_pages = 100,
                                                               .max_wal_pages = 99}}),
               std::invalid_argument);
  EXPECT_THROW(
      SqliteStore(path, SqliteOptions{.checkpoints = {.background_pages = 0, .max_wal_pages = 0}}),
      std::invalid_argument);
  EXPECT_THROW(SqliteStore(path, SqliteOptions{.checkpoints = {.background_pages = -1,
                                                               .max_wal_pages = 10}}),
               std::invalid_argument);
}

}  // namespace
}  // namespace tillgate::store::testing
