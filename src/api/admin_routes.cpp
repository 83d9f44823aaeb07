#include "api/admin_routes.hpp"

#include <spdlog/spdlog.h>

#include "api/answers.hpp"
#include "api/provisioning.hpp"
#include "domain/ids.hpp"

namespace tillgate::api {

using net::HttpResponse;
using store::Store;
using views::ApiError;
using views::ErrorCode;

namespace {

json::Value merchant_json(const store::MerchantRecord& merchant) {
  return json::object(
      {{"merchantId", json::Value(merchant.merchant_id)},
       {"name", json::Value(merchant.name)},
       {"createdAt", json::Value(domain::format_iso8601(merchant.created_at))},
       {"nombaAmountUnit", merchant.nomba_amount_unit ? json::Value(*merchant.nomba_amount_unit)
                                                      : json::Value(nullptr)}});
}

// The device request's problems, each with its field; empty when it is valid.
std::vector<views::FieldProblem> device_problems(const json::Value* requested_id,
                                                 const json::Value* label) {
  std::vector<views::FieldProblem> problems;
  if (requested_id && !requested_id->is_null() &&
      (!requested_id->is_string() || !domain::is_valid_device_id(requested_id->as_string()))) {
    problems.push_back({"deviceId", "must be 1-64 characters of A-Z a-z 0-9 . _ : -"});
  }
  if (label && !label->is_null() && (!label->is_string() || label->as_string().size() > 200)) {
    problems.push_back({"label", "must be a string of at most 200 characters"});
  } else if (label && label->is_string() && label->as_string().find('\0') != std::string::npos) {
    problems.push_back({"label", std::string(views::kNoNulCharacter)});
  }
  return problems;
}

std::string string_or_empty(const json::Value* value) {
  return value && value->is_string() ? value->as_string() : std::string();
}

}  // namespace

AdminRoutes::AdminRoutes(store::AsyncStore& store, const domain::Clock& clock,
                         views::RequestLimits limits)
    : store_(store), clock_(clock), limits_(limits) {}

void AdminRoutes::add_routes(RouteTable& table) {
  constexpr auto kAdmin = Auth::admin;
  table.add(
      *this,
      {
          {"POST", "/admin/v1/merchants", kAdmin, &AdminRoutes::create_merchant},
          {"GET", "/admin/v1/merchants", kAdmin, &AdminRoutes::list_merchants},
          {"GET", "/admin/v1/merchants/{merchantId}", kAdmin, &AdminRoutes::get_merchant},
          {"PATCH", "/admin/v1/merchants/{merchantId}", kAdmin, &AdminRoutes::update_merchant},
          {"POST", "/admin/v1/merchants/{merchantId}/keys", kAdmin, &AdminRoutes::create_api_key},
          {"DELETE", "/admin/v1/merchants/{merchantId}/keys/{apiKey}", kAdmin,
           &AdminRoutes::revoke_api_key},
          {"POST", "/admin/v1/merchants/{merchantId}/devices", kAdmin, &AdminRoutes::create_device},
      });
  // Any other path under /admin/ needs the token too before it is answered 404.
  table.add_unrouted("/admin/", Auth::admin);
}

boost::asio::awaitable<AdminRoutes::MerchantLookup> AdminRoutes::find_merchant(
    std::string merchant_id) {
  MerchantLookup lookup;
  lookup.merchant = co_await store_.call(&Store::find_merchant, merchant_id);
  if (!lookup.merchant) {
    lookup.not_found =
        error_answer(ErrorCode::merchant_not_found, "no merchant " + merchant_id, clock_.now());
  }
  co_return lookup;
}

RouteAnswer AdminRoutes::create_merchant(RouteRequest request) {
  const auto body = parse_body(request.http.body, limits_);
  const auto name = body ? body->find_string("name") : std::nullopt;
  if (!name || name->empty() || name->size() > 200 || name->find('\0') != std::string::npos) {
    ApiError problem{ErrorCode::validation_error, "the merchant needs a name", {}, {}, {}};
    problem.details.push_back(
        {"name", "is required: a string of 1-200 characters without a NUL character (\\u0000)"});
    co_return views::error_response(problem, clock_.now());
  }
  const auto now = clock_.now();
  const auto merchant = new_merchant(std::string(*name), now);
  const auto key = new_api_key(merchant.merchant_id, now);
  co_await store_.call(&Store::create_merchant, merchant, key);
  spdlog::info("merchant {} created with API key {}", merchant.merchant_id, key.api_key);
  co_return json_answer(201, json::object({{"merchantId", json::Value(merchant.merchant_id)},
                                           {"name", json::Value(merchant.name)},
                                           {"apiKey", json::Value(key.api_key)},
                                           {"apiSecret", json::Value(key.api_secret.reveal())}}));
}

RouteAnswer AdminRoutes::list_merchants(RouteRequest /*request*/) {
  const auto merchants = co_await store_.call(&Store::list_merchants);
  json::Array items;
  for (const auto& merchant : merchants) {
    items.push_back(merchant_json(merchant));
  }
  const auto count = static_cast<std::int64_t>(items.size());
  co_return json_answer(
      200, json::object({{"merchants", json::Value(std::move(items))},
                         {"count", json::Value(count)},
                         {"timestamp", json::Value(domain::format_iso8601(clock_.now()))}}));
}

RouteAnswer AdminRoutes::get_merchant(RouteRequest request) {
  const std::string merchant_id = request.parameter("merchantId");
  auto lookup = co_await find_merchant(merchant_id);
  if (!lookup.merchant) {
    co_return std::move(lookup.not_found);
  }
  co_return json_answer(200, merchant_json(*lookup.merchant));
}

RouteAnswer AdminRoutes::update_merchant(RouteRequest request) {
  const std::string merchant_id = request.parameter("merchantId");
  const auto body = parse_body(request.http.body, limits_);
  const auto* unit = body && body->is_object() ? body->find("nombaAmountUnit") : nullptr;
  const bool valid =
      unit != nullptr && (unit->is_null() || (unit->is_string() && (unit->as_string() == "minor" ||
                                                                    unit->as_string() == "major")));
  if (!valid) {
    ApiError problem{ErrorCode::validation_error,
                     "the body must be {\"nombaAmountUnit\": \"minor\", \"major\" or null}",
                     {},
                     {},
                     {}};
    problem.details.push_back({"nombaAmountUnit", "must be \"minor\", \"major\" or null"});
    co_return views::error_response(problem, clock_.now());
  }
  std::optional<std::string> value;
  if (unit->is_string()) {
    value = unit->as_string();
  }
  if (!co_await store_.call(&Store::set_merchant_nomba_amount_unit, merchant_id, value)) {
    co_return error_answer(ErrorCode::merchant_not_found, "no merchant " + merchant_id,
                           clock_.now());
  }
  spdlog::info("merchant {}: Nomba amount unit {}", merchant_id, value.value_or("default"));
  auto lookup = co_await find_merchant(merchant_id);
  if (!lookup.merchant) {
    co_return std::move(lookup.not_found);
  }
  co_return json_answer(200, merchant_json(*lookup.merchant));
}

RouteAnswer AdminRoutes::create_api_key(RouteRequest request) {
  const std::string merchant_id = request.parameter("merchantId");
  auto lookup = co_await find_merchant(merchant_id);
  if (!lookup.merchant) {
    co_return std::move(lookup.not_found);
  }
  const auto key = new_api_key(merchant_id, clock_.now());
  co_await store_.call(&Store::insert_api_key, key);
  spdlog::info("API key {} created for merchant {}", key.api_key, merchant_id);
  co_return json_answer(201, json::object({{"apiKey", json::Value(key.api_key)},
                                           {"apiSecret", json::Value(key.api_secret.reveal())}}));
}

RouteAnswer AdminRoutes::revoke_api_key(RouteRequest request) {
  const std::string merchant_id = request.parameter("merchantId");
  const std::string api_key = request.parameter("apiKey");
  auto lookup = co_await find_merchant(merchant_id);
  if (!lookup.merchant) {
    co_return std::move(lookup.not_found);
  }
  const auto now = clock_.now();
  if (!co_await store_.call(&Store::revoke_api_key, merchant_id, api_key, now)) {
    co_return error_answer(ErrorCode::route_not_found,
                           "no active API key " + api_key + " for merchant " + merchant_id, now);
  }
  co_return no_content();
}

RouteAnswer AdminRoutes::create_device(RouteRequest request) {
  const std::string merchant_id = request.parameter("merchantId");
  auto lookup = co_await find_merchant(merchant_id);
  if (!lookup.merchant) {
    co_return std::move(lookup.not_found);
  }
  const auto body = parse_optional_body(request.http.body, limits_);
  ApiError problem{ErrorCode::validation_error, "the device request is not valid", {}, {}, {}};
  if (!body || !body->is_object()) {
    problem.details.push_back({"body", "must be a JSON object {deviceId?, label?}"});
    co_return views::error_response(problem, clock_.now());
  }
  const auto* requested_id = body->find("deviceId");
  const auto* label = body->find("label");
  problem.details = device_problems(requested_id, label);
  if (!problem.details.empty()) {
    co_return views::error_response(problem, clock_.now());
  }
  auto created =
      new_device(merchant_id, string_or_empty(requested_id), string_or_empty(label), clock_.now());
  const domain::Secret secret = std::move(created.device_secret);
  const store::DeviceRecord device = std::move(created.record);
  if (!co_await store_.call(&Store::insert_device, device)) {
    co_return error_answer(ErrorCode::device_id_taken,
                           "device id " + device.device_id + " is taken", clock_.now());
  }
  spdlog::info("device {} created for merchant {}", device.device_id, merchant_id);
  co_return json_answer(201, json::object({{"deviceId", json::Value(device.device_id)},
                                           {"deviceSecret", json::Value(secret.reveal())},
                                           {"merchantId", json::Value(merchant_id)},
                                           {"label", json::Value(device.label)}}));
}

}  // namespace tillgate::api
