#include "store/sqlite/migrations.hpp"

#include <fmt/format.h>

#include <array>

namespace tillgate::store::sqlite {
namespace {

// Version 1: accounts, terminals, transactions and their history.
//
// Conventions: STRICT tables, so a wrongly typed value is an error rather than silently
// stored; timestamps are INTEGER milliseconds since the Unix epoch (UTC); booleans are
// INTEGER 0/1; statuses are their wire names. The status names below must match
// domain::to_string(TransactionStatus); the store tests insert every status to prove it.
constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE merchants (
  merchant_id TEXT NOT NULL PRIMARY KEY,
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
  api_key     TEXT NOT NULL PRIMARY KEY,
  merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
  api_secret  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
) STRICT;
CREATE INDEX api_keys_by_merchant ON api_keys (merchant_id);

-- device_id alone is the key: a terminal's hello names only its deviceId.
CREATE TABLE devices (
  device_id     TEXT NOT NULL PRIMARY KEY,
  merchant_id   TEXT NOT NULL REFERENCES merchants (merchant_id),
  label         TEXT NOT NULL DEFAULT '',
  secret_hash   TEXT NOT NULL,
  metadata_json TEXT NOT NULL DEFAULT '{}',
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER
) STRICT;
-- Lists a merchant's devices, and is the parent key for transactions' (merchant_id,
-- device_id) reference: a transaction's terminal belongs to the same merchant.
CREATE UNIQUE INDEX devices_by_merchant ON devices (merchant_id, device_id);

-- seq increases with every insert: a stable, gap-tolerant order for newest-first listing
-- and its cursor, which created_at (equal for two requests in one millisecond) is not.
CREATE TABLE transactions (
  merchant_id         TEXT NOT NULL,
  transaction_id      TEXT NOT NULL,
  seq                 INTEGER NOT NULL UNIQUE,
  device_id           TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('PENDING', 'AWAITING_RECONNECT',
                        'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'VOIDED')),
  amount_minor        INTEGER NOT NULL,
  currency            TEXT NOT NULL,
  payment_method      TEXT NOT NULL,
  webhook_mode        INTEGER NOT NULL CHECK (webhook_mode IN (0, 1)),
  request_json        TEXT NOT NULL,
  request_fingerprint TEXT NOT NULL,
  response_json       TEXT,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  deadline            INTEGER NOT NULL,
  completed_at        INTEGER,
  voided_at           INTEGER,
  void_reason         TEXT,
  version             INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  PRIMARY KEY (merchant_id, transaction_id),
  FOREIGN KEY (merchant_id, device_id) REFERENCES devices (merchant_id, device_id)
) STRICT;

-- One unfinished payment per terminal, held by the database itself: a second concurrent
-- insert for the same terminal fails here even if a check in code were bypassed. It also
-- serves find_unfinished_for_device (whose WHERE repeats this predicate).
CREATE UNIQUE INDEX transactions_one_unfinished_per_device ON transactions (device_id)
  WHERE status IN ('PENDING', 'AWAITING_RECONNECT');
-- Recovery at start: every unfinished transaction, oldest first.
CREATE INDEX transactions_unfinished_by_created ON transactions (created_at, seq)
  WHERE status IN ('PENDING', 'AWAITING_RECONNECT');
-- A merchant's transactions newest first, optionally for one terminal.
CREATE INDEX transactions_by_merchant_seq ON transactions (merchant_id, seq);
CREATE INDEX transactions_by_device_seq ON transactions (merchant_id, device_id, seq);

-- The history: one row per status change, never updated or deleted. AUTOINCREMENT keeps
-- sequence numbers from ever being reused.
CREATE TABLE transaction_events (
  sequence       INTEGER PRIMARY KEY AUTOINCREMENT,
  merchant_id    TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  from_status    TEXT CHECK (from_status IN ('PENDING', 'AWAITING_RECONNECT',
                   'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'VOIDED')),
  to_status      TEXT NOT NULL CHECK (to_status IN ('PENDING', 'AWAITING_RECONNECT',
                   'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'VOIDED')),
  cause          TEXT NOT NULL,
  at             INTEGER NOT NULL,
  FOREIGN KEY (merchant_id, transaction_id) REFERENCES transactions (merchant_id, transaction_id)
) STRICT;
CREATE INDEX transaction_events_by_transaction
  ON transaction_events (merchant_id, transaction_id, sequence);

CREATE TRIGGER transaction_events_no_update BEFORE UPDATE ON transaction_events
BEGIN
  SELECT RAISE(ABORT, 'transaction_events is append-only');
END;
CREATE TRIGGER transaction_events_no_delete BEFORE DELETE ON transaction_events
BEGIN
  SELECT RAISE(ABORT, 'transaction_events is append-only');
END;
)sql";

// Version 2: a merchant's cancel request on the transaction, one-time pairing codes, and
// the merchants' webhook endpoints (the payment API reads whether a merchant has an active
// one; webhooks.md owns the rest).
constexpr std::string_view kMigration2 = R"sql(
-- Set once when the merchant asks to cancel (POST /v1/transactions/{id}/cancel): a
-- reconnecting terminal is then told to cancel instead of being sent the request again.
ALTER TABLE transactions ADD COLUMN cancel_requested_at INTEGER;

-- Only a hash of each code is kept: the code itself is shown once, to the merchant.
CREATE TABLE pairing_codes (
  code_hash   TEXT NOT NULL PRIMARY KEY,
  merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
  label       TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  device_id   TEXT REFERENCES devices (device_id),
  CHECK ((used_at IS NULL) = (device_id IS NULL))
) STRICT;
CREATE INDEX pairing_codes_by_merchant ON pairing_codes (merchant_id, created_at);

-- Deleted endpoints keep their row (deleted_at set) so their delivery history stays.
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
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  deleted_at    INTEGER
) STRICT;
CREATE INDEX webhook_endpoints_by_merchant ON webhook_endpoints (merchant_id, created_at);
)sql";

// Version 3: the webhook outbox. An event row is written in the same transaction as the
// status change that causes it, with one delivery row per subscribed endpoint; every
// attempt of a delivery is kept.
constexpr std::string_view kMigration3 = R"sql(
-- The outbox. payload is the exact body of every attempt (the same eventId each time).
CREATE TABLE webhook_events (
  event_id       TEXT NOT NULL PRIMARY KEY,
  merchant_id    TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  event_type     TEXT NOT NULL CHECK (event_type IN ('payment.completed', 'payment.failed',
                   'payment.cancelled', 'payment.timeout', 'payment.voided')),
  payload        TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  FOREIGN KEY (merchant_id, transaction_id) REFERENCES transactions (merchant_id, transaction_id)
) STRICT;
-- A final transaction announces itself once (and once more if a TIMEOUT is voided).
CREATE UNIQUE INDEX webhook_events_once_per_type
  ON webhook_events (merchant_id, transaction_id, event_type);

-- One event on its way to one endpoint. seq (AUTOINCREMENT: never reused) orders the
-- list and its cursor. next_attempt_at is set exactly while pending.
CREATE TABLE webhook_deliveries (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id     TEXT NOT NULL UNIQUE,
  merchant_id     TEXT NOT NULL,
  event_id        TEXT NOT NULL REFERENCES webhook_events (event_id),
  endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (endpoint_id),
  status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempt_count   INTEGER NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
  retry_step      INTEGER NOT NULL DEFAULT 0 CHECK (retry_step >= 0),
  next_attempt_at INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  version         INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  UNIQUE (event_id, endpoint_id),
  CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
) STRICT;
-- The dispatcher's question: which pending deliveries are due, oldest due first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, seq)
  WHERE status = 'pending';
-- A merchant's deliveries newest first, optionally for one endpoint; an endpoint's pending ones.
CREATE INDEX webhook_deliveries_by_merchant ON webhook_deliveries (merchant_id, seq);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, status, seq);

-- Every attempt, written before the next one is scheduled. http_status when the endpoint
-- answered, error when it did not (or answered in a way that is not HTTP).
CREATE TABLE webhook_attempts (
  delivery_seq INTEGER NOT NULL REFERENCES webhook_deliveries (seq),
  number       INTEGER NOT NULL CHECK (number >= 1),
  started_at   INTEGER NOT NULL,
  duration_ms  INTEGER NOT NULL CHECK (duration_ms >= 0),
  http_status  INTEGER,
  error        TEXT,
  PRIMARY KEY (delivery_seq, number)
) STRICT;
)sql";

// Version 4: the Nomba-compatible edge (nomba-compat.md). An outbox event also fixes the
// body that Nomba-format endpoints are sent; the OAuth-style token endpoint keeps its
// single-use refresh tokens; and secrets the server generates itself (the access-token
// signing key) are kept once for every start and every node on the database.
constexpr std::string_view kMigration4 = R"sql(
-- The body of every attempt to a Nomba-format endpoint, fixed with the event like payload.
-- NULL: the event sends Nomba endpoints nothing (payment.voided), so they get no delivery.
ALTER TABLE webhook_events ADD COLUMN nomba_payload TEXT;

-- Events written before this version have no Nomba body, so a delivery of one to a Nomba
-- endpoint has nothing to send in that endpoint's format (earlier versions sent it the
-- standard body). The pending ones are failed here, staying listed with their attempts,
-- rather than left pending for ever. updated_at: now, in milliseconds since the epoch.
UPDATE webhook_deliveries
   SET status = 'failed', next_attempt_at = NULL, version = version + 1,
       updated_at = CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)
 WHERE status = 'pending'
   AND endpoint_id IN (SELECT endpoint_id FROM webhook_endpoints WHERE format = 'nomba');

