// The prepared statements of the refresh-token and server-secret tables (migration 4).
// Column orders here are the ones the row reader in tokens.cpp decodes.
#include "store/postgres/store_statements.hpp"

namespace tillgate::store::postgres {

// Column order of every query that returns a whole refresh token (read_refresh_token).
#define TILLGATE_REFRESH_TOKEN_COLUMNS                                             \
  "token_hash, family_id, merchant_id, api_key, created_at, expires_at, used_at, " \
  "revoked_at"

// A merchant's live tokens at $2: not used, not revoked, not expired.
#define TILLGATE_LIVE_REFRESH_TOKEN \
  "merchant_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2"

TokenStatements::TokenStatements(Connection& db)
    : delete_expired_refresh_tokens(db, "delete_expired_refresh_tokens",
                                    "DELETE FROM refresh_tokens "
                                    "WHERE merchant_id = $1 AND expires_at <= $2"),
      count_live_refresh_tokens(db, "count_live_refresh_tokens",
                                "SELECT COUNT(*) FROM refresh_tokens "
                                "WHERE " TILLGATE_LIVE_REFRESH_TOKEN),
      // The $3 oldest live tokens; row_order (insertion order) breaks ties of created_at.
      revoke_oldest_refresh_tokens(db, "revoke_oldest_refresh_tokens",
                                   "UPDATE refresh_tokens SET revoked_at = $2 "
                                   "WHERE token_hash IN (SELECT token_hash FROM refresh_tokens "
                                   "WHERE " TILLGATE_LIVE_REFRESH_TOKEN
                                   " ORDER BY created_at, row_order LIMIT $3)"),
      insert_refresh_token(db, "insert_refresh_token",
                           "INSERT INTO refresh_tokens (" TILLGATE_REFRESH_TOKEN_COLUMNS
                           ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
      find_refresh_token(db, "find_refresh_token",
                         "SELECT " TILLGATE_REFRESH_TOKEN_COLUMNS
                         " FROM refresh_tokens WHERE token_hash = $1 AND merchant_id = $2"),
      revoke_refresh_family(db, "revoke_refresh_family",
                            "UPDATE refresh_tokens SET revoked_at = $3 "
                            "WHERE merchant_id = $1 AND family_id = $2 AND revoked_at IS NULL"),
      use_refresh_token(db, "use_refresh_token",
                        "UPDATE refresh_tokens SET used_at = $2 "
                        "WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL"),
      // The family's key, if it still exists for the same merchant.
      refresh_key_state(db, "refresh_key_state",
                        "SELECT revoked_at FROM api_keys WHERE api_key = $1 AND merchant_id = $2"),
      // DO NOTHING only for a taken name: the first secret stored stays.
      insert_server_secret(db, "insert_server_secret",
                           "INSERT INTO server_secrets (name, secret, created_at) "
                           "VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING"),
      find_server_secret(db, "find_server_secret",
                         "SELECT secret FROM server_secrets WHERE name = $1"),
      // Revoked access tokens (migration 5).
      delete_expired_revocations(db, "delete_expired_revocations",
                                 "DELETE FROM revoked_access_tokens WHERE expires_at <= $1"),
      // A token revoked twice keeps its first revocation.
      insert_revocation(db, "insert_revocation",
                        "INSERT INTO revoked_access_tokens "
                        "(token_id, merchant_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4) "
                        "ON CONFLICT (token_id) DO NOTHING"),
      find_revocation(db, "find_revocation",
                      "SELECT 1 FROM revoked_access_tokens WHERE token_id = $1"),
      // The shared replay cache (migration 3), in one round trip: a bounded batch of
      // expired rows goes (rows another transaction holds are skipped), then the digest is
      // inserted unless it is there (the insert's row count says which).
      remember_signature(db, "remember_signature",
                         "WITH purged AS (DELETE FROM replay_signatures WHERE digest IN "
                         "(SELECT digest FROM replay_signatures WHERE expires_at < $3 "
                         "ORDER BY expires_at LIMIT $4 FOR UPDATE SKIP LOCKED)) "
                         "INSERT INTO replay_signatures (digest, expires_at) VALUES ($1, $2) "
                         "ON CONFLICT (digest) DO NOTHING") {}

#undef TILLGATE_REFRESH_TOKEN_COLUMNS
#undef TILLGATE_LIVE_REFRESH_TOKEN

}  // namespace tillgate::store::postgres
