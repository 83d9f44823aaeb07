#include "domain/money.hpp"

#include <cassert>
#include <limits>
#include <stdexcept>

namespace tillgate::domain {
namespace {

// A decimal split into its parts, each holding only ASCII digits.
struct Decimal {
  bool negative = false;
  std::string_view integer;
  std::string_view fraction;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool all_digits(std::string_view text) {
  for (const char c : text) {
    if (!is_digit(c)) {
      return false;
    }
  }
  return true;
}

// Unicode White_Space, ASCII and UTF-8 encoded: a pasted no-break space is as much a
// formatting slip as a plain one, and deserves the same answer.
bool is_whitespace_at(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) -> unsigned {
    return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0U;
  };
  const unsigned c = byte(0);
  if (c == ' ' || (c >= 0x09 && c <= 0x0D)) {
    return true;
  }
  switch (c) {
    case 0xC2:  // U+0085, U+00A0
      return byte(1) == 0x85 || byte(1) == 0xA0;
    case 0xE1:  // U+1680
      return byte(1) == 0x9A && byte(2) == 0x80;
    case 0xE2:  // U+2000..U+200A, U+2028, U+2029, U+202F, U+205F
      if (byte(1) == 0x80) {
        const unsigned d = byte(2);
        return (d >= 0x80 && d <= 0x8A) || d == 0xA8 || d == 0xA9 || d == 0xAF;
      }
      return byte(1) == 0x81 && byte(2) == 0x9F;
    case 0xE3:  // U+3000
      return byte(1) == 0x80 && byte(2) == 0x80;
    default:
      return false;
  }
}

bool contains_whitespace(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_whitespace_at(text, i)) {
      return true;
    }
  }
  return false;
}

