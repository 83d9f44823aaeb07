// The transaction methods of PostgresStore: the payment records and their history.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "domain/terminal_outcome_json.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/store_statements.hpp"
#include "store/status_change.hpp"

namespace tillgate::store::postgres {
namespace {

[[nodiscard]] TransactionStatus read_status(const Statement::Use& use, int column) {
  const auto status = domain::parse_transaction_status(use.text(column));
  if (!status) {
    use.fail(fmt::format("column {} holds an unknown transaction status", column));
  }
  return *status;
}

[[nodiscard]] domain::PaymentMethod read_payment_method(const Statement::Use& use, int column) {
  const auto method = domain::parse_payment_method(use.text(column));
  if (!method) {
    use.fail(fmt::format("column {} holds an unknown payment method", column));
  }
  return *method;
}

// The response_json column is the store's text of the terminal's outcome: written by
// outcome_text, read back here. Text that is not such an outcome (a hand-edited or damaged
// row) reads as no result, with a warning, rather than failing every read of the row; the
// text itself is not logged (it came from a terminal).
[[nodiscard]] std::optional<domain::TerminalOutcome> read_outcome(const Statement::Use& use,
                                                                  int column) {
  const auto text = use.optional_text(column);
  if (!text) {
    return std::nullopt;
  }
  auto outcome = domain::terminal_outcome_from_json(*text);
  if (!outcome) {
    spdlog::warn(
        "transaction {} of merchant {}: its stored terminal result ({} bytes) is not a terminal "
        "outcome; read as no result",
        use.text(1), use.text(0), text->size());
  }
  return outcome;
}

[[nodiscard]] std::optional<std::string> outcome_text(
    const std::optional<domain::TerminalOutcome>& outcome) {
  if (!outcome) {
    return std::nullopt;
  }
  return json::serialize(domain::to_json(*outcome));
}

[[nodiscard]] TransactionEventRecord read_event(const Statement::Use& use) {
  TransactionEventRecord event{.sequence = use.int64(0),
                               .merchant_id = use.text(1),
                               .transaction_id = use.text(2),
                               .from_status = std::nullopt,
                               .to_status = read_status(use, 4),
                               .cause = use.text(5),
                               .at = use.timestamp(6)};
  if (!use.is_null(3)) {
    event.from_status = read_status(use, 3);
  }
  return event;
}

}  // namespace

TransactionRecord read_transaction(const Statement::Use& use) {
  return TransactionRecord{.merchant_id = use.text(0),
                           .transaction_id = use.text(1),
                           .device_id = use.text(2),
                           .status = read_status(use, 3),
                           .amount_minor = use.int64(4),
                           .currency = use.text(5),
                           .payment_method = read_payment_method(use, 6),
                           .webhook_mode = use.boolean(7),
                           .request_json = use.text(8),
                           .request_fingerprint = use.text(9),
                           .outcome = read_outcome(use, 10),
                           .created_at = use.timestamp(11),
                           .updated_at = use.timestamp(12),
                           .deadline = use.timestamp(13),
                           .completed_at = use.optional_timestamp(14),
                           .voided_at = use.optional_timestamp(15),
                           .void_reason = use.optional_text(16),
                           .cancel_requested_at = use.optional_timestamp(17),
                           .version = use.int64(18)};
}

InsertOutcome PostgresStore::insert_transaction(const TransactionRecord& record) {
  constexpr std::string_view kOperation = "insert_transaction";
  // Both checks and the insert under one write lock: nothing can take the id or the
  // terminal between the check and the insert. The partial unique index would refuse a
  // second unfinished payment anyway; checking first turns that into an outcome.
  auto transaction = begin_write(kOperation);
  {
    auto use = statements_->transaction_exists.use(kOperation);
    if (use.bind(record.merchant_id, record.transaction_id).step()) {
      return InsertOutcome::already_exists;
    }
  }
  {
    auto use = statements_->find_unfinished_for_device.use(kOperation);
    if (use.bind(record.device_id).step()) {
      return InsertOutcome::device_busy;
    }
  }
  statements_->insert_transaction.use(kOperation)
      .bind(record.merchant_id, record.transaction_id, record.device_id,
            domain::to_string(record.status), record.amount_minor, record.currency,
            domain::to_string(record.payment_method), record.webhook_mode, record.request_json,
            record.request_fingerprint, outcome_text(record.outcome), record.created_at,
            record.updated_at, record.deadline, record.completed_at, record.voided_at,
            record.void_reason, record.cancel_requested_at, record.version)
      .run();
  append_event(kOperation, TransactionEventRecord{.merchant_id = record.merchant_id,
                                                  .transaction_id = record.transaction_id,
                                                  .from_status = std::nullopt,
                                                  .to_status = record.status,
                                                  .cause = "created",
                                                  .at = record.created_at});
  transaction.commit();
  return InsertOutcome::inserted;
}

std::optional<TransactionRecord> PostgresStore::find_transaction(
    const std::string& merchant_id, const std::string& transaction_id) {
  return select_transaction("find_transaction", merchant_id, transaction_id);
}

std::optional<TransactionRecord> PostgresStore::find_unfinished_for_device(
    const std::string& device_id) {
  auto use = statements_->find_unfinished_for_device.use("find_unfinished_for_device");
  if (!use.bind(device_id).step()) {
    return std::nullopt;
  }
  return read_transaction(use);  // at most one row: the partial unique index
}

std::vector<TransactionRecord> PostgresStore::list_unfinished() {
  auto use = statements_->list_unfinished.use("list_unfinished");
  std::vector<TransactionRecord> records;
  while (use.step()) {
    records.push_back(read_transaction(use));
  }
  return records;
}

std::vector<TransactionRecord> PostgresStore::list_transactions(const TransactionQuery& query) {
  auto use = statements_->list_transactions.use("list_transactions");
  std::optional<std::string> status;
  if (query.status) {
    status = std::string(domain::to_string(*query.status));
  }
  std::optional<std::string> any_status;
  if (!query.statuses.empty()) {
    any_status = ",";
    for (const auto one : query.statuses) {
      *any_status += std::string(domain::to_string(one)) + ",";
    }
  }
  use.bind(query.merchant_id, query.device_id, status, query.created_from, query.created_to,
           query.before_sequence, query.limit, any_status);
  std::vector<TransactionRecord> records;
  while (use.step()) {
    records.push_back(read_transaction(use));
    records.back().sequence = use.int64(19);
  }
  return records;
}

std::optional<ChangeResult> PostgresStore::change_status(const StatusChange& change) {
  constexpr std::string_view kOperation = "change_status";
  // The read, the compare and the write under one write lock: the compare-and-set holds
  // against other processes too, not only against this one's callers.
  auto transaction = begin_write(kOperation);
  auto current = select_transaction(kOperation, change.merchant_id, change.transaction_id);
  if (!current) {
    return std::nullopt;
  }
  if (current->status != change.expected) {
    // Lost the race: nothing was written; the guard rolls the empty transaction back.
    return ChangeResult{.applied = false, .transaction = std::move(*current)};
  }
  {
    auto use = statements_->update_status.use(kOperation);
    use.bind(change.merchant_id, change.transaction_id, domain::to_string(change.expected),
             domain::to_string(change.next), change.at, outcome_text(change.outcome),
             change.completed_at, change.voided_at, change.void_reason)
        .run();
    if (use.changes() != 1) {
      use.fail("the row read under the write lock was not updated");
    }
  }
  append_event(kOperation, TransactionEventRecord{.merchant_id = change.merchant_id,
                                                  .transaction_id = change.transaction_id,
                                                  .from_status = change.expected,
                                                  .to_status = change.next,
                                                  .cause = change.cause,
                                                  .at = change.at});
  std::optional<std::int64_t> event_sequence;
  if (change.webhook_event) {
    event_sequence = append_webhook_event(kOperation, *change.webhook_event);
  }
  transaction.commit();
  // The UPDATE above changed exactly this row (changes() == 1) from `current`, under the
  // write lock: the answer is `current` with the change applied, not a second read.
  return ChangeResult{.applied = true,
                      .transaction = changed_record(std::move(*current), change),
                      .event_sequence = event_sequence};
}

std::optional<ChangeResult> PostgresStore::request_cancel(const std::string& merchant_id,
                                                          const std::string& transaction_id,
                                                          Timestamp at) {
  constexpr std::string_view kOperation = "request_cancel";
  auto transaction = begin_write(kOperation);
  auto current = select_transaction(kOperation, merchant_id, transaction_id);
  if (!current) {
    return std::nullopt;
  }
  {
    auto use = statements_->mark_cancel_requested.use(kOperation);
    use.bind(merchant_id, transaction_id, at).run();
    if (use.changes() != 1) {
      return ChangeResult{.applied = false, .transaction = std::move(*current)};
    }
  }
  append_event(kOperation, TransactionEventRecord{.merchant_id = merchant_id,
                                                  .transaction_id = transaction_id,
                                                  .from_status = current->status,
                                                  .to_status = current->status,
                                                  .cause = "cancel_requested",
                                                  .at = at});
  transaction.commit();
  current->cancel_requested_at = at;
  return ChangeResult{.applied = true, .transaction = std::move(*current)};
}

std::vector<TransactionEventRecord> PostgresStore::list_events(const std::string& merchant_id,
                                                               const std::string& transaction_id) {
  auto use = statements_->list_events.use("list_events");
  use.bind(merchant_id, transaction_id);
  std::vector<TransactionEventRecord> events;
  while (use.step()) {
    events.push_back(read_event(use));
  }
  return events;
}

std::optional<TransactionRecord> PostgresStore::select_transaction(
    std::string_view operation, const std::string& merchant_id, const std::string& transaction_id) {
  auto use = statements_->find_transaction.use(operation);
  if (!use.bind(merchant_id, transaction_id).step()) {
    return std::nullopt;
  }
  return read_transaction(use);
}

void PostgresStore::append_event(std::string_view operation, const TransactionEventRecord& event) {
  std::optional<std::string_view> from_status;
  if (event.from_status) {
    from_status = domain::to_string(*event.from_status);
  }
  statements_->insert_event.use(operation)
      .bind(event.merchant_id, event.transaction_id, from_status,
            domain::to_string(event.to_status), event.cause, event.at)
      .run();
}

}  // namespace tillgate::store::postgres
