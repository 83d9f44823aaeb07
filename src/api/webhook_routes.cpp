// Webhook endpoints and deliveries (webhooks.md).
#include "api/webhook_routes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/answers.hpp"
#include "api/query.hpp"
#include "domain/ids.hpp"
#include "webhooks/delivery_client.hpp"
#include "webhooks/dispatcher.hpp"
#include "webhooks/events.hpp"
#include "webhooks/signature.hpp"

namespace tillgate::api {

using net::HttpResponse;
using store::Store;

namespace {

constexpr std::size_t kMaxUrlChars = 2048;
constexpr std::size_t kMaxDescriptionChars = 500;

// Characters (code points) of valid UTF-8, as the OpenAPI document's maxLength counts them.
std::size_t char_count(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
}

// What a create or update body sets; a field left unset is not in the body.
struct EndpointFields {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<domain::EndpointStatus> status;
  std::optional<domain::WebhookFormat> format;
  std::optional<domain::Secret> secret;  // chosen by the merchant (format nomba only)
  std::optional<std::string> description;
  std::optional<std::string> metadata_json;
};

enum class BodyKind { create, update };

void read_url(const json::Value& value, bool allow_http, EndpointFields& fields,
              std::vector<FieldProblem>& problems) {
  if (!value.is_string() || value.as_string().empty() ||
      char_count(value.as_string()) > kMaxUrlChars) {
    problems.push_back({"url", "must be an https:// URL of at most 2048 characters"});
    return;
  }
  std::string error;
  const auto parsed = webhooks::parse_webhook_url(value.as_string(), error);
  if (!parsed) {
    const std::string_view reason =
        std::string_view(error).starts_with("url: ") ? std::string_view(error).substr(5) : error;
    problems.push_back({"url", "must be an https:// URL: " + std::string(reason)});
    return;
  }
  if (!parsed->tls && !allow_http) {
    problems.push_back({"url",
                        "must be https:// (http:// is accepted only when the gateway runs with "
                        "TILLGATE_WEBHOOK_ALLOW_HTTP=1, for development)"});
    return;
  }
  fields.url = value.as_string();
}

void read_events(const json::Value& value, EndpointFields& fields,
                 std::vector<FieldProblem>& problems) {
  const std::string expected =
      "must be a non-empty array of payment.completed, payment.failed, payment.cancelled, "
      "payment.timeout, payment.voided";
  if (!value.is_array() || value.as_array().empty()) {
    problems.push_back({"events", expected});
    return;
  }
  std::vector<std::string> events;
  const auto& items = value.as_array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_string() || !webhooks::is_payment_event_type(items[i].as_string())) {
      problems.push_back({"events[" + std::to_string(i) + "]",
                          "is not an event type: use payment.completed, payment.failed, "
                          "payment.cancelled, payment.timeout or payment.voided"});
      continue;
    }
    if (std::find(events.begin(), events.end(), items[i].as_string()) == events.end()) {
      events.push_back(items[i].as_string());  // a repeated type is the same subscription
    }
  }
  fields.events = std::move(events);
}

void read_metadata(const json::Value& value, const RequestLimits& limits, EndpointFields& fields,
                   std::vector<FieldProblem>& problems) {
  if (!value.is_object() || value.as_object().size() > limits.max_metadata_keys) {
    problems.push_back({"metadata", "must be an object of at most " +
                                        std::to_string(limits.max_metadata_keys) +
                                        " string values"});
    return;
  }
  const auto problems_before = problems.size();
  for (const auto& member : value.as_object()) {
    const std::string field = "metadata." + member.key;
    if (member.key.empty() || char_count(member.key) > limits.max_metadata_key_chars) {
      problems.push_back(
          {field,
           "key must have 1-" + std::to_string(limits.max_metadata_key_chars) + " characters"});
    } else if (!member.value.is_string() ||
               char_count(member.value.as_string()) > limits.max_metadata_value_chars) {
      problems.push_back({field, "must be a string of at most " +
                                     std::to_string(limits.max_metadata_value_chars) +
                                     " characters"});
    }
  }
  if (problems.size() == problems_before) {
    fields.metadata_json = json::serialize(value);
  }
}

