// One writer per SQLite file, private file modes, and `tillgate backup` (issue 19, items 3
// and 5), against the real binary.
#include <sys/stat.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

[[nodiscard]] unsigned mode_of(const fs::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    return 0;
  }
  return status.st_mode & 07777;
}

class SqliteSafetyTest : public GatewayTest {
 protected:
  // Payments under load must not meet the merchant rate limit.
  EnvMap gateway_env() override { return {{"TILLGATE_RATE_LIMIT_RPS", "100000"}}; }

  [[nodiscard]] fs::path db() const { return gateway_->dir() / "tillgate.db"; }
  [[nodiscard]] fs::path backup_path() const { return gateway_->dir() / "backup.db"; }

  // `tillgate backup` with the gateway's own environment (its TILLGATE_DB).
  CommandResult backup(std::vector<std::string> args, EnvMap env = {}) {
    EnvMap merged = gateway_->env();
    for (auto& [name, value] : env) {
      merged[name] = value;
    }
    args.insert(args.begin(), "backup");
    return run_tillgate(args, merged, 120s);
  }
};

TEST_F(SqliteSafetyTest, ASecondServeOnTheSameDatabaseExits1NamingTheFileAndTheHolder) {
  const auto second = run_tillgate({"serve"}, gateway().env());
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_NE(second.err.find(db().string()), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("pid " + std::to_string(gateway().pid())), std::string::npos)
      << second.err;
  EXPECT_NE(second.err.find("in use"), std::string::npos) << second.err;
  EXPECT_EQ(second.out.find("listening on"), std::string::npos) << second.out;
  // The first one still serves.
  EXPECT_EQ(http().request("GET", "/readyz").status, 200);
}

[[nodiscard]] ino_t inode_of(const fs::path& path) {
  struct stat status {};
  return ::stat(path.c_str(), &status) == 0 ? status.st_ino : 0;
}

// demo recreates its database at each start: a second demo must be refused before it
// deletes the files of the one running.
TEST(SqliteSafetyDemoTest, ASecondDemoInTheSameDirectoryIsRefusedAndDeletesNothing) {
  TempDir dir;
  ChildProcess first({TILLGATE_BINARY, "demo", "--listen", "127.0.0.1:0"}, {}, dir.path(),
                     dir.path() / "first.stderr");
  ASSERT_TRUE(first.wait_for_line(" pay --url ", 30s)) << first.stdout_text();
  const auto db = dir.path() / "data" / "demo.db";
  const auto inode = inode_of(db);
  ASSERT_NE(inode, 0U);
  ChildProcess second({TILLGATE_BINARY, "demo", "--listen", "127.0.0.1:0"}, {}, dir.path(),
                      dir.path() / "second.stderr");
  const auto status = second.wait(30s);
  ASSERT_TRUE(status);
  EXPECT_EQ(exit_code_of(*status), 1);
  const auto err = read_file(dir.path() / "second.stderr");
  EXPECT_NE(err.find(db.string()), std::string::npos) << err;
  EXPECT_NE(err.find("pid " + std::to_string(first.pid())), std::string::npos) << err;
  EXPECT_EQ(inode_of(db), inode) << "the running demo's database was replaced";
  EXPECT_TRUE(fs::exists(db.string() + "-wal"));
  EXPECT_TRUE(first.running());
  EXPECT_EQ(exit_code_of(first.terminate(10s)), 0);
}

TEST_F(SqliteSafetyTest, AfterKill9TheStalePidInTheLockFileDoesNotBlockARestart) {
  const auto merchant = create_merchant("Survivor Shop");
  const auto old_pid = gateway().pid();
  gateway().kill9();
  // The dead holder's pid is still written in the lock file; the kernel dropped its lock.
  EXPECT_NE(read_file(db().string() + ".lock").find("pid " + std::to_string(old_pid)),
            std::string::npos);
  ASSERT_NO_THROW(gateway().start()) << gateway().stderr_text();
  EXPECT_NE(read_file(db().string() + ".lock").find("pid " + std::to_string(gateway().pid())),
            std::string::npos);
  EXPECT_EQ(signed_request(merchant, "GET", "/v1/terminals").status, 200);
}

TEST_F(SqliteSafetyTest, TheDatabaseItsWalShmAndLockFileAreOwnerOnly) {
  (void)create_merchant("Private Shop");  // a write: the WAL has content
  for (const std::string suffix : {"", "-wal", "-shm", ".lock"}) {
    ASSERT_TRUE(fs::exists(db().string() + suffix)) << suffix;
    EXPECT_EQ(mode_of(db().string() + suffix), 0600U) << suffix;
  }
}