-- Only a hash of each refresh token is kept: the token itself is shown once, to the client.
-- Every token rotated from one client_credentials grant shares family_id, so a token that
-- comes back after its rotation (used_at set) revokes the whole family. A token is live
-- while used_at and revoked_at are NULL and expires_at is in the future.
CREATE TABLE refresh_tokens (
  token_hash  TEXT NOT NULL PRIMARY KEY,
  family_id   TEXT NOT NULL,
  merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
  api_key     TEXT NOT NULL REFERENCES api_keys (api_key),
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  revoked_at  INTEGER
) STRICT;
-- Revoking a family on reuse.
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
-- A merchant's tokens oldest first: pruning the expired ones and capping the live ones.
CREATE INDEX refresh_tokens_by_merchant ON refresh_tokens (merchant_id, created_at);

-- Generated by the first process that needs one, then shared: whoever inserts first wins
-- and every other reads that one. Never empty: an empty signing key would sign anything.
CREATE TABLE server_secrets (
  name       TEXT NOT NULL PRIMARY KEY,
  secret     TEXT NOT NULL CHECK (length(secret) > 0),
  created_at INTEGER NOT NULL
) STRICT;
)sql";

// Version 5: Nomba-compatible API version 2 (nomba-compat.md). POST /v1/auth/token/revoke
// ends one access token (a signed JWT, otherwise valid until it expires) on every node on
// the database: its jti is kept here until the token's own expiry.
constexpr std::string_view kMigration5 = R"sql(
CREATE TABLE revoked_access_tokens (
  token_id    TEXT NOT NULL PRIMARY KEY,
  merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
  expires_at  INTEGER NOT NULL,
  revoked_at  INTEGER NOT NULL
) STRICT;
-- Pruning the rows of tokens that expired anyway.
CREATE INDEX revoked_access_tokens_by_expiry ON revoked_access_tokens (expires_at);
)sql";

