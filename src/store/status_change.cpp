// What a status change does to the transaction row, shared by every backend so the record a
// change returns and the row it wrote cannot drift apart.
#include "store/status_change.hpp"

namespace tillgate::store {

TransactionRecord changed_record(TransactionRecord current, const StatusChange& change) {
  current.status = change.next;
  current.updated_at = change.at;
  ++current.version;
  if (change.outcome) {
    current.outcome = change.outcome;
  }
  if (change.completed_at) {
    current.completed_at = change.completed_at;
  }
  if (change.voided_at) {
    current.voided_at = change.voided_at;
  }
  if (change.void_reason) {
    current.void_reason = change.void_reason;
  }
  return current;
}

}  // namespace tillgate::store
