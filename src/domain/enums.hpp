#pragma once
// Small closed sets the API and the store name by fixed wire strings. Parsing is exact and
// case-sensitive: "card" and "CARD " are not payment methods.
#include <array>
#include <optional>
#include <string_view>

namespace tillgate::domain {

// A payment request's paymentMethod: "CARD", "CASH", "MOBILE", "OTHER".
enum class PaymentMethod { card, cash, mobile, other };
inline constexpr std::array kPaymentMethods{PaymentMethod::card, PaymentMethod::cash,
                                            PaymentMethod::mobile, PaymentMethod::other};
[[nodiscard]] std::string_view to_string(PaymentMethod method);
[[nodiscard]] std::optional<PaymentMethod> parse_payment_method(std::string_view text);

// A webhook endpoint's status: "active" (receives events) or "disabled".
enum class EndpointStatus { active, disabled };
inline constexpr std::array kEndpointStatuses{EndpointStatus::active, EndpointStatus::disabled};
[[nodiscard]] std::string_view to_string(EndpointStatus status);
[[nodiscard]] std::optional<EndpointStatus> parse_endpoint_status(std::string_view text);

// A webhook endpoint's body format: "standard" (Tillgate's signed events) or "nomba"
// (Nomba-compatible bodies, nomba_webhook.hpp).
enum class WebhookFormat { standard, nomba };
inline constexpr std::array kWebhookFormats{WebhookFormat::standard, WebhookFormat::nomba};
[[nodiscard]] std::string_view to_string(WebhookFormat format);
[[nodiscard]] std::optional<WebhookFormat> parse_webhook_format(std::string_view text);

}  // namespace tillgate::domain
