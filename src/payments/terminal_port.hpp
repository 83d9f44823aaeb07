#pragma once
// What the coordinator needs from the terminal side. Implemented by the terminal registry;
// payments never includes terminal/ (dependencies point one way).
#include <optional>
#include <string>
#include <string_view>

#include "domain/ids.hpp"
#include "domain/time.hpp"
#include "store/store.hpp"

namespace tillgate::payments {

struct TerminalConnection {
  domain::ConnectionId connection_id;
  domain::Timestamp connected_at;
  domain::Timestamp last_activity;
};

class TerminalPort {
 public:
  virtual ~TerminalPort() = default;
  // Each returns false when the terminal is not connected (or its outbox is full and it
  // is being cut off); delivery is at-least-once and re-tried on the next hello.ok.
  virtual bool send_payment_request(const store::TransactionRecord& transaction) = 0;
  virtual bool send_payment_cancel(const domain::DeviceId& device_id,
                                   const domain::TransactionId& transaction_id,
                                   std::string_view reason) = 0;
  virtual bool send_payment_void(const domain::DeviceId& device_id,
                                 const domain::TransactionId& transaction_id,
                                 std::string_view reason) = 0;
  [[nodiscard]] virtual std::optional<TerminalConnection> connection(
      const domain::DeviceId& device_id) const = 0;
  [[nodiscard]] virtual std::optional<domain::DeviceId> device_for_connection(
      const domain::ConnectionId& connection_id) const = 0;
  // The device was revoked: close its live connection with 4001 and forget it, so it is
  // neither connected nor inside a reconnect grace any more.
  virtual void revoke(const domain::DeviceId& device_id) = 0;
  // The device connected to another gateway node: close its connection here with 4002 (if
  // `connection_id` is still its live one) and forget it, reporting no drop.
  virtual void replaced_elsewhere(const domain::DeviceId& device_id,
                                  const domain::ConnectionId& connection_id) = 0;
};

}  // namespace tillgate::payments
