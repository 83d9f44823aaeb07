// The webhook delivery client against the programmable receiver (tests/support): what a
// delivery attempt records for an answer, a refusal, a slow, silent or hostile endpoint,
// and HTTPS with certificate and host-name verification.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "../../support/temp_dir.hpp"
#include "../../support/test_ca.hpp"
#include "../../support/webhook_receiver.hpp"
#include "webhooks/delivery_client.hpp"
#include "webhooks/signature.hpp"

namespace tillgate {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::ReceiverReply;
using testing::WebhookReceiver;
using webhooks::DeliveryAttempt;
using webhooks::WebhookClientSettings;
using webhooks::WebhookHttpClient;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Runs one attempt to completion on a fresh io_context on this thread.
// The receivers of these tests listen on 127.0.0.1, which a default client refuses.
// The gateway's default attempt timeout (app::Config::webhook_attempt_timeout_ms).
WebhookClientSettings default_settings() {
  WebhookClientSettings settings;
  settings.attempt_timeout = std::chrono::seconds(10);
  return settings;
}

WebhookClientSettings local_settings() {
  WebhookClientSettings settings = default_settings();
  settings.allow_private_addresses = true;
  return settings;
}

DeliveryAttempt post_once(WebhookClientSettings settings, std::string url, HeaderList headers = {},
                          std::string body = R"({"eventType":"ping"})") {
  asio::io_context io;
  WebhookHttpClient client(io.get_executor(), std::move(settings));
  std::optional<DeliveryAttempt> result;
  auto attempt = client.post(std::move(url), std::move(headers), std::move(body));
  asio::co_spawn(io, std::move(attempt), [&result](std::exception_ptr error, DeliveryAttempt done) {
    if (error) {
      std::rethrow_exception(error);
    }
    result = std::move(done);
  });
  io.run();
  if (!result) {
    throw std::runtime_error("the attempt did not complete");
  }
  return *result;
}

DeliveryAttempt post_once(std::string url) {
  return post_once(local_settings(), std::move(url));
}

// Without TILLGATE_WEBHOOK_ALLOW_PRIVATE, loopback is never connected to: by address, by a
// name that resolves to it, over http and https alike.
TEST(WebhookClient, ADefaultClientSendsNothingToALoopbackReceiver) {
  WebhookReceiver receiver;
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    const auto attempt = post_once(default_settings(), receiver.url("/webhook", host));
    EXPECT_FALSE(attempt.http_status.has_value()) << host;
    EXPECT_NE(attempt.error.find("TILLGATE_WEBHOOK_ALLOW_PRIVATE"), std::string::npos)
        << host << ": " << attempt.error;
  }
  const auto https = post_once(default_settings(),
                               "https://127.0.0.1:" + std::to_string(receiver.port()) + "/webhook");
  EXPECT_NE(https.error.find("private"), std::string::npos) << https.error;
  EXPECT_EQ(receiver.request_count(), 0U);
  // Allowed, the same receiver gets the request.
  EXPECT_EQ(post_once(local_settings(), receiver.url()).http_status, 200);
  EXPECT_EQ(receiver.request_count(), 1U);
}

TEST(WebhookUrl, ParsesWhatTheClientNeeds) {
  std::string error;
  auto url = webhooks::parse_webhook_url("https://hooks.example.com/a/b?x=1&y=%20#frag", error);
  ASSERT_TRUE(url) << error;
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "hooks.example.com");
  EXPECT_FALSE(url->host_is_address);
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->target, "/a/b?x=1&y=%20");
  EXPECT_EQ(url->host_header, "hooks.example.com");

  url = webhooks::parse_webhook_url("HTTP://Example.com", error);
  ASSERT_TRUE(url) << error;
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target, "/");

  url = webhooks::parse_webhook_url("http://127.0.0.1:8080/hook", error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_TRUE(url->host_is_address);
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->host_header, "127.0.0.1:8080");

  url = webhooks::parse_webhook_url("https://[::1]:8443/hook", error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->host, "::1");
  EXPECT_TRUE(url->host_is_address);
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->host_header, "[::1]:8443");

  url = webhooks::parse_webhook_url("https://[::1]:443/", error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->host_header, "[::1]");
}

