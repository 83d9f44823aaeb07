#include "api/replay_guard.hpp"

#include "crypto/crypto.hpp"

namespace tillgate::api {

namespace {

boost::asio::awaitable<std::optional<AuthFailure>> answered(std::optional<AuthFailure> failure) {
  co_return failure;
}

boost::asio::awaitable<std::optional<AuthFailure>> remember_in(store::AsyncStore& store,
                                                               store::RememberedSignature row) {
  auto remember = [row = std::move(row)](store::Store& database) {
    return database.remember_signature(row);
  };
  const bool first_use = co_await store.call(std::move(remember));
  co_return first_use ? std::nullopt : std::optional(AuthFailure::replayed_request);
}

}  // namespace

boost::asio::awaitable<std::optional<AuthFailure>> MemoryReplayGuard::remember(
    const SignedHeaders& headers, domain::Timestamp now, std::chrono::seconds skew) {
  return answered(cache_.remember(headers, now, skew));
}

boost::asio::awaitable<std::optional<AuthFailure>> StoreReplayGuard::remember(
    const SignedHeaders& headers, domain::Timestamp now, std::chrono::seconds skew) {
  // Not a coroutine: nothing of `headers` is needed once this returns.
  return remember_in(
      store_, store::RememberedSignature{.digest = crypto::hex_encode(replay_digest(headers)),
                                         .expires_at = replay_expiry(headers, skew),
                                         .purge_before = now - skew,
                                         .purge_limit = purge_batch_});
}

}  // namespace tillgate::api
