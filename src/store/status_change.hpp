#pragma once
// What a status change does to the transaction row, shared by the backends.
#include "store/store.hpp"

namespace tillgate::store {

// The record as `change` leaves it: what every backend's UPDATE of the row writes (status,
// updated_at, version + 1, and the outcome, completed_at, voided_at and void_reason when the
// change carries them), so change_status answers without reading the row back.
[[nodiscard]] TransactionRecord changed_record(TransactionRecord current,
                                               const StatusChange& change);

}  // namespace tillgate::store