// Version 6 (the runner applies any listed version a database lacks, in order):
// the readiness check's write probe (operations.md v2: /readyz is 503 while writes fail).
constexpr std::string_view kMigration6 = R"sql(
-- One row that GET /readyz rewrites: the store is ready only while a write commits.
CREATE TABLE store_probe (
  id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  checked_at INTEGER NOT NULL
) STRICT;
)sql";

// Version 7: the merchant's payment events in commit order, for resume in the POS WebSocket
// API (pos-websocket.md, "Resume"). seq is given by the writer under the write lock
// (MAX + 1), so a later commit has a larger seq on every node sharing the database, and,
// unlike rowid, VACUUM keeps it. The rows already there take their rowid, which is their
// insertion order (the table is never deleted from). notification: the POS notification
// body fixed with the event; NULL for the events already there, which are not replayed.
constexpr std::string_view kMigration7 = R"sql(
ALTER TABLE webhook_events ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_events ADD COLUMN notification TEXT;
UPDATE webhook_events SET seq = rowid;
CREATE UNIQUE INDEX webhook_events_by_seq ON webhook_events (seq);
CREATE INDEX webhook_events_by_merchant_seq ON webhook_events (merchant_id, seq);
)sql";

// Version 8: the Nomba edge's re-push and event logs (nomba-compat.md section 5), and
// each merchant's amount unit for Nomba pushes (section 3). A Nomba
// event is named by its body's requestId, so deliveries are found by it through an index on
// that expression; an attempt keeps the start of the endpoint's answer for the logs.
constexpr std::string_view kMigration8 = R"sql(
CREATE INDEX webhook_events_by_nomba_request
  ON webhook_events (merchant_id, json_extract(nomba_payload, '$.requestId'))
  WHERE nomba_payload IS NOT NULL;
