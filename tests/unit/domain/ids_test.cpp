#include "domain/ids.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

namespace tillgate::domain {
namespace {

using std::chrono::milliseconds;
using namespace std::string_view_literals;

Timestamp at_ms(std::int64_t ms) {
  return Timestamp{milliseconds{ms}};
}

TEST(UuidV7, HasCanonicalLowerCaseForm) {
  const std::string id = new_uuid_v7(at_ms(1'700'000'000'000));
  ASSERT_EQ(id.size(), 36U);
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      EXPECT_EQ(id[i], '-');
    } else {
      EXPECT_TRUE((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')) << id;
    }
  }
  EXPECT_TRUE(is_uuid_v7(id)) << id;
}

TEST(UuidV7, SetsVersionAndVariantBits) {
  for (int i = 0; i < 200; ++i) {
    const std::string id = new_uuid_v7(at_ms(1'700'000'000'000));
    EXPECT_EQ(id[14], '7') << id;
    EXPECT_NE(std::string_view("89ab").find(id[19]), std::string_view::npos) << id;
  }
}

TEST(UuidV7, EncodesTheMillisecondTimestamp) {
  // 0x018BCFE56800 ms == 2023-11-14T22:13:20Z.
  const std::string id = new_uuid_v7(at_ms(0x018BCFE56800));
  EXPECT_EQ(id.substr(0, 13), "018bcfe5-6800");
}

TEST(UuidV7, SortsByTimeAcrossMilliseconds) {
  std::string previous = new_uuid_v7(at_ms(1'700'000'000'000));
  for (std::int64_t ms = 1'700'000'000'001; ms < 1'700'000'000'200; ++ms) {
    const std::string next = new_uuid_v7(at_ms(ms));
    EXPECT_LT(previous, next);
    previous = next;
  }
}

TEST(UuidV7, IsRandomWithinOneMillisecond) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    seen.insert(new_uuid_v7(at_ms(42)));
  }
  EXPECT_EQ(seen.size(), 100U);
}

TEST(UuidV7, RecognisesOnlyCanonicalVersion7) {
  EXPECT_TRUE(is_uuid_v7("018bcfe5-6800-7abc-8def-0123456789ab"));
  EXPECT_TRUE(is_uuid_v7("018bcfe5-6800-7abc-bdef-0123456789ab"));
  EXPECT_FALSE(is_uuid_v7("018BCFE5-6800-7ABC-8DEF-0123456789AB"));  // upper case
  EXPECT_FALSE(is_uuid_v7("018bcfe5-6800-4abc-8def-0123456789ab"));  // version 4
  EXPECT_FALSE(is_uuid_v7("018bcfe5-6800-7abc-cdef-0123456789ab"));  // variant 110
  EXPECT_FALSE(is_uuid_v7("018bcfe5-6800-7abc-7def-0123456789ab"));  // variant 0
  EXPECT_FALSE(is_uuid_v7("018bcfe568007abc8def0123456789ab"));      // no hyphens
  EXPECT_FALSE(is_uuid_v7("018bcfe5-6800-7abc-8def-0123456789a"));   // short
  EXPECT_FALSE(is_uuid_v7("018bcfe5-6800-7abc-8def-0123456789abc"));
  EXPECT_FALSE(is_uuid_v7("018bcfe5_6800-7abc-8def-0123456789ab"));
  EXPECT_FALSE(is_uuid_v7("018bcfe5-6800-7abc-8def-0123456789ag"));
  EXPECT_FALSE(is_uuid_v7(""));
}

TEST(TransactionId, AcceptsPrintableAsciiUpTo128Chars) {
  EXPECT_TRUE(is_valid_transaction_id("a"));
  EXPECT_TRUE(is_valid_transaction_id("TXN-1"));
  EXPECT_TRUE(is_valid_transaction_id("order.2024:01_ab-CD"));
  EXPECT_TRUE(is_valid_transaction_id(std::string(128, 'x')));
  EXPECT_TRUE(is_valid_transaction_id("a/b\\c+d#e?f%20g;h\"i!~"));
  EXPECT_TRUE(is_valid_transaction_id("018bcfe5-6800-7abc-8def-0123456789ab"));
}

