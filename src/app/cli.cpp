#include "app/cli.hpp"

#include <CLI/CLI.hpp>

namespace tillgate::app {

int run_cli(int argc, char** argv) {
  CLI::App app{"tillgate: a payment-terminal gateway"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}

}  // namespace tillgate::app
