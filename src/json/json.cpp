// The document model and its compact serializer; the parser is in parse.cpp.
#include "json/json.hpp"

#include <cassert>
#include <charconv>
#include <stdexcept>

#include "json/plain_bytes.hpp"

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

void write_escape(std::string& out, unsigned char c) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
  }
}

void write_string(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size() + 2);
  out += '"';
  std::size_t run_start = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.size() - i >= detail::kWordBytes && !detail::word_needs_escaping(&text[i])) {
      i += detail::kWordBytes;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(text.substr(run_start, i - run_start));
    write_escape(out, c);
    run_start = ++i;
  }
  out.append(text.substr(run_start));
  out += '"';
}

void write_value(std::string& out, const Value& value);

void write_array(std::string& out, const Array& array) {
  out += '[';
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    write_value(out, array[i]);
  }
  out += ']';
}

void write_object(std::string& out, const Object& object) {
  out += '{';
  for (std::size_t i = 0; i < object.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    write_string(out, object[i].key);
    out += ':';
    write_value(out, object[i].value);
  }
  out += '}';
}

void write_value(std::string& out, const Value& value) {
  if (value.is_null()) {
    out += "null";
  } else if (value.is_bool()) {
    out += value.as_bool() ? "true" : "false";
  } else if (value.is_number()) {
    out += value.as_number().text;
  } else if (value.is_string()) {
    write_string(out, value.as_string());
  } else if (value.is_array()) {
    write_array(out, value.as_array());
  } else {
    write_object(out, value.as_object());
  }
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
  write_value(out, value);
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
