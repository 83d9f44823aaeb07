#pragma once
// The durable store. Backends (SQLite, PostgreSQL) implement this interface; no
// backend type leaks through it. Every method is synchronous and may block on disk: the
// gateway calls it from its store thread (store/store_executor.hpp), never from the
// network thread. Every write method commits (durably, per the backend's settings) before
// it returns, except inside a batch (begin_batch): then the batch's commit_batch makes it
// durable. Expected outcomes (not found, conflict) are return values; a failure of the
// database itself throws StoreError.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "domain/enums.hpp"
#include "domain/secret.hpp"
#include "domain/terminal_outcome.hpp"
#include "domain/time.hpp"
#include "domain/transaction.hpp"
#include "store/database_options.hpp"

namespace tillgate::store {

using domain::Timestamp;
using domain::TransactionStatus;

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // True when the database cannot take the call now (disk full, I/O error, locked,
  // read-only, unreachable, a batch that did not commit) and nothing of it was changed, so
  // that the same call may succeed later; false for a bug or damaged data.
  [[nodiscard]] virtual bool unavailable() const noexcept { return false; }
};

// The database cannot take the call now; see StoreError::unavailable().
class StoreUnavailable : public StoreError {
 public:
  using StoreError::StoreError;
  [[nodiscard]] bool unavailable() const noexcept override { return true; }
};

struct MerchantRecord {
  std::string merchant_id;
  std::string name;
  Timestamp created_at;
  // How this merchant's Nomba pushes count `amount`: "minor" or "major"; nullopt: the
  // gateway's TILLGATE_NOMBA_AMOUNT_UNIT (nomba-compat.md section 3).
  std::optional<std::string> nomba_amount_unit = std::nullopt;
};

