#include "domain/time.hpp"

#include <charconv>
#include <cstdio>

namespace tillgate::domain {
namespace {

bool read_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) {
    return false;
  }
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

// Writes `value` as exactly `width` decimal digits ending just before `end`.
char* put_digits(char* end, unsigned value, int width) {
  for (int i = 0; i < width; ++i) {
    *--end = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return end;
}

}  // namespace

// Hand-written rather than snprintf: every payment answer, event and notification carries
// several timestamps, and snprintf's format parsing cost more than the rest of the view.
std::string format_iso8601(Timestamp at) {
  using namespace std::chrono;
  const auto day = floor<days>(at);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> time{at - day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year,
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                  static_cast<int>(time.seconds().count()),
                  static_cast<int>(time.subseconds().count()));
    return buffer;
  }
  std::string text("0000-00-00T00:00:00.000Z");
  char* const base = text.data();
  put_digits(base + 4, static_cast<unsigned>(year), 4);
  put_digits(base + 7, static_cast<unsigned>(ymd.month()), 2);
  put_digits(base + 10, static_cast<unsigned>(ymd.day()), 2);
  put_digits(base + 13, static_cast<unsigned>(time.hours().count()), 2);
  put_digits(base + 16, static_cast<unsigned>(time.minutes().count()), 2);
  put_digits(base + 19, static_cast<unsigned>(time.seconds().count()), 2);
  put_digits(base + 23, static_cast<unsigned>(time.subseconds().count()), 3);
  return text;
}

std::optional<Timestamp> parse_iso8601(std::string_view text) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 20 || !read_digits(text, 0, 4, y) || text[4] != '-' ||
      !read_digits(text, 5, 2, mo) || text[7] != '-' || !read_digits(text, 8, 2, d) ||
      text[10] != 'T' || !read_digits(text, 11, 2, h) || text[13] != ':' ||
      !read_digits(text, 14, 2, mi) || text[16] != ':' || !read_digits(text, 17, 2, s)) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  int millis = 0;
  if (text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - start < 3) {
        millis = millis * 10 + (text[pos] - '0');
      }
      ++pos;
    }
    const std::size_t digits = pos - start;
    if (digits == 0 || digits > 9) {
      return std::nullopt;
    }
    for (std::size_t i = digits; i < 3; ++i) {
      millis *= 10;
    }
  }
  int offset_minutes = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0, om = 0;
    if (!read_digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !read_digits(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size() || h > 23 || mi > 59 || s > 59) {
    return std::nullopt;
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  const Timestamp at{sys_days{ymd}.time_since_epoch() + hours{h} + minutes{mi} + seconds{s} +
                     milliseconds{millis} - minutes{offset_minutes}};
  // An offset can carry 0000-01-01 back into year -1, or 9999-12-31 on into year 10000:
  // instants format_iso8601 cannot write as four-digit years, so refused like any other.
  constexpr sys_days first_day{year{0} / January / 1};
  constexpr sys_days end_day{year{10000} / January / 1};
  if (at < first_day || at >= end_day) {
    return std::nullopt;
  }
  return at;
}

Timestamp SystemClock::now() const {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace tillgate::domain
