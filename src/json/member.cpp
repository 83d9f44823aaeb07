#include "json/member.hpp"

#include <string>

namespace tillgate::json {
namespace {

[[nodiscard]] bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Steps over JSON text without building values; every step answers false at malformed
// or truncated input.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  [[nodiscard]] std::size_t pos() const { return pos_; }
  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) {
      ++pos_;
    }
  }
  [[nodiscard]] bool at(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  [[nodiscard]] bool take(char c) {
    if (!at(c)) {
      return false;
    }
    ++pos_;
    return true;
  }
  // Past the string that starts here; its text between the quotes, escapes as written.
  [[nodiscard]] std::optional<std::string_view> string() {
    if (!at('"')) {
      return std::nullopt;
    }
    const std::size_t start = ++pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '\\') {
        ++pos_;  // the escaped character (\u's hex digits are plain characters)
      } else if (c == '"') {
        return text_.substr(start, pos_ - 1 - start);
      }
    }
    return std::nullopt;
  }
  // Past the value that starts here.
  [[nodiscard]] bool value() {
    if (at('"')) {
      return string().has_value();
    }
    if (pos_ >= text_.size()) {
      return false;
    }
    if (text_[pos_] == '{' || text_[pos_] == '[') {
      return container();
    }
    const std::size_t start = pos_;
    while (pos_ < text_.size() && !is_space(text_[pos_]) && text_[pos_] != ',' &&
           text_[pos_] != '}' && text_[pos_] != ']') {
      ++pos_;
    }
    return pos_ > start;
  }

 private:
  [[nodiscard]] bool container() {
    std::size_t depth = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        if (!string()) {
          return false;
        }
        continue;
      }
      ++pos_;
      if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return true;
      }
    }
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// Whether a key as written (escapes undecoded) names `key`.
[[nodiscard]] bool key_is(std::string_view written, std::string_view key) {
  if (written.find('\\') == std::string_view::npos) {
    return written == key;
  }
  const auto decoded = parse("\"" + std::string(written) + "\"");
  return decoded && decoded->is_string() && decoded->as_string() == key;
}

}  // namespace

std::optional<std::string_view> member_text(std::string_view text, std::string_view key) {
  Scanner scanner(text);
  if (!scanner.take('{') || scanner.at('}')) {
    return std::nullopt;
  }
  for (;;) {
    const auto written_key = scanner.string();
    if (!written_key || !scanner.take(':')) {
      return std::nullopt;
    }
    scanner.skip_space();  // to the value's first character
    const std::size_t start = scanner.pos();
    if (!scanner.value()) {
      return std::nullopt;
    }
    if (key_is(*written_key, key)) {
      return text.substr(start, scanner.pos() - start);
    }
    if (!scanner.take(',')) {
      return std::nullopt;
    }
  }
}

std::optional<Value> parse_member(std::string_view text, std::string_view key,
                                  const ParseLimits& limits) {
  const auto written = member_text(text, key);
  if (!written) {
    return std::nullopt;
  }
  auto value = parse(*written, limits);
  return value ? std::optional<Value>(std::move(*value)) : std::nullopt;
}

}  // namespace tillgate::json
