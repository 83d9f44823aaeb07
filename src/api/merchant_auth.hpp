#pragma once
// Merchant request authentication, HMAC-SHA256 (merchant-api.md section 1): the pure
// steps (MerchantAuthenticator runs them with the API key from the store). No Asio here:
// the fuzz targets build this file alone.
#include <chrono>
#include <cstddef>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "api/auth_input.hpp"
#include "domain/time.hpp"

namespace tillgate::api {

enum class AuthFailure {
  unauthorized,       // missing header, unknown or revoked key
  invalid_signature,  // the signature does not match
  timestamp_expired,  // outside the skew window, or unparseable
  replayed_request,   // this exact signature was already accepted within the window
  replay_cache_full,  // cannot remember more signatures: refuse rather than allow replays
};

struct SignedHeaders {
  std::string api_key;
  std::string timestamp;  // verbatim, as signed
  std::string signature;  // base64
  domain::Timestamp signed_at;
};

// Step 1: the three headers are present and the timestamp is inside the window.
[[nodiscard]] std::optional<AuthFailure> read_signed_headers(const AuthInput& input,
                                                             domain::Timestamp now,
                                                             std::chrono::seconds skew,
                                                             SignedHeaders& out);

// METHOD \n TARGET \n TIMESTAMP \n hex(sha256(BODY))
[[nodiscard]] std::string string_to_sign(std::string_view method, std::string_view target,
                                         std::string_view timestamp, std::string_view body);

// Step 2: the signature matches, compared in constant time.
[[nodiscard]] bool signature_matches(const AuthInput& input, const SignedHeaders& headers,
                                     std::string_view api_secret);
// The same, for a string to sign made earlier.
[[nodiscard]] bool signature_matches(std::string_view text_to_sign, std::string_view signature,
                                     std::string_view api_secret);

// Step 3 (api/replay_guard.hpp chooses where): each accepted signature is remembered by
// this digest (SHA-256 of the API key and the signature: fixed size, and no signature kept)
// until this instant, after which its timestamp is outside the window and the request is
// refused anyway.
[[nodiscard]] std::string replay_digest(const SignedHeaders& headers);
[[nodiscard]] domain::Timestamp replay_expiry(const SignedHeaders& headers,
                                              std::chrono::seconds skew);

// Step 3 on one node: remembers accepted signatures in memory until their timestamp leaves
// the window, so each can be used once. Bounded: when full of live entries it refuses new
// ones.
class ReplayCache {
 public:
  explicit ReplayCache(std::size_t max_entries) : max_entries_(max_entries) {}
  // nullopt when accepted and remembered; otherwise why not.
  [[nodiscard]] std::optional<AuthFailure> remember(const SignedHeaders& headers,
                                                    domain::Timestamp now,
                                                    std::chrono::seconds skew);
  [[nodiscard]] std::size_t size() const { return seen_.size(); }

 private:
  struct Entry {
    domain::Timestamp forget_at;
    std::string digest;
    bool operator>(const Entry& other) const { return forget_at > other.forget_at; }
  };
  void forget_expired(domain::Timestamp now);

  std::size_t max_entries_;
  std::unordered_set<std::string> seen_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> expiry_;
};

}  // namespace tillgate::api
