// TLS termination in `tillgate serve` (TILLGATE_TLS_CERT_FILE, TILLGATE_TLS_KEY_FILE): the
// real binary with a throwaway CA's RSA certificate and its intermediate (a chain file),
// driven by clients that are not ours (curl, openssl s_client) and by ours (the HTTP
// client, the simulated terminal over wss://, the pay and terminal commands).
#include <gtest/gtest.h>

#include <filesystem>

#include "../support/run_shell.hpp"
#include "../support/test_ca.hpp"
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using testing::test_ca;

EnvMap tls_env() {
  const auto files = test_ca().chain_files();
  return {{"TILLGATE_TLS_CERT_FILE", files.certificate_chain.string()},
          {"TILLGATE_TLS_KEY_FILE", files.private_key.string()}};
}

struct ShellResult {
  int status = -1;
  std::string out;  // stdout and stderr
};

ShellResult shell(const std::string& command) {
  ShellResult result;
  result.out = testing::run_shell(command + " 2>&1", result.status);
  return result;
}

// `curl` for `path` on the gateway, trusting the test CA unless `ca_file` says otherwise;
// prints "<status> <HTTP version>" ("000 0" when there was no answer).
ShellResult curl(std::uint16_t port, std::string_view path, const std::string& extra = {},
                 const std::string& host = "127.0.0.1") {
  return shell("curl -sS -4 --max-time 15 -o /dev/null -w '%{http_code} %{http_version}' " + extra +
               " https://" + host + ":" + std::to_string(port) + std::string(path));
}

// `openssl s_client -brief` against the gateway with `options`, stdin closed at once. The
// system's openssl.cnf (Debian: TLS 1.2 minimum, security level 2) is left out, so that the
// client offers what it is told and only the gateway can refuse it.
ShellResult s_client(std::uint16_t port, const std::string& options) {
  return shell("OPENSSL_CONF=/dev/null openssl s_client -brief -connect 127.0.0.1:" +
               std::to_string(port) + " -CAfile '" + test_ca().ca_file() +
               "' -verify_return_error -verify_ip 127.0.0.1 " + options + " </dev/null");
}

class TlsTest : public GatewayTest {
 protected:
  EnvMap gateway_env() override {
    auto env = tls_env();
    env["TILLGATE_HTTP_READ_TIMEOUT_S"] = "2";  // the handshake deadline too
    return env;
  }
  void SetUp() override {
    ASSERT_TRUE(test_ca().ok()) << "openssl could not make the test certificates";
    GatewayTest::SetUp();
    gateway().set_client_ca_file(test_ca().ca_file());
  }
  std::uint16_t port() { return gateway().port(); }
};

TEST_F(TlsTest, CurlVerifiesTheChainAndGetsAnAnswerOverHttp11) {
  const auto ca = "--cacert '" + test_ca().ca_file() + "'";
  // curl offers h2 and http/1.1 (ALPN): the gateway picks http/1.1.
  auto res = curl(port(), "/healthz", ca);
  EXPECT_EQ(res.out, "200 1.1") << res.out;
  EXPECT_EQ(res.status, 0);
  // By name (SNI and the certificate's DNS name) as well as by address.
  res = curl(port(), "/readyz", ca, "localhost");
  EXPECT_EQ(res.out, "200 1.1") << res.out;
  // The chain really is checked: without the test CA curl refuses the certificate.
  res = curl(port(), "/healthz");
  EXPECT_NE(res.status, 0) << res.out;
  EXPECT_NE(res.out.find("certificate"), std::string::npos) << res.out;
  // A client that offers only h2 is refused: the gateway speaks HTTP/1.1 only.
  const auto h2 = s_client(port(), "-alpn h2");
  EXPECT_NE(h2.status, 0) << h2.out;
  EXPECT_NE(h2.out.find("no application protocol"), std::string::npos) << h2.out;
  EXPECT_EQ(plain_request("GET", "/healthz").status, 200);
  EXPECT_NE(gateway().stderr_text().find("TLS on"), std::string::npos);
}