// nomba-compat.md v2: a Nomba endpoint's signature key may be the merchant's own, as on
// Nomba's dashboard: 16 to 128 printable ASCII characters. A standard endpoint's secret is
// a Standard Webhooks key (whsec_ + base64), always generated. Read after `format`.
void read_secret(const json::Value& secret, BodyKind kind, EndpointFields& fields,
                 std::vector<FieldProblem>& problems) {
  if (kind == BodyKind::update) {
    problems.push_back({"secret", "cannot be changed: create an endpoint with the new secret"});
    return;
  }
  if (fields.format != domain::WebhookFormat::nomba) {
    problems.push_back({"secret", "may be chosen only for format nomba"});
    return;
  }
  const bool printable =
      secret.is_string() && std::all_of(secret.as_string().begin(), secret.as_string().end(),
                                        [](char c) { return c >= 0x20 && c <= 0x7E; });
  if (!printable || secret.as_string().size() < 16 || secret.as_string().size() > 128) {
    problems.push_back({"secret", "must be 16 to 128 printable ASCII characters"});
    return;
  }
  fields.secret = domain::Secret(secret.as_string());
}

// Reads every field the body sets, collecting each problem with its field. null clears
// description and metadata; for the other fields it is a problem.
EndpointFields read_endpoint_body(const json::Value& body, BodyKind kind, bool allow_http,
                                  const RequestLimits& limits,
                                  std::vector<FieldProblem>& problems) {
  EndpointFields fields;
  const auto* url = body.find("url");
  if (url == nullptr || url->is_null()) {
    if (kind == BodyKind::create || url != nullptr) {
      problems.push_back({"url", "is required: the https:// URL to deliver events to"});
    }
  } else {
    read_url(*url, allow_http, fields, problems);
  }
  if (const auto* events = body.find("events"); events != nullptr) {
    read_events(*events, fields, problems);
  }
  if (const auto* format = body.find("format"); format != nullptr) {
    if (kind == BodyKind::update) {
      problems.push_back({"format", "cannot be changed: create an endpoint with the new format"});
    } else if (const auto kind_of = format->is_string()
                                        ? domain::parse_webhook_format(format->as_string())
                                        : std::nullopt) {
      fields.format = *kind_of;
    } else {
      problems.push_back({"format", "must be standard or nomba"});
    }
  }
  if (const auto* secret = body.find("secret"); secret != nullptr) {
    read_secret(*secret, kind, fields, problems);
  }
  // Created endpoints start active; only an update changes status.
  if (const auto* status = body.find("status"); status != nullptr && kind == BodyKind::update) {
    if (const auto parsed = status->is_string() ? domain::parse_endpoint_status(status->as_string())
                                                : std::nullopt) {
      fields.status = *parsed;
    } else {
      problems.push_back({"status", "must be active or disabled"});
    }
  }
  if (const auto* description = body.find("description"); description != nullptr) {
    if (description->is_null()) {
      fields.description = std::string();
    } else if (!description->is_string() ||
               char_count(description->as_string()) > kMaxDescriptionChars) {
      problems.push_back({"description", "must be a string of at most 500 characters"});
    } else if (description->as_string().find('\0') != std::string::npos) {
      problems.push_back({"description", std::string(views::kNoNulCharacter)});
    } else {
      fields.description = description->as_string();
    }
  }
  if (const auto* metadata = body.find("metadata"); metadata != nullptr) {
    if (metadata->is_null()) {
      fields.metadata_json = "{}";
    } else {
      read_metadata(*metadata, limits, fields, problems);
    }
  }
  return fields;
}

std::string events_json(const std::vector<std::string>& events) {
  json::Array items;
  for (const auto& event : events) {
    items.emplace_back(event);
  }
  return json::serialize(json::Value(std::move(items)));
}