struct ApiKeyRecord {
  std::string api_key;  // public identifier, sent in x-api-key
  std::string merchant_id;
  domain::Secret api_secret;  // HMAC key: needed in clear to verify signatures
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
  domain::PaymentMethod payment_method = domain::PaymentMethod::card;
  bool webhook_mode = false;
  std::string request_json;         // the request as accepted, canonical JSON object text
  std::string request_fingerprint;  // hex sha256 of the canonical request: idempotency check
  // The terminal's result; stored as the response_json column's text (terminal_outcome_json).
  std::optional<domain::TerminalOutcome> outcome;
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
  // Any of these (the Nomba edge's PAYMENT_FAILED is three); empty: no such filter.
  std::vector<TransactionStatus> statuses = {};
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

// ---- The shared replay cache (several nodes on one database: docs/scale-out.md) ----------

// A signed request's signature, remembered while its timestamp is inside the window.
struct RememberedSignature {
  std::string digest;    // hex SHA-256 of the API key and the signature, never the signature
  Timestamp expires_at;  // when the request's timestamp leaves the window
  // Rows that expired before purge_before are deleted first, at most purge_limit of them
  // (app::Limits::replay_purge_batch).
  Timestamp purge_before;
  std::int64_t purge_limit = 0;
};

// ---- Webhooks (webhooks.md) ------------------------------------------------------------

// A merchant's webhook endpoint. Deleted endpoints keep their row (deleted_at set) so that
// their deliveries stay listed; the store never returns them as endpoints.
struct WebhookEndpointRecord {
  std::string endpoint_id;  // "wh_..."
  std::string merchant_id;
  std::string url;
  domain::Secret secret;           // "whsec_...": the signing key, needed in clear
  std::string events_json = "[]";  // JSON array of the subscribed event type names
  domain::EndpointStatus status = domain::EndpointStatus::active;
  domain::WebhookFormat format = domain::WebhookFormat::standard;
  std::string description;
  std::string metadata_json = "{}";  // JSON object text
  Timestamp created_at;
  Timestamp updated_at;
  std::optional<Timestamp> deleted_at;
};

enum class EndpointInsertOutcome { inserted, limit_reached };
enum class EndpointDeleteOutcome { deleted, already_deleted, not_found };

// An outbox row: written in the same database transaction as the status change that
// causes it, so a committed change always has its event.
struct WebhookEventRecord {
  std::string event_id;  // "evt_...": the webhook-id header of every attempt
  std::string merchant_id;
  std::string transaction_id;
  std::string event_type;  // "payment.completed", ...
  std::string payload;     // the exact body every attempt sends
  Timestamp created_at;
  // The body for endpoints of each other format (webhooks::WebhookFormat):
  // fixed here like `payload`, so every attempt sends the same one. A format missing here
  // sends its endpoints nothing for this event (a "nomba" endpoint gets no payment.voided):
  // no delivery is made for them. The SQLite schema keeps the "nomba" body in a column of
  // its own; another format is refused (StoreError) until the schema has a place for it.
  std::map<domain::WebhookFormat, std::string> format_payloads = {};
  // The name each format's own API finds this event by (the Nomba body's requestId), kept
  // in an indexed column so that finding it parses no body; only for a format with a body.
  std::map<domain::WebhookFormat, std::string> format_keys = {};
  // The merchant's notification of this event, as the POS WebSocket API pushes it
  // ({"action":"paymentComplete"|"paymentVoided","eventId",...} without its timestamp,
  // groupId and version), fixed with the event so that a resumed client is sent what a
  // live one was. nullopt only for events written before schema version 7 (not replayable).
  std::optional<std::string> notification = std::nullopt;
};

// A payment event in the merchant's event stream, in commit order (resume in the POS
// WebSocket API, docs/pos-websocket.md).
struct PaymentEventRecord {
  // Increases with every committed event, across merchants and gateway nodes: a later
  // commit has a larger sequence.
  std::int64_t sequence = 0;
  std::string event_id;
  std::string merchant_id;
  std::string transaction_id;
  std::string event_type;
  std::string notification;  // WebhookEventRecord::notification
  Timestamp created_at;
};

enum class DeliveryStatus { pending, succeeded, failed };
[[nodiscard]] std::string_view to_string(DeliveryStatus status);
[[nodiscard]] std::optional<DeliveryStatus> parse_delivery_status(std::string_view text);

// One attempt to deliver: the endpoint's answer or the network error, and how long it took.
struct WebhookAttemptRecord {
  std::int64_t number = 0;  // 1, 2, ... per delivery (assigned by the store)
  Timestamp started_at;
  std::int64_t duration_ms = 0;
  std::optional<std::int64_t> http_status;  // set when the endpoint answered
  std::optional<std::string> error;         // set when it did not answer (or answered badly)
  // The start of the endpoint's answer body, cut to the dispatcher's bound
  // (TILLGATE_WEBHOOK_LOGGED_RESPONSE_BYTES); nullopt when it did not answer. Read by the
  // Nomba event logs only (list_nomba_event_logs), not by the delivery lists.
  std::optional<std::string> response_body = std::nullopt;
};

// One event on its way to one endpoint.
struct WebhookDeliveryRecord {
  std::string delivery_id;  // "dlv_..."
  std::string merchant_id;
  std::string event_id;
  std::string endpoint_id;
  std::string event_type;      // of the event
  std::string transaction_id;  // of the event
  DeliveryStatus status = DeliveryStatus::pending;
  std::int64_t attempt_count = 0;  // every attempt, automatic or asked for
  // Failed attempts that used an interval of the retry schedule: the next failure waits
  // schedule[retry_step]; when the schedule is used up, it fails the delivery.
  std::int64_t retry_step = 0;
  std::optional<Timestamp> next_attempt_at;  // set exactly while pending
  Timestamp created_at;
  Timestamp updated_at;
  std::int64_t version = 1;   // incremented by every change of status or schedule
  std::int64_t sequence = 0;  // store-assigned insertion order: the list order and cursor
  std::vector<WebhookAttemptRecord> attempts;  // oldest first (listing reads: the latest ones)
  // The exact body every attempt sends, in the endpoint's format (listing and retry reads;
  // not read for the dispatcher's due deliveries, which carry it beside).
  std::optional<std::string> payload = std::nullopt;
};

// A pending delivery whose time has come, with everything its attempt needs.
struct DueDelivery {
  WebhookDeliveryRecord delivery;  // without attempts
  std::string url;
  domain::Secret secret;
  domain::WebhookFormat format = domain::WebhookFormat::standard;  // the endpoint's
  std::string payload;  // the event's body for that format
  Timestamp due_at{};   // its next_attempt_at before the claim (release_webhook_claims)
};

// A claim the caller made but will not use: the delivery, the version its claim gave it,
// and when it was due before.
struct WebhookClaim {
  std::string delivery_id;
  std::int64_t version = 0;
  Timestamp due_at{};
};

struct DueQuery {
  Timestamp now;
  std::int64_t limit = 100;
  std::vector<std::string> exclude_endpoints = {};   // every delivery slot of these is taken
  std::vector<std::string> exclude_deliveries = {};  // already in flight
  // How long the deliveries returned are claimed (app::Limits::webhook_lease_s, where its
  // default is written); at least 1 ms, else the call throws std::invalid_argument.
  std::chrono::milliseconds lease{0};
};

// When a claim made by `query` ends: now + lease. Throws std::invalid_argument for a lease
// under 1 ms (a claim that ends at once claims nothing).
[[nodiscard]] Timestamp claim_lease_end(const DueQuery& query);

struct DueDeliveries {
  // next_attempt_at <= now, oldest due first, at most limit; each claimed: its row's
  // next_attempt_at is now + lease and its version one more, as carried here.
  std::vector<DueDelivery> due;
  // The earliest next_attempt_at after `now` among the other pending deliveries that the
  // query could return (active endpoint, not excluded): when to look again.
  std::optional<Timestamp> next_due_at;
};

// The result of one attempt, with the delivery's new state as the dispatcher decided it.
struct AttemptOutcome {
  std::string delivery_id;
  std::int64_t expected_version = 0;  // the version the attempt was started from
  WebhookAttemptRecord attempt{};     // number is assigned by the store
  DeliveryStatus next_status = DeliveryStatus::pending;
  std::int64_t retry_step = 0;
  std::optional<Timestamp> next_attempt_at{};
  Timestamp at{};  // when the attempt ended
};

// A delivery is listed with at most this many of its attempts, the latest ones: with the
// default schedule a delivery makes 8 automatic attempts, and manual retries add one each,
// so this bounds the answer's size, not what is kept.
inline constexpr std::int64_t max_listed_webhook_attempts = 50;

struct DeliveryQuery {
  std::string merchant_id;
  std::optional<std::string> endpoint_id = std::nullopt;
  std::optional<std::string> transaction_id = std::nullopt;
  std::optional<DeliveryStatus> status = std::nullopt;
  std::optional<std::int64_t> before_sequence = std::nullopt;  // the cursor
  std::int64_t limit = 50;
  std::int64_t max_attempts_each = max_listed_webhook_attempts;
};

// The Nomba event logs (nomba-compat.md section 5): one merchant's deliveries to its
// Nomba-format endpoints, newest first. Every filter is optional.
struct NombaEventLogQuery {
  std::string merchant_id;
  std::optional<std::string> event_type = std::nullopt;        // Nomba's: payment_success, ...
  std::optional<Timestamp> created_from = std::nullopt;        // inclusive
  std::optional<Timestamp> created_to = std::nullopt;          // inclusive
  std::optional<std::int64_t> before_sequence = std::nullopt;  // the cursor
  std::int64_t limit = 20;
};

// One delivery to a Nomba-format endpoint with its latest attempt's answer.
struct NombaEventLogRecord {
  std::int64_t sequence = 0;  // of the delivery: the cursor
  std::string delivery_id;
  std::string url;                           // the endpoint's (as it is now)
  std::string event_id;                      // the outbox event's "evt_..."
  std::string event_type;                    // the Nomba body's event_type
  std::string request_id;                    // the Nomba body's requestId
  std::optional<std::int64_t> http_status;   // of the latest attempt, when it answered
  std::optional<std::string> response_body;  // of the latest attempt, when it answered
};

enum class RetryOutcome { scheduled, not_found, endpoint_inactive };

struct RetryResult {
  RetryOutcome outcome = RetryOutcome::not_found;
  std::optional<WebhookDeliveryRecord> delivery;  // as it now stands (not for not_found)
};

// A status change, applied only if the stored status is still `expected` (compare and set).
struct StatusChange {
  std::string merchant_id;
  std::string transaction_id;
  TransactionStatus expected = TransactionStatus::pending;
  TransactionStatus next = TransactionStatus::pending;
  std::string cause;
  Timestamp at;
  std::optional<domain::TerminalOutcome> outcome;  // set when the terminal's result is recorded
  std::optional<Timestamp> completed_at;
  std::optional<Timestamp> voided_at;
  std::optional<std::string> void_reason;
  // The outbox event this change causes (it makes the transaction final or VOIDED),
  // written with the change and one pending delivery per active subscribed endpoint.
  std::optional<WebhookEventRecord> webhook_event = std::nullopt;
};

struct ChangeResult {
  bool applied = false;  // false: the stored status was no longer change.expected
  TransactionRecord transaction;
  // The commit sequence of the change's webhook_event (PaymentEventRecord::sequence), when
  // it was applied and wrote one.
  std::optional<std::int64_t> event_sequence = std::nullopt;
};

enum class InsertOutcome { inserted, already_exists, device_busy };

enum class DeviceRevokeOutcome { revoked, already_revoked, not_found };

// ---- Nomba-compatible access tokens (nomba-compat.md, "Authentication") ---------------

// An opaque refresh token, single use. Only its hash is stored. Every token rotated from
// one client_credentials grant shares its family_id, so a stolen token that comes back
// after its rotation revokes the whole family (OAuth 2.0 Security BCP, refresh rotation).
struct RefreshTokenRecord {
  std::string token_hash;  // hex sha256 of the token
  std::string family_id;
  std::string merchant_id;
  std::string api_key;  // the key whose credentials began the family
  Timestamp created_at;
  Timestamp expires_at;
  std::optional<Timestamp> used_at = std::nullopt;     // rotated away
  std::optional<Timestamp> revoked_at = std::nullopt;  // its family was revoked
};

// One refresh: the presented token is used up and its successor inserted, atomically.
struct RefreshRotation {
  std::string merchant_id;  // the accountId the client sent
  std::string presented_hash;
  std::string next_hash;
  Timestamp now;
  Timestamp next_expires_at;
  // false (the default of nomba-compat.md v2): the presented token is only checked, stays
  // valid and nothing is inserted (next_hash unused); true: single use, as described.
  bool rotate = true;
};

enum class RefreshOutcome {
  rotated,      // the successor is stored, in the presented token's family
  unknown,      // no such token for that merchant (nothing changed)
  expired,      // past expires_at (nothing changed)
  reused,       // already used or revoked: the whole family is now revoked
  key_revoked,  // the family's API key is revoked or gone (nothing changed)
  kept,         // rotate == false: the presented token is valid and stays so
  revoked,      // rotate == false: the token was revoked or used up (nothing changed)
};

struct RefreshResult {
  RefreshOutcome outcome = RefreshOutcome::unknown;
  std::optional<RefreshTokenRecord> presented;  // set unless unknown
};

class NodeStore;

class Store {
 public:
  virtual ~Store() = default;

