// The Nomba-compatible edge's lists, for reconciliation (nomba-compat.md section 4): the
// transactions, filtered and paged newest first, and the terminals. Each transaction is
// the lookup's view.
#include <algorithm>
#include <map>

#include "api/answers.hpp"
#include "api/nomba_routes.hpp"
#include "api/payment_routes.hpp"
#include "api/query.hpp"
#include "domain/ids.hpp"

namespace tillgate::api {

using net::HttpResponse;
using nomba::NombaErrorKind;
using store::Store;

namespace {

HttpResponse invalid(const std::vector<FieldProblem>& problems) {
  std::string description = "the list request is not valid: ";
  for (std::size_t i = 0; i < problems.size(); ++i) {
    description += (i == 0 ? "" : "; ") + problems[i].field + " " + problems[i].problem;
  }
  HttpResponse response;
  response.status = 400;
  response.body =
      json::serialize(nomba::nomba_error(NombaErrorKind::validation, std::move(description)));
  return response;
}

// dateFrom / dateTo: an RFC 3339 time, or a day (YYYY-MM-DD, UTC) taken whole: from its
// first millisecond, to its last.
std::optional<domain::Timestamp> nomba_date(const std::string& text, bool end_of_day) {
  if (const auto at = domain::parse_iso8601(text)) {
    return at;
  }
  if (text.size() != 10) {
    return std::nullopt;
  }
  const auto day = domain::parse_iso8601(text + "T00:00:00Z");
  if (!day) {
    return std::nullopt;
  }
  return end_of_day ? *day + std::chrono::hours(24) - std::chrono::milliseconds(1) : *day;
}

// A transaction list's filters, from the query string and (POST) the body.
struct TransactionFilter {
  store::TransactionQuery query;
  std::optional<std::string> reference;  // transactionRef or merchantTxRef: one payment
  std::vector<FieldProblem> problems;
};

void apply_filter(const std::string& name, const std::string& value, TransactionFilter& filter) {
  auto& query = filter.query;
  if (name == "dateFrom" || name == "dateTo") {
    const auto at = nomba_date(value, name == "dateTo");
    if (!at) {
      filter.problems.push_back({name, "must be a date (2024-01-15) or an RFC 3339 UTC time"});
    }
    (name == "dateFrom" ? query.created_from : query.created_to) = at;
  } else if (name == "terminalId") {
    query.device_id = value;
  } else if (name == "status") {
    query.statuses = nomba::statuses_of_nomba_status(value);
    if (query.statuses.empty()) {
      filter.problems.push_back({"status", "must be SUCCESS, PAYMENT_FAILED, PENDING or REVERSED"});
    }
  } else if (name == "transactionRef" || name == "merchantTxRef") {
    if (filter.reference && *filter.reference != value) {
      filter.problems.push_back({name, "names another payment than the other reference"});
    } else if (!domain::is_valid_transaction_id(value)) {
      filter.problems.push_back({name, "must be 1-64 characters of A-Z a-z 0-9 . _ : -"});
    }
    filter.reference = value;
  }
}

// The POST body's filters: each a string; other members are ignored.
void read_filter_body(std::string_view text, std::size_t max_depth, TransactionFilter& filter) {
  if (text.empty()) {
    return;
  }
  const auto body = json::parse(text, json::ParseLimits{max_depth});
  if (!body || !body->is_object()) {
    filter.problems.push_back({"body", "must be a JSON object of filters"});
    return;
  }
  for (const std::string name :
       {"transactionRef", "merchantTxRef", "terminalId", "status", "dateFrom", "dateTo"}) {
    const auto* value = body->find(name);
    if (value == nullptr || value->is_null()) {
      continue;
    }
    if (!value->is_string()) {
      filter.problems.push_back({name, "must be a string"});
      continue;
    }
    apply_filter(name, value->as_string(), filter);
  }
}

// A Nomba list's limit (1 to kNombaMaxPage) or cursor: false for another parameter.
bool apply_nomba_page_param(const std::string& name, const std::string& value, std::int64_t& limit,
                            std::optional<std::int64_t>& cursor, std::vector<FieldProblem>& found) {
  if (!apply_page_param(name, value, limit, cursor, found)) {
    return false;
  }
  if (name == "limit" && limit > kNombaMaxPage) {
    found.push_back({"limit", std::string(kNombaLimitProblem)});
  }
  return true;
}

// limit (1-100, default 20) and cursor from the query string; on GET, dateFrom and dateTo.
void read_list_query(std::string_view text, bool dates, TransactionFilter& filter) {
  filter.query.limit = kNombaDefaultPage;
  auto problems = read_query(text, [&](const std::string& name, const std::string& value,
                                       std::vector<FieldProblem>& found) {
    if (apply_nomba_page_param(name, value, filter.query.limit, filter.query.before_sequence,
                               found)) {
      return;
    }
    if (dates && (name == "dateFrom" || name == "dateTo")) {
      apply_filter(name, value, filter);
    }
  });
  filter.problems.insert(filter.problems.end(), problems.begin(), problems.end());
}

// Whether one payment found by its reference passes the other filters.
bool passes(const store::TransactionRecord& transaction, const store::TransactionQuery& query) {
  const auto& statuses = query.statuses;
  return (!query.device_id || transaction.device_id == *query.device_id) &&
         (statuses.empty() ||
          std::find(statuses.begin(), statuses.end(), transaction.status) != statuses.end()) &&
         (!query.created_from || transaction.created_at >= *query.created_from) &&
         (!query.created_to || transaction.created_at <= *query.created_to) &&
         (!query.before_sequence || transaction.sequence < *query.before_sequence);
}

json::Value terminal_item(const store::DeviceRecord& device, payments::TerminalPort& terminals,
                          const payments::PaymentCoordinator& coordinator,
                          const payments::TerminalsElsewhere& elsewhere) {
  const domain::DeviceId device_id(device.device_id);
  const auto connection = terminals.connection(device_id);
  const char* status = terminal_status(device_id, terminals, coordinator, elsewhere);
  const auto serial = nomba::device_serial_number(device);
  const auto updated = connection ? connection->last_activity : device.created_at;
  return json::object({
      {"terminalId", json::Value(device.device_id)},
      {"serialNumber", serial ? json::Value(*serial) : json::Value(nullptr)},
      {"terminalLabel", json::Value(device.label)},
      {"accountId", json::Value(device.merchant_id)},
      {"status", json::Value(status)},
      {"createdAt", json::Value(nomba::format_nomba_time(device.created_at))},
      {"updatedAt", json::Value(nomba::format_nomba_time(updated))},
  });
}

}  // namespace

RouteAnswer NombaRoutes::filter_transactions(RouteRequest request) {
  return transactions_page(std::move(request.merchant_id), std::move(request.http.query),
                           std::move(request.http.body), true);
}

RouteAnswer NombaRoutes::list_transactions(RouteRequest request) {
  return transactions_page(std::move(request.merchant_id), std::move(request.http.query), {},
                           false);
}

RouteAnswer NombaRoutes::transactions_page(std::string merchant_id, std::string query,
                                           std::string body, bool with_body) {
  TransactionFilter filter;
  filter.query.merchant_id = merchant_id;
  read_list_query(query, !with_body, filter);
  if (with_body) {
    read_filter_body(body, settings_.max_json_depth, filter);
  }
  if (!filter.problems.empty()) {
    co_return invalid(filter.problems);
  }
  const auto page_size = filter.query.limit;
  std::vector<store::TransactionRecord> rows;
  if (filter.reference) {
    const std::string reference = *filter.reference;
    auto found = co_await store_.read(&Store::find_transaction, merchant_id, reference);
    if (found && passes(*found, filter.query)) {
      rows.push_back(std::move(*found));
    }
  } else {
    filter.query.limit = page_size + 1;  // one more row tells whether another page exists
    const auto transactions_query = filter.query;
    rows = co_await store_.read(&Store::list_transactions, transactions_query);
  }
  json::Value cursor = trim_page(rows, page_size);
  const auto devices = co_await store_.read(&Store::list_devices, merchant_id);
  std::map<std::string, const store::DeviceRecord*> by_id;
  for (const auto& device : devices) {
    by_id.emplace(device.device_id, &device);
  }
  json::Array results;
  for (const auto& row : rows) {
    const auto device = by_id.find(row.device_id);
    results.push_back(
        nomba::nomba_transaction_view(row, device == by_id.end() ? nullptr : device->second));
  }
  co_return json_answer(
      200, nomba::nomba_success(json::object(
               {{"results", json::Value(std::move(results))}, {"cursor", std::move(cursor)}})));
}

// GET /v1/accounts/terminals: the merchant's paired terminals (revoked ones left out), in
// pairing order, filtered by terminalId, serialNumber or terminalLabel (exact), paged by
// position.
RouteAnswer NombaRoutes::list_terminals(RouteRequest request) {
  std::int64_t limit = kNombaDefaultPage;
  std::optional<std::int64_t> start;
  std::map<std::string, std::string> wanted;
  const auto problems = read_query(
      request.http.query,
      [&](const std::string& name, const std::string& value, std::vector<FieldProblem>& found) {
        if (apply_nomba_page_param(name, value, limit, start, found)) {
          return;
        }
        if (name == "terminalId" || name == "serialNumber" || name == "terminalLabel") {
          wanted[name] = value;
        }
      });
  if (!problems.empty()) {
    co_return invalid(problems);
  }
  const std::string merchant_id = request.merchant_id;
  const auto devices = co_await store_.read(&Store::list_devices, merchant_id);
  auto elsewhere_query = coordinator_.terminals_elsewhere(domain::MerchantId(merchant_id));
  const auto elsewhere = co_await std::move(elsewhere_query);
  json::Array matching;
  for (const auto& device : devices) {
    auto item = terminal_item(device, terminals_, coordinator_, elsewhere);
    const bool match = std::all_of(wanted.begin(), wanted.end(), [&item](const auto& filter) {
      return item.find_string(filter.first) == std::optional<std::string_view>(filter.second);
    });
    if (!device.revoked_at && match) {
      matching.push_back(std::move(item));
    }
  }
  // The cursor is the position of the next page's first terminal.
  const auto first = static_cast<std::size_t>(std::max<std::int64_t>(start.value_or(0), 0));
  json::Array results;
  for (std::size_t i = first; i < matching.size() && results.size() < std::size_t(limit); ++i) {
    results.push_back(std::move(matching[i]));
  }
  const auto next = first + results.size();
  co_return json_answer(
      200, nomba::nomba_success(json::object(
               {{"results", json::Value(std::move(results))},
                {"cursor", next < matching.size()
                               ? json::Value(encode_cursor(static_cast<std::int64_t>(next)))
                               : json::Value(nullptr)}})));
}

}  // namespace tillgate::api
