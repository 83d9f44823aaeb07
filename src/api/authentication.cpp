#include "api/authentication.hpp"

namespace tillgate::api {

AuthOutcome AuthOutcome::accept(std::string merchant_id) {
  return AuthOutcome{std::move(merchant_id), std::nullopt};
}

AuthOutcome AuthOutcome::refuse(views::ErrorCode code, std::string message) {
  return AuthOutcome{{}, views::ApiError{code, std::move(message), {}, std::nullopt, std::nullopt}};
}

boost::asio::awaitable<AuthOutcome> ready(AuthOutcome outcome) {
  co_return outcome;
}

}  // namespace tillgate::api
