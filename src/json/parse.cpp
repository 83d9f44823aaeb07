// The strict RFC 8259 parser. It is iterative, with an explicit stack bounded by
// ParseLimits::max_depth, so hostile nesting costs neither call stack nor unbounded memory.
#include "json/json.hpp"

#include <cstdint>
#include <functional>
#include <unordered_map>

namespace tillgate::json {
namespace {

// Objects up to this size are checked for duplicate keys by a linear scan; bigger ones get
// a hash index so a hostile object with thousands of keys stays linear.
constexpr std::size_t kLinearKeyScanLimit = 16;

bool is_digit(unsigned c) {
  return c >= '0' && c <= '9';
}

int hex_value(unsigned c) {
  if (c >= '0' && c <= '9') {
    return static_cast<int>(c - '0');
  }
  if (c >= 'a' && c <= 'f') {
    return static_cast<int>(c - 'a' + 10);
  }
  if (c >= 'A' && c <= 'F') {
    return static_cast<int>(c - 'A' + 10);
  }
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// "'x'" for printable ASCII, "byte 0x1F" otherwise, so messages never carry raw bytes.
std::string describe_byte(unsigned char c) {
  if (c >= 0x20 && c < 0x7F) {
    return std::string("character '") + static_cast<char>(c) + "'";
  }
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 0x0F];
}

struct Frame {
  bool is_object = false;
  Array array;
  Object object;
  std::string key;  // the member whose value is being parsed
  std::unordered_multimap<std::size_t, std::size_t> key_index;  // hash -> member index
  bool indexed = false;
};

class Parser {
 public:
  Parser(std::string_view text, const ParseLimits& limits) : text_(text), limits_(limits) {}

  boost::system::result<Value, ParseError> run() {
    Value value;
    for (;;) {
      bool opened = false;
      if (!parse_value_or_open(value, opened)) {
        return std::move(*error_);
      }
      if (opened) {
        continue;
      }
      if (!attach_and_close(value)) {
        return std::move(*error_);
      }
      if (stack_.empty()) {
        return value;
      }
    }
  }

 private:
  [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }
  [[nodiscard]] unsigned peek() const {
    return at_end() ? 0U : static_cast<unsigned char>(text_[pos_]);
  }
  [[nodiscard]] unsigned byte_at(std::size_t pos) const {
    return pos < text_.size() ? static_cast<unsigned char>(text_[pos]) : 0U;
  }

  bool fail(std::size_t offset, std::string_view problem) {
    if (!error_) {
      error_ = ParseError{offset, std::string(problem) + " at byte " + std::to_string(offset)};
    }
    return false;
  }

  bool fail_unexpected() {
    if (at_end()) {
      return fail(pos_, "unexpected end of input");
    }
    return fail(pos_, "unexpected " + describe_byte(static_cast<unsigned char>(peek())));
  }

  void skip_whitespace() {
    while (!at_end()) {
      const unsigned c = peek();
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      ++pos_;
    }
  }

  // Reads a scalar into `value`, or opens a container: then `opened` is set, unless the
  // container was empty, in which case it is already closed into `value`.
  bool parse_value_or_open(Value& value, bool& opened) {
    skip_whitespace();
    switch (peek()) {
      case '[':
      case '{':
        return open_container(value, opened);
      case '"': {
        std::string text;
        if (!parse_string(text)) {
          return false;
        }
        value = Value(std::move(text));
        return true;
      }
      case 't':
        return parse_literal("true", Value(true), value);
      case 'f':
        return parse_literal("false", Value(false), value);
      case 'n':
        return parse_literal("null", Value(nullptr), value);
      default:
        if (peek() == '-' || is_digit(peek())) {
          return parse_number(value);
        }
        return fail_unexpected();
    }
  }

