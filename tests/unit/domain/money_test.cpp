#include "domain/money.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tillgate::domain {
namespace {

Currency currency(std::string_view code) {
  const auto found = find_currency(code);
  EXPECT_TRUE(found.has_value()) << code;
  return found.value_or(Currency{});
}

std::int64_t minor(std::string_view text, std::string_view code) {
  const auto money = Money::parse(text, currency(code));
  EXPECT_TRUE(money.has_value()) << text << " " << code;
  return money ? money->minor_units() : -1;
}

AmountError error_of(std::string_view text, std::string_view code = "USD") {
  const auto money = Money::parse(text, currency(code));
  EXPECT_FALSE(money.has_value()) << text << " " << code;
  return money ? AmountError::syntax : money.error();
}

TEST(Currency, KnowsMinorUnitsOfActiveCodes) {
  const std::pair<std::string_view, int> expected[] = {
      {"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"JPY", 0}, {"KRW", 0}, {"VND", 0}, {"CLP", 0},
      {"ISK", 0}, {"UGX", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0}, {"PYG", 0}, {"KWD", 3},
      {"BHD", 3}, {"TND", 3}, {"OMR", 3}, {"JOD", 3}, {"IQD", 3}, {"LYD", 3}, {"CLF", 4},
      {"UYW", 4}, {"UYI", 0}, {"BOV", 2}, {"CHE", 2}, {"CHW", 2}, {"MXV", 2}, {"COU", 2},
      {"USN", 2}, {"NGN", 2}, {"ZWG", 2}, {"XCG", 2}, {"VES", 2}, {"VED", 2}, {"SLE", 2},
  };
  for (const auto& [code, digits] : expected) {
    const auto found = find_currency(code);
    ASSERT_TRUE(found.has_value()) << code;
    EXPECT_EQ(found->code, code);
    EXPECT_EQ(found->minor_digits, digits) << code;
  }
}

TEST(Currency, RejectsUnknownLowerCaseAndNonCurrencyCodes) {
  for (const std::string_view code :
       {"",    "usd", "Usd", "US",  "USDD", " USD", "ABC", "XXX", "XTS", "XAU", "XAG", "XDR", "XBA",
        "XPT", "XSU", "XUA", "DEM", "FRF",  "HRK",  "VEF", "MRO", "STD", "ZWL", "ANG", "SLL"}) {
    EXPECT_FALSE(find_currency(code).has_value()) << code;
  }
}

TEST(MoneyParse, AcceptsPlainDecimals) {
  EXPECT_EQ(minor("99.99", "USD"), 9999);
  EXPECT_EQ(minor("99.9", "USD"), 9990);
  EXPECT_EQ(minor("1000", "USD"), 100000);
  EXPECT_EQ(minor("0.01", "USD"), 1);
  EXPECT_EQ(minor("0.10", "USD"), 10);
  EXPECT_EQ(minor("100", "JPY"), 100);
  EXPECT_EQ(minor("999999999999999", "JPY"), 999999999999999);
  EXPECT_EQ(minor("1.000", "KWD"), 1000);
  EXPECT_EQ(minor("0.001", "KWD"), 1);
  EXPECT_EQ(minor("0.0001", "CLF"), 1);
  EXPECT_EQ(minor("12.5", "CLF"), 125000);
}

TEST(MoneyParse, AcceptsExactly15SignificantDigits) {
  EXPECT_EQ(minor("9999999999999.99", "USD"), 999999999999999);
  EXPECT_EQ(minor("99999999999.9999", "CLF"), 999999999999999);
}

TEST(MoneyParse, CountsSignificantDigitsFromFirstNonZero) {
  // Leading zeros do not count, trailing zeros written do.
  EXPECT_EQ(minor("0.01", "USD"), 1);
  EXPECT_EQ(minor("100000000000000", "JPY"), 100000000000000);
  EXPECT_EQ(error_of("1000000000000000", "JPY"), AmountError::too_many_digits);
  EXPECT_EQ(error_of("10000000000000.00", "USD"), AmountError::too_many_digits);
  EXPECT_EQ(minor("1000000000000.00", "USD"), 100000000000000);
  EXPECT_EQ(error_of("9999999999999999", "USD"), AmountError::too_many_digits);
  EXPECT_EQ(error_of("99999999999999.99", "USD"), AmountError::too_many_digits);
}

TEST(MoneyParse, ReportsAmountsBeyondInt64AsTooManyDigits) {
  // 15 digits of CLF whole units are 10^19 minor units, past int64.
  EXPECT_EQ(error_of("999999999999999", "CLF"), AmountError::too_many_digits);
  EXPECT_EQ(error_of("99999999999999", "CLF"), AmountError::too_many_digits);
  EXPECT_EQ(minor("99999999999", "CLF"), 999999999990000);
}

// Found by fuzz/money_fuzzer (parse -> to_major_string -> parse): "123456789012345" USD was
// accepted, then answered "123456789012345.00", which has 17 significant digits and was
// refused when read back. Digits are now counted with the currency's decimals written out.
TEST(MoneyParse, CountsDigitsAsTheAmountIsAnswered) {
  EXPECT_EQ(error_of("123456789012345", "USD"), AmountError::too_many_digits);
  EXPECT_EQ(error_of("99999999999999", "USD"), AmountError::too_many_digits);
  EXPECT_EQ(error_of("99999999999999.9", "USD"), AmountError::too_many_digits);
  EXPECT_EQ(error_of("100000000000", "CLF"), AmountError::too_many_digits);
  EXPECT_EQ(error_of("1234567890123.5", "KWD"), AmountError::too_many_digits);
  EXPECT_EQ(minor("9999999999999", "USD"), 999999999999900);
  EXPECT_EQ(minor("999999999999.9", "KWD"), 999999999999900);
  EXPECT_EQ(minor("9999999999999.9", "USD"), 999999999999990);
  EXPECT_EQ(minor("0.01", "USD"), 1);
  EXPECT_EQ(error_of("0", "CLF"), AmountError::not_positive);
  const std::pair<std::string_view, std::string_view> largest[] = {{"9999999999999", "USD"},
                                                                   {"99999999999", "CLF"},
                                                                   {"999999999999999", "JPY"},
                                                                   {"999999999999", "BHD"}};
  for (const auto& [text, code] : largest) {
    const auto money = Money::parse(text, currency(code));
    ASSERT_TRUE(money.has_value()) << text << " " << code;
    const auto again = Money::parse(money->to_major_string(), currency(code));
    ASSERT_TRUE(again.has_value()) << money->to_major_string();
    EXPECT_EQ(*again, *money);
  }
}

TEST(MoneyParse, RejectsEmpty) {
  EXPECT_EQ(error_of(""), AmountError::empty);
}

TEST(MoneyParse, RejectsWhitespaceAnywhere) {
  for (const std::string_view text : {" 5", "5 ", "5\n", "\t5", "1 000", "5\r", " ",
                                      "\xC2\xA0"
                                      "5",
                                      "5\xE2\x80\xAF"}) {
    EXPECT_EQ(error_of(text), AmountError::whitespace) << text;
  }
}

TEST(MoneyParse, RejectsLeadingPlus) {
  EXPECT_EQ(error_of("+5"), AmountError::leading_plus);
  EXPECT_EQ(error_of("+0.01"), AmountError::leading_plus);
  EXPECT_EQ(error_of("+"), AmountError::leading_plus);
}

TEST(MoneyParse, RejectsExponentNotation) {
  for (const std::string_view text : {"1e3", "1E3", "1E-2", "1e+2", "1.5e2", "-1e3", "1e"}) {
    EXPECT_EQ(error_of(text), AmountError::exponent) << text;
  }
}

TEST(MoneyParse, RejectsAnythingElseAsSyntax) {
  for (const std::string_view text :
       {".5",        "5.",  "01",   "00",   "00.5",     "1.2.3",        "NaN",   "nan", "Infinity",
        "-Infinity", "inf", "0x10", "1,5",  "1,000.00", "abc",          "-",     "--5", "-.5",
        "5-",        "$5",  "e5",   "1e3x", "\xD9\xA1", "\xEF\xBC\x91", "1_000", "0b1", "5%"}) {
    EXPECT_EQ(error_of(text), AmountError::syntax) << text;
  }
}

TEST(MoneyParse, RejectsMoreDecimalsThanTheCurrencyAllows) {
  EXPECT_EQ(error_of("1.001", "USD"), AmountError::too_many_decimals);
  EXPECT_EQ(error_of("1.000", "USD"), AmountError::too_many_decimals);
  EXPECT_EQ(error_of("1.0", "JPY"), AmountError::too_many_decimals);
  EXPECT_EQ(error_of("1.10", "JPY"), AmountError::too_many_decimals);
  EXPECT_EQ(error_of("1.0001", "KWD"), AmountError::too_many_decimals);
  EXPECT_EQ(error_of("0.00001", "CLF"), AmountError::too_many_decimals);
  EXPECT_EQ(error_of("5.0", "UYI"), AmountError::too_many_decimals);
}

TEST(MoneyParse, RejectsZeroAndNegative) {
  for (const std::string_view text : {"0", "0.00", "0.0", "-5", "-0", "-0.01", "-100"}) {
    EXPECT_EQ(error_of(text), AmountError::not_positive) << text;
  }
  EXPECT_EQ(error_of("0", "JPY"), AmountError::not_positive);
}

TEST(MoneyParse, ChecksInTheDocumentedOrder) {
  EXPECT_EQ(error_of(" +1e3"), AmountError::whitespace);
  EXPECT_EQ(error_of("+1e3"), AmountError::leading_plus);
  EXPECT_EQ(error_of("-1e3"), AmountError::exponent);
  EXPECT_EQ(error_of("-01"), AmountError::syntax);
  EXPECT_EQ(error_of("-5.123"), AmountError::too_many_decimals);
  EXPECT_EQ(error_of("1234567890123456.7", "CLF"), AmountError::too_many_digits);
  EXPECT_EQ(error_of("-1234567890123456"), AmountError::too_many_digits);
  EXPECT_EQ(error_of("0.001"), AmountError::too_many_decimals);
}

TEST(MoneyFormat, WritesExactlyTheCurrencyDigits) {
  EXPECT_EQ(Money::from_minor_units(9990, currency("USD")).to_major_string(), "99.90");
  EXPECT_EQ(Money::from_minor_units(1, currency("USD")).to_major_string(), "0.01");
  EXPECT_EQ(Money::from_minor_units(100, currency("USD")).to_major_string(), "1.00");
  EXPECT_EQ(Money::from_minor_units(100, currency("JPY")).to_major_string(), "100");
  EXPECT_EQ(Money::from_minor_units(1000, currency("KWD")).to_major_string(), "1.000");
  EXPECT_EQ(Money::from_minor_units(1, currency("CLF")).to_major_string(), "0.0001");
  EXPECT_EQ(Money::from_minor_units(999999999999999, currency("USD")).to_major_string(),
            "9999999999999.99");
}

TEST(MoneyFormat, RoundTripsThroughParse) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"99.9", "USD"},   {"99.99", "USD"},
      {"0.01", "USD"},   {"1000", "USD"},
      {"100", "JPY"},    {"1.5", "KWD"},
      {"0.0001", "CLF"}, {"7", "CLF"},
      {"12.3", "BHD"},   {"999999999999999", "JPY"},
  };
  for (const auto& [text, code] : cases) {
    const auto money = Money::parse(text, currency(code));
    ASSERT_TRUE(money.has_value()) << text;
    const auto again = Money::parse(money->to_major_string(), currency(code));
    ASSERT_TRUE(again.has_value()) << money->to_major_string();
    EXPECT_EQ(*again, *money);
  }
  EXPECT_EQ(Money::parse("99.9", currency("USD"))->to_major_string(), "99.90");
}

