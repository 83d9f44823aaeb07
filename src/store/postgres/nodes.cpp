// The several-nodes side of PostgresStore (node_store.hpp): node leases, terminal presence
// and the change feed. Every write here takes the store's write lock, as every other
// write does, so claims are numbered in commit order and each dead node's terminal is
// taken by one node only.
#include <fmt/format.h>

#include "store/postgres/postgres_store.hpp"
#include "store/postgres/store_statements.hpp"

namespace tillgate::store::postgres {
namespace {

// TILLGATE_TRANSACTION_COLUMNS, each qualified by `alias` (for queries that join).
std::string qualified_transaction_columns(std::string_view alias) {
  const std::string_view columns = TILLGATE_TRANSACTION_COLUMNS;
  std::string qualified;
  std::size_t start = 0;
  while (start < columns.size()) {
    const auto comma = columns.find(", ", start);
    const auto end = comma == std::string_view::npos ? columns.size() : comma;
    if (!qualified.empty()) {
      qualified += ", ";
    }
    qualified += fmt::format("{}.{}", alias, columns.substr(start, end - start));
    start = end == columns.size() ? end : end + 2;
  }
  return qualified;
}

constexpr std::string_view kPresenceColumns =
    "device_id, merchant_id, node_id, connection_id, since, dropped_at, claim_sequence";

// The presence columns above, then the node's lease (0 where not read).
TerminalPresenceRecord read_presence(const Statement::Use& use) {
  return TerminalPresenceRecord{.device_id = use.text(0),
                                .merchant_id = use.text(1),
                                .node_id = use.text(2),
                                .connection_id = use.text(3),
                                .since = use.timestamp(4),
                                .dropped_at = use.optional_timestamp(5),
                                .claim_sequence = use.int64(6),
                                .node_lease_until = use.timestamp(7)};
}

// The feed's columns after the transaction's (read_transaction reads 0..18).
constexpr int kFeedSequence = 19;
constexpr int kFeedOwn = 20;
constexpr int kFeedFrom = 21;
constexpr int kFeedTo = 22;
constexpr int kFeedCause = 23;
constexpr int kFeedEventId = 24;
constexpr int kFeedEventSequence = 25;

std::optional<domain::TransactionStatus> read_optional_status(const Statement::Use& use,
                                                              int column) {
  const auto text = use.optional_text(column);
  if (!text) {
    return std::nullopt;
  }
  const auto status = domain::parse_transaction_status(*text);
  if (!status) {
    use.fail(fmt::format("column {} holds an unknown transaction status", column));
  }
  return status;
}

FeedChange read_feed_change(const Statement::Use& use) {
  FeedChange change;
  change.sequence = use.int64(kFeedSequence);
  change.own = use.boolean(kFeedOwn);
  if (change.own) {
    return change;  // only the cursor moves past it: nothing of it was read
  }
  change.transaction = read_transaction(use);
  change.current_status = change.transaction.status;
  change.transaction.status = read_optional_status(use, kFeedTo).value();
  change.from = read_optional_status(use, kFeedFrom);
  change.cause = use.text(kFeedCause);
  change.event_id = use.optional_text(kFeedEventId);
  if (!use.is_null(kFeedEventSequence)) {
    change.event_sequence = use.int64(kFeedEventSequence);
  }
  return change;
}

}  // namespace

NodeStatements::NodeStatements(Connection& db)
    : renew_lease(db, "renew_node_lease",
                  "WITH previous AS (SELECT lease_until FROM nodes WHERE node_id = $1) "
                  "INSERT INTO nodes (node_id, started_at, lease_until) VALUES ($1, $2, $3) "
                  "ON CONFLICT (node_id) DO UPDATE SET lease_until = excluded.lease_until "
                  "RETURNING (SELECT lease_until FROM previous)"),
      end_lease(db, "end_node_lease", "UPDATE nodes SET lease_until = $2 WHERE node_id = $1"),
      claim_terminal(db, "claim_terminal",
                     "INSERT INTO terminal_presence (device_id, merchant_id, node_id, "
                     "connection_id, since, dropped_at, claim_sequence) VALUES ($1, $2, $3, $4, "
                     "$5, NULL, nextval('terminal_claims')) ON CONFLICT (device_id) DO UPDATE SET "
                     "merchant_id = excluded.merchant_id, node_id = excluded.node_id, "
                     "connection_id = excluded.connection_id, since = excluded.since, "
                     "dropped_at = NULL, claim_sequence = excluded.claim_sequence "
                     "RETURNING claim_sequence"),
      mark_dropped(db, "mark_terminal_dropped",
                   "UPDATE terminal_presence SET dropped_at = $4, claim_sequence = "
                   "nextval('terminal_claims') WHERE device_id = $1 AND node_id = $2 AND "
                   "connection_id = $3 AND dropped_at IS NULL"),
      release_terminal(db, "release_terminal",
                       "DELETE FROM terminal_presence WHERE device_id = $1 AND node_id = $2"),
      release_node_terminals(db, "release_node_terminals",
                             "DELETE FROM terminal_presence WHERE node_id = $1"),
      find_presence(db, "find_terminal_presence",
                    fmt::format("SELECT p.device_id, p.merchant_id, p.node_id, p.connection_id, "
                                "p.since, p.dropped_at, p.claim_sequence, "
                                "COALESCE(n.lease_until, 0) FROM terminal_presence p LEFT JOIN "
                                "nodes n ON n.node_id = p.node_id WHERE p.device_id = $1")),
      merchant_presence(db, "list_merchant_terminal_presence",
                        "SELECT p.device_id, p.merchant_id, p.node_id, p.connection_id, p.since, "
                        "p.dropped_at, p.claim_sequence, COALESCE(n.lease_until, 0) FROM "
                        "terminal_presence p LEFT JOIN nodes n ON n.node_id = p.node_id WHERE "
                        "p.merchant_id = $1 ORDER BY p.device_id"),
      claims_after(db, "list_terminal_claims_after",
                   fmt::format("SELECT {}, 0 FROM terminal_presence WHERE claim_sequence > $1 "
                               "ORDER BY claim_sequence LIMIT $2",
                               kPresenceColumns)),
      // A terminal already dropped keeps its drop time: its grace started then.
      take_dead(db, "take_terminals_of_dead_nodes",
                fmt::format("UPDATE terminal_presence SET node_id = $1, "
                            "dropped_at = COALESCE(dropped_at, $2), claim_sequence = "
                            "nextval('terminal_claims') WHERE device_id IN (SELECT "
                            "p.device_id FROM terminal_presence p JOIN nodes n ON n.node_id = "
                            "p.node_id WHERE n.lease_until < $2 AND p.node_id <> $1 LIMIT $3) "
                            "RETURNING {}, 0",
                            kPresenceColumns)),
      forget_dropped(db, "forget_dropped_terminals",
                     "DELETE FROM terminal_presence WHERE dropped_at < $1"),
      latest_claim(db, "latest_claim_sequence",
                   "SELECT COALESCE(MAX(claim_sequence), 0) FROM terminal_presence"),
      // The predicate repeats transactions_cancel_requested's, so the planner uses it.
      cancels_held_by(db, "list_cancels_held_by",
                      fmt::format("SELECT {} FROM transactions t JOIN terminal_presence p ON "
                                  "p.device_id = t.device_id WHERE t.cancel_requested_at IS NOT "
                                  "NULL AND t.status IN ('PENDING', 'AWAITING_RECONNECT') AND "
                                  "p.node_id = $1 AND p.dropped_at IS NULL",
                                  qualified_transaction_columns("t"))),
      latest_change(db, "latest_change_sequence",
                    "SELECT COALESCE(MAX(sequence), 0) FROM transaction_events"),
      // A window of history rows after the cursor; only other nodes' rows are joined to
      // their transaction and payment event (a final status's event type is its name).
      changes_after(
          db, "list_changes_after",
          fmt::format("SELECT {}, e.sequence, e.node_id IS NOT DISTINCT FROM $2, "
                      "e.from_status, e.to_status, e.cause, w.event_id, w.seq FROM (SELECT * "
                      "FROM transaction_events WHERE sequence > $1 ORDER BY sequence LIMIT $3) e "
                      "LEFT JOIN transactions t ON e.node_id IS DISTINCT FROM $2 AND "
                      "t.merchant_id = e.merchant_id AND t.transaction_id = e.transaction_id "
                      "LEFT JOIN webhook_events w ON e.node_id IS DISTINCT FROM $2 AND "
                      "w.merchant_id = e.merchant_id AND w.transaction_id = e.transaction_id AND "
                      "w.event_type = 'payment.' || lower(e.to_status) ORDER BY e.sequence",
                      qualified_transaction_columns("t"))) {}

bool PostgresStore::renew_node_lease(const std::string& node_id, Timestamp now,
                                     Timestamp lease_until) {
  constexpr std::string_view kOperation = "renew_node_lease";
  auto transaction = begin_write(kOperation);
  std::optional<Timestamp> previous;
  {
    auto use = statements_->nodes.renew_lease.use(kOperation);
    if (use.bind(node_id, now, lease_until).step()) {
      previous = use.optional_timestamp(0);
    }
  }
  transaction.commit();
  return !previous || *previous < now;
}

void PostgresStore::end_node_lease(const std::string& node_id, Timestamp at) {
  constexpr std::string_view kOperation = "end_node_lease";
  auto transaction = begin_write(kOperation);
  statements_->nodes.end_lease.use(kOperation).bind(node_id, at).run();
  transaction.commit();
}

std::int64_t PostgresStore::claim_terminal(const TerminalPresenceRecord& presence) {
  constexpr std::string_view kOperation = "claim_terminal";
  auto transaction = begin_write(kOperation);
  std::int64_t claim_sequence = 0;
  {
    auto use = statements_->nodes.claim_terminal.use(kOperation);
    use.bind(presence.device_id, presence.merchant_id, presence.node_id, presence.connection_id,
             presence.since);
    if (!use.step()) {
      use.fail("the claim returned no row");
    }
    claim_sequence = use.int64(0);
  }
  transaction.commit();
  return claim_sequence;
}

void PostgresStore::mark_terminal_dropped(const std::string& device_id, const std::string& node_id,
                                          const std::string& connection_id, Timestamp at) {
  constexpr std::string_view kOperation = "mark_terminal_dropped";
  auto transaction = begin_write(kOperation);
  statements_->nodes.mark_dropped.use(kOperation).bind(device_id, node_id, connection_id, at).run();
  transaction.commit();
}

void PostgresStore::release_terminal(const std::string& device_id, const std::string& node_id) {
  constexpr std::string_view kOperation = "release_terminal";
  auto transaction = begin_write(kOperation);
  statements_->nodes.release_terminal.use(kOperation).bind(device_id, node_id).run();
  transaction.commit();
}

void PostgresStore::release_node_terminals(const std::string& node_id) {
  constexpr std::string_view kOperation = "release_node_terminals";
  auto transaction = begin_write(kOperation);
  statements_->nodes.release_node_terminals.use(kOperation).bind(node_id).run();
  transaction.commit();
}

std::optional<TerminalPresenceRecord> PostgresStore::find_terminal_presence(
    const std::string& device_id) {
  auto use = statements_->nodes.find_presence.use("find_terminal_presence");
  if (!use.bind(device_id).step()) {
    return std::nullopt;
  }
  return read_presence(use);
}

std::vector<TerminalPresenceRecord> PostgresStore::list_merchant_terminal_presence(
    const std::string& merchant_id) {
  auto use = statements_->nodes.merchant_presence.use("list_merchant_terminal_presence");
  use.bind(merchant_id);
  std::vector<TerminalPresenceRecord> presences;
  while (use.step()) {
    presences.push_back(read_presence(use));
  }
  return presences;
}

std::int64_t PostgresStore::latest_claim_sequence() {
  auto use = statements_->nodes.latest_claim.use("latest_claim_sequence");
  if (!use.step()) {
    use.fail("no row");
  }
  return use.int64(0);
}

std::vector<TerminalPresenceRecord> PostgresStore::list_terminal_claims_after(
    std::int64_t claim_sequence, std::size_t limit) {
  auto use = statements_->nodes.claims_after.use("list_terminal_claims_after");
  use.bind(claim_sequence, static_cast<std::int64_t>(limit));
  std::vector<TerminalPresenceRecord> claims;
  while (use.step()) {
    claims.push_back(read_presence(use));
  }
  return claims;
}

std::vector<TerminalPresenceRecord> PostgresStore::take_terminals_of_dead_nodes(
    const std::string& node_id, Timestamp now, std::size_t limit) {
  constexpr std::string_view kOperation = "take_terminals_of_dead_nodes";
  auto transaction = begin_write(kOperation);
  std::vector<TerminalPresenceRecord> taken;
  {
    auto use = statements_->nodes.take_dead.use(kOperation);
    use.bind(node_id, now, static_cast<std::int64_t>(limit));
    while (use.step()) {
      taken.push_back(read_presence(use));
    }
  }
  transaction.commit();
  return taken;
}

void PostgresStore::forget_dropped_terminals(Timestamp before) {
  constexpr std::string_view kOperation = "forget_dropped_terminals";
  auto transaction = begin_write(kOperation);
  statements_->nodes.forget_dropped.use(kOperation).bind(before).run();
  transaction.commit();
}

std::vector<TransactionRecord> PostgresStore::list_cancels_held_by(const std::string& node_id) {
  auto use = statements_->nodes.cancels_held_by.use("list_cancels_held_by");
  use.bind(node_id);
  std::vector<TransactionRecord> transactions;
  while (use.step()) {
    transactions.push_back(read_transaction(use));
  }
  return transactions;
}

std::int64_t PostgresStore::latest_change_sequence() {
  auto use = statements_->nodes.latest_change.use("latest_change_sequence");
  if (!use.step()) {
    use.fail("no row");
  }
  return use.int64(0);
}

std::vector<FeedChange> PostgresStore::list_changes_after(std::int64_t sequence,
                                                          const std::string& node_id,
                                                          std::size_t limit) {
  auto use = statements_->nodes.changes_after.use("list_changes_after");
  use.bind(sequence, node_id, static_cast<std::int64_t>(limit));
  std::vector<FeedChange> changes;
  while (use.step()) {
    changes.push_back(read_feed_change(use));
  }
  return changes;
}

}  // namespace tillgate::store::postgres
