// The Nomba-compatible edge (nomba-compat.md, docs/nomba.md): token issue, Bearer
// authentication, the push and the lookup. The same coordinator and store serve it as the
// main API; only the paths, the credentials and the answer's shape differ.
#include <spdlog/spdlog.h>

#include "api/query.hpp"
#include "api/router.hpp"
#include "crypto/crypto.hpp"
#include "domain/ids.hpp"
#include "nomba/access_token.hpp"
#include "nomba/nomba_request.hpp"

namespace tillgate::api {

namespace asio = boost::asio;
using net::HttpRequest;
using net::HttpResponse;
using nomba::NombaErrorKind;
using store::Store;

namespace {

constexpr std::string_view kTokenPath = "/v1/auth/token/issue";
constexpr std::string_view kPushPrefix = "/v1/terminals/payment-request/";
constexpr std::string_view kLookupPath = "/v1/transactions/accounts/single";
constexpr std::string_view kSigningKeyName = "nomba_access_token_hs256";

std::string describe_reference_rule(std::string_view name) {
  return std::string(name) + " must be 1-64 characters of A-Z a-z 0-9 . _ : -";
}

// "Bearer <token>" (the scheme in any case, as RFC 7235 allows) -> the token.
std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) {
      return std::nullopt;
    }
  }
  auto token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') {
    token.remove_prefix(1);
  }
  return token.empty() ? std::nullopt : std::optional(token);
}

json::Value token_answer(const std::string& merchant_id, const std::string& access_token,
                         const std::string& refresh_token, domain::Timestamp expires_at) {
  return nomba::nomba_success(
      json::object({{"businessId", json::Value(merchant_id)},
                    {"access_token", json::Value(access_token)},
                    {"refresh_token", json::Value(refresh_token)},
                    {"expiresAt", json::Value(domain::format_iso8601(expires_at))}}));
}

}  // namespace

bool Router::is_nomba_path(std::string_view path) {
  return path == kTokenPath || path == kLookupPath ||
         (path.starts_with(kPushPrefix) && path.size() > kPushPrefix.size());
}

// The push path also reads as the main API's POST /v1/terminals/{id}/payments for a
// terminal called "payment-request"; a request signed for the main API (x-api-key) is the
// main API's.
bool Router::is_nomba_request(const HttpRequest& request) {
  return is_nomba_path(request.path) &&
         (request.path == kTokenPath || !request.header("x-api-key").has_value());
}

HttpResponse Router::nomba_refusal(NombaErrorKind kind, int status, std::string description) {
  HttpResponse response;
  response.status = status;
  response.body = json::serialize(nomba::nomba_error(kind, std::move(description)));
  return response;
}

asio::awaitable<HttpResponse> Router::handle_nomba(HttpRequest request) {
  try {
    co_return co_await route_nomba(std::move(request));
  } catch (const store::StoreOverloaded&) {
    co_return nomba_refusal(NombaErrorKind::conflict, 503,
                            "the gateway is overloaded; retry shortly");
  }
}

asio::awaitable<HttpResponse> Router::route_nomba(HttpRequest request) {
  if (request.path == kTokenPath) {
    if (request.method != "POST") {
      co_return nomba_refusal(
          NombaErrorKind::not_found, 404,
          "no route " + request.method + " " + request.path + ": tokens are issued with POST");
    }
    co_return co_await issue_nomba_token(std::move(request));
  }
  std::string authorization(request.header("authorization").value_or(""));
  std::string account_id(request.header("accountid").value_or(""));
  auto caller = co_await authenticate_nomba(std::move(authorization), std::move(account_id));
  if (!caller.merchant_id) {
    co_return std::move(caller.refusal);
  }
  const std::string merchant_id = *caller.merchant_id;
  if (auto refused = over_rate(merchant_limiter_, merchant_id)) {
    co_return nomba::nomba_error_response(*refused);
  }
  if (request.path.starts_with(kPushPrefix) && request.method == "POST") {
    const std::string terminal_id = request.path.substr(kPushPrefix.size());
    co_return co_await push_nomba_payment(merchant_id, terminal_id, std::move(request));
  }
  if (request.path == kLookupPath && request.method == "GET") {
    co_return co_await lookup_nomba_payment(merchant_id, request.query);
  }
  co_return nomba_refusal(NombaErrorKind::not_found, 404,
                          "no route " + request.method + " " + request.path);
}

