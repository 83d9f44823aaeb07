#pragma once
// The hand-off of an upgraded connection from the HTTP server to the WebSocket side.
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace boost::beast {
template <class NextLayer>
class ssl_stream;  // <boost/beast/ssl/ssl_stream.hpp>, kept out of this header
}

namespace tillgate::net {

// A connection after its TLS handshake (net/tls_stream.hpp has the complete type).
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
// The HTTP request that asked for the upgrade.
using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Takes over the connections of one WebSocket path (net/upgrade_router.hpp says which).
class UpgradeHandler {
 public:
  virtual ~UpgradeHandler() = default;
  // Takes the connection; the HTTP session ends after this returns.
  virtual void upgrade(boost::beast::tcp_stream stream, UpgradeRequest request) = 0;
  // The same over TLS (wss://).
  virtual void upgrade(TlsStream stream, UpgradeRequest request) = 0;
};

}  // namespace tillgate::net
