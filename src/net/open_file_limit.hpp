#pragma once
// The open-file limit (RLIMIT_NOFILE): every connection is a descriptor, and the usual
// soft limit (1024) is far below the gateway's connection caps.
#include <cstdint>

namespace tillgate::net {

struct OpenFileLimit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

// Raises the soft limit to the hard limit (no privilege needed) and returns the limits
// now in force; {0, 0} when they cannot be read.
OpenFileLimit raise_open_file_limit();

// For `serve`: raises the soft limit, and logs a warning when it is below `needed`
// descriptors (what the configured connection caps can use).
void raise_open_file_limit_for(std::uint64_t needed);

}  // namespace tillgate::net
