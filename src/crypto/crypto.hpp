#pragma once
// Thin, typed wrappers over OpenSSL for the primitives the gateway uses.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tillgate::crypto {

// All digests/MACs return raw bytes in a std::string; encode them for display.
[[nodiscard]] std::string sha256(std::string_view data);
[[nodiscard]] std::string sha256_hex(std::string_view data);  // lower-case hex
[[nodiscard]] std::string hmac_sha256(std::string_view key, std::string_view message);

// HMAC-SHA256 under one key for many messages (a client signing each of its requests with
// its secret): the key's two pads are prepared once, here, and each mac() is two SHA-256
// digests. hmac_sha256(key, message) is HmacSha256Key(key).mac(message). The pads are
// wiped when the key object goes; throws std::runtime_error if OpenSSL fails.
class HmacSha256Key {
 public:
  static constexpr std::size_t kBlockBytes = 64;  // SHA-256's block

  explicit HmacSha256Key(std::string_view key);
  ~HmacSha256Key();
  HmacSha256Key(const HmacSha256Key&) = delete;
  HmacSha256Key& operator=(const HmacSha256Key&) = delete;

  [[nodiscard]] std::string mac(std::string_view message) const;

 private:
  std::array<unsigned char, kBlockBytes> inner_pad_{};
  std::array<unsigned char, kBlockBytes> outer_pad_{};
};

[[nodiscard]] std::string hex_encode(std::string_view bytes);     // lower case
[[nodiscard]] std::string base64_encode(std::string_view bytes);  // standard alphabet, padded
// Standard alphabet, padding required; nullopt on any invalid character or length.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);
[[nodiscard]] std::string base64url_encode(std::string_view bytes);  // no padding (JWT form)
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view text);
// RFC 4648 base32, lower case, no padding.
[[nodiscard]] std::string base32_encode(std::string_view bytes);
// The same characters, mapped in ASCII order ("234567a...z"): texts of equal length sort
// as the bytes they encode do (time-ordered ids).
[[nodiscard]] std::string base32_encode_sortable(std::string_view bytes);

// Compares in time that depends only on the lengths, never on where the bytes differ.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b);

// Bytes from OpenSSL's CSPRNG; throws std::runtime_error if it cannot deliver.
[[nodiscard]] std::string random_bytes(std::size_t count);
// The same, for ids (not secrets): served from a small per-thread block that one
// RAND_bytes call fills (kIdRandomBlockBytes), instead of a call per id, each of which
// costs OpenSSL's DRBG setup and a getpid(2) for its fork check. Ids are unguessable as
// before; what a block holds is a few ids to come, never a secret. At most the block's
// size at a time.
inline constexpr std::size_t kIdRandomBlockBytes = 512;
[[nodiscard]] std::string random_id_bytes(std::size_t count);

}  // namespace tillgate::crypto
