#pragma once
// One member of a JSON object read without building the whole document.

#include <optional>
#include <string_view>

#include "json/json.hpp"

namespace tillgate::json {

// The value of the top-level member `key` of the object `text`, parsed alone: the members
// before it are stepped over without being built, and nothing after it is read. For a
// document the gateway wrote itself (a stored request) and reads one member of, as a
// payment response reads its request's metadata each time it is built. nullopt when `text`
// is not an object, has no such member, or is found malformed on the way (then
// json::parse says what is wrong).
[[nodiscard]] std::optional<Value> parse_member(std::string_view text, std::string_view key,
                                                const ParseLimits& limits = {});

// The text of that member's value as written in `text`, not parsed: for a document the
// gateway wrote itself (compact and valid), whose member a body copies as it is
// (json::Writer::raw). nullopt as for parse_member.
[[nodiscard]] std::optional<std::string_view> member_text(std::string_view text,
                                                          std::string_view key);

}  // namespace tillgate::json
