#pragma once
// What every authenticator takes: the parts of a request credentials are checked against,
// as plain values, not an HttpRequest, so that a WebSocket handshake can be checked by
// the same objects as an HTTP request. Header-only and free of Asio: the fuzz targets
// build the pure authentication steps with it.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_message.hpp"

namespace tillgate::api {

using Headers = std::vector<std::pair<std::string, std::string>>;  // names in lower case

// The parts of a request that credentials are checked against. A view: what it refers to
// must outlive it; an authenticator copies what it keeps before it waits for anything.
struct AuthInput {
  AuthInput(std::string_view request_method, std::string_view request_target,
            const Headers& request_headers, std::string_view request_body,
            std::string_view request_remote_address)
      : method(request_method),
        target(request_target),
        headers(request_headers),
        body(request_body),
        remote_address(request_remote_address) {}
  // An HTTP request is authenticated as it is: implicit, like std::string_view's.
  AuthInput(const net::HttpRequest& request)  // NOLINT(google-explicit-constructor)
      : AuthInput(request.method, request.target, request.headers, request.body,
                  request.remote_address) {}
  AuthInput(const net::HttpRequest&& request) = delete;  // would refer to a temporary

  // The first header with this lower-case name.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) {
        return value;
      }
    }
    return std::nullopt;
  }

  std::string_view method;  // upper case as sent
  std::string_view target;  // path and "?query", as sent
  const Headers& headers;
  std::string_view body;
  std::string_view remote_address;
};

}  // namespace tillgate::api
