#include "net/upgrade_router.hpp"

#include <cassert>

namespace tillgate::net {

void UpgradeRouter::add(std::string path, UpgradeHandler& handler) {
  assert(find(path) == nullptr && "a WebSocket path is routed to one handler only");
  routes_.emplace_back(std::move(path), &handler);
}

UpgradeHandler* UpgradeRouter::find(std::string_view path) const {
  for (const auto& [route, handler] : routes_) {
    if (route == path) {
      return handler;
    }
  }
  return nullptr;
}

}  // namespace tillgate::net