TEST(TransactionId, RejectsEmptyTooLongAndOtherCharacters) {
  EXPECT_FALSE(is_valid_transaction_id(""));
  EXPECT_FALSE(is_valid_transaction_id(std::string(129, 'x')));
  for (const std::string_view bad :
       {"a b"sv, "caf\xC3\xA9"sv, "a\tb"sv, "a\nb"sv, "a\0b"sv, "a\x7f"sv, "\x01"sv}) {
    EXPECT_FALSE(is_valid_transaction_id(bad)) << bad;
  }
}

TEST(DeviceId, KeepsTheNarrowAlphabetUpTo64Chars) {
  EXPECT_TRUE(is_valid_device_id("till-01"));
  EXPECT_TRUE(is_valid_device_id(std::string(64, '9')));
  EXPECT_FALSE(is_valid_device_id(std::string(65, '9')));
  EXPECT_FALSE(is_valid_device_id(""));
  EXPECT_FALSE(is_valid_device_id("till 01"));
  EXPECT_FALSE(is_valid_device_id("till/01"));
}

bool is_lower_base32(std::string_view text) {
  for (const char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) {
      return false;
    }
  }
  return true;
}

TEST(PrefixedId, IsPrefixPlus26Base32Chars) {
  const std::string id = new_prefixed_id("mch_");
  ASSERT_EQ(id.size(), 4U + 26U);
  EXPECT_EQ(id.substr(0, 4), "mch_");
  EXPECT_TRUE(is_lower_base32(id.substr(4))) << id;
  EXPECT_NE(new_prefixed_id("req_"), new_prefixed_id("req_"));
}

TEST(UuidV7, FromGivenBitsIsStableAndNeedsSixteenBytes) {
  const std::string bits(16, '\xab');
  const auto id = uuid_v7(at_ms(1'765'000'000'123), bits);
  EXPECT_EQ(id, uuid_v7(at_ms(1'765'000'000'123), bits));
  EXPECT_EQ(id, "019af232-b27b-7bab-abab-abababababab");
  EXPECT_TRUE(is_uuid_v7(id)) << id;
  EXPECT_THROW((void)uuid_v7(at_ms(0), std::string(15, 'x')), std::invalid_argument);
}

TEST(TimeOrderedId, HasThePrefixedIdsShapeAndSortsByTime) {
  const Timestamp at{std::chrono::milliseconds(1'765'000'000'123)};
  const std::string id = new_time_ordered_id("evt_", at);
  ASSERT_EQ(id.size(), 4U + 26U);
  EXPECT_EQ(id.substr(0, 4), "evt_");
  EXPECT_TRUE(is_lower_base32(id.substr(4))) << id;
  // Same millisecond: the same first 9 characters (45 of the 48 time bits), random after.
  const std::string twin = new_time_ordered_id("evt_", at);
  EXPECT_EQ(twin.substr(0, 4 + 9), id.substr(0, 4 + 9));
  EXPECT_NE(twin, id);
  // Later sorts after, across every character the time changes (the alphabet is in ASCII
  // order), including a carry through many digits.
  for (const auto later : {1, 7, 8, 255, 256, 65'536, 86'400'000}) {
    EXPECT_LT(id, new_time_ordered_id("evt_", at + std::chrono::milliseconds(later))) << later;
  }
  EXPECT_LT(new_time_ordered_id("evt_", Timestamp{std::chrono::milliseconds(0)}), id);
}

TEST(Secret, IsPrefixPlus52Base32Chars) {
  const std::string secret = new_secret("tgs_").reveal();
  ASSERT_EQ(secret.size(), 4U + 52U);
  EXPECT_EQ(secret.substr(0, 4), "tgs_");
  EXPECT_TRUE(is_lower_base32(secret.substr(4))) << secret;
  EXPECT_NE(new_secret("tds_").reveal(), new_secret("tds_").reveal());
}

}  // namespace
}  // namespace tillgate::domain
