// The document model; its serializer is json::Writer (writer.cpp), the parser parse.cpp.
#include "json/json.hpp"

#include <cassert>
#include <charconv>
#include <stdexcept>

#include "json/writer.hpp"

namespace tillgate::json {
namespace {

bool is_plain_integer(std::string_view text) {
  if (!text.empty() && text.front() == '-') {
    text.remove_prefix(1);
  }
  if (text.empty() || (text.size() > 1 && text.front() == '0')) {
    return false;
  }
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::int64_t> Number::as_int64() const {
  if (!is_plain_integer(text)) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) {
    return std::nullopt;  // out of int64 range
  }
  return value;
}

bool Value::as_bool() const {
  assert(is_bool());
  return std::get<bool>(v_);
}

const Number& Value::as_number() const {
  assert(is_number());
  return std::get<Number>(v_);
}

const std::string& Value::as_string() const {
  assert(is_string());
  return std::get<std::string>(v_);
}

const Array& Value::as_array() const {
  assert(is_array());
  return std::get<Array>(v_);
}

Array& Value::as_array() {
  assert(is_array());
  return std::get<Array>(v_);
}

const Object& Value::as_object() const {
  assert(is_object());
  return std::get<Object>(v_);
}

Object& Value::as_object() {
  assert(is_object());
  return std::get<Object>(v_);
}

const Value* Value::find(std::string_view key) const {
  const auto* object = std::get_if<Object>(&v_);
  if (object == nullptr) {
    return nullptr;
  }
  for (const Member& member : *object) {
    if (member.key == key) {
      return &member.value;
    }
  }
  return nullptr;
}

std::optional<std::string_view> Value::find_string(std::string_view key) const {
  const Value* value = find(key);
  if (value == nullptr || !value->is_string()) {
    return std::nullopt;
  }
  return std::string_view(value->as_string());
}

std::string_view Value::type_name() const {
  static constexpr std::string_view kNames[] = {"null",   "boolean", "number",
                                                "string", "array",   "object"};
  return kNames[v_.index()];
}

bool operator==(const Value& a, const Value& b) {
  return a.v_ == b.v_;
}

std::string serialize(const Value& value) {
  std::string out;
  Writer(out).value(value);
  return out;
}

Value object(std::initializer_list<std::pair<std::string_view, Value>> members) {
  Object result;
  result.reserve(members.size());
  for (const auto& [key, value] : members) {
    result.push_back(Member{std::string(key), value});
  }
  return Value(std::move(result));
}

void throw_exception_from_error(const ParseError& error, const boost::source_location&) {
  throw std::invalid_argument("invalid JSON: " + error.message);
}

}  // namespace tillgate::json
