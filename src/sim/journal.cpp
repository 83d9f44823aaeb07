#include "sim/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "domain/time.hpp"

namespace tillgate::sim {

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

std::string now_text() {
  return domain::format_iso8601(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
}

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const auto written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw_errno("cannot write journal " + path);
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
}

void sync_fd(int fd, const std::string& path) {
  if (::fsync(fd) != 0) {
    throw_errno("cannot fsync journal " + path);
  }
}

// A rename is durable only once the directory holding it is synced.
void sync_directory_of(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) {
    dir = ".";
  }
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw_errno("cannot open journal directory " + dir.string());
  }
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) {
    throw_errno("cannot fsync journal directory " + dir.string());
  }
}

std::vector<json::Value> read_lines(const std::string& path) {
  std::vector<json::Value> lines;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) {
      continue;
    }
    auto parsed = json::parse(line);
    // A line torn by a crash mid-append is skipped; every complete line was fsynced.
    if (parsed && parsed->is_object() && parsed->find_string("event") &&
        parsed->find_string("transactionId")) {
      lines.push_back(std::move(*parsed));
    }
  }
  return lines;
}

json::Value line_of(std::string_view event, std::string_view transaction_id) {
  return json::object({{"event", json::Value(event)},
                       {"transactionId", json::Value(transaction_id)},
                       {"at", json::Value(now_text())}});
}

void add_member(json::Value& object, std::string_view key, json::Value value) {
  object.as_object().push_back({std::string(key), std::move(value)});
}

}  // namespace

Journal::Journal(std::string path) : path_(std::move(path)) {
  for (const auto& line : read_lines(path_)) {
    apply(line);
  }
  compact();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw_errno("cannot open journal " + path_);
  }
}

Journal::~Journal() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Journal::Journal(Journal&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      next_sequence_(other.next_sequence_),
      transactions_(std::move(other.transactions_)) {}

Journal& Journal::operator=(Journal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    next_sequence_ = other.next_sequence_;
    transactions_ = std::move(other.transactions_);
  }
  return *this;
}

const JournalTransaction* Journal::find(std::string_view transaction_id) const {
  const auto it = transactions_.find(transaction_id);
  return it == transactions_.end() ? nullptr : &it->second;
}

std::vector<const JournalTransaction*> Journal::unacknowledged_results() const {
  std::vector<const JournalTransaction*> out;
  for (const auto& [id, txn] : transactions_) {
    if (txn.result && !txn.acknowledged()) {
      out.push_back(&txn);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto* a, const auto* b) { return a->sequence < b->sequence; });
  return out;
}

JournalTransaction& Journal::entry(std::string_view transaction_id) {
  auto it = transactions_.find(transaction_id);
  if (it == transactions_.end()) {
    JournalTransaction txn;
    txn.transaction_id = std::string(transaction_id);
    txn.sequence = next_sequence_++;
    it = transactions_.emplace(txn.transaction_id, std::move(txn)).first;
  }
  return it->second;
}

// What each event does to its transaction, the same whether it is recorded now or replayed
// from the file (apply).
namespace {

void note_seen(JournalTransaction& txn, std::string_view amount, std::string_view currency,
               std::string_view payment_method) {
  txn.amount = std::string(amount);
  txn.currency = std::string(currency);
  txn.payment_method = std::string(payment_method);
}

void note_result(JournalTransaction& txn, const json::Value& result) {
  if (result.is_object()) {
    txn.result = result;
    txn.result_status = std::string(result.find_string("status").value_or(""));
  }
}

void note_acked(JournalTransaction& txn, std::string_view transaction_status,
                std::optional<std::string_view> result_status) {
  txn.acked_transaction_status = std::string(transaction_status);
  if (result_status) {
    txn.result_status = std::string(*result_status);
  }
}

}  // namespace

void Journal::apply(const json::Value& line) {
  const auto event = line.find_string("event").value_or("");
  auto& txn = entry(line.find_string("transactionId").value_or(""));
  if (event == "seen") {
    note_seen(txn, line.find_string("amount").value_or(""),
              line.find_string("currency").value_or(""),
              line.find_string("paymentMethod").value_or(""));
  } else if (event == "charged") {
    txn.charges.emplace_back(line.find_string("authorizationCode").value_or(""));
  } else if (event == "result") {
    if (const auto* result = line.find("result"); result != nullptr) {
      note_result(txn, *result);
    }
  } else if (event == "acked") {
    note_acked(txn, line.find_string("transactionStatus").value_or(""),
               line.find_string("resultStatus"));
  } else if (event == "voided") {
    txn.voids.emplace_back(line.find_string("reason").value_or(""));
  }
}