-- Bounded by the dispatcher (TILLGATE_WEBHOOK_LOGGED_RESPONSE_BYTES); NULL for an attempt
-- that got no answer, and for those made before this version.
ALTER TABLE webhook_attempts ADD COLUMN response_body TEXT;
-- A merchant's own unit for the Nomba push's amount; NULL: the gateway's default.
ALTER TABLE merchants ADD COLUMN nomba_amount_unit TEXT
  CHECK (nomba_amount_unit IN ('minor', 'major'));
)sql";

// Version 9: a Nomba event's requestId in a column of its own, written with the event by
// the gateway (which derives it), instead of an index on json_extract(nomba_payload): that
// index parsed every Nomba body on every insert, on the payment's commit path. The rows
// already there take it from their body.
constexpr std::string_view kMigration9 = R"sql(
ALTER TABLE webhook_events ADD COLUMN nomba_request_id TEXT;
UPDATE webhook_events SET nomba_request_id = json_extract(nomba_payload, '$.requestId')
 WHERE nomba_payload IS NOT NULL;
DROP INDEX webhook_events_by_nomba_request;
CREATE INDEX webhook_events_by_nomba_request_id ON webhook_events (merchant_id, nomba_request_id)
  WHERE nomba_request_id IS NOT NULL;
)sql";

// Version 10: every CHECK that tested a column against a list of three or more constants
// (`status IN ('PENDING', ...)`) becomes the equivalent chain of `=` tests. SQLite evaluates
// such an IN list by building a temporary b-tree of its constants each time a statement
// that writes the row runs (seven times a payment: the transaction's insert and update,
// its two history rows, its outbox event), where the chain is a few comparisons. Only the
// stored CREATE TABLE text changes, as SQLite documents for changing a CHECK constraint
// ("Making Other Kinds Of Table Schema Changes", https://www.sqlite.org/lang_altertable.html):
// each constraint accepts exactly the values it accepted, so no row can violate it and no
// table is rebuilt. The runner then bumps the schema cookie, so that every connection
// reloads the schema (Migration::rewrites_schema_text).
constexpr std::string_view kMigration10 = R"sql(
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
  'status IN (''PENDING'', ''AWAITING_RECONNECT'',
                        ''COMPLETED'', ''FAILED'', ''CANCELLED'', ''TIMEOUT'', ''VOIDED'')',
  'status = ''PENDING'' OR status = ''AWAITING_RECONNECT'' OR status = ''COMPLETED''
                        OR status = ''FAILED'' OR status = ''CANCELLED'' OR status = ''TIMEOUT''
                        OR status = ''VOIDED''')
 WHERE type = 'table' AND name = 'transactions';
UPDATE sqlite_schema SET sql = replace(replace(sql,
  'from_status IN (''PENDING'', ''AWAITING_RECONNECT'',
                   ''COMPLETED'', ''FAILED'', ''CANCELLED'', ''TIMEOUT'', ''VOIDED'')',
  'from_status = ''PENDING'' OR from_status = ''AWAITING_RECONNECT''
                   OR from_status = ''COMPLETED'' OR from_status = ''FAILED''
                   OR from_status = ''CANCELLED'' OR from_status = ''TIMEOUT''
                   OR from_status = ''VOIDED'''),
  'to_status IN (''PENDING'', ''AWAITING_RECONNECT'',
                   ''COMPLETED'', ''FAILED'', ''CANCELLED'', ''TIMEOUT'', ''VOIDED'')',
  'to_status = ''PENDING'' OR to_status = ''AWAITING_RECONNECT''
                   OR to_status = ''COMPLETED'' OR to_status = ''FAILED''
                   OR to_status = ''CANCELLED'' OR to_status = ''TIMEOUT''
                   OR to_status = ''VOIDED''')
 WHERE type = 'table' AND name = 'transaction_events';
UPDATE sqlite_schema SET sql = replace(sql,
  'event_type IN (''payment.completed'', ''payment.failed'',
                   ''payment.cancelled'', ''payment.timeout'', ''payment.voided'')',
  'event_type = ''payment.completed'' OR event_type = ''payment.failed''
                   OR event_type = ''payment.cancelled'' OR event_type = ''payment.timeout''
                   OR event_type = ''payment.voided''')
 WHERE type = 'table' AND name = 'webhook_events';
UPDATE sqlite_schema SET sql = replace(sql,
  'status IN (''pending'', ''succeeded'', ''failed'')',
  'status = ''pending'' OR status = ''succeeded'' OR status = ''failed''')
 WHERE type = 'table' AND name = 'webhook_deliveries';
PRAGMA writable_schema = OFF;
)sql";

