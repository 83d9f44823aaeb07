#include "store/sqlite/sqlite_store.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <system_error>

#include "store/sqlite/file_safety.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/store_statements.hpp"

namespace tillgate::store::sqlite {
namespace {

// The database holds API secrets: a directory the gateway creates is 0700, a database
// file it creates is 0600 (and so are its -wal and -shm, which SQLite creates with the
// database file's mode). A file that exists keeps its mode, with a warning when others
// may read it.
std::string prepare_path(const std::filesystem::path& path) {
  if (path.empty()) {
    throw StoreError("sqlite store: open: empty database path");
  }
  if (path.has_parent_path()) {
    create_private_directories(path.parent_path());
  }
  if (!create_private_file(path) && readable_by_others(path)) {
    spdlog::warn(
        "the database file {} may be read or written by other users (it holds API secrets): "
        "chmod 600 it and its -wal and -shm files",
        path.string());
  }
  return path.string();
}

std::int64_t read_pragma_int(sqlite3* db, std::string_view name, std::string_view operation) {
  const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || c == '_';
  });
  if (!valid) {
    throw StoreError("sqlite store: pragma_int: invalid pragma name");
  }
  Statement statement{db, name, fmt::format("PRAGMA {}", name)};
  auto use = statement.use(operation);
  if (!use.step()) {
    use.fail("pragma returned no value");
  }
  return use.int64(0);
}

void configure(sqlite3* db, SqliteOptions options) {
  constexpr std::string_view kOperation = "open";
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
  // journal_mode answers the mode now in effect; SQLite keeps the old mode without an
  // error when WAL is impossible (e.g. a file system without shared memory), so check.
  Statement wal{db, "journal_mode", "PRAGMA journal_mode = WAL"};
  {
    auto use = wal.use(kOperation);
    if (!use.step() || use.text(0) != "wal") {
      throw StoreError("sqlite store: open: the database could not be switched to WAL mode");
    }
  }
  // FULL: in WAL mode every commit is fsynced, so a commit that returned survives a power
  // loss (NORMAL could lose the last commits, and the store promises durability).
  // temp_store MEMORY: each call of a batch runs in a savepoint, whose statement journal
  // (the pages' contents before the call) otherwise goes to a file in /var/tmp that is
  // created, written page by page and deleted for every batch. It is bounded by the pages
  // one batch changes, and never needed after a crash (the WAL holds what committed).
  const char* settings =
      "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;";
  if (const int rc = sqlite3_exec(db, settings, nullptr, nullptr, nullptr); rc != SQLITE_OK) {
    throw_error(db, rc, kOperation, "pragmas");
  }
  // A build without foreign key support ignores the pragma silently.
  if (read_pragma_int(db, "synchronous", kOperation) != 2 ||
      read_pragma_int(db, "foreign_keys", kOperation) != 1 ||
      read_pragma_int(db, "temp_store", kOperation) != 2) {
    throw StoreError(
        "sqlite store: open: synchronous=FULL, foreign_keys=ON or temp_store=MEMORY did not "
        "apply");
  }
}

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

SqliteStore::SqliteStore(const std::filesystem::path& path, SqliteOptions options)
    : connection_(prepare_path(path)) {
  try {
    configure(connection_.get(), options);
    migrate(connection_, domain::SystemClock{}.now());
  } catch (const SqliteError& error) {
    // The operator needs to know which file: TILLGATE_DB may be relative.
    throw SqliteError(fmt::format("{} [database {}]", error.what(), path.string()), error.code());
  }
  // Prepared after migrating: preparing checks the tables and columns exist.
  statements_ = std::make_unique<Statements>(connection_.get());
  sqlite3_commit_hook(connection_.get(), &SqliteStore::commit_hook, this);
}

SqliteStore::~SqliteStore() {
  sqlite3_commit_hook(connection_.get(), nullptr, nullptr);
}

std::int64_t SqliteStore::pragma_int(std::string_view name) {
  return read_pragma_int(connection_.get(), name, "pragma_int");
}

