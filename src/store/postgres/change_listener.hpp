#pragma once
// store::ChangeListener on PostgreSQL: a thread with a connection of its own, LISTENing on
// tillgate_changes (node_store.hpp; the notifications come from migration 2's triggers,
// their payload the writing node's id). A notification from another node, and every
// (re)connection, calls on_change; the node's own are ignored. A lost connection is
// opened again after Connection's backoff.
#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "store/node_store.hpp"
#include "store/postgres/pg.hpp"

namespace tillgate::store::postgres {

class PgChangeListener final : public ChangeListener {
 public:
  // Starts the thread; the first connection is made there (a database down at start is
  // retried like a lost one).
  PgChangeListener(std::string url, ConnectionOptions options, std::function<void()> on_change);
  // Stops the thread (at most one poll interval) and joins it.
  ~PgChangeListener() override;
  PgChangeListener(const PgChangeListener&) = delete;
  PgChangeListener& operator=(const PgChangeListener&) = delete;

 private:
  void run();
  // One connection's life: LISTEN, then wait for notifications until it is lost or stop.
  void listen(Connection& connection);
  // Takes the notifications libpq has read: true when another node's was among them.
  bool take_notifications(PGconn* conn);
  void pause(std::chrono::milliseconds wait);

  std::string url_;
  ConnectionOptions options_;
  std::function<void()> on_change_;
  int wake_fd_ = -1;  // an eventfd: written by the destructor to stop the thread
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tillgate::store::postgres
