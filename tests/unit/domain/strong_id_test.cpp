#include "domain/strong_id.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <concepts>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "domain/ids.hpp"

namespace tillgate::domain {
namespace {

// ---- What does not compile -----------------------------------------------------------------

// No implicit conversion from or to a string, in either direction.
static_assert(!std::is_convertible_v<std::string, MerchantId>);
static_assert(!std::is_convertible_v<MerchantId, std::string>);
static_assert(!std::is_convertible_v<const char*, MerchantId>);
static_assert(!std::is_convertible_v<std::string_view, MerchantId>);
static_assert(!std::is_convertible_v<MerchantId, std::string_view>);
static_assert(!std::is_assignable_v<MerchantId&, std::string>);
// Explicit construction from the text is the one way in.
static_assert(std::is_constructible_v<MerchantId, std::string>);

// A string is not an id: no comparison with strings.
static_assert(!std::equality_comparable_with<MerchantId, std::string>);
static_assert(!std::equality_comparable_with<MerchantId, std::string_view>);
static_assert(!std::three_way_comparable_with<MerchantId, std::string>);

// Each kind is its own type, and kinds do not mix.
static_assert(!std::is_same_v<MerchantId, DeviceId>);
static_assert(!std::is_convertible_v<MerchantId, DeviceId>);
static_assert(!std::is_constructible_v<DeviceId, MerchantId>);
static_assert(!std::is_assignable_v<DeviceId&, MerchantId>);
static_assert(!std::equality_comparable_with<MerchantId, DeviceId>);
static_assert(!std::three_way_comparable_with<MerchantId, DeviceId>);

template <class T, class... Rest>
constexpr bool all_distinct() {
  if constexpr (sizeof...(Rest) == 0) {
    return true;
  } else {
    return (!std::is_same_v<T, Rest> && ...) && all_distinct<Rest...>();
  }
}
static_assert(all_distinct<MerchantId, DeviceId, TransactionId, ConnectionId, EndpointId,
                           DeliveryId, EventId, ApiKeyId>());

// Cheap to move, usable in containers and in noexcept code.
static_assert(std::is_nothrow_default_constructible_v<MerchantId>);
static_assert(std::is_nothrow_move_constructible_v<MerchantId>);
static_assert(std::is_nothrow_move_assignable_v<MerchantId>);
static_assert(std::is_copy_constructible_v<MerchantId>);
static_assert(std::totally_ordered<MerchantId>);

// ---- Behaviour ----------------------------------------------------------------------------

TEST(StrongId, DefaultIsEmpty) {
  const MerchantId none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.str(), "");
  EXPECT_TRUE(none == MerchantId{});
  EXPECT_FALSE(MerchantId("mch_a").empty());
}

TEST(StrongId, KeepsTheTextUnchanged) {
  const std::string text = "order.2024:01_ab-CD";
  const TransactionId id(text);
  EXPECT_EQ(id.str(), text);
  const DeviceId spaces(" till 01 ");  // no checks here: is_valid_device_id is the check
  EXPECT_EQ(spaces.str(), " till 01 ");
}

TEST(StrongId, CopiesAndMovesLikeTheString) {
  DeviceId original("till-01");
  const DeviceId copy = original;
  EXPECT_TRUE(copy == original);
  const DeviceId moved = std::move(original);
  EXPECT_EQ(moved.str(), "till-01");
  DeviceId assigned;
  assigned = copy;
  EXPECT_TRUE(assigned == copy);
}

TEST(StrongId, EqualityIsByText) {
  EXPECT_TRUE(MerchantId("mch_a") == MerchantId("mch_a"));
  EXPECT_FALSE(MerchantId("mch_a") == MerchantId("mch_b"));
  EXPECT_TRUE(MerchantId("mch_a") != MerchantId("MCH_A"));  // case-sensitive
  EXPECT_TRUE(MerchantId("mch_a") != MerchantId("mch_a "));
}

TEST(StrongId, OrdersByTheTextsBytes) {
  EXPECT_TRUE(TransactionId("A") < TransactionId("B"));
  EXPECT_TRUE(TransactionId("B") < TransactionId("a"));  // byte order: upper case first
  EXPECT_TRUE(TransactionId("a") < TransactionId("ab"));
  EXPECT_TRUE(TransactionId("") < TransactionId("a"));
  EXPECT_EQ(TransactionId("x") <=> TransactionId("x"), std::strong_ordering::equal);
  EXPECT_EQ(TransactionId("x") <=> TransactionId("y"), std::strong_ordering::less);
  EXPECT_TRUE(TransactionId("y") >= TransactionId("x"));
}

TEST(StrongId, IsAnUnorderedMapKey) {
  std::unordered_map<DeviceId, int> by_device;
  by_device[DeviceId("till-1")] = 1;
  by_device[DeviceId("till-2")] = 2;
  by_device[DeviceId("till-1")] += 10;
  ASSERT_EQ(by_device.size(), 2U);
  EXPECT_EQ(by_device.at(DeviceId("till-1")), 11);
  EXPECT_EQ(by_device.at(DeviceId("till-2")), 2);
  EXPECT_EQ(by_device.count(DeviceId("till-3")), 0U);

  EXPECT_EQ(std::hash<DeviceId>{}(DeviceId("till-1")), std::hash<DeviceId>{}(DeviceId("till-1")));
  const std::unordered_set<ConnectionId> connections{ConnectionId("conn_a"), ConnectionId("conn_b"),
                                                     ConnectionId("conn_a")};
  EXPECT_EQ(connections.size(), 2U);
}

TEST(StrongId, IsAnOrderedMapKey) {
  std::map<EndpointId, std::string> endpoints;
  endpoints.emplace(EndpointId("wh_c"), "c");
  endpoints.emplace(EndpointId("wh_a"), "a");
  endpoints.emplace(EndpointId("wh_b"), "b");
  std::string order;
  for (const auto& [id, name] : endpoints) {
    order += name;
  }
  EXPECT_EQ(order, "abc");
  EXPECT_EQ(endpoints.at(EndpointId("wh_b")), "b");
}

TEST(StrongId, FormatsAsItsText) {
  static_assert(fmt::is_formattable<MerchantId>::value);
  EXPECT_EQ(fmt::format("{}", MerchantId("mch_abc")), "mch_abc");
  EXPECT_EQ(fmt::format("key {} of {}", ApiKeyId("tgk_k"), MerchantId("mch_m")),
            "key tgk_k of mch_m");
  EXPECT_EQ(fmt::format("[{:>6}]", EventId("evt_1")), "[ evt_1]");
  EXPECT_EQ(fmt::format("[{}]", DeliveryId{}), "[]");
  const TransactionId lvalue("TXN-1");
  EXPECT_EQ(fmt::format("{}", lvalue), "TXN-1");
}

TEST(StrongId, LogsAsItsTextWithSpdlog) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  spdlog::logger logger("strong_id_test", sink);
  logger.set_pattern("%v");
  const DeviceId device("till-01");
  logger.info("terminal {} on {}", device, ConnectionId("conn_x"));
  logger.flush();
  EXPECT_EQ(out.str(), "terminal till-01 on conn_x\n");
}

}  // namespace
}  // namespace tillgate::domain
