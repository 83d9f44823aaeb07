#include "api/admin_auth.hpp"

#include <string_view>

namespace tillgate::api {

AdminAuthenticator::AdminAuthenticator(const std::optional<domain::Secret>& admin_token)
    : token_(admin_token) {}

AuthOutcome AdminAuthenticator::authenticate(const AuthInput& input) const {
  if (!token_) {
    return AuthOutcome::refuse(
        views::ErrorCode::route_not_found,
        "the admin API is off: start the gateway with TILLGATE_ADMIN_TOKEN set");
  }
  constexpr std::string_view kScheme = "Bearer ";
  const auto authorization = input.header("authorization");
  if (!authorization || !authorization->starts_with(kScheme) ||
      !token_->equals(authorization->substr(kScheme.size()))) {
    return AuthOutcome::refuse(
        views::ErrorCode::unauthorized,
        "send Authorization: Bearer <TILLGATE_ADMIN_TOKEN> to use the admin API");
  }
  return AuthOutcome::accept({});
}

}  // namespace tillgate::api
