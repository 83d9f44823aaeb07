#pragma once
// Assembles the gateway: store thread, coordinator, terminal side, router, HTTP server.
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>

#include "app/config.hpp"

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

  struct Parts;

 private:
  std::unique_ptr<Parts> parts_;
};

// `tillgate serve`: runs until SIGTERM/SIGINT; returns the exit code.
int run_serve(Config config);

}  // namespace tillgate::app
