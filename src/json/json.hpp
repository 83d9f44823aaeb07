#pragma once
// A small, strict JSON document model (RFC 8259) that keeps every number's exact source
// text. Boost.JSON 1.81 turns non-integers into doubles, which would silently change
// "99.99" into 99.98999...; payment amounts must be parsed from the digits as sent.
#include <boost/system/result.hpp>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tillgate::json {

class Value;
struct Member;
using Array = std::vector<Value>;
using Object = std::vector<Member>;  // insertion order kept; duplicate keys refused by parse

// A JSON number kept as its exact, grammar-checked source text ("99.99", "-1", "1e3").
struct Number {
  std::string text;
  // The value when the text is a plain integer (no fraction, no exponent) within int64.
  [[nodiscard]] std::optional<std::int64_t> as_int64() const;
  friend bool operator==(const Number&, const Number&) = default;
};

class Value {
 public:
  Value();
  Value(std::nullptr_t);
  Value(bool b);
  Value(int i);
  Value(std::int64_t i);
  Value(Number n);
  Value(std::string s);
  Value(std::string_view s);
  Value(const char* s);
  Value(Array a);
  Value(Object o);
  // Out of line (below Member): Member must be complete where these are defined.
  Value(const Value& other);
  Value(Value&& other) noexcept;
  Value& operator=(const Value& other);
  Value& operator=(Value&& other) noexcept;
  ~Value();

  [[nodiscard]] bool is_null() const { return std::holds_alternative<std::nullptr_t>(v_); }
  [[nodiscard]] bool is_bool() const { return std::holds_alternative<bool>(v_); }
  [[nodiscard]] bool is_number() const { return std::holds_alternative<Number>(v_); }
  [[nodiscard]] bool is_string() const { return std::holds_alternative<std::string>(v_); }
  [[nodiscard]] bool is_array() const { return std::holds_alternative<Array>(v_); }
  [[nodiscard]] bool is_object() const { return std::holds_alternative<Object>(v_); }

  // Precondition: the matching is_*() is true (checked by assert).
  [[nodiscard]] bool as_bool() const;
  [[nodiscard]] const Number& as_number() const;
  [[nodiscard]] const std::string& as_string() const;
  [[nodiscard]] const Array& as_array() const;
  [[nodiscard]] Array& as_array();
  [[nodiscard]] const Object& as_object() const;
  [[nodiscard]] Object& as_object();

  // For objects: the member's value, or nullptr when absent or when this is not an object.
  [[nodiscard]] const Value* find(std::string_view key) const;
  // For objects: the string member's value, or nullopt (absent, null, or not a string).
  [[nodiscard]] std::optional<std::string_view> find_string(std::string_view key) const;

  // "null", "boolean", "number", "string", "array", "object": for error messages.
  [[nodiscard]] std::string_view type_name() const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  std::variant<std::nullptr_t, bool, Number, std::string, Array, Object> v_;
};

struct Member {
  std::string key;
  Value value;
  friend bool operator==(const Member&, const Member&) = default;
};

inline Value::Value() : v_(nullptr) {}
inline Value::Value(std::nullptr_t) : v_(nullptr) {}
inline Value::Value(bool b) : v_(b) {}
inline Value::Value(int i) : v_(Number{std::to_string(i)}) {}
inline Value::Value(std::int64_t i) : v_(Number{std::to_string(i)}) {}
inline Value::Value(Number n) : v_(std::move(n)) {}
inline Value::Value(std::string s) : v_(std::move(s)) {}
inline Value::Value(std::string_view s) : v_(std::string(s)) {}
inline Value::Value(const char* s) : v_(std::string(s)) {}
inline Value::Value(Array a) : v_(std::move(a)) {}
inline Value::Value(Object o) : v_(std::move(o)) {}
inline Value::Value(const Value& other) = default;
inline Value::Value(Value&& other) noexcept = default;
inline Value& Value::operator=(const Value& other) = default;
inline Value& Value::operator=(Value&& other) noexcept = default;
inline Value::~Value() = default;

struct ParseLimits {
  std::size_t max_depth = 32;  // nesting of arrays and objects
};

struct ParseError {
  std::size_t offset = 0;  // byte offset of the problem in the input
  std::string message;     // e.g. "unexpected character '}' at byte 17"
};

// Found by ADL so result<Value, ParseError>::value() compiles; it throws
// std::invalid_argument. Prefer checking the result: bad JSON is an expected input error.
[[noreturn]] void throw_exception_from_error(const ParseError& error,
                                             const boost::source_location& loc);

// Strict: one value with optional surrounding whitespace; UTF-8 checked; no comments,
// no trailing commas, no NaN/Infinity, no duplicate object keys; \u escapes (with
// surrogate pairs) decoded to UTF-8; nesting over max_depth is an error.
[[nodiscard]] boost::system::result<Value, ParseError> parse(std::string_view text,
                                                             const ParseLimits& limits = {});

// Compact output; strings escaped per RFC 8259 (control chars as \u00XX); numbers written
// from their text exactly. serialize(parse(x)) == x for compact, canonical input.
[[nodiscard]] std::string serialize(const Value& value);

// Builds an object in insertion order: object({{"a", 1}, {"b", "x"}}).
[[nodiscard]] Value object(std::initializer_list<std::pair<std::string_view, Value>> members);

}  // namespace tillgate::json