  // What several gateway nodes on this database share (node_store.hpp); nullptr when the
  // backend serves one node only (SQLite).
  [[nodiscard]] virtual NodeStore* nodes() { return nullptr; }

  // Cheap round trip to the database.
  virtual void ping() = 0;
  // Rewrites one small row, for /readyz: throws (StoreError, unavailable()) while the
  // database cannot take writes (disk full, read-only, I/O errors).
  virtual void probe_write(Timestamp at) = 0;

  // Merchants and keys.
  virtual void insert_merchant(const MerchantRecord& merchant) = 0;
  virtual std::optional<MerchantRecord> find_merchant(const std::string& merchant_id) = 0;
  virtual std::vector<MerchantRecord> list_merchants() = 0;
  // Sets (nullopt: clears) the merchant's Nomba amount unit. False when no such merchant.
  virtual bool set_merchant_nomba_amount_unit(const std::string& merchant_id,
                                              const std::optional<std::string>& unit) = 0;
  virtual void insert_api_key(const ApiKeyRecord& key) = 0;
  // A new merchant with its first API key, in one database transaction: a merchant is
  // never stored without the key its creator is shown.
  virtual void create_merchant(const MerchantRecord& merchant, const ApiKeyRecord& key) = 0;
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
  // Revokes the merchant's device and tells a first revocation from a repeat (so a retried
  // DELETE can answer as the first did), under one write lock. not_found for an unknown
  // device and for another merchant's alike.
  virtual DeviceRevokeOutcome revoke_merchant_device(const std::string& merchant_id,
                                                     const std::string& device_id,
                                                     Timestamp at) = 0;

