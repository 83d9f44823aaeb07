#pragma once
// Several gateway nodes on one database (docs/scale-out.md#several-nodes): what a node
// records of itself (its lease) and of the terminals it holds (presence), and the change
// feed through which it learns what the other nodes committed. Nodes coordinate only
// through these rows and PostgreSQL's LISTEN/NOTIFY; there is no node-to-node protocol.
//
// Implemented by the PostgreSQL backend (Store::nodes()); SQLite has none: one `serve` per
// file (its writer lock), so one node.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/time.hpp"
#include "domain/transaction.hpp"
#include "store/database_options.hpp"
#include "store/store.hpp"

namespace tillgate::store {

// A terminal's connection as its node recorded it.
struct TerminalPresenceRecord {
  std::string device_id;
  std::string merchant_id;
  std::string node_id;        // the node holding it (or, after a drop, its grace)
  std::string connection_id;  // its connection there
  Timestamp since{};          // when that node claimed it
  std::optional<Timestamp> dropped_at = std::nullopt;  // the connection dropped then
  // Presence changes in commit order: a later claim of the device (on any node), or its
  // drop, has a larger one.
  std::int64_t claim_sequence = 0;
  // The holding node's lease (find_terminal_presence only): past it, the node is dead.
  Timestamp node_lease_until{};
};

// A status change another node committed, as the change feed reads it.
struct FeedChange {
  std::int64_t sequence = 0;  // the history row's (transaction_events.sequence)
  // True for a row this node wrote itself: only the cursor moves past it.
  bool own = false;
  // The transaction as it stands now, with the status this change gave it; and the status
  // it has now (a later change may be committed already).
  TransactionRecord transaction;
  domain::TransactionStatus current_status = domain::TransactionStatus::pending;
  std::optional<domain::TransactionStatus> from;  // nullopt: created
  std::string cause;
  // The payment event the change wrote (a final change), and its commit sequence.
  std::optional<std::string> event_id;
  std::optional<std::int64_t> event_sequence;
};

class NodeStore {
 public:
  virtual ~NodeStore() = default;

  // The node lives until `lease_until` (inserted at its first call). Answers true when it
  // had no lease or its lease had already passed: the other nodes may have taken its
  // terminals as dropped, and the node claims those it still holds again.
  virtual bool renew_node_lease(const std::string& node_id, Timestamp now,
                                Timestamp lease_until) = 0;
  // A clean stop: the lease ends now, so the other nodes take its terminals at once.
  virtual void end_node_lease(const std::string& node_id, Timestamp at) = 0;

  // The device's connection is `presence` now (its claim_sequence and node lease ignored):
  // replaces any earlier claim, on any node. Answers the claim's sequence.
  virtual std::int64_t claim_terminal(const TerminalPresenceRecord& presence) = 0;
  // The connection dropped (only if it is still the device's claimed one).
  virtual void mark_terminal_dropped(const std::string& device_id, const std::string& node_id,
                                     const std::string& connection_id, Timestamp at) = 0;
  // The device is gone from this node (grace passed, revoked): its claim goes, if it is
  // still this node's.
  virtual void release_terminal(const std::string& device_id, const std::string& node_id) = 0;
  // Every claim of the node goes (a node starting again under the same id: its terminals'
  // connections died with its previous process).
  virtual void release_node_terminals(const std::string& node_id) = 0;
  [[nodiscard]] virtual std::optional<TerminalPresenceRecord> find_terminal_presence(
      const std::string& device_id) = 0;
  // The merchant's terminals as their nodes claimed them, with each node's lease.
  [[nodiscard]] virtual std::vector<TerminalPresenceRecord> list_merchant_terminal_presence(
      const std::string& merchant_id) = 0;
  // The last presence change now (where a starting node's reading of them begins).
  [[nodiscard]] virtual std::int64_t latest_claim_sequence() = 0;
  // Presence changes (claims and drops) made after `claim_sequence`, in order, at most
  // `limit`.
  [[nodiscard]] virtual std::vector<TerminalPresenceRecord> list_terminal_claims_after(
      std::int64_t claim_sequence, std::size_t limit) = 0;
  // The connected terminals of nodes whose lease passed before `now` become `node_id`'s,
  // dropped at `now` (their reconnect grace runs there). Each is taken by one caller only.
  virtual std::vector<TerminalPresenceRecord> take_terminals_of_dead_nodes(
      const std::string& node_id, Timestamp now, std::size_t limit) = 0;
  // Forgets the claims of connections that dropped before `before` (their grace is over).
  virtual void forget_dropped_terminals(Timestamp before) = 0;

  // The unfinished transactions with a merchant's cancel recorded whose terminal the node
  // holds.
  [[nodiscard]] virtual std::vector<TransactionRecord> list_cancels_held_by(
      const std::string& node_id) = 0;

  // The change feed: the last history row now (where a starting node's feed begins), and
  // the rows after `sequence`, at most `limit`, those of `node_id` marked own.
  [[nodiscard]] virtual std::int64_t latest_change_sequence() = 0;
  [[nodiscard]] virtual std::vector<FeedChange> list_changes_after(std::int64_t sequence,
                                                                   const std::string& node_id,
                                                                   std::size_t limit) = 0;
};

// Wakes a node when another node commits a change (PostgreSQL LISTEN/NOTIFY), on a thread
// and a connection of its own, reconnecting with backoff. Only a hint: a node also reads
// its feed on a timer, so a lost notification delays, never loses.
class ChangeListener {
 public:
  virtual ~ChangeListener() = default;
};

// Listens on the database of `url` (a postgresql:// one; nullptr for SQLite): `on_change`
// runs on the listener's thread when another node committed a change, and after every
// (re)connection (what came while it was away). Stops, joining its thread, when destroyed.
[[nodiscard]] std::unique_ptr<ChangeListener> listen_for_changes(const std::string& url,
                                                                 const DatabaseOptions& options,
                                                                 std::function<void()> on_change);

}  // namespace tillgate::store