asio::awaitable<std::string> Router::nomba_signing_key() {
  if (!nomba_signing_key_) {
    auto read_or_create = [candidate = nomba::new_signing_key(), now = clock_.now()](Store& store) {
      return store.server_secret(std::string(kSigningKeyName), candidate, now);
    };
    auto key = co_await store_.call(std::move(read_or_create));
    nomba_signing_key_ = std::move(key);
  }
  co_return *nomba_signing_key_;
}

// POST /v1/auth/token/issue: client_credentials (an API key of accountId) or refresh_token
// (single use: the pair it returns replaces it).
asio::awaitable<HttpResponse> Router::issue_nomba_token(HttpRequest request) {
  auto body = json::parse(request.body, json::ParseLimits{settings_.request_limits.max_json_depth});
  if (!body || !body->is_object()) {
    co_return nomba_refusal(NombaErrorKind::validation, 400,
                            "the body must be a JSON object: {grant_type:\"client_credentials\", "
                            "client_id, client_secret} or {grant_type:\"refresh_token\", "
                            "refresh_token}");
  }
  const auto grant = body->find_string("grant_type");
  if (!grant || (*grant != "client_credentials" && *grant != "refresh_token")) {
    co_return nomba_refusal(NombaErrorKind::validation, 400,
                            "grant_type must be \"client_credentials\" or \"refresh_token\"");
  }
  const std::string account_id(request.header("accountid").value_or(""));
  if (account_id.empty()) {
    co_return nomba_refusal(NombaErrorKind::auth, 401,
                            "send the accountId header: your merchant id");
  }
  const auto now = clock_.now();
  std::string api_key;
  std::string refresh_token = nomba::new_refresh_token();
  const auto refresh_expires_at = now + settings_.nomba_refresh_token_ttl;

  if (*grant == "client_credentials") {
    const auto client_id = body->find_string("client_id");
    const auto client_secret = body->find_string("client_secret");
    if (!client_id || !client_secret || client_id->empty() || client_secret->empty()) {
      co_return nomba_refusal(NombaErrorKind::validation, 400,
                              "client_credentials needs client_id (your API key) and "
                              "client_secret (its secret), both strings");
    }
    auto find_api_key_in_store = [key = std::string(*client_id)](Store& store) {
      return store.find_api_key(key);
    };
    const auto key = co_await store_.read(std::move(find_api_key_in_store));
    // One answer for every mismatch: nothing tells which part was wrong.
    if (!key || key->revoked_at || key->merchant_id != account_id ||
        !crypto::constant_time_equal(key->api_secret, *client_secret)) {
      spdlog::info("nomba token refused: client credentials do not match account {}", account_id);
      co_return nomba_refusal(NombaErrorKind::auth, 401,
                              "client_id and client_secret are not an active API key of this "
                              "accountId");
    }
    if (auto refused = over_rate(merchant_limiter_, account_id)) {
      co_return nomba::nomba_error_response(*refused);
    }
    api_key = key->api_key;
    store::RefreshTokenRecord record{nomba::refresh_token_hash(refresh_token),
                                     domain::new_prefixed_id("rtf_"),
                                     account_id,
                                     api_key,
                                     now,
                                     refresh_expires_at};
    auto insert_refresh_token_in_store =
        [record, max = settings_.max_refresh_tokens_per_merchant](Store& store) {
          store.insert_refresh_token(record, max);
        };
    co_await store_.call(std::move(insert_refresh_token_in_store));
  } else {
    const auto presented = body->find_string("refresh_token");
    if (!presented || presented->empty()) {
      co_return nomba_refusal(NombaErrorKind::validation, 400,
                              "grant_type refresh_token needs refresh_token: the one the last "
                              "token answer gave");
    }
    // Not rate-limited per merchant: nothing is proven before the rotation, and refusing
    // after it would lose the client its only token. Each refresh needs the token the
    // previous one returned, so one family refreshes one at a time.
    store::RefreshRotation rotation{
        account_id,
        presented->size() <= nomba::max_refresh_token_length ? nomba::refresh_token_hash(*presented)
                                                             : std::string(),
        nomba::refresh_token_hash(refresh_token), now, refresh_expires_at};
    auto rotate_in_store = [rotation](Store& store) {
      return store.rotate_refresh_token(rotation);
    };
    const auto rotated = co_await store_.call(std::move(rotate_in_store));
    switch (rotated.outcome) {
      case store::RefreshOutcome::rotated:
        break;
      case store::RefreshOutcome::unknown:
        co_return nomba_refusal(NombaErrorKind::auth, 401,
                                "refresh_token is not a refresh token of this accountId");
      case store::RefreshOutcome::expired:
        co_return nomba_refusal(NombaErrorKind::auth, 401,
                                "refresh_token expired: issue a new one with grant_type "
                                "client_credentials");
      case store::RefreshOutcome::reused:
        spdlog::warn(
            "nomba refresh token of account {} presented again after its rotation: "
            "its family {} is revoked",
            account_id, rotated.presented ? rotated.presented->family_id : "?");
        co_return nomba_refusal(NombaErrorKind::auth, 401,
                                "refresh_token was already used, so every refresh token issued "
                                "from it is now revoked: issue a new one with grant_type "
                                "client_credentials");
      case store::RefreshOutcome::key_revoked:
        co_return nomba_refusal(NombaErrorKind::auth, 401,
                                "the API key these tokens were issued with is revoked");
    }
    api_key = rotated.presented->api_key;
  }
  const auto signing_key = co_await nomba_signing_key();
  const auto claims =
      nomba::new_access_token_claims(account_id, api_key, now, settings_.nomba_access_token_ttl);
  const std::string access_token = nomba::sign_access_token(claims, signing_key);
  spdlog::info("nomba access token issued to account {} (API key {}, {})", account_id, api_key,
               *grant);
  co_return json_response(200,
                          token_answer(account_id, access_token, refresh_token, claims.expires_at));
}

