// The Nomba-compatible edge's webhook routes (nomba-compat.md section 5): re-push and
// event logs over the same deliveries as the main API's (GET /v1/webhooks/deliveries and
// its retry). A Nomba event is named by its body's requestId (hooksRequestId); a re-push
// is the main API's manual retry of each of its deliveries, and the dispatcher is woken.
#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "api/answers.hpp"
#include "api/nomba_routes.hpp"
#include "api/query.hpp"

namespace tillgate::api {

using net::HttpResponse;
using nomba::NombaErrorKind;
using store::Store;

namespace {

// A requestId is a UUID (36 characters); anything much longer names nothing.
constexpr std::size_t kMaxRequestIdLength = 64;
// Nomba answers these routes with "code":"200", not the "00" of its other routes.
constexpr std::string_view kWebhookSuccessCode = "200";

HttpResponse refusal(NombaErrorKind kind, int status, std::string description) {
  HttpResponse response;
  response.status = status;
  response.body = json::serialize(nomba::nomba_error(kind, std::move(description)));
  return response;
}

HttpResponse invalid(std::string description) {
  return refusal(NombaErrorKind::validation, 400, std::move(description));
}

HttpResponse webhook_success(json::Value data) {
  return json_answer(200, json::object({{"code", json::Value(kWebhookSuccessCode)},
                                        {"description", json::Value("Success")},
                                        {"data", std::move(data)}}));
}

bool valid_request_id(const json::Value& value) {
  return value.is_string() && !value.as_string().empty() &&
         value.as_string().size() <= kMaxRequestIdLength;
}

json::Value string_array(const std::vector<std::string>& texts) {
  json::Array items;
  for (const auto& text : texts) {
    items.push_back(json::Value(text));
  }
  return json::Value(std::move(items));
}

// A day, YYYY-MM-DD (UTC), strictly: its first millisecond, or with `end_of_day` its last.
std::optional<domain::Timestamp> log_day(const std::string& text, bool end_of_day) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  const auto day = domain::parse_iso8601(text + "T00:00:00Z");
  if (!day || domain::format_iso8601(*day).substr(0, 10) != text) {
    return std::nullopt;  // 2024-02-30 is not a day
  }
  return end_of_day ? *day + std::chrono::hours(24) - std::chrono::milliseconds(1) : *day;
}

// The event-logs body: every member optional, each of its type; problems described.
struct LogRequest {
  store::NombaEventLogQuery query;
  std::string problems;
};

void add_problem(LogRequest& request, std::string_view problem) {
  request.problems += std::string(request.problems.empty() ? "" : "; ") + std::string(problem);
}

void read_log_date(const json::Value& body, std::string_view name, bool end_of_day,
                   LogRequest& request) {
  const auto* value = body.find(name);
  if (value == nullptr || value->is_null()) {
    return;
  }
  const auto day = value->is_string() ? log_day(value->as_string(), end_of_day) : std::nullopt;
  if (!day) {
    add_problem(request, std::string(name) + " must be a date YYYY-MM-DD");
    return;
  }
  (end_of_day ? request.query.created_to : request.query.created_from) = day;
}

void read_log_paging(const json::Value& body, LogRequest& request) {
  request.query.limit = kNombaDefaultPage;
  if (const auto* limit = body.find("limit"); limit != nullptr && !limit->is_null()) {
    const auto number = limit->is_number() ? limit->as_number().as_int64() : std::nullopt;
    if (!number || *number < 1 || *number > kNombaMaxPage) {
      add_problem(request, "limit " + std::string(kNombaLimitProblem));
    } else {
      request.query.limit = *number;
    }
  }
  if (const auto* token = body.find("pageToken"); token != nullptr && !token->is_null()) {
    const auto sequence = token->is_string() ? decode_cursor(token->as_string()) : std::nullopt;
    if (!sequence) {
      add_problem(request, "pageToken must be a pageToken a previous page answered");
    }
    request.query.before_sequence = sequence;
  }
}

LogRequest read_log_request(std::string_view text, std::size_t max_depth) {
  LogRequest request;
  json::Value body = json::Value(json::Object{});
  if (!text.empty()) {
    auto parsed = json::parse(text, json::ParseLimits{max_depth});
    body = parsed ? std::move(*parsed) : json::Value(nullptr);
  }
  if (!body.is_object()) {
    add_problem(request, "the body must be a JSON object");
    return request;
  }
  if (const auto* type = body.find("eventType"); type != nullptr && !type->is_null()) {
    if (!type->is_string() || type->as_string().empty()) {
      add_problem(request, "eventType must be a string such as payment_success");
    } else {
      request.query.event_type = type->as_string();
    }
  }
  read_log_date(body, "startDateTime", false, request);
  read_log_date(body, "endDateTime", true, request);
  const auto& from = request.query.created_from;
  const auto& to = request.query.created_to;
  if (from && to && *from > *to) {
    add_problem(request, "startDateTime must not be after endDateTime");
  }
  read_log_paging(body, request);
  return request;
}

json::Value log_item(const store::NombaEventLogRecord& log) {
  return json::object({
      {"webhookUrl", json::Value(log.url)},
      {"eventId", json::Value(log.event_id)},
      {"eventType", json::Value(log.event_type)},
      {"hookRequestId", json::Value(log.request_id)},
      {"responsePayload", log.response_body ? json::Value(*log.response_body) : json::Value()},
      {"responseHttpStatus", log.http_status ? json::Value(*log.http_status) : json::Value()},
  });
}

}  // namespace

