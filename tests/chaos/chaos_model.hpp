#pragma once
// What the chaos test saw, and the invariants it checks over it. Pure data and pure
// functions: the harness (chaos_test.cpp) collects the evidence, check_invariants() judges
// it, so the checks can also be tested on hand-made evidence (chaos_model_test.cpp).
//
// The evidence:
//   - every answer each merchant client got (or the transport error it got instead),
//     with the instants the request was sent and the answer received;
//   - every transaction as GET /v1/transactions/{id} shows it at the end (or 404), and
//     every transaction the merchants' listings show;
//   - every terminal's journal (charged, voided, acked lines per transactionId);
//   - every payment event each merchant's webhook receiver got, deduplicated by eventId.
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tillgate::chaos {

using Clock = std::chrono::steady_clock;

// The merchant call an answer belongs to.
enum class Call {
  pay,     // POST /v1/terminals/{id}/payments (first attempt or an idempotent retry)
  cancel,  // POST /v1/transactions/{id}/cancel
  get,     // GET /v1/transactions/{id}
};

struct Answer {
  Call call = Call::pay;
  Clock::time_point sent;
  Clock::time_point received;
  int http_status = 0;  // 0: no answer (connection refused or reset, timeout)
  // The body's `status` for a 200 or 202 (payment status for pay, transaction status for
  // get and cancel), its `code` for an error; for a transport error, empty.
  std::string code;
  std::string body;  // the body, or the transport error's text
  // Of a 200 pay answer: paymentResponse.amount and .authorizationCode ("" when null).
  std::string amount;
  std::string authorization_code;
  std::string body_transaction_id;  // the body's transactionId, when it has one
};

// "pay 200 SUCCESS", "get 200 PENDING", "pay transport error", "cancel 409 TRANSACTION_FINAL".
[[nodiscard]] std::string kind_of(const Answer& answer);

// One payment a merchant client made: one transactionId, every answer it got for it.
struct Payment {
  std::string transaction_id;
  std::size_t merchant = 0;
  std::string device_id;
  std::string amount;  // as sent, "12.34"
  bool webhook_mode = false;
  bool cancel_sent = false;
  bool gave_up = false;  // the client stopped retrying before it learned a final status
  std::vector<Answer> answers;
};

// A transaction as the gateway shows it at the end.
struct StoredTransaction {
  std::string transaction_id;
  std::string device_id;  // terminalId
  std::string status;     // PENDING AWAITING_RECONNECT COMPLETED FAILED CANCELLED TIMEOUT VOIDED
  std::string amount;     // request.amount
  bool webhook_mode = false;
  std::string authorization_code;  // response.authorizationCode ("" when null or no response)
  std::chrono::system_clock::time_point created_at;
  std::string body;  // the GET answer, for reports
};

// One transactionId across the terminals' journals.
struct JournalTransaction {
  std::set<std::string> devices;      // journals that mention it
  std::vector<std::string> charges;   // authorization codes, one per "charged" line
  int voids = 0;                      // "voided" lines
  std::optional<std::string> acked;   // the last acked transactionStatus
  std::optional<std::string> result;  // the last result status (SUCCESS|FAILED|CANCELLED)
};

// One payment event as a merchant's receiver got it (copies of one eventId merged).
struct ReceivedEvent {
  std::string event_id;
  std::string event_type;  // payment.completed, ...
  std::string transaction_id;
  std::string data_status;  // data.status: SUCCESS FAILED CANCELLED TIMEOUT VOIDED
  std::size_t merchant = 0;
  int copies = 0;
  bool bodies_differ = false;  // two copies of the eventId carried different bodies
};

struct Evidence {
  std::vector<Payment> payments;
  // By transactionId (unique across merchants in this test): GET at the end; absent = 404.
  std::map<std::string, StoredTransaction> stored;
  // Every transaction the merchants' GET /v1/transactions listings show at the end, with
  // the merchant whose listing showed it.
  std::map<std::string, std::pair<std::size_t, StoredTransaction>> listed;
  std::map<std::string, JournalTransaction> journals;
  std::vector<ReceivedEvent> events;
};

struct Invariant {
  std::string name;
  std::string statement;
  std::size_t checked = 0;
  std::vector<std::string> violations;
  // Transactions named by the violations, for the harness's detailed report.
  std::set<std::string> transactions;

  void fail(const std::string& transaction_id, std::string message);
};

[[nodiscard]] bool is_final_status(const std::string& transaction_status);
// SUCCESS -> COMPLETED; the other payment statuses keep their names.
[[nodiscard]] std::string transaction_status_of_payment_status(const std::string& payment_status);
// The event type a final status is announced with (VOIDED -> payment.voided).
[[nodiscard]] std::string event_type_for(const std::string& transaction_status);

// The invariants, in report order. Their statements are in chaos_model.cpp and in the
// header comment of chaos_test.cpp.
std::vector<Invariant> check_invariants(const Evidence& evidence);

}  // namespace tillgate::chaos
