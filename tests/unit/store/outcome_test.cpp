// The terminal's outcome at the store's edge: a typed value in the records, the same
// response_json text in the column as before it was typed, and a damaged column read as no
// result (with a warning), never a failed read.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>

#include "domain/terminal_outcome.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using OutcomeStoreTest = StoreTest;

// The default logger's lines while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    sink->set_pattern("%l %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", std::move(sink)));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  [[nodiscard]] std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

domain::TerminalOutcome paid_with_card() {
  return domain::TerminalOutcome{.status = domain::TerminalStatus::success,
                                 .authorization_code = "AUTH123456",
                                 .receipt_data = "VISA ****4242\n\xC3\xA9",
                                 .completed_at = "2024-01-15T10:30:04.512Z",
                                 .card = domain::CardDetails{.masked_pan = "539983******4297",
                                                             .scheme = "MASTERCARD",
                                                             .rrn = "123456789012",
                                                             .stan = "000123"}};
}

StatusChange completing(domain::TerminalOutcome outcome) {
  return StatusChange{.merchant_id = "m1",
                      .transaction_id = "T1",
                      .expected = TransactionStatus::pending,
                      .next = TransactionStatus::completed,
                      .cause = "terminal_succeeded",
                      .at = ms(1'700'000'010'000),
                      .outcome = std::move(outcome),
                      .completed_at = ms(1'700'000'010'000),
                      .voided_at = std::nullopt,
                      .void_reason = std::nullopt};
}

std::string stored_text(RawDb& raw) {
  return raw.query_text("SELECT response_json FROM transactions WHERE transaction_id = 'T1'");
}

TEST_P(OutcomeStoreTest, TheColumnHoldsTheSameTextAsBeforeTheOutcomeWasTyped) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  const auto changed = store_->change_status(completing(paid_with_card()));
  ASSERT_TRUE(changed && changed->applied);
  EXPECT_EQ(changed->transaction.outcome, paid_with_card());

  // Byte for byte what the terminal codec wrote for such a result (terminal_outcome_test).
  RawDb raw = raw_db();
  EXPECT_EQ(stored_text(raw),
            R"({"status":"SUCCESS","authorizationCode":"AUTH123456","receiptData":"VISA ****4242\n)"
            "\xC3\xA9"
            R"(","errorCode":null,"errorMessage":null,"completedAt":"2024-01-15T10:30:04.512Z",)"
            R"("card":{"maskedPan":"539983******4297","scheme":"MASTERCARD","rrn":"123456789012",)"
            R"("stan":"000123"}})");
  reopen();
  EXPECT_EQ(store_->find_transaction("m1", "T1")->outcome, paid_with_card());
}

TEST_P(OutcomeStoreTest, AnOutcomeInsertedWithTheRecordReadsBack) {
  auto record = make_transaction("m1", "T1", "d1");
  record.status = TransactionStatus::failed;
  record.outcome = domain::TerminalOutcome{.status = domain::TerminalStatus::failed,
                                           .error_code = "",
                                           .completed_at = "2024-01-15T10:30:04.512Z",
                                           .card = domain::CardDetails{}};
  ASSERT_EQ(store_->insert_transaction(record), InsertOutcome::inserted);
  expect_same(record, *store_->find_transaction("m1", "T1"));
  RawDb raw = raw_db();
  EXPECT_EQ(stored_text(raw),
            R"({"status":"FAILED","authorizationCode":null,"receiptData":null,"errorCode":"",)"
            R"("errorMessage":null,"completedAt":"2024-01-15T10:30:04.512Z","card":{}})");
}

TEST_P(OutcomeStoreTest, AnUnreadableStoredOutcomeIsNoResultWithAWarning) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  ASSERT_TRUE(store_->change_status(completing(paid_with_card()))->applied);
  RawDb raw = raw_db();
  for (const std::string& damaged : {
           std::string("{not json"),
           std::string(R"({"status":"APPROVED"})"),
           std::string(R"({"status":"SUCCESS","authorizationCode":42})"),
           // A full card number written behind the store's back is never read back to be shown.
           std::string(R"({"status":"SUCCESS","card":{"maskedPan":"5399831234564297"}})"),
           std::string(""),
       }) {
    ASSERT_EQ(raw.exec("UPDATE transactions SET response_json = '" + damaged +
                       "' WHERE transaction_id = 'T1'"),
              SQLITE_OK)
        << raw.last_error();
    const LogCapture log;
    const auto read = store_->find_transaction("m1", "T1");
    ASSERT_TRUE(read.has_value()) << damaged;
    EXPECT_EQ(read->outcome, std::nullopt) << damaged;
    EXPECT_EQ(read->status, TransactionStatus::completed) << damaged;
    EXPECT_NE(log.text().find("warning transaction T1 of merchant m1: its stored terminal "
                              "result (" +
                              std::to_string(damaged.size()) + " bytes) is not a terminal outcome"),
              std::string::npos)
        << log.text();
    // The text itself is not logged.
    if (damaged.size() > 4) {
      EXPECT_EQ(log.text().find(damaged), std::string::npos) << log.text();
    }
  }
  // A row with no result at all is read quietly.
  ASSERT_EQ(raw.exec("UPDATE transactions SET response_json = NULL"), SQLITE_OK);
  const LogCapture log;
  EXPECT_EQ(store_->find_transaction("m1", "T1")->outcome, std::nullopt);
  EXPECT_EQ(log.text(), "");
}

TILLGATE_STORE_BACKENDS(OutcomeStoreTest);

}  // namespace
}  // namespace tillgate::store::testing
