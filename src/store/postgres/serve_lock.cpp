#include "store/postgres/serve_lock.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>

#include "store/postgres/pg.hpp"

namespace tillgate::store::postgres {
namespace {

constexpr std::string_view kOperation = "serve lock";

// The lock's connection is idle for the life of the process: TCP keepalives make a server
// that went away without closing it (a crashed host, a cut network) show as a closed
// socket, which check() notices. Probes every check interval (at least 1 s, libpq's
// unit), three unanswered ones end the connection.
std::string with_keepalives(const std::string& url, std::chrono::milliseconds interval) {
  const auto seconds =
      std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(interval).count());
  std::string separator = "&";
  if (url.find('?') == std::string::npos) {
    separator = "?";
  } else if (url.ends_with('?') || url.ends_with('&')) {
    separator = "";
  }
  // Later settings of a keyword win over the URL's own.
  return fmt::format(
      "{}{}keepalives=1&keepalives_idle={}&keepalives_interval={}&keepalives_count=3", url,
      separator, seconds, seconds);
}

ConnectionOptions connection_options(const ServeLockOptions& options) {
  ConnectionOptions connection;
  // After a failed attempt the next check connects again (no longer backoff: while the
  // lock is lost, another process could take it).
  const auto half = std::max(std::chrono::milliseconds{1}, options.check_interval / 2);
  connection.min_backoff = half;
  connection.max_backoff = half;
  return connection;
}

// What the holder's session shows of itself: "tillgate serve pid P on HOST", at most the
// 63 characters PostgreSQL keeps.
std::string application_name() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) {
    host[0] = '\0';
  }
  std::string name = fmt::format("tillgate serve pid {} on {}", ::getpid(), host.data());
  name.resize(std::min<std::size_t>(name.size(), 63));
  return name;
}

std::string describe_database(PGconn* conn) {
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  const char* name = PQdb(conn);
  return fmt::format("database {} on {}:{}", name != nullptr ? name : "?",
                     host != nullptr && *host != '\0' ? host : "localhost",
                     port != nullptr && *port != '\0' ? port : "5432");
}

}  // namespace

struct ServeLockStatements {
  explicit ServeLockStatements(Connection& connection)
      : take(connection, "tillgate_serve_lock_take",
             "SELECT pg_try_advisory_lock($1::bigint), pg_backend_pid(), "
             "set_config('application_name', $2, false)"),
        holder(connection, "tillgate_serve_lock_holder",
               "SELECT coalesce(a.application_name, ''), coalesce(host(a.client_addr), ''), "
               "l.pid FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
               "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
               "AND l.database = (SELECT oid FROM pg_database WHERE datname = "
               "current_database()) "
               "AND l.classid = (($1::bigint >> 32) & 4294967295)::oid "
               "AND l.objid = ($1::bigint & 4294967295)::oid") {}
  Statement take;
  Statement holder;
};

ServeLock::ServeLock(const std::string& url, const ServeLockOptions& options)
    : options_(options),
      connection_(std::make_unique<Connection>(with_keepalives(url, options.check_interval),
                                               connection_options(options))),
      statements_(std::make_unique<ServeLockStatements>(*connection_)),
      database_(describe_database(connection_->get(kOperation))) {
  if (!try_take(kOperation)) {
    throw DatabaseInUse(in_use_message(kOperation));
  }
  held_generation_ = connection_->generation();
}

ServeLock::~ServeLock() = default;

bool ServeLock::try_take(std::string_view operation) {
  auto use = statements_->take.use(operation);
  use.bind(kServeLockKey, application_name());
  if (!use.step()) {
    use.fail("no row");
  }
  backend_pid_ = static_cast<int>(use.int64(1));
  return use.boolean(0);
}

std::string ServeLock::holder(std::string_view operation) {
  auto use = statements_->holder.use(operation);
  use.bind(kServeLockKey);
  if (!use.step()) {
    return "its session has just ended: try again";
  }
  const std::string name = use.text(0);
  const std::string address = use.text(1);
  return fmt::format("application_name '{}', client {}, backend pid {}",
                     name.empty() ? "unknown" : name, address.empty() ? "unknown" : address,
                     use.int64(2));
}

std::string ServeLock::in_use_message(std::string_view operation) {
  return fmt::format(
      "{} is in use by another tillgate serve ({}); one serve runs on a PostgreSQL database "
      "until several nodes are supported: stop that one first",
      database_, holder(operation));
}

ServeLock::Check ServeLock::check() {
  if (taken_) {
    return {State::taken, taken_message_};
  }
  try {
    static_cast<void>(connection_->get(kOperation));  // connects again when it was lost
    if (connection_->generation() == held_generation_) {
      return {State::held, ""};
    }
    if (try_take(kOperation)) {
      held_generation_ = connection_->generation();
      return {State::retaken, fmt::format("the serve lock of the {} is held again (backend pid {})",
                                          database_, backend_pid_)};
    }
    taken_message_ = fmt::format(
        "the serve lock of the {} was lost with its connection and "
        "another process took it meanwhile: {}",
        database_, in_use_message(kOperation));
    taken_ = true;
    return {State::taken, taken_message_};
  } catch (const StoreError& error) {
    return {State::lost,
            fmt::format("the serve lock of the {} was lost with its connection and cannot be "
                        "taken again yet: {}",
                        database_, error.what())};
  }
}

}  // namespace tillgate::store::postgres
