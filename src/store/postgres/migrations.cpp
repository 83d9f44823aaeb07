#include "store/postgres/migrations.hpp"

#include <fmt/format.h>

#include <array>
#include <set>

namespace tillgate::store::postgres {
namespace {

// Version 1: the schema of the SQLite backend's version 9, table for table.
//
// Conventions as there: timestamps are BIGINT milliseconds since the Unix epoch (UTC);
// statuses are their wire names, checked; store-assigned sequences (transactions.seq,
// transaction_events.sequence, webhook_events.seq, webhook_deliveries.seq) are MAX + 1
// under the store's write lock (pg_advisory_xact_lock, pg.hpp), so they grow in commit
// order and are never reused (nothing is deleted from those tables). webhook_mode is a
// BOOLEAN rather than SQLite's 0/1 INTEGER. JSON columns stay TEXT (the exact bytes the
// gateway wrote), cast to jsonb where a query looks inside.
constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE merchants (
  merchant_id       TEXT NOT NULL PRIMARY KEY,
  name              TEXT NOT NULL,
  created_at        BIGINT NOT NULL,
  nomba_amount_unit TEXT CHECK (nomba_amount_unit IN ('minor', 'major'))
);

CREATE TABLE api_keys (
  api_key     TEXT NOT NULL PRIMARY KEY,
  merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
  api_secret  TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  revoked_at  BIGINT
);
CREATE INDEX api_keys_by_merchant ON api_keys (merchant_id);

-- device_id alone is the key: a terminal's hello names only its deviceId.
CREATE TABLE devices (
  device_id     TEXT NOT NULL PRIMARY KEY,
  merchant_id   TEXT NOT NULL REFERENCES merchants (merchant_id),
  label         TEXT NOT NULL DEFAULT '',
  secret_hash   TEXT NOT NULL,
  metadata_json TEXT NOT NULL DEFAULT '{}',
  created_at    BIGINT NOT NULL,
  revoked_at    BIGINT
);
-- The parent key of transactions' (merchant_id, device_id): a transaction's terminal
-- belongs to the same merchant.
CREATE UNIQUE INDEX devices_by_merchant ON devices (merchant_id, device_id);

CREATE TABLE transactions (
  merchant_id         TEXT NOT NULL,
  transaction_id      TEXT NOT NULL,
  seq                 BIGINT NOT NULL UNIQUE,
  device_id           TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('PENDING', 'AWAITING_RECONNECT',
                        'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'VOIDED')),
  amount_minor        BIGINT NOT NULL,
  currency            TEXT NOT NULL,
  payment_method      TEXT NOT NULL,
  webhook_mode        BOOLEAN NOT NULL,
  request_json        TEXT NOT NULL,
  request_fingerprint TEXT NOT NULL,
  response_json       TEXT,
  created_at          BIGINT NOT NULL,
  updated_at          BIGINT NOT NULL,
  deadline            BIGINT NOT NULL,
  completed_at        BIGINT,
  voided_at           BIGINT,
  void_reason         TEXT,
  version             BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
  cancel_requested_at BIGINT,
  PRIMARY KEY (merchant_id, transaction_id),
  FOREIGN KEY (merchant_id, device_id) REFERENCES devices (merchant_id, device_id)
);

-- One unfinished payment per terminal, held by the database itself.
CREATE UNIQUE INDEX transactions_one_unfinished_per_device ON transactions (device_id)
  WHERE status IN ('PENDING', 'AWAITING_RECONNECT');
CREATE INDEX transactions_unfinished_by_created ON transactions (created_at, seq)
  WHERE status IN ('PENDING', 'AWAITING_RECONNECT');
CREATE INDEX transactions_by_merchant_seq ON transactions (merchant_id, seq);
CREATE INDEX transactions_by_device_seq ON transactions (merchant_id, device_id, seq);

-- The history: one row per status change, never updated or deleted.
CREATE TABLE transaction_events (
  sequence       BIGINT NOT NULL PRIMARY KEY,
  merchant_id    TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  from_status    TEXT CHECK (from_status IN ('PENDING', 'AWAITING_RECONNECT',
                   'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'VOIDED')),
  to_status      TEXT NOT NULL CHECK (to_status IN ('PENDING', 'AWAITING_RECONNECT',
                   'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'VOIDED')),
  cause          TEXT NOT NULL,
  at             BIGINT NOT NULL,
  FOREIGN KEY (merchant_id, transaction_id) REFERENCES transactions (merchant_id, transaction_id)
);
CREATE INDEX transaction_events_by_transaction
  ON transaction_events (merchant_id, transaction_id, sequence);

CREATE FUNCTION tillgate_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER transaction_events_append_only BEFORE UPDATE OR DELETE ON transaction_events
  FOR EACH ROW EXECUTE FUNCTION tillgate_append_only();
CREATE TRIGGER transaction_events_no_truncate BEFORE TRUNCATE ON transaction_events
  FOR EACH STATEMENT EXECUTE FUNCTION tillgate_append_only();

CREATE TABLE pairing_codes (
  code_hash   TEXT NOT NULL PRIMARY KEY,
  merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
  label       TEXT NOT NULL DEFAULT '',
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL,
  used_at     BIGINT,
  device_id   TEXT REFERENCES devices (device_id),
  CHECK ((used_at IS NULL) = (device_id IS NULL))
);
CREATE INDEX pairing_codes_by_merchant ON pairing_codes (merchant_id, created_at);

CREATE TABLE webhook_endpoints (
  endpoint_id   TEXT NOT NULL PRIMARY KEY,
  merchant_id   TEXT NOT NULL REFERENCES merchants (merchant_id),
  url           TEXT NOT NULL,
  secret        TEXT NOT NULL,
  events_json   TEXT NOT NULL DEFAULT '[]',
  status        TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  format        TEXT NOT NULL DEFAULT 'standard' CHECK (format IN ('standard', 'nomba')),
  description   TEXT NOT NULL DEFAULT '',
  metadata_json TEXT NOT NULL DEFAULT '{}',
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL,
  deleted_at    BIGINT
);
CREATE INDEX webhook_endpoints_by_merchant ON webhook_endpoints (merchant_id, created_at);

-- The outbox; seq: the merchant's payment events in commit order.
CREATE TABLE webhook_events (
  event_id         TEXT NOT NULL PRIMARY KEY,
  merchant_id      TEXT NOT NULL,
  transaction_id   TEXT NOT NULL,
  event_type       TEXT NOT NULL CHECK (event_type IN ('payment.completed', 'payment.failed',
                     'payment.cancelled', 'payment.timeout', 'payment.voided')),
  payload          TEXT NOT NULL,
  created_at       BIGINT NOT NULL,
  nomba_payload    TEXT,
  seq              BIGINT NOT NULL,
  notification     TEXT,
  nomba_request_id TEXT,
  FOREIGN KEY (merchant_id, transaction_id) REFERENCES transactions (merchant_id, transaction_id)
);
CREATE UNIQUE INDEX webhook_events_once_per_type
  ON webhook_events (merchant_id, transaction_id, event_type);
CREATE UNIQUE INDEX webhook_events_by_seq ON webhook_events (seq);
CREATE INDEX webhook_events_by_merchant_seq ON webhook_events (merchant_id, seq);
CREATE INDEX webhook_events_by_nomba_request_id ON webhook_events (merchant_id, nomba_request_id)
  WHERE nomba_request_id IS NOT NULL;

CREATE TABLE webhook_deliveries (
  seq             BIGINT NOT NULL PRIMARY KEY,
  delivery_id     TEXT NOT NULL UNIQUE,
  merchant_id     TEXT NOT NULL,
  event_id        TEXT NOT NULL REFERENCES webhook_events (event_id),
  endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (endpoint_id),
  status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempt_count   BIGINT NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
  retry_step      BIGINT NOT NULL DEFAULT 0 CHECK (retry_step >= 0),
  next_attempt_at BIGINT,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  version         BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
  UNIQUE (event_id, endpoint_id),
  CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, seq)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_merchant ON webhook_deliveries (merchant_id, seq);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, status, seq);

CREATE TABLE webhook_attempts (
  delivery_seq  BIGINT NOT NULL REFERENCES webhook_deliveries (seq),
  number        BIGINT NOT NULL CHECK (number >= 1),
  started_at    BIGINT NOT NULL,
  duration_ms   BIGINT NOT NULL CHECK (duration_ms >= 0),
  http_status   BIGINT,
  error         TEXT,
  response_body TEXT,
  PRIMARY KEY (delivery_seq, number)
);

-- row_order: insertion order, which breaks ties of created_at (SQLite's rowid).
CREATE TABLE refresh_tokens (
  token_hash  TEXT NOT NULL PRIMARY KEY,
  family_id   TEXT NOT NULL,
  merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
  api_key     TEXT NOT NULL REFERENCES api_keys (api_key),
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL,
  used_at     BIGINT,
  revoked_at  BIGINT,
  row_order   BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_merchant ON refresh_tokens (merchant_id, created_at);

CREATE TABLE server_secrets (
  name       TEXT NOT NULL PRIMARY KEY,
  secret     TEXT NOT NULL CHECK (length(secret) > 0),
  created_at BIGINT NOT NULL
);

CREATE TABLE revoked_access_tokens (
  token_id    TEXT NOT NULL PRIMARY KEY,
  merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
  expires_at  BIGINT NOT NULL,
  revoked_at  BIGINT NOT NULL
);
CREATE INDEX revoked_access_tokens_by_expiry ON revoked_access_tokens (expires_at);

CREATE TABLE store_probe (
  id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  checked_at BIGINT NOT NULL
);
)sql";

// Version 2: several nodes on one database (node_store.hpp, docs/scale-out.md).
// - transaction_events.node_id: the node that wrote the row, from the session setting
//   every store connection makes (tillgate.node_id); the change feed skips its own rows.
// - nodes: one lease per node; terminal_presence: which node holds which terminal.
//   claim_sequence is drawn under the store's write lock, so it grows in commit order.
// - A notification on tillgate_changes (its payload the writing node's id) at the commit
//   of every write to transactions or terminal_presence: the other nodes read their feed.
// - The unfinished transactions with a merchant's cancel: the terminal's node finds them.
constexpr std::string_view kMigration2 = R"sql(
ALTER TABLE transaction_events
  ADD COLUMN node_id TEXT DEFAULT NULLIF(current_setting('tillgate.node_id', true), '');

CREATE TABLE nodes (
  node_id     TEXT NOT NULL PRIMARY KEY,
  started_at  BIGINT NOT NULL,
  lease_until BIGINT NOT NULL
);

CREATE SEQUENCE terminal_claims;
CREATE TABLE terminal_presence (
  device_id      TEXT NOT NULL PRIMARY KEY REFERENCES devices (device_id),
  merchant_id    TEXT NOT NULL,
  node_id        TEXT NOT NULL,
  connection_id  TEXT NOT NULL,
  since          BIGINT NOT NULL,
  dropped_at     BIGINT,
  claim_sequence BIGINT NOT NULL UNIQUE
);
CREATE INDEX terminal_presence_by_node ON terminal_presence (node_id);
CREATE INDEX terminal_presence_by_merchant ON terminal_presence (merchant_id);
CREATE INDEX terminal_presence_dropped ON terminal_presence (dropped_at)
  WHERE dropped_at IS NOT NULL;

CREATE INDEX transactions_cancel_requested ON transactions (device_id)
  WHERE cancel_requested_at IS NOT NULL AND status IN ('PENDING', 'AWAITING_RECONNECT');

CREATE FUNCTION tillgate_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tillgate_changes', COALESCE(current_setting('tillgate.node_id', true), ''));
  RETURN NULL;
END;
$$;
CREATE TRIGGER transactions_notify AFTER INSERT OR UPDATE ON transactions
  FOR EACH STATEMENT EXECUTE FUNCTION tillgate_notify_change();
CREATE TRIGGER terminal_presence_notify AFTER INSERT OR UPDATE ON terminal_presence
  FOR EACH STATEMENT EXECUTE FUNCTION tillgate_notify_change();
)sql";

// Version 3: the merchant HMAC replay cache, shared by every node on the database
// (docs/scale-out.md). A row per signed request accepted within the signature window: the
// SHA-256 (hex) of its API key and signature, never the signature, and when its timestamp
// leaves the window. Rows expired for a further window are deleted in bounded batches by
// the inserts (remember_signature).
constexpr std::string_view kMigration3 = R"sql(
CREATE TABLE replay_signatures (
  digest     TEXT NOT NULL PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
CREATE INDEX replay_signatures_by_expiry ON replay_signatures (expires_at);
)sql";

constexpr std::array kMigrations{
    Migration{1, "the schema of the SQLite backend's version 9", kMigration1},
    Migration{2, "several nodes: leases, terminal presence, the change feed", kMigration2},
    Migration{3, "the shared replay cache of merchant signatures", kMigration3},
};

constexpr std::string_view kOperation = "migrate";

std::set<int> applied_versions(Connection& connection) {
  Statement versions_query{connection, "migrate_versions", "SELECT version FROM schema_migrations"};
  auto use = versions_query.use(kOperation);
  std::set<int> versions;
  while (use.step()) {
    versions.insert(static_cast<int>(use.int64(0)));
  }
  return versions;
}

void apply_missing(Connection& connection, domain::Timestamp now) {
  connection.exec(fmt::format("SELECT pg_advisory_xact_lock({})", kMigrationLockKey), kOperation,
                  "migration lock");
  connection.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "applied_at BIGINT NOT NULL)",
      kOperation, "create schema_migrations");
  const auto applied = applied_versions(connection);
  if (!applied.empty() && *applied.rbegin() > latest_schema_version()) {
    throw StoreError(
        fmt::format("database schema version {} is newer than this tillgate ({}); "
                    "upgrade tillgate",
                    *applied.rbegin(), latest_schema_version()));
  }
  for (const Migration& migration : kMigrations) {
    if (applied.contains(migration.version)) {
      continue;
    }
    connection.exec(migration.sql, kOperation, fmt::format("migration {}", migration.version));
    connection.exec(fmt::format("INSERT INTO schema_migrations (version, applied_at) "
                                "VALUES ({}, {})",
                                migration.version, now.time_since_epoch().count()),
                    kOperation, "record version");
  }
}

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

int latest_schema_version() {
  return kMigrations.back().version;
}

void migrate(Connection& connection, domain::Timestamp now) {
  connection.begin(kOperation);
  try {
    apply_missing(connection, now);
    connection.commit(kOperation);
  } catch (...) {
    connection.rollback();
    throw;
  }
}

}  // namespace tillgate::store::postgres
