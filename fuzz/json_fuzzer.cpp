// json::parse, the strict parser under every request body, terminal frame and token.
// Input: the JSON text. Properties beyond "no crash, no sanitizer report":
//  - a parsed document nests no deeper than the limit, and the same text is refused one
//    level below its depth (the limit is exact);
//  - serialize() gives text that parses back to an equal value, and serializing that again
//    gives the same text (compact output is a fixed point);
//  - a refusal points inside the input and its message is printable ASCII (no raw bytes
//    of hostile input reach logs or answers);
//  - only depth can tell limits apart: text refused at depth 32 but parsed at a higher
//    limit nests deeper than 32;
//  - Number::as_int64, when it answers, is the number's own text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "json/json.hpp"

namespace {

using namespace tillgate;

std::size_t depth_of(const json::Value& value) {
  std::size_t deepest = 0;
  if (value.is_array()) {
    for (const auto& item : value.as_array()) {
      deepest = std::max(deepest, depth_of(item));
    }
    return deepest + 1;
  }
  if (value.is_object()) {
    for (const auto& member : value.as_object()) {
      deepest = std::max(deepest, depth_of(member.value));
    }
    return deepest + 1;
  }
  return 0;
}

void check_numbers(const json::Value& value) {
  if (value.is_number()) {
    const auto& number = value.as_number();
    if (const auto integer = number.as_int64()) {
      FUZZ_CHECK(std::to_string(*integer) == number.text || number.text == "-0");
    }
  } else if (value.is_array()) {
    for (const auto& item : value.as_array()) {
      check_numbers(item);
    }
  } else if (value.is_object()) {
    for (const auto& member : value.as_object()) {
      check_numbers(member.value);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const json::ParseLimits limits{};  // the default, 32 levels
  const auto parsed = json::parse(text, limits);
  if (!parsed) {
    const auto& error = parsed.error();
    FUZZ_CHECK(error.offset <= size);
    FUZZ_CHECK(!error.message.empty() && fuzz::is_printable_ascii(error.message));
    // Refused at 32 but accepted when deeper nesting is allowed: it must be deeper.
    const auto relaxed = json::parse(text, json::ParseLimits{4096});
    if (relaxed) {
      FUZZ_CHECK(depth_of(*relaxed) > limits.max_depth);
    }
    return 0;
  }
  const json::Value& value = *parsed;
  const std::size_t depth = depth_of(value);
  FUZZ_CHECK(depth <= limits.max_depth);
  if (depth > 0) {
    const auto shallower = json::parse(text, json::ParseLimits{depth - 1});
    FUZZ_CHECK(!shallower);
    FUZZ_CHECK(shallower.error().message.find("nesting deeper than") != std::string::npos);
  }
  check_numbers(value);

  const std::string compact = json::serialize(value);
  const auto reparsed = json::parse(compact, json::ParseLimits{depth});
  FUZZ_CHECK(reparsed.has_value());
  FUZZ_CHECK(*reparsed == value);
  FUZZ_CHECK(json::serialize(*reparsed) == compact);
  return 0;
}
