#pragma once
// What the authenticators (merchant_authenticator, nomba_auth, admin_auth) answer: the
// principal, or the refusal as the API answers it. What they take is AuthInput.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "api/auth_input.hpp"
#include "views/errors.hpp"

namespace tillgate::api {

// Who a request speaks for, or why it is refused.
struct AuthOutcome {
  std::string merchant_id;                 // the principal; empty for the admin
  std::optional<views::ApiError> refusal;  // set when refused: the error as answered

  [[nodiscard]] bool accepted() const { return !refusal.has_value(); }
  [[nodiscard]] static AuthOutcome accept(std::string merchant_id);
  [[nodiscard]] static AuthOutcome refuse(views::ErrorCode code, std::string message);
};

// An outcome known at once, for a caller that awaits every authentication alike.
boost::asio::awaitable<AuthOutcome> ready(AuthOutcome outcome);

}  // namespace tillgate::api