TEST_F(TlsTest, SignedPaymentOverHttpsWithATerminalOverWss) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  SimulatedTerminal terminal(gateway(), device, "approve");
  ASSERT_TRUE(terminal.wait_online()) << "the simulated terminal did not get hello.ok over wss";
  EXPECT_EQ(terminal_status(merchant, device.device_id), "online");
  const auto res = signed_request(merchant, "POST", payments_path(device.device_id),
                                  payment_body("12.50", "USD", "T-TLS-1"));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(string_at(parse_json(res.body), "status"), "SUCCESS") << res.body;
  EXPECT_EQ(transaction_status(merchant, "T-TLS-1"), "COMPLETED");
  EXPECT_EQ(terminal.status().results_sent, 1U);
  // A graceful stop with TLS connections open (close_notify, then WebSocket 1001).
  EXPECT_EQ(exit_code_of(gateway().stop()), 0) << log_tail(gateway().stderr_text());
}

// The pay and terminal commands, as an operator runs them: https:// and wss:// URLs with
// --ca-file. The terminal pairs over HTTPS, then connects over WSS.
TEST_F(TlsTest, CommandLineClientsSpeakTls) {
  const auto merchant = create_merchant();
  const auto codes = signed_request(merchant, "POST", "/v1/devices/codes");
  ASSERT_EQ(codes.status, 201) << codes.body;
  const auto code = string_at(parse_json(codes.body), "code");
  TempDir dir("tillgate-tls-terminal");
  const std::string wss_url = "wss://127.0.0.1:" + std::to_string(port());
  ChildProcess terminal(
      {TILLGATE_BINARY, "terminal", "--url", wss_url, "--ca-file", test_ca().ca_file(),
       "--pair-code", code, "--journal", (dir.path() / "till.journal").string()},
      {}, dir.path(), dir.path() / "terminal.stderr");
  const auto connected = terminal.wait_for_line("connected as ", 30s);
  ASSERT_TRUE(connected) << terminal.stdout_text() << read_file(dir.path() / "terminal.stderr");
  // "<time> connected as <deviceId>, connectionId <id>"
  const auto id_start = connected->find("connected as ") + 13;
  const auto device_id = connected->substr(id_start, connected->find(',', id_start) - id_start);

  const std::vector<std::string> pay = {"pay",
                                        "--url",
                                        gateway().url(),
                                        "--api-key",
                                        merchant.credentials.api_key,
                                        "--api-secret",
                                        merchant.credentials.api_secret,
                                        "--terminal",
                                        device_id,
                                        "--amount",
                                        "3.10",
                                        "--currency",
                                        "EUR",
                                        "--json"};
  auto with_ca = pay;
  with_ca.insert(with_ca.end(), {"--ca-file", test_ca().ca_file()});
  const auto paid = run_tillgate(with_ca);
  EXPECT_EQ(paid.exit_code, 0) << paid.out << paid.err;
  EXPECT_NE(paid.out.find("\"SUCCESS\""), std::string::npos) << paid.out << paid.err;
  // Without the CA the certificate is not trusted, and nothing is sent.
  const auto untrusted = run_tillgate(pay);
  EXPECT_EQ(untrusted.exit_code, 1) << untrusted.out;
  EXPECT_NE(untrusted.err.find("certificate verify failed"), std::string::npos) << untrusted.err;
  const auto listed = signed_request(merchant, "GET", "/v1/transactions");
  const auto page = parse_json(listed.body);
  const auto* items = page.find("transactions");
  ASSERT_TRUE(items != nullptr && items->is_array()) << listed.body;
  EXPECT_EQ(items->as_array().size(), 1U) << listed.body;
  (void)terminal.terminate(10s);
}

