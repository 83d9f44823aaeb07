// The Nomba-compatible edge's routes: token issue, the push and the lookup. Nomba's Bearer
// authentication is NombaAuthenticator's (nomba_auth.cpp).
#include "api/nomba_routes.hpp"

#include <spdlog/spdlog.h>

#include "api/answers.hpp"
#include "api/payment_routes.hpp"
#include "api/query.hpp"
#include "crypto/crypto.hpp"
#include "domain/ids.hpp"
#include "nomba/access_token.hpp"
#include "nomba/nomba_request.hpp"

namespace tillgate::api {

using net::HttpResponse;
using nomba::NombaErrorKind;
using store::Store;

namespace {

std::string describe_reference_rule(std::string_view name) {
  return std::string(name) + " must be 1-64 characters of A-Z a-z 0-9 . _ : -";
}

// {"code":<kind>,"description","data":null} with `status`.
HttpResponse refusal(NombaErrorKind kind, int status, std::string description) {
  HttpResponse response;
  response.status = status;
  response.body = json::serialize(nomba::nomba_error(kind, std::move(description)));
  return response;
}

json::Value token_answer(const std::string& merchant_id, const std::string& access_token,
                         const std::string& refresh_token, domain::Timestamp expires_at) {
  return nomba::nomba_success(
      json::object({{"businessId", json::Value(merchant_id)},
                    {"access_token", json::Value(access_token)},
                    {"refresh_token", json::Value(refresh_token)},
                    {"expiresAt", json::Value(nomba::format_nomba_time(expires_at))}}));
}

// The refusal of a refresh that was not granted; nullopt when it was. Every refusal is
// Nomba's "01" (invalid credentials): get new tokens with client_credentials.
std::optional<HttpResponse> refresh_refusal(const store::RefreshResult& checked,
                                            const std::string& account_id) {
  switch (checked.outcome) {
    case store::RefreshOutcome::rotated:
    case store::RefreshOutcome::kept:
      return std::nullopt;
    case store::RefreshOutcome::unknown:
      return refusal(NombaErrorKind::bad_credentials, 401,
                     "refresh_token is not a refresh token of this accountId");
    case store::RefreshOutcome::expired:
      return refusal(NombaErrorKind::bad_credentials, 401,
                     "refresh_token expired: issue a new one with grant_type client_credentials");
    case store::RefreshOutcome::revoked:
      return refusal(NombaErrorKind::bad_credentials, 401,
                     "refresh_token was revoked: issue a new one with grant_type "
                     "client_credentials");
    case store::RefreshOutcome::reused:
      spdlog::warn(
          "nomba refresh token of account {} presented again after its rotation: its family {} "
          "is revoked",
          account_id, checked.presented ? checked.presented->family_id : "?");
      return refusal(NombaErrorKind::bad_credentials, 401,
                     "refresh_token was already used, so every refresh token issued from it is "
                     "now revoked: issue a new one with grant_type client_credentials");
    case store::RefreshOutcome::key_revoked:
      return refusal(NombaErrorKind::bad_credentials, 401,
                     "the API key these tokens were issued with is revoked");
  }
  return refusal(NombaErrorKind::bad_credentials, 401, "refresh_token is not valid");
}

// The lookup's reference: one of transactionRef (the paymentId), merchantTxRef, and its
// aliases orderReference and orderId; several must agree. The parameter's name (for the
// messages) and the reference, or the refusal.
struct LookupReference {
  std::string name;
  std::string value;
  std::optional<HttpResponse> refusal;
};

LookupReference lookup_reference(const std::vector<std::pair<std::string, std::string>>& params) {
  LookupReference found;
  for (const auto& [name, value] : params) {
    if (name != "merchantTxRef" && name != "transactionRef" && name != "orderReference" &&
        name != "orderId") {
      continue;
    }
    if (!found.name.empty() && found.value != value) {
      found.refusal = refusal(NombaErrorKind::validation, 400,
                              found.name + " and " + name + " name different payments: send one");
      return found;
    }
    if (found.name.empty()) {
      found.name = name;
      found.value = value;
    }
  }
  if (found.name.empty()) {
    found.refusal =
        refusal(NombaErrorKind::validation, 400,
                "send transactionRef=<paymentId> or merchantTxRef=<your reference> (orderReference "
                "and orderId are read as merchantTxRef)");
  } else if (!domain::is_valid_transaction_id(found.value)) {
    found.refusal = refusal(NombaErrorKind::validation, 400, describe_reference_rule(found.name));
  }
  return found;
}

}  // namespace

NombaRoutes::NombaRoutes(store::AsyncStore& store, payments::PaymentCoordinator& coordinator,
                         payments::TerminalPort& terminals, NombaAuthenticator& authenticator,
                         net::RateLimiter& merchant_requests, const domain::Clock& clock,
                         webhooks::WebhookDispatcher& webhooks, NombaRouteSettings settings)
    : store_(store),
      coordinator_(coordinator),
      terminals_(terminals),
      authenticator_(authenticator),
      merchant_requests_(merchant_requests),
      clock_(clock),
      webhooks_(webhooks),
      settings_(settings) {}

void NombaRoutes::add_routes(RouteTable& table) {
  table.add(
      *this,
      {
          {"POST", "/v1/auth/token/issue", Auth::nomba_token, &NombaRoutes::issue_token},
          {"POST", "/v1/auth/token/refresh", Auth::nomba_token, &NombaRoutes::refresh_token},
          {"POST", "/v1/auth/token/revoke", Auth::nomba_token, &NombaRoutes::revoke_token},
          {"POST", "/v1/terminals/payment-request/{terminalId}", Auth::nomba,
           &NombaRoutes::push_payment},
          {"GET", "/v1/transactions/accounts/single", Auth::nomba, &NombaRoutes::lookup_payment},
          {"POST", "/v1/transactions/accounts", Auth::nomba, &NombaRoutes::filter_transactions},
          {"GET", "/v1/transactions/accounts", Auth::nomba, &NombaRoutes::list_transactions},
          {"GET", "/v1/accounts/terminals", Auth::nomba, &NombaRoutes::list_terminals},
          {"POST", "/v1/webhooks/re-push", Auth::nomba, &NombaRoutes::repush_webhook},
          {"POST", "/v1/webhooks/bulk-re-push", Auth::nomba, &NombaRoutes::bulk_repush_webhooks},
          {"POST", "/v1/webhooks/event-logs", Auth::nomba, &NombaRoutes::webhook_event_logs},
      });
}

RouteAnswer NombaRoutes::issue_token(RouteRequest request) {
  return grant_tokens(std::move(request), false);
}

RouteAnswer NombaRoutes::refresh_token(RouteRequest request) {
  return grant_tokens(std::move(request), true);
}

RouteAnswer NombaRoutes::grant_tokens(RouteRequest request, bool refresh_only) {
  const auto body = json::parse(request.http.body, json::ParseLimits{settings_.max_json_depth});
  if (!body || !body->is_object()) {
    co_return refusal(NombaErrorKind::validation, 400,
                      refresh_only ? "the body must be a JSON object: {grant_type:"
                                     "\"refresh_token\", refresh_token}"
                                   : "the body must be a JSON object: {grant_type:"
                                     "\"client_credentials\", client_id, client_secret} or "
                                     "{grant_type:\"refresh_token\", refresh_token}");
  }
  const auto grant = body->find_string("grant_type").value_or(refresh_only ? "refresh_token" : "");
  if (grant != "refresh_token" && (refresh_only || grant != "client_credentials")) {
    co_return refusal(NombaErrorKind::validation, 400,
                      refresh_only ? "grant_type must be \"refresh_token\" on this route"
                                   : "grant_type must be \"client_credentials\" or "
                                     "\"refresh_token\"");
  }
  const std::string account_id(request.http.header("accountid").value_or(""));
  if (account_id.empty()) {
    co_return refusal(NombaErrorKind::bad_credentials, 401,
                      "send the accountId header: your merchant id");
  }
  const auto now = clock_.now();
  const std::string refresh_token = nomba::new_refresh_token();
  Grant granted;
  if (grant == "client_credentials") {
    const auto client_id = body->find_string("client_id");
    const auto client_secret = body->find_string("client_secret");
    if (!client_id || !client_secret || client_id->empty() || client_secret->empty()) {
      co_return refusal(NombaErrorKind::validation, 400,
                        "client_credentials needs client_id (your API key) and client_secret "
                        "(its secret), both strings");
    }
    const std::string id(*client_id);
    const std::string secret(*client_secret);
    granted = co_await grant_client_credentials(account_id, id, secret, refresh_token, now);
  } else {
    const auto presented = body->find_string("refresh_token");
    if (!presented || presented->empty()) {
      co_return refusal(NombaErrorKind::validation, 400,
                        "grant_type refresh_token needs refresh_token: the one the token answer "
                        "gave");
    }
    const std::string presented_token(*presented);
    granted = co_await grant_refresh_token(account_id, presented_token, refresh_token, now);
  }
  if (granted.refusal) {
    co_return std::move(*granted.refusal);
  }
  const auto signing_key = co_await authenticator_.signing_key();
  const auto claims =
      nomba::new_access_token_claims(account_id, granted.api_key, now, settings_.access_token_ttl);
  const std::string access_token = nomba::sign_access_token(claims, signing_key.reveal());
  spdlog::info("nomba access token issued to account {} (API key {}, {})", account_id,
               granted.api_key, grant);
  co_return json_answer(
      200, token_answer(account_id, access_token, granted.refresh_token, claims.expires_at));
}

// The access token is its own proof: whoever holds it may end it. clientId must be the
// API key it was issued to, and accountId its account. An expired token is refused
// anyway, so revoking one answers success with nothing to store.
RouteAnswer NombaRoutes::revoke_token(RouteRequest request) {
  const auto body = json::parse(request.http.body, json::ParseLimits{settings_.max_json_depth});
  const auto client_id = body && body->is_object() ? body->find_string("clientId") : std::nullopt;
  const auto token = body && body->is_object() ? body->find_string("access_token") : std::nullopt;
  if (!client_id || !token || client_id->empty() || token->empty()) {
    co_return refusal(NombaErrorKind::validation, 400,
                      "the body must be a JSON object {clientId: your API key, access_token}");
  }
  const std::string account_id(request.http.header("accountid").value_or(""));
  const std::string token_text(*token);
  const std::string client(*client_id);
  const auto signing_key = co_await authenticator_.signing_key();
  const auto now = clock_.now();
  const auto claims = nomba::read_access_token(token_text, signing_key.reveal(), now);
  if (!claims && claims.error() != crypto::JwtError::expired) {
    co_return refusal(NombaErrorKind::unauthorized, 401,
                      "access_token is not an access token this gateway issued");
  }
  if (claims &&
      (claims->api_key != client || (!account_id.empty() && claims->merchant_id != account_id))) {
    co_return refusal(NombaErrorKind::bad_credentials, 401,
                      "clientId and accountId must be the API key and account the token was "
                      "issued to");
  }
  if (claims && !claims->token_id.empty()) {
    const std::string token_id = claims->token_id;
    const std::string merchant_id = claims->merchant_id;
    const auto expires_at = claims->expires_at + nomba::access_token_leeway;
    co_await store_.call(&Store::revoke_access_token, token_id, merchant_id, expires_at, now);
    spdlog::info("nomba access token {} of account {} revoked", token_id, merchant_id);
  }
  co_return json_answer(200, json::object({{"code", json::Value(nomba::success_code)},
                                           {"description", "Token revoked successfully"}}));
}

boost::asio::awaitable<NombaRoutes::Grant> NombaRoutes::grant_client_credentials(
    std::string account_id, std::string client_id, std::string client_secret,
    std::string refresh_token, domain::Timestamp now) {
  const auto key = co_await store_.read(&Store::find_api_key, client_id);
  // One answer for every mismatch: nothing tells which part was wrong.
  if (!key || key->revoked_at || key->merchant_id != account_id ||
      !key->api_secret.equals(client_secret)) {
    spdlog::info("nomba token refused: client credentials do not match account {}", account_id);
    co_return Grant{{},
                    {},
                    refusal(NombaErrorKind::bad_credentials, 401,
                            "client_id and client_secret are not an active API key of this "
                            "accountId")};
  }
  if (auto refused = over_rate(merchant_requests_, account_id, clock_.now())) {
    co_return Grant{{}, {}, nomba::nomba_error_response(*refused)};
  }
  const store::RefreshTokenRecord record{nomba::refresh_token_hash(refresh_token),
                                         domain::new_prefixed_id("rtf_"),
                                         account_id,
                                         key->api_key,
                                         now,
                                         now + settings_.refresh_token_ttl};
  const auto max_live = settings_.max_refresh_tokens_per_merchant;
  co_await store_.call(&Store::insert_refresh_token, record, max_live);
  co_return Grant{key->api_key, std::move(refresh_token), std::nullopt};
}

// Not rate-limited per merchant: nothing is proven before the rotation, and refusing after
// it would lose the client its only token. Without rotation (the default) the presented
// token is answered back and stays valid; with it, each refresh needs the token the
// previous one returned, so one family refreshes one at a time.
boost::asio::awaitable<NombaRoutes::Grant> NombaRoutes::grant_refresh_token(
    std::string account_id, std::string presented, std::string refresh_token,
    domain::Timestamp now) {
  const store::RefreshRotation rotation{account_id,
                                        presented.size() <= nomba::max_refresh_token_length
                                            ? nomba::refresh_token_hash(presented)
                                            : std::string(),
                                        nomba::refresh_token_hash(refresh_token),
                                        now,
                                        now + settings_.refresh_token_ttl,
                                        settings_.rotate_refresh_tokens};
  const auto checked = co_await store_.call(&Store::rotate_refresh_token, rotation);
  if (auto refused = refresh_refusal(checked, account_id)) {
    co_return Grant{{}, {}, std::move(refused)};
  }
  const bool rotated = checked.outcome == store::RefreshOutcome::rotated;
  co_return Grant{checked.presented->api_key, rotated ? std::move(refresh_token) : presented,
                  std::nullopt};
}

// POST /v1/terminals/payment-request/{terminalId}: answers at once; the result comes by
// webhook and the lookup. merchantTxRef is the transactionId, so the idempotency rules are
// the main API's.
RouteAnswer NombaRoutes::push_payment(RouteRequest request) {
  const std::string terminal_id = request.parameter("terminalId");
  // The merchant's own unit (PATCH /admin/v1/merchants/{merchantId}) before the default.
  const std::string merchant_id = request.merchant_id;
  const auto merchant = co_await store_.read(&Store::find_merchant, merchant_id);
  const auto unit = merchant && merchant->nomba_amount_unit
                        ? nomba::parse_nomba_amount_unit(*merchant->nomba_amount_unit)
                              .value_or(settings_.amount_unit)
                        : settings_.amount_unit;
  auto parsed =
      nomba::parse_nomba_payment_request(request.http.body, unit, settings_.max_json_depth);
  if (!parsed) {
    co_return nomba::nomba_error_response(ApiError{ErrorCode::validation_error,
                                                   "the payment request is not valid",
                                                   parsed.error(), std::nullopt, std::nullopt});
  }
  auto submit =
      coordinator_.submit(domain::MerchantId(request.merchant_id), terminal_id, std::move(*parsed));
  const auto outcome = co_await std::move(submit);
  if (outcome.error) {
    co_return nomba::nomba_error_response(submit_problem(outcome, terminal_id, "merchantTxRef"));
  }
  co_return json_answer(
      200, nomba::nomba_success(nomba::nomba_payment_accepted(*outcome.transaction, unit)));
}

// GET /v1/transactions/accounts/single?transactionRef=<paymentId>, or merchantTxRef=,
// orderReference= or orderId= (all three read as merchantTxRef).
RouteAnswer NombaRoutes::lookup_payment(RouteRequest request) {
  if (request.http.header("accountid").value_or("").empty()) {
    co_return refusal(NombaErrorKind::unauthorized, 401,
                      "send the accountId header: your merchant id");
  }
  const auto params = parse_query(request.http.query);
  if (!params) {
    co_return refusal(NombaErrorKind::validation, 400,
                      "the query string is malformed (a bad percent escape)");
  }
  const auto reference = lookup_reference(*params);
  if (reference.refusal) {
    co_return *reference.refusal;
  }
  const std::string merchant_id = request.merchant_id;
  const std::string value = reference.value;
  const auto transaction = co_await store_.read(&Store::find_transaction, merchant_id, value);
  if (!transaction) {
    co_return refusal(NombaErrorKind::not_found, 404, "Transaction not found");
  }
  const std::string device_id = transaction->device_id;
  const auto device = co_await store_.read(&Store::find_device, device_id);
  const bool own = device && device->merchant_id == merchant_id;
  co_return json_answer(200, nomba::nomba_success(nomba::nomba_transaction_view(
                                 *transaction, own ? &*device : nullptr)));
}

}  // namespace tillgate::api