TEST(Money, EqualityIncludesCurrency) {
  EXPECT_EQ(Money::from_minor_units(100, currency("USD")),
            Money::from_minor_units(100, currency("USD")));
  EXPECT_NE(Money::from_minor_units(100, currency("USD")),
            Money::from_minor_units(100, currency("EUR")));
  EXPECT_NE(Money::from_minor_units(100, currency("USD")),
            Money::from_minor_units(101, currency("USD")));
}

TEST(AmountErrorDescription, IsASentenceForEveryError) {
  for (const AmountError error :
       {AmountError::empty, AmountError::syntax, AmountError::exponent, AmountError::leading_plus,
        AmountError::whitespace, AmountError::too_many_decimals, AmountError::too_many_digits,
        AmountError::not_positive}) {
    EXPECT_FALSE(describe(error).empty());
  }
  EXPECT_EQ(describe(AmountError::too_many_decimals),
            "must have at most the currency's number of decimal places");
}

TEST(MoneyParse, ValueThrowsOnlyWhenAskedTo) {
  EXPECT_THROW(static_cast<void>(Money::parse("", currency("USD")).value()), std::invalid_argument);
  EXPECT_EQ(Money::parse("1", currency("USD")).value().minor_units(), 100);
}

}  // namespace
}  // namespace tillgate::domain
