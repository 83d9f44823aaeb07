#include "domain/enums.hpp"

#include <cstddef>

namespace tillgate::domain {
namespace {

// The one name-to-value direction: whichever enumerator's to_string is `text`.
template <class Enum, std::size_t N>
std::optional<Enum> parse_by_name(const std::array<Enum, N>& all, std::string_view text) {
  for (const Enum value : all) {
    if (to_string(value) == text) {
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(PaymentMethod method) {
  switch (method) {
    case PaymentMethod::card:
      return "CARD";
    case PaymentMethod::cash:
      return "CASH";
    case PaymentMethod::mobile:
      return "MOBILE";
    case PaymentMethod::other:
      return "OTHER";
  }
  // Only a value cast from outside the enumerators gets here; "" is no name parse accepts.
  return "";
}

std::optional<PaymentMethod> parse_payment_method(std::string_view text) {
  return parse_by_name(kPaymentMethods, text);
}

std::string_view to_string(EndpointStatus status) {
  switch (status) {
    case EndpointStatus::active:
      return "active";
    case EndpointStatus::disabled:
      return "disabled";
  }
  return "";
}

std::optional<EndpointStatus> parse_endpoint_status(std::string_view text) {
  return parse_by_name(kEndpointStatuses, text);
}

std::string_view to_string(WebhookFormat format) {
  switch (format) {
    case WebhookFormat::standard:
      return "standard";
    case WebhookFormat::nomba:
      return "nomba";
  }
  return "";
}

std::optional<WebhookFormat> parse_webhook_format(std::string_view text) {
  return parse_by_name(kWebhookFormats, text);
}

}  // namespace tillgate::domain