asio::awaitable<Router::NombaCaller> Router::authenticate_nomba(std::string authorization,
                                                                std::string account_id) {
  NombaCaller caller;
  const auto token = bearer_token(authorization);
  if (!token) {
    caller.refusal = nomba_refusal(NombaErrorKind::auth, 401,
                                   "send Authorization: Bearer <access_token> from POST "
                                   "/v1/auth/token/issue, and the accountId header");
    co_return caller;
  }
  if (account_id.empty()) {
    caller.refusal =
        nomba_refusal(NombaErrorKind::auth, 401, "send the accountId header: your merchant id");
    co_return caller;
  }
  const auto signing_key = co_await nomba_signing_key();
  const auto claims = nomba::read_access_token(*token, signing_key, clock_.now());
  if (!claims) {
    spdlog::info("nomba access token refused: {}", crypto::to_string(claims.error()));
    caller.refusal = nomba_refusal(
        NombaErrorKind::auth, 401,
        claims.error() == crypto::JwtError::expired
            ? "the access token expired: get a new one from POST /v1/auth/token/issue with "
              "grant_type refresh_token"
            : "the access token is not valid: send the access_token that POST "
              "/v1/auth/token/issue returned, unchanged");
    co_return caller;
  }
  if (claims->merchant_id != account_id) {
    spdlog::info("nomba access token of account {} presented for account {}", claims->merchant_id,
                 account_id);
    caller.refusal = nomba_refusal(NombaErrorKind::auth, 401,
                                   "the access token was issued for another accountId");
    co_return caller;
  }
  // Revoking the API key ends the tokens issued with it.
  auto find_api_key_in_store = [key = claims->api_key](Store& store) {
    return store.find_api_key(key);
  };
  const auto key = co_await store_.read(std::move(find_api_key_in_store));
  if (!key || key->revoked_at || key->merchant_id != account_id) {
    caller.refusal = nomba_refusal(NombaErrorKind::auth, 401,
                                   "the API key this access token was issued with is revoked");
    co_return caller;
  }
  caller.merchant_id = account_id;
  co_return caller;
}