void Journal::append(const json::Value& line) {
  write_all(fd_, json::serialize(line) + "\n", path_);
  sync_fd(fd_, path_);
}

// Rewrites the file with one canonical set of lines per transaction. Acknowledged results
// are dropped (the gateway holds them durably); charges and voids are always kept.
void Journal::compact() {
  std::vector<const JournalTransaction*> ordered;
  for (const auto& [id, txn] : transactions_) {
    ordered.push_back(&txn);
  }
  std::sort(ordered.begin(), ordered.end(),
            [](const auto* a, const auto* b) { return a->sequence < b->sequence; });
  std::string text;
  const auto emit = [&text](const json::Value& line) {
    text += json::serialize(line);
    text += '\n';
  };
  for (const auto* txn : ordered) {
    auto seen = line_of("seen", txn->transaction_id);
    add_member(seen, "amount", json::Value(txn->amount));
    add_member(seen, "currency", json::Value(txn->currency));
    add_member(seen, "paymentMethod", json::Value(txn->payment_method));
    emit(seen);
    for (const auto& code : txn->charges) {
      auto charged = line_of("charged", txn->transaction_id);
      add_member(charged, "authorizationCode", json::Value(code));
      emit(charged);
    }
    if (txn->acknowledged()) {
      auto acked = line_of("acked", txn->transaction_id);
      add_member(acked, "transactionStatus", json::Value(*txn->acked_transaction_status));
      add_member(acked, "resultStatus", json::Value(txn->result_status.value_or("")));
      emit(acked);
    } else if (txn->result) {
      auto result = line_of("result", txn->transaction_id);
      add_member(result, "result", *txn->result);
      emit(result);
    }
    for (const auto& reason : txn->voids) {
      auto voided = line_of("voided", txn->transaction_id);
      add_member(voided, "reason", json::Value(reason));
      emit(voided);
    }
  }
  const std::string temp = path_ + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw_errno("cannot create " + temp);
  }
  try {
    write_all(fd, text, temp);
    sync_fd(fd, temp);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path_.c_str()) != 0) {
    throw_errno("cannot replace journal " + path_);
  }
  sync_directory_of(path_);
}

// Each record_* changes the transaction in memory first, then (with a file) appends its line
// and fsyncs. A memory-only journal builds no line: the simulator of the load generator
// records four events a payment.
void Journal::record_seen(std::string_view transaction_id, std::string_view amount,
                          std::string_view currency, std::string_view payment_method) {
  note_seen(entry(transaction_id), amount, currency, payment_method);
  if (durable()) {
    auto line = line_of("seen", transaction_id);
    add_member(line, "amount", json::Value(amount));
    add_member(line, "currency", json::Value(currency));
    add_member(line, "paymentMethod", json::Value(payment_method));
    append(line);
  }
}

void Journal::record_charged(std::string_view transaction_id, std::string_view authorization_code) {
  entry(transaction_id).charges.emplace_back(authorization_code);
  if (durable()) {
    auto line = line_of("charged", transaction_id);
    add_member(line, "authorizationCode", json::Value(authorization_code));
    append(line);
  }
}

void Journal::record_result(std::string_view transaction_id, const json::Value& result_frame) {
  note_result(entry(transaction_id), result_frame);
  if (durable()) {
    auto line = line_of("result", transaction_id);
    add_member(line, "result", result_frame);
    append(line);
  }
}

void Journal::record_acked(std::string_view transaction_id, std::string_view transaction_status) {
  auto& txn = entry(transaction_id);
  // The result's status as it was, also in the line: a compaction keeps it once the result
  // itself is dropped.
  const std::string result_status = txn.result_status.value_or("");
  note_acked(txn, transaction_status, result_status);
  if (durable()) {
    auto line = line_of("acked", transaction_id);
    add_member(line, "transactionStatus", json::Value(transaction_status));
    add_member(line, "resultStatus", json::Value(result_status));
    append(line);
  }
}

void Journal::record_voided(std::string_view transaction_id, std::string_view reason) {
  entry(transaction_id).voids.emplace_back(reason);
  if (durable()) {
    auto line = line_of("voided", transaction_id);
    add_member(line, "reason", json::Value(reason));
    append(line);
  }
}

std::map<std::string, int> count_journal_charges(const std::string& path) {
  std::map<std::string, int> charges;
  for (const auto& line : read_lines(path)) {
    if (line.find_string("event") == "charged") {
      ++charges[std::string(*line.find_string("transactionId"))];
    }
  }
  return charges;
}

}  // namespace tillgate::sim
