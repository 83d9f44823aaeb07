#include "store/sqlite/store_statements.hpp"

namespace tillgate::store::sqlite {

// "Unfinished" as the partial unique index defines it; the queries repeat the index's
// predicate word for word so that SQLite's planner can use the index.
#define TILLGATE_UNFINISHED "status IN ('PENDING', 'AWAITING_RECONNECT')"

// Column order shared by every query that returns a whole transaction (read_transaction).
#define TILLGATE_TRANSACTION_COLUMNS                                                         \
  "merchant_id, transaction_id, device_id, status, amount_minor, currency, payment_method, " \
  "webhook_mode, request_json, request_fingerprint, response_json, created_at, updated_at, " \
  "deadline, completed_at, voided_at, void_reason, cancel_requested_at, version"

SqliteStore::Statements::Statements(sqlite3* db)
    : begin(db, "begin", "BEGIN IMMEDIATE"),
      begin_reads(db, "begin_reads", "BEGIN DEFERRED"),
      commit(db, "commit", "COMMIT"),
      rollback(db, "rollback", "ROLLBACK"),
      ping(db, "ping", "SELECT 1"),
      probe_write(db, "probe_write",
                  "INSERT INTO store_probe (id, checked_at) VALUES (1, ?1) "
                  "ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at"),
      savepoint_write(db, "savepoint_write", "SAVEPOINT tillgate_write"),
      release_write(db, "release_write", "RELEASE tillgate_write"),
      rollback_to_write(db, "rollback_to_write", "ROLLBACK TO tillgate_write"),
      savepoint_call(db, "savepoint_call", "SAVEPOINT tillgate_call"),
      release_call(db, "release_call", "RELEASE tillgate_call"),
      rollback_to_call(db, "rollback_to_call", "ROLLBACK TO tillgate_call"),
      insert_merchant(db, "insert_merchant",
                      "INSERT INTO merchants (merchant_id, name, created_at) VALUES (?1, ?2, ?3)"),
      find_merchant(db, "find_merchant",
                    "SELECT merchant_id, name, created_at, nomba_amount_unit FROM merchants "
                    "WHERE merchant_id = ?1"),
      list_merchants(db, "list_merchants",
                     "SELECT merchant_id, name, created_at, nomba_amount_unit FROM merchants "
                     "ORDER BY created_at, merchant_id"),
      set_merchant_nomba_amount_unit(db, "set_merchant_nomba_amount_unit",
                                     "UPDATE merchants SET nomba_amount_unit = ?2 "
                                     "WHERE merchant_id = ?1"),
      insert_api_key(db, "insert_api_key",
                     "INSERT INTO api_keys (api_key, merchant_id, api_secret, created_at, "
                     "revoked_at) VALUES (?1, ?2, ?3, ?4, ?5)"),
      find_api_key(db, "find_api_key",
                   "SELECT api_key, merchant_id, api_secret, created_at, revoked_at "
                   "FROM api_keys WHERE api_key = ?1"),
      revoke_api_key(db, "revoke_api_key",
                     "UPDATE api_keys SET revoked_at = ?3 "
                     "WHERE merchant_id = ?1 AND api_key = ?2 AND revoked_at IS NULL"),
      // DO NOTHING only for a taken device_id; an unknown merchant still fails (foreign key).
      insert_device(db, "insert_device",
                    "INSERT INTO devices (device_id, merchant_id, label, secret_hash, "
                    "metadata_json, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                    "ON CONFLICT (device_id) DO NOTHING"),
      find_device(db, "find_device",
                  "SELECT device_id, merchant_id, label, secret_hash, metadata_json, created_at, "
                  "revoked_at FROM devices WHERE device_id = ?1"),
      list_devices(db, "list_devices",
                   "SELECT device_id, merchant_id, label, secret_hash, metadata_json, created_at, "
                   "revoked_at FROM devices WHERE merchant_id = ?1 ORDER BY created_at, device_id"),
      revoke_device(db, "revoke_device",
                    "UPDATE devices SET revoked_at = ?3 "
                    "WHERE merchant_id = ?1 AND device_id = ?2 AND revoked_at IS NULL"),
      transaction_exists(
          db, "transaction_exists",
          "SELECT 1 FROM transactions WHERE merchant_id = ?1 AND transaction_id = ?2"),
      // seq = MAX + 1 is race-free because every insert runs under BEGIN IMMEDIATE (its
      // own or its batch's), and
      // cheap because seq is indexed (UNIQUE). Transactions are never deleted, so no seq
      // is ever handed out twice.
      insert_transaction(
          db, "insert_transaction",
          "INSERT INTO transactions (seq, " TILLGATE_TRANSACTION_COLUMNS
          ") "
          "VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM transactions), ?1, ?2, "
          "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"),
      find_transaction(db, "find_transaction",
                       "SELECT " TILLGATE_TRANSACTION_COLUMNS
                       " FROM transactions "
                       "WHERE merchant_id = ?1 AND transaction_id = ?2"),
      find_unfinished_for_device(db, "find_unfinished_for_device",
                                 "SELECT " TILLGATE_TRANSACTION_COLUMNS
                                 " FROM transactions "
                                 "WHERE device_id = ?1 AND " TILLGATE_UNFINISHED),
      list_unfinished(db, "list_unfinished",
                      "SELECT " TILLGATE_TRANSACTION_COLUMNS
                      " FROM transactions "
                      "WHERE " TILLGATE_UNFINISHED " ORDER BY created_at, seq"),
      // NULL parameters switch their filter off; seq is column 19 (the record's sequence).
      list_transactions(db, "list_transactions",
                        "SELECT " TILLGATE_TRANSACTION_COLUMNS
                        ", seq FROM transactions WHERE merchant_id = ?1 "
                        "AND (?2 IS NULL OR device_id = ?2) AND (?3 IS NULL OR status = ?3) "
                        "AND (?4 IS NULL OR created_at >= ?4) AND (?5 IS NULL OR created_at <= ?5) "
                        "AND (?6 IS NULL OR seq < ?6) "
                        // ?8: ",FAILED,CANCELLED," (any of the statuses), or NULL
                        "AND (?8 IS NULL OR instr(?8, ',' || status || ',') > 0) "
                        "ORDER BY seq DESC LIMIT ?7"),
      // COALESCE: an optional field left unset in the change keeps its stored value. The
      // status condition repeats the compare-and-set so the update can never overwrite a
      // status it did not check.
      update_status(db, "update_status",
                    "UPDATE transactions SET status = ?4, updated_at = ?5, version = version + 1, "
                    "response_json = COALESCE(?6, response_json), "
                    "completed_at = COALESCE(?7, completed_at), "
                    "voided_at = COALESCE(?8, voided_at), "
                    "void_reason = COALESCE(?9, void_reason) "
                    "WHERE merchant_id = ?1 AND transaction_id = ?2 AND status = ?3"),
      insert_event(db, "insert_event",
                   "INSERT INTO transaction_events (merchant_id, transaction_id, from_status, "
                   "to_status, cause, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
      list_events(db, "list_events",
                  "SELECT sequence, merchant_id, transaction_id, from_status, to_status, cause, "
                  "at FROM transaction_events WHERE merchant_id = ?1 AND transaction_id = ?2 "
                  "ORDER BY sequence"),
      mark_cancel_requested(db, "mark_cancel_requested",
                            "UPDATE transactions SET cancel_requested_at = ?3 "
                            "WHERE merchant_id = ?1 AND transaction_id = ?2 "
                            "AND cancel_requested_at IS NULL AND " TILLGATE_UNFINISHED),
      insert_pairing_code(db, "insert_pairing_code",
                          "INSERT INTO pairing_codes (code_hash, merchant_id, label, created_at, "
                          "expires_at) VALUES (?1, ?2, ?3, ?4, ?5)"),
      // DO NOTHING only for a taken hash; an unknown merchant still fails (foreign key).
      insert_new_pairing_code(db, "insert_new_pairing_code",
                              "INSERT INTO pairing_codes (code_hash, merchant_id, label, "
                              "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5) "
                              "ON CONFLICT (code_hash) DO NOTHING"),
      find_usable_pairing_code(db, "find_usable_pairing_code",
                               "SELECT merchant_id, label FROM pairing_codes "
                               "WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2"),
      mark_pairing_code_used(db, "mark_pairing_code_used",
                             "UPDATE pairing_codes SET used_at = ?2, device_id = ?3 "
                             "WHERE code_hash = ?1 AND used_at IS NULL"),
      has_active_webhook_endpoint(db, "has_active_webhook_endpoint",
                                  "SELECT 1 FROM webhook_endpoints WHERE merchant_id = ?1 "
                                  "AND status = 'active' AND deleted_at IS NULL LIMIT 1"),
      webhooks(db),
      tokens(db) {}

#undef TILLGATE_UNFINISHED
#undef TILLGATE_TRANSACTION_COLUMNS

}  // namespace tillgate::store::sqlite
