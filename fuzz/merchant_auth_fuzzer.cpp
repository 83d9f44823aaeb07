// api::read_signed_headers and the rest of merchant request authentication (merchant-api.md
// section 1), over a net::HttpRequest built from the input. Input, one field a line:
//   flags (first byte: bit 0 drops x-api-key, bit 1 x-timestamp, bit 2 x-signature; bit 3
//   puts a decoy copy of each header after the real one), method, target, x-api-key,
//   x-timestamp, x-signature, then the body (the rest, newlines and all).
// "Now" is 2024-01-15T10:30:00Z; the skew is 300 s. Properties beyond "no crash":
//  - a missing or empty key or signature is UNAUTHORIZED; a bad or out-of-window timestamp
//    is TIMESTAMP_EXPIRED; accepted headers are the ones sent, verbatim, and the signing
//    instant is inside the window and is what parse_iso8601 makes of the timestamp;
//  - signature_matches is true exactly when x-signature is the expected
//    base64(HMAC-SHA256(secret, METHOD\nTARGET\nTIMESTAMP\nhex(sha256(BODY)))): computed
//    here separately; then the correctly signed request matches, and no longer does once its
//    body, target or method changes;
//  - the replay cache accepts a signature once and refuses it the second time.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/merchant_auth.hpp"
#include "crypto/crypto.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace tillgate;

constexpr std::string_view kSecret = "tgs_fuzzsecretfuzzsecretfuzzsecretfuzzsecretfuzzsecret";
constexpr std::chrono::seconds kSkew{300};

std::string expected_signature(const net::HttpRequest& request, std::string_view timestamp) {
  const std::string content = request.method + "\n" + request.target + "\n" +
                              std::string(timestamp) + "\n" +
                              crypto::hex_encode(crypto::sha256(request.body));
  return crypto::base64_encode(crypto::hmac_sha256(kSecret, content));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto fields = fuzz::split_fields(fuzz::as_text(data, size), 7);
  const unsigned flags = fields[0].empty() ? 0U : static_cast<unsigned char>(fields[0][0]);
  net::HttpRequest request;
  request.method = std::string(fields[1]);
  request.target = std::string(fields[2]);
  const auto question = request.target.find('?');
  request.path = request.target.substr(0, question);
  request.query = question == std::string::npos ? "" : request.target.substr(question + 1);
  const std::string_view names[] = {"x-api-key", "x-timestamp", "x-signature"};
  for (int i = 0; i < 3; ++i) {
    if ((flags & (1U << i)) == 0) {
      request.headers.emplace_back(std::string(names[i]), std::string(fields[3 + i]));
    }
  }
  if ((flags & 8U) != 0) {
    for (const auto name : names) {
      request.headers.emplace_back(std::string(name), "decoy");
    }
  }
  request.body = std::string(fields[6]);
  request.remote_address = "192.0.2.1";

  const auto now = fuzz::fixed_now();
  api::SignedHeaders headers;
  const auto failure = api::read_signed_headers(request, now, kSkew, headers);
  const auto key = request.header("x-api-key");
  const auto timestamp = request.header("x-timestamp");
  const auto signature = request.header("x-signature");
  if (!key || !timestamp || !signature || key->empty() || signature->empty()) {
    FUZZ_CHECK(failure == api::AuthFailure::unauthorized);
    return 0;
  }
  const auto signed_at = domain::parse_iso8601(*timestamp);
  if (!signed_at || *signed_at < now - kSkew || *signed_at > now + kSkew) {
    FUZZ_CHECK(failure == api::AuthFailure::timestamp_expired);
    return 0;
  }
  FUZZ_CHECK(!failure.has_value());
  FUZZ_CHECK(headers.api_key == *key && headers.timestamp == *timestamp &&
             headers.signature == *signature && headers.signed_at == *signed_at);

  const std::string expected = expected_signature(request, headers.timestamp);
  FUZZ_CHECK(api::signature_matches(request, headers, kSecret) == (headers.signature == expected));
  api::SignedHeaders good = headers;
  good.signature = expected;
  FUZZ_CHECK(api::signature_matches(request, good, kSecret));
  for (int change = 0; change < 3; ++change) {
    net::HttpRequest tampered = request;
    (change == 0 ? tampered.body : change == 1 ? tampered.target : tampered.method) += "x";
    FUZZ_CHECK(!api::signature_matches(tampered, good, kSecret));
  }

  api::ReplayCache cache(4);
  FUZZ_CHECK(!cache.remember(headers, now, kSkew).has_value());
  FUZZ_CHECK(cache.remember(headers, now, kSkew) == api::AuthFailure::replayed_request);
  return 0;
}
