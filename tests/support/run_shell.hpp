#pragma once
// Runs a command with /bin/sh and returns its stdout without trailing newlines. Tests use it
// to check the gateway against independent tools (the openssl command line, doc recipes).
#include <array>
#include <cstdio>
#include <string>

namespace tillgate::testing {

// `status` receives pclose's status (-1 when the command could not be started).
inline std::string run_shell(const std::string& command, int& status) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    status = -1;
    return out;
  }
  std::array<char, 256> chunk{};
  while (std::fgets(chunk.data(), static_cast<int>(chunk.size()), pipe) != nullptr) {
    out += chunk.data();
  }
  status = ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

inline std::string run_shell(const std::string& command) {
  int status = 0;
  return run_shell(command, status);
}

}  // namespace tillgate::testing