// POST /v1/terminals/payment-request/{terminalId}: answers at once; the result comes by
// webhook and the lookup. merchantTxRef is the transactionId, so the idempotency rules are
// the main API's.
asio::awaitable<HttpResponse> Router::push_nomba_payment(std::string merchant_id,
                                                         std::string terminal_id,
                                                         HttpRequest request) {
  auto parsed = nomba::parse_nomba_payment_request(request.body, settings_.nomba_amount_unit,
                                                   settings_.request_limits.max_json_depth);
  if (!parsed) {
    co_return nomba::nomba_error_response(ApiError{ErrorCode::validation_error,
                                                   "the payment request is not valid",
                                                   parsed.error(), std::nullopt, std::nullopt});
  }
  const auto outcome = co_await coordinator_.submit(merchant_id, terminal_id, std::move(*parsed));
  if (outcome.error) {
    co_return nomba::nomba_error_response(submit_problem(outcome, terminal_id, "merchantTxRef"));
  }
  co_return json_response(200, nomba::nomba_success(nomba::nomba_payment_accepted(
                                   *outcome.transaction, settings_.nomba_amount_unit)));
}

// GET /v1/transactions/accounts/single?merchantTxRef=... or ?transactionRef=<paymentId>.
asio::awaitable<HttpResponse> Router::lookup_nomba_payment(std::string merchant_id,
                                                           std::string query) {
  const auto params = parse_query(query);
  if (!params) {
    co_return nomba_refusal(NombaErrorKind::validation, 400,
                            "the query string is malformed (a bad percent escape)");
  }
  std::optional<std::string> merchant_tx_ref;
  std::optional<std::string> transaction_ref;
  for (const auto& [name, value] : *params) {
    if (name == "merchantTxRef") {
      merchant_tx_ref = value;
    } else if (name == "transactionRef") {
      transaction_ref = value;
    }
  }
  if (!merchant_tx_ref && !transaction_ref) {
    co_return nomba_refusal(NombaErrorKind::validation, 400,
                            "send merchantTxRef=<your reference> or transactionRef=<paymentId>");
  }
  if (merchant_tx_ref && transaction_ref && *merchant_tx_ref != *transaction_ref) {
    co_return nomba_refusal(NombaErrorKind::validation, 400,
                            "merchantTxRef and transactionRef name different payments: send one");
  }
  const std::string_view name = merchant_tx_ref ? "merchantTxRef" : "transactionRef";
  const std::string reference = merchant_tx_ref ? *merchant_tx_ref : *transaction_ref;
  if (!domain::is_valid_transaction_id(reference)) {
    co_return nomba_refusal(NombaErrorKind::validation, 400, describe_reference_rule(name));
  }
  auto find_transaction_in_store = [merchant_id, reference](Store& store) {
    return store.find_transaction(merchant_id, reference);
  };
  const auto transaction = co_await store_.read(std::move(find_transaction_in_store));
  if (!transaction) {
    co_return nomba_refusal(NombaErrorKind::not_found, 404,
                            "no payment with " + std::string(name) + " " + reference);
  }
  co_return json_response(200, nomba::nomba_success(nomba::nomba_transaction_view(
                                   *transaction, settings_.nomba_amount_unit)));
}

}  // namespace tillgate::api
