#pragma once
// Which UpgradeHandler takes a WebSocket upgrade, by the request's path: one protocol
// surface per path (the terminals' /v1/terminal/ws, later the merchant POS API's /v1).
// The HTTP server asks it for every upgrade request; a path it does not know is answered
// by the server's RequestHandler like any other request.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/upgrade.hpp"

namespace tillgate::net {

class UpgradeRouter {
 public:
  // Upgrades to exactly `path` (the target without its query) go to `handler`, which must
  // outlive the router. Each path is added once (asserted).
  void add(std::string path, UpgradeHandler& handler);
  // The handler of `path`, or null.
  [[nodiscard]] UpgradeHandler* find(std::string_view path) const;
  [[nodiscard]] std::size_t size() const { return routes_.size(); }

 private:
  // A handful of paths: a linear search beats hashing, and keeps the order they were added.
  std::vector<std::pair<std::string, UpgradeHandler*>> routes_;
};

}  // namespace tillgate::net
