#include "payments/node_sync.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <unordered_map>
#include <vector>

#include "net/task_group.hpp"
#include "net/time_source.hpp"

namespace tillgate::payments {

namespace asio = boost::asio;
using store::NodeStore;
using store::Store;
using store::TerminalPresenceRecord;

namespace {

NodeStore& nodes_of(Store& store) {
  NodeStore* nodes = store.nodes();
  if (nodes == nullptr) {
    throw store::StoreError("several nodes need a PostgreSQL database");
  }
  return *nodes;
}

}  // namespace

std::optional<TerminalPresence> presence_of(const TerminalPresenceRecord& record,
                                            domain::Timestamp now,
                                            std::chrono::seconds reconnect_grace) {
  std::optional<domain::Timestamp> dropped = record.dropped_at;
  if (now >= record.node_lease_until) {  // its node is dead: dropped when the lease ended
    dropped = std::min(dropped.value_or(record.node_lease_until), record.node_lease_until);
  }
  if (!dropped) {
    return TerminalPresence::connected;
  }
  if (now < *dropped + reconnect_grace) {
    return TerminalPresence::reconnecting;
  }
  return std::nullopt;
}

// Tasks of the group do not hold the Impl alive: shutdown() waits for them first. wake()
// reaches it through a weak pointer (it comes from another thread, maybe after the end).
struct NodeSync::Impl final : PaymentEventListener {
  Impl(asio::any_io_executor executor, store::AsyncStore& store, PaymentCoordinator& coordinator,
       TerminalPort& port, net::TimeSource& time, PaymentEvents& events, NodeSettings settings)
      : executor_(executor),
        store_(store),
        coordinator_(coordinator),
        port_(port),
        time_(time),
        events_(events),
        settings_(std::move(settings)),
        group_(std::move(executor), "node sync"),
        feed_timer_(time.make_timer(executor_)),
        lease_timer_(time.make_timer(executor_)),
        presence_(events.subscribe(*this)) {}
  ~Impl() override = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // A terminal connected here, as claimed in the store.
  struct Held {
    domain::ConnectionId connection_id;
    domain::MerchantId merchant_id;
    std::int64_t claim_sequence = 0;  // 0 while the claim is being written
  };

  asio::any_io_executor executor_;
  store::AsyncStore& store_;
  PaymentCoordinator& coordinator_;
  TerminalPort& port_;
  net::TimeSource& time_;
  PaymentEvents& events_;
  NodeSettings settings_;
  net::TaskGroup group_;
  std::unique_ptr<net::Timer> feed_timer_;
  std::unique_ptr<net::Timer> lease_timer_;
  std::int64_t feed_cursor_ = 0;    // the last history row read
  std::int64_t claims_cursor_ = 0;  // the last terminal claim read
  std::unordered_map<domain::DeviceId, Held> held_;
  // Terminals of other nodes that dropped there: published gone when their grace ends.
  struct Dropped {
    domain::MerchantId merchant_id;
    domain::Timestamp at;
  };
  std::unordered_map<domain::DeviceId, Dropped> dropped_elsewhere_;
  bool publishing_remote_ = false;  // this node's listener ignores what it publishes itself
  bool woken_ = false;
  bool stopping_ = false;
  PaymentEvents::Subscription presence_;  // last: unsubscribes first

