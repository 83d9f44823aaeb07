#include "store/postgres/postgres_store.hpp"

#include <fmt/format.h>

#include "store/postgres/migrations.hpp"
#include "store/postgres/pg.hpp"
#include "store/postgres/store_statements.hpp"

namespace tillgate::store::postgres {
namespace {

[[nodiscard]] MerchantRecord read_merchant(const Statement::Use& use) {
  return MerchantRecord{.merchant_id = use.text(0),
                        .name = use.text(1),
                        .created_at = use.timestamp(2),
                        .nomba_amount_unit = use.optional_text(3)};
}

[[nodiscard]] ApiKeyRecord read_api_key(const Statement::Use& use) {
  return ApiKeyRecord{.api_key = use.text(0),
                      .merchant_id = use.text(1),
                      .api_secret = domain::Secret(use.text(2)),
                      .created_at = use.timestamp(3),
                      .revoked_at = use.optional_timestamp(4)};
}

[[nodiscard]] DeviceRecord read_device(const Statement::Use& use) {
  return DeviceRecord{.device_id = use.text(0),
                      .merchant_id = use.text(1),
                      .label = use.text(2),
                      .secret_hash = use.text(3),
                      .metadata_json = use.text(4),
                      .created_at = use.timestamp(5),
                      .revoked_at = use.optional_timestamp(6)};
}

}  // namespace

PostgresStore::PostgresStore(const std::string& url) : PostgresStore(url, ConnectionOptions{}) {}

PostgresStore::PostgresStore(const std::string& url, const ConnectionOptions& options)
    : connection_(std::make_unique<Connection>(url, options)) {
  migrate(*connection_, domain::SystemClock{}.now());
  statements_ = std::make_unique<Statements>(*connection_);
}

PostgresStore::~PostgresStore() = default;

WriteTransaction PostgresStore::begin_write(std::string_view operation) {
  const bool shared_batch = batch_open_ && batch_calls_ == BatchCalls::shared;
  return WriteTransaction{*connection_, operation, batch_open_,
                          shared_batch ? &batch_spoiled_ : nullptr};
}

// Group commit. The batch is one BEGIN (with the write lock) ... COMMIT. In an isolated
// batch each call is a savepoint in it, and a WriteTransaction inside a call nests as a
// savepoint of its own; in a shared batch neither is (see WriteTransaction's `spoiled`).
// Unlike SQLite, PostgreSQL fails the whole transaction at a failed statement until a
// ROLLBACK TO: a shared batch with a failed call is spoiled (end_batch_call answers false).
// No commit can slip in mid-batch: the connection refuses to reconnect inside an open
// transaction, so a statement after a lost connection fails rather than autocommits.

void PostgresStore::require_batch(std::string_view operation) const {
  if (!batch_open_) {
    throw StoreError(fmt::format("postgres store: {}: no batch is open", operation));
  }
  const auto status = connection_->server_transaction_status();
  if (!connection_->transaction_open() ||
      (status != PQTRANS_INTRANS && status != PQTRANS_INERROR)) {
    throw StoreUnavailable(
        fmt::format("postgres store: {}: the batch's transaction is gone (the connection was "
                    "lost); nothing of the batch was committed",
                    operation));
  }
}

void PostgresStore::begin_batch(BatchCalls calls) {
  constexpr std::string_view kOperation = "begin_batch";
  if (batch_open_) {
    throw StoreError("postgres store: begin_batch: a batch is already open");
  }
  connection_->rollback();  // whatever a failed rollback left open: never reported as done
  connection_->begin(kOperation, true);
  batch_open_ = true;
  batch_calls_ = calls;
  batch_spoiled_ = false;
}

void PostgresStore::begin_batch_call() {
  constexpr std::string_view kOperation = "begin_batch_call";
  require_batch(kOperation);
  if (batch_calls_ == BatchCalls::isolated) {
    connection_->exec("SAVEPOINT tillgate_call", kOperation, "savepoint");
  }
}

bool PostgresStore::end_batch_call(bool keep) {
  constexpr std::string_view kOperation = "end_batch_call";
  require_batch(kOperation);
  if (batch_calls_ == BatchCalls::shared) {
    const bool failed = connection_->server_transaction_status() == PQTRANS_INERROR;
    batch_spoiled_ = batch_spoiled_ || !keep || failed;
    return !batch_spoiled_;
  }
  if (!keep) {
    connection_->exec("ROLLBACK TO SAVEPOINT tillgate_call", kOperation, "rollback to savepoint");
  }
  connection_->exec("RELEASE SAVEPOINT tillgate_call", kOperation, "release savepoint");
  return true;
}

void PostgresStore::commit_batch() {
  constexpr std::string_view kOperation = "commit_batch";
  require_batch(kOperation);
  connection_->commit(kOperation);
  batch_open_ = false;
}

void PostgresStore::rollback_batch() noexcept {
  batch_open_ = false;
  connection_->rollback();
}

void PostgresStore::ping() {
  auto use = statements_->ping.use("ping");
  if (!use.step()) {
    use.fail("SELECT 1 returned no row");
  }
}

void PostgresStore::probe_write(Timestamp at) {
  statements_->probe_write.use("probe_write").bind(at).run();
}

// Merchants and keys. Ids are generated by the service, so a duplicate or an unknown
// merchant here is a bug upstream, thrown as StoreError rather than returned.

void PostgresStore::insert_merchant(const MerchantRecord& merchant) {
  statements_->insert_merchant.use("insert_merchant")
      .bind(merchant.merchant_id, merchant.name, merchant.created_at)
      .run();
}

std::optional<MerchantRecord> PostgresStore::find_merchant(const std::string& merchant_id) {
  auto use = statements_->find_merchant.use("find_merchant");
  use.bind(merchant_id);
  if (!use.step()) {
    return std::nullopt;
  }
  return read_merchant(use);
}

bool PostgresStore::set_merchant_nomba_amount_unit(const std::string& merchant_id,
                                                   const std::optional<std::string>& unit) {
  auto use = statements_->set_merchant_nomba_amount_unit.use("set_merchant_nomba_amount_unit");
  use.bind(merchant_id, unit).run();
  return use.changes() == 1;
}

std::vector<MerchantRecord> PostgresStore::list_merchants() {
  auto use = statements_->list_merchants.use("list_merchants");
  std::vector<MerchantRecord> merchants;
  while (use.step()) {
    merchants.push_back(read_merchant(use));
  }
  return merchants;
}

void PostgresStore::insert_api_key(const ApiKeyRecord& key) {
  statements_->insert_api_key.use("insert_api_key")
      .bind(key.api_key, key.merchant_id, key.api_secret.reveal(), key.created_at, key.revoked_at)
      .run();
}

void PostgresStore::create_merchant(const MerchantRecord& merchant, const ApiKeyRecord& key) {
  constexpr std::string_view kOperation = "create_merchant";
  auto transaction = begin_write(kOperation);
  statements_->insert_merchant.use(kOperation)
      .bind(merchant.merchant_id, merchant.name, merchant.created_at)
      .run();
  statements_->insert_api_key.use(kOperation)
      .bind(key.api_key, key.merchant_id, key.api_secret.reveal(), key.created_at, key.revoked_at)
      .run();
  transaction.commit();
}

std::optional<ApiKeyRecord> PostgresStore::find_api_key(const std::string& api_key) {
  auto use = statements_->find_api_key.use("find_api_key");
  use.bind(api_key);
  if (!use.step()) {
    return std::nullopt;
  }
  return read_api_key(use);
}

bool PostgresStore::revoke_api_key(const std::string& merchant_id, const std::string& api_key,
                                   Timestamp at) {
  auto use = statements_->revoke_api_key.use("revoke_api_key");
  use.bind(merchant_id, api_key, at).run();
  return use.changes() == 1;
}

// Devices.

bool PostgresStore::insert_device(const DeviceRecord& device) {
  auto use = statements_->insert_device.use("insert_device");
  use.bind(device.device_id, device.merchant_id, device.label, device.secret_hash,
           device.metadata_json, device.created_at, device.revoked_at)
      .run();
  return use.changes() == 1;  // 0: ON CONFLICT (device_id) DO NOTHING, the id is taken
}

std::optional<DeviceRecord> PostgresStore::find_device(const std::string& device_id) {
  auto use = statements_->find_device.use("find_device");
  use.bind(device_id);
  if (!use.step()) {
    return std::nullopt;
  }
  return read_device(use);
}

std::vector<DeviceRecord> PostgresStore::list_devices(const std::string& merchant_id) {
  auto use = statements_->list_devices.use("list_devices");
  use.bind(merchant_id);
  std::vector<DeviceRecord> devices;
  while (use.step()) {
    devices.push_back(read_device(use));
  }
  return devices;
}

bool PostgresStore::revoke_device(const std::string& merchant_id, const std::string& device_id,
                                  Timestamp at) {
  auto use = statements_->revoke_device.use("revoke_device");
  use.bind(merchant_id, device_id, at).run();
  return use.changes() == 1;
}

DeviceRevokeOutcome PostgresStore::revoke_merchant_device(const std::string& merchant_id,
                                                          const std::string& device_id,
                                                          Timestamp at) {
  constexpr std::string_view kOperation = "revoke_merchant_device";
  // The update, and the look that explains a no-op, under one write lock: nothing can
  // revoke or insert the device in between.
  auto transaction = begin_write(kOperation);
  auto outcome = DeviceRevokeOutcome::revoked;
  bool revoked = false;
  {
    auto use = statements_->revoke_device.use(kOperation);
    use.bind(merchant_id, device_id, at).run();
    revoked = use.changes() == 1;
  }
  if (!revoked) {
    auto use = statements_->find_device.use(kOperation);
    const bool found = use.bind(device_id).step();
    const auto device = found ? std::optional(read_device(use)) : std::nullopt;
    outcome = device && device->merchant_id == merchant_id && device->revoked_at
                  ? DeviceRevokeOutcome::already_revoked
                  : DeviceRevokeOutcome::not_found;
  }
  transaction.commit();
  return outcome;
}

}  // namespace tillgate::store::postgres
