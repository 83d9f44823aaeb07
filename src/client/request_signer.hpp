#pragma once
// Signs merchant API requests (merchant-api.md section 1):
//   string_to_sign = METHOD "\n" PATH[?query] "\n" TIMESTAMP "\n" hex(sha256(BODY))
//   x-signature    = base64(hmac_sha256(api_secret, string_to_sign))
#include <string>
#include <string_view>

#include "client/http_client.hpp"
#include "crypto/crypto.hpp"

namespace tillgate::client {

struct MerchantCredentials {
  std::string api_key;
  std::string api_secret;
};

[[nodiscard]] std::string string_to_sign(std::string_view method, std::string_view target,
                                         std::string_view timestamp, std::string_view body);

[[nodiscard]] std::string compute_signature(std::string_view api_secret, std::string_view method,
                                            std::string_view target, std::string_view timestamp,
                                            std::string_view body);

// The current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ", strictly increasing within this
// process: two identical requests signed in the same millisecond would otherwise carry
// the same signature and the second would be refused as a replay.
[[nodiscard]] std::string next_signing_timestamp();

// x-api-key, x-timestamp and x-signature for this request. An empty `timestamp` means
// next_signing_timestamp().
[[nodiscard]] HeaderList sign_request(const MerchantCredentials& credentials,
                                      std::string_view method, std::string_view target,
                                      std::string_view body, std::string_view timestamp = {});

// Signs many requests with one merchant's credentials (the load generator signs every
// payment): the API secret's HMAC key is prepared once (crypto::HmacSha256Key). The same
// headers as sign_request with the same credentials and timestamp. Not thread-safe.
class RequestSigner {
 public:
  explicit RequestSigner(MerchantCredentials credentials);

  // x-api-key, x-timestamp and x-signature; an empty `timestamp` means
  // next_signing_timestamp().
  [[nodiscard]] HeaderList sign(std::string_view method, std::string_view target,
                                std::string_view body, std::string_view timestamp = {});

 private:
  MerchantCredentials credentials_;
  crypto::HmacSha256Key key_;
};

// Signs and sends; `extra_headers` are added after the signature headers.
HttpResponse send_signed(HttpClient& client, const MerchantCredentials& credentials,
                         std::string_view method, std::string_view target,
                         std::string_view body = {}, const HeaderList& extra_headers = {});

}  // namespace tillgate::client
