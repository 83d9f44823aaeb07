#pragma once
// The hand-off of an upgraded connection from the HTTP server to the WebSocket side.
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string_view>

namespace boost::beast {
template <class NextLayer>
class ssl_stream;  // <boost/beast/ssl/ssl_stream.hpp>, kept out of this header
}

namespace tillgate::net {

// A connection after its TLS handshake (net/tls_stream.hpp has the complete type).
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

class UpgradeHandler {
 public:
  virtual ~UpgradeHandler() = default;
  // Whether a WebSocket upgrade to this path is served.
  [[nodiscard]] virtual bool accepts_upgrade(std::string_view path) const = 0;
  // Takes the connection; the HTTP session ends after this returns.
  virtual void upgrade(boost::beast::tcp_stream stream,
                       boost::beast::http::request<boost::beast::http::string_body> request) = 0;
  // The same over TLS (wss://).
  virtual void upgrade(TlsStream stream,
                       boost::beast::http::request<boost::beast::http::string_body> request) = 0;
};

}  // namespace tillgate::net