WriteTransaction SqliteStore::begin_write(std::string_view operation) {
  const bool shared_batch = batch_open_ && batch_calls_ == BatchCalls::shared;
  return WriteTransaction{
      connection_.get(),
      {statements_->begin, statements_->commit, statements_->rollback, statements_->savepoint_write,
       statements_->release_write, statements_->rollback_to_write},
      operation,
      shared_batch ? &batch_spoiled_ : nullptr};
}

// Group commit. The batch is one BEGIN IMMEDIATE ... COMMIT. In an isolated batch each call
// is a savepoint in it, and a WriteTransaction inside a call nests as a savepoint of its
// own; in a shared batch neither is (see WriteTransaction's `spoiled`).

int SqliteStore::commit_hook(void* self) noexcept {
  // Non-zero turns the commit into a rollback (the statement fails with
  // SQLITE_CONSTRAINT_COMMITHOOK): inside a batch only commit_batch may commit.
  const auto* store = static_cast<const SqliteStore*>(self);
  return store->batch_open_ && !store->committing_batch_ ? 1 : 0;
}

void SqliteStore::require_batch(std::string_view operation) const {
  if (!batch_open_) {
    throw StoreError(fmt::format("sqlite store: {}: no batch is open", operation));
  }
  if (sqlite3_get_autocommit(connection_.get()) != 0) {
    throw StoreUnavailable(
        fmt::format("sqlite store: {}: the database rolled the batch's transaction back after "
                    "a failure; nothing of the batch was committed",
                    operation));
  }
}

void SqliteStore::begin_batch(BatchCalls calls) {
  constexpr std::string_view kOperation = "begin_batch";
  if (batch_open_) {
    throw StoreError("sqlite store: begin_batch: a batch is already open");
  }
  if (sqlite3_get_autocommit(connection_.get()) == 0) {
    // Left open by a rollback that failed earlier: nothing in it was ever reported as done.
    statements_->rollback.use(kOperation).run();
  }
  statements_->begin.use(kOperation).run();
  batch_open_ = true;
  batch_calls_ = calls;
  batch_spoiled_ = false;
}

void SqliteStore::begin_batch_call() {
  constexpr std::string_view kOperation = "begin_batch_call";
  require_batch(kOperation);
  if (batch_calls_ == BatchCalls::isolated) {
    statements_->savepoint_call.use(kOperation).run();
  }
}

bool SqliteStore::end_batch_call(bool keep) {
  constexpr std::string_view kOperation = "end_batch_call";
  require_batch(kOperation);
  if (batch_calls_ == BatchCalls::shared) {
    batch_spoiled_ = batch_spoiled_ || !keep;
    return !batch_spoiled_;
  }
  if (!keep) {
    statements_->rollback_to_call.use(kOperation).run();
  }
  statements_->release_call.use(kOperation).run();
  return true;
}

void SqliteStore::commit_batch() {
  constexpr std::string_view kOperation = "commit_batch";
  require_batch(kOperation);
  committing_batch_ = true;
  try {
    statements_->commit.use(kOperation).run();
  } catch (...) {
    committing_batch_ = false;
    throw;  // still open unless SQLite rolled it back: the caller calls rollback_batch
  }
  committing_batch_ = false;
  batch_open_ = false;
}

void SqliteStore::rollback_batch() noexcept {
  batch_open_ = false;
  if (sqlite3_get_autocommit(connection_.get()) != 0) {
    return;  // already rolled back (by SQLite after a failure, or never begun)
  }
  try {
    statements_->rollback.use("rollback_batch").run();
  } catch (...) {
    // The next begin_batch rolls back what is left open.
  }
}

void SqliteStore::begin_reads() noexcept {
  if (batch_open_ || sqlite3_get_autocommit(connection_.get()) == 0) {
    return;  // inside a transaction already: the reads run in it
  }
  try {
    statements_->begin_reads.use("begin_reads").run();
  } catch (...) {
    // Each read runs in a transaction of its own instead.
  }
}

void SqliteStore::end_reads() noexcept {
  if (batch_open_ || sqlite3_get_autocommit(connection_.get()) != 0) {
    return;  // none was opened, or SQLite ended it after a failed read
  }
  try {
    statements_->commit.use("end_reads").run();
  } catch (...) {
    rollback_batch();  // releases the read lock (batch_open_ is false: nothing else changes)
  }
}

