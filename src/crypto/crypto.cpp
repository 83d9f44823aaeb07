#include "crypto/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <memory>
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

namespace {

constexpr std::size_t kSha256Bytes = 32;

// SHA-256 fetched from the provider once: EVP_sha256() is a handle that OpenSSL 3 looks up
// again on every digest it starts.
const EVP_MD* sha256_algorithm() {
  static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  if (algorithm == nullptr) {
    throw std::runtime_error("OpenSSL has no SHA2-256");
  }
  return algorithm;
}

// One digest context per thread, started again for each digest instead of allocated.
EVP_MD_CTX* thread_digest_context() {
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context) {
    throw std::runtime_error("EVP_MD_CTX_new failed");
  }
  return context.get();
}

// SHA-256 of the concatenation of `first` and `second` into `out`.
void sha256_into(std::string_view first, std::string_view second,
                 std::array<unsigned char, kSha256Bytes>& out) {
  EVP_MD_CTX* context = thread_digest_context();
  unsigned int length = 0;
  if (EVP_DigestInit_ex2(context, sha256_algorithm(), nullptr) != 1 ||
      EVP_DigestUpdate(context, first.data(), first.size()) != 1 ||
      EVP_DigestUpdate(context, second.data(), second.size()) != 1 ||
      EVP_DigestFinal_ex(context, out.data(), &length) != 1 || length != kSha256Bytes) {
    throw std::runtime_error("SHA-256 failed");
  }
}

std::string_view as_text(const unsigned char* bytes, std::size_t size) {
  return {reinterpret_cast<const char*>(bytes), size};
}

}  // namespace

std::string sha256(std::string_view data) {
  std::array<unsigned char, kSha256Bytes> digest{};
  sha256_into(data, {}, digest);
  return std::string(as_text(digest.data(), digest.size()));
}

std::string sha256_hex(std::string_view data) {
  return hex_encode(sha256(data));
}

// HMAC (RFC 2104) over the thread's SHA-256 context: two digests, without the MAC object,
// parameters and provider lookups OpenSSL 3's HMAC() sets up and frees on every call.
HmacSha256Key::HmacSha256Key(std::string_view key) {
  std::array<unsigned char, kSha256Bytes> hashed_key{};
  if (key.size() > HmacSha256Key::kBlockBytes) {
    sha256_into(key, {}, hashed_key);
    key = as_text(hashed_key.data(), hashed_key.size());
  }
  for (std::size_t i = 0; i < HmacSha256Key::kBlockBytes; ++i) {
    const auto byte = i < key.size() ? static_cast<unsigned char>(key[i]) : 0U;
    inner_pad_[i] = static_cast<unsigned char>(byte ^ 0x36U);
    outer_pad_[i] = static_cast<unsigned char>(byte ^ 0x5cU);
  }
  OPENSSL_cleanse(hashed_key.data(), hashed_key.size());
}

HmacSha256Key::~HmacSha256Key() {
  OPENSSL_cleanse(inner_pad_.data(), inner_pad_.size());
  OPENSSL_cleanse(outer_pad_.data(), outer_pad_.size());
}

std::string HmacSha256Key::mac(std::string_view message) const {
  std::array<unsigned char, kSha256Bytes> inner{};
  sha256_into(as_text(inner_pad_.data(), inner_pad_.size()), message, inner);
  std::array<unsigned char, kSha256Bytes> mac{};
  sha256_into(as_text(outer_pad_.data(), outer_pad_.size()), as_text(inner.data(), inner.size()),
              mac);
  return std::string(as_text(mac.data(), mac.size()));
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  return HmacSha256Key(key).mac(message);
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
