#pragma once
// Step 3 of merchant authentication (merchant_auth.hpp): each signed request is accepted
// once within its signature window. Where the accepted signatures are remembered is the
// database's policy, chosen once at wiring (app/gateway.cpp): in this node's memory when it
// is the only node on its database (SQLite, whose writer lock enforces that), in the
// database when several nodes share it (PostgreSQL; docs/scale-out.md), so that a request
// replayed to another node is refused there too.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "api/merchant_auth.hpp"
#include "domain/time.hpp"
#include "store/async_store.hpp"

namespace tillgate::api {

class ReplayGuard {
 public:
  virtual ~ReplayGuard() = default;
  // nullopt when this signature is used for the first time (it is remembered until its
  // timestamp leaves the window); otherwise replayed_request, or replay_cache_full. Throws
  // store::StoreError when the store cannot say (the router answers 503, or 500 for a
  // store bug): never an accepted request. Reads what it needs of `headers` before it
  // returns.
  [[nodiscard]] virtual boost::asio::awaitable<std::optional<AuthFailure>> remember(
      const SignedHeaders& headers, domain::Timestamp now, std::chrono::seconds skew) = 0;
};

// One node: the ReplayCache in this process, at most max_entries signatures
// (app::Limits::max_replay_cache_entries).
class MemoryReplayGuard final : public ReplayGuard {
 public:
  explicit MemoryReplayGuard(std::size_t max_entries) : cache_(max_entries) {}
  [[nodiscard]] boost::asio::awaitable<std::optional<AuthFailure>> remember(
      const SignedHeaders& headers, domain::Timestamp now, std::chrono::seconds skew) override;

 private:
  ReplayCache cache_;
};

// Several nodes: Store::remember_signature, a write on the store thread. Each insert first
// deletes at most purge_batch rows (TILLGATE_REPLAY_PURGE_BATCH) that expired a whole
// window ago, so that nodes whose clocks disagree by less than the window never forget a
// signature another node would still accept.
class StoreReplayGuard final : public ReplayGuard {
 public:
  StoreReplayGuard(store::AsyncStore& store, std::size_t purge_batch)
      : store_(store), purge_batch_(static_cast<std::int64_t>(purge_batch)) {}
  [[nodiscard]] boost::asio::awaitable<std::optional<AuthFailure>> remember(
      const SignedHeaders& headers, domain::Timestamp now, std::chrono::seconds skew) override;

 private:
  store::AsyncStore& store_;
  std::int64_t purge_batch_;
};

}  // namespace tillgate::api
