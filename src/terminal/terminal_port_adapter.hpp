#pragma once
// payments::TerminalPort over the registry: what the coordinator asks of the terminals
// (push a frame, who is connected, revoke) answered from the live sessions. Whether a
// dropped terminal is still inside its reconnect grace is the coordinator's to know.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "payments/terminal_port.hpp"

namespace tillgate::terminal {

struct TerminalContext;

class TerminalPortAdapter final : public payments::TerminalPort {
 public:
  explicit TerminalPortAdapter(TerminalContext& context);

  bool send_payment_request(const store::TransactionRecord& transaction) override;
  bool send_payment_cancel(const domain::DeviceId& device_id,
                           const domain::TransactionId& transaction_id,
                           std::string_view reason) override;
  bool send_payment_void(const domain::DeviceId& device_id,
                         const domain::TransactionId& transaction_id,
                         std::string_view reason) override;
  [[nodiscard]] std::optional<payments::TerminalConnection> connection(
      const domain::DeviceId& device_id) const override;
  [[nodiscard]] std::optional<domain::DeviceId> device_for_connection(
      const domain::ConnectionId& connection_id) const override;
  void revoke(const domain::DeviceId& device_id) override;
  void replaced_elsewhere(const domain::DeviceId& device_id,
                          const domain::ConnectionId& connection_id) override;

 private:
  bool send(const std::string& device_id, std::string frame);

  TerminalContext& context_;
};

}  // namespace tillgate::terminal
