// The client-side pieces the other tests rely on, checked without a gateway: the request
// signer (against the openssl tool), the terminal journal, and option parsing.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <vector>

#include "client/http_client.hpp"
#include "client/request_signer.hpp"
#include "gateway_process.hpp"
#include "sim/journal.hpp"
#include "sim/terminal_simulator.hpp"
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

TEST(RequestSigner, StringToSignFollowsTheSpec) {
  EXPECT_EQ(
      client::string_to_sign("GET", "/v1/transactions?limit=5", "2024-01-15T10:30:00.000Z", ""),
      "GET\n/v1/transactions?limit=5\n2024-01-15T10:30:00.000Z\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(RequestSigner, SignatureMatchesOpenssl) {
  TempDir dir;
  const std::string secret = "tgs_" + random_hex(20);
  const std::string body = R"({"amount":"99.99","currency":"USD","paymentMethod":"CARD"})";
  const auto expected = client::compute_signature(secret, "POST", "/v1/terminals/t1/payments",
                                                  "2024-01-15T10:30:00.000Z", body);
  std::ofstream(dir.path() / "s", std::ios::binary) << client::string_to_sign(
      "POST", "/v1/terminals/t1/payments", "2024-01-15T10:30:00.000Z", body);
  const auto actual = run_shell("openssl dgst -sha256 -hmac '" + secret + "' -binary '" +
                                (dir.path() / "s").string() + "' | base64 -w0");
  EXPECT_EQ(expected, actual);
}

TEST(RequestSigner, APreparedSignerSignsAsSignRequest) {
  const client::MerchantCredentials merchant{"tgk_" + random_hex(8), "tgs_" + random_hex(20)};
  client::RequestSigner signer(merchant);
  const std::string stamp = "2024-01-15T10:30:00.000Z";
  for (const std::string& body :
       std::vector<std::string>{"", R"({"amount":"1.00"})", std::string(5000, 'b')}) {
    EXPECT_EQ(signer.sign("POST", "/v1/terminals/t1/payments", body, stamp),
              client::sign_request(merchant, "POST", "/v1/terminals/t1/payments", body, stamp));
  }
  const auto fresh = signer.sign("GET", "/v1/transactions", "");
  ASSERT_EQ(fresh.size(), 3U);
  EXPECT_EQ(fresh[2].second, client::compute_signature(merchant.api_secret, "GET",
                                                       "/v1/transactions", fresh[1].second, ""));
}

TEST(RequestSigner, TimestampsAreIsoMillisecondsAndStrictlyIncreasing) {
  std::string previous;
  for (int i = 0; i < 50; ++i) {
    const auto stamp = client::next_signing_timestamp();
    ASSERT_EQ(stamp.size(), 24u) << stamp;
    EXPECT_EQ(stamp.back(), 'Z');
    EXPECT_GT(stamp, previous);
    previous = stamp;
  }
  const auto headers = client::sign_request({"key", "secret"}, "GET", "/x", "");
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0].first, "x-api-key");
  EXPECT_EQ(headers[1].first, "x-timestamp");
  EXPECT_EQ(headers[2].first, "x-signature");
}

