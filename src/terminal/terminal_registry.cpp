#include "terminal/terminal_registry.hpp"

#include <cassert>
#include <utility>

#include "terminal/terminal_session.hpp"

namespace tillgate::terminal {

std::shared_ptr<TerminalSession> TerminalRegistry::attach(
    std::shared_ptr<TerminalSession> session) {
  assert(session && !session->device_id().empty() && !session->connection_id().empty());
  assert(!device_by_connection_.contains(session->connection_id()) &&
         "a terminal session is registered at most once");
  const std::string& device_id = session->device_id();
  device_by_connection_[session->connection_id()] = device_id;
  auto& current = by_device_[device_id];
  if (current) {
    device_by_connection_.erase(current->connection_id());
  }
  return std::exchange(current, std::move(session));
}

bool TerminalRegistry::detach(const TerminalSession& session) {
  device_by_connection_.erase(session.connection_id());
  const auto it = by_device_.find(session.device_id());
  if (it == by_device_.end() || it->second.get() != &session) {
    return false;
  }
  by_device_.erase(it);
  return true;
}

std::shared_ptr<TerminalSession> TerminalRegistry::remove(const std::string& device_id) {
  const auto it = by_device_.find(device_id);
  if (it == by_device_.end()) {
    return nullptr;
  }
  auto session = std::move(it->second);
  by_device_.erase(it);
  device_by_connection_.erase(session->connection_id());
  return session;
}

TerminalSession* TerminalRegistry::find(const std::string& device_id) const {
  const auto it = by_device_.find(device_id);
  return it == by_device_.end() ? nullptr : it->second.get();
}

std::optional<std::string> TerminalRegistry::device_for_connection(
    const std::string& connection_id) const {
  const auto it = device_by_connection_.find(connection_id);
  if (it == device_by_connection_.end()) {
    return std::nullopt;
  }
  return it->second;
}

}  // namespace tillgate::terminal
