// The Nomba-compatible token methods of PostgresStore: single-use refresh tokens in families,
// and the server secrets shared by every process on the database.
#include <algorithm>
#include <limits>
#include <stdexcept>

#include "store/postgres/postgres_store.hpp"
#include "store/postgres/store_statements.hpp"

namespace tillgate::store::postgres {
namespace {

[[nodiscard]] RefreshTokenRecord read_refresh_token(const Statement::Use& use) {
  return RefreshTokenRecord{.token_hash = use.text(0),
                            .family_id = use.text(1),
                            .merchant_id = use.text(2),
                            .api_key = use.text(3),
                            .created_at = use.timestamp(4),
                            .expires_at = use.timestamp(5),
                            .used_at = use.optional_timestamp(6),
                            .revoked_at = use.optional_timestamp(7)};
}

}  // namespace

void PostgresStore::insert_refresh_token(const RefreshTokenRecord& token,
                                         std::size_t max_live_per_merchant) {
  constexpr std::string_view kOperation = "insert_refresh_token";
  // With 0 the merchant would hold one token more than allowed the moment this one is in;
  // a caller passing 0 has a configuration bug, which is better told than reinterpreted.
  if (max_live_per_merchant == 0) {
    throw std::invalid_argument("insert_refresh_token: max_live_per_merchant must be at least 1");
  }
  constexpr auto kMaxInt64 = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  const auto max_live = static_cast<std::int64_t>(std::min(max_live_per_merchant, kMaxInt64));
  const auto& merchant_id = token.merchant_id;
  const auto now = token.created_at;
  // Prune, count, revoke and insert under one write lock: two grants at once cannot both
  // take the last place.
  auto transaction = begin_write(kOperation);
  statements_->tokens.delete_expired_refresh_tokens.use(kOperation).bind(merchant_id, now).run();
  std::int64_t live = 0;
  {
    auto use = statements_->tokens.count_live_refresh_tokens.use(kOperation);
    if (!use.bind(merchant_id, now).step()) {
      use.fail("COUNT returned no row");
    }
    live = use.int64(0);
  }
  if (live >= max_live) {
    // Leaves max_live - 1 live tokens, the newest ones, so that this one makes max_live.
    const std::int64_t excess = live - (max_live - 1);
    auto use = statements_->tokens.revoke_oldest_refresh_tokens.use(kOperation);
    use.bind(merchant_id, now, excess).run();
    if (use.changes() != excess) {
      use.fail("the live tokens counted under the write lock were not all revoked");
    }
  }
  statements_->tokens.insert_refresh_token.use(kOperation)
      .bind(token.token_hash, token.family_id, token.merchant_id, token.api_key, token.created_at,
            token.expires_at, token.used_at, token.revoked_at)
      .run();
  transaction.commit();
}

RefreshResult PostgresStore::rotate_refresh_token(const RefreshRotation& rotation) {
  constexpr std::string_view kOperation = "rotate_refresh_token";
  // Check, use and insert under one write lock: a token presented twice at once rotates
  // once, and the second presentation finds it used (and revokes the family).
  auto transaction = begin_write(kOperation);
  RefreshResult result;
  {
    auto use = statements_->tokens.find_refresh_token.use(kOperation);
    if (!use.bind(rotation.presented_hash, rotation.merchant_id).step()) {
      return result;  // unknown; another merchant's token is unknown too
    }
    result.presented = read_refresh_token(use);
  }
  const RefreshTokenRecord& presented = *result.presented;

  // Reuse comes first, even past expiry: a used token that comes back was copied, and its
  // family's newer tokens are in the same hands.
  if ((presented.used_at || presented.revoked_at) && !rotation.rotate) {
    result.outcome = RefreshOutcome::revoked;
    return result;
  }
  if (presented.used_at || presented.revoked_at) {
    statements_->tokens.revoke_refresh_family.use(kOperation)
        .bind(presented.merchant_id, presented.family_id, rotation.now)
        .run();
    transaction.commit();
    result.outcome = RefreshOutcome::reused;
    return result;
  }
  if (presented.expires_at <= rotation.now) {
    result.outcome = RefreshOutcome::expired;
    return result;
  }
  {
    // A key that is gone, or no longer the merchant's, counts as revoked.
    auto use = statements_->tokens.refresh_key_state.use(kOperation);
    if (!use.bind(presented.api_key, presented.merchant_id).step() || !use.is_null(0)) {
      result.outcome = RefreshOutcome::key_revoked;
      return result;
    }
  }
  if (!rotation.rotate) {
    result.outcome = RefreshOutcome::kept;  // nothing written: the transaction rolls back
    return result;
  }
  {
    auto use = statements_->tokens.use_refresh_token.use(kOperation);
    use.bind(presented.token_hash, rotation.now).run();
    if (use.changes() != 1) {
      use.fail("the token read under the write lock was not marked used");
    }
  }
  statements_->tokens.insert_refresh_token.use(kOperation)
      .bind(rotation.next_hash, presented.family_id, presented.merchant_id, presented.api_key,
            rotation.now, rotation.next_expires_at, nullptr, nullptr)
      .run();
  transaction.commit();
  result.outcome = RefreshOutcome::rotated;
  return result;
}

void PostgresStore::revoke_access_token(const std::string& token_id, const std::string& merchant_id,
                                        Timestamp expires_at, Timestamp at) {
  constexpr std::string_view kOperation = "revoke_access_token";
  auto transaction = begin_write(kOperation);
  statements_->tokens.delete_expired_revocations.use(kOperation).bind(at).run();
  statements_->tokens.insert_revocation.use(kOperation)
      .bind(token_id, merchant_id, expires_at, at)
      .run();
  transaction.commit();
}

bool PostgresStore::is_access_token_revoked(const std::string& token_id) {
  return statements_->tokens.find_revocation.use("is_access_token_revoked").bind(token_id).step();
}

domain::Secret PostgresStore::server_secret(const std::string& name,
                                            const domain::Secret& candidate, Timestamp at) {
  constexpr std::string_view kOperation = "server_secret";
  // Insert-if-absent and read back under one write lock: of two processes starting at
  // once, both read the one secret that was stored first.
  auto transaction = begin_write(kOperation);
  statements_->tokens.insert_server_secret.use(kOperation).bind(name, candidate.reveal(), at).run();
  domain::Secret secret;
  {
    auto use = statements_->tokens.find_server_secret.use(kOperation);
    if (!use.bind(name).step()) {
      use.fail("the secret inserted under the write lock is missing");
    }
    secret = domain::Secret(use.text(0));
  }
  transaction.commit();
  return secret;
}

bool PostgresStore::remember_signature(const RememberedSignature& signature) {
  constexpr std::string_view kOperation = "remember_signature";
  auto transaction = begin_write(kOperation);
  auto use = statements_->tokens.remember_signature.use(kOperation);
  use.bind(signature.digest, signature.expires_at, signature.purge_before, signature.purge_limit)
      .run();
  const bool remembered = use.changes() == 1;
  transaction.commit();
  return remembered;
}

}  // namespace tillgate::store::postgres
