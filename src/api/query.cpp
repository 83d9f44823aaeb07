#include "api/query.hpp"

#include <cctype>
#include <charconv>

#include "crypto/crypto.hpp"

namespace tillgate::api {

std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(
    std::string_view query) {
  auto decode = [](std::string_view text) -> std::optional<std::string> {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '+') {
        out += ' ';
      } else if (text[i] != '%') {
        out += text[i];
      } else {
        if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
          return std::nullopt;
        }
        out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      }
    }
    return out;
  };
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const auto eq = pair.find('=');
    auto key = decode(pair.substr(0, eq));
    auto value = decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key || !value) {
      return std::nullopt;
    }
    params.emplace_back(std::move(*key), std::move(*value));
  }
  return params;
}

std::string encode_cursor(std::int64_t sequence) {
  return crypto::base64url_encode("v1:" + std::to_string(sequence));
}

std::optional<std::int64_t> decode_cursor(std::string_view cursor) {
  const auto text = crypto::base64url_decode(cursor);
  if (!text || !text->starts_with("v1:") || text->size() > 23) {
    return std::nullopt;
  }
  std::int64_t sequence = 0;
  const auto digits = std::string_view(*text).substr(3);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), sequence);
  if (ec != std::errc{} || end != digits.data() + digits.size() || sequence < 1) {
    return std::nullopt;
  }
  return sequence;
}

std::vector<FieldProblem> read_query(std::string_view query, const ApplyQueryParam& apply) {
  std::vector<FieldProblem> problems;
  const auto params = parse_query(query);
  if (!params) {
    problems.push_back({"query", "has a malformed percent escape"});
    return problems;
  }
  for (const auto& [name, value] : *params) {
    apply(name, value, problems);
  }
  return problems;
}

bool apply_page_param(const std::string& name, const std::string& value, std::int64_t& limit,
                      std::optional<std::int64_t>& before_sequence,
                      std::vector<FieldProblem>& problems) {
  if (name == "limit") {
    std::int64_t parsed = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (ec != std::errc{} || end != value.data() + value.size() || parsed < 1 || parsed > 200) {
      problems.push_back({"limit", "must be an integer from 1 to 200"});
    }
    limit = parsed;
    return true;
  }
  if (name == "cursor") {
    before_sequence = decode_cursor(value);
    if (!before_sequence) {
      problems.push_back({"cursor", "is not a cursor this API returned; pass nextCursor as is"});
    }
    return true;
  }
  return false;
}

}  // namespace tillgate::api
