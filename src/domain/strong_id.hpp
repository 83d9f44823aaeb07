#pragma once
// StrongId<Tag>: an identifier of one kind (merchant, device, transaction, ...) as its own
// type, so one kind cannot be passed where another is expected. It holds the id's text
// unchanged and checks nothing: the formats and their checks are in ids.hpp.
//
// Deliberately absent: implicit conversion from or to std::string, and comparison with a
// std::string or std::string_view (a string is not an id; wrap it explicitly, at the edge
// where it was read). Ids are public values: they hash, order, and format with fmt and
// spdlog as their text. The tags and aliases are in ids.hpp.
#include <fmt/core.h>

#include <compare>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace tillgate::domain {

template <class Tag>
class StrongId {
 public:
  StrongId() = default;  // empty: "no id yet"
  explicit StrongId(std::string value) noexcept : value_(std::move(value)) {}

  [[nodiscard]] const std::string& str() const noexcept { return value_; }
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

  // Same tag only: MerchantId == DeviceId does not compile. Ordered by the text's bytes.
  friend bool operator==(const StrongId&, const StrongId&) = default;
  friend std::strong_ordering operator<=>(const StrongId&, const StrongId&) = default;

 private:
  std::string value_;
};

}  // namespace tillgate::domain

// As key of std::unordered_map / std::unordered_set: the hash of the text.
template <class Tag>
struct std::hash<tillgate::domain::StrongId<Tag>> {
  std::size_t operator()(const tillgate::domain::StrongId<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};

// fmt::format("{}", id) and spdlog::info("{}", id) write the text; string format specs
// ("{:>12}") work as for a string.
template <class Tag>
struct fmt::formatter<tillgate::domain::StrongId<Tag>> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const tillgate::domain::StrongId<Tag>& id, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(id.str(), ctx);
  }
};