  // Pairing. pair_device uses the code (unused, not expired at `at`) and inserts the device,
  // taking merchant_id and label from the code, in one database transaction; nullopt when
  // the code is unknown, used or expired (nothing is written then). A taken device_id
  // throws StoreError (device ids for pairing are generated).
  virtual void insert_pairing_code(const PairingCodeRecord& code) = 0;
  // As insert_pairing_code, but false, with nothing written, when a code with this hash is
  // stored already (live or used): the caller draws another code.
  virtual bool insert_new_pairing_code(const PairingCodeRecord& code) = 0;
  virtual std::optional<DeviceRecord> pair_device(const std::string& code_hash, DeviceRecord device,
                                                  Timestamp at) = 0;

  // Webhook endpoints (webhooks.md): whether the merchant has one that is active.
  virtual bool has_active_webhook_endpoint(const std::string& merchant_id) = 0;
  // Counts the merchant's endpoints (deleted ones not) and inserts, under one write lock:
  // limit_reached when it already has `max_per_merchant`.
  virtual EndpointInsertOutcome insert_webhook_endpoint(const WebhookEndpointRecord& endpoint,
                                                        std::size_t max_per_merchant) = 0;
  // The merchant's endpoint, unless deleted.
  virtual std::optional<WebhookEndpointRecord> find_webhook_endpoint(
      const std::string& merchant_id, const std::string& endpoint_id) = 0;
  // The merchant's endpoints that are not deleted, oldest first.
  virtual std::vector<WebhookEndpointRecord> list_webhook_endpoints(
      const std::string& merchant_id) = 0;
  // Writes url, events_json, status, description, metadata_json and updated_at of the
  // merchant's endpoint; false when it does not exist or is deleted.
  virtual bool update_webhook_endpoint(const WebhookEndpointRecord& endpoint) = 0;
  // Marks the endpoint deleted and fails its pending deliveries, in one transaction.
  virtual EndpointDeleteOutcome delete_webhook_endpoint(const std::string& merchant_id,
                                                        const std::string& endpoint_id,
                                                        Timestamp at) = 0;