TEST(WebhookUrl, RefusesWhatItCannotOrMustNotDeliverTo) {
  for (const std::string bad :
       {"", "hooks.example.com/path", "/relative", "ftp://example.com/", "ws://example.com/",
        "http://user:secret@example.com/", "https://user@example.com/", "http:///path",
        "http://example.com:0/", "http://example.com:65536/", "http://exa%0D%0Ample.com/",
        "http://exa mple.com/", "http://[v1.x]/"}) {
    std::string error;
    EXPECT_FALSE(webhooks::parse_webhook_url(bad, error)) << bad;
    EXPECT_TRUE(error.starts_with("url: ")) << bad << " -> " << error;
  }
}

TEST(WebhookClient, MalformedUrlIsAFailedAttemptNotAnException) {
  const auto attempt = post_once("http://user:pw@127.0.0.1:1/");
  EXPECT_FALSE(attempt.succeeded());
  EXPECT_FALSE(attempt.http_status);
  EXPECT_EQ(attempt.error, "url: user information (user@host) is not allowed");
}

TEST(WebhookClient, DeliversBodyAndHeadersIntact) {
  WebhookReceiver receiver;
  receiver.script({ReceiverReply::with_body("thanks", 202)});
  const std::string secret = webhooks::generate_webhook_secret();
  const std::string body =
      R"({"eventType":"payment.completed","eventId":"evt_1","data":{"note":"caf)"
      "\xc3\xa9"
      R"( \"quoted\"\n"}})";
  const HeaderList headers = {
      {"webhook-id", "evt_1"},
      {"webhook-timestamp", "1714000000"},
      {"webhook-signature", webhooks::sign_webhook(secret, "evt_1", 1714000000, body)}};
  const auto before = std::chrono::system_clock::now();
  const auto attempt = post_once(local_settings(), receiver.url("/hooks/a?x=1"), headers, body);

  EXPECT_TRUE(attempt.succeeded()) << attempt.error;
  EXPECT_EQ(attempt.http_status, 202);
  EXPECT_EQ(attempt.error, "");
  EXPECT_EQ(attempt.response_body, "thanks");
  EXPECT_GE(attempt.started_at,
            std::chrono::time_point_cast<std::chrono::milliseconds>(before) - 1s);
  ASSERT_EQ(receiver.request_count(), 1u);
  const auto got = receiver.requests().front();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/hooks/a?x=1");
  EXPECT_EQ(got.body, body);
  EXPECT_EQ(got.header("content-type"), "application/json");
  EXPECT_EQ(got.header("content-length"), std::to_string(body.size()));
  EXPECT_EQ(got.header("user-agent"), "Tillgate-Webhooks/" TILLGATE_VERSION);
  EXPECT_EQ(got.header("host"), "127.0.0.1:" + std::to_string(receiver.port()));
  EXPECT_EQ(got.header("connection"), "close");
  EXPECT_EQ(got.header("webhook-id"), "evt_1");
  EXPECT_EQ(got.header("webhook-timestamp"), "1714000000");
  // What arrived verifies as a Standard Webhooks receiver would check it.
  EXPECT_FALSE(webhooks::verify_webhook(
      secret, *got.header("webhook-id"), *got.header("webhook-timestamp"), got.body,
      *got.header("webhook-signature"), domain::Timestamp(std::chrono::seconds(1714000000))));
}

TEST(WebhookClient, ReadsTheResponseBody) {
  WebhookReceiver receiver;
  receiver.script({ReceiverReply::with_status(204)});
  receiver.set_default(ReceiverReply::with_body("accepted", 200));
  auto attempt = post_once(receiver.url());
  EXPECT_TRUE(attempt.succeeded()) << attempt.error;
  EXPECT_EQ(attempt.http_status, 204);
  EXPECT_EQ(attempt.response_body, "");
  EXPECT_FALSE(attempt.response_truncated);
  attempt = post_once(receiver.url());
  EXPECT_TRUE(attempt.succeeded()) << attempt.error;
  EXPECT_EQ(attempt.response_body, "accepted");
  EXPECT_FALSE(attempt.response_truncated);
}

TEST(WebhookClient, ServerErrorIsAFailedAttemptWithItsStatus) {
  WebhookReceiver receiver;
  receiver.script({ReceiverReply::with_status(500), ReceiverReply::with_status(302)});
  auto attempt = post_once(receiver.url());
  EXPECT_FALSE(attempt.succeeded());
  EXPECT_EQ(attempt.http_status, 500);
  EXPECT_EQ(attempt.error, "");
  attempt = post_once(receiver.url());  // a redirect is not followed, and not a success
  EXPECT_FALSE(attempt.succeeded());
  EXPECT_EQ(attempt.http_status, 302);
  attempt = post_once(receiver.url());  // the script is used up: the default 200
  EXPECT_TRUE(attempt.succeeded()) << attempt.error;
  EXPECT_EQ(receiver.request_count(), 3u);
}