  bool open_container(Value& value, bool& opened) {
    if (stack_.size() >= limits_.max_depth) {
      return fail(pos_, "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    const bool is_object = peek() == '{';
    ++pos_;
    stack_.emplace_back().is_object = is_object;
    skip_whitespace();
    if (peek() == (is_object ? '}' : ']')) {
      ++pos_;
      value = pop_frame();
      return true;
    }
    opened = true;
    return !is_object || parse_key(stack_.back());
  }

  Value pop_frame() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    return frame.is_object ? Value(std::move(frame.object)) : Value(std::move(frame.array));
  }

  // Puts a finished value into its parent, then closes every container that ends here.
  // Returns with the stack empty (the document's value is in `value`) or positioned at the
  // next value to read.
  bool attach_and_close(Value& value) {
    for (;;) {
      if (stack_.empty()) {
        skip_whitespace();
        return at_end() ||
               fail(pos_, "unexpected " + describe_byte(static_cast<unsigned char>(peek())) +
                              " after the JSON value");
      }
      Frame& top = stack_.back();
      add_to_frame(top, std::move(value));
      skip_whitespace();
      const char closer = top.is_object ? '}' : ']';
      if (peek() == static_cast<unsigned>(closer)) {
        ++pos_;
        value = pop_frame();
        continue;
      }
      if (peek() != ',') {
        return at_end() ? fail_unexpected()
                        : fail(pos_, std::string("expected ',' or '") + closer + "', found " +
                                         describe_byte(static_cast<unsigned char>(peek())));
      }
      ++pos_;
      skip_whitespace();
      if (peek() == static_cast<unsigned>(closer)) {
        return fail(pos_, "trailing comma");
      }
      return !top.is_object || parse_key(top);
    }
  }

  void add_to_frame(Frame& frame, Value value) {
    if (!frame.is_object) {
      frame.array.push_back(std::move(value));
      return;
    }
    frame.object.push_back(Member{std::move(frame.key), std::move(value)});
    if (frame.indexed) {
      frame.key_index.emplace(std::hash<std::string>{}(frame.object.back().key),
                              frame.object.size() - 1);
    }
  }

  bool parse_key(Frame& frame) {
    skip_whitespace();
    const std::size_t key_offset = pos_;
    if (peek() != '"') {
      return at_end() ? fail_unexpected()
                      : fail(pos_, "expected a string key, found " +
                                       describe_byte(static_cast<unsigned char>(peek())));
    }
    if (!parse_string(frame.key)) {
      return false;
    }
    if (is_duplicate_key(frame)) {
      return fail(key_offset, "duplicate object key");
    }
    skip_whitespace();
    if (peek() != ':') {
      return at_end() ? fail_unexpected()
                      : fail(pos_, "expected ':', found " +
                                       describe_byte(static_cast<unsigned char>(peek())));
    }
    ++pos_;
    return true;
  }

  bool is_duplicate_key(Frame& frame) {
    const Object& members = frame.object;
    if (members.size() < kLinearKeyScanLimit) {
      for (const Member& member : members) {
        if (member.key == frame.key) {
          return true;
        }
      }
      return false;
    }
    const std::hash<std::string> hash;
    if (!frame.indexed) {
      for (std::size_t i = 0; i < members.size(); ++i) {
        frame.key_index.emplace(hash(members[i].key), i);
      }
      frame.indexed = true;
    }
    const auto [first, last] = frame.key_index.equal_range(hash(frame.key));
    for (auto it = first; it != last; ++it) {
      if (members[it->second].key == frame.key) {
        return true;
      }
    }
    return false;
  }

  bool parse_literal(std::string_view word, Value literal, Value& value) {
    if (text_.substr(pos_, word.size()) != word) {
      return fail_unexpected();
    }
    pos_ += word.size();
    value = std::move(literal);
    return true;
  }

  void skip_digits() {
    while (is_digit(peek())) {
      ++pos_;
    }
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, kept as its exact text.
  bool parse_number(Value& value) {
    const std::size_t start = pos_;
    if (peek() == '-') {
      ++pos_;
    }
    if (!is_digit(peek())) {
      return fail(pos_, "expected a digit in the number");
    }
    if (peek() == '0') {
      ++pos_;
      if (is_digit(peek())) {
        return fail(pos_, "leading zero in the number");
      }
    } else {
      skip_digits();
    }
    if (peek() == '.') {
      ++pos_;
      if (!is_digit(peek())) {
        return fail(pos_, "expected a digit after the decimal point");
      }
      skip_digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') {
        ++pos_;
      }
      if (!is_digit(peek())) {
        return fail(pos_, "expected a digit in the exponent");
      }
      skip_digits();
    }
    value = Value(Number{std::string(text_.substr(start, pos_ - start))});
    return true;
  }

  // Length of the well-formed UTF-8 sequence at pos_ (RFC 3629: no overlongs, no
  // surrogates, nothing above U+10FFFF), or 0.
  [[nodiscard]] std::size_t utf8_sequence_length() const {
    const auto in = [&](std::size_t k, unsigned low, unsigned high) {
      const unsigned c = byte_at(pos_ + k);
      return pos_ + k < text_.size() && c >= low && c <= high;
    };
    const auto tail = [&](std::size_t k) { return in(k, 0x80, 0xBF); };
    const unsigned lead = peek();
    if (lead >= 0xC2 && lead <= 0xDF) {
      return tail(1) ? 2 : 0;
    }
    if (lead >= 0xE0 && lead <= 0xEF) {
      const unsigned low = lead == 0xE0 ? 0xA0 : 0x80;
      const unsigned high = lead == 0xED ? 0x9F : 0xBF;
      return in(1, low, high) && tail(2) ? 3 : 0;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
      const unsigned low = lead == 0xF0 ? 0x90 : 0x80;
      const unsigned high = lead == 0xF4 ? 0x8F : 0xBF;
      return in(1, low, high) && tail(2) && tail(3) ? 4 : 0;
    }
    return 0;
  }

  // Advances over plain characters and valid UTF-8, stopping at '"', '\\', a control
  // character, invalid UTF-8 or the end.
  void skip_plain_run() {
    while (!at_end()) {
      const unsigned c = peek();
      if (c >= 0x80) {
        const std::size_t length = utf8_sequence_length();
        if (length == 0) {
          return;
        }
        pos_ += length;
      } else if (c >= 0x20 && c != '"' && c != '\\') {
        ++pos_;
      } else {
        return;
      }
    }
  }

  bool parse_string(std::string& out) {
    const std::size_t start = pos_;
    ++pos_;  // the opening quote
    out.clear();
    for (;;) {
      const std::size_t run_start = pos_;
      skip_plain_run();
      out.append(text_.substr(run_start, pos_ - run_start));
      if (at_end()) {
        return fail(start, "unterminated string");
      }
      const unsigned c = peek();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (!parse_escape(out)) {
          return false;
        }
        continue;
      }
      if (c < 0x20) {
        return fail(pos_, "unescaped control " + describe_byte(static_cast<unsigned char>(c)) +
                              " in string");
      }
      return fail(pos_, "invalid UTF-8 in string");
    }
  }