  // Webhook deliveries. Claims the pending deliveries of an active endpoint whose
  // next_attempt_at has come, and answers them with the endpoint's url and secret and the
  // event's payload. A claim (one write transaction) moves next_attempt_at to now + lease
  // and increments version: no other caller, on this node or another, gets the delivery
  // until the lease has passed; recording the attempt (expected_version: the claimed one)
  // ends the claim, and a late record after another caller's claim loses its
  // compare-and-set. next_due_at is read before the claim.
  virtual DueDeliveries claim_due_webhook_deliveries(const DueQuery& query) = 0;
  // Gives back claims not used (no free slot for them after all): each delivery still at
  // its claimed version is due again at its due_at (one more version), so it keeps its
  // place and any caller may take it at once. One transaction.
  virtual void release_webhook_claims(const std::vector<WebhookClaim>& claims) = 0;
  // Appends the attempt and increments attempt_count; applies next_status, retry_step and
  // next_attempt_at only when the delivery is still at expected_version (otherwise a manual
  // retry changed it meanwhile, and that stands). One transaction. False when the delivery
  // does not exist.
  virtual bool record_webhook_attempt(const AttemptOutcome& outcome) = 0;
  // A manual retry: the delivery becomes pending, due at `at` (whatever its status). Not
  // for another merchant's delivery (not_found), nor one whose endpoint is disabled or
  // deleted (endpoint_inactive, nothing changed).
  virtual RetryResult retry_webhook_delivery(const std::string& merchant_id,
                                             const std::string& delivery_id, Timestamp at) = 0;
  // Newest first (by sequence), each with its latest query.max_attempts_each attempts.
  virtual std::vector<WebhookDeliveryRecord> list_webhook_deliveries(
      const DeliveryQuery& query) = 0;
  // The deliveries to the merchant's Nomba-format endpoints of the event whose Nomba body
  // has requestId `request_id` (nomba-compat.md: re-push); none for another merchant's.
  virtual std::vector<std::string> find_nomba_deliveries(const std::string& merchant_id,
                                                         const std::string& request_id) = 0;
  // The Nomba event logs: see NombaEventLogQuery.
  virtual std::vector<NombaEventLogRecord> list_nomba_event_logs(
      const NombaEventLogQuery& query) = 0;
  // The outbox events of one transaction, oldest first.
  virtual std::vector<WebhookEventRecord> list_webhook_events(
      const std::string& merchant_id, const std::string& transaction_id) = 0;
  // The merchant's payment event `event_id`, if it is the merchant's and replayable (it has
  // a notification); nullopt otherwise, another merchant's event included.
  virtual std::optional<PaymentEventRecord> find_payment_event(const std::string& merchant_id,
                                                               const std::string& event_id) = 0;
  // The merchant's replayable payment events with a sequence above `after_sequence`, in
  // commit order, at most `limit`.
  virtual std::vector<PaymentEventRecord> list_payment_events(const std::string& merchant_id,
                                                              std::int64_t after_sequence,
                                                              std::size_t limit) = 0;

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
  // stored status still equals change.expected. A change.webhook_event is written in the
  // same transaction, with one pending delivery (due at change.at) per active endpoint of
  // the merchant subscribed to its type. nullopt when the transaction does not
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

