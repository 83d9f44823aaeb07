#pragma once
// Query strings and list cursors, shared by the list routes (transactions, deliveries).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tillgate::api {

// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}}; nullopt on a malformed percent escape.
[[nodiscard]] std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(
    std::string_view query);

// A list cursor: opaque to merchants, "v1:<sequence>" inside (base64url).
[[nodiscard]] std::string encode_cursor(std::int64_t sequence);
[[nodiscard]] std::optional<std::int64_t> decode_cursor(std::string_view cursor);

}  // namespace tillgate::api
