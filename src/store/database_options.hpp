#pragma once
// How the store bounds its calls to a database server, and how many connections it makes.
// The gateway sets it from its configuration (app::Limits::db_statement_timeout_ms and
// db_pool, TILLGATE_DB_STATEMENT_TIMEOUT_MS and TILLGATE_DB_POOL, whose defaults are the ones
// written here); SQLite, which has no server, ignores it.
#include <chrono>
#include <cstddef>
#include <string>

namespace tillgate::store {

struct DatabaseOptions {
  // PostgreSQL: the bound of one statement's time (docs/scale-out.md#unavailable). The
  // server cancels a statement that runs longer (statement_timeout) and ends a session
  // left idle inside a transaction longer (idle_in_transaction_session_timeout); TCP
  // keepalives and tcp_user_timeout are derived from it unless the URL sets them; and a
  // round trip that has no complete answer within twice this is given up: the connection
  // is closed and the call fails as unavailable (StoreUnavailable, 503).
  std::chrono::milliseconds statement_timeout{10'000};
  // PostgreSQL: the store's connections (at least 1): one writes (the store thread's group
  // commit), the others each run reads on a thread of their own (AsyncStore's readers,
  // open_store_readers). SQLite keeps one connection whatever this says.
  std::size_t pool = 8;
  // PostgreSQL: the node's name (TILLGATE_NODE_ID), set on every connection of the store
  // (the session setting tillgate.node_id): the history rows it writes carry it, so that
  // the change feed of every other node reads them (node_store.hpp). Letters, digits, '.',
  // '_' and '-' only (checked by the configuration). Empty: none.
  std::string node_id{};
};

}  // namespace tillgate::store