TEST_F(SqliteSafetyTest, ADatabaseDirectoryTheGatewayCreatesIsOwnerOnly) {
  gateway().stop();
  TempDir dir;
  const auto nested = dir.path() / "state" / "tillgate";
  GatewayProcess other({{"TILLGATE_DB", "sqlite:" + (nested / "tillgate.db").string()}});
  EXPECT_EQ(mode_of(dir.path() / "state"), 0700U);
  EXPECT_EQ(mode_of(nested), 0700U);
  EXPECT_EQ(mode_of(nested / "tillgate.db"), 0600U);
}

TEST_F(SqliteSafetyTest, BackupRefusesWithClearMessages) {
  (void)create_merchant("Backup Shop");
  // The database named by TILLGATE_DB does not exist: nothing is created.
  const auto missing = gateway().dir() / "missing.db";
  auto result =
      backup({"--to", backup_path().string()}, {{"TILLGATE_DB", "sqlite:" + missing.string()}});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find(missing.string() + " does not exist"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(missing));
  // PATH exists.
  std::ofstream(backup_path()) << "an older backup";
  result = backup({"--to", backup_path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("already exists"), std::string::npos) << result.err;
  EXPECT_EQ(read_file(backup_path()), "an older backup");
  // PATH is the live database (or its WAL), even with --force.
  result = backup({"--to", db().string(), "--force"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("is the live database"), std::string::npos) << result.err;
  result = backup({"--to", db().string() + "-wal", "--force"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("is the live database"), std::string::npos) << result.err;
  // A directory that cannot be written (sysfs refuses new files even to root).
  result = backup({"--to", "/sys/tillgate-backup.db"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("cannot write in /sys"), std::string::npos) << result.err;
  // A directory that does not exist.
  result = backup({"--to", (gateway().dir() / "no" / "b.db").string()});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("does not exist"), std::string::npos) << result.err;
  // PostgreSQL has its own tools.
  result = backup({"--to", backup_path().string()}, {{"TILLGATE_DB", "postgresql://u@h/db"}});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("pg_basebackup"), std::string::npos) << result.err;
  // --to is required.
  result = backup({});
  EXPECT_NE(result.exit_code, 0);
  // --force replaces the old file.
  result = backup({"--to", backup_path().string(), "--force"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(mode_of(backup_path()), 0600U);
  EXPECT_EQ(http().request("GET", "/readyz").status, 200);
}

// backup reads the database setting as serve does: TILLGATE_DB (above), --db, --config.
TEST_F(SqliteSafetyTest, BackupFindsTheDatabaseByFlagAndByConfigFile) {
  (void)create_merchant("Config Shop");
  const auto by_flag = gateway().dir() / "by-flag.db";
  auto result =
      run_tillgate({"backup", "--db", "sqlite:" + db().string(), "--to", by_flag.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("backup written to " + by_flag.string()), std::string::npos)
      << result.out;
  const auto config = gateway().dir() / "tillgate.toml";
  std::ofstream(config) << "db = \"sqlite:" << db().string() << "\"\n";
  const auto by_config = gateway().dir() / "by-config.db";
  result = run_tillgate({"backup", "--config", config.string(), "--to", by_config.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(fs::exists(by_config));
  // Without any setting: the default ./data/tillgate.db, which does not exist there.
  result = run_tillgate({"backup", "--to", (gateway().dir() / "by-default.db").string()});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("data/tillgate.db does not exist"), std::string::npos) << result.err;
}

struct Acknowledged {
  std::string transaction_id;
  std::string amount;
  std::string status;
  std::chrono::steady_clock::time_point answered_at;
};

// Terminals approving, merchant clients paying on each in a loop; every 2xx answer with a
// final status is recorded with the time it arrived.
class PaymentLoad {
 public:
  using Pay = std::function<std::future<client::HttpResponse>(const Device&, std::string)>;

  PaymentLoad(const std::vector<Device>& devices, Pay pay) : pay_(std::move(pay)) {
    for (std::size_t i = 0; i < devices.size(); ++i) {
      workers_.emplace_back([this, device = devices[i], i] { run(device, i); });
    }
  }
  ~PaymentLoad() { stop(); }

  void stop() {
    running_ = false;
    for (auto& worker : workers_) {
      if (worker.joinable()) {
        worker.join();
      }
    }
  }
  [[nodiscard]] std::vector<Acknowledged> acknowledged() const {
    const std::lock_guard lock(mutex_);
    return acknowledged_;
  }
  [[nodiscard]] std::size_t count() const {
    const std::lock_guard lock(mutex_);
    return acknowledged_.size();
  }

 private:
  void run(const Device& device, std::size_t worker) {
    for (int n = 0; running_; ++n) {
      const auto id = "TXN-BK-" + std::to_string(worker) + "-" + std::to_string(n);
      const auto amount = std::to_string(1 + n) + "." + std::to_string(10 + worker);
      auto pending = pay_(device, payment_body(amount, "USD", id));
      const auto res = pending.get();
      const auto body = parse_json(res.body);
      const auto* payment = body.find("paymentResponse");
      if (res.status / 100 != 2 || payment == nullptr ||
          string_at(*payment, "status") != "SUCCESS") {
        ADD_FAILURE() << "payment " << id << " answered " << res.status << ": " << res.body;
        continue;
      }
      const std::lock_guard lock(mutex_);
      acknowledged_.push_back({id, amount, "COMPLETED", std::chrono::steady_clock::now()});
    }
  }

  Pay pay_;
  std::atomic<bool> running_{true};
  mutable std::mutex mutex_;
  std::vector<Acknowledged> acknowledged_;
  std::vector<std::thread> workers_;
};

TEST_F(SqliteSafetyTest, BackupUnderPaymentLoadRestoresEveryAcknowledgedPayment) {
  const auto merchant = create_merchant("Busy Shop");
  const auto copy = backup_path();
  std::vector<Device> devices;
  std::vector<std::unique_ptr<SimulatedTerminal>> terminals;
  for (int i = 0; i < 3; ++i) {
    devices.push_back(create_device(merchant, "till-backup-" + std::to_string(i)));
    terminals.push_back(std::make_unique<SimulatedTerminal>(gateway(), devices.back(), "approve"));
    ASSERT_TRUE(terminals.back()->wait_online());
  }
  PaymentLoad load(devices, [this, &merchant](const Device& device, std::string body) {
    return pay_async(merchant, device.device_id, std::move(body));
  });
  ASSERT_TRUE(eventually([&] { return load.count() >= 30; }, 60s));
  const auto backup_began = std::chrono::steady_clock::now();
  const auto before = load.count();
  // One page per step with a pause: the copy spans many of the gateway's commits.
  const auto result =
      backup({"--to", backup_path().string(), "--pages-per-step", "1", "--step-pause-ms", "20"});
  const auto backup_ended = std::chrono::steady_clock::now();
  const auto during = load.count() - before;
  load.stop();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("backup written to " + backup_path().string()), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find(" bytes, "), std::string::npos) << result.out;
  EXPECT_GT(during, 0U)
      << "no payment was acknowledged while the backup ran ("
      << std::chrono::duration_cast<std::chrono::milliseconds>(backup_ended - backup_began).count()
      << " ms): the test did not back up under load";
  EXPECT_EQ(mode_of(backup_path()), 0600U);
  const auto acknowledged = load.acknowledged();
  terminals.clear();

  // Restore: a new gateway on the copy, the live one stopped.
  gateway_->stop();
  auto live = std::move(gateway_);
  gateway_ = std::make_unique<GatewayProcess>(EnvMap{{"TILLGATE_DB", "sqlite:" + copy.string()}});
  std::size_t checked = 0;
  for (const auto& payment : acknowledged) {
    if (payment.answered_at >= backup_began) {
      continue;  // acknowledged after the backup began: in the copy or not
    }
    ++checked;
    const auto res = get_transaction(merchant, payment.transaction_id);
    ASSERT_EQ(res.status, 200) << payment.transaction_id << " is missing from the backup";
    const auto txn = parse_json(res.body);
    EXPECT_EQ(string_at(txn, "status"), payment.status) << res.body;
    const auto* request = txn.find("request");
    ASSERT_NE(request, nullptr) << res.body;
    EXPECT_EQ(string_at(*request, "amount"), payment.amount) << res.body;
  }
  EXPECT_GE(checked, 30U);
  std::cout
      << "backup under load: " << checked << " payments acknowledged before it began, " << during
      << " while it ran ("
      << std::chrono::duration_cast<std::chrono::milliseconds>(backup_ended - backup_began).count()
      << " ms, one page per step); " << result.out;
  gateway_->stop();
  gateway_ = std::move(live);  // its log is checked for secrets at the end
}

}  // namespace
}  // namespace tillgate::ft
