#pragma once
// Eight bytes of string content at a time (internal to the json layer): whether any of
// them needs escaping in a JSON string, so that the writer steps over runs of plain text
// a word at a time instead of a byte at a time. (The parser's strings are mostly short
// keys, where the word test cost more than it saved: callgrind, 2026-12-07.)

#include <cstdint>
#include <cstring>
#include <string_view>

namespace tillgate::json::detail {

inline constexpr std::size_t kWordBytes = 8;

// True when one of the 8 bytes at `at` is a control character (< 0x20), '"' or '\\'
// (bytes >= 0x80, of UTF-8 sequences, are written as they are). Exact: each test below is
// the "some byte is zero / less than n" word trick, which has no false positives when
// asked whether any byte matches.
[[nodiscard]] inline bool word_needs_escaping(const char* at) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  std::uint64_t word = 0;
  std::memcpy(&word, at, kWordBytes);
  const auto has_zero_byte = [](std::uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  const std::uint64_t control = (word - kOnes * 0x20U) & ~word & kHighs;
  const std::uint64_t quote = has_zero_byte(word ^ (kOnes * static_cast<unsigned char>('"')));
  const std::uint64_t backslash = has_zero_byte(word ^ (kOnes * static_cast<unsigned char>('\\')));
  return (control | quote | backslash) != 0;
}

}  // namespace tillgate::json::detail
