#include "net/open_file_limit.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

namespace tillgate::net {

OpenFileLimit raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return {};
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    }
  }
  return {static_cast<std::uint64_t>(limit.rlim_cur), static_cast<std::uint64_t>(limit.rlim_max)};
}

void raise_open_file_limit_for(std::uint64_t needed) {
  const auto limit = raise_open_file_limit();
  if (limit.soft == 0) {
    spdlog::warn("cannot read the open-file limit (RLIMIT_NOFILE)");
  } else if (limit.soft < needed) {
    spdlog::warn(
        "open-file limit is {} (hard {}), below the {} descriptors the connection caps "
        "allow (TILLGATE_MAX_HTTP_CONNECTIONS + TILLGATE_MAX_TERMINAL_CONNECTIONS + webhook "
        "attempts + files): connections past the limit fail at accept; raise the hard limit "
        "(ulimit -Hn, systemd LimitNOFILE=) or lower the caps",
        limit.soft, limit.hard, needed);
  } else {
    spdlog::debug("open-file limit {} (hard {})", limit.soft, limit.hard);
  }
}

}  // namespace tillgate::net