json::Value parsed_or(const std::string& text, json::Value fallback) {
  auto parsed = json::parse(text);
  return parsed ? std::move(*parsed) : std::move(fallback);
}

// The endpoint as the API shows it; the secret only when it is created.
json::Value endpoint_view(const store::WebhookEndpointRecord& endpoint, bool with_secret) {
  json::Object fields{
      {"endpointId", json::Value(endpoint.endpoint_id)},
      {"url", json::Value(endpoint.url)},
      {"events", parsed_or(endpoint.events_json, json::Value(json::Array{}))},
      {"status", json::Value(domain::to_string(endpoint.status))},
      {"format", json::Value(domain::to_string(endpoint.format))},
      {"description", json::Value(endpoint.description)},
      {"metadata", parsed_or(endpoint.metadata_json, json::Value(json::Object{}))},
  };
  if (with_secret) {
    fields.push_back({"secret", json::Value(endpoint.secret.reveal())});
  }
  fields.push_back({"createdAt", json::Value(domain::format_iso8601(endpoint.created_at))});
  fields.push_back({"updatedAt", json::Value(domain::format_iso8601(endpoint.updated_at))});
  return json::Value(std::move(fields));
}

json::Value optional_time(const std::optional<domain::Timestamp>& at) {
  return at ? json::Value(domain::format_iso8601(*at)) : json::Value(nullptr);
}

json::Value delivery_view(const store::WebhookDeliveryRecord& delivery) {
  json::Array attempts;
  for (const auto& attempt : delivery.attempts) {
    attempts.push_back(json::object({
        {"at", json::Value(domain::format_iso8601(attempt.started_at))},
        {"httpStatus", attempt.http_status ? json::Value(*attempt.http_status) : json::Value()},
        {"error", attempt.error ? json::Value(*attempt.error) : json::Value()},
        {"durationMs", json::Value(attempt.duration_ms)},
    }));
  }
  return json::object({
      {"deliveryId", json::Value(delivery.delivery_id)},
      {"eventId", json::Value(delivery.event_id)},
      {"eventType", json::Value(delivery.event_type)},
      {"endpointId", json::Value(delivery.endpoint_id)},
      {"transactionId", json::Value(delivery.transaction_id)},
      {"status", json::Value(store::to_string(delivery.status))},
      {"attemptCount", json::Value(delivery.attempt_count)},
      {"attempts", json::Value(std::move(attempts))},
      // The exact bytes every attempt sends (what the signature covers), as a string.
      {"payload", delivery.payload ? json::Value(*delivery.payload) : json::Value(nullptr)},
      {"nextAttemptAt", optional_time(delivery.next_attempt_at)},
      {"createdAt", json::Value(domain::format_iso8601(delivery.created_at))},
      {"updatedAt", json::Value(domain::format_iso8601(delivery.updated_at))},
  });
}

// Applies one query parameter of GET /v1/webhooks/deliveries; unknown names are ignored.
void apply_delivery_param(const std::string& name, const std::string& value,
                          store::DeliveryQuery& query, std::vector<FieldProblem>& problems) {
  if (name == "endpointId") {
    query.endpoint_id = value;
  } else if (name == "transactionId") {
    query.transaction_id = value;
  } else if (name == "status") {
    query.status = store::parse_delivery_status(value);
    if (!query.status) {
      problems.push_back({"status", "must be one of pending, succeeded, failed"});
    }
  } else {
    (void)apply_page_param(name, value, query.limit, query.before_sequence, problems);
  }
}