  // Nomba-compatible tokens. insert_refresh_token first deletes the merchant's expired
  // tokens, then, when the merchant already holds `max_live_per_merchant` live tokens
  // (unused, unrevoked, unexpired at token.created_at), revokes the oldest ones to make
  // room; one transaction.
  virtual void insert_refresh_token(const RefreshTokenRecord& token,
                                    std::size_t max_live_per_merchant) = 0;
  // Checks and uses the presented token and inserts its successor (same family, merchant
  // and API key), in one write transaction: see RefreshOutcome.
  virtual RefreshResult rotate_refresh_token(const RefreshRotation& rotation) = 0;
  // POST /v1/auth/token/revoke: the access token `token_id` (its jti) is refused from
  // `at` on. Its row is kept until `expires_at` (the token's own expiry), then pruned by
  // the next revocation.
  virtual void revoke_access_token(const std::string& token_id, const std::string& merchant_id,
                                   Timestamp expires_at, Timestamp at) = 0;
  virtual bool is_access_token_revoked(const std::string& token_id) = 0;
  // The shared replay cache: true when the signature's digest is remembered now, false
  // when it already was (a replayed request); in one write transaction, which first deletes
  // at most purge_limit expired rows. Only a backend that several nodes share keeps one
  // (PostgreSQL); a backend of one node (SQLite: its writer lock) throws StoreError, and the
  // gateway remembers signatures in memory there (api/replay_guard.hpp).
  virtual bool remember_signature(const RememberedSignature& signature) {
    (void)signature;
    throw StoreError("this database serves one node: it keeps no shared replay cache");
  }
  // The server secret called `name` (e.g. the access-token signing key): `candidate` is
  // stored when there is none yet, otherwise the stored one is returned, so every start
  // and every node on the same database signs with the same key.
  virtual domain::Secret server_secret(const std::string& name, const domain::Secret& candidate,
                                       Timestamp at) = 0;

