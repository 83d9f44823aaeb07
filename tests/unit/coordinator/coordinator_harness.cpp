#include "coordinator_harness.hpp"

#include <thread>

#include "../store/store_test_support.hpp"
#include "domain/money.hpp"

namespace tillgate::testing {

namespace asio = boost::asio;
using payments::TerminalConnection;

bool FakeTerminalPort::send_payment_request(const store::TransactionRecord& transaction) {
  sent.push_back(
      {SentToTerminal::Kind::request, transaction.device_id, transaction.transaction_id, ""});
  return connected.contains(transaction.device_id);
}

bool FakeTerminalPort::send_payment_cancel(const domain::DeviceId& device_id,
                                           const domain::TransactionId& transaction_id,
                                           std::string_view reason) {
  sent.push_back(
      {SentToTerminal::Kind::cancel, device_id.str(), transaction_id.str(), std::string(reason)});
  return connected.contains(device_id.str());
}

bool FakeTerminalPort::send_payment_void(const domain::DeviceId& device_id,
                                         const domain::TransactionId& transaction_id,
                                         std::string_view reason) {
  sent.push_back({SentToTerminal::Kind::void_payment, device_id.str(), transaction_id.str(),
                  std::string(reason)});
  return connected.contains(device_id.str());
}

std::optional<TerminalConnection> FakeTerminalPort::connection(
    const domain::DeviceId& device_id) const {
  if (!connected.contains(device_id.str())) {
    return std::nullopt;
  }
  const auto count = connections.find(device_id.str());
  const int n = count == connections.end() ? 0 : count->second;
  return TerminalConnection{
      domain::ConnectionId("conn_" + device_id.str() + "_" + std::to_string(n)), kStart, kStart};
}

std::optional<domain::DeviceId> FakeTerminalPort::device_for_connection(
    const domain::ConnectionId& connection_id) const {
  for (const auto& device : connected) {
    if (connection(domain::DeviceId(device))->connection_id == connection_id) {
      return domain::DeviceId(device);
    }
  }
  return std::nullopt;
}

void FakeTerminalPort::revoke(const domain::DeviceId& device_id) {
  connected.erase(device_id.str());
}

void FakeTerminalPort::replaced_elsewhere(const domain::DeviceId& device_id,
                                          const domain::ConnectionId& connection_id) {
  const auto live = connection(device_id);
  if (live && live->connection_id == connection_id) {
    connected.erase(device_id.str());
    replaced.push_back(connection_id.str());
  }
}

std::vector<SentToTerminal> FakeTerminalPort::sent_for(const std::string& transaction_id) const {
  std::vector<SentToTerminal> found;
  for (const auto& message : sent) {
    if (message.transaction_id == transaction_id) {
      found.push_back(message);
    }
  }
  return found;
}

payments::PaymentSettings CoordinatorHarness::default_settings() {
  using namespace std::chrono_literals;
  return payments::PaymentSettings{.payment_timeout = 90s,
                                   .reconnect_grace = 60s,
                                   .max_waiting = 10'000,
                                   .store_retry_first = 1s,
                                   .store_retry_max = 30s,
                                   .metrics = nullptr};
}

CoordinatorHarness::CoordinatorHarness(payments::PaymentSettings settings_in)
    : recording(events.subscribe(recorder)), settings(settings_in) {
  auto real = store::open_store("sqlite:" + (dir.path() / "coordinator.db").string());
  auto faulty = std::make_unique<FaultyStore>(std::move(real));
  faults = faulty.get();
  store = std::make_unique<store::AsyncStore>(
      std::move(faulty), 10'000, store::StoreBatchSettings{.max_calls = 64, .max_wait = {}});
  coordinator = std::make_unique<payments::PaymentCoordinator>(io.get_executor(), *store, port,
                                                               time, events, settings);
}

CoordinatorHarness::~CoordinatorHarness() {
  shutdown();
  coordinator.reset();
  settle();
  store->stop();
}

void CoordinatorHarness::add_merchant(const std::string& merchant_id,
                                      const std::vector<std::string>& device_ids) {
  store->direct().insert_merchant(store::testing::make_merchant(merchant_id));
  for (const auto& device_id : device_ids) {
    store->direct().insert_device(store::testing::make_device(device_id, merchant_id));
    merchant_of[device_id] = merchant_id;
    reconnect(merchant_id, device_id);  // says hello
  }
}

void CoordinatorHarness::settle() {
  int idle_rounds = 0;
  while (idle_rounds < 2) {
    io.restart();
    if (io.poll() > 0) {
      idle_rounds = 0;
    } else if (store->in_flight() > 0) {
      std::this_thread::yield();  // the store thread answers soon
      idle_rounds = 0;
    } else {
      ++idle_rounds;
    }
  }
}

void CoordinatorHarness::advance(std::chrono::milliseconds d) {
  time.advance(d);
  settle();
}

std::shared_ptr<Pending<bool>> CoordinatorHarness::start_void(asio::awaitable<void> task) {
  auto pending = std::make_shared<Pending<bool>>();
  asio::co_spawn(io, std::move(task), [pending](std::exception_ptr error) {
    pending->error = error;
    pending->value = !error;
    pending->done = true;
  });
  settle();
  return pending;
}

std::shared_ptr<Pending<payments::SubmitOutcome>> CoordinatorHarness::pay(
    const std::string& merchant_id, const std::string& device_id, const std::string& transaction_id,
    std::int64_t amount_minor, bool webhook_mode) {
  domain::PaymentRequest request{
      .transaction_id = transaction_id,
      .amount = domain::Money::from_minor_units(amount_minor, *domain::find_currency("NGN")),
      .payment_method = domain::PaymentMethod::card,
      .webhook_mode = webhook_mode,
      .products = {},
      .customer_info = json::Value(nullptr),
      .metadata = {},
      .require_webhook_endpoint = false};
  return start(coordinator->submit(domain::MerchantId(merchant_id), device_id, std::move(request)));
}

std::shared_ptr<Pending<payments::ResultOutcome>> CoordinatorHarness::report(
    const std::string& merchant_id, const std::string& device_id, const std::string& transaction_id,
    domain::TransactionEvent event) {
  const auto status =
      event == domain::TransactionEvent::terminal_succeeded ? domain::TerminalStatus::success
      : event == domain::TransactionEvent::terminal_failed  ? domain::TerminalStatus::failed
                                                            : domain::TerminalStatus::cancelled;
  payments::TerminalResult result{
      domain::TransactionId(transaction_id), event,
      domain::TerminalOutcome{.status = status, .authorization_code = "A1"}};
  return start(coordinator->record_result(domain::MerchantId(merchant_id),
                                          domain::DeviceId(device_id), std::move(result)));
}

void CoordinatorHarness::drop(const std::string& merchant_id, const std::string& device_id) {
  port.connected.erase(device_id);
  coordinator->terminal_disconnected(domain::MerchantId(merchant_id), domain::DeviceId(device_id));
  settle();
}

void CoordinatorHarness::reconnect(const std::string& merchant_id, const std::string& device_id) {
  port.connected.insert(device_id);
  ++port.connections[device_id];
  start_void(coordinator->terminal_connected(domain::MerchantId(merchant_id),
                                             domain::DeviceId(device_id)));
}

std::optional<store::TransactionRecord> CoordinatorHarness::stored(
    const std::string& merchant_id, const std::string& transaction_id) {
  settle();
  return store->direct().find_transaction(merchant_id, transaction_id);
}

bool CoordinatorHarness::shutdown() {
  if (!coordinator) {
    return true;
  }
  auto ended = start(coordinator->shutdown(std::chrono::milliseconds(2000)));
  for (int i = 0; i < 1000 && !ended->done; ++i) {
    settle();
  }
  return ended->done && ended->value.value_or(false);
}

bool CoordinatorHarness::restart() {
  const bool clean = shutdown();
  coordinator.reset();
  settle();
  coordinator = std::make_unique<payments::PaymentCoordinator>(io.get_executor(), *store, port,
                                                               time, events, settings);
  coordinator->start();
  settle();
  // The terminals still connected say hello to the new process.
  const std::vector<std::string> connected(port.connected.begin(), port.connected.end());
  for (const auto& device_id : connected) {
    reconnect(merchant_of.at(device_id), device_id);
  }
  return clean;
}

}  // namespace tillgate::testing
