#pragma once
// The `terminal` subcommand: one simulated terminal until SIGINT/SIGTERM. A failing
// command throws CLI::RuntimeError(exit_code) from its callback.
namespace CLI {
class App;
}

namespace tillgate::sim {

// Adds `terminal` to `app`.
void register_commands(CLI::App& app);

}  // namespace tillgate::sim
