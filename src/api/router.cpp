#include "api/router.hpp"

#include <spdlog/spdlog.h>

#include <cctype>

#include "api/openapi.hpp"
#include "api/provisioning.hpp"
#include "api/query.hpp"
#include "crypto/crypto.hpp"
#include "domain/ids.hpp"
#include "metrics/gateway_metrics.hpp"
#include "views/transaction_view.hpp"

namespace tillgate::api {

namespace asio = boost::asio;
using net::HttpRequest;
using net::HttpResponse;
using payments::SubmitError;
using store::Store;

namespace {

json::Value merchant_json(const store::MerchantRecord& merchant) {
  return json::object({{"merchantId", json::Value(merchant.merchant_id)},
                       {"name", json::Value(merchant.name)},
                       {"createdAt", json::Value(domain::format_iso8601(merchant.created_at))}});
}

ErrorCode auth_error(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::unauthorized:
      return ErrorCode::unauthorized;
    case AuthFailure::invalid_signature:
      return ErrorCode::invalid_signature;
    case AuthFailure::timestamp_expired:
      return ErrorCode::timestamp_expired;
    case AuthFailure::replayed_request:
      return ErrorCode::replayed_request;
    case AuthFailure::replay_cache_full:
      return ErrorCode::service_unavailable;
  }
  return ErrorCode::unauthorized;
}

std::string auth_message(AuthFailure failure) {
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

// Applies one query parameter of GET /v1/transactions; unknown names are ignored.
void apply_list_param(const std::string& name, const std::string& value,
                      store::TransactionQuery& query, std::vector<FieldProblem>& problems) {
  if (name == "terminalId") {
    query.device_id = value;
  } else if (name == "status") {
    query.status = domain::parse_transaction_status(value);
    if (!query.status) {
      problems.push_back({"status",
                          "must be one of PENDING, AWAITING_RECONNECT, COMPLETED, "
                          "FAILED, CANCELLED, TIMEOUT, VOIDED"});
    }
  } else if (name == "from" || name == "to") {
    const auto at = domain::parse_iso8601(value);
    if (!at) {
      problems.push_back({name, "must be an ISO 8601 UTC time such as 2024-01-15T10:30:00.000Z"});
    }
    (name == "from" ? query.created_from : query.created_to) = at;
  } else {
    (void)apply_page_param(name, value, query.limit, query.before_sequence, problems);
  }
}

}  // namespace

Router::Router(store::AsyncStore& store, payments::PaymentCoordinator& coordinator,
               payments::TerminalPort& terminals, webhooks::WebhookDispatcher& webhooks,
               const domain::Clock& clock, net::RateLimiter& auth_failures, RouterSettings settings)
    : store_(store),
      coordinator_(coordinator),
      terminals_(terminals),
      webhooks_(webhooks),
      clock_(clock),
      settings_(std::move(settings)),
      replay_cache_(settings_.max_replay_entries),
      merchant_limiter_(settings_.rate_limit_rps, 2.0 * settings_.rate_limit_rps,
                        settings_.max_rate_limit_keys),
      pairing_limiter_(settings_.pair_rate_limit_rps, 2.0 * settings_.pair_rate_limit_rps,
                       settings_.max_rate_limit_keys),
      auth_failure_limiter_(auth_failures),
      routes_(RouteTemplates::from_openapi(openapi_document())) {}

HttpResponse Router::too_many_failures(std::chrono::seconds retry_after) const {
  ApiError problem{ErrorCode::rate_limited,
                   "too many failed authentications from your address: retry after " +
                       std::to_string(retry_after.count()) + " s (the Retry-After header)",
                   {},
                   std::nullopt,
                   static_cast<int>(retry_after.count())};
  return error_response(problem, clock_.now());
}

std::optional<HttpResponse> Router::over_rate(RateLimiter& limiter, std::string_view key) {
  const auto retry_after = limiter.admit(key, RateLimiter::Clock::now());
  if (!retry_after) {
    return std::nullopt;
  }
  ApiError problem{ErrorCode::rate_limited,
                   "too many requests: retry after " + std::to_string(retry_after->count()) +
                       " s (the Retry-After header)",
                   {},
                   std::nullopt,
                   static_cast<int>(retry_after->count())};
  return error_response(problem, clock_.now());
}

HttpResponse Router::json_response(int status, const json::Value& body) const {
  HttpResponse response;
  response.status = status;
  response.body = json::serialize(body);
  return response;
}

HttpResponse Router::error(ErrorCode code, std::string message) const {
  return error_response(ApiError{code, std::move(message), {}, std::nullopt, std::nullopt},
                        clock_.now());
}

HttpResponse Router::refusal(int status, std::string_view code, std::string_view message,
                             std::string_view path) const {
  auto response = error_response(status, code, message, clock_.now());
  // A client of the Nomba edge reads the Nomba envelope, even for a refusal this early.
  return is_nomba_path(path) ? nomba::nomba_error_response(response) : response;
}

HttpResponse Router::refuse(int status, std::string_view code, std::string_view message,
                            std::string_view path) {
  // Refused before it was routed (its method may not even be known): counted, not timed.
  if (settings_.metrics != nullptr) {
    settings_.metrics->request_answered(metrics::kRouteRefused, metrics::kMethodUnknown, status);
  }
  return refusal(status, code, message, path);
}

HttpResponse Router::metrics_response() const {
  HttpResponse response;
  if (settings_.metrics == nullptr) {
    return error(ErrorCode::route_not_found, "metrics are not collected by this router");
  }
  response.body = settings_.metrics->registry().render();
  response.content_type = std::string(metrics::kContentType);
  return response;
}

// Every answer is counted under its route template (never the raw path), method and
// status, and timed from here; a failure is answered 500 here so that it is counted too.
asio::awaitable<HttpResponse> Router::handle(HttpRequest request) {
  const auto started = std::chrono::steady_clock::now();
  const std::string_view route = routes_.match(request.method, request.path);
  const std::string_view method = method_label(request.method);
  const std::string path = request.path;
  const std::string method_text = request.method;
  HttpResponse response;
  try {
    response = co_await dispatch(std::move(request));
  } catch (const std::exception& failure) {
    spdlog::error("request {} {} failed: {}", method_text, path, failure.what());
    response = refusal(500, "INTERNAL_ERROR",
                       "the gateway could not complete the request; it is safe to retry", path);
  }
  if (settings_.metrics != nullptr) {
    settings_.metrics->request_answered(route, method, response.status,
                                        std::chrono::steady_clock::now() - started);
  }
  co_return response;
}

asio::awaitable<HttpResponse> Router::dispatch(HttpRequest request) {
  if (request.path == "/healthz" && request.method == "GET") {
    co_return json_response(200, json::object({{"status", "ok"}}));
  }
  if (request.path == "/readyz" && request.method == "GET") {
    try {
      co_await store_.call([](Store& store) { store.ping(); });
      co_return json_response(200, json::object({{"status", "ready"}}));
    } catch (const std::exception& failure) {
      spdlog::warn("readiness check failed: {}", failure.what());
      co_return error(ErrorCode::service_unavailable, "the store is not reachable");
    }
  }
  if (request.path == "/metrics" && request.method == "GET") {
    // Unauthenticated like /healthz, and not rate limited: a scraper polls it.
    co_return metrics_response();
  }
  if (request.path == "/openapi.json" && request.method == "GET") {
    HttpResponse document;
    document.body = std::string(openapi_document());
    co_return document;
  }
  try {
    if (request.path == "/v1/devices/pair" && request.method == "POST") {
      // No merchant auth (a new terminal has no credentials), so limited per client address.
      if (auto refused = over_rate(pairing_limiter_, request.remote_address)) {
        co_return std::move(*refused);
      }
      co_return co_await pair_device(std::move(request));
    }
    const bool admin = request.path.starts_with("/admin/");
    const bool nomba = !admin && is_nomba_request(request);
    if (admin || nomba || request.path.starts_with("/v1/")) {
      // Every credential check counts its failures per client address; an address out of
      // its budget is refused before any check, so guessing costs it time.
      const std::string address = request.remote_address;
      if (const auto retry_after =
              auth_failure_limiter_.blocked(address, RateLimiter::Clock::now())) {
        auto refused = too_many_failures(*retry_after);
        co_return nomba ? nomba::nomba_error_response(refused) : refused;
      }
      // No co_await inside a conditional expression: GCC 12 mis-copies its temporaries.
      HttpResponse response;
      if (admin) {
        response = co_await handle_admin(std::move(request));
      } else if (nomba) {
        response = co_await handle_nomba(std::move(request));
      } else {
        response = co_await handle_merchant(std::move(request));
      }
      if (response.status == 401) {
        (void)auth_failure_limiter_.admit(address, RateLimiter::Clock::now());
      }
      co_return response;
    }
  } catch (const store::StoreOverloaded&) {
    co_return error(ErrorCode::service_unavailable, "the gateway is overloaded; retry shortly");
  }
  co_return error(ErrorCode::route_not_found, "no route " + request.method + " " + request.path);
}

// ---- admin API (operations.md) ------------------------------------------------------------

asio::awaitable<HttpResponse> Router::handle_admin(HttpRequest request) {
  if (!settings_.admin_token) {
    co_return error(ErrorCode::route_not_found,
                    "the admin API is off: start the gateway with TILLGATE_ADMIN_TOKEN set");
  }
  const auto authorization = request.header("authorization");
  const std::string expected = "Bearer " + *settings_.admin_token;
  if (!authorization || !crypto::constant_time_equal(*authorization, expected)) {
    co_return error(ErrorCode::unauthorized,
                    "send Authorization: Bearer <TILLGATE_ADMIN_TOKEN> to use the admin API");
  }
  const auto parts = path_segments(request.path);  // admin, v1, merchants, ...
  const auto& method = request.method;
  if (parts.size() < 3 || parts[1] != "v1" || parts[2] != "merchants") {
    co_return error(ErrorCode::route_not_found, "no admin route " + method + " " + request.path);
  }
  if (parts.size() == 3 && method == "POST") {
    co_return co_await create_merchant(std::move(request));
  }
  if (parts.size() == 3 && method == "GET") {
    const auto merchants =
        co_await store_.call([](Store& store) { return store.list_merchants(); });
    json::Array items;
    for (const auto& merchant : merchants) {
      items.push_back(merchant_json(merchant));
    }
    const auto count = static_cast<std::int64_t>(items.size());
    co_return json_response(
        200, json::object({{"merchants", json::Value(std::move(items))},
                           {"count", json::Value(count)},
                           {"timestamp", json::Value(domain::format_iso8601(clock_.now()))}}));
  }
  const std::string merchant_id = parts.size() > 3 ? parts[3] : std::string();
  auto find_merchant_in_store = [merchant_id](Store& store) {
    return store.find_merchant(merchant_id);
  };
  const auto merchant = co_await store_.call(std::move(find_merchant_in_store));
  if (!merchant) {
    co_return error(ErrorCode::merchant_not_found, "no merchant " + merchant_id);
  }
  if (parts.size() == 4 && method == "GET") {
    co_return json_response(200, merchant_json(*merchant));
  }
  if (parts.size() == 5 && parts[4] == "keys" && method == "POST") {
    co_return co_await create_api_key(merchant_id);
  }
  if (parts.size() == 6 && parts[4] == "keys" && method == "DELETE") {
    const auto now = clock_.now();
    auto revoke_api_key_in_store = [merchant_id, key = parts[5], now](Store& store) {
      return store.revoke_api_key(merchant_id, key, now);
    };
    const bool revoked = co_await store_.call(std::move(revoke_api_key_in_store));
    if (!revoked) {
      co_return error(ErrorCode::route_not_found,
                      "no active API key " + parts[5] + " for merchant " + merchant_id);
    }
    co_return HttpResponse{204, {}, "application/json; charset=utf-8", {}};
  }
  if (parts.size() == 5 && parts[4] == "devices" && method == "POST") {
    co_return co_await create_device(merchant_id, std::move(request));
  }
  co_return error(ErrorCode::route_not_found, "no admin route " + method + " " + request.path);
}

asio::awaitable<HttpResponse> Router::create_merchant(HttpRequest request) {
  auto body = json::parse(request.body, json::ParseLimits{settings_.request_limits.max_json_depth});
  const auto name = body ? body->find_string("name") : std::nullopt;
  if (!name || name->empty() || name->size() > 200) {
    ApiError problem{ErrorCode::validation_error, "the merchant needs a name", {}, {}, {}};
    problem.details.push_back({"name", "is required: a string of 1-200 characters"});
    co_return error_response(problem, clock_.now());
  }
  const auto now = clock_.now();
  const auto merchant = new_merchant(std::string(*name), now);
  const auto key = new_api_key(merchant.merchant_id, now);
  auto insert_merchant_in_store = [merchant, key](Store& store) {
    store.insert_merchant(merchant);
    store.insert_api_key(key);
  };
  co_await store_.call(std::move(insert_merchant_in_store));
  spdlog::info("merchant {} created with API key {}", merchant.merchant_id, key.api_key);
  co_return json_response(201, json::object({{"merchantId", json::Value(merchant.merchant_id)},
                                             {"name", json::Value(merchant.name)},
                                             {"apiKey", json::Value(key.api_key)},
                                             {"apiSecret", json::Value(key.api_secret)}}));
}

asio::awaitable<HttpResponse> Router::create_api_key(std::string merchant_id) {
  const auto key = new_api_key(merchant_id, clock_.now());
  auto insert_api_key_in_store = [key](Store& store) { store.insert_api_key(key); };
  co_await store_.call(std::move(insert_api_key_in_store));
  spdlog::info("API key {} created for merchant {}", key.api_key, merchant_id);
  co_return json_response(201, json::object({{"apiKey", json::Value(key.api_key)},
                                             {"apiSecret", json::Value(key.api_secret)}}));
}

asio::awaitable<HttpResponse> Router::create_device(std::string merchant_id, HttpRequest request) {
  auto body =
      request.body.empty()
          ? boost::system::result<json::Value, json::ParseError>(json::Value(json::Object{}))
          : json::parse(request.body, json::ParseLimits{settings_.request_limits.max_json_depth});
  ApiError problem{ErrorCode::validation_error, "the device request is not valid", {}, {}, {}};
  if (!body || !body->is_object()) {
    problem.details.push_back({"body", "must be a JSON object {deviceId?, label?}"});
    co_return error_response(problem, clock_.now());
  }
  const auto* requested_id = body->find("deviceId");
  const auto* label = body->find("label");
  if (requested_id && !requested_id->is_null() &&
      (!requested_id->is_string() || !domain::is_valid_device_id(requested_id->as_string()))) {
    problem.details.push_back({"deviceId", "must be 1-64 characters of A-Z a-z 0-9 . _ : -"});
  }
  if (label && !label->is_null() && (!label->is_string() || label->as_string().size() > 200)) {
    problem.details.push_back({"label", "must be a string of at most 200 characters"});
  }
  if (!problem.details.empty()) {
    co_return error_response(problem, clock_.now());
  }
  auto created = new_device(
      merchant_id,
      requested_id && requested_id->is_string() ? requested_id->as_string() : std::string(),
      label && label->is_string() ? label->as_string() : std::string(), clock_.now());
  const std::string secret = std::move(created.device_secret);
  const store::DeviceRecord device = std::move(created.record);
  auto insert_device_in_store = [device](Store& store) { return store.insert_device(device); };
  const bool inserted = co_await store_.call(std::move(insert_device_in_store));
  if (!inserted) {
    co_return error(ErrorCode::device_id_taken, "device id " + device.device_id + " is taken");
  }
  spdlog::info("device {} created for merchant {}", device.device_id, merchant_id);
  co_return json_response(201, json::object({{"deviceId", json::Value(device.device_id)},
                                             {"deviceSecret", json::Value(secret)},
                                             {"merchantId", json::Value(merchant_id)},
                                             {"label", json::Value(device.label)}}));
}

// ---- merchant API (merchant-api.md) -------------------------------------------------------

asio::awaitable<HttpResponse> Router::handle_merchant(HttpRequest request) {
  const auto now = clock_.now();
  SignedHeaders signed_headers;
  if (const auto failure =
          read_signed_headers(request, now, settings_.signature_skew, signed_headers)) {
    co_return error(auth_error(*failure), auth_message(*failure));
  }
  auto find_api_key_in_store = [api_key = signed_headers.api_key](Store& store) {
    return store.find_api_key(api_key);
  };
  const auto key = co_await store_.read(std::move(find_api_key_in_store));
  if (!key || key->revoked_at) {
    co_return error(ErrorCode::unauthorized, auth_message(AuthFailure::unauthorized));
  }
  if (!signature_matches(request, signed_headers, key->api_secret)) {
    co_return error(ErrorCode::invalid_signature, auth_message(AuthFailure::invalid_signature));
  }
  if (const auto failure =
          replay_cache_.remember(signed_headers, clock_.now(), settings_.signature_skew)) {
    co_return error(auth_error(*failure), auth_message(*failure));
  }
  // After authentication: nobody can spend a merchant's budget without its secret.
  if (auto refused = over_rate(merchant_limiter_, key->merchant_id)) {
    co_return std::move(*refused);
  }
  co_return co_await route_merchant(key->merchant_id, std::move(request));
}

asio::awaitable<HttpResponse> Router::route_merchant(std::string merchant_id, HttpRequest request) {
  const auto parts = path_segments(request.path);  // v1, ...
  const auto& method = request.method;
  if (parts.size() == 4 && parts[1] == "terminals" && parts[3] == "payments" && method == "POST") {
    co_return co_await create_payment(merchant_id, parts[2], std::move(request));
  }
  if (parts.size() == 3 && parts[1] == "transactions" && method == "GET") {
    co_return co_await get_transaction(merchant_id, parts[2]);
  }
  if (parts.size() == 2 && parts[1] == "transactions" && method == "GET") {
    co_return co_await list_transactions(merchant_id, request.query);
  }
  if (parts.size() == 2 && parts[1] == "terminals" && method == "GET") {
    co_return co_await list_terminals(merchant_id);
  }
  if (parts.size() == 4 && parts[1] == "transactions" && parts[3] == "cancel" && method == "POST") {
    co_return co_await cancel_transaction(merchant_id, parts[2]);
  }
  if (parts.size() == 3 && parts[1] == "devices" && parts[2] == "codes" && method == "POST") {
    co_return co_await create_pairing_code(merchant_id, std::move(request));
  }
  if (parts.size() == 3 && parts[1] == "devices" && method == "DELETE") {
    co_return co_await delete_device(merchant_id, parts[2]);
  }
  if (parts.size() >= 3 && parts[1] == "webhooks") {
    co_return co_await route_webhooks(merchant_id, std::move(request));
  }
  co_return error(ErrorCode::route_not_found, "no route " + method + " " + request.path);
}

ApiError Router::submit_problem(const payments::SubmitOutcome& outcome,
                                const std::string& terminal_id, std::string_view reference_name) {
  const auto transaction_id =
      outcome.transaction ? std::optional(outcome.transaction->transaction_id) : std::nullopt;
  auto problem = [](ErrorCode code, std::string message) {
    return ApiError{code, std::move(message), {}, std::nullopt, std::nullopt};
  };
  switch (outcome.error.value_or(SubmitError::too_many_waiting)) {
    case SubmitError::terminal_not_found:
      return problem(ErrorCode::terminal_not_found, "no terminal " + terminal_id);
    case SubmitError::no_webhook_endpoints:
      return problem(ErrorCode::no_webhook_endpoints,
                     "webhookMode needs an active webhook endpoint: create one with POST "
                     "/v1/webhooks/endpoints, or send webhookMode false to wait for the result");
    case SubmitError::terminal_offline:
      return problem(ErrorCode::terminal_offline,
                     "terminal " + terminal_id + " is not connected to the gateway");
    case SubmitError::payment_in_progress:
      return problem(ErrorCode::payment_in_progress,
                     "terminal " + terminal_id + " already has an unfinished payment");
    case SubmitError::duplicate_transaction:
      return ApiError{ErrorCode::duplicate_transaction,
                      std::string(reference_name) +
                          " was already used with a different request (amount, currency, "
                          "terminal or options)",
                      {},
                      transaction_id,
                      std::nullopt};
    case SubmitError::too_many_waiting:
      break;
  }
  return problem(ErrorCode::service_unavailable,
                 "too many payments are waiting; use webhookMode or retry shortly");
}

asio::awaitable<HttpResponse> Router::create_payment(std::string merchant_id,
                                                     std::string terminal_id, HttpRequest request) {
  auto parsed = parse_payment_request(request.body, settings_.request_limits);
  if (!parsed) {
    ApiError problem{ErrorCode::validation_error, "the payment request is not valid: see details",
                     parsed.error(), std::nullopt, std::nullopt};
    co_return error_response(problem, clock_.now());
  }
  const bool webhook_mode = parsed->webhook_mode;
  const auto outcome = co_await coordinator_.submit(merchant_id, terminal_id, std::move(*parsed));
  if (outcome.error) {
    co_return error_response(submit_problem(outcome, terminal_id, "transactionId"), clock_.now());
  }
  const auto transaction_id = std::optional(outcome.transaction->transaction_id);
  const auto& transaction = *outcome.transaction;
  if (webhook_mode && !domain::is_final(transaction.status)) {
    co_return json_response(
        202, json::object({{"transactionId", json::Value(transaction.transaction_id)},
                           {"status", json::Value(domain::to_string(transaction.status))},
                           {"timestamp", json::Value(domain::format_iso8601(clock_.now()))}}));
  }
  if (outcome.timed_out) {
    co_return error_response(
        ApiError{ErrorCode::timeout,
                 "the terminal gave no final result within the payment timeout; the "
                 "transaction goes on: read it with GET /v1/transactions/" +
                     transaction.transaction_id,
                 {},
                 transaction_id,
                 std::nullopt},
        clock_.now());
  }
  co_return json_response(200, payment_answer(transaction, clock_.now()));
}

asio::awaitable<HttpResponse> Router::get_transaction(std::string merchant_id,
                                                      std::string transaction_id) {
  auto find_transaction_in_store = [merchant_id, transaction_id](Store& store) {
    return store.find_transaction(merchant_id, transaction_id);
  };
  const auto transaction = co_await store_.read(std::move(find_transaction_in_store));
  if (!transaction) {
    co_return error(ErrorCode::transaction_not_found, "no transaction " + transaction_id);
  }
  json::Value view = transaction_view(*transaction);
  view.as_object().push_back({"timestamp", json::Value(domain::format_iso8601(clock_.now()))});
  co_return json_response(200, view);
}

asio::awaitable<HttpResponse> Router::list_terminals(std::string merchant_id) {
  auto list_devices_in_store = [merchant_id](Store& store) {
    return store.list_devices(merchant_id);
  };
  const auto devices = co_await store_.call(std::move(list_devices_in_store));
  json::Array items;
  for (const auto& device : devices) {
    if (device.revoked_at) {
      continue;
    }
    const auto connection = terminals_.connection(device.device_id);
    const char* status = connection                               ? "online"
                         : terminals_.reachable(device.device_id) ? "reconnecting"
                                                                  : "offline";
    auto metadata = json::parse(device.metadata_json);
    items.push_back(json::object({
        {"terminalId", json::Value(device.device_id)},
        {"deviceId", json::Value(device.device_id)},
        {"connectionId",
         connection ? json::Value(connection->connection_id) : json::Value(nullptr)},
        {"label", json::Value(device.label)},
        {"status", json::Value(status)},
        {"connectedAt", connection ? json::Value(domain::format_iso8601(connection->connected_at))
                                   : json::Value(nullptr)},
        {"lastActivity", connection ? json::Value(domain::format_iso8601(connection->last_activity))
                                    : json::Value(nullptr)},
        {"metadata", metadata ? std::move(*metadata) : json::Value(json::Object{})},
    }));
  }
  const auto count = static_cast<std::int64_t>(items.size());
  co_return json_response(
      200, json::object({{"terminals", json::Value(std::move(items))},
                         {"count", json::Value(count)},
                         {"timestamp", json::Value(domain::format_iso8601(clock_.now()))}}));
}

asio::awaitable<HttpResponse> Router::list_transactions(std::string merchant_id,
                                                        std::string query_text) {
  store::TransactionQuery query;
  query.merchant_id = merchant_id;
  const auto problems = read_query(
      query_text,
      [&query](const std::string& name, const std::string& value,
               std::vector<FieldProblem>& found) { apply_list_param(name, value, query, found); });
  if (!problems.empty()) {
    co_return error_response(
        ApiError{ErrorCode::validation_error, "the list query is not valid: see details", problems,
                 std::nullopt, std::nullopt},
        clock_.now());
  }
  const auto page_size = query.limit;
  query.limit = page_size + 1;  // one more row tells whether another page exists
  auto list_transactions_in_store = [query](Store& store) {
    return store.list_transactions(query);
  };
  auto rows = co_await store_.call(std::move(list_transactions_in_store));
  co_return json_response(
      200, list_page("transactions", std::move(rows), page_size, transaction_view, clock_.now()));
}

// Asks the terminal to abandon an unfinished payment; its answer decides (section 6).
asio::awaitable<HttpResponse> Router::cancel_transaction(std::string merchant_id,
                                                         std::string transaction_id) {
  const auto outcome = co_await coordinator_.cancel(merchant_id, transaction_id);
  if (outcome.error == payments::CancelError::transaction_not_found) {
    co_return error(ErrorCode::transaction_not_found, "no transaction " + transaction_id);
  }
  if (outcome.error == payments::CancelError::transaction_final) {
    co_return error_response(
        ApiError{ErrorCode::transaction_final,
                 "transaction " + transaction_id + " is already final (" +
                     std::string(domain::to_string(outcome.transaction->status)) +
                     "); it cannot be cancelled",
                 {},
                 transaction_id,
                 std::nullopt},
        clock_.now());
  }
  json::Value view = transaction_view(*outcome.transaction);
  view.as_object().push_back({"timestamp", json::Value(domain::format_iso8601(clock_.now()))});
  co_return json_response(202, view);
}

}  // namespace tillgate::api
