#pragma once
// MerchantAuthenticator: the HMAC-SHA256 steps of merchant_auth.hpp run with the API key
// from the store and the replay guard (in memory, or shared in the database).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <string>

#include "api/authentication.hpp"
#include "api/merchant_auth.hpp"
#include "api/replay_guard.hpp"
#include "domain/time.hpp"
#include "store/async_store.hpp"

namespace tillgate::api {

// The merchant a signed request speaks for. Each failure is its own 401 code (a full
// replay cache is 503); the failed-authentication budget is the caller's to spend.
class MerchantAuthenticator {
 public:
  // signature_skew: TILLGATE_SIGNATURE_SKEW_S; `replay` (which must outlive this) remembers
  // the signatures accepted.
  MerchantAuthenticator(store::AsyncStore& store, const domain::Clock& clock,
                        std::chrono::seconds signature_skew, ReplayGuard& replay);

  // Not a coroutine: reads what it needs from `input` before it returns, so `input` need
  // only live until then; the awaitable looks the key up on the store thread.
  [[nodiscard]] boost::asio::awaitable<AuthOutcome> authenticate(const AuthInput& input);

  // Whether the request carries the main API's credentials (x-api-key): then it is the main
  // API's, even on a path the Nomba edge also serves.
  [[nodiscard]] static bool is_signed(const AuthInput& input);

 private:
  struct Presented {
    SignedHeaders headers;
    std::string string_to_sign;
    bool replay_protected = true;  // false for a read (GET, HEAD): a repeat changes nothing
  };
  boost::asio::awaitable<AuthOutcome> verify(Presented presented);

  store::AsyncStore& store_;
  const domain::Clock& clock_;
  std::chrono::seconds signature_skew_;
  ReplayGuard& replay_;
};

}  // namespace tillgate::api
