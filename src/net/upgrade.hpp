#pragma once
// The hand-off of an upgraded connection from the HTTP server to the WebSocket side.
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string_view>

namespace tillgate::net {

class UpgradeHandler {
 public:
  virtual ~UpgradeHandler() = default;
  // Whether a WebSocket upgrade to this path is served.
  [[nodiscard]] virtual bool accepts_upgrade(std::string_view path) const = 0;
  // Takes the connection; the HTTP session ends after this returns.
  virtual void upgrade(boost::beast::tcp_stream stream,
                       boost::beast::http::request<boost::beast::http::string_body> request) = 0;
};

}  // namespace tillgate::net
