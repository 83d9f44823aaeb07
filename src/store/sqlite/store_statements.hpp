#pragma once
// The prepared statements of SqliteStore (private to the backend). Column orders here are
// the ones the row readers in sqlite_store.cpp and transactions.cpp decode.
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/statement.hpp"

namespace tillgate::store::sqlite {

// Every statement the store runs, prepared once when the store opens.
struct SqliteStore::Statements {
  explicit Statements(sqlite3* db);

  Statement begin, commit, rollback, ping;
  Statement insert_merchant, find_merchant, list_merchants;
  Statement insert_api_key, find_api_key, revoke_api_key;
  Statement insert_device, find_device, list_devices, revoke_device;
  Statement transaction_exists, insert_transaction, find_transaction;
  Statement find_unfinished_for_device, list_unfinished, list_transactions, update_status;
  Statement insert_event, list_events, mark_cancel_requested;
  Statement insert_pairing_code, find_usable_pairing_code, mark_pairing_code_used;
  Statement has_active_webhook_endpoint;
};

}  // namespace tillgate::store::sqlite
