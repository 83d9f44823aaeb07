#pragma once
// Compact JSON written straight into a string, member by member, for the bodies the
// gateway writes on every payment (its answer, its webhook bodies, its POS notification):
// no document model is built for them, so no value, key or member vector is allocated
// only to be serialized once and freed. json::serialize(Value) writes through it too, so
// escaping and layout are the same, byte for byte, whichever way a body is built.
//
// The caller keeps the structure right: a key() before each value in an object, none in an
// array, every begin_*() closed by its end_*(). Commas are the writer's.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tillgate::json {

class Value;

// An object member's name written in the source: checked when the program is compiled to
// need no escaping, so the writer copies it as it is.
class Key {
 public:
  template <std::size_t N>
  consteval Key(const char (&name)[N]) : name_(name, N - 1) {  // NOLINT: implicit by design
    for (const char c : name_) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') {
        throw "a Key needs no escaping";  // not a constant expression: a compile error
      }
    }
  }
  [[nodiscard]] constexpr std::string_view name() const { return name_; }

 private:
  std::string_view name_;
};

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  // The same, making room for a body of about `expected_bytes` at once rather than growing
  // the string step by step while it is written.
  Writer(std::string& out, std::size_t expected_bytes) : out_(out) { out_.reserve(expected_bytes); }

  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  // An object member's name; its value is the next call.
  Writer& key(Key name);
  // The same for a name known only when the program runs (escaped as it needs).
  Writer& key_text(std::string_view name);

  Writer& string(std::string_view text);
  Writer& null();
  Writer& boolean(bool value);
  Writer& integer(std::int64_t value);
  // A string, or null when `text` is absent.
  template <class OptionalText>
  Writer& string_or_null(const OptionalText& text) {
    return text ? string(*text) : null();
  }
  // A value of the document model (json::serialize's output for it).
  Writer& value(const Value& value);
  // JSON text the gateway wrote itself (a stored document or member of one), copied as it
  // is: it must be one compact, valid JSON value.
  Writer& raw(std::string_view json_text);

 private:
  void separate();

  std::string& out_;
  bool needs_comma_ = false;  // a value was written at this level: the next one needs ','
};

}  // namespace tillgate::json