TEST(HttpUrl, Parses) {
  const auto a = client::parse_http_url("http://127.0.0.1:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  const auto b = client::parse_http_url("http://example.com/path");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "example.com");
  EXPECT_EQ(b->port, 80);
  EXPECT_FALSE(b->tls);
  const auto c = client::parse_http_url("https://x:1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "x");
  EXPECT_EQ(c->port, 1);
  EXPECT_TRUE(c->tls);
  const auto d = client::parse_http_url("https://gateway.example/v1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 443);
  EXPECT_TRUE(d->tls);
  EXPECT_FALSE(client::parse_http_url("http://x:0"));
  EXPECT_FALSE(client::parse_http_url("http://:80"));
  EXPECT_FALSE(client::parse_http_url("https://:443"));
  EXPECT_FALSE(client::parse_http_url("ftp://x:21"));
  EXPECT_FALSE(client::parse_http_url("wss://x:1"));  // the terminal command maps ws(s)://
}

TEST(Behavior, Parses) {
  using Kind = sim::Behavior::Kind;
  EXPECT_EQ(sim::parse_behavior("approve")->kind, Kind::approve);
  EXPECT_EQ(sim::parse_behavior("decline")->kind, Kind::decline);
  EXPECT_EQ(sim::parse_behavior("cancel")->kind, Kind::cancel);
  EXPECT_EQ(sim::parse_behavior("ignore")->kind, Kind::ignore);
  EXPECT_EQ(sim::parse_behavior("drop-after-ack")->kind, Kind::drop_after_ack);
  const auto slow = sim::parse_behavior("slow:1500");
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->kind, Kind::slow);
  EXPECT_EQ(slow->delay.count(), 1500);
  EXPECT_EQ(sim::to_string(*slow), "slow:1500");
  EXPECT_FALSE(sim::parse_behavior("slow:"));
  EXPECT_FALSE(sim::parse_behavior("slow:-1"));
  EXPECT_FALSE(sim::parse_behavior("approve "));
}

json::Value result(std::string_view id, std::string_view status) {
  return json::object({{"type", json::Value("payment.result")},
                       {"transactionId", json::Value(id)},
                       {"status", json::Value(status)}});
}

TEST(TerminalJournal, SurvivesReopenAndCompactsWithoutLosingCharges) {
  TempDir dir;
  const auto path = (dir.path() / "j.journal").string();
  {
    sim::Journal journal(path);
    journal.record_seen("T1", "1.00", "USD", "CARD");
    journal.record_charged("T1", "111111");
    journal.record_result("T1", result("T1", "SUCCESS"));
    journal.record_acked("T1", "COMPLETED");
    journal.record_seen("T2", "2.00", "USD", "CARD");
    journal.record_charged("T2", "222222");
    journal.record_result("T2", result("T2", "SUCCESS"));
    journal.record_seen("T3", "3.00", "USD", "CARD");
  }
  // A crash mid-append leaves a torn last line.
  std::ofstream(path, std::ios::app) << R"({"event":"charged","transactionId":"T3","auth)";

  sim::Journal reopened(path);
  const auto* t1 = reopened.find("T1");
  ASSERT_NE(t1, nullptr);
  EXPECT_TRUE(t1->acknowledged());
  EXPECT_EQ(t1->result_status.value_or(""), "SUCCESS");
  EXPECT_EQ(t1->charges, std::vector<std::string>{"111111"});
  const auto* t2 = reopened.find("T2");
  ASSERT_NE(t2, nullptr);
  EXPECT_FALSE(t2->acknowledged());
  ASSERT_TRUE(t2->result);
  const auto* t3 = reopened.find("T3");
  ASSERT_NE(t3, nullptr);
  EXPECT_FALSE(t3->charged()) << "a torn line is not a charge";
  EXPECT_FALSE(t3->has_result());
  const auto pending = reopened.unacknowledged_results();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0]->transaction_id, "T2");

  const auto charges = sim::count_journal_charges(path);
  EXPECT_EQ(charges.at("T1"), 1);
  EXPECT_EQ(charges.at("T2"), 1);
  EXPECT_EQ(charges.count("T3"), 0u);
  const auto text = read_file(path);
  EXPECT_EQ(text.find("auth)"), std::string::npos) << "compaction drops the torn line";
  EXPECT_EQ(text.back(), '\n');
}

TEST(TerminalJournal, MemoryOnlyJournalKeepsState) {
  sim::Journal journal;
  journal.record_seen("T", "1", "JPY", "CASH");
  journal.record_charged("T", "123456");
  ASSERT_NE(journal.find("T"), nullptr);
  EXPECT_TRUE(journal.find("T")->charged());
}

}  // namespace
}  // namespace tillgate::ft
