#pragma once
// The SSL types behind net/tls.hpp, for the .cpp files that make TLS streams (the HTTP
// server, the terminal side, the HTTP client, the simulated terminal). Not for headers:
// it brings in Asio's SSL support and OpenSSL.
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <string>

#include "net/tls.hpp"
#include "net/upgrade.hpp"

namespace tillgate::net {

struct ServerTls::Impl {
  boost::asio::ssl::context context{boost::asio::ssl::context::tls_server};
  std::string summary;
};

// A client context: TLS 1.2 or 1.3, the server's certificate verified against `ca_file`
// (PEM) or, when it is empty, the system's trust store. Throws std::runtime_error naming
// the file when it cannot be loaded.
[[nodiscard]] boost::asio::ssl::context make_client_tls_context(const std::string& ca_file);

// Before a client handshake: the server name for SNI (names only, RFC 6066) and the check
// that the certificate is for `host` (a name or an IP address). Throws std::runtime_error.
void prepare_client_tls(TlsStream& stream, const std::string& host);

// Why a client handshake failed, with the certificate verification result when that was it.
[[nodiscard]] std::string describe_client_tls_failure(TlsStream& stream,
                                                      const boost::system::error_code& ec);

}  // namespace tillgate::net