// A new endpoint from a valid create body: active, with a fresh secret, every event type
// unless the body names some, the standard format unless it names another.
store::WebhookEndpointRecord new_endpoint(const std::string& merchant_id,
                                          const EndpointFields& fields) {
  store::WebhookEndpointRecord endpoint;
  endpoint.endpoint_id = domain::new_prefixed_id("wh_");
  endpoint.merchant_id = merchant_id;
  endpoint.url = *fields.url;
  endpoint.secret = fields.secret ? std::move(*fields.secret)
                                  : domain::Secret(webhooks::generate_webhook_secret());
  std::vector<std::string> all_events(webhooks::payment_event_types.begin(),
                                      webhooks::payment_event_types.end());
  endpoint.events_json = events_json(fields.events.value_or(all_events));
  endpoint.format = fields.format.value_or(domain::WebhookFormat::standard);
  endpoint.description = fields.description.value_or("");
  endpoint.metadata_json = fields.metadata_json.value_or("{}");
  return endpoint;
}

// Applies an update body's fields (but not its URL, which is pinged first) to `endpoint`.
void apply_update(const EndpointFields& fields, domain::Timestamp now,
                  store::WebhookEndpointRecord& endpoint) {
  if (fields.events) {
    endpoint.events_json = events_json(*fields.events);
  }
  endpoint.status = fields.status.value_or(endpoint.status);
  endpoint.description = fields.description.value_or(endpoint.description);
  endpoint.metadata_json = fields.metadata_json.value_or(endpoint.metadata_json);
  endpoint.updated_at = now;
}

}  // namespace

WebhookRoutes::WebhookRoutes(store::AsyncStore& store, webhooks::WebhookDispatcher& webhooks,
                             const domain::Clock& clock, WebhookRouteSettings settings)
    : store_(store), webhooks_(webhooks), clock_(clock), settings_(settings) {}

void WebhookRoutes::add_routes(RouteTable& table) {
  constexpr auto kMerchant = Auth::merchant;
  table.add(
      *this,
      {
          {"POST", "/v1/webhooks/endpoints", kMerchant, &WebhookRoutes::create_endpoint},
          {"GET", "/v1/webhooks/endpoints", kMerchant, &WebhookRoutes::list_endpoints},
          {"GET", "/v1/webhooks/endpoints/{endpointId}", kMerchant, &WebhookRoutes::get_endpoint},
          {"PUT", "/v1/webhooks/endpoints/{endpointId}", kMerchant,
           &WebhookRoutes::update_endpoint},
          {"DELETE", "/v1/webhooks/endpoints/{endpointId}", kMerchant,
           &WebhookRoutes::delete_endpoint},
          {"GET", "/v1/webhooks/deliveries", kMerchant, &WebhookRoutes::list_deliveries},
          {"POST", "/v1/webhooks/deliveries/{deliveryId}/retry", kMerchant,
           &WebhookRoutes::retry_delivery},
      });
}

HttpResponse WebhookRoutes::endpoint_limit_reached() const {
  return error_answer(ErrorCode::endpoint_limit_reached,
                      "a merchant has at most " + std::to_string(settings_.max_endpoints) +
                          " webhook endpoints: delete one first",
                      clock_.now());
}

HttpResponse WebhookRoutes::endpoint_not_found(const std::string& endpoint_id) const {
  return error_answer(ErrorCode::endpoint_not_found, "no webhook endpoint " + endpoint_id,
                      clock_.now());
}

boost::asio::awaitable<std::optional<HttpResponse>> WebhookRoutes::validate_endpoint(
    std::string url, domain::Secret secret, domain::WebhookFormat format) {
  auto ping = webhooks_.ping(url, std::move(secret), format);
  const auto attempt = co_await std::move(ping);
  if (!attempt) {
    co_return error_answer(ErrorCode::service_unavailable,
                           "too many endpoint validations are in progress; retry shortly",
                           clock_.now());
  }
  if (attempt->succeeded()) {
    co_return std::nullopt;
  }
  const std::string answer =
      attempt->error.empty()
          ? "it answered HTTP " + std::to_string(attempt->http_status.value_or(0))
          : attempt->error;
  spdlog::info("webhook endpoint validation failed: {}", answer);
  co_return error_answer(ErrorCode::endpoint_validation_failed,
                         "the URL must answer a signed ping event with a 2xx within " +
                             std::to_string(webhooks_.attempt_timeout().count()) + " ms; " + answer,
                         clock_.now());
}

