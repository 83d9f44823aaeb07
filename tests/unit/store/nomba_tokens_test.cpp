// The Nomba-compatible edge of the store (migration 4): single-use refresh tokens in
// families with reuse detection, the per-merchant cap on live tokens, the server secrets
// shared by every process on the database, and the migration from a version 3 file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "store/sqlite/migrations.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

// How long the claims of due deliveries last here.
constexpr std::chrono::milliseconds kLease{60'000};

RefreshTokenRecord make_token(const std::string& token_hash, const std::string& family_id,
                              std::int64_t created_at_ms, std::int64_t expires_at_ms,
                              const std::string& merchant_id = "m1",
                              const std::string& api_key = "k1") {
  return RefreshTokenRecord{.token_hash = token_hash,
                            .family_id = family_id,
                            .merchant_id = merchant_id,
                            .api_key = api_key,
                            .created_at = ms(created_at_ms),
                            .expires_at = ms(expires_at_ms)};
}

RefreshRotation make_rotation(const std::string& presented_hash, const std::string& next_hash,
                              std::int64_t now_ms, std::int64_t next_expires_at_ms = 1'000'000,
                              const std::string& merchant_id = "m1") {
  return RefreshRotation{.merchant_id = merchant_id,
                         .presented_hash = presented_hash,
                         .next_hash = next_hash,
                         .now = ms(now_ms),
                         .next_expires_at = ms(next_expires_at_ms)};
}

void expect_same(const RefreshTokenRecord& expected, const RefreshTokenRecord& actual) {
  EXPECT_EQ(expected.token_hash, actual.token_hash);
  EXPECT_EQ(expected.family_id, actual.family_id);
  EXPECT_EQ(expected.merchant_id, actual.merchant_id);
  EXPECT_EQ(expected.api_key, actual.api_key);
  EXPECT_EQ(expected.created_at, actual.created_at);
  EXPECT_EQ(expected.expires_at, actual.expires_at);
  EXPECT_EQ(expected.used_at, actual.used_at);
  EXPECT_EQ(expected.revoked_at, actual.revoked_at);
}

// Merchants m1 (keys k1, k2) and m2 (key k_m2).
class TokensTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) {
      return;  // TILLGATE_TEST_PG_SKIP=1: no PostgreSQL store to set up
    }
    store_->insert_merchant(make_merchant("m2"));
    const std::array<std::pair<std::string, std::string>, 3> keys{
        {{"k1", "m1"}, {"k2", "m1"}, {"k_m2", "m2"}}};
    for (const auto& [key, merchant] : keys) {
      store_->insert_api_key(ApiKeyRecord{.api_key = key,
                                          .merchant_id = merchant,
                                          .api_secret = domain::Secret("secret-of-" + key),
                                          .created_at = ms(500),
                                          .revoked_at = std::nullopt});
    }
    raw_ = std::make_unique<RawDb>(raw_db());
  }

  void insert(const RefreshTokenRecord& token, std::size_t max_live = 100) {
    store_->insert_refresh_token(token, max_live);
  }

  // The stored row, read from the file behind the store's back.
  RefreshTokenRecord stored(const std::string& hash) {
    const std::string where = " FROM refresh_tokens WHERE token_hash = '" + hash + "'";
    const auto optional_at = [&](const std::string& column) -> std::optional<Timestamp> {
      if (raw_->query_int("SELECT " + column + " IS NULL" + where) == 1) {
        return std::nullopt;
      }
      return ms(raw_->query_int("SELECT " + column + where));
    };
    return RefreshTokenRecord{.token_hash = raw_->query_text("SELECT token_hash" + where),
                              .family_id = raw_->query_text("SELECT family_id" + where),
                              .merchant_id = raw_->query_text("SELECT merchant_id" + where),
                              .api_key = raw_->query_text("SELECT api_key" + where),
                              .created_at = ms(raw_->query_int("SELECT created_at" + where)),
                              .expires_at = ms(raw_->query_int("SELECT expires_at" + where)),
                              .used_at = optional_at("used_at"),
                              .revoked_at = optional_at("revoked_at")};
  }

  std::int64_t count(const std::string& where = "TRUE") {
    return raw_->query_int("SELECT COUNT(*) FROM refresh_tokens WHERE " + where);
  }

  bool exists(const std::string& hash) { return count("token_hash = '" + hash + "'") == 1; }

  std::unique_ptr<RawDb> raw_;
};

