#pragma once
// TLS termination for the listener: the certificate chain, its key and the protocol policy,
// loaded and checked once at start. No Asio or OpenSSL here; the few .cpp files that make
// TLS streams include net/tls_stream.hpp.
#include <memory>
#include <stdexcept>
#include <string>

namespace tillgate::net {

struct TlsFiles {
  std::string certificate_chain;  // PEM: the server certificate first, then intermediates
  std::string private_key;        // PEM, not encrypted
};

// Why the files cannot serve; part() says which file is at fault.
class TlsSetupError : public std::runtime_error {
 public:
  enum class Part { certificate_chain, private_key };
  TlsSetupError(Part part, const std::string& message) : std::runtime_error(message), part_(part) {}
  [[nodiscard]] Part part() const { return part_; }

 private:
  Part part_;
};

// The server side of TLS: TLS 1.2 (ECDHE key exchange with AES-GCM or ChaCha20-Poly1305
// only) and TLS 1.3 (OpenSSL's default suites), the server's cipher order, no compression,
// no renegotiation, ALPN "http/1.1" only. Session tickets are on.
class ServerTls {
 public:
  // Loads the chain and the key and checks that they belong together; throws TlsSetupError
  // naming the file.
  explicit ServerTls(const TlsFiles& files);
  ~ServerTls();
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // "CN=..., valid until ...": what the log says at start.
  [[nodiscard]] const std::string& certificate_summary() const;

  struct Impl;  // net/tls_stream.hpp
  [[nodiscard]] Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tillgate::net
