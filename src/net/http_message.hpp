#pragma once
// The request and response as the API layer sees them: plain values, no Beast types, so
// the routes compile without Asio/Beast headers.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tillgate::net {

struct HttpRequest {
  std::string method;  // upper case as sent: "GET", "POST"
  std::string target;  // exactly as sent: path plus "?query" when there is one
  std::string path;    // target before '?'
  std::string query;   // target after '?', without it
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  std::string remote_address;

  // First header with this lower-case name.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) {
        return value;
      }
    }
    return std::nullopt;
  }
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace tillgate::net
