#include "terminal/terminal_port_adapter.hpp"

#include <spdlog/spdlog.h>

#include "payments/coordinator.hpp"
#include "terminal/codec.hpp"
#include "terminal/terminal_registry.hpp"
#include "terminal/terminal_session.hpp"

namespace tillgate::terminal {

TerminalPortAdapter::TerminalPortAdapter(TerminalContext& context) : context_(context) {}

bool TerminalPortAdapter::send(const std::string& device_id, std::string frame) {
  auto* session = context_.registry.find(device_id);
  return session != nullptr && session->send(std::move(frame));
}

bool TerminalPortAdapter::send_payment_request(const store::TransactionRecord& transaction) {
  return send(transaction.device_id, encode_payment_request(transaction));
}

bool TerminalPortAdapter::send_payment_cancel(const domain::DeviceId& device_id,
                                              const domain::TransactionId& transaction_id,
                                              std::string_view reason) {
  return send(device_id.str(), encode_payment_cancel(transaction_id.str(), reason));
}

bool TerminalPortAdapter::send_payment_void(const domain::DeviceId& device_id,
                                            const domain::TransactionId& transaction_id,
                                            std::string_view reason) {
  return send(device_id.str(), encode_payment_void(transaction_id.str(), reason));
}

std::optional<payments::TerminalConnection> TerminalPortAdapter::connection(
    const domain::DeviceId& device_id) const {
  const auto* session = context_.registry.find(device_id.str());
  if (session == nullptr) {
    return std::nullopt;
  }
  return payments::TerminalConnection{domain::ConnectionId(session->connection_id()),
                                      session->connected_at(), session->last_activity()};
}

std::optional<domain::DeviceId> TerminalPortAdapter::device_for_connection(
    const domain::ConnectionId& connection_id) const {
  auto device_id = context_.registry.device_for_connection(connection_id.str());
  if (!device_id) {
    return std::nullopt;
  }
  return domain::DeviceId(std::move(*device_id));
}

// The session leaves the registry at once (so the device is neither connected nor inside a
// reconnect grace), then closes with 4001. Its unfinished payment, if any, runs out as
// after a drop: the terminal can no longer answer.
void TerminalPortAdapter::revoke(const domain::DeviceId& device_id) {
  const auto session = context_.registry.remove(device_id.str());
  if (!session) {
    return;
  }
  session->close(kCloseUnauthorized, "device revoked");
  if (context_.coordinator != nullptr && !context_.stopping) {
    context_.coordinator->terminal_revoked(domain::MerchantId(session->merchant_id()), device_id);
  }
}

// Removed from the registry first, so its close is not reported as a drop (on_close).
void TerminalPortAdapter::replaced_elsewhere(const domain::DeviceId& device_id,
                                             const domain::ConnectionId& connection_id) {
  const TerminalSession* live = context_.registry.find(device_id.str());
  if (live == nullptr || live->connection_id() != connection_id.str()) {
    return;
  }
  const auto session = context_.registry.remove(device_id.str());
  spdlog::info("terminal {}: connection {} replaced by a connection on another node",
               device_id.str(), connection_id.str());
  session->close(kCloseReplaced, "replaced by a newer connection");
}

}  // namespace tillgate::terminal