  // ---- Group commit (store::AsyncStore) --------------------------------------------
  // How the calls of a batch are kept apart.
  enum class BatchCalls {
    // Each call in a savepoint of its own: a failing call undoes only its own writes. It
    // costs a copy of every page a call changes (SQLite's statement journal).
    isolated,
    // No savepoints: the calls write straight into the batch's transaction. A call that
    // fails cannot be undone alone, so it spoils the batch (end_batch_call answers false),
    // which must then be rolled back and run again without it.
    shared,
  };
  // begin_batch opens one write transaction (taking the write lock); every method called
  // until commit_batch or rollback_batch runs inside it, and nothing it writes is durable,
  // or visible to another connection, before commit_batch returns: several calls share
  // one commit (one fsync). Throws StoreError when the transaction cannot be opened.
  virtual void begin_batch(BatchCalls calls) = 0;
  // Each call of a batch runs between begin_batch_call and end_batch_call. In an isolated
  // batch that makes it atomic on its own: end_batch_call(true) keeps its writes,
  // end_batch_call(false) undoes them and only them (the batch's other calls keep theirs),
  // and the answer is true. In a shared batch the answer is false when the call failed
  // (keep false) or left a write of its own half done: the batch is spoiled, and only a
  // rollback_batch may follow. Both throw StoreError when the batch's transaction is gone
  // (the database rolled it back after a failure such as a full disk): nothing of the
  // batch can commit then, and the batch must be rolled back.
  virtual void begin_batch_call() = 0;
  virtual bool end_batch_call(bool keep) = 0;
  // Commits the batch; throws StoreError when it did not commit (then rollback_batch).
  virtual void commit_batch() = 0;
  // Ends the batch without committing it: undoes whatever it wrote. Never throws.
  virtual void rollback_batch() noexcept = 0;

  // ---- Reads run together (store::AsyncStore) ----------------------------------------
  // Around the reads the store thread runs in a row before a batch: one read transaction
  // for them all, so a database that locks per transaction (SQLite: its WAL read lock, a
  // system call to take and one to release) does so once, not once per read. Each read
  // still sees only committed data, and none may write. Never throw: when the read
  // transaction cannot open, each read runs on its own as without them.
  virtual void begin_reads() noexcept {}
  virtual void end_reads() noexcept {}
};

// Opens the store named by a TILLGATE_DB url ("sqlite:PATH", "postgresql://..." or
// "postgres://..."), applying pending migrations, its calls bounded by `options` (a
// database server's; SQLite ignores them).
// Throws StoreError when it cannot be opened or migrated.
[[nodiscard]] std::unique_ptr<Store> open_store(const std::string& url,
                                                const DatabaseOptions& options = {});

// The reader connections of AsyncStore's pool for the same database: options.pool - 1 of
// them on PostgreSQL, each a store of its own (opened as open_store opens one, after it);
// none on SQLite, whose one connection serves reads on the store thread. Throws StoreError
// as open_store does.
[[nodiscard]] std::vector<std::unique_ptr<Store>> open_store_readers(
    const std::string& url, const DatabaseOptions& options = {});

}  // namespace tillgate::store
