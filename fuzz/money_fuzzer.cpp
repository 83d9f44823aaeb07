// domain::Money::parse, the one amount grammar of both APIs (merchant-api.md section 3).
// Input: one byte choosing the currency (USD, JPY, KWD, CLF, NGN, BHD, UYW, EUR), then the
// amount text. Properties beyond "no crash, no sanitizer report":
//  - parse agrees with an independent reading of the grammar: a plain decimal
//    (0|[1-9][0-9]*)(.[0-9]+)?, no sign, at most the currency's decimals, at most 15
//    significant digits once the currency's decimals are written out (as the amount is
//    answered), above zero; accepted exactly when that reading accepts, with the same count
//    of minor units;
//  - round trip: parse -> to_major_string -> parse gives the same minor units, and the
//    string has exactly the currency's decimals;
//  - from_minor_units(n).to_major_string() parses back to n whenever n has at most 15 digits
//    (n read from an all-digit input), and is refused as too many digits otherwise.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "domain/money.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace tillgate;

constexpr std::array<std::string_view, 8> kCurrencies{"USD", "JPY", "KWD", "CLF",
                                                      "NGN", "BHD", "UYW", "EUR"};

bool all_digits(std::string_view text) {
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

// The grammar read independently of money.cpp: the minor units, or nullopt when refused.
std::optional<std::int64_t> oracle(std::string_view text, int minor_digits) {
  const auto dot = text.find('.');
  const std::string_view integer = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (integer.empty() || !all_digits(integer) || (integer.size() > 1 && integer[0] == '0')) {
    return std::nullopt;
  }
  if (dot != std::string_view::npos && (fraction.empty() || !all_digits(fraction))) {
    return std::nullopt;
  }
  if (fraction.size() > static_cast<std::size_t>(minor_digits)) {
    return std::nullopt;
  }
  std::string digits = std::string(integer) + std::string(fraction);
  const auto first = digits.find_first_not_of('0');
  if (first == std::string::npos) {
    return std::nullopt;  // zero
  }
  // Significant digits as the amount is answered: with the currency's decimals written out.
  if (digits.size() - first + (static_cast<std::size_t>(minor_digits) - fraction.size()) > 15) {
    return std::nullopt;
  }
  unsigned __int128 value = 0;
  for (const char c : digits) {
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  for (auto pad = fraction.size(); pad < static_cast<std::size_t>(minor_digits); ++pad) {
    value *= 10;
  }
  if (value > static_cast<unsigned __int128>(INT64_MAX)) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const auto currency = domain::find_currency(kCurrencies[data[0] % kCurrencies.size()]);
  FUZZ_CHECK(currency.has_value());
  const auto text = fuzz::as_text(data + 1, size - 1);

  const auto parsed = domain::Money::parse(text, *currency);
  const auto expected = oracle(text, currency->minor_digits);
  FUZZ_CHECK(parsed.has_value() == expected.has_value());
  if (parsed) {
    FUZZ_CHECK(parsed->minor_units() > 0);
    FUZZ_CHECK(parsed->minor_units() == *expected);
    FUZZ_CHECK(parsed->currency() == *currency);
    const std::string major = parsed->to_major_string();
    const auto dot = major.find('.');
    if (currency->minor_digits == 0) {
      FUZZ_CHECK(dot == std::string::npos);
    } else {
      FUZZ_CHECK(dot != std::string::npos &&
                 major.size() - dot - 1 == static_cast<std::size_t>(currency->minor_digits));
    }
    const auto again = domain::Money::parse(major, *currency);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->minor_units() == parsed->minor_units());
  } else {
    FUZZ_CHECK(!domain::describe(parsed.error()).empty());
  }

  // The formatting side: any positive count of minor units written out and read back.
  if (!text.empty() && text.size() <= 19 && all_digits(text) && text[0] != '0') {
    const std::uint64_t n = std::stoull(std::string(text));
    if (n <= static_cast<std::uint64_t>(INT64_MAX)) {
      const auto money = domain::Money::from_minor_units(static_cast<std::int64_t>(n), *currency);
      const auto back = domain::Money::parse(money.to_major_string(), *currency);
      if (text.size() <= 15) {
        FUZZ_CHECK(back.has_value() && back->minor_units() == money.minor_units());
      } else {
        FUZZ_CHECK(!back && back.error() == domain::AmountError::too_many_digits);
      }
    }
  }
  return 0;
}