TEST(WebhookClient, ConnectionRefusedThenBackOnTheSamePort) {
  WebhookReceiver receiver;
  const auto port = receiver.port();
  receiver.set_down(true);
  auto attempt = post_once(receiver.url());
  EXPECT_FALSE(attempt.succeeded());
  EXPECT_FALSE(attempt.http_status);
  EXPECT_EQ(attempt.error, "connect: connection refused");

  receiver.set_down(false);
  EXPECT_EQ(receiver.port(), port);
  attempt = post_once(receiver.url());
  EXPECT_TRUE(attempt.succeeded()) << attempt.error;
  EXPECT_EQ(receiver.request_count(), 1u);
}

TEST(WebhookClient, SlowEndpointTimesOutAtTheAttemptDeadline) {
  WebhookReceiver receiver;
  const auto delay = 5s;  // far beyond the deadline; the receiver is stopped, not waited for
  receiver.set_default(ReceiverReply::delayed(delay));
  WebhookClientSettings settings = local_settings();
  settings.attempt_timeout = 300ms;
  const auto attempt = post_once(settings, receiver.url());
  EXPECT_FALSE(attempt.succeeded());
  EXPECT_FALSE(attempt.http_status);
  EXPECT_EQ(attempt.error, "timeout after 300 ms (read)");
  EXPECT_GE(attempt.duration, 300ms);
  EXPECT_LT(attempt.duration, delay);
  EXPECT_EQ(receiver.request_count(), 1u);  // the request did arrive
}

TEST(WebhookClient, DroppedConnectionIsAFailedAttempt) {
  WebhookReceiver receiver;
  receiver.script({ReceiverReply::dropped(), ReceiverReply::dropped(50ms)});
  for (int i = 0; i < 2; ++i) {
    const auto attempt = post_once(receiver.url());
    EXPECT_FALSE(attempt.succeeded());
    EXPECT_FALSE(attempt.http_status);
    EXPECT_TRUE(attempt.error == "read: connection closed by the endpoint" ||
                attempt.error == "read: connection reset by peer")
        << attempt.error;
  }
  EXPECT_EQ(receiver.request_count(), 2u);
}

TEST(WebhookClient, OversizedResponseIsReadUpToTheLimitWithoutFailing) {
  WebhookReceiver receiver;
  receiver.set_default(ReceiverReply::with_body(std::string(1024 * 1024, 'x'), 200));
  WebhookClientSettings settings = local_settings();
  settings.max_response_bytes = 1000;
  const auto attempt = post_once(settings, receiver.url());
  EXPECT_TRUE(attempt.succeeded()) << attempt.error;
  EXPECT_EQ(attempt.http_status, 200);
  EXPECT_EQ(attempt.response_body, std::string(1000, 'x'));
  EXPECT_TRUE(attempt.response_truncated);
}

struct Finished {
  DeliveryAttempt attempt;
  std::chrono::steady_clock::time_point at;
};

// One network thread, two attempts in flight: the fast endpoint's answer does not wait for
// the slow endpoint's.
TEST(WebhookClient, SlowEndpointDoesNotHoldUpAnother) {
  WebhookReceiver slow;
  WebhookReceiver fast;
  const auto slow_delay = 2s;
  slow.set_default(ReceiverReply::delayed(slow_delay));
  asio::io_context io;
  WebhookHttpClient client(io.get_executor(), local_settings());
  std::optional<Finished> slow_done;
  std::optional<Finished> fast_done;
  const auto record = [](std::optional<Finished>& into) {
    return [&into](std::exception_ptr error, DeliveryAttempt attempt) {
      if (error) {
        std::rethrow_exception(error);
      }
      into = Finished{std::move(attempt), std::chrono::steady_clock::now()};
    };
  };
  const auto started = std::chrono::steady_clock::now();
  asio::co_spawn(io, client.post(slow.url(), {}, "{}"), record(slow_done));
  asio::co_spawn(io, client.post(fast.url(), {}, "{}"), record(fast_done));
  io.run();

  ASSERT_TRUE(slow_done && fast_done);
  EXPECT_TRUE(slow_done->attempt.succeeded()) << slow_done->attempt.error;
  EXPECT_TRUE(fast_done->attempt.succeeded()) << fast_done->attempt.error;
  EXPECT_LT(fast_done->at, slow_done->at);
  EXPECT_LT(fast_done->at - started, slow_delay / 2);
  EXPECT_GE(slow_done->attempt.duration, slow_delay);
}

