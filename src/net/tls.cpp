#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "net/tls_stream.hpp"

namespace tillgate::net {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

// TLS 1.2: forward-secret key exchange (ECDHE) with an AEAD cipher, nothing else: no RSA key
// exchange, no CBC, no SHA-1 MACs. TLS 1.3 suites are all AEAD and keep OpenSSL's default.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The OpenSSL errors queued by the last calls, "; "-joined, and the queue emptied.
std::string openssl_errors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!out.empty()) {
      out += "; ";
    }
    out += text;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// Encrypted keys are not supported: without this, OpenSSL would ask for a passphrase on
// the terminal.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

// A readable regular file, or the reason it is not.
std::string unreadable_reason(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    return std::strerror(errno);
  }
  return {};
}

// ALPN: HTTP/1.1 is the only protocol served. A client that offers ALPN without it (h2
// only) is refused with no_application_protocol; one that offers no ALPN is served.
int select_http11(SSL*, const unsigned char** out, unsigned char* out_length,
                  const unsigned char* offered, unsigned int offered_length, void*) {
  static constexpr unsigned char http11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned int i = 0;
  while (i < offered_length) {
    const unsigned int length = offered[i];
    if (i + 1 + length > offered_length) {
      break;
    }
    if (length == sizeof http11 && std::memcmp(offered + i + 1, http11, sizeof http11) == 0) {
      *out = offered + i + 1;
      *out_length = static_cast<unsigned char>(length);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + length;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

std::string asn1_time_text(const ASN1_TIME* time) {
  std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || ASN1_TIME_print(bio.get(), time) != 1) {
    return "?";
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::string summarize(SSL_CTX* context) {
  X509* leaf = SSL_CTX_get0_certificate(context);
  if (leaf == nullptr) {
    return "no certificate";
  }
  std::string subject = "?";
  if (char* line = X509_NAME_oneline(X509_get_subject_name(leaf), nullptr, 0)) {
    subject = line;
    OPENSSL_free(line);
  }
  std::string out = subject + ", valid until " + asn1_time_text(X509_get0_notAfter(leaf));
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
    out += " (EXPIRED)";
  }
  return out;
}

// Asio's host name check, with the reason recorded in the verify result, so that a failed
// handshake says "hostname mismatch" rather than only "certificate verify failed".
struct HostCheck {
  ssl::host_name_verification check;
  bool host_is_address;

  bool operator()(bool preverified, ssl::verify_context& context) const {
    const bool ok = check(preverified, context);
    if (preverified && !ok) {
      X509_STORE_CTX_set_error(context.native_handle(), host_is_address
                                                            ? X509_V_ERR_IP_ADDRESS_MISMATCH
                                                            : X509_V_ERR_HOSTNAME_MISMATCH);
    }
    return ok;
  }
};

}  // namespace

ServerTls::ServerTls(const TlsFiles& files) : impl_(std::make_unique<Impl>()) {
  using Part = TlsSetupError::Part;
  SSL_CTX* context = impl_->context.native_handle();
  ERR_clear_error();
  SSL_CTX_set_default_passwd_cb(context, &no_passphrase);
  if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(context, kTls12Ciphers) != 1) {
    throw std::runtime_error("cannot set the TLS policy: " + openssl_errors());
  }
  SSL_CTX_set_options(
      context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_alpn_select_cb(context, &select_http11, nullptr);
  static constexpr unsigned char session_context[] = {'t', 'i', 'l', 'l', 'g', 'a', 't', 'e'};
  SSL_CTX_set_session_id_context(context, session_context, sizeof session_context);

  if (const auto reason = unreadable_reason(files.certificate_chain); !reason.empty()) {
    throw TlsSetupError(Part::certificate_chain, "cannot read the certificate chain '" +
                                                     files.certificate_chain + "': " + reason);
  }
  if (SSL_CTX_use_certificate_chain_file(context, files.certificate_chain.c_str()) != 1) {
    throw TlsSetupError(
        Part::certificate_chain,
        "'" + files.certificate_chain + "' is not a PEM certificate chain: " + openssl_errors());
  }
  if (const auto reason = unreadable_reason(files.private_key); !reason.empty()) {
    throw TlsSetupError(Part::private_key,
                        "cannot read the private key '" + files.private_key + "': " + reason);
  }
  std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new_file(files.private_key.c_str(), "r"), &BIO_free);
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, &no_passphrase, nullptr) : nullptr,
      &EVP_PKEY_free);
  if (!key) {
    throw TlsSetupError(
        Part::private_key,
        "'" + files.private_key + "' is not an unencrypted PEM private key: " + openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey(context, key.get()) != 1 || SSL_CTX_check_private_key(context) != 1) {
    throw TlsSetupError(Part::private_key, "the private key '" + files.private_key +
                                               "' does not match the certificate in '" +
                                               files.certificate_chain + "': " + openssl_errors());
  }
  impl_->summary = summarize(context);
}

ServerTls::~ServerTls() = default;

const std::string& ServerTls::certificate_summary() const {
  return impl_->summary;
}

ssl::context make_client_tls_context(const std::string& ca_file) {
  ssl::context context(ssl::context::tls_client);
  if (SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION) != 1) {
    throw std::runtime_error("cannot require TLS 1.2: " + openssl_errors());
  }
  boost::system::error_code ec;
  if (ca_file.empty()) {
    context.set_default_verify_paths(ec);
  } else {
    context.load_verify_file(ca_file, ec);
  }
  if (ec) {
    throw std::runtime_error(ca_file.empty()
                                 ? "cannot load the system's trusted CAs: " + ec.message()
                                 : "cannot load the CA file '" + ca_file + "': " + ec.message());
  }
  context.set_verify_mode(ssl::verify_peer);
  return context;
}

void prepare_client_tls(TlsStream& stream, const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  const bool is_address = !ec;
  if (!is_address && SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()) != 1) {
    throw std::runtime_error("cannot set the TLS server name '" + host + "'");
  }
  stream.set_verify_mode(ssl::verify_peer);
  stream.set_verify_callback(HostCheck{ssl::host_name_verification(host), is_address});
}

std::string describe_client_tls_failure(TlsStream& stream, const boost::system::error_code& ec) {
  const long verify = SSL_get_verify_result(stream.native_handle());
  if (verify != X509_V_OK) {
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  }
  return ec.message();
}

}  // namespace tillgate::net
