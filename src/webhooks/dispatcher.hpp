#pragma once
// The webhook dispatcher: delivers the outbox (webhooks.md, "Delivery guarantees").
//
// Runs on the network thread. One loop claims due deliveries from the store in bounded
// batches (each for a lease, so that of several nodes on one database only one attempts
// it) and starts an attempt for each, as long as a global slot and a slot of the
// delivery's endpoint are free; endpoints with every slot taken are left out of the query,
// so a slow or dead endpoint holds only its own slots and never the others' deliveries.
// Each attempt is recorded (with the delivery's next state) before the loop looks again,
// so the store always says what is left to do: a restart resumes from it.
// Beast and OpenSSL stay in delivery_client.cpp.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/secret.hpp"
#include "domain/time.hpp"
#include "payments/webhook_outbox.hpp"
#include "store/async_store.hpp"
#include "webhooks/delivery_client.hpp"

namespace tillgate::webhooks {
class WebhookFormats;
}

namespace tillgate::metrics {
class GatewayMetrics;
}

namespace tillgate::net {
class TimeSource;
}

namespace tillgate::webhooks {

struct DispatcherSettings {
  // No defaults for the bounds: the app sets them from app::Limits, where each default is
  // written once; a test states the values it needs. Each is at least 1 (else the
  // constructor throws).
  std::size_t max_in_flight{};               // attempts at once, all endpoints together
  std::size_t max_in_flight_per_endpoint{};  // attempts at once to one endpoint
  std::size_t batch_size{};                  // due deliveries read per store query
  std::size_t max_pings_in_flight{};         // endpoint validation pings at once
  // Bytes of an endpoint's answer body stored with each attempt (the Nomba event logs).
  std::size_t logged_response_bytes{};
  // How long a delivery this dispatcher claimed is its alone (store::DueQuery::lease): an
  // attempt must be recorded within it, or another node (or this one) may attempt the
  // delivery again. At least 1 ms.
  std::chrono::milliseconds lease{};
  // Looked at even without a wake-up: a safety net, since every change that makes a
  // delivery due (a new event, a retry, a freed slot) wakes the loop at once.
  std::chrono::seconds idle_poll{30};
  // Counts attempts by result and times them (none: nothing is counted).
  metrics::GatewayMetrics* metrics = nullptr;
};

class WebhookDispatcher final : public payments::WebhookOutbox {
 public:
  // `client`, `formats` and `time` must outlive the dispatcher; one client serves every
  // attempt and ping, and each endpoint is served by the format its `format` names. `time`
  // gives now() (due times, records) and the loop's timer, so a test can drive retries.
  WebhookDispatcher(boost::asio::any_io_executor executor, store::AsyncStore& store,
                    WebhookHttpClient& client, const WebhookFormats& formats, net::TimeSource& time,
                    DispatcherSettings settings);
  // After start(), shutdown() must have run to the end first (asserted by the task group).
  ~WebhookDispatcher() override;
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // Starts the loop; pending deliveries in the store (from before a restart) are resumed.
  void start();
  // Starts no more attempts and waits, at most `grace`, for those in flight to be recorded;
  // then cancels the rest and waits for them a moment more (no polling: the last task to
  // end wakes it). An attempt cut off is made again at the next start (at-least-once).
  boost::asio::awaitable<void> shutdown(std::chrono::milliseconds grace);
  // Something became due (a manual retry, an enabled endpoint): look at the store now.
  void notify();

  // payments::WebhookOutbox
  // The standard payload, and the Nomba one (none for VOIDED) that "nomba" endpoints get.
  [[nodiscard]] std::optional<store::WebhookEventRecord> event_for(
      const store::TransactionRecord& before, const store::StatusChange& change,
      const store::DeviceRecord* terminal) const override;
  void committed();

  // Sends a signed ping event to `url` (endpoint creation, URL change) and returns the
  // attempt; nullopt when max_pings_in_flight pings are already running. The body and its
  // headers are those of the endpoint's `format` (WebhookFormat::ping_body and sign).
  boost::asio::awaitable<std::optional<DeliveryAttempt>> ping(
      std::string url, domain::Secret secret,
      domain::WebhookFormat format = domain::WebhookFormat::standard);

  // How long an attempt (or ping) may take: a 2xx later than this is a failure.
  [[nodiscard]] std::chrono::milliseconds attempt_timeout() const;

  struct Stats {
    std::size_t in_flight = 0;
    std::size_t busiest_endpoint_in_flight = 0;
    std::size_t pings_in_flight = 0;
  };
  [[nodiscard]] Stats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tillgate::webhooks