// The test binary's throwaway CA (tests/support/test_ca.hpp): "local" is for localhost and
// 127.0.0.1, "other" for other.example only.
class WebhookClientTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(testing::test_ca().ok())
        << "openssl failed; see " << testing::test_ca().path("openssl.log");
  }

  static testing::ReceiverTlsFiles files(const std::string& name) {
    return testing::test_ca().server_files(name);
  }
  static WebhookClientSettings trusting_test_ca() {
    WebhookClientSettings settings = local_settings();
    settings.extra_ca_file = testing::test_ca().ca_file();
    return settings;
  }
};

TEST_F(WebhookClientTls, SucceedsWhenTheCaIsTrusted) {
  WebhookReceiver receiver(files("local"));
  ASSERT_TRUE(receiver.url().starts_with("https://127.0.0.1:"));
  const std::string body = R"({"eventType":"ping","data":{}})";
  auto attempt = post_once(trusting_test_ca(), receiver.url(), {{"webhook-id", "evt_1"}}, body);
  EXPECT_TRUE(attempt.succeeded()) << attempt.error;
  // By name too: SNI is sent and the certificate's DNS name is checked.
  attempt = post_once(trusting_test_ca(), receiver.url("/webhook", "localhost"));
  EXPECT_TRUE(attempt.succeeded()) << attempt.error;
  ASSERT_EQ(receiver.request_count(), 2u);
  const auto got = receiver.requests().front();
  EXPECT_EQ(got.body, body);
  EXPECT_EQ(got.header("webhook-id"), "evt_1");
}

TEST_F(WebhookClientTls, UnknownCaFailsVerification) {
  WebhookReceiver receiver(files("local"));
  const auto attempt = post_once(receiver.url());
  EXPECT_FALSE(attempt.succeeded());
  EXPECT_FALSE(attempt.http_status);
  EXPECT_EQ(attempt.error,
            "tls: certificate verify failed: unable to get local issuer certificate");
  EXPECT_EQ(receiver.request_count(), 0u);
  // The client aborted the handshake (the receiver notices a moment later, on its thread).
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  while (receiver.tls_handshake_failures() == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(receiver.tls_handshake_failures(), 1u);
}

TEST_F(WebhookClientTls, CertificateForAnotherNameFails) {
  WebhookReceiver receiver(files("other"));
  auto attempt = post_once(trusting_test_ca(), receiver.url("/webhook", "localhost"));
  EXPECT_FALSE(attempt.succeeded());
  EXPECT_EQ(attempt.error, "tls: certificate verify failed: hostname mismatch");
  attempt = post_once(trusting_test_ca(), receiver.url());
  EXPECT_FALSE(attempt.succeeded());
  EXPECT_EQ(attempt.error, "tls: certificate verify failed: IP address mismatch");
  EXPECT_EQ(receiver.request_count(), 0u);
}

TEST_F(WebhookClientTls, DeadlineCoversTheTlsExchange) {
  WebhookReceiver receiver(files("local"));
  receiver.set_default(ReceiverReply::delayed(5s));
  auto settings = trusting_test_ca();
  settings.attempt_timeout = 300ms;
  const auto attempt = post_once(settings, receiver.url());
  EXPECT_FALSE(attempt.succeeded());
  EXPECT_EQ(attempt.error, "timeout after 300 ms (read)");
  EXPECT_LT(attempt.duration, 5s);
  EXPECT_EQ(receiver.request_count(), 1u);
}

TEST_F(WebhookClientTls, PlainHttpEndpointBehindAnHttpsUrlFails) {
  WebhookReceiver receiver;  // plain HTTP
  const auto attempt =
      post_once(trusting_test_ca(), "https://127.0.0.1:" + std::to_string(receiver.port()) + "/");
  EXPECT_FALSE(attempt.succeeded());
  EXPECT_FALSE(attempt.http_status);
  EXPECT_TRUE(attempt.error.starts_with("tls: ")) << attempt.error;
}

TEST_F(WebhookClientTls, MissingCaFileIsAConfigurationError) {
  asio::io_context io;
  WebhookClientSettings settings = local_settings();
  settings.extra_ca_file = testing::test_ca().path("absent.pem");
  EXPECT_THROW(WebhookHttpClient(io.get_executor(), settings), std::runtime_error);
}

}  // namespace
}  // namespace tillgate
