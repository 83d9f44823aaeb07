#include "domain/secret.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <concepts>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "domain/ids.hpp"

namespace tillgate::domain {
namespace {

// ---- What does not compile -----------------------------------------------------------------

// Not formattable. formatter<Secret> has a deleted constructor, so fmt 9 counts Secret as
// unformattable and is_formattable is false (a formatter whose members static_assert would
// make is_formattable itself a compile error; see secret.hpp). Checked by hand in a scratch
// file against this header (GCC 12, fmt 9.1, spdlog 1.10):
//   spdlog::info("{}", secret);  // and fmt::format("{}", secret), spdlog::info("id {} {}", 1, s)
//     error: static assertion failed: a Secret cannot be formatted or logged; log an id instead
//     (from fmt's compile-time format-string check, via the fallback_formatter in secret.hpp),
//     then fmt's own "Cannot format an argument. To make type T formattable provide a
//     formatter<T> specialization"
//   spdlog::info(fmt::runtime("{}"), secret);
//     error: static assertion failed: Cannot format an argument. To make type T formattable ...
static_assert(!fmt::is_formattable<Secret>::value);
static_assert(!fmt::is_formattable<const Secret&>::value);
static_assert(!fmt::is_formattable<Secret&>::value);

// Not streamable: operator<< is deleted.
template <class T>
concept streamable = requires(std::ostream& out, const T& value) {
  out << value;
};
static_assert(!streamable<Secret>);
static_assert(streamable<std::string>);  // the check itself works

// No operator==, no conversions: equals() is the only comparison, reveal() the only read.
static_assert(!std::equality_comparable<Secret>);
static_assert(!std::equality_comparable_with<Secret, std::string>);
static_assert(!std::equality_comparable_with<Secret, std::string_view>);
static_assert(!std::is_convertible_v<std::string, Secret>);
static_assert(!std::is_convertible_v<Secret, std::string>);
static_assert(!std::is_convertible_v<Secret, std::string_view>);
static_assert(std::is_constructible_v<Secret, std::string>);

// Copyable and movable; moves do not throw.
static_assert(std::is_copy_constructible_v<Secret> && std::is_copy_assignable_v<Secret>);
static_assert(std::is_nothrow_move_constructible_v<Secret>);
static_assert(std::is_nothrow_move_assignable_v<Secret>);

// An API key id is an identifier and formats; its secret half does not.
static_assert(fmt::is_formattable<ApiKeyId>::value);

// ---- Behaviour ----------------------------------------------------------------------------

constexpr std::string_view kLong = "tgs_abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kShort = "tds_short";  // fits libstdc++'s 15-byte small buffer

TEST(Secret, RevealsTheText) {
  const Secret secret{std::string(kLong)};
  EXPECT_EQ(secret.reveal(), kLong);
  EXPECT_FALSE(secret.empty());
  EXPECT_EQ(Secret{std::string(kShort)}.reveal(), kShort);
}

TEST(Secret, DefaultIsEmpty) {
  const Secret none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.reveal(), "");
  EXPECT_TRUE(Secret{std::string()}.empty());
}

TEST(Secret, EqualsOnlyTheSameBytes) {
  const Secret secret{std::string(kLong)};
  EXPECT_TRUE(secret.equals(kLong));
  EXPECT_TRUE(secret.equals(std::string(kLong)));
  EXPECT_FALSE(secret.equals(kLong.substr(0, kLong.size() - 1)));  // a prefix
  EXPECT_FALSE(secret.equals(std::string(kLong) + "x"));           // longer
  std::string last_differs(kLong);
  last_differs.back() = 'Z';
  EXPECT_FALSE(secret.equals(last_differs));
  std::string first_differs(kLong);
  first_differs.front() = 'T';
  EXPECT_FALSE(secret.equals(first_differs));
  EXPECT_FALSE(secret.equals(""));
  // Bytes as bytes: an embedded NUL is part of the secret.
  const Secret with_nul{std::string("a\0b", 3)};
  EXPECT_TRUE(with_nul.equals(std::string_view("a\0b", 3)));
  EXPECT_FALSE(with_nul.equals("a"));
}

TEST(Secret, AnEmptySecretEqualsNothing) {
  // An unset credential must not let an empty presented value through.
  EXPECT_FALSE(Secret().equals(""));
  EXPECT_FALSE(Secret().equals("x"));
}

TEST(Secret, CopiesAreIndependent) {
  Secret original{std::string(kLong)};
  Secret copy = original;
  EXPECT_EQ(copy.reveal(), kLong);
  EXPECT_NE(copy.reveal().data(), original.reveal().data());  // its own bytes

  original = Secret{std::string(kShort)};
  EXPECT_EQ(copy.reveal(), kLong);
  EXPECT_EQ(original.reveal(), kShort);

  Secret assigned;
  assigned = copy;
  copy = Secret();
  EXPECT_EQ(assigned.reveal(), kLong);
  EXPECT_TRUE(copy.empty());
}

TEST(Secret, MovedFromIsEmpty) {
  for (const std::string_view text : {kLong, kShort}) {
    Secret source{std::string(text)};
    const Secret target = std::move(source);
    EXPECT_EQ(target.reveal(), text);
    EXPECT_TRUE(source.empty()) << text.size();  // NOLINT(bugprone-use-after-move)

    Secret other{std::string(text)};
    Secret assigned{std::string("tgs_previous")};
    assigned = std::move(other);
    EXPECT_EQ(assigned.reveal(), text);
    EXPECT_TRUE(other.empty()) << text.size();  // NOLINT(bugprone-use-after-move)
  }
}

TEST(Secret, SelfAssignmentKeepsTheValue) {
  Secret secret{std::string(kLong)};
  const Secret& same = secret;
  secret = same;
  EXPECT_EQ(secret.reveal(), kLong);
  Secret& alias = secret;  // through a reference, as self-moves happen (and no -Wself-move)
  secret = std::move(alias);
  EXPECT_EQ(secret.reveal(), kLong);
}

// White-box (libstdc++): the bytes a std::string owns past its size are wiped too. Reads
// the buffer up to capacity(), which is memory the string owns.
std::string_view owned_bytes(const std::string& text) {
  return {text.data(), text.capacity()};
}
bool all_zero(std::string_view bytes) {
  return bytes.find_first_not_of('\0') == std::string_view::npos;
}

TEST(Secret, MoveWipesTheSmallBufferItCopiedFrom) {
  // A short string is copied out of its small buffer on move, not taken: the source's
  // buffer would keep the secret without the wipe.
  Secret source{std::string(kShort)};
  const Secret target = std::move(source);
  EXPECT_TRUE(all_zero(owned_bytes(source.reveal())));  // NOLINT(bugprone-use-after-move)
}

TEST(Secret, OverwritingWipesTheLongerOldValuesTail) {
  Secret secret{std::string(kLong)};
  const Secret shorter{std::string("tgs_new_but_longer_than_small")};
  secret = shorter;  // reuses the longer buffer
  EXPECT_EQ(secret.reveal(), shorter.reveal());
  const std::string_view bytes = owned_bytes(secret.reveal());
  ASSERT_GE(bytes.size(), kLong.size());
  EXPECT_TRUE(all_zero(bytes.substr(shorter.reveal().size())));
}

}  // namespace
}  // namespace tillgate::domain
