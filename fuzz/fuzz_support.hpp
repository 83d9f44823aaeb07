#pragma once
// What the fuzz targets share: a fatal property check, the fixed clock, and the split of an
// input into a few text fields (docs/fuzzing.md says which field is which per target).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time.hpp"

namespace tillgate::fuzz {

// A property the code must keep on every input. A violation prints the property and aborts,
// so libFuzzer reports it as a crash and saves the input.
[[noreturn]] inline void property_violated(const char* property, const char* file, int line) {
  std::fprintf(stderr, "\n==== property violated: %s (%s:%d)\n", property, file, line);
  std::abort();
}

#define FUZZ_CHECK(condition)                                              \
  do {                                                                     \
    if (!(condition)) {                                                    \
      ::tillgate::fuzz::property_violated(#condition, __FILE__, __LINE__); \
    }                                                                      \
  } while (false)

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The first `count - 1` fields end at a '\n'; the last field is the rest, newlines and all.
// Missing fields are empty. Seeds stay readable: one field a line, the body last.
inline std::vector<std::string_view> split_fields(std::string_view text, std::size_t count) {
  std::vector<std::string_view> fields;
  fields.reserve(count);
  while (fields.size() + 1 < count) {
    const auto newline = text.find('\n');
    if (newline == std::string_view::npos) {
      fields.push_back(text);
      text = {};
      continue;
    }
    fields.push_back(text.substr(0, newline));
    text.remove_prefix(newline + 1);
  }
  fields.push_back(text);
  return fields;
}

// The instant every target takes as "now": 2024-01-15T10:30:00Z, the specs' example time.
inline domain::Timestamp fixed_now() {
  return domain::Timestamp{std::chrono::milliseconds{1705314600000}};
}

inline bool is_printable_ascii(std::string_view text) {
  for (const char c : text) {
    if (c < 0x20 || c > 0x7E) {
      return false;
    }
  }
  return true;
}

}  // namespace tillgate::fuzz