void SqliteStore::ping() {
  auto use = statements_->ping.use("ping");
  if (!use.step()) {
    use.fail("SELECT 1 returned no row");
  }
}

void SqliteStore::probe_write(Timestamp at) {
  statements_->probe_write.use("probe_write").bind(at).run();
}

// Merchants and keys. Ids are generated by the service, so a duplicate or an unknown
// merchant here is a bug upstream, thrown as StoreError rather than returned.

void SqliteStore::insert_merchant(const MerchantRecord& merchant) {
  statements_->insert_merchant.use("insert_merchant")
      .bind(merchant.merchant_id, merchant.name, merchant.created_at)
      .run();
}

std::optional<MerchantRecord> SqliteStore::find_merchant(const std::string& merchant_id) {
  auto use = statements_->find_merchant.use("find_merchant");
  use.bind(merchant_id);
  if (!use.step()) {
    return std::nullopt;
  }
  return read_merchant(use);
}

bool SqliteStore::set_merchant_nomba_amount_unit(const std::string& merchant_id,
                                                 const std::optional<std::string>& unit) {
  auto use = statements_->set_merchant_nomba_amount_unit.use("set_merchant_nomba_amount_unit");
  use.bind(merchant_id, unit).run();
  return use.changes() == 1;
}

std::vector<MerchantRecord> SqliteStore::list_merchants() {
  auto use = statements_->list_merchants.use("list_merchants");
  std::vector<MerchantRecord> merchants;
  while (use.step()) {
    merchants.push_back(read_merchant(use));
  }
  return merchants;
}

void SqliteStore::insert_api_key(const ApiKeyRecord& key) {
  statements_->insert_api_key.use("insert_api_key")
      .bind(key.api_key, key.merchant_id, key.api_secret.reveal(), key.created_at, key.revoked_at)
      .run();
}

void SqliteStore::create_merchant(const MerchantRecord& merchant, const ApiKeyRecord& key) {
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

std::optional<ApiKeyRecord> SqliteStore::find_api_key(const std::string& api_key) {
  auto use = statements_->find_api_key.use("find_api_key");
  use.bind(api_key);
  if (!use.step()) {
    return std::nullopt;
  }
  return read_api_key(use);
}

bool SqliteStore::revoke_api_key(const std::string& merchant_id, const std::string& api_key,
                                 Timestamp at) {
  auto use = statements_->revoke_api_key.use("revoke_api_key");
  use.bind(merchant_id, api_key, at).run();
  return use.changes() == 1;
}

// Devices.

bool SqliteStore::insert_device(const DeviceRecord& device) {
  auto use = statements_->insert_device.use("insert_device");
  use.bind(device.device_id, device.merchant_id, device.label, device.secret_hash,
           device.metadata_json, device.created_at, device.revoked_at)
      .run();
  return use.changes() == 1;  // 0: ON CONFLICT (device_id) DO NOTHING, the id is taken
}

std::optional<DeviceRecord> SqliteStore::find_device(const std::string& device_id) {
  auto use = statements_->find_device.use("find_device");
  use.bind(device_id);
  if (!use.step()) {
    return std::nullopt;
  }
  return read_device(use);
}

std::vector<DeviceRecord> SqliteStore::list_devices(const std::string& merchant_id) {
  auto use = statements_->list_devices.use("list_devices");
  use.bind(merchant_id);
  std::vector<DeviceRecord> devices;
  while (use.step()) {
    devices.push_back(read_device(use));
  }
  return devices;
}

bool SqliteStore::revoke_device(const std::string& merchant_id, const std::string& device_id,
                                Timestamp at) {
  auto use = statements_->revoke_device.use("revoke_device");
  use.bind(merchant_id, device_id, at).run();
  return use.changes() == 1;
}

DeviceRevokeOutcome SqliteStore::revoke_merchant_device(const std::string& merchant_id,
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

}  // namespace tillgate::store::sqlite
