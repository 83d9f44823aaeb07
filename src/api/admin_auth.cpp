#include "api/admin_auth.hpp"

#include "crypto/crypto.hpp"

namespace tillgate::api {

AdminAuthenticator::AdminAuthenticator(const std::optional<std::string>& admin_token) {
  if (admin_token) {
    expected_authorization_ = "Bearer " + *admin_token;
  }
}

AuthOutcome AdminAuthenticator::authenticate(const AuthInput& input) const {
  if (!expected_authorization_) {
    return AuthOutcome::refuse(
        views::ErrorCode::route_not_found,
        "the admin API is off: start the gateway with TILLGATE_ADMIN_TOKEN set");
  }
  const auto authorization = input.header("authorization");
  if (!authorization || !crypto::constant_time_equal(*authorization, *expected_authorization_)) {
    return AuthOutcome::refuse(
        views::ErrorCode::unauthorized,
        "send Authorization: Bearer <TILLGATE_ADMIN_TOKEN> to use the admin API");
  }
  return AuthOutcome::accept({});
}

}  // namespace tillgate::api