constexpr std::array kMigrations{
    Migration{1, "merchants, api keys, devices, transactions and their events", kMigration1},
    Migration{2, "merchant cancel requests, pairing codes and webhook endpoints", kMigration2},
    Migration{3, "webhook outbox: events, deliveries and attempts", kMigration3},
    Migration{4, "nomba webhook bodies, refresh tokens and server secrets", kMigration4},
    Migration{5, "nomba revoked access tokens", kMigration5},
    Migration{6, "the readiness write probe", kMigration6},
    Migration{7, "payment events in commit order, with their notification", kMigration7},
    Migration{8, "nomba re-push, event logs and per-merchant amount unit", kMigration8},
    Migration{9, "nomba request ids in a column, not an expression index", kMigration9},
    Migration{10, "CHECK constraints as = chains, not IN lists", kMigration10,
              /*rewrites_schema_text=*/true},
};

constexpr std::string_view kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
) STRICT;
)sql";

constexpr std::string_view kOperation = "migrate";

struct MigrationStatements {
  explicit MigrationStatements(sqlite3* db)
      : begin(db, "begin", "BEGIN IMMEDIATE"),
        commit(db, "commit", "COMMIT"),
        rollback(db, "rollback", "ROLLBACK"),
        savepoint(db, "savepoint", "SAVEPOINT tillgate_migration"),
        release(db, "release", "RELEASE tillgate_migration"),
        rollback_to(db, "rollback_to", "ROLLBACK TO tillgate_migration"),
        current(db, "current_version", "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"),
        applied(db, "applied_version", "SELECT 1 FROM schema_migrations WHERE version = ?1"),
        record(db, "record_version",
               "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)") {}

  [[nodiscard]] int current_version() {
    auto use = current.use(kOperation);
    if (!use.step()) {
      use.fail("MAX(version) returned no row");
    }
    return static_cast<int>(use.int64(0));
  }

  [[nodiscard]] bool is_applied(int version) {
    return applied.use(kOperation).bind(std::int64_t{version}).step();
  }

  Statement begin;
  Statement commit;
  Statement rollback;
  Statement savepoint;
  Statement release;
  Statement rollback_to;
  Statement current;
  Statement applied;
  Statement record;
};

// After a migration edited sqlite_schema's text: the schema cookie moves on (every other
// connection compares it before each statement and reloads the schema when it changed),
// and this connection reloads its own (writable_schema = RESET).
void reload_schema(Connection& connection, int version) {
  const auto what = fmt::format("migration {}: schema reload", version);
  std::int64_t cookie = 0;
  {
    Statement read(connection.get(), "read_schema_version", "PRAGMA schema_version");
    auto use = read.use(kOperation);
    if (!use.step()) {
      use.fail("PRAGMA schema_version returned no row");
    }
    cookie = use.int64(0);
  }
  connection.exec(
      fmt::format("PRAGMA schema_version = {}; PRAGMA writable_schema = RESET", cookie + 1),
      kOperation, what);
}

void apply(Connection& connection, MigrationStatements& statements, const Migration& migration,
           domain::Timestamp now) {
  WriteTransaction transaction{connection.get(),
                               {statements.begin, statements.commit, statements.rollback,
                                statements.savepoint, statements.release, statements.rollback_to},
                               kOperation};
  // Read again under the write lock: another process may have applied it meanwhile.
  if (statements.is_applied(migration.version)) {
    return;
  }
  connection.exec(migration.sql, kOperation, fmt::format("migration {}", migration.version));
  if (migration.rewrites_schema_text) {
    reload_schema(connection, migration.version);
  }
  statements.record.use(kOperation).bind(std::int64_t{migration.version}, now).run();
  transaction.commit();
}

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

int latest_schema_version() {
  return kMigrations.back().version;
}

void migrate(Connection& connection, domain::Timestamp now) {
  connection.exec(kCreateMigrationsTable, kOperation, "create schema_migrations");
  MigrationStatements statements{connection.get()};
  const int current = statements.current_version();
  if (current > latest_schema_version()) {
    throw StoreError(
        fmt::format("database schema version {} is newer than this tillgate ({}); "
                    "upgrade tillgate",
                    current, latest_schema_version()));
  }
  // Each migration the database lacks, in order: not only those above its highest version,
  // so that a version numbered below one already applied (two changes developed side by
  // side, 5 merged after 6) is still applied.
  for (const Migration& migration : kMigrations) {
    if (migration.version > current || !statements.is_applied(migration.version)) {
      apply(connection, statements, migration, now);
    }
  }
}

}  // namespace tillgate::store::sqlite
