#include "store/postgres/change_listener.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <system_error>

namespace tillgate::store::postgres {
namespace {

constexpr std::string_view kOperation = "listen for changes";
// How long one wait for the socket lasts: the bound of noticing a stop or a connection
// that went quiet without closing.
constexpr int kPollMs = 1000;

}  // namespace

PgChangeListener::PgChangeListener(std::string url, ConnectionOptions options,
                                   std::function<void()> on_change)
    : url_(std::move(url)), options_(std::move(options)), on_change_(std::move(on_change)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "change listener: eventfd");
  }
  thread_ = std::thread([this] { run(); });
}

PgChangeListener::~PgChangeListener() {
  stopping_ = true;
  const std::uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);
  thread_.join();
  ::close(wake_fd_);
}

void PgChangeListener::run() {
  std::unique_ptr<Connection> connection;
  while (!stopping_) {
    try {
      if (!connection) {
        connection = std::make_unique<Connection>(url_, options_);
      }
      listen(*connection);
    } catch (const StoreError& error) {
      spdlog::warn("change listener: {}; listening again shortly", error.what());
      connection.reset();  // a new one, after a pause: Connection backs off within one only
      pause(options_.min_backoff * 10);
    }
  }
}

void PgChangeListener::listen(Connection& connection) {
  connection.exec("LISTEN tillgate_changes", kOperation, "LISTEN");
  on_change_();  // whatever came while not listening
  const auto generation = connection.generation();
  while (!stopping_) {
    // get() may read the socket itself (to see whether it closed): the notifications it
    // read wait in libpq's queue, so the queue is looked at before the socket is waited on.
    PGconn* conn = connection.get(kOperation);
    if (connection.generation() != generation) {
      return;  // reconnected: LISTEN again
    }
    if (take_notifications(conn)) {
      on_change_();
    }
    std::array<pollfd, 2> fds{pollfd{.fd = PQsocket(conn), .events = POLLIN, .revents = 0},
                              pollfd{.fd = wake_fd_, .events = POLLIN, .revents = 0}};
    if (::poll(fds.data(), fds.size(), kPollMs) < 0 && errno != EINTR) {
      throw StoreError("change listener: poll failed");
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      (void)PQconsumeInput(conn);  // a lost connection: the next get() reconnects
    }
  }
}

bool PgChangeListener::take_notifications(PGconn* conn) {
  bool others = false;
  while (PGnotify* notification = PQnotifies(conn)) {
    others = others || options_.node_id != notification->extra;
    PQfreemem(notification);
  }
  return others;
}

void PgChangeListener::pause(std::chrono::milliseconds wait) {
  pollfd fd{.fd = wake_fd_, .events = POLLIN, .revents = 0};
  (void)::poll(&fd, 1, static_cast<int>(wait.count()));
}

}  // namespace tillgate::store::postgres