  void presence_changed(const TerminalPresenceChanged& change) override;
  void publish_remote(const TerminalPresenceChanged& change);
  void remote_presence(const TerminalPresenceRecord& claim);
  void end_remote_graces();
  [[nodiscard]] TerminalPresenceRecord claim_record(const domain::DeviceId& device_id,
                                                    const Held& held) const;
  void claim(const domain::DeviceId& device_id, const Held& held);
  asio::awaitable<void> write_claim(domain::DeviceId device_id, TerminalPresenceRecord record);
  asio::awaitable<void> run_feed();
  asio::awaitable<void> read_feed();
  asio::awaitable<void> read_cancels();
  asio::awaitable<void> read_claims();
  asio::awaitable<void> run_lease();
  asio::awaitable<void> renew_lease();
  asio::awaitable<void> take_dead_nodes_terminals();
  template <class Operation>
  void spawn_write(Operation operation, const char* what);
  static asio::awaitable<void> awaited(asio::awaitable<void> write, const char* what);
};

// A write whose answer nobody waits for, as a task of the group. The call is made here,
// not in the task: GCC 12 mishandles closures passed by value into coroutine frames.
template <class Operation>
void NodeSync::Impl::spawn_write(Operation operation, const char* what) {
  try {
    group_.spawn(what, awaited(store_.call(std::move(operation)), what));
  } catch (const store::StoreError& error) {  // the queue is full
    spdlog::warn("node sync: {} failed: {}", what, error.what());
  }
}

// The claims are repaired by the lease's renewal after an outage (renew_lease).
asio::awaitable<void> NodeSync::Impl::awaited(asio::awaitable<void> write, const char* what) {
  try {
    co_await std::move(write);
  } catch (const store::StoreError& error) {
    spdlog::warn("node sync: {} failed: {}", what, error.what());
  }
}

// This node's own presence changes, written to the store for the others to read.
void NodeSync::Impl::presence_changed(const TerminalPresenceChanged& change) {
  if (stopping_ || publishing_remote_) {
    return;
  }
  const auto& device_id = change.device_id;
  if (change.presence == TerminalPresence::connected) {
    return;  // claimed before its hello.ok (NodeSync::claim)
  }
  const auto it = held_.find(device_id);
  const std::string node = settings_.node_id;
  if (change.presence == TerminalPresence::reconnecting && it != held_.end()) {
    spawn_write(
        [device = device_id.str(), node, connection = it->second.connection_id.str(),
         at = change.at](Store& store) {
          nodes_of(store).mark_terminal_dropped(device, node, connection, at);
        },
        "mark a terminal dropped");
  } else if (change.presence == TerminalPresence::gone) {
    spawn_write([device = device_id.str(),
                 node](Store& store) { nodes_of(store).release_terminal(device, node); },
                "release a terminal");
  }
  if (it != held_.end()) {
    held_.erase(it);
  }
}

TerminalPresenceRecord NodeSync::Impl::claim_record(const domain::DeviceId& device_id,
                                                    const Held& held) const {
  return TerminalPresenceRecord{.device_id = device_id.str(),
                                .merchant_id = held.merchant_id.str(),
                                .node_id = settings_.node_id,
                                .connection_id = held.connection_id.str(),
                                .since = time_.now()};
}

void NodeSync::Impl::claim(const domain::DeviceId& device_id, const Held& held) {
  group_.spawn("claim a terminal", write_claim(device_id, claim_record(device_id, held)));
}

asio::awaitable<void> NodeSync::Impl::write_claim(domain::DeviceId device_id,
                                                  TerminalPresenceRecord record) {
  try {
    auto claim_in_store = [record](Store& store) { return nodes_of(store).claim_terminal(record); };
    const auto sequence = co_await store_.call(std::move(claim_in_store));
    const auto it = held_.find(device_id);
    if (it != held_.end() && it->second.connection_id.str() == record.connection_id) {
      it->second.claim_sequence = sequence;
    }
  } catch (const store::StoreError& error) {
    spdlog::warn("node sync: terminal {}: claim failed: {}", record.device_id, error.what());
  }
}

// Reads the feed, the cancels and the claims; then waits for a notification or the poll.
asio::awaitable<void> NodeSync::Impl::run_feed() {
  while (!stopping_) {
    woken_ = false;
    try {
      co_await read_feed();
      co_await read_cancels();
      co_await read_claims();
    } catch (const store::StoreError& error) {
      spdlog::warn("node sync: reading the other nodes' changes failed: {}", error.what());
    }
    if (!woken_ && !stopping_) {
      feed_timer_->expires_after(settings_.poll);
      (void)co_await feed_timer_->wait();
    }
  }
}

asio::awaitable<void> NodeSync::Impl::read_feed() {
  for (;;) {
    auto list_changes_in_store = [cursor = feed_cursor_, node = settings_.node_id,
                                  limit = settings_.batch](Store& store) {
      return nodes_of(store).list_changes_after(cursor, node, limit);
    };
    auto changes = co_await store_.read(std::move(list_changes_in_store));
    for (auto& change : changes) {
      feed_cursor_ = change.sequence;
      if (change.own || stopping_) {
        continue;
      }
      std::optional<domain::EventId> event_id;
      if (change.event_id) {
        event_id = domain::EventId(*change.event_id);
      }
      const auto cause = change.from ? domain::parse_transaction_event(change.cause) : std::nullopt;
      coordinator_.remote_change(
          PaymentStatusChanged{std::move(change.transaction), change.from, cause,
                               std::move(event_id), change.event_sequence},
          change.current_status);
    }
    if (changes.size() < settings_.batch) {
      co_return;
    }
  }
}

asio::awaitable<void> NodeSync::Impl::read_cancels() {
  auto list_cancels_in_store = [node = settings_.node_id](Store& store) {
    return nodes_of(store).list_cancels_held_by(node);
  };
  const auto cancels = co_await store_.read(std::move(list_cancels_in_store));
  for (const auto& transaction : cancels) {
    coordinator_.remote_cancel(transaction);
  }
}

// A claim on another node later than this node's of the same device: the device's
// connection here is the older one, replaced (4002).
asio::awaitable<void> NodeSync::Impl::read_claims() {
  for (;;) {
    auto list_claims_in_store = [cursor = claims_cursor_, limit = settings_.batch](Store& store) {
      return nodes_of(store).list_terminal_claims_after(cursor, limit);
    };
    const auto claims = co_await store_.read(std::move(list_claims_in_store));
    for (const auto& claim : claims) {
      claims_cursor_ = claim.claim_sequence;
      remote_presence(claim);
      const auto it = held_.find(domain::DeviceId(claim.device_id));
      if (claim.node_id == settings_.node_id || it == held_.end() ||
          it->second.claim_sequence == 0 || it->second.claim_sequence > claim.claim_sequence) {
        continue;
      }
      const auto connection_id = it->second.connection_id;
      held_.erase(it);
      coordinator_.terminal_moved(domain::DeviceId(claim.device_id), connection_id);
    }
    if (claims.size() < settings_.batch) {
      co_return;
    }
  }
}

// A presence change another node made, published here as this node's own are (POS
// sessions tell their clients): connected, or reconnecting until its grace ends (then gone,
// end_remote_graces).
void NodeSync::Impl::remote_presence(const TerminalPresenceRecord& claim) {
  if (claim.node_id == settings_.node_id) {
    return;
  }
  const domain::DeviceId device_id(claim.device_id);
  const domain::MerchantId merchant_id(claim.merchant_id);
  if (claim.dropped_at) {
    dropped_elsewhere_.insert_or_assign(device_id, Dropped{merchant_id, *claim.dropped_at});
    publish_remote({merchant_id, device_id, TerminalPresence::reconnecting, *claim.dropped_at});
  } else {
    dropped_elsewhere_.erase(device_id);
    publish_remote({merchant_id, device_id, TerminalPresence::connected, claim.since});
  }
}

void NodeSync::Impl::publish_remote(const TerminalPresenceChanged& change) {
  publishing_remote_ = true;
  events_.publish(change);
  publishing_remote_ = false;
}

void NodeSync::Impl::end_remote_graces() {
  const auto now = time_.now();
  for (auto it = dropped_elsewhere_.begin(); it != dropped_elsewhere_.end();) {
    if (now < it->second.at + settings_.reconnect_grace) {
      ++it;
      continue;
    }
    publish_remote({it->second.merchant_id, it->first, TerminalPresence::gone, now});
    it = dropped_elsewhere_.erase(it);
  }
}

// Every third of the lease: renew it, take the terminals of dead nodes, forget the claims
// whose grace is over.
asio::awaitable<void> NodeSync::Impl::run_lease() {
  while (!stopping_) {
    try {
      co_await renew_lease();
      co_await take_dead_nodes_terminals();
      auto forget_in_store = [before = time_.now() - settings_.reconnect_grace](Store& store) {
        nodes_of(store).forget_dropped_terminals(before);
      };
      co_await store_.call(std::move(forget_in_store));
    } catch (const store::StoreError& error) {
      spdlog::warn("node sync: node {}: lease upkeep failed: {}", settings_.node_id, error.what());
    }
    end_remote_graces();
    lease_timer_->expires_after(settings_.lease / 3);
    (void)co_await lease_timer_->wait();
  }
}

// A lease that had passed (this node could not reach the database for that long) may have
// let another node take this node's terminals as dropped: those still connected here are
// claimed again.
asio::awaitable<void> NodeSync::Impl::renew_lease() {
  const auto now = time_.now();
  auto renew_in_store = [node = settings_.node_id, now,
                         until = now + settings_.lease](Store& store) {
    return nodes_of(store).renew_node_lease(node, now, until);
  };
  const bool lapsed = co_await store_.call(std::move(renew_in_store));
  if (lapsed && !held_.empty()) {
    spdlog::warn("node sync: node {}: its lease had passed; claiming its {} terminals again",
                 settings_.node_id, held_.size());
  }
  for (auto& [device_id, held] : held_) {
    if (lapsed || held.claim_sequence == 0) {  // 0: its claim failed (or is being written)
      held.claim_sequence = 0;
      claim(device_id, held);
    }
  }
}

asio::awaitable<void> NodeSync::Impl::take_dead_nodes_terminals() {
  for (;;) {
    auto take_in_store = [node = settings_.node_id, now = time_.now(),
                          limit = settings_.batch](Store& store) {
      return nodes_of(store).take_terminals_of_dead_nodes(node, now, limit);
    };
    const auto taken = co_await store_.call(std::move(take_in_store));
    for (const auto& presence : taken) {
      spdlog::info("terminal {}: its node's lease passed; dropped, reconnect grace here",
                   presence.device_id);
      coordinator_.terminal_lost(domain::DeviceId(presence.device_id));
    }
    if (taken.size() < settings_.batch) {
      co_return;
    }
  }
}

NodeSync::NodeSync(asio::any_io_executor executor, store::AsyncStore& store,
                   PaymentCoordinator& coordinator, TerminalPort& port, net::TimeSource& time,
                   PaymentEvents& events, NodeSettings settings)
    : impl_(std::make_shared<Impl>(std::move(executor), store, coordinator, port, time, events,
                                   std::move(settings))) {}

NodeSync::~NodeSync() = default;

void NodeSync::join(Store& store) {
  auto& impl = *impl_;
  auto& nodes = nodes_of(store);
  const auto& node = impl.settings_.node_id;
  impl.feed_cursor_ = nodes.latest_change_sequence();
  impl.claims_cursor_ = nodes.latest_claim_sequence();
  nodes.release_node_terminals(node);
  const auto now = impl.time_.now();
  (void)nodes.renew_node_lease(node, now, now + impl.settings_.lease);
  spdlog::info("node {} joined; its change feed starts after history row {}", node,
               impl.feed_cursor_);
}

void NodeSync::start() {
  impl_->group_.spawn("node change feed", impl_->run_feed());
  impl_->group_.spawn("node lease", impl_->run_lease());
}

void NodeSync::wake() {
  asio::post(impl_->executor_, [weak = std::weak_ptr<Impl>(impl_)] {
    if (const auto impl = weak.lock()) {
      impl->woken_ = true;
      impl->feed_timer_->cancel();
    }
  });
}

asio::awaitable<bool> NodeSync::shutdown(std::chrono::milliseconds wait) {
  auto impl = impl_;
  impl->stopping_ = true;
  impl->feed_timer_->cancel();
  impl->lease_timer_->cancel();
  impl->group_.close();
  impl->group_.cancel();
  const bool ended = co_await impl->group_.wait(wait);
  try {
    // A graceful stop is not its terminals' fault (as on one node: their payments stay
    // PENDING, and the terminals come back through the balancer): their claims go, so no
    // other node takes them as dropped; then the lease ends.
    auto leave_in_store = [node = impl->settings_.node_id, at = impl->time_.now()](Store& store) {
      nodes_of(store).release_node_terminals(node);
      nodes_of(store).end_node_lease(node, at);
    };
    co_await impl->store_.call(std::move(leave_in_store));
  } catch (const store::StoreError& error) {
    spdlog::warn(
        "node sync: node {}: could not end its lease ({}); the others take its "
        "terminals when it passes",
        impl->settings_.node_id, error.what());
  }
  co_return ended;
}

asio::awaitable<std::optional<TerminalPresence>> NodeSync::presence(
    const domain::DeviceId& device_id) {
  auto impl = impl_;
  auto find_presence_in_store = [device = device_id.str()](Store& store) {
    return nodes_of(store).find_terminal_presence(device);
  };
  const auto record = co_await impl->store_.read(std::move(find_presence_in_store));
  if (!record) {
    co_return std::nullopt;
  }
  co_return presence_of(*record, impl->time_.now(), impl->settings_.reconnect_grace);
}

asio::awaitable<void> NodeSync::claim(const domain::MerchantId& merchant_id,
                                      const domain::DeviceId& device_id,
                                      const domain::ConnectionId& connection_id) {
  auto impl = impl_;
  if (impl->stopping_) {
    co_return;
  }
  const auto& held = impl->held_[device_id] = Impl::Held{connection_id, merchant_id, 0};
  co_await impl->write_claim(device_id, impl->claim_record(device_id, held));
}

asio::awaitable<TerminalsElsewhere> NodeSync::of_merchant(const domain::MerchantId& merchant_id) {
  auto impl = impl_;
  auto list_presence_in_store = [merchant = merchant_id.str()](Store& store) {
    return nodes_of(store).list_merchant_terminal_presence(merchant);
  };
  const auto records = co_await impl->store_.read(std::move(list_presence_in_store));
  const auto now = impl->time_.now();
  TerminalsElsewhere elsewhere;
  for (const auto& record : records) {
    if (record.node_id == impl->settings_.node_id) {
      continue;  // this node's own: its coordinator knows them
    }
    if (const auto presence = presence_of(record, now, impl->settings_.reconnect_grace)) {
      elsewhere.emplace(record.device_id, RemoteTerminal{domain::ConnectionId(record.connection_id),
                                                         record.since, *presence});
    }
  }
  co_return elsewhere;
}

}  // namespace tillgate::payments
