#pragma once
// Which terminal is where: deviceId -> its live session, connectionId -> deviceId, and when
// each device's last connection dropped (for the reconnect grace). Only authenticated
// sessions are here. Pure bookkeeping on the network thread: it closes nothing and tells
// no one; the session and the TerminalPort adapter do that.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "domain/time.hpp"

namespace tillgate::terminal {

class TerminalSession;

class TerminalRegistry {
 public:
  // `session` (authenticated: device and connection ids set) becomes its device's live
  // connection; its device is no longer reconnecting. Returns the session it replaces, which
  // the caller closes. A session is registered at most once (asserted).
  std::shared_ptr<TerminalSession> attach(std::shared_ptr<TerminalSession> session);
  // `session` ended at `now`. true when it was its device's live connection: the device is
  // then reconnecting from `now` (a replaced or removed session is not).
  bool detach(const TerminalSession& session, domain::Timestamp now);
  // Forgets the device (revocation): neither connected nor reconnecting. Returns its live
  // session, if any, which the caller closes.
  std::shared_ptr<TerminalSession> remove(const std::string& device_id);

  // The device's live session, or null; valid until the registry next changes.
  [[nodiscard]] TerminalSession* find(const std::string& device_id) const;
  [[nodiscard]] std::optional<std::string> device_for_connection(
      const std::string& connection_id) const;
  // When the device's last connection dropped; nullopt while connected, or when it never
  // was, or was removed.
  [[nodiscard]] std::optional<domain::Timestamp> disconnected_at(
      const std::string& device_id) const;
  // Devices with a live connection.
  [[nodiscard]] std::size_t size() const { return by_device_.size(); }

 private:
  std::unordered_map<std::string, std::shared_ptr<TerminalSession>> by_device_;
  std::unordered_map<std::string, std::string> device_by_connection_;
  // Bounded by the number of devices.
  std::unordered_map<std::string, domain::Timestamp> disconnected_at_;
};

}  // namespace tillgate::terminal
