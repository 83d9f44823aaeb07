// domain::parse_iso8601: x-timestamp on every signed request, completedAt from terminals,
// list filters. Input: the timestamp text. Properties beyond "no crash, no sanitizer report":
//  - an accepted text has the documented shape (YYYY-MM-DDTHH:MM:SS, optional 1-9 fraction
//    digits, then Z or +HH:MM/-HH:MM) and nothing after it;
//  - canonical text ("...T..:..:..fffZ" with three fraction digits) formats back to itself;
//  - round trip: format_iso8601 of the instant parses back to the same instant, and the
//    formatted text is itself canonical;
//  - the fraction is truncated, never rounded: the milliseconds are its first three digits;
//  - the instant is the wall time minus the offset (checked against the same text in Z).
#include <cstddef>
#include <cstdint>
#include <string>

#include "domain/time.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace tillgate;

bool digits_at(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) {
    return false;
  }
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
  }
  return true;
}

// The shape check, independent of time.cpp: where the zone designator starts, or npos.
std::size_t zone_position(std::string_view text) {
  if (!digits_at(text, 0, 4) || text.size() < 20 || text[4] != '-' || !digits_at(text, 5, 2) ||
      text[7] != '-' || !digits_at(text, 8, 2) || text[10] != 'T' || !digits_at(text, 11, 2) ||
      text[13] != ':' || !digits_at(text, 14, 2) || text[16] != ':' || !digits_at(text, 17, 2)) {
    return std::string_view::npos;
  }
  std::size_t pos = 19;
  if (text[pos] == '.') {
    std::size_t digits = 0;
    while (digits_at(text, pos + 1 + digits, 1)) {
      ++digits;
    }
    if (digits == 0 || digits > 9) {
      return std::string_view::npos;
    }
    pos += 1 + digits;
  }
  return pos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const auto parsed = domain::parse_iso8601(text);
  if (!parsed) {
    return 0;
  }
  const std::size_t zone = zone_position(text);
  FUZZ_CHECK(zone != std::string_view::npos);
  const std::string_view designator = text.substr(zone);
  const bool utc = designator == "Z";
  FUZZ_CHECK(utc ||
             (designator.size() == 6 && (designator[0] == '+' || designator[0] == '-') &&
              digits_at(designator, 1, 2) && designator[3] == ':' && digits_at(designator, 4, 2)));

  // Truncated milliseconds: the first three fraction digits, padded with zeros.
  std::string millis = "000";
  if (text[19] == '.') {
    for (std::size_t i = 0; i < 3 && 20 + i < zone; ++i) {
      millis[i] = text[20 + i];
    }
  }
  // The same wall time in UTC: differs from the parsed instant by exactly the offset.
  const std::string as_utc = std::string(text.substr(0, 19)) + "." + millis + "Z";
  const auto wall = domain::parse_iso8601(as_utc);
  FUZZ_CHECK(wall.has_value());
  if (utc) {
    FUZZ_CHECK(*wall == *parsed);
  } else {
    const int sign = designator[0] == '-' ? -1 : 1;
    const int offset = sign * (((designator[1] - '0') * 10 + (designator[2] - '0')) * 60 +
                               (designator[4] - '0') * 10 + (designator[5] - '0'));
    FUZZ_CHECK(*wall - *parsed == std::chrono::minutes(offset));
  }

  const std::string formatted = domain::format_iso8601(*parsed);
  if (utc && zone == 23) {
    FUZZ_CHECK(formatted == text);
  }
  const auto again = domain::parse_iso8601(formatted);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(*again == *parsed);
  FUZZ_CHECK(domain::format_iso8601(*again) == formatted);
  return 0;
}
