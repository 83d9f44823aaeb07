#include "crypto/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <stdexcept>

namespace tillgate::crypto {
namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kBase32Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
// The same 32 characters in ASCII order.
constexpr std::string_view kSortableBase32Alphabet = "234567abcdefghijklmnopqrstuvwxyz";

constexpr std::uint8_t kInvalid = 0xFF;
using DecodeTable = std::array<std::uint8_t, 256>;

constexpr DecodeTable make_decode_table(std::string_view alphabet) {
  DecodeTable table{};
  table.fill(kInvalid);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return table;
}

constexpr DecodeTable kBase64Decode = make_decode_table(kBase64Alphabet);
constexpr DecodeTable kBase64UrlDecode = make_decode_table(kBase64UrlAlphabet);

const unsigned char* as_bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* as_bytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

std::string encode_base64_with(std::string_view bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                                (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                                std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out += alphabet[(group >> 18) & 0x3F];
    out += alphabet[(group >> 12) & 0x3F];
    out += alphabet[(group >> 6) & 0x3F];
    out += alphabet[group & 0x3F];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) {
    return out;
  }
  std::uint32_t group = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
  if (rest == 2) {
    group |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
  }
  out += alphabet[(group >> 18) & 0x3F];
  out += alphabet[(group >> 12) & 0x3F];
  if (rest == 2) {
    out += alphabet[(group >> 6) & 0x3F];
  }
  if (pad) {
    out.append(3 - rest, '=');
  }
  return out;
}

// Decodes unpadded base64 digits. Leftover bits must be zero so every byte string has
// exactly one accepted encoding (a signature cannot be varied without changing bytes).
std::optional<std::string> decode_base64_digits(std::string_view text, const DecodeTable& table) {
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const std::uint8_t digit = table[static_cast<unsigned char>(c)];
    if (digit == kInvalid) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if ((buffer & ((1U << bits) - 1)) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::string sha256(std::string_view data) {
  std::string out(static_cast<std::size_t>(EVP_MAX_MD_SIZE), '\0');
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), as_bytes(out), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest(SHA-256) failed");
  }
  out.resize(length);
  return out;
}

std::string sha256_hex(std::string_view data) {
  return hex_encode(sha256(data));
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  if (key.size() > static_cast<std::size_t>(INT_MAX)) {
    throw std::length_error("HMAC key too long");
  }
  // OpenSSL refuses a null key pointer even with length 0; an empty key is still valid HMAC.
  static constexpr unsigned char kEmpty = 0;
  const unsigned char* key_bytes = key.empty() ? &kEmpty : as_bytes(key);
  std::string out(static_cast<std::size_t>(EVP_MAX_MD_SIZE), '\0');
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), as_bytes(message), message.size(),
           as_bytes(out), &length) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  out.resize(length);
  return out;
}

struct HmacSha256Key::Impl {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* context = nullptr;
  ~Impl() {
    EVP_MAC_CTX_free(context);
    EVP_MAC_free(mac);
  }
};

HmacSha256Key::HmacSha256Key(std::string_view key) : impl_(std::make_unique<Impl>()) {
  // The empty key as hmac_sha256 gives it: a valid pointer, no bytes (a null key would
  // mean "keep the key set before").
  static constexpr unsigned char kEmpty = 0;
  const unsigned char* key_bytes = key.empty() ? &kEmpty : as_bytes(key);
  char digest[] = "SHA256";
  const std::array<OSSL_PARAM, 2> params{
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  impl_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  impl_->context = impl_->mac != nullptr ? EVP_MAC_CTX_new(impl_->mac) : nullptr;
  if (impl_->context == nullptr ||
      EVP_MAC_init(impl_->context, key_bytes, key.size(), params.data()) != 1) {
    throw std::runtime_error("HMAC-SHA256 key setup failed");
  }
}

HmacSha256Key::~HmacSha256Key() = default;

std::string HmacSha256Key::mac(std::string_view message) {
  std::string out(static_cast<std::size_t>(EVP_MAX_MD_SIZE), '\0');
  std::size_t length = 0;
  // A null key re-initialises the context with the key it holds.
  if (EVP_MAC_init(impl_->context, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(impl_->context, as_bytes(message), message.size()) != 1 ||
      EVP_MAC_final(impl_->context, as_bytes(out), &length, out.size()) != 1) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  out.resize(length);
  return out;
}

std::string hex_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += kHexDigits[byte >> 4];
    out += kHexDigits[byte & 0x0F];
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  return encode_base64_with(bytes, kBase64Alphabet, true);
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  // Any '=' left in the digits (a third pad, or one in the middle) is rejected there.
  return decode_base64_digits(text.substr(0, text.size() - padding), kBase64Decode);
}

std::string base64url_encode(std::string_view bytes) {
  return encode_base64_with(bytes, kBase64UrlAlphabet, false);
}

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode_base64_digits(text, kBase64UrlDecode);
}

namespace {

std::string encode_base32(std::string_view bytes, std::string_view alphabet) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += alphabet[(buffer >> bits) & 0x1F];
    }
  }
  if (bits > 0) {
    out += alphabet[(buffer << (5 - bits)) & 0x1F];
  }
  return out;
}

}  // namespace

std::string base32_encode(std::string_view bytes) {
  return encode_base32(bytes, kBase32Alphabet);
}

std::string base32_encode_sortable(std::string_view bytes) {
  return encode_base32(bytes, kSortableBase32Alphabet);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    // Still touch every byte once so the time depends on the lengths alone.
    static_cast<void>(CRYPTO_memcmp(a.data(), a.data(), a.size()));
    return false;
  }
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t count) {
  std::string out(count, '\0');
  std::size_t filled = 0;
  while (filled < count) {
    const std::size_t chunk = std::min<std::size_t>(count - filled, INT_MAX);
    if (RAND_bytes(as_bytes(out) + filled, static_cast<int>(chunk)) != 1) {
      throw std::runtime_error("RAND_bytes failed");
    }
    filled += chunk;
  }
  return out;
}

std::string random_id_bytes(std::size_t count) {
  if (count > kIdRandomBlockBytes) {
    throw std::invalid_argument("random_id_bytes: more than one block asked for");
  }
  thread_local std::array<unsigned char, kIdRandomBlockBytes> block{};
  thread_local std::size_t used = kIdRandomBlockBytes;
  if (kIdRandomBlockBytes - used < count) {
    if (RAND_bytes(block.data(), static_cast<int>(block.size())) != 1) {
      throw std::runtime_error("RAND_bytes failed");
    }
    used = 0;
  }
  std::string out(reinterpret_cast<const char*>(block.data() + used), count);
  // Served bytes are wiped, so the block never holds an id already given out.
  OPENSSL_cleanse(block.data() + used, count);
  used += count;
  return out;
}

}  // namespace tillgate::crypto
