#include "api/merchant_authenticator.hpp"

namespace tillgate::api {

namespace {

views::ErrorCode error_code(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::unauthorized:
      return views::ErrorCode::unauthorized;
    case AuthFailure::invalid_signature:
      return views::ErrorCode::invalid_signature;
    case AuthFailure::timestamp_expired:
      return views::ErrorCode::timestamp_expired;
    case AuthFailure::replayed_request:
      return views::ErrorCode::replayed_request;
    case AuthFailure::replay_cache_full:
      return views::ErrorCode::service_unavailable;
  }
  return views::ErrorCode::unauthorized;
}

std::string message(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::unauthorized:
      return "send x-api-key, x-timestamp and x-signature with an active API key";
    case AuthFailure::invalid_signature:
      return "x-signature does not match: sign METHOD\\nPATH\\nTIMESTAMP\\nhex(sha256(BODY)) "
             "with HMAC-SHA256 and your API secret, base64-encoded";
    case AuthFailure::timestamp_expired:
      return "x-timestamp must be an ISO 8601 UTC time within 300 seconds of the server's clock";
    case AuthFailure::replayed_request:
      return "this signed request was already accepted; sign each request afresh";
    case AuthFailure::replay_cache_full:
      return "the gateway is overloaded; retry shortly";
  }
  return "unauthorized";
}

AuthOutcome refused(AuthFailure failure) {
  return AuthOutcome::refuse(error_code(failure), message(failure));
}

}  // namespace

MerchantAuthenticator::MerchantAuthenticator(store::AsyncStore& store, const domain::Clock& clock,
                                             std::chrono::seconds signature_skew,
                                             ReplayGuard& replay)
    : store_(store), clock_(clock), signature_skew_(signature_skew), replay_(replay) {}

bool MerchantAuthenticator::is_signed(const AuthInput& input) {
  return input.header("x-api-key").has_value();
}

boost::asio::awaitable<AuthOutcome> MerchantAuthenticator::authenticate(const AuthInput& input) {
  Presented presented;
  if (const auto failure =
          read_signed_headers(input, clock_.now(), signature_skew_, presented.headers)) {
    return ready(refused(*failure));
  }
  // The body's hash now, so that nothing of `input` is needed once this returns.
  presented.string_to_sign =
      string_to_sign(input.method, input.target, presented.headers.timestamp, input.body);
  // merchant-api.md section 1 (v2): a repeated signed GET is answered. A Modulus client
  // that signs with whole-second timestamps may read the same thing twice in one second,
  // and a replayed read changes nothing; every other method stays one-use.
  presented.replay_protected = input.method != "GET" && input.method != "HEAD";
  return verify(std::move(presented));
}

boost::asio::awaitable<AuthOutcome> MerchantAuthenticator::verify(Presented presented) {
  const auto key = co_await store_.read(&store::Store::find_api_key, presented.headers.api_key);
  if (!key || key->revoked_at) {
    co_return refused(AuthFailure::unauthorized);
  }
  if (!signature_matches(presented.string_to_sign, presented.headers.signature,
                         key->api_secret.reveal())) {
    co_return refused(AuthFailure::invalid_signature);
  }
  if (!presented.replay_protected) {
    co_return AuthOutcome::accept(key->merchant_id);
  }
  // A store failure here throws: the router answers 503, never accepts the request.
  auto remembering = replay_.remember(presented.headers, clock_.now(), signature_skew_);
  if (const auto failure = co_await std::move(remembering)) {
    co_return refused(*failure);
  }
  co_return AuthOutcome::accept(key->merchant_id);
}

}  // namespace tillgate::api
