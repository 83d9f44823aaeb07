// The compact JSON writer (writer.hpp); json::serialize writes a document model through it.
#include "json/writer.hpp"

#include <array>
#include <charconv>

#include "json/json.hpp"
#include "json/plain_bytes.hpp"

namespace tillgate::json {
namespace {

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

// Where the first byte that needs escaping is, or text.size(): a word at a time.
std::size_t plain_prefix(std::string_view text) {
  std::size_t i = 0;
  while (text.size() - i >= detail::kWordBytes && !detail::word_needs_escaping(&text[i])) {
    i += detail::kWordBytes;
  }
  for (; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == '"' || c == '\\') {
      return i;
    }
  }
  return i;
}

// The string's quoted, escaped text; the quotes and a plain text in one append each.
void write_string(std::string& out, std::string_view text) {
  std::size_t i = plain_prefix(text);
  out += '"';
  if (i == text.size()) {
    out.append(text);
    out += '"';
    return;
  }
  std::size_t run_start = 0;
  while (i < text.size()) {
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

}  // namespace

void Writer::separate() {
  if (needs_comma_) {
    out_ += ',';
  }
}

Writer& Writer::begin_object() {
  separate();
  out_ += '{';
  needs_comma_ = false;
  return *this;
}

Writer& Writer::end_object() {
  out_ += '}';
  needs_comma_ = true;
  return *this;
}

Writer& Writer::begin_array() {
  separate();
  out_ += '[';
  needs_comma_ = false;
  return *this;
}

Writer& Writer::end_array() {
  out_ += ']';
  needs_comma_ = true;
  return *this;
}

Writer& Writer::key(Key name) {
  separate();
  out_ += '"';
  out_.append(name.name());
  out_.append("\":", 2);
  needs_comma_ = false;
  return *this;
}

Writer& Writer::key_text(std::string_view name) {
  separate();
  write_string(out_, name);
  out_ += ':';
  needs_comma_ = false;
  return *this;
}

Writer& Writer::string(std::string_view text) {
  separate();
  write_string(out_, text);
  needs_comma_ = true;
  return *this;
}

Writer& Writer::null() {
  return raw("null");
}

Writer& Writer::boolean(bool value) {
  return raw(value ? "true" : "false");
}

Writer& Writer::integer(std::int64_t value) {
  std::array<char, 24> digits{};
  const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  return raw(std::string_view(digits.data(), static_cast<std::size_t>(result.ptr - digits.data())));
}

Writer& Writer::raw(std::string_view json_text) {
  separate();
  out_ += json_text;
  needs_comma_ = true;
  return *this;
}

Writer& Writer::value(const Value& value) {
  if (value.is_null()) {
    return null();
  }
  if (value.is_bool()) {
    return boolean(value.as_bool());
  }
  if (value.is_number()) {
    return raw(value.as_number().text);
  }
  if (value.is_string()) {
    return string(value.as_string());
  }
  if (value.is_array()) {
    begin_array();
    for (const auto& element : value.as_array()) {
      this->value(element);
    }
    return end_array();
  }
  begin_object();
  for (const auto& member : value.as_object()) {
    key_text(member.key);
    this->value(member.value);
  }
  return end_object();
}

}  // namespace tillgate::json