boost::asio::awaitable<std::vector<std::string>> NombaRoutes::repush(
    std::string merchant_id, std::vector<std::string> request_ids) {
  std::vector<std::string> not_repushed;
  const auto now = clock_.now();
  bool scheduled_any = false;
  for (const auto& request_id : request_ids) {
    const auto delivery_ids =
        co_await store_.read(&Store::find_nomba_deliveries, merchant_id, request_id);
    bool scheduled = false;
    for (const auto& delivery_id : delivery_ids) {
      const auto result =
          co_await store_.call(&Store::retry_webhook_delivery, merchant_id, delivery_id, now);
      scheduled = scheduled || result.outcome == store::RetryOutcome::scheduled;
    }
    if (!scheduled) {
      not_repushed.push_back(request_id);
    } else {
      spdlog::info("nomba webhook {} of merchant {}: re-push requested", request_id, merchant_id);
    }
    scheduled_any = scheduled_any || scheduled;
  }
  if (scheduled_any) {
    webhooks_.notify();
  }
  co_return not_repushed;
}

// POST /v1/webhooks/re-push {hooksRequestId}. An id of another merchant is unknown here.
RouteAnswer NombaRoutes::repush_webhook(RouteRequest request) {
  const auto body = json::parse(request.http.body, json::ParseLimits{settings_.max_json_depth});
  const auto* id = body && body->is_object() ? body->find("hooksRequestId") : nullptr;
  if (id == nullptr || !valid_request_id(*id)) {
    co_return invalid(
        "the body must be a JSON object {hooksRequestId}: the requestId of a "
        "webhook this account was sent (a string of at most 64 characters)");
  }
  const std::string request_id = id->as_string();
  std::vector<std::string> request_ids{request_id};
  const auto missed = co_await repush(request.merchant_id, std::move(request_ids));
  if (!missed.empty()) {
    co_return refusal(NombaErrorKind::not_found, 404,
                      "no webhook with this hooksRequestId was sent to an active Nomba-format "
                      "endpoint of this account");
  }
  co_return webhook_success(json::object({{"hooksRequestId", json::Value(request_id)}}));
}

// POST /v1/webhooks/bulk-re-push {hooksRequestIds: [...]}: 1 to max_repush_ids ids; the
// known ones are re-pushed, the others answered in notFound.
RouteAnswer NombaRoutes::bulk_repush_webhooks(RouteRequest request) {
  const auto body = json::parse(request.http.body, json::ParseLimits{settings_.max_json_depth});
  const auto* ids = body && body->is_object() ? body->find("hooksRequestIds") : nullptr;
  const auto bound = std::to_string(settings_.max_repush_ids);
  if (ids == nullptr || !ids->is_array() || ids->as_array().empty() ||
      ids->as_array().size() > settings_.max_repush_ids) {
    co_return invalid("the body must be a JSON object {hooksRequestIds: [1 to " + bound +
                      " requestIds]}");
  }
  std::vector<std::string> request_ids;
  std::set<std::string> seen;
  for (const auto& id : ids->as_array()) {
    if (!valid_request_id(id)) {
      co_return invalid("each of hooksRequestIds must be a string of 1 to 64 characters");
    }
    if (seen.insert(id.as_string()).second) {
      request_ids.push_back(id.as_string());
    }
  }
  const auto missed = co_await repush(request.merchant_id, request_ids);
  std::vector<std::string> repushed;
  for (const auto& id : request_ids) {
    if (std::find(missed.begin(), missed.end(), id) == missed.end()) {
      repushed.push_back(id);
    }
  }
  co_return webhook_success(json::object(
      {{"hooksRequestIds", string_array(repushed)}, {"notFound", string_array(missed)}}));
}

// POST /v1/webhooks/event-logs {eventType?, startDateTime?, endDateTime?, limit?,
// pageToken?}: newest first; the dates are days (UTC) of the delivery's creation.
RouteAnswer NombaRoutes::webhook_event_logs(RouteRequest request) {
  auto parsed = read_log_request(request.http.body, settings_.max_json_depth);
  if (!parsed.problems.empty()) {
    co_return invalid("the event-logs request is not valid: " + parsed.problems);
  }
  parsed.query.merchant_id = request.merchant_id;
  const auto page_size = parsed.query.limit;
  parsed.query.limit = page_size + 1;  // one more row tells whether another page exists
  const auto query = parsed.query;
  auto rows = co_await store_.read(&Store::list_nomba_event_logs, query);
  json::Value page_token = trim_page(rows, page_size);
  json::Array list;
  for (const auto& row : rows) {
    list.push_back(log_item(row));
  }
  co_return webhook_success(
      json::object({{"list", json::Value(std::move(list))}, {"pageToken", std::move(page_token)}}));
}

}  // namespace tillgate::api
