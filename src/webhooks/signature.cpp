#include "webhooks/signature.hpp"

#include <charconv>
#include <stdexcept>

#include "crypto/crypto.hpp"

namespace tillgate::webhooks {

namespace {

constexpr std::string_view signature_version = "v1,";

std::string mac_base64(std::string_view key, std::string_view webhook_id,
                       std::string_view timestamp, std::string_view body) {
  return crypto::base64_encode(
      crypto::hmac_sha256(key, webhook_signed_content(webhook_id, timestamp, body)));
}

// Plain decimal seconds, as the header carries them: no sign, no spaces, no fraction. At
// most 12 digits (year 33658), so the conversion to milliseconds cannot overflow.
std::optional<std::int64_t> parse_unix_seconds(std::string_view text) {
  // from_chars alone would take "-0" (and "-000") as zero.
  if (text.empty() || text.size() > 12 || text.front() < '0' || text.front() > '9') {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::string generate_webhook_secret() {
  return std::string(webhook_secret_prefix) +
         crypto::base64_encode(crypto::random_bytes(webhook_secret_key_bytes));
}

std::optional<std::string> webhook_secret_key(std::string_view secret) {
  if (!secret.starts_with(webhook_secret_prefix)) {
    return std::nullopt;
  }
  auto key = crypto::base64_decode(secret.substr(webhook_secret_prefix.size()));
  if (!key || key->empty()) {
    return std::nullopt;
  }
  return key;
}

std::string webhook_signed_content(std::string_view webhook_id, std::string_view timestamp,
                                   std::string_view body) {
  std::string content;
  content.reserve(webhook_id.size() + timestamp.size() + body.size() + 2);
  content.append(webhook_id).append(".").append(timestamp).append(".").append(body);
  return content;
}

std::string sign_webhook(std::string_view secret, std::string_view webhook_id,
                         std::int64_t unix_seconds, std::string_view body) {
  const auto key = webhook_secret_key(secret);
  if (!key) {
    throw std::invalid_argument("webhook secret is not whsec_<base64>");
  }
  return std::string(signature_version) +
         mac_base64(*key, webhook_id, std::to_string(unix_seconds), body);
}

std::string_view to_string(WebhookVerifyFailure failure) {
  switch (failure) {
    case WebhookVerifyFailure::malformed_secret:
      return "malformed_secret";
    case WebhookVerifyFailure::invalid_timestamp:
      return "invalid_timestamp";
    case WebhookVerifyFailure::timestamp_too_old:
      return "timestamp_too_old";
    case WebhookVerifyFailure::timestamp_too_new:
      return "timestamp_too_new";
    case WebhookVerifyFailure::no_valid_signature:
      return "no_valid_signature";
  }
  return "unknown";
}

std::optional<WebhookVerifyFailure> verify_webhook(
    std::string_view secret, std::string_view webhook_id, std::string_view timestamp_text,
    std::string_view body, std::string_view signature_header, domain::Timestamp now,
    std::chrono::seconds tolerance) {
  const auto key = webhook_secret_key(secret);
  if (!key) {
    return WebhookVerifyFailure::malformed_secret;
  }
  const auto seconds = parse_unix_seconds(timestamp_text);
  if (!seconds) {
    return WebhookVerifyFailure::invalid_timestamp;
  }
  const auto signed_at = domain::Timestamp(std::chrono::seconds(*seconds));
  if (signed_at < now - tolerance) {
    return WebhookVerifyFailure::timestamp_too_old;
  }
  if (signed_at > now + tolerance) {
    return WebhookVerifyFailure::timestamp_too_new;
  }
  const auto expected = mac_base64(*key, webhook_id, timestamp_text, body);
  // Every entry is compared (no early exit), so the time taken does not tell which matched.
  bool matched = false;
  std::string_view rest = signature_header;
  while (!rest.empty()) {
    const auto space = rest.find(' ');
    const auto entry = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    if (entry.starts_with(signature_version)) {
      matched =
          crypto::constant_time_equal(entry.substr(signature_version.size()), expected) || matched;
    }
  }
  if (!matched) {
    return WebhookVerifyFailure::no_valid_signature;
  }
  return std::nullopt;
}

}  // namespace tillgate::webhooks