RouteAnswer WebhookRoutes::create_endpoint(RouteRequest request) {
  const auto body = parse_body(request.http.body, settings_.request_limits);
  ApiError problem{
      ErrorCode::validation_error, "the endpoint is not valid: see details", {}, {}, {}};
  if (!body || !body->is_object()) {
    problem.details.push_back(
        {"body", "must be a JSON object {url, events?, description?, metadata?, format?}"});
    co_return error_response(problem, clock_.now());
  }
  const auto fields = read_endpoint_body(*body, BodyKind::create, settings_.allow_http,
                                         settings_.request_limits, problem.details);
  if (!problem.details.empty()) {
    co_return error_response(problem, clock_.now());
  }
  auto endpoint = new_endpoint(request.merchant_id, fields);
  // Full already? Say so before making the merchant's receiver answer a ping.
  const auto existing = co_await store_.call(&Store::list_webhook_endpoints, request.merchant_id);
  if (existing.size() >= settings_.max_endpoints) {
    co_return endpoint_limit_reached();
  }
  // Nomba has no ping event: a Nomba endpoint is saved without one (nomba-compat.md v2).
  if (endpoint.format != domain::WebhookFormat::nomba) {
    if (auto refused = co_await validate_endpoint(endpoint.url, endpoint.secret, endpoint.format)) {
      co_return std::move(*refused);
    }
  }
  endpoint.created_at = endpoint.updated_at = clock_.now();
  const auto max_endpoints = settings_.max_endpoints;
  const auto inserted =
      co_await store_.call(&Store::insert_webhook_endpoint, endpoint, max_endpoints);
  if (inserted == store::EndpointInsertOutcome::limit_reached) {  // filled during the ping
    co_return endpoint_limit_reached();
  }
  spdlog::info("webhook endpoint {} created for merchant {}", endpoint.endpoint_id,
               request.merchant_id);
  co_return json_answer(201, endpoint_view(endpoint, true));
}

RouteAnswer WebhookRoutes::list_endpoints(RouteRequest request) {
  const auto endpoints = co_await store_.call(&Store::list_webhook_endpoints, request.merchant_id);
  json::Array items;
  for (const auto& endpoint : endpoints) {
    items.push_back(endpoint_view(endpoint, false));
  }
  const auto count = static_cast<std::int64_t>(items.size());
  co_return json_answer(
      200, json::object({{"endpoints", json::Value(std::move(items))},
                         {"count", json::Value(count)},
                         {"timestamp", json::Value(domain::format_iso8601(clock_.now()))}}));
}

RouteAnswer WebhookRoutes::get_endpoint(RouteRequest request) {
  const std::string endpoint_id = request.parameter("endpointId");
  const auto endpoint =
      co_await store_.call(&Store::find_webhook_endpoint, request.merchant_id, endpoint_id);
  if (!endpoint) {
    co_return endpoint_not_found(endpoint_id);
  }
  co_return json_answer(200, endpoint_view(*endpoint, false));
}

