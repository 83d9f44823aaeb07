#include "webhooks/address_policy.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace tillgate::webhooks {
namespace {

bool in_v4(std::uint32_t address, std::uint32_t network, int prefix) {
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (address & mask) == (network & mask);
}

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

bool is_public_v4(std::uint32_t address) {
  struct Range {
    std::uint32_t network;
    int prefix;
  };
  constexpr std::array<Range, 11> kNotPublic{{
      {v4(0, 0, 0, 0), 8},
      {v4(10, 0, 0, 0), 8},
      {v4(100, 64, 0, 0), 10},
      {v4(127, 0, 0, 0), 8},
      {v4(169, 254, 0, 0), 16},
      {v4(172, 16, 0, 0), 12},
      {v4(192, 0, 0, 0), 24},
      {v4(192, 168, 0, 0), 16},
      {v4(198, 18, 0, 0), 15},
      {v4(224, 0, 0, 0), 4},
      {v4(240, 0, 0, 0), 4},
  }};
  for (const auto& range : kNotPublic) {
    if (in_v4(address, range.network, range.prefix)) {
      return false;
    }
  }
  return true;
}

std::uint32_t v4_at(const unsigned char* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

bool starts_with_bytes(const unsigned char* bytes, std::initializer_list<unsigned char> prefix) {
  std::size_t i = 0;
  for (const auto byte : prefix) {
    if (bytes[i++] != byte) {
      return false;
    }
  }
  return true;
}

bool is_public_v6(const unsigned char* b) {
  static constexpr std::array<unsigned char, 12> kZero12{};
  static constexpr std::array<unsigned char, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr std::array<unsigned char, 12> kNat64{0x00, 0x64, 0xff, 0x9b, 0, 0,
                                                        0,    0,    0,    0,    0, 0};
  if (std::memcmp(b, kZero12.data(), 12) == 0) {
    // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d: all by the IPv4 rule (:: and
    // ::1 fall in 0.0.0.0/8).
    return is_public_v4(v4_at(b + 12));
  }
  if (std::memcmp(b, kMapped.data(), 12) == 0 || std::memcmp(b, kNat64.data(), 12) == 0) {
    return is_public_v4(v4_at(b + 12));
  }
  if ((b[0] & 0xfe) == 0xfc) {  // fc00::/7
    return false;
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {  // fe80::/10
    return false;
  }
  if (b[0] == 0xff) {  // ff00::/8
    return false;
  }
  if (starts_with_bytes(b, {0x01, 0x00, 0, 0, 0, 0, 0, 0})) {  // 100::/64
    return false;
  }
  if (starts_with_bytes(b, {0x20, 0x01, 0x0d, 0xb8})) {  // 2001:db8::/32
    return false;
  }
  return true;
}

}  // namespace

bool is_public_address(std::string_view address) {
  std::string text(address);
  // A scoped IPv6 address (fe80::1%eth0) is link-local by construction.
  if (text.find('%') != std::string::npos) {
    return false;
  }
  unsigned char bytes[16];
  if (::inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    return is_public_v4(v4_at(bytes));
  }
  if (::inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    return is_public_v6(bytes);
  }
  return false;
}

}  // namespace tillgate::webhooks
