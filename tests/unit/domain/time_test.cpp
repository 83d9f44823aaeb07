#include "domain/time.hpp"

#include <gtest/gtest.h>

namespace tillgate::domain {
namespace {

using std::chrono::milliseconds;

Timestamp at_ms(std::int64_t ms) {
  return Timestamp{milliseconds{ms}};
}

TEST(Iso8601, FormatsUtcWithThreeFractionDigits) {
  EXPECT_EQ(format_iso8601(at_ms(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(at_ms(1'705'314'600'000)), "2024-01-15T10:30:00.000Z");
  EXPECT_EQ(format_iso8601(at_ms(1'705'314'600'007)), "2024-01-15T10:30:00.007Z");
  EXPECT_EQ(format_iso8601(at_ms(951'782'400'000)), "2000-02-29T00:00:00.000Z");
}

TEST(Iso8601, FormatsEveryFieldAtItsWidthAndBothEndsOfTheFourDigitYears) {
  EXPECT_EQ(format_iso8601(at_ms(4'102'444'799'999)), "2099-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601(at_ms(-62'167'219'200'000)), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(at_ms(253'402'300'799'999)), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601(at_ms(1'000'000'000'010)), "2001-09-09T01:46:40.010Z");
  // Outside the years ISO 8601's basic form holds: still written, as snprintf writes it.
  EXPECT_EQ(format_iso8601(at_ms(253'402'300'800'000)), "10000-01-01T00:00:00.000Z");
}

TEST(Iso8601, RoundTrips) {
  for (const std::int64_t ms : {std::int64_t{0}, std::int64_t{1'705'314'600'123},
                                std::int64_t{4'102'444'799'999}, std::int64_t{951'782'400'000}}) {
    EXPECT_EQ(parse_iso8601(format_iso8601(at_ms(ms))), at_ms(ms));
  }
}

TEST(Iso8601, ParsesWithAndWithoutMilliseconds) {
  EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00Z"), at_ms(1'705'314'600'000));
  EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00.5Z"), at_ms(1'705'314'600'500));
  EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00.123Z"), at_ms(1'705'314'600'123));
  EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00.123999999Z"), at_ms(1'705'314'600'123));
}

TEST(Iso8601, AppliesOffsets) {
  EXPECT_EQ(parse_iso8601("2024-01-15T12:30:00+02:00"), at_ms(1'705'314'600'000));
  EXPECT_EQ(parse_iso8601("2024-01-15T05:00:00.250-05:30"), at_ms(1'705'314'600'250));
  EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00+00:00"), at_ms(1'705'314'600'000));
}

TEST(Iso8601, RejectsAnythingElse) {
  for (const std::string_view text : {"",
                                      "garbage",
                                      "2024-13-01T00:00:00Z",
                                      "2024-02-30T00:00:00Z",
                                      "2023-02-29T00:00:00Z",
                                      "2024-01-15T10:30:00",
                                      "2024-01-15 10:30:00Z",
                                      "2024-01-15T24:00:00Z",
                                      "2024-01-15T10:60:00Z",
                                      "2024-01-15T10:30:60Z",
                                      "2024-01-15T10:30:00.Z",
                                      "2024-01-15T10:30:00.1234567890Z",
                                      "2024-01-15T10:30:00z",
                                      "2024-01-15t10:30:00Z",
                                      "2024-01-15T10:30:00Zx",
                                      "2024-01-15T10:30:00+0200",
                                      "2024-01-15T10:30:00+02",
                                      "2024-01-15T10:30:00+24:00",
                                      "2024-01-15T10:30:00+02:60",
                                      "24-01-15T10:30:00Z",
                                      "2024-1-15T10:30:00Z",
                                      "2024-01-15T10:30Z",
                                      " 2024-01-15T10:30:00Z",
                                      "2024-01-15T10:30:00Z "}) {
    EXPECT_EQ(parse_iso8601(text), std::nullopt) << text;
  }
}

// Found by fuzz/time_fuzzer (parse -> format -> parse): an offset carried year 0000 into
// year -1, and 9999 into 10000, which format_iso8601 wrote as "-001-..." and "10000-...",
// texts no parse reads back. The instant must stay within 0000-01-01 .. 9999-12-31 (UTC).
TEST(Iso8601, RejectsOffsetsThatLeaveTheFourDigitYears) {
  EXPECT_EQ(parse_iso8601("0000-01-01T00:00:00+01:00"), std::nullopt);
  EXPECT_EQ(parse_iso8601("0000-01-01T00:59:59.999+01:00"), std::nullopt);
  EXPECT_EQ(parse_iso8601("9999-12-31T23:59:59-01:00"), std::nullopt);
  EXPECT_EQ(parse_iso8601("9999-12-31T23:00:00-01:00"), std::nullopt);
  for (const std::string_view text :
       {"0000-01-01T00:00:00Z", "0000-01-01T01:00:00+01:00", "9999-12-31T23:59:59.999Z",
        "9999-12-31T22:59:59.999-01:00", "0000-01-01T00:00:00-01:00"}) {
    const auto at = parse_iso8601(text);
    ASSERT_TRUE(at.has_value()) << text;
    EXPECT_EQ(parse_iso8601(format_iso8601(*at)), at) << text;
  }
  EXPECT_EQ(format_iso8601(*parse_iso8601("0000-01-01T00:00:00Z")), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(*parse_iso8601("9999-12-31T22:59:59.999-01:00")),
            "9999-12-31T23:59:59.999Z");
}

TEST(SystemClock, IsNearTheRealTime) {
  const auto before = std::chrono::system_clock::now();
  const Timestamp now = SystemClock{}.now();
  EXPECT_LE(std::chrono::abs(now - before), std::chrono::seconds{5});
}

}  // namespace
}  // namespace tillgate::domain