RouteAnswer WebhookRoutes::update_endpoint(RouteRequest request) {
  const std::string endpoint_id = request.parameter("endpointId");
  const auto body = parse_body(request.http.body, settings_.request_limits);
  ApiError problem{
      ErrorCode::validation_error, "the endpoint update is not valid: see details", {}, {}, {}};
  if (!body || !body->is_object()) {
    problem.details.push_back(
        {"body", "must be a JSON object {url?, events?, status?, description?, metadata?}"});
    co_return error_response(problem, clock_.now());
  }
  const auto fields = read_endpoint_body(*body, BodyKind::update, settings_.allow_http,
                                         settings_.request_limits, problem.details);
  if (!problem.details.empty()) {
    co_return error_response(problem, clock_.now());
  }
  auto endpoint =
      co_await store_.call(&Store::find_webhook_endpoint, request.merchant_id, endpoint_id);
  if (!endpoint) {
    co_return endpoint_not_found(endpoint_id);
  }
  // Only a URL that changes is pinged: the same one was accepted already.
  // Nomba endpoints are never pinged.
  if (fields.url && *fields.url != endpoint->url) {
    if (endpoint->format != domain::WebhookFormat::nomba) {
      if (auto refused =
              co_await validate_endpoint(*fields.url, endpoint->secret, endpoint->format)) {
        co_return std::move(*refused);
      }
    }
    endpoint->url = *fields.url;
  }
  const bool enabled = fields.status == domain::EndpointStatus::active &&
                       endpoint->status != domain::EndpointStatus::active;
  apply_update(fields, clock_.now(), *endpoint);
  if (!co_await store_.call(&Store::update_webhook_endpoint, *endpoint)) {  // deleted meanwhile
    co_return endpoint_not_found(endpoint_id);
  }
  if (enabled) {
    webhooks_.notify();  // its paused deliveries are due again
  }
  spdlog::info("webhook endpoint {} of merchant {} updated", endpoint_id, request.merchant_id);
  co_return json_answer(200, endpoint_view(*endpoint, false));
}

// Deleting twice answers 204 both times, like revoking a device (docs/decisions.md).
RouteAnswer WebhookRoutes::delete_endpoint(RouteRequest request) {
  const std::string endpoint_id = request.parameter("endpointId");
  const auto now = clock_.now();
  const auto outcome =
      co_await store_.call(&Store::delete_webhook_endpoint, request.merchant_id, endpoint_id, now);
  if (outcome == store::EndpointDeleteOutcome::not_found) {
    co_return endpoint_not_found(endpoint_id);
  }
  if (outcome == store::EndpointDeleteOutcome::deleted) {
    spdlog::info("webhook endpoint {} of merchant {} deleted", endpoint_id, request.merchant_id);
  }
  co_return no_content();
}

RouteAnswer WebhookRoutes::list_deliveries(RouteRequest request) {
  store::DeliveryQuery query;
  query.merchant_id = request.merchant_id;
  const auto problems =
      read_query(request.http.query, [&query](const std::string& name, const std::string& value,
                                              std::vector<FieldProblem>& found) {
        apply_delivery_param(name, value, query, found);
      });
  if (!problems.empty()) {
    co_return error_response(
        ApiError{ErrorCode::validation_error, "the list query is not valid: see details", problems,
                 std::nullopt, std::nullopt},
        clock_.now());
  }
  const auto page_size = query.limit;
  query.limit = page_size + 1;  // one more row tells whether another page exists
  auto rows = co_await store_.call(&Store::list_webhook_deliveries, query);
  co_return json_answer(
      200, list_page("deliveries", std::move(rows), page_size, delivery_view, clock_.now()));
}

RouteAnswer WebhookRoutes::retry_delivery(RouteRequest request) {
  const std::string delivery_id = request.parameter("deliveryId");
  const auto now = clock_.now();
  const auto result =
      co_await store_.call(&Store::retry_webhook_delivery, request.merchant_id, delivery_id, now);
  if (result.outcome == store::RetryOutcome::not_found) {
    co_return error_answer(ErrorCode::delivery_not_found, "no webhook delivery " + delivery_id,
                           clock_.now());
  }
  if (result.outcome == store::RetryOutcome::endpoint_inactive) {
    co_return error_answer(ErrorCode::endpoint_inactive,
                           "the delivery's endpoint " + result.delivery->endpoint_id +
                               " is disabled or deleted: enable it (PUT status active) to deliver",
                           clock_.now());
  }
  webhooks_.notify();
  spdlog::info("webhook delivery {} of merchant {}: retry requested", delivery_id,
               request.merchant_id);
  co_return json_answer(202, with_timestamp(delivery_view(*result.delivery), now));
}

}  // namespace tillgate::api
