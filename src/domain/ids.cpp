#include "domain/ids.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include "crypto/crypto.hpp"

namespace tillgate::domain {
namespace {

constexpr std::size_t kMaxIdLength = 64;
constexpr std::size_t kMaxTransactionIdLength = 128;
constexpr std::size_t kUuidLength = 36;
constexpr std::size_t kPrefixedIdRandomBytes = 16;  // 128 bits -> 26 base32 chars
constexpr std::size_t kSecretRandomBytes = 32;      // 256 bits -> 52 base32 chars
constexpr std::size_t kTimeBytes = 6;               // 48-bit Unix milliseconds

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_hyphen_position(std::size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

bool is_valid_id(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdLength) {
    return false;
  }
  for (const char c : text) {
    if (!is_id_char(c)) {
      return false;
    }
  }
  return true;
}

std::string format_uuid(const std::string& bytes) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(kUuidLength);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out += '-';
    }
    const auto byte = static_cast<unsigned char>(bytes[i]);
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0F];
  }
  return out;
}

// Writes the Unix milliseconds of `at` (0 before 1970) over the first kTimeBytes of
// `bytes`, big-endian: what makes ids made later sort later.
void put_unix_ms(std::string& bytes, Timestamp at) {
  const std::int64_t millis = at.time_since_epoch().count();
  const std::uint64_t unix_ms = millis < 0 ? 0 : static_cast<std::uint64_t>(millis);
  for (std::size_t i = 0; i < kTimeBytes; ++i) {
    bytes[i] = static_cast<char>((unix_ms >> (8 * (kTimeBytes - 1 - i))) & 0xFF);
  }
}

}  // namespace

std::string uuid_v7(Timestamp at, std::string bits) {
  // RFC 9562 section 5.7: 48-bit Unix milliseconds, then version, then the other bits.
  if (bits.size() != 16) {
    throw std::invalid_argument("uuid_v7: 16 bytes are needed");
  }
  put_unix_ms(bits, at);
  bits[6] = static_cast<char>(0x70 | (static_cast<unsigned char>(bits[6]) & 0x0F));
  bits[8] = static_cast<char>(0x80 | (static_cast<unsigned char>(bits[8]) & 0x3F));
  return format_uuid(bits);
}

std::string new_uuid_v7(Timestamp at) {
  return uuid_v7(at, crypto::random_id_bytes(16));
}

bool is_uuid_v7(std::string_view text) {
  if (text.size() != kUuidLength) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_hyphen_position(i) ? text[i] != '-' : !is_lower_hex(text[i])) {
      return false;
    }
  }
  const char variant = text[19];
  return text[14] == '7' && (variant == '8' || variant == '9' || variant == 'a' || variant == 'b');
}

// merchant-api.md section 4 (v2): what Modulus's reference allows, printable ASCII.
bool is_valid_transaction_id(std::string_view text) {
  if (text.empty() || text.size() > kMaxTransactionIdLength) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '!' && c <= '~'; });
}

bool is_valid_device_id(std::string_view text) {
  return is_valid_id(text);
}

std::string new_prefixed_id(std::string_view prefix) {
  std::string out(prefix);
  out += crypto::base32_encode(crypto::random_id_bytes(kPrefixedIdRandomBytes));
  return out;
}

std::string new_time_ordered_id(std::string_view prefix, Timestamp at) {
  std::string bytes = crypto::random_id_bytes(kPrefixedIdRandomBytes);
  put_unix_ms(bytes, at);
  std::string out(prefix);
  out += crypto::base32_encode_sortable(bytes);
  return out;
}

Secret new_secret(std::string_view prefix) {
  std::string out(prefix);
  out += crypto::base32_encode(crypto::random_bytes(kSecretRandomBytes));
  return Secret(std::move(out));
}

}  // namespace tillgate::domain