  bool parse_escape(std::string& out) {
    const std::size_t start = pos_;
    ++pos_;  // the backslash
    if (at_end()) {
      return fail(start, "unterminated escape sequence in string");
    }
    const unsigned c = peek();
    ++pos_;
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out += static_cast<char>(c);
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'u':
        return parse_unicode_escape(start, out);
      default:
        return fail(start, "invalid escape sequence in string");
    }
  }

  // Reads the four hex digits after "\u"; pos_ is just past the 'u'.
  bool read_hex4(std::size_t escape_start, std::uint32_t& unit) {
    unit = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const int digit = hex_value(byte_at(pos_ + i));
      if (pos_ + i >= text_.size() || digit < 0) {
        return fail(escape_start, "invalid \\u escape: expected four hex digits");
      }
      unit = (unit << 4) | static_cast<std::uint32_t>(digit);
    }
    pos_ += 4;
    return true;
  }

  bool parse_unicode_escape(std::size_t escape_start, std::string& out) {
    std::uint32_t unit = 0;
    if (!read_hex4(escape_start, unit)) {
      return false;
    }
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
      return fail(escape_start, "lone low surrogate in \\u escape");
    }
    if (unit < 0xD800 || unit > 0xDBFF) {
      append_utf8(out, unit);
      return true;
    }
    const std::size_t low_start = pos_;
    if (byte_at(pos_) != '\\' || byte_at(pos_ + 1) != 'u') {
      return fail(escape_start, "lone high surrogate in \\u escape");
    }
    pos_ += 2;
    std::uint32_t low = 0;
    if (!read_hex4(low_start, low)) {
      return false;
    }
    if (low < 0xDC00 || low > 0xDFFF) {
      return fail(escape_start, "lone high surrogate in \\u escape");
    }
    append_utf8(out, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
    return true;
  }

  std::string_view text_;
  ParseLimits limits_;
  std::size_t pos_ = 0;
  std::vector<Frame> stack_;
  std::optional<ParseError> error_;
};

}  // namespace

boost::system::result<Value, ParseError> parse(std::string_view text, const ParseLimits& limits) {
  return Parser(text, limits).run();
}

}  // namespace tillgate::json
