#pragma once
// Money is an integer count of minor units plus an ISO 4217 currency. Never a double.
#include <boost/system/result.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tillgate::domain {

struct Currency {
  std::string_view code;  // ISO 4217 alpha-3, upper case; points into a static table
  int minor_digits = 0;   // ISO 4217 minor unit: USD 2, JPY 0, KWD 3, CLF 4

  friend bool operator==(const Currency& a, const Currency& b) { return a.code == b.code; }
};

// Active ISO 4217 codes only, exact upper case ("usd" is not a currency).
[[nodiscard]] std::optional<Currency> find_currency(std::string_view code);

enum class AmountError {
  empty,              // ""
  syntax,             // not a plain decimal: "1.", ".5", "1.2.3", "0x10", "01", "abc", NaN, Infinity
  exponent,           // "1e3", "1E-2"
  leading_plus,       // "+5"
  whitespace,         // " 5", "5 ", "5\n"
  too_many_decimals,  // more fraction digits than the currency allows
  too_many_digits,    // more than 15 significant digits
  not_positive,       // zero or negative
};

// A sentence a person can act on, e.g. "has more decimal places than the currency allows".
[[nodiscard]] std::string_view describe(AmountError error);

// Found by ADL so result<Money, AmountError>::value() compiles; it throws
// std::invalid_argument. Prefer checking the result: a bad amount is an expected input error.
[[noreturn]] void throw_exception_from_error(AmountError error, const boost::source_location& loc);

class Money {
 public:
  static constexpr int max_significant_digits = 15;

  // Parses major units as a decimal string, e.g. "99.99" for USD -> 9999 minor units.
  // The same grammar is used for JSON numbers (their exact source text) and JSON strings.
  [[nodiscard]] static boost::system::result<Money, AmountError> parse(std::string_view major_units,
                                                                       Currency currency);

  // For values read back from the store. minor_units must be > 0.
  [[nodiscard]] static Money from_minor_units(std::int64_t minor_units, Currency currency);

  [[nodiscard]] std::int64_t minor_units() const { return minor_units_; }
  [[nodiscard]] Currency currency() const { return currency_; }

  // Major units with exactly the currency's digits: "99.90", "100" (JPY), "1.000" (KWD).
  [[nodiscard]] std::string to_major_string() const;

  friend bool operator==(const Money& a, const Money& b) = default;

 private:
  Money(std::int64_t minor_units, Currency currency)
      : minor_units_(minor_units), currency_(currency) {}
  std::int64_t minor_units_;
  Currency currency_;
};

}  // namespace tillgate::domain