TEST_F(TlsTest, OnlyTls12WithEcdheAeadOrTls13) {
  const auto tls13 = s_client(port(), "-tls1_3");
  EXPECT_EQ(tls13.status, 0) << tls13.out;
  EXPECT_NE(tls13.out.find("Protocol version: TLSv1.3"), std::string::npos) << tls13.out;
  EXPECT_NE(tls13.out.find("Verification: OK"), std::string::npos) << tls13.out;

  for (const std::string cipher : {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                                   "ECDHE-RSA-CHACHA20-POLY1305"}) {
    const auto allowed = s_client(port(), "-tls1_2 -cipher " + cipher);
    EXPECT_EQ(allowed.status, 0) << cipher << "\n" << allowed.out;
    EXPECT_NE(allowed.out.find("Protocol version: TLSv1.2"), std::string::npos) << allowed.out;
    EXPECT_NE(allowed.out.find("Ciphersuite: " + cipher), std::string::npos) << allowed.out;
  }
  // The client's default list puts AES-256 first; the server's order wins.
  const auto preferred = s_client(port(), "-tls1_2");
  EXPECT_NE(preferred.out.find("Ciphersuite: ECDHE-RSA-AES128-GCM-SHA256"), std::string::npos)
      << preferred.out;

  // Refused by the gateway (its alert), not by the client: older protocol versions...
  for (const std::string version : {"-tls1_1", "-tls1"}) {
    const auto old = s_client(port(), version + " -cipher DEFAULT@SECLEVEL=0");
    EXPECT_NE(old.status, 0) << version << "\n" << old.out;
    EXPECT_NE(old.out.find("alert protocol version"), std::string::npos) << version << "\n"
                                                                         << old.out;
  }
  // ...and TLS 1.2 without forward secrecy or without AEAD (RSA key exchange, CBC).
  for (const std::string cipher :
       {"AES128-SHA256", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384"}) {
    const auto weak = s_client(port(), "-tls1_2 -cipher " + cipher);
    EXPECT_NE(weak.status, 0) << cipher << "\n" << weak.out;
    EXPECT_NE(weak.out.find("alert handshake failure"), std::string::npos) << cipher << "\n"
                                                                           << weak.out;
  }
  // Renegotiation is refused: the client asks for it ("R"), the gateway says no.
  const auto renegotiate = shell(
      "(sleep 1; echo R; sleep 2) | OPENSSL_CONF=/dev/null openssl s_client -connect "
      "127.0.0.1:" +
      std::to_string(port()) + " -CAfile '" + test_ca().ca_file() + "' -tls1_2");
  EXPECT_NE(renegotiate.out.find("RENEGOTIATING"), std::string::npos) << renegotiate.out;
  EXPECT_NE(renegotiate.out.find("no renegotiation"), std::string::npos) << renegotiate.out;
  EXPECT_EQ(plain_request("GET", "/healthz").status, 200);
}

TEST_F(TlsTest, PlainHttpToTheTlsPortGetsNoAnswer) {
  RawConnection raw(gateway().host(), port());
  ASSERT_TRUE(raw.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const auto answer = raw.read_until_close(5s);
  EXPECT_TRUE(raw.closed_within(1s)) << "the connection is still open";
  EXPECT_EQ(answer.find("HTTP/"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("healthz"), std::string::npos) << answer;
  // Failed handshakes are logged at debug level, and the gateway serves on.
  EXPECT_TRUE(eventually([&] {
    return gateway().stderr_text().find("TLS handshake with 127.0.0.1 failed") != std::string::npos;
  }));
  EXPECT_EQ(plain_request("GET", "/healthz").status, 200);
  const auto ca = "--cacert '" + test_ca().ca_file() + "'";
  EXPECT_EQ(curl(port(), "/healthz", ca).out, "200 1.1");
}

// TILLGATE_HTTP_READ_TIMEOUT_S is 2 here: a client that opens a connection and never
// finishes its handshake (nothing sent, or half a ClientHello) is cut off after it, while
// another client is served meanwhile.
TEST_F(TlsTest, AnUnfinishedHandshakeIsCutOffAtTheReadTimeout) {
  RawConnection silent(gateway().host(), port());
  RawConnection half(gateway().host(), port());
  // A TLS record header announcing a 512-byte ClientHello, then nothing more.
  ASSERT_TRUE(half.send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)));
  const auto ca = "--cacert '" + test_ca().ca_file() + "'";
  EXPECT_EQ(curl(port(), "/healthz", ca + " --interface 127.0.0.2").out, "200 1.1");
  EXPECT_FALSE(silent.closed_within(500ms)) << "closed before the deadline";
  EXPECT_TRUE(silent.closed_within(6s)) << "the silent connection was not cut off";
  EXPECT_TRUE(half.closed_within(6s)) << "the half handshake was not cut off";
  EXPECT_EQ(half.received().find("HTTP/"), std::string::npos);
  EXPECT_EQ(plain_request("GET", "/healthz").status, 200);
}

// A connection counts toward TILLGATE_MAX_HTTP_CONNECTIONS_PER_IP from its accept, before
// and during its handshake: handshakes left hanging cannot take more than their share.
class TlsConnectionCapTest : public TlsTest {
 protected:
  EnvMap gateway_env() override {
    auto env = tls_env();
    env["TILLGATE_MAX_HTTP_CONNECTIONS_PER_IP"] = "2";
    env["TILLGATE_HTTP_READ_TIMEOUT_S"] = "30";
    return env;
  }
};

TEST_F(TlsConnectionCapTest, PendingHandshakesCountTowardThePerAddressCap) {
  const auto ca = "--cacert '" + test_ca().ca_file() + "'";
  auto first = std::make_unique<RawConnection>(gateway().host(), port());
  auto second = std::make_unique<RawConnection>(gateway().host(), port());
  // Both accepted and counted before the third arrives (accepts are taken in order).
  const auto refused = curl(port(), "/healthz", ca);
  EXPECT_NE(refused.status, 0) << refused.out;
  EXPECT_NE(refused.out.find("000 0"), std::string::npos) << refused.out;
  EXPECT_EQ(curl(port(), "/healthz", ca + " --interface 127.0.0.2").out, "200 1.1");
  first.reset();
  second.reset();
  EXPECT_TRUE(eventually([&] { return curl(port(), "/healthz", ca).out == "200 1.1"; }));
}

// Wrong TLS settings stop the start, exit 1, with a message naming the setting and the file,
// before the database is opened.
class TlsMisconfigurationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(test_ca().ok()); }

  CommandResult serve(EnvMap env) {
    env["TILLGATE_LISTEN"] = "127.0.0.1:0";
    env["TILLGATE_DB"] = "sqlite:" + db_path();
    return run_tillgate({"serve"}, env);
  }
  std::string db_path() const { return (dir_.path() / "tillgate.db").string(); }
  void expect_refused(const CommandResult& result, std::initializer_list<std::string> needles) {
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_EQ(result.out.find("listening on"), std::string::npos) << result.out;
    for (const auto& needle : needles) {
      EXPECT_NE(result.err.find(needle), std::string::npos) << "missing '" << needle << "' in:\n"
                                                            << result.err;
    }
    EXPECT_FALSE(std::filesystem::exists(db_path())) << "the store was opened";
  }

  TempDir dir_{"tillgate-tls-config"};
};

