#pragma once
// A throwaway certificate authority for TLS tests, made once per test binary with the
// openssl command line in a temporary directory:
//   ca.pem                    the root (EC P-256), what clients trust
//   local.pem/.key            EC, for localhost and 127.0.0.1, signed by the root
//   other.pem/.key            EC, for other.example only, signed by the root
//   intermediate.pem/.key     an intermediate CA, signed by the root
//   gateway.pem/.key          RSA 2048, for localhost and 127.0.0.1, signed by the
//                             intermediate; gateway-chain.pem is it followed by the
//                             intermediate (a chain file, leaf first)
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir.hpp"
#include "webhook_receiver.hpp"

namespace tillgate::testing {

class TestCa {
 public:
  TestCa() : dir_("tillgate-test-ca") {
    const auto& d = dir_.path();
    std::ofstream(d / "req.cnf") << "[req]\n"
                                    "distinguished_name = dn\n"
                                    "x509_extensions = ca\n"
                                    "[dn]\n"
                                    "[ca]\n"
                                    "basicConstraints = critical,CA:TRUE\n"
                                    "keyUsage = critical,keyCertSign,cRLSign\n"
                                    "subjectKeyIdentifier = hash\n";
    std::ofstream(d / "intermediate.ext") << "basicConstraints = critical,CA:TRUE,pathlen:0\n"
                                             "keyUsage = critical,keyCertSign,cRLSign\n"
                                             "subjectKeyIdentifier = hash\n"
                                             "authorityKeyIdentifier = keyid\n";
    std::ofstream(d / "local.ext") << "subjectAltName = DNS:localhost,IP:127.0.0.1\n"
                                      "extendedKeyUsage = serverAuth\n";
    std::ofstream(d / "other.ext") << "subjectAltName = DNS:other.example\n"
                                      "extendedKeyUsage = serverAuth\n";
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string script =
        "cd '" + d.string() + "' && exec >openssl.log 2>&1 && set -e\n" +
        "openssl req -config req.cnf -x509 " + ec +
        " -keyout ca.key -out ca.pem -days 2 -subj '/CN=Tillgate Test CA'\n" +
        "for name in local other; do\n"
        "  openssl req -config req.cnf -new " +
        ec +
        " -keyout $name.key -out $name.csr -subj /CN=$name\n"
        "  openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
        " -extfile $name.ext -out $name.pem\n"
        "done\n"
        "openssl req -config req.cnf -new " +
        ec +
        " -keyout intermediate.key -out intermediate.csr -subj '/CN=Tillgate Test Intermediate'\n"
        "openssl x509 -req -in intermediate.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
        " -extfile intermediate.ext -out intermediate.pem\n"
        "openssl req -config req.cnf -new -newkey rsa:2048 -nodes -keyout gateway.key"
        " -out gateway.csr -subj /CN=gateway\n"
        "openssl x509 -req -in gateway.csr -CA intermediate.pem -CAkey intermediate.key"
        " -CAcreateserial -days 2 -extfile local.ext -out gateway.pem\n"
        "cat gateway.pem intermediate.pem > gateway-chain.pem\n";
    ok_ = std::system(script.c_str()) == 0;
  }
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::string ca_file() const { return path("ca.pem"); }
  // A file in the CA's directory.
  [[nodiscard]] std::string path(const std::string& name) const {
    return (dir_.path() / name).string();
  }
  // "local" or "other": the leaf and its key.
  [[nodiscard]] ReceiverTlsFiles server_files(const std::string& name = "local") const {
    return {dir_.path() / (name + ".pem"), dir_.path() / (name + ".key")};
  }
  // The RSA certificate with its intermediate (a chain file), for a gateway.
  [[nodiscard]] ReceiverTlsFiles chain_files() const {
    return {dir_.path() / "gateway-chain.pem", dir_.path() / "gateway.key"};
  }

 private:
  TempDir dir_;
  bool ok_ = false;
};

// The one CA of this test binary.
inline TestCa& test_ca() {
  static TestCa ca;
  return ca;
}

}  // namespace tillgate::testing
