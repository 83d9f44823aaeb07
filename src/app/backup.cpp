#include "app/backup.hpp"

#include <cstdio>
#include <exception>

#include "store/database_url.hpp"
#include "store/sqlite/file_safety.hpp"

namespace tillgate::app {

int run_backup(const Config& config, const std::filesystem::path& to,
               const store::sqlite::BackupOptions& options) {
  try {
    const auto source = store::sqlite_database_path(config.database_url);
    if (!source) {
      std::fprintf(stderr,
                   "tillgate backup: TILLGATE_DB names a PostgreSQL database; back it up with "
                   "PostgreSQL's own tools (pg_dump, pg_basebackup, streaming replication)\n");
      return 1;
    }
    const auto result = store::sqlite::backup_database(*source, to, options);
    std::printf("backup written to %s: %ju bytes, %lld transactions\n",
                store::sqlite::display_path(to).c_str(), result.bytes,
                static_cast<long long>(result.transactions));
    std::fflush(stdout);
    return 0;
  } catch (const store::sqlite::BackupError& error) {
    std::fprintf(stderr, "tillgate %s\n", error.what());  // "backup: ..."
    return 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tillgate backup: %s\n", error.what());
    return 1;
  }
}

}  // namespace tillgate::app
