#pragma once
// The simulated terminal's durable memory: an append-only file of JSON lines, each line
// written and fsynced before the terminal acts on it, so that it survives kill -9.
//
// Lines (every one has "event", "transactionId" and "at"):
//   {"event":"seen",...,"amount","currency","paymentMethod"}  a payment.request first arrived
//   {"event":"charged",...,"authorizationCode"}   the card was charged (one line per charge,
//                                                 written BEFORE the SUCCESS is sent)
//   {"event":"result",...,"result":{payment.result frame}}  the outcome, kept until acked
//   {"event":"acked",...,"transactionStatus","resultStatus"} payment.result.ack arrived
//   {"event":"voided",...,"reason"}               the charge was reversed (payment.void)
// Counting "charged" lines per transactionId (minus "voided") gives the money taken; the
// compaction at open keeps every charged and voided line for that reason.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json/json.hpp"

namespace tillgate::sim {

struct JournalTransaction {
  std::string transaction_id;
  std::uint64_t sequence = 0;  // first-seen order
  std::string amount;
  std::string currency;
  std::string payment_method;
  std::vector<std::string> charges;          // authorization codes, one per charge
  std::optional<json::Value> result;         // the payment.result frame, until acknowledged
  std::optional<std::string> result_status;  // SUCCESS|FAILED|CANCELLED once decided
  std::optional<std::string> acked_transaction_status;  // set by payment.result.ack
  std::vector<std::string> voids;                       // reasons, one per reversal

  [[nodiscard]] bool has_result() const { return result_status.has_value(); }
  [[nodiscard]] bool acknowledged() const { return acked_transaction_status.has_value(); }
  [[nodiscard]] bool charged() const { return !charges.empty(); }
};

class Journal {
 public:
  // Memory only: nothing survives the process.
  Journal() = default;
  // Opens (creating) the file, replays it, and rewrites it compacted (temp file, fsync,
  // rename). A torn or unparseable line is skipped. Throws std::runtime_error on I/O errors.
  explicit Journal(std::string path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&& other) noexcept;

  [[nodiscard]] const JournalTransaction* find(std::string_view transaction_id) const;
  [[nodiscard]] const std::map<std::string, JournalTransaction, std::less<>>& transactions() const {
    return transactions_;
  }
  // Results not yet acknowledged, in first-seen order.
  [[nodiscard]] std::vector<const JournalTransaction*> unacknowledged_results() const;

  // Each changes the transaction and, with a file, appends one line and fsyncs before
  // returning; throws std::runtime_error.
  void record_seen(std::string_view transaction_id, std::string_view amount,
                   std::string_view currency, std::string_view payment_method);
  void record_charged(std::string_view transaction_id, std::string_view authorization_code);
  void record_result(std::string_view transaction_id, const json::Value& result_frame);
  void record_acked(std::string_view transaction_id, std::string_view transaction_status);
  void record_voided(std::string_view transaction_id, std::string_view reason);

  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  JournalTransaction& entry(std::string_view transaction_id);
  [[nodiscard]] bool durable() const { return fd_ >= 0; }
  void apply(const json::Value& line);
  // Writes the line and fsyncs (a journal with a file only).
  void append(const json::Value& line);
  void compact();

  std::string path_;
  int fd_ = -1;
  std::uint64_t next_sequence_ = 0;
  std::map<std::string, JournalTransaction, std::less<>> transactions_;
};

// Reads a journal file without modifying it: charges per transactionId ("charged" lines),
// for tests that check that no payment was ever taken twice.
[[nodiscard]] std::map<std::string, int> count_journal_charges(const std::string& path);

}  // namespace tillgate::sim
