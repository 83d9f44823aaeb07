// webhooks::verify_webhook and webhook_secret_key: the Standard Webhooks signature header
// (webhooks.md, "Signing"). Input, one field a line: secret, webhook-id, webhook-timestamp,
// webhook-signature, then the body (the rest). "Now" is 2024-01-15T10:30:00Z, tolerance
// 300 s. Properties beyond "no crash, no sanitizer report":
//  - a secret is usable exactly when it is "whsec_" + valid padded base64 of a non-empty key;
//  - the timestamp is read as plain decimal seconds only (no sign, space or fraction, at
//    most 12 digits) and then checked against the window, before any signature;
//  - the header is accepted exactly when one of its space-separated entries is "v1," + the
//    expected base64 MAC, computed here separately;
//  - what sign_webhook writes for these inputs verifies, alone and among decoy entries,
//    and stops verifying when the body changes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "crypto/crypto.hpp"
#include "fuzz_support.hpp"
#include "webhooks/signature.hpp"

namespace {

using namespace tillgate;
using webhooks::WebhookVerifyFailure;

std::optional<std::int64_t> plain_seconds(std::string_view text) {
  if (text.empty() || text.size() > 12) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto fields = fuzz::split_fields(fuzz::as_text(data, size), 5);
  const auto secret = fields[0];
  const auto id = fields[1];
  const auto timestamp = fields[2];
  const auto header = fields[3];
  const auto body = fields[4];
  const auto now = fuzz::fixed_now();

  const auto result = webhooks::verify_webhook(secret, id, timestamp, body, header, now);
  const auto key = webhooks::webhook_secret_key(secret);
  if (secret.starts_with("whsec_")) {
    const auto decoded = crypto::base64_decode(secret.substr(6));
    FUZZ_CHECK(key.has_value() == (decoded.has_value() && !decoded->empty()));
    if (key) {
      FUZZ_CHECK(*key == *decoded);
    }
  } else {
    FUZZ_CHECK(!key.has_value());
  }
  if (!key) {
    FUZZ_CHECK(result == WebhookVerifyFailure::malformed_secret);
    return 0;
  }
  const auto seconds = plain_seconds(timestamp);
  if (!seconds) {
    FUZZ_CHECK(result == WebhookVerifyFailure::invalid_timestamp);
    return 0;
  }
  const domain::Timestamp signed_at{std::chrono::seconds(*seconds)};
  if (signed_at < now - webhooks::default_webhook_tolerance) {
    FUZZ_CHECK(result == WebhookVerifyFailure::timestamp_too_old);
    return 0;
  }
  if (signed_at > now + webhooks::default_webhook_tolerance) {
    FUZZ_CHECK(result == WebhookVerifyFailure::timestamp_too_new);
    return 0;
  }

  const std::string content =
      std::string(id) + "." + std::string(timestamp) + "." + std::string(body);
  const std::string expected = "v1," + crypto::base64_encode(crypto::hmac_sha256(*key, content));
  bool listed = false;
  std::string_view rest = header;
  for (;;) {
    const auto space = rest.find(' ');
    listed = listed || rest.substr(0, space) == expected;
    if (space == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(space + 1);
  }
  FUZZ_CHECK(result.has_value() == !listed);
  if (result) {
    FUZZ_CHECK(*result == WebhookVerifyFailure::no_valid_signature);
  }

  // Our own signature for the same webhook. The timestamp text must be what sign_webhook
  // writes (no leading zeros) for the MAC to cover the same bytes.
  if (std::to_string(*seconds) == timestamp) {
    const std::string signed_header = webhooks::sign_webhook(secret, id, *seconds, body);
    FUZZ_CHECK(signed_header == expected);
    FUZZ_CHECK(!webhooks::verify_webhook(secret, id, timestamp, body, signed_header, now));
    const std::string among = "v2,x v1,AAAA " + signed_header + " v1,";
    FUZZ_CHECK(!webhooks::verify_webhook(secret, id, timestamp, body, among, now));
    const std::string other_body = std::string(body) + "x";
    FUZZ_CHECK(webhooks::verify_webhook(secret, id, timestamp, other_body, signed_header, now) ==
               WebhookVerifyFailure::no_valid_signature);
  }
  return 0;
}
