#pragma once
// The `pay` and `admin` subcommands. A failing command throws CLI::RuntimeError(exit_code)
// from its callback.
namespace CLI {
class App;
}

namespace tillgate::client {

// Adds `pay` and `admin` (with `merchants`, `keys`, `devices`) to `app`.
void register_commands(CLI::App& app);

}  // namespace tillgate::client
