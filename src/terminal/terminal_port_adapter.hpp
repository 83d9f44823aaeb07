#pragma once
// payments::TerminalPort over the registry: what the coordinator asks of the terminals
// (push a frame, who is connected or reachable, revoke) answered from the live sessions.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "payments/terminal_port.hpp"

namespace tillgate::terminal {

struct TerminalContext;

class TerminalPortAdapter final : public payments::TerminalPort {
 public:
  // `reconnect_grace`: how long after a drop a device is still reachable.
  TerminalPortAdapter(TerminalContext& context, std::chrono::seconds reconnect_grace);

  bool send_payment_request(const store::TransactionRecord& transaction) override;
  bool send_payment_cancel(const domain::DeviceId& device_id,
                           const domain::TransactionId& transaction_id,
                           std::string_view reason) override;
  bool send_payment_void(const domain::DeviceId& device_id,
                         const domain::TransactionId& transaction_id,
                         std::string_view reason) override;
  [[nodiscard]] std::optional<payments::TerminalConnection> connection(
      const domain::DeviceId& device_id) const override;
  [[nodiscard]] bool reachable(const domain::DeviceId& device_id) const override;
  [[nodiscard]] std::optional<domain::DeviceId> device_for_connection(
      const domain::ConnectionId& connection_id) const override;
  void revoke(const domain::DeviceId& device_id) override;

 private:
  bool send(const std::string& device_id, std::string frame);

  TerminalContext& context_;
  std::chrono::seconds reconnect_grace_;
};

}  // namespace tillgate::terminal
