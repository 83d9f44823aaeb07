#include "client/request_signer.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>

#include "crypto/crypto.hpp"
#include "domain/time.hpp"

namespace tillgate::client {

std::string string_to_sign(std::string_view method, std::string_view target,
                           std::string_view timestamp, std::string_view body) {
  std::string out;
  out.reserve(method.size() + target.size() + timestamp.size() + 67);
  out.append(method).append("\n").append(target).append("\n").append(timestamp).append("\n");
  out.append(crypto::sha256_hex(body));
  return out;
}

std::string compute_signature(std::string_view api_secret, std::string_view method,
                              std::string_view target, std::string_view timestamp,
                              std::string_view body) {
  return crypto::base64_encode(
      crypto::hmac_sha256(api_secret, string_to_sign(method, target, timestamp, body)));
}

std::string next_signing_timestamp() {
  static std::mutex mutex;
  static domain::Timestamp last{};
  auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  {
    const std::lock_guard lock(mutex);
    now = std::max(now, last + std::chrono::milliseconds(1));
    last = now;
  }
  return domain::format_iso8601(now);
}

namespace {

std::string stamp_or_next(std::string_view timestamp) {
  return timestamp.empty() ? next_signing_timestamp() : std::string(timestamp);
}

HeaderList signature_headers(const MerchantCredentials& credentials, std::string stamp,
                             std::string signature) {
  return {{"x-api-key", credentials.api_key},
          {"x-timestamp", std::move(stamp)},
          {"x-signature", std::move(signature)}};
}

}  // namespace

HeaderList sign_request(const MerchantCredentials& credentials, std::string_view method,
                        std::string_view target, std::string_view body,
                        std::string_view timestamp) {
  std::string stamp = stamp_or_next(timestamp);
  std::string signature = compute_signature(credentials.api_secret, method, target, stamp, body);
  return signature_headers(credentials, std::move(stamp), std::move(signature));
}

RequestSigner::RequestSigner(MerchantCredentials credentials)
    : credentials_(std::move(credentials)), key_(credentials_.api_secret) {}

HeaderList RequestSigner::sign(std::string_view method, std::string_view target,
                               std::string_view body, std::string_view timestamp) {
  std::string stamp = stamp_or_next(timestamp);
  std::string signature =
      crypto::base64_encode(key_.mac(string_to_sign(method, target, stamp, body)));
  return signature_headers(credentials_, std::move(stamp), std::move(signature));
}

HttpResponse send_signed(HttpClient& client, const MerchantCredentials& credentials,
                         std::string_view method, std::string_view target, std::string_view body,
                         const HeaderList& extra_headers) {
  auto headers = sign_request(credentials, method, target, body);
  headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
  return client.request(method, target, body, headers);
}

}  // namespace tillgate::client
