#pragma once
// The durable store. Backends (SQLite now, PostgreSQL later) implement this interface; no
// backend type leaks through it. Every method is synchronous and may block on disk: the
// gateway calls it from its store thread (store/store_executor.hpp), never from the
// network thread. Every write method commits (durably, per the backend's settings) before
// it returns. Expected outcomes (not found, conflict) are return values; a failure of the
// database itself throws StoreError.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/time.hpp"
#include "domain/transaction.hpp"

namespace tillgate::store {

using domain::Timestamp;
using domain::TransactionStatus;

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MerchantRecord {
  std::string merchant_id;
  std::string name;
  Timestamp created_at;
};

struct ApiKeyRecord {
  std::string api_key;  // public identifier, sent in x-api-key
  std::string merchant_id;
  std::string api_secret;  // HMAC key: needed in clear to verify signatures
  Timestamp created_at;
  std::optional<Timestamp> revoked_at;
};

struct DeviceRecord {
  std::string device_id;  // globally unique (a terminal's hello names only its deviceId)
  std::string merchant_id;
  std::string label;
  std::string secret_hash;    // hex sha256 of the device secret; the secret itself is never stored
  std::string metadata_json;  // JSON object text, "{}" by default
  Timestamp created_at;
  std::optional<Timestamp> revoked_at;
};

// A one-time pairing code (merchant-api.md section 5). Only its hash is stored.
struct PairingCodeRecord {
  std::string code_hash;  // hex sha256 of the code
  std::string merchant_id;
  std::string label;  // given to the device it pairs
  Timestamp created_at;
  Timestamp expires_at;
};

struct TransactionRecord {
  std::string merchant_id;
  std::string transaction_id;  // unique per merchant
  std::string device_id;
  TransactionStatus status = TransactionStatus::pending;
  std::int64_t amount_minor = 0;
  std::string currency;
  std::string payment_method;
  bool webhook_mode = false;
  std::string request_json;         // the request as accepted, canonical JSON object text
  std::string request_fingerprint;  // hex sha256 of the canonical request: idempotency check
  std::optional<std::string> response_json;  // the terminal's result, JSON object text
  Timestamp created_at;
  Timestamp updated_at;
  Timestamp deadline;  // payment deadline (created_at + payment timeout)
  std::optional<Timestamp> completed_at;
  std::optional<Timestamp> voided_at;
  std::optional<std::string> void_reason;
  std::optional<Timestamp> cancel_requested_at;  // the merchant asked to cancel (once)
  std::int64_t version = 1;                      // incremented by every status change
  std::int64_t sequence = 0;  // store-assigned insertion order (0 until stored); never reused
};

// A page of one merchant's transactions, newest first. Every filter is optional.
struct TransactionQuery {
  std::string merchant_id;
  std::optional<std::string> device_id = std::nullopt;
  std::optional<TransactionStatus> status = std::nullopt;
  std::optional<Timestamp> created_from = std::nullopt;  // inclusive
  std::optional<Timestamp> created_to = std::nullopt;    // inclusive
  // The cursor: only rows older (smaller sequence) than this one.
  std::optional<std::int64_t> before_sequence = std::nullopt;
  std::int64_t limit = 50;
};

// One row of the append-only history: every status change, with its time and cause.
struct TransactionEventRecord {
  std::int64_t sequence = 0;  // assigned by the store, increasing
  std::string merchant_id;
  std::string transaction_id;
  std::optional<TransactionStatus> from_status;  // nullopt for the creation
  TransactionStatus to_status = TransactionStatus::pending;
  std::string cause;  // e.g. "created", "terminal_succeeded", "grace_expired"
  Timestamp at;
};

// A status change, applied only if the stored status is still `expected` (compare and set).
struct StatusChange {
  std::string merchant_id;
  std::string transaction_id;
  TransactionStatus expected = TransactionStatus::pending;
  TransactionStatus next = TransactionStatus::pending;
  std::string cause;
  Timestamp at;
  std::optional<std::string> response_json;  // set when the terminal's result is recorded
  std::optional<Timestamp> completed_at;
  std::optional<Timestamp> voided_at;
  std::optional<std::string> void_reason;
};

struct ChangeResult {
  bool applied = false;  // false: the stored status was no longer change.expected
  TransactionRecord transaction;
};

enum class InsertOutcome { inserted, already_exists, device_busy };

class Store {
 public:
  virtual ~Store() = default;

