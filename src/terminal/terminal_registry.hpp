#pragma once
// Which terminal is where: deviceId -> its live session, connectionId -> deviceId. Only
// authenticated sessions are here. (Whether a dropped device is inside its reconnect grace
// is the coordinator's to know: it hears every hello and every drop.) Pure bookkeeping on the
// network thread: it closes nothing and tells no one; the session and the TerminalPort adapter do
// that.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace tillgate::terminal {

class TerminalSession;

class TerminalRegistry {
 public:
  // `session` (authenticated: device and connection ids set) becomes its device's live
  // connection. Returns the session it replaces, which
  // the caller closes. A session is registered at most once (asserted).
  std::shared_ptr<TerminalSession> attach(std::shared_ptr<TerminalSession> session);
  // `session` ended. true when it was its device's live connection (a replaced or removed
  // session was not): the device dropped.
  bool detach(const TerminalSession& session);
  // Forgets the device (revocation). Returns its live session, if any, which the caller
  // closes.
  std::shared_ptr<TerminalSession> remove(const std::string& device_id);

  // The device's live session, or null; valid until the registry next changes.
  [[nodiscard]] TerminalSession* find(const std::string& device_id) const;
  [[nodiscard]] std::optional<std::string> device_for_connection(
      const std::string& connection_id) const;
  // Devices with a live connection.
  [[nodiscard]] std::size_t size() const { return by_device_.size(); }

 private:
  std::unordered_map<std::string, std::shared_ptr<TerminalSession>> by_device_;
  std::unordered_map<std::string, std::string> device_by_connection_;
};

}  // namespace tillgate::terminal
