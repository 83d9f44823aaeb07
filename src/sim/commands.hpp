#pragma once
// The `terminal` subcommand: one simulated terminal until SIGINT/SIGTERM; and `bench`, the
// load generator (sim/load_generator.hpp). A failing command throws
// CLI::RuntimeError(exit_code) from its callback.
namespace CLI {
class App;
}

namespace tillgate::sim {

// Adds `terminal` and `bench` to `app`.
void register_commands(CLI::App& app);

}  // namespace tillgate::sim
