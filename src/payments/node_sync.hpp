#pragma once
// One gateway node among several on one PostgreSQL database (docs/scale-out.md#several-nodes).
// The node coordinates with the others only through the store (node_store.hpp):
//
// - Its lease, renewed every third of TILLGATE_NODE_LEASE_S. A node whose lease passed is
//   dead: the first node to see it takes its terminals as dropped (their unfinished
//   payments wait out the reconnect grace there, as after a drop).
// - Presence: each hello of a terminal here claims the device for this node (a later claim,
//   on any node, replaces it: the node that held it closes its connection with 4002); a
//   drop marks the claim dropped (reconnecting for the grace); gone releases it. A payment
//   for a terminal that is not connected here asks the store where it is (RemoteTerminals).
// - The change feed: every history row another node writes, read in commit order after a
//   cursor, whenever a notification comes (store::ChangeListener, wake()) and at least every
//   TILLGATE_NODE_POLL_MS, goes to the coordinator (remote_change), which publishes it on
//   the event seam here and pushes a new payment to its terminal if this node holds it. A
//   merchant's cancel recorded elsewhere of a payment whose terminal is here is read the
//   same way (remote_cancel).
//
// Every task belongs to the node's group, which shutdown() cancels and waits for.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "payments/coordinator.hpp"
#include "payments/payment_events.hpp"
#include "payments/terminal_port.hpp"
#include "store/async_store.hpp"
#include "store/node_store.hpp"

namespace tillgate::net {
class TimeSource;
}

namespace tillgate::payments {

// No defaults: the app sets each from app::Config / app::Limits.
struct NodeSettings {
  std::string node_id;                     // TILLGATE_NODE_ID
  std::chrono::milliseconds lease{};       // TILLGATE_NODE_LEASE_S
  std::chrono::milliseconds poll{};        // TILLGATE_NODE_POLL_MS: the feed's longest wait
  std::chrono::seconds reconnect_grace{};  // the terminals' (TILLGATE_RECONNECT_GRACE_S)
  std::size_t batch{};                     // rows per read of the feed, the claims, the dead
};

// What a presence record says of its device at `now`: connected (its node alive, not
// dropped), reconnecting (dropped, or its node dead, less than the grace ago), or nullopt.
[[nodiscard]] std::optional<TerminalPresence> presence_of(
    const store::TerminalPresenceRecord& record, domain::Timestamp now,
    std::chrono::seconds reconnect_grace);

class NodeSync final : public RemoteTerminals {
 public:
  // The store must have a NodeStore (PostgreSQL). Subscribes to `events` for this node's
  // presence changes; every reference outlives the NodeSync.
  NodeSync(boost::asio::any_io_executor executor, store::AsyncStore& store,
           PaymentCoordinator& coordinator, TerminalPort& port, net::TimeSource& time,
           PaymentEvents& events, NodeSettings settings);
  ~NodeSync() override;
  NodeSync(const NodeSync&) = delete;
  NodeSync& operator=(const NodeSync&) = delete;

  // Joins the nodes: the feed starts after the latest change, the claims this node's id
  // left behind (its previous process's connections) go, and its lease begins. At start-up,
  // before the network loop runs and before the coordinator's start(), on the store's own
  // connection (AsyncStore::direct). Throws StoreError.
  void join(store::Store& store);
  // Starts the feed and the lease tasks.
  void start();
  // From any thread: another node committed something; read the feed now.
  void wake();
  // Stops the tasks (waiting at most `wait`), then releases this node's terminals (a
  // graceful stop is not their drop: their payments stay PENDING, as on one node) and ends
  // the lease. True when every task ended.
  boost::asio::awaitable<bool> shutdown(std::chrono::milliseconds wait);

  boost::asio::awaitable<std::optional<TerminalPresence>> presence(
      const domain::DeviceId& device_id) override;
  boost::asio::awaitable<TerminalsElsewhere> of_merchant(
      const domain::MerchantId& merchant_id) override;
  boost::asio::awaitable<void> claim(const domain::MerchantId& merchant_id,
                                     const domain::DeviceId& device_id,
                                     const domain::ConnectionId& connection_id) override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tillgate::payments