  // Cheap round trip to the database, for /readyz.
  virtual void ping() = 0;

  // Merchants and keys.
  virtual void insert_merchant(const MerchantRecord& merchant) = 0;
  virtual std::optional<MerchantRecord> find_merchant(const std::string& merchant_id) = 0;
  virtual std::vector<MerchantRecord> list_merchants() = 0;
  virtual void insert_api_key(const ApiKeyRecord& key) = 0;
  virtual std::optional<ApiKeyRecord> find_api_key(const std::string& api_key) = 0;
  // False when the key does not exist for that merchant or is already revoked.
  virtual bool revoke_api_key(const std::string& merchant_id, const std::string& api_key,
                              Timestamp at) = 0;

  // Devices (terminals). insert returns false when the device_id is taken.
  virtual bool insert_device(const DeviceRecord& device) = 0;
  virtual std::optional<DeviceRecord> find_device(const std::string& device_id) = 0;
  virtual std::vector<DeviceRecord> list_devices(const std::string& merchant_id) = 0;
  virtual bool revoke_device(const std::string& merchant_id, const std::string& device_id,
                             Timestamp at) = 0;

  // Pairing. pair_device uses the code (unused, not expired at `at`) and inserts the device,
  // taking merchant_id and label from the code, in one database transaction; nullopt when
  // the code is unknown, used or expired (nothing is written then). A taken device_id
  // throws StoreError (device ids for pairing are generated).
  virtual void insert_pairing_code(const PairingCodeRecord& code) = 0;
  virtual std::optional<DeviceRecord> pair_device(const std::string& code_hash, DeviceRecord device,
                                                  Timestamp at) = 0;

  // Webhook endpoints (webhooks.md): whether the merchant has one that is active.
  virtual bool has_active_webhook_endpoint(const std::string& merchant_id) = 0;

  // Inserts the transaction with its "created" event in one database transaction.
  // already_exists: (merchant_id, transaction_id) is taken. device_busy: the device
  // already has an unfinished transaction (status PENDING or AWAITING_RECONNECT).
  virtual InsertOutcome insert_transaction(const TransactionRecord& transaction) = 0;
  virtual std::optional<TransactionRecord> find_transaction(const std::string& merchant_id,
                                                            const std::string& transaction_id) = 0;
  // The device's unfinished transaction (PENDING or AWAITING_RECONNECT), if any.
  virtual std::optional<TransactionRecord> find_unfinished_for_device(
      const std::string& device_id) = 0;
  // Newest first (by sequence), at most query.limit rows.
  virtual std::vector<TransactionRecord> list_transactions(const TransactionQuery& query) = 0;
  // Every unfinished transaction, for recovery at start.
  virtual std::vector<TransactionRecord> list_unfinished() = 0;

  // Applies the change (status, updated_at = change.at, version + 1, and each optional
  // field that is set) and appends its event, in one database transaction, but only if the
  // stored status still equals change.expected. nullopt when the transaction does not
  // exist; otherwise whether it was applied and the record as it now stands.
  virtual std::optional<ChangeResult> change_status(const StatusChange& change) = 0;

  // Records the merchant's cancel request on an unfinished transaction: sets
  // cancel_requested_at (first request only) and appends a "cancel_requested" event, without
  // changing the status, version or updated_at. nullopt when the transaction does not
  // exist; applied is false when it is final or a cancel was already requested.
  virtual std::optional<ChangeResult> request_cancel(const std::string& merchant_id,
                                                     const std::string& transaction_id,
                                                     Timestamp at) = 0;

  virtual std::vector<TransactionEventRecord> list_events(const std::string& merchant_id,
                                                          const std::string& transaction_id) = 0;
};

// Opens the store named by a TILLGATE_DB url ("sqlite:PATH"), applying pending migrations.
// Throws StoreError when it cannot be opened or migrated.
[[nodiscard]] std::unique_ptr<Store> open_store(const std::string& url);

}  // namespace tillgate::store