// ---- rotation -----------------------------------------------------------------------------

TEST_P(TokensTest, RotationUsesThePresentedTokenAndStoresItsSuccessorInItsFamily) {
  const auto first = make_token("hash_a", "fam_1", 1'000, 100'000);
  insert(first);

  const auto rotated =
      store_->rotate_refresh_token(make_rotation("hash_a", "hash_b", 2'000, 200'000));
  EXPECT_EQ(rotated.outcome, RefreshOutcome::rotated);
  ASSERT_TRUE(rotated.presented);
  expect_same(first, *rotated.presented);  // as it was read, before it was used

  auto used = first;
  used.used_at = ms(2'000);
  expect_same(used, stored("hash_a"));
  expect_same(make_token("hash_b", "fam_1", 2'000, 200'000), stored("hash_b"));

  // The successor is a token like any other, also after reopening the file.
  reopen();
  const auto again =
      store_->rotate_refresh_token(make_rotation("hash_b", "hash_c", 3'000, 300'000));
  EXPECT_EQ(again.outcome, RefreshOutcome::rotated);
  ASSERT_TRUE(again.presented);
  expect_same(make_token("hash_b", "fam_1", 2'000, 200'000), *again.presented);
  EXPECT_EQ(stored("hash_b").used_at, ms(3'000));
  expect_same(make_token("hash_c", "fam_1", 3'000, 300'000), stored("hash_c"));
  EXPECT_EQ(count(), 3);
}

// nomba-compat.md v2, the default: a refresh only checks the token, which stays valid.
TEST_P(TokensTest, WithoutRotationARefreshChecksTheTokenAndWritesNothing) {
  insert(make_token("hash_a", "fam_1", 1'000, 100'000));
  auto check = make_rotation("hash_a", "hash_b", 2'000, 200'000);
  check.rotate = false;
  for (int i = 0; i < 3; ++i) {
    const auto kept = store_->rotate_refresh_token(check);
    EXPECT_EQ(kept.outcome, RefreshOutcome::kept);
    ASSERT_TRUE(kept.presented);
    EXPECT_EQ(kept.presented->api_key, "k1");
  }
  expect_same(make_token("hash_a", "fam_1", 1'000, 100'000), stored("hash_a"));
  EXPECT_FALSE(exists("hash_b"));
  EXPECT_EQ(count(), 1);
  // Another merchant's, expired, revoked: refused, and nothing changes.
  auto foreign = check;
  foreign.merchant_id = "m2";
  EXPECT_EQ(store_->rotate_refresh_token(foreign).outcome, RefreshOutcome::unknown);
  auto late = check;
  late.now = ms(100'000);
  EXPECT_EQ(store_->rotate_refresh_token(late).outcome, RefreshOutcome::expired);
  ASSERT_EQ(raw_->exec("UPDATE refresh_tokens SET revoked_at = 3000 WHERE token_hash = 'hash_a'"),
            SQLITE_OK);
  EXPECT_EQ(store_->rotate_refresh_token(check).outcome, RefreshOutcome::revoked);
  EXPECT_EQ(count("revoked_at IS NOT NULL"), 1);
}

// POST /v1/auth/token/revoke: kept until the token's own expiry, then pruned.
TEST_P(TokensTest, RevokedAccessTokensAreKeptUntilTheyExpire) {
  EXPECT_FALSE(store_->is_access_token_revoked("jti_1"));
  store_->revoke_access_token("jti_1", "m1", ms(10'000), ms(1'000));
  store_->revoke_access_token("jti_1", "m1", ms(10'000), ms(2'000));  // twice: no error
  EXPECT_TRUE(store_->is_access_token_revoked("jti_1"));
  EXPECT_FALSE(store_->is_access_token_revoked("jti_2"));
  reopen();
  EXPECT_TRUE(store_->is_access_token_revoked("jti_1"));
  // A later revocation prunes the rows of tokens that expired anyway.
  store_->revoke_access_token("jti_2", "m1", ms(50'000), ms(20'000));
  EXPECT_FALSE(store_->is_access_token_revoked("jti_1"));
  EXPECT_TRUE(store_->is_access_token_revoked("jti_2"));
}

TEST_P(TokensTest, AnUnknownTokenOrAnotherMerchantsTokenChangesNothing) {
  const auto token = make_token("hash_a", "fam_1", 1'000, 100'000);
  insert(token);
  insert(make_token("hash_m2", "fam_m2", 1'000, 100'000, "m2", "k_m2"));

  const auto unknown = store_->rotate_refresh_token(make_rotation("hash_nope", "hash_b", 2'000));
  EXPECT_EQ(unknown.outcome, RefreshOutcome::unknown);
  EXPECT_FALSE(unknown.presented);

  // m1's token presented in m2's name, and m2's in m1's: unknown, and nothing revoked.
  const auto wrong_merchant =
      store_->rotate_refresh_token(make_rotation("hash_a", "hash_b", 2'000, 200'000, "m2"));
  EXPECT_EQ(wrong_merchant.outcome, RefreshOutcome::unknown);
  EXPECT_FALSE(wrong_merchant.presented);
  EXPECT_EQ(store_->rotate_refresh_token(make_rotation("hash_m2", "hash_b", 2'000)).outcome,
            RefreshOutcome::unknown);

  expect_same(token, stored("hash_a"));
  EXPECT_FALSE(exists("hash_b"));
  EXPECT_EQ(count(), 2);
  // Still usable by its own merchant.
  EXPECT_EQ(store_->rotate_refresh_token(make_rotation("hash_a", "hash_b", 3'000)).outcome,
            RefreshOutcome::rotated);
}

TEST_P(TokensTest, AnExpiredTokenIsRefusedAndLeftAsItWas) {
  const auto token = make_token("hash_a", "fam_1", 1'000, 5'000);
  insert(token);
  const auto expired = store_->rotate_refresh_token(make_rotation("hash_a", "hash_b", 5'000));
  EXPECT_EQ(expired.outcome, RefreshOutcome::expired);  // expires_at itself is past
  ASSERT_TRUE(expired.presented);
  expect_same(token, *expired.presented);
  expect_same(token, stored("hash_a"));
  EXPECT_FALSE(exists("hash_b"));

  // A millisecond earlier it would have rotated.
  insert(make_token("hash_x", "fam_2", 1'000, 5'000));
  EXPECT_EQ(store_->rotate_refresh_token(make_rotation("hash_x", "hash_y", 4'999)).outcome,
            RefreshOutcome::rotated);
}

TEST_P(TokensTest, AUsedTokenPresentedAgainRevokesItsWholeFamily) {
  insert(make_token("hash_a", "fam_1", 1'000, 100'000));
  const auto other_family = make_token("hash_other", "fam_2", 1'500, 100'000);
  insert(other_family);
  ASSERT_EQ(store_->rotate_refresh_token(make_rotation("hash_a", "hash_b", 2'000)).outcome,
            RefreshOutcome::rotated);
  ASSERT_EQ(store_->rotate_refresh_token(make_rotation("hash_b", "hash_c", 3'000)).outcome,
            RefreshOutcome::rotated);

  // hash_a comes back (stolen before its rotation): the whole family is revoked.
  const auto reused = store_->rotate_refresh_token(make_rotation("hash_a", "hash_x", 4'000));
  EXPECT_EQ(reused.outcome, RefreshOutcome::reused);
  ASSERT_TRUE(reused.presented);
  EXPECT_EQ(reused.presented->used_at, ms(2'000));
  EXPECT_FALSE(reused.presented->revoked_at);  // as it was read
  for (const auto* hash : {"hash_a", "hash_b", "hash_c"}) {
    EXPECT_EQ(stored(hash).revoked_at, ms(4'000)) << hash;
  }
  EXPECT_EQ(stored("hash_a").used_at, ms(2'000));
  EXPECT_FALSE(stored("hash_c").used_at);
  EXPECT_FALSE(exists("hash_x"));
  expect_same(other_family, stored("hash_other"));  // another family is not touched

  // The live successor is now refused too, as reused, and keeps its first revocation time.
  const auto successor = store_->rotate_refresh_token(make_rotation("hash_c", "hash_y", 5'000));
  EXPECT_EQ(successor.outcome, RefreshOutcome::reused);
  ASSERT_TRUE(successor.presented);
  EXPECT_EQ(successor.presented->revoked_at, ms(4'000));
  EXPECT_EQ(stored("hash_c").revoked_at, ms(4'000));
  EXPECT_FALSE(exists("hash_y"));
}

TEST_P(TokensTest, ReuseIsDetectedEvenAfterTheUsedTokenExpired) {
  insert(make_token("hash_a", "fam_1", 1'000, 10'000));
  ASSERT_EQ(store_->rotate_refresh_token(make_rotation("hash_a", "hash_b", 2'000, 100'000)).outcome,
            RefreshOutcome::rotated);
  // Expired or not, a used token that comes back was copied: its successor must die.
  EXPECT_EQ(store_->rotate_refresh_token(make_rotation("hash_a", "hash_x", 20'000)).outcome,
            RefreshOutcome::reused);
  EXPECT_EQ(stored("hash_b").revoked_at, ms(20'000));
}

TEST_P(TokensTest, ARevokedOrMissingKeyStopsRotationAndChangesNothing) {
  const auto revoked_key = make_token("hash_k2", "fam_k2", 1'000, 100'000, "m1", "k2");
  insert(revoked_key);
  ASSERT_TRUE(store_->revoke_api_key("m1", "k2", ms(1'500)));
  const auto result = store_->rotate_refresh_token(make_rotation("hash_k2", "hash_next", 2'000));
  EXPECT_EQ(result.outcome, RefreshOutcome::key_revoked);
  ASSERT_TRUE(result.presented);
  expect_same(revoked_key, *result.presented);
  expect_same(revoked_key, stored("hash_k2"));
  EXPECT_FALSE(exists("hash_next"));

  // A key that is gone (deleted behind the store's back, foreign keys off on this
  // connection), and a key that belongs to another merchant, count as revoked too.
  store_->insert_api_key(ApiKeyRecord{.api_key = "k_gone",
                                      .merchant_id = "m1",
                                      .api_secret = domain::Secret("s"),
                                      .created_at = ms(500),
                                      .revoked_at = std::nullopt});
  insert(make_token("hash_gone", "fam_gone", 1'000, 100'000, "m1", "k_gone"));
  ASSERT_EQ(raw_->exec(std::string(raw_->is_postgres() ? "SET session_replication_role = replica; "
                                                       : "PRAGMA foreign_keys = OFF; ") +
                       "DELETE FROM api_keys WHERE api_key = 'k_gone'"),
            SQLITE_OK)
      << raw_->last_error();
  EXPECT_EQ(store_->rotate_refresh_token(make_rotation("hash_gone", "hash_next", 2'000)).outcome,
            RefreshOutcome::key_revoked);
  insert(make_token("hash_cross", "fam_cross", 1'000, 100'000, "m1", "k_m2"));
  EXPECT_EQ(store_->rotate_refresh_token(make_rotation("hash_cross", "hash_next", 2'000)).outcome,
            RefreshOutcome::key_revoked);
  EXPECT_EQ(count("used_at IS NOT NULL OR revoked_at IS NOT NULL"), 0);
  EXPECT_FALSE(exists("hash_next"));
}

TEST_P(TokensTest, AFailedSuccessorInsertLeavesThePresentedTokenUnused) {
  insert(make_token("hash_a", "fam_1", 1'000, 100'000));
  insert(make_token("hash_taken", "fam_2", 1'000, 100'000));
  EXPECT_THROW((void)store_->rotate_refresh_token(make_rotation("hash_a", "hash_taken", 2'000)),
               StoreError);
  EXPECT_FALSE(stored("hash_a").used_at);  // rolled back with the failed insert
  EXPECT_EQ(store_->rotate_refresh_token(make_rotation("hash_a", "hash_b", 3'000)).outcome,
            RefreshOutcome::rotated);
}

// ---- inserting: pruning and the cap ------------------------------------------------------

TEST_P(TokensTest, InsertDeletesTheMerchantsExpiredTokens) {
  insert(make_token("hash_expired", "fam_1", 1'000, 5'000));
  insert(make_token("hash_expired_used", "fam_2", 1'000, 4'000));
  ASSERT_EQ(
      store_->rotate_refresh_token(make_rotation("hash_expired_used", "hash_live", 2'000, 50'000))
          .outcome,
      RefreshOutcome::rotated);
  insert(make_token("hash_m2_expired", "fam_m2", 1'000, 5'000, "m2", "k_m2"));

  insert(make_token("hash_new", "fam_3", 5'000, 60'000));
  EXPECT_FALSE(exists("hash_expired"));       // expires_at == created_at: expired
  EXPECT_FALSE(exists("hash_expired_used"));  // used or not
  EXPECT_TRUE(exists("hash_live"));
  EXPECT_TRUE(exists("hash_new"));
  EXPECT_TRUE(exists("hash_m2_expired"));  // another merchant's are its own business
  EXPECT_EQ(count("revoked_at IS NOT NULL"), 0);
}

TEST_P(TokensTest, InsertCapsTheMerchantsLiveTokensByRevokingTheOldest) {
  insert(make_token("hash_1", "fam_1", 1'000, 100'000), 3);
  insert(make_token("hash_2", "fam_2", 2'000, 100'000), 3);
  insert(make_token("hash_3", "fam_3", 3'000, 100'000), 3);
  // Used and revoked tokens, and another merchant's, are not live ones of m1.
  insert(make_token("hash_used", "fam_u", 500, 100'000), 100);
  ASSERT_EQ(store_->rotate_refresh_token(make_rotation("hash_used", "hash_u2", 600)).outcome,
            RefreshOutcome::rotated);
  ASSERT_EQ(store_->rotate_refresh_token(make_rotation("hash_used", "hash_u3", 700)).outcome,
            RefreshOutcome::reused);  // fam_u: both revoked now
  insert(make_token("hash_m2", "fam_m2", 100, 100'000, "m2", "k_m2"), 1);
  EXPECT_EQ(count("merchant_id = 'm1' AND used_at IS NULL AND revoked_at IS NULL"), 3);

  insert(make_token("hash_4", "fam_4", 4'000, 100'000), 3);
  EXPECT_EQ(stored("hash_1").revoked_at, ms(4'000));   // the oldest, revoked at the insert
  EXPECT_EQ(stored("hash_used").revoked_at, ms(700));  // not touched again
  for (const auto* hash : {"hash_2", "hash_3", "hash_4", "hash_m2"}) {
    EXPECT_FALSE(stored(hash).revoked_at) << hash;
  }

  // A lower cap revokes as many as it takes: two of three, oldest first.
  insert(make_token("hash_5", "fam_5", 5'000, 100'000), 2);
  EXPECT_EQ(stored("hash_2").revoked_at, ms(5'000));
  EXPECT_EQ(stored("hash_3").revoked_at, ms(5'000));
  EXPECT_FALSE(stored("hash_4").revoked_at);
  EXPECT_FALSE(stored("hash_5").revoked_at);
  EXPECT_EQ(count("merchant_id = 'm1' AND used_at IS NULL AND revoked_at IS NULL"), 2);
  EXPECT_FALSE(stored("hash_m2").revoked_at);

  // A token revoked to make room is refused when it comes back, like any revoked one.
  EXPECT_EQ(store_->rotate_refresh_token(make_rotation("hash_1", "hash_x", 6'000)).outcome,
            RefreshOutcome::reused);
  EXPECT_EQ(store_->rotate_refresh_token(make_rotation("hash_4", "hash_y", 6'000)).outcome,
            RefreshOutcome::rotated);
}

TEST_P(TokensTest, TokensExpiredAtTheInsertAreNotCountedAgainstTheCap) {
  insert(make_token("hash_1", "fam_1", 1'000, 3'000), 1);
  insert(make_token("hash_2", "fam_2", 3'000, 100'000), 1);  // hash_1 expired: deleted
  EXPECT_FALSE(exists("hash_1"));
  EXPECT_FALSE(stored("hash_2").revoked_at);
}

TEST_P(TokensTest, ACapOfZeroIsRefusedAndNothingIsWritten) {
  insert(make_token("hash_old", "fam_1", 1'000, 2'000));
  EXPECT_THROW(store_->insert_refresh_token(make_token("hash_new", "fam_2", 5'000, 9'000), 0),
               std::invalid_argument);
  EXPECT_TRUE(exists("hash_old"));  // not even pruned
  EXPECT_FALSE(exists("hash_new"));
}

// ---- server secrets -------------------------------------------------------------------------

TEST_P(TokensTest, AServerSecretIsTheFirstCandidateForEveryLaterCaller) {
  const auto secret = [&](const char* name, const char* candidate, std::int64_t at) {
    return store_->server_secret(name, domain::Secret(candidate), ms(at)).reveal();
  };
  EXPECT_EQ(secret("access_token_key", "first", 1'000), "first");
  EXPECT_EQ(secret("access_token_key", "second", 2'000), "first");
  EXPECT_EQ(secret("other_key", "other", 3'000), "other");

  // Another start on the same file (or another node on the same database).
  reopen();
  EXPECT_EQ(secret("access_token_key", "third", 4'000), "first");
  EXPECT_EQ(secret("other_key", "fourth", 4'000), "other");
  EXPECT_EQ(raw_->query_int("SELECT created_at FROM server_secrets WHERE name = "
                            "'access_token_key'"),
            1'000);
  EXPECT_EQ(raw_->query_int("SELECT COUNT(*) FROM server_secrets"), 2);
}

TEST_P(TokensTest, AnEmptyServerSecretIsNeverStored) {
  EXPECT_THROW((void)store_->server_secret("access_token_key", domain::Secret(), ms(1'000)),
               StoreError);
  EXPECT_EQ(store_->server_secret("access_token_key", domain::Secret("real"), ms(2'000)).reveal(),
            "real");
}

// ---- migrating a version 3 file -----------------------------------------------------------

TEST(NombaMigration, AVersion3DatabaseKeepsItsRowsAndFailsPendingNombaDeliveries) {
  TempDir dir;
  const auto file = dir.path() / "tillgate.db";
  {
    std::ofstream create{file};  // an empty file is an empty database
  }
  {
    RawDb raw{file};
    // What a version 3 tillgate leaves: its schema_migrations table, then migrations 1-3.
    ASSERT_EQ(raw.migrate_to(3), SQLITE_OK) << raw.last_error();
    const std::string rows = R"sql(
      INSERT INTO merchants VALUES ('m1', 'Shop m1', 1000);
      INSERT INTO api_keys VALUES ('k1', 'm1', 's3cr3t', 1001, NULL);
      INSERT INTO devices (device_id, merchant_id, label, secret_hash, created_at)
        VALUES ('d1', 'm1', 'Till d1', 'aaaa', 2000);
      INSERT INTO transactions (merchant_id, transaction_id, seq, device_id, status,
          amount_minor, currency, payment_method, webhook_mode, request_json,
          request_fingerprint, response_json, created_at, updated_at, deadline, completed_at)
        VALUES ('m1', 'T0', 1, 'd1', 'COMPLETED', 500, 'USD', 'CARD', 1, '{}', 'ffff',
                '{"status":"SUCCESS"}', 49000, 50000, 139000, 50000),
               ('m1', 'T1', 2, 'd1', 'COMPLETED', 9999, 'USD', 'CARD', 1, '{}', 'ffff',
                '{"status":"SUCCESS"}', 99000, 100000, 189000, 100000);
      INSERT INTO webhook_endpoints (endpoint_id, merchant_id, url, secret, events_json,
          status, format, created_at, updated_at)
        VALUES ('wh_standard', 'm1', 'https://hooks.example/wh_standard', 'whsec_s',
                '["payment.completed"]', 'active', 'standard', 10, 10),
               ('wh_nomba', 'm1', 'https://hooks.example/wh_nomba', 'nomba_key',
                '["payment.completed"]', 'active', 'nomba', 11, 11);
      INSERT INTO webhook_events VALUES
        ('evt_T0', 'm1', 'T0', 'payment.completed', '{"eventId":"evt_T0"}', 50000),
        ('evt_T1', 'm1', 'T1', 'payment.completed', '{"eventId":"evt_T1"}', 100000);
      INSERT INTO webhook_deliveries (seq, delivery_id, merchant_id, event_id, endpoint_id,
          status, attempt_count, retry_step, next_attempt_at, created_at, updated_at)
        VALUES (1, 'dlv_nomba_done', 'm1', 'evt_T0', 'wh_nomba', 'succeeded', 1, 0, NULL,
                50000, 50010),
               (2, 'dlv_standard', 'm1', 'evt_T1', 'wh_standard', 'pending', 1, 1, 105000,
                100000, 100012),
               (3, 'dlv_nomba', 'm1', 'evt_T1', 'wh_nomba', 'pending', 1, 1, 105000,
                100000, 100012);
      INSERT INTO webhook_attempts VALUES (1, 1, 50000, 10, 200, NULL),
                                          (2, 1, 100000, 12, 503, NULL),
                                          (3, 1, 100000, 12, 503, NULL);
    )sql";
    ASSERT_EQ(raw.exec(rows), SQLITE_OK) << raw.last_error();
  }

  // The migration's own clock, within a millisecond either way (julianday is a double).
  const auto before = domain::SystemClock{}.now() - std::chrono::milliseconds{1};
  auto store = open_store("sqlite:" + file.string());
  const auto after = domain::SystemClock{}.now() + std::chrono::milliseconds{1};
  RawDb raw{file};
  EXPECT_EQ(raw.query_int("SELECT MAX(version) FROM schema_migrations"),
            sqlite::latest_schema_version());
  EXPECT_EQ(raw.query_int("SELECT applied_at FROM schema_migrations WHERE version = 3"), 1);

  // Accounts, payments and the outbox are as they were; old events have no Nomba body.
  EXPECT_EQ(store->find_api_key("k1")->api_secret.reveal(), "s3cr3t");
  EXPECT_EQ(store->find_transaction("m1", "T1")->status, TransactionStatus::completed);
  EXPECT_EQ(store->find_transaction("m1", "T1")->amount_minor, 9999);
  const auto events = store->list_webhook_events("m1", "T1");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].payload, R"({"eventId":"evt_T1"})");
  EXPECT_FALSE(events[0].format_payloads.contains(domain::WebhookFormat::nomba));

  const auto listed = store->list_webhook_deliveries(DeliveryQuery{.merchant_id = "m1"});
  ASSERT_EQ(listed.size(), 3U);
  const auto& nomba = listed[0];  // newest first
  const auto& standard = listed[1];
  const auto& nomba_done = listed[2];
  ASSERT_EQ(nomba.delivery_id, "dlv_nomba");
  // The pending Nomba delivery has nothing to send in its format: failed, kept, listed.
  EXPECT_EQ(nomba.status, DeliveryStatus::failed);
  EXPECT_FALSE(nomba.next_attempt_at);
  EXPECT_EQ(nomba.version, 2);
  EXPECT_EQ(nomba.attempt_count, 1);
  EXPECT_EQ(nomba.attempts.size(), 1U);
  EXPECT_GE(nomba.updated_at, before);  // when it was migrated, in milliseconds
  EXPECT_LE(nomba.updated_at, after);
  EXPECT_EQ(standard.delivery_id, "dlv_standard");
  EXPECT_EQ(standard.status, DeliveryStatus::pending);
  EXPECT_EQ(standard.next_attempt_at, ms(105'000));
  EXPECT_EQ(standard.version, 1);
  EXPECT_EQ(standard.updated_at, ms(100'012));
  EXPECT_EQ(nomba_done.delivery_id, "dlv_nomba_done");
  EXPECT_EQ(nomba_done.status, DeliveryStatus::succeeded);
  EXPECT_EQ(nomba_done.version, 1);
  EXPECT_EQ(nomba_done.updated_at, ms(50'010));

  const auto due = store->claim_due_webhook_deliveries(DueQuery{.now = ms(200'000),
                                                                .limit = 100,
                                                                .exclude_endpoints = {},
                                                                .exclude_deliveries = {},
                                                                .lease = kLease});
  ASSERT_EQ(due.due.size(), 1U);
  EXPECT_EQ(due.due[0].delivery.delivery_id, "dlv_standard");
  EXPECT_EQ(due.due[0].format, domain::WebhookFormat::standard);
  EXPECT_EQ(due.due[0].payload, R"({"eventId":"evt_T1"})");

  // Retried by hand, it is pending again but never started (there is no body to send).
  ASSERT_EQ(store->retry_webhook_delivery("m1", "dlv_nomba", ms(300'000)).outcome,
            RetryOutcome::scheduled);
  const auto later = store->claim_due_webhook_deliveries(DueQuery{.now = ms(400'000),
                                                                  .limit = 100,
                                                                  .exclude_endpoints = {},
                                                                  .exclude_deliveries = {},
                                                                  .lease = kLease});
  EXPECT_THAT(later.due,
              ElementsAre(Field(&DueDelivery::delivery,
                                Field(&WebhookDeliveryRecord::delivery_id, "dlv_standard"))));
  // dlv_standard (claimed above) left out: the pending dlv_nomba is never due.
  EXPECT_FALSE(store
                   ->claim_due_webhook_deliveries(DueQuery{.now = ms(200'000),
                                                           .limit = 100,
                                                           .exclude_endpoints = {},
                                                           .exclude_deliveries = {"dlv_standard"},
                                                           .lease = kLease})
                   .next_due_at);

  // The new tables work on the migrated file.
  EXPECT_EQ(store->server_secret("access_token_key", domain::Secret("key"), ms(500'000)).reveal(),
            "key");
  store->insert_refresh_token(RefreshTokenRecord{.token_hash = "hash_a",
                                                 .family_id = "fam_1",
                                                 .merchant_id = "m1",
                                                 .api_key = "k1",
                                                 .created_at = ms(500'000),
                                                 .expires_at = ms(900'000)},
                              5);
  EXPECT_EQ(store
                ->rotate_refresh_token(RefreshRotation{.merchant_id = "m1",
                                                       .presented_hash = "hash_a",
                                                       .next_hash = "hash_b",
                                                       .now = ms(600'000),
                                                       .next_expires_at = ms(1'000'000)})
                .outcome,
            RefreshOutcome::rotated);
  const auto older = store->list_webhook_events("m1", "T0");
  ASSERT_EQ(older.size(), 1U);
  EXPECT_FALSE(older[0].format_payloads.contains(domain::WebhookFormat::nomba));
}

// ---- migrating a version 8 file ------------------------------------------------------------

TEST(NombaMigration, AVersion8NombaEventIsFoundByTheRequestIdInItsBody) {
  TempDir dir;
  const auto file = dir.path() / "tillgate.db";
  { std::ofstream create{file}; }
  {
    RawDb raw{file};
    ASSERT_EQ(raw.migrate_to(8), SQLITE_OK) << raw.last_error();
    const std::string rows = R"sql(
      INSERT INTO merchants (merchant_id, name, created_at) VALUES ('m1', 'Shop m1', 1000);
      INSERT INTO devices (device_id, merchant_id, label, secret_hash, created_at)
        VALUES ('d1', 'm1', 'Till d1', 'aaaa', 2000);
      INSERT INTO transactions (merchant_id, transaction_id, seq, device_id, status,
          amount_minor, currency, payment_method, webhook_mode, request_json,
          request_fingerprint, response_json, created_at, updated_at, deadline, completed_at)
        VALUES ('m1', 'T1', 1, 'd1', 'COMPLETED', 9999, 'NGN', 'CARD', 1, '{}', 'ffff',
                '{"status":"SUCCESS"}', 99000, 100000, 189000, 100000);
      INSERT INTO webhook_endpoints (endpoint_id, merchant_id, url, secret, events_json,
          status, format, created_at, updated_at)
        VALUES ('wh_nomba', 'm1', 'https://hooks.example/wh_nomba', 'nomba_key',
                '["payment.completed"]', 'active', 'nomba', 11, 11);
      INSERT INTO webhook_events (event_id, merchant_id, transaction_id, event_type, payload,
          created_at, nomba_payload, seq)
        VALUES ('evt_T1', 'm1', 'T1', 'payment.completed', '{"eventId":"evt_T1"}', 100000,
                '{"event_type":"payment_success","requestId":"req-T1"}', 1);
      INSERT INTO webhook_deliveries (seq, delivery_id, merchant_id, event_id, endpoint_id,
          status, attempt_count, retry_step, next_attempt_at, created_at, updated_at)
        VALUES (1, 'dlv_nomba', 'm1', 'evt_T1', 'wh_nomba', 'succeeded', 1, 0, NULL,
                100000, 100010);
    )sql";
    ASSERT_EQ(raw.exec(rows), SQLITE_OK) << raw.last_error();
  }
  auto store = open_store("sqlite:" + file.string());
  EXPECT_EQ(store->find_nomba_deliveries("m1", "req-T1"), std::vector<std::string>{"dlv_nomba"});
  EXPECT_TRUE(store->find_nomba_deliveries("m1", "evt_T1").empty());
  const auto events = store->list_webhook_events("m1", "T1");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].format_keys.at(domain::WebhookFormat::nomba), "req-T1");
  const auto logs = store->list_nomba_event_logs(NombaEventLogQuery{.merchant_id = "m1"});
  ASSERT_EQ(logs.size(), 1U);
  EXPECT_EQ(logs[0].request_id, "req-T1");
}

TILLGATE_STORE_BACKENDS(TokensTest);

}  // namespace
}  // namespace tillgate::store::testing
