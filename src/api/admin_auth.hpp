#pragma once
// Authentication of the admin API (operations.md): the bearer token TILLGATE_ADMIN_TOKEN,
// compared in constant time. Without a token configured the admin API is off.
#include <optional>
#include <string>

#include "api/authentication.hpp"
#include "domain/secret.hpp"

namespace tillgate::api {

class AdminAuthenticator {
 public:
  // nullopt: the admin API is off, and every admin request is answered 404.
  explicit AdminAuthenticator(const std::optional<domain::Secret>& admin_token);

  // Synchronous: nothing to look up. The principal is empty: the admin is nobody's merchant.
  [[nodiscard]] AuthOutcome authenticate(const AuthInput& input) const;

 private:
  std::optional<domain::Secret> token_;  // TILLGATE_ADMIN_TOKEN
};

}  // namespace tillgate::api
