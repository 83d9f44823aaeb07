#include "app/cli.hpp"

#include <CLI/CLI.hpp>

#include "app/config.hpp"
#include "app/gateway.hpp"
#include "client/commands.hpp"
#include "sim/commands.hpp"

namespace tillgate::app {
namespace {

struct ServeFlags {
  std::string config_path;
  std::string listen;
  std::string database;
  std::string log_level;
};

void add_serve_command(CLI::App& app, ServeFlags& flags) {
  auto* serve = app.add_subcommand("serve", "Run the gateway");
  serve->add_option("--config", flags.config_path, "TOML configuration file");
  serve->add_option("--listen", flags.listen, "HOST:PORT to listen on (port 0: any free port)");
  serve->add_option("--db", flags.database, "sqlite:PATH (or postgresql://...)");
  serve->add_option("--log", flags.log_level, "log level: trace, debug, info, warn, error");
  serve->callback([&flags] {
    Config config;
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
    if (const int code = run_serve(config); code != 0) {
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
  client::register_commands(app);  // pay, admin
  sim::register_commands(app);     // terminal
  CLI11_PARSE(app, argc, argv);
  return 0;
}

}  // namespace tillgate::app
