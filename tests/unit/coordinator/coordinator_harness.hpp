#pragma once
// The real PaymentCoordinator in-process, on an io_context driven by hand, with a
// ManualTimeSource for its clock and timers, a fake terminal port that records what the
// coordinator sends, the real AsyncStore over a FaultyStore over SQLite in a temporary
// directory, and a recorder of every change published on the event seam.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../../support/temp_dir.hpp"
#include "domain/payment_request.hpp"
#include "faulty_store.hpp"
#include "net/time_source.hpp"
#include "payments/coordinator.hpp"
#include "payments/payment_events.hpp"
#include "payments/terminal_port.hpp"
#include "store/async_store.hpp"

namespace tillgate::testing {

struct SentToTerminal {
  enum class Kind { request, cancel, void_payment };
  Kind kind = Kind::request;
  std::string device_id;
  std::string transaction_id;
  std::string reason;  // cancel and void only
};

class FakeTerminalPort final : public payments::TerminalPort {
 public:
  bool send_payment_request(const store::TransactionRecord& transaction) override;
  bool send_payment_cancel(const domain::DeviceId& device_id,
                           const domain::TransactionId& transaction_id,
                           std::string_view reason) override;
  bool send_payment_void(const domain::DeviceId& device_id,
                         const domain::TransactionId& transaction_id,
                         std::string_view reason) override;
  [[nodiscard]] std::optional<payments::TerminalConnection> connection(
      const domain::DeviceId& device_id) const override;
  [[nodiscard]] std::optional<domain::DeviceId> device_for_connection(
      const domain::ConnectionId& connection_id) const override;
  void revoke(const domain::DeviceId& device_id) override;
  void replaced_elsewhere(const domain::DeviceId& device_id,
                          const domain::ConnectionId& connection_id) override;

  std::set<std::string> connected;  // connected devices (presence is the coordinator's)
  // Per device, its connections so far: each (re)connection has an id of its own.
  std::map<std::string, int> connections;
  std::vector<SentToTerminal> sent;
  std::vector<std::string> replaced;  // connections closed by replaced_elsewhere
  // What was sent for `transaction_id`, in order.
  [[nodiscard]] std::vector<SentToTerminal> sent_for(const std::string& transaction_id) const;
};

class EventRecorder final : public payments::PaymentEventListener {
 public:
  void status_changed(const payments::PaymentStatusChanged& change) override {
    changes.push_back(change);
  }
  void presence_changed(const payments::TerminalPresenceChanged& change) override {
    presences.push_back(change);
  }
  std::vector<payments::PaymentStatusChanged> changes;
  std::vector<payments::TerminalPresenceChanged> presences;
};

// An awaitable's result once it completed (or the exception it ended with).
template <class T>
struct Pending {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
};

inline constexpr domain::Timestamp kStart{std::chrono::milliseconds{1'750'000'000'000}};

class CoordinatorHarness {
 public:
  // The gateway's defaults: payment timeout 90 s, reconnect grace 60 s, store retries
  // after 1 s doubling to 30 s.
  static payments::PaymentSettings default_settings();
  explicit CoordinatorHarness(payments::PaymentSettings settings = default_settings());
  ~CoordinatorHarness();
  CoordinatorHarness(const CoordinatorHarness&) = delete;
  CoordinatorHarness& operator=(const CoordinatorHarness&) = delete;

  // Adds merchant `merchant_id` with devices `device_ids`, connected.
  void add_merchant(const std::string& merchant_id, const std::vector<std::string>& device_ids);

  // Runs the network thread until nothing is ready and no store call is in flight.
  void settle();
  // Moves the manual clock and settles.
  void advance(std::chrono::milliseconds d);

  template <class T>
  std::shared_ptr<Pending<T>> start(boost::asio::awaitable<T> task) {
    auto pending = std::make_shared<Pending<T>>();
    boost::asio::co_spawn(io, std::move(task), [pending](std::exception_ptr error, T value) {
      pending->error = error;
      if (!error) {
        pending->value = std::move(value);
      }
      pending->done = true;
    });
    settle();
    return pending;
  }
  std::shared_ptr<Pending<bool>> start_void(boost::asio::awaitable<void> task);

  // The merchant's payment of `amount_minor` kobo (NGN) on `device_id`.
  std::shared_ptr<Pending<payments::SubmitOutcome>> pay(const std::string& merchant_id,
                                                        const std::string& device_id,
                                                        const std::string& transaction_id,
                                                        std::int64_t amount_minor,
                                                        bool webhook_mode);
  // The terminal reports its result.
  std::shared_ptr<Pending<payments::ResultOutcome>> report(const std::string& merchant_id,
                                                           const std::string& device_id,
                                                           const std::string& transaction_id,
                                                           domain::TransactionEvent event);
  void drop(const std::string& merchant_id, const std::string& device_id);
  void reconnect(const std::string& merchant_id, const std::string& device_id);

  // The transaction as the store holds it.
  [[nodiscard]] std::optional<store::TransactionRecord> stored(const std::string& merchant_id,
                                                               const std::string& transaction_id);

  // Shuts the coordinator down (as a crash would leave it: no more timers) and starts a new
  // one on the same store, whose recovery takes over. Returns whether shutdown was clean.
  bool restart();
  bool shutdown();

  boost::asio::io_context io;
  TempDir dir{"tillgate-coordinator"};
  net::ManualTimeSource time{kStart};
  FaultyStore* faults = nullptr;  // owned by `store`
  std::unique_ptr<store::AsyncStore> store;
  FakeTerminalPort port;
  std::map<std::string, std::string> merchant_of;  // device id -> merchant id
  payments::PaymentEvents events;
  EventRecorder recorder;
  payments::PaymentEvents::Subscription recording;
  payments::PaymentSettings settings;
  std::unique_ptr<payments::PaymentCoordinator> coordinator;
};

}  // namespace tillgate::testing