// "1e3", "-2.5E-1", "1e": digits written in exponent form, which deserve a precise
// error rather than a generic one.
bool looks_like_exponent(std::string_view text) {
  const std::size_t e = text.find_first_of("eE");
  if (e == std::string_view::npos) {
    return false;
  }
  std::string_view mantissa = text.substr(0, e);
  std::string_view exponent = text.substr(e + 1);
  if (!mantissa.empty() && mantissa.front() == '-') {
    mantissa.remove_prefix(1);
  }
  bool has_digit = false;
  for (const char c : mantissa) {
    if (is_digit(c)) {
      has_digit = true;
    } else if (c != '.') {
      return false;
    }
  }
  if (!exponent.empty() && (exponent.front() == '+' || exponent.front() == '-')) {
    exponent.remove_prefix(1);
  }
  return has_digit && all_digits(exponent);
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?
std::optional<Decimal> split_plain_decimal(std::string_view text) {
  Decimal decimal;
  if (!text.empty() && text.front() == '-') {
    decimal.negative = true;
    text.remove_prefix(1);
  }
  const std::size_t dot = text.find('.');
  decimal.integer = text.substr(0, dot);
  if (dot != std::string_view::npos) {
    decimal.fraction = text.substr(dot + 1);
    if (decimal.fraction.empty() || !all_digits(decimal.fraction)) {
      return std::nullopt;
    }
  }
  if (decimal.integer.empty() || !all_digits(decimal.integer) ||
      (decimal.integer.size() > 1 && decimal.integer.front() == '0')) {
    return std::nullopt;
  }
  return decimal;
}

// From the first non-zero digit to the last digit written, trailing zeros included: they
// claim a precision the amount must be able to carry.
std::size_t significant_digits(const Decimal& decimal) {
  const std::size_t total = decimal.integer.size() + decimal.fraction.size();
  std::size_t leading_zeros = 0;
  for (const std::string_view part : {decimal.integer, decimal.fraction}) {
    for (const char c : part) {
      if (c != '0') {
        return total - leading_zeros;
      }
      ++leading_zeros;
    }
  }
  return 0;
}

// Checks run in the order the API documents, so each input gets the one most useful error.
std::optional<AmountError> lexical_error(std::string_view text) {
  if (text.empty()) {
    return AmountError::empty;
  }
  if (contains_whitespace(text)) {
    return AmountError::whitespace;
  }
  if (text.front() == '+') {
    return AmountError::leading_plus;
  }
  if (looks_like_exponent(text)) {
    return AmountError::exponent;
  }
  return std::nullopt;
}

// At most 15 significant digits of minor units stay far below 2^63; the range check is
// kept as a guard, and would report too many digits.
std::optional<std::int64_t> to_minor_units(const Decimal& decimal, int minor_digits) {
  std::uint64_t value = 0;
  for (const std::string_view part : {decimal.integer, decimal.fraction}) {
    for (const char c : part) {
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
  }
  for (auto pad = static_cast<std::size_t>(minor_digits); pad > decimal.fraction.size(); --pad) {
    value *= 10;
  }
  if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(value);
}

}  // namespace

std::string_view describe(AmountError error) {
  switch (error) {
    case AmountError::empty:
      return "must not be empty";
    case AmountError::syntax:
      return "must be a plain decimal number of major units, such as \"99.99\"";
    case AmountError::exponent:
      return "must not use exponent notation; write the digits out, such as \"1000\"";
    case AmountError::leading_plus:
      return "must not start with '+'";
    case AmountError::whitespace:
      return "must not contain spaces or other whitespace";
    case AmountError::too_many_decimals:
      return "must have at most the currency's number of decimal places";
    case AmountError::too_many_digits:
      return "must have at most 15 significant digits";
    case AmountError::not_positive:
      return "must be greater than zero";
  }
  return "is not a valid amount";
}

void throw_exception_from_error(AmountError error, const boost::source_location&) {
  throw std::invalid_argument(std::string("amount ") + std::string(describe(error)));
}

boost::system::result<Money, AmountError> Money::parse(std::string_view major_units,
                                                       Currency currency) {
  if (const auto error = lexical_error(major_units)) {
    return *error;
  }
  const auto decimal = split_plain_decimal(major_units);
  if (!decimal) {
    return AmountError::syntax;
  }
  if (decimal->fraction.size() > static_cast<std::size_t>(currency.minor_digits)) {
    return AmountError::too_many_decimals;
  }
  // Counted as the amount is held and answered, with the currency's decimals written out:
  // "123456789012345" USD would be answered "123456789012345.00", 17 digits that no parse
  // reads back. Zero has no significant digit whatever its padding.
  std::size_t significant = significant_digits(*decimal);
  if (significant > 0) {
    significant += static_cast<std::size_t>(currency.minor_digits) - decimal->fraction.size();
  }
  if (significant > static_cast<std::size_t>(max_significant_digits)) {
    return AmountError::too_many_digits;
  }
  if (decimal->negative || significant == 0) {
    return AmountError::not_positive;
  }
  const auto minor_units = to_minor_units(*decimal, currency.minor_digits);
  if (!minor_units) {
    return AmountError::too_many_digits;
  }
  return Money(*minor_units, currency);
}

Money Money::from_minor_units(std::int64_t minor_units, Currency currency) {
  assert(minor_units > 0 && "stored amounts are positive");
  return Money(minor_units, currency);
}

std::string Money::to_major_string() const {
  // The magnitude as unsigned, so even a (precondition-breaking) INT64_MIN prints correctly.
  const bool negative = minor_units_ < 0;
  const std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(minor_units_)
                                           : static_cast<std::uint64_t>(minor_units_);
  std::string digits = std::to_string(magnitude);
  const auto scale = static_cast<std::size_t>(currency_.minor_digits);
  if (scale > 0) {
    if (digits.size() <= scale) {
      digits.insert(0, scale + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - scale, 1, '.');
  }
  return negative ? "-" + digits : digits;
}

}  // namespace tillgate::domain