TEST_F(TlsMisconfigurationTest, OnlyOneOfTheTwoFiles) {
  const auto files = test_ca().chain_files();
  expect_refused(serve({{"TILLGATE_TLS_CERT_FILE", files.certificate_chain.string()}}),
                 {"TILLGATE_TLS_KEY_FILE is not set", files.certificate_chain.string()});
  expect_refused(serve({{"TILLGATE_TLS_KEY_FILE", files.private_key.string()}}),
                 {"TILLGATE_TLS_CERT_FILE is not set", files.private_key.string()});
}

TEST_F(TlsMisconfigurationTest, MissingOrUnusableFiles) {
  const auto files = test_ca().chain_files();
  const auto missing = (dir_.path() / "missing.pem").string();
  expect_refused(serve({{"TILLGATE_TLS_CERT_FILE", missing},
                        {"TILLGATE_TLS_KEY_FILE", files.private_key.string()}}),
                 {"TILLGATE_TLS_CERT_FILE", missing, "No such file"});
  expect_refused(serve({{"TILLGATE_TLS_CERT_FILE", files.certificate_chain.string()},
                        {"TILLGATE_TLS_KEY_FILE", missing}}),
                 {"TILLGATE_TLS_KEY_FILE", missing, "No such file"});
  // A key where the certificate should be, and the other way round.
  expect_refused(serve({{"TILLGATE_TLS_CERT_FILE", files.private_key.string()},
                        {"TILLGATE_TLS_KEY_FILE", files.private_key.string()}}),
                 {"TILLGATE_TLS_CERT_FILE", "not a PEM certificate chain"});
  expect_refused(serve({{"TILLGATE_TLS_CERT_FILE", files.certificate_chain.string()},
                        {"TILLGATE_TLS_KEY_FILE", files.certificate_chain.string()}}),
                 {"TILLGATE_TLS_KEY_FILE", "not an unencrypted PEM private key"});
}

TEST_F(TlsMisconfigurationTest, AKeyThatDoesNotMatchTheCertificate) {
  const auto files = test_ca().chain_files();
  // Another key of the same type (RSA), and one of another type (EC).
  const auto other_rsa = (dir_.path() / "other-rsa.key").string();
  ASSERT_EQ(
      shell("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '" + other_rsa + "'")
          .status,
      0);
  for (const auto& key : {other_rsa, test_ca().server_files("local").private_key.string()}) {
    expect_refused(serve({{"TILLGATE_TLS_CERT_FILE", files.certificate_chain.string()},
                          {"TILLGATE_TLS_KEY_FILE", key}}),
                   {"TILLGATE_TLS_KEY_FILE", key, "does not match the certificate"});
  }
  // The matching pair starts.
  GatewayProcess good(tls_env());
  EXPECT_TRUE(good.running());
}

}  // namespace
}  // namespace tillgate::ft
