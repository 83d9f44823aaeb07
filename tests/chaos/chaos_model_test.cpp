// The chaos test's checks on hand-made evidence: a consistent run passes, and each kind of
// loss, contradiction or double charge is caught (so a clean chaos run means something).
#include <gtest/gtest.h>

#include "chaos_model.hpp"

namespace tillgate::chaos {
namespace {

using namespace std::chrono_literals;

const Clock::time_point t0 = Clock::now();

Answer answer(Call call, int sent_ms, int received_ms, int status, std::string code,
              std::string authorization_code = {}) {
  Answer a;
  a.call = call;
  a.sent = t0 + std::chrono::milliseconds(sent_ms);
  a.received = t0 + std::chrono::milliseconds(received_ms);
  a.http_status = status;
  a.code = std::move(code);
  a.body = "{}";
  a.amount = "12.34";
  a.authorization_code = std::move(authorization_code);
  a.body_transaction_id = "T1";
  return a;
}

StoredTransaction stored(std::string status, std::string auth = {}) {
  StoredTransaction t;
  t.transaction_id = "T1";
  t.device_id = "till-1";
  t.status = std::move(status);
  t.amount = "12.34";
  t.authorization_code = std::move(auth);
  t.body = "{...}";
  return t;
}

ReceivedEvent event(std::string type, std::string data_status, std::string id = "evt_1") {
  ReceivedEvent e;
  e.event_id = std::move(id);
  e.event_type = std::move(type);
  e.transaction_id = "T1";
  e.data_status = std::move(data_status);
  e.copies = 1;
  return e;
}

// One standard-mode payment paid after a transport error and a 504, as it should be.
Evidence consistent_run() {
  Evidence e;
  Payment p;
  p.transaction_id = "T1";
  p.device_id = "till-1";
  p.amount = "12.34";
  p.answers = {answer(Call::pay, 0, 5, 0, ""), answer(Call::pay, 10, 5010, 504, "TIMEOUT"),
               answer(Call::pay, 5020, 5100, 200, "SUCCESS", "123456")};
  e.payments.push_back(p);
  e.stored["T1"] = stored("COMPLETED", "123456");
  e.listed["T1"] = {0, stored("COMPLETED", "123456")};
  e.journals["T1"].devices = {"till-1"};
  e.journals["T1"].charges = {"123456"};
  e.journals["T1"].acked = "COMPLETED";
  e.events.push_back(event("payment.completed", "SUCCESS"));
  return e;
}

std::map<std::string, const Invariant*> by_name(const std::vector<Invariant>& invariants) {
  std::map<std::string, const Invariant*> out;
  for (const auto& inv : invariants) {
    out[inv.name] = &inv;
  }
  return out;
}

std::size_t violations_of(const Evidence& e, const std::string& name) {
  const auto invariants = check_invariants(e);
  const auto named = by_name(invariants);
  EXPECT_TRUE(named.contains(name)) << name;
  return named.contains(name) ? named.at(name)->violations.size() : 0;
}

TEST(ChaosModel, AConsistentRunHasNoViolationsAndCountsWhatItChecked) {
  const auto invariants = check_invariants(consistent_run());
  for (const auto& inv : invariants) {
    EXPECT_TRUE(inv.violations.empty()) << inv.name << ": " << inv.violations.front();
    if (inv.name != "voided-was-reversed") {
      EXPECT_GT(inv.checked, 0U) << inv.name;
    }
  }
}

TEST(ChaosModel, AnAnswerTheStoreContradictsIsCaught) {
  auto e = consistent_run();
  e.stored["T1"].status = "FAILED";
  EXPECT_GE(violations_of(e, "answers-match-store"), 1U);
  e = consistent_run();
  e.stored.erase("T1");  // lost after a 504 and a 200
  EXPECT_GE(violations_of(e, "answers-match-store"), 2U);
  e = consistent_run();
  e.payments[0].answers[2].authorization_code = "999999";
  EXPECT_EQ(violations_of(e, "answers-match-store"), 1U);
  e = consistent_run();
  e.payments[0].answers.push_back(answer(Call::pay, 6000, 6001, 409, "DUPLICATE_TRANSACTION"));
  EXPECT_EQ(violations_of(e, "answers-match-store"), 1U);
}

TEST(ChaosModel, TimeoutMayBecomeVoidedButNothingElseChanges) {
  auto e = consistent_run();
  e.payments[0].answers[2] = answer(Call::pay, 5020, 5100, 200, "TIMEOUT");
  e.stored["T1"] = stored("VOIDED");
  EXPECT_EQ(violations_of(e, "answers-match-store"), 0U);
  e.payments[0].answers.push_back(answer(Call::pay, 6000, 6001, 200, "VOIDED"));
  EXPECT_EQ(violations_of(e, "answers-never-go-back"), 0U);
  e.payments[0].answers.push_back(answer(Call::pay, 7000, 7001, 200, "TIMEOUT"));
  EXPECT_EQ(violations_of(e, "answers-never-go-back"), 1U);  // VOIDED -> TIMEOUT
}

TEST(ChaosModel, AnAnswerGoingBackIsCaught) {
  auto e = consistent_run();
  e.payments[0].answers.push_back(answer(Call::pay, 6000, 6001, 504, "TIMEOUT"));
  EXPECT_GE(violations_of(e, "answers-never-go-back"), 1U);
  e = consistent_run();
  e.payments[0].answers.push_back(answer(Call::get, 6000, 6001, 404, "TRANSACTION_NOT_FOUND"));
  EXPECT_GE(violations_of(e, "answers-never-go-back"), 1U);
  // Overlapping requests are not ordered: a 504 sent before the 200 arrived is fine.
  e = consistent_run();
  e.payments[0].answers.push_back(answer(Call::pay, 5050, 10050, 504, "TIMEOUT"));
  EXPECT_EQ(violations_of(e, "answers-never-go-back"), 0U);
}

TEST(ChaosModel, ATransactionStoredThoughEveryAttemptWasRefusedIsCaught) {
  auto e = consistent_run();
  e.payments[0].answers = {answer(Call::pay, 0, 5, 503, "TERMINAL_OFFLINE"),
                           answer(Call::pay, 10, 15, 409, "PAYMENT_IN_PROGRESS")};
  EXPECT_EQ(violations_of(e, "answers-match-store"), 1U);
  e.payments[0].answers.push_back(answer(Call::pay, 20, 25, 0, ""));  // might have created it
  EXPECT_EQ(violations_of(e, "answers-match-store"), 0U);
}

// PostgreSQL restarting (the multi-node form): a pay may get 503 STORE_UNAVAILABLE, which
// is retried; a 503 with a code the API does not give is caught.
TEST(ChaosModel, APayAnswered503CarriesADocumentedCode) {
  auto e = consistent_run();
  e.payments[0].answers.insert(e.payments[0].answers.begin(),
                               answer(Call::pay, 0, 1, 503, "STORE_UNAVAILABLE"));
  EXPECT_EQ(violations_of(e, "answers-match-store"), 0U);
  e.payments[0].answers.front().code = "INTERNAL_ERROR";
  EXPECT_EQ(violations_of(e, "answers-match-store"), 1U);
}

TEST(ChaosModel, ChargesAreCountedAgainstTheStore) {
  auto e = consistent_run();
  e.journals["T1"].charges.push_back("654321");
  EXPECT_EQ(violations_of(e, "no-double-charge"), 1U);
  EXPECT_EQ(violations_of(e, "completed-was-charged"), 1U);
  e = consistent_run();
  e.journals["T1"].devices.insert("till-2");
  EXPECT_EQ(violations_of(e, "no-double-charge"), 1U);
  e = consistent_run();
  e.stored["T1"].status = "TIMEOUT";  // charged, but the merchant was told it timed out
  EXPECT_EQ(violations_of(e, "charged-is-completed-or-voided"), 1U);
  e.stored["T1"].status = "VOIDED";
  EXPECT_EQ(violations_of(e, "charged-is-completed-or-voided"), 0U);
  EXPECT_EQ(violations_of(e, "voided-was-reversed"), 1U);
  e.journals["T1"].voids = 1;
  EXPECT_EQ(violations_of(e, "voided-was-reversed"), 0U);
  e = consistent_run();
  e.journals["T9"].devices = {"till-1"};  // a request the store never had
  EXPECT_EQ(violations_of(e, "terminal-saw-only-stored"), 1U);
  e = consistent_run();
  e.journals["T1"].acked = "FAILED";
  EXPECT_EQ(violations_of(e, "terminal-acks-match-store"), 1U);
}

TEST(ChaosModel, MissingOrWrongWebhooksAreCaught) {
  auto e = consistent_run();
  e.events.clear();
  EXPECT_EQ(violations_of(e, "final-webhook-received"), 1U);
  e = consistent_run();
  e.events.push_back(event("payment.completed", "SUCCESS", "evt_2"));
  EXPECT_EQ(violations_of(e, "final-webhook-received"), 1U);  // two eventIds
  e = consistent_run();
  e.events[0].merchant = 1;
  EXPECT_EQ(violations_of(e, "final-webhook-received"), 1U);
  e = consistent_run();
  e.events[0].bodies_differ = true;
  EXPECT_EQ(violations_of(e, "final-webhook-received"), 1U);
  e = consistent_run();
  e.stored["T1"] = e.listed["T1"].second = stored("VOIDED");
  e.journals["T1"].voids = 1;
  e.events = {event("payment.timeout", "TIMEOUT"), event("payment.voided", "VOIDED", "evt_2")};
  EXPECT_EQ(violations_of(e, "final-webhook-received"), 0U);
  e.events.pop_back();
  EXPECT_EQ(violations_of(e, "final-webhook-received"), 1U);
}

TEST(ChaosModel, AnUnfinishedTransactionIsCaught) {
  auto e = consistent_run();
  e.listed["T1"].second.status = "AWAITING_RECONNECT";
  e.stored["T1"].status = "AWAITING_RECONNECT";
  EXPECT_EQ(violations_of(e, "nothing-unfinished"), 1U);
}

}  // namespace
}  // namespace tillgate::chaos
