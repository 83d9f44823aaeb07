#include "app/cli.hpp"

#include <CLI/CLI.hpp>

#include "app/backup.hpp"
#include "app/config.hpp"
#include "app/gateway.hpp"
#include "client/commands.hpp"
#include "client/pos_commands.hpp"
#include "sim/commands.hpp"

namespace tillgate::app {
namespace {

struct ServeFlags {
  std::string config_path;
  std::string listen;
  std::string database;
  std::string log_level;
};

// serve and demo share their flags and the configuration order: flags > environment >
// TOML file > defaults.
Config load_config(Config defaults, const ServeFlags& flags) {
  Config config = std::move(defaults);
  try {
    if (!flags.config_path.empty()) {
      apply_config_file(config, flags.config_path);
    }
    apply_environment(config, process_environment());
    if (!flags.listen.empty()) {
      parse_listen(config, flags.listen);
    }
    if (!flags.database.empty()) {
      config.database_url = flags.database;
    }
    if (!flags.log_level.empty()) {
      config.log_level = flags.log_level;
    }
  } catch (const ConfigError& error) {
    throw CLI::ValidationError("configuration", error.what());
  }
  return config;
}

void add_server_flags(CLI::App& command, ServeFlags& flags) {
  command.add_option("--config", flags.config_path, "TOML configuration file");
  command.add_option("--listen", flags.listen, "HOST:PORT to listen on (port 0: any free port)");
  command.add_option("--db", flags.database, "sqlite:PATH (or postgresql://...)");
  command.add_option("--log", flags.log_level, "log level: trace, debug, info, warn, error");
}

void add_serve_command(CLI::App& app, ServeFlags& flags) {
  auto* serve = app.add_subcommand("serve", "Run the gateway");
  add_server_flags(*serve, flags);
  serve->callback([&flags] {
    if (const int code = run_serve(load_config(Config{}, flags)); code != 0) {
      throw CLI::RuntimeError(code);
    }
  });
}

void add_demo_command(CLI::App& app, ServeFlags& flags) {
  auto* demo = app.add_subcommand(
      "demo", "Run the gateway with a demo merchant and two simulated terminals");
  add_server_flags(*demo, flags);
  demo->callback([&flags] {
    if (const int code = run_demo(load_config(demo_defaults(), flags)); code != 0) {
      throw CLI::RuntimeError(code);
    }
  });
}

struct BackupFlags {
  std::string to;
  store::sqlite::BackupOptions options;
};

// backup finds the database as serve does: --db > TILLGATE_DB > --config's db > default.
void add_backup_command(CLI::App& app, ServeFlags& flags, BackupFlags& backup) {
  auto* command = app.add_subcommand(
      "backup", "Copy the SQLite database to a new file while the gateway serves");
  command->add_option("--config", flags.config_path, "TOML configuration file (its db)");
  command->add_option("--db", flags.database, "sqlite:PATH of the live database");
  command->add_option("--to", backup.to, "the backup file to write (must not exist)")->required();
  command->add_flag("--force", backup.options.force, "replace an existing file at --to");
  command
      ->add_option("--pages-per-step", backup.options.pages_per_step,
                   "database pages copied per step (default " +
                       std::to_string(backup.options.pages_per_step) + ")")
      ->check(CLI::Range(1, 1 << 20));
  auto* pause = command->add_option_function<int>(
      "--step-pause-ms",
      [&backup](int ms) { backup.options.step_pause = std::chrono::milliseconds(ms); },
      "pause after each step, in milliseconds (default " +
          std::to_string(backup.options.step_pause.count()) + ")");
  pause->check(CLI::Range(0, 10000));
  command->callback([&flags, &backup] {
    if (const int code = run_backup(load_config(Config{}, flags), backup.to, backup.options);
        code != 0) {
      throw CLI::RuntimeError(code);
    }
  });
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"tillgate: a payment-terminal gateway"};
  app.require_subcommand(1);
  ServeFlags serve_flags;
  add_serve_command(app, serve_flags);
  add_demo_command(app, serve_flags);
  BackupFlags backup_flags;
  add_backup_command(app, serve_flags, backup_flags);
  client::register_commands(app);      // pay (pay --ws), admin
  client::register_pos_commands(app);  // watch
  sim::register_commands(app);         // terminal
  CLI11_PARSE(app, argc, argv);
  return 0;
}

}  // namespace tillgate::app
