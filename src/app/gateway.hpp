#pragma once
// Assembles the gateway: store thread, coordinator, terminal side, router, HTTP server.
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>

#include "app/config.hpp"
#include "store/database_lock.hpp"
#include "store/store.hpp"

namespace tillgate::net {
class ServerTls;
}
namespace tillgate::api {
class RouteTable;
}

namespace tillgate::app {

class Gateway {
 public:
  // Opens and migrates the store; throws StoreError/ConfigError when it cannot.
  Gateway(boost::asio::io_context& io, Config config);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Binds the listener and starts serving; returns the real port.
  std::uint16_t start();
  // Graceful stop (operations.md): stop accepting, let requests finish within the grace,
  // close terminal connections, then stop the store thread. Calls `done` when finished.
  void stop(std::function<void()> done);

  // The store, for provisioning before start() (the network loop is not running yet).
  store::Store& store_for_setup();
  // The listener's TLS (TILLGATE_TLS_CERT_FILE/KEY_FILE), or null when it serves plain HTTP.
  [[nodiscard]] const net::ServerTls* tls() const;
  // Every HTTP route the gateway serves (a test holds it to docs/openapi.json).
  [[nodiscard]] const api::RouteTable& routes() const;

  struct Parts;

 private:
  std::unique_ptr<Parts> parts_;
};

// The lock serve and demo hold on the configured database for their whole life, taken
// before the store is opened (store::lock_database: SQLite's writer lock; none on
// PostgreSQL, which several nodes share).
[[nodiscard]] store::DatabaseLock lock_database(const Config& config);

// Runs `io` until SIGTERM or SIGINT, then stops `gateway` gracefully; `before_stop` runs
// first (e.g. to stop simulated terminals). Answers the exit code (0).
int run_until_signal(boost::asio::io_context& io, Gateway& gateway,
                     std::function<void()> before_stop = {});

// `tillgate serve`: runs until SIGTERM/SIGINT; returns the exit code.
int run_serve(Config config);

// `tillgate demo`: serve on a fresh demo database with a demo merchant and two simulated
// terminals (one approves, one declines), and print payment commands to try.
int run_demo(Config config);
// The demo's defaults before environment and flags: database sqlite:./data/demo.db (recreated
// on every run), log level warn.
[[nodiscard]] Config demo_defaults();

}  // namespace tillgate::app
