#include "api/payment_routes.hpp"

#include "api/answers.hpp"
#include "api/query.hpp"

namespace tillgate::api {

using payments::SubmitError;
using store::Store;

namespace {

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

ApiError problem_of(ErrorCode code, std::string message) {
  return ApiError{code, std::move(message), {}, std::nullopt, std::nullopt};
}

// The 504 of a payment whose terminal gave no final result in time.
ApiError timed_out(const std::string& transaction_id) {
  return ApiError{ErrorCode::timeout,
                  "the terminal gave no final result within the payment timeout; the "
                  "transaction goes on: read it with GET /v1/transactions/" +
                      transaction_id,
                  {},
                  transaction_id,
                  std::nullopt};
}

}  // namespace

const char* terminal_status(const domain::DeviceId& device_id,
                            const payments::TerminalPort& terminals,
                            const payments::PaymentCoordinator& coordinator,
                            const payments::TerminalsElsewhere& elsewhere) {
  if (terminals.connection(device_id)) {
    return "online";
  }
  if (coordinator.presence(device_id)) {
    return "reconnecting";
  }
  const auto remote = elsewhere.find(device_id.str());
  if (remote == elsewhere.end()) {
    return "offline";
  }
  return remote->second.presence == payments::TerminalPresence::connected ? "online"
                                                                          : "reconnecting";
}

namespace {

// The device's live connection: here, or connected on another node (since its claim there).
struct ConnectionView {
  std::string connection_id;
  domain::Timestamp connected_at;
  std::optional<domain::Timestamp> last_activity;  // known only here
};

std::optional<ConnectionView> connection_view(const domain::DeviceId& device_id,
                                              payments::TerminalPort& terminals,
                                              const payments::TerminalsElsewhere& elsewhere) {
  if (const auto here = terminals.connection(device_id)) {
    return ConnectionView{here->connection_id.str(), here->connected_at, here->last_activity};
  }
  const auto remote = elsewhere.find(device_id.str());
  if (remote != elsewhere.end() &&
      remote->second.presence == payments::TerminalPresence::connected) {
    return ConnectionView{remote->second.connection_id.str(), remote->second.since, std::nullopt};
  }
  return std::nullopt;
}

json::Value optional_time(const std::optional<domain::Timestamp>& at) {
  return at ? json::Value(domain::format_iso8601(*at)) : json::Value(nullptr);
}

}  // namespace

// One terminal of GET /v1/terminals, with its connection as the gateway sees it now.
json::Value terminal_view(const store::DeviceRecord& device, payments::TerminalPort& terminals,
                          const payments::PaymentCoordinator& coordinator,
                          const payments::TerminalsElsewhere& elsewhere) {
  const domain::DeviceId device_id(device.device_id);
  const auto connection = connection_view(device_id, terminals, elsewhere);
  const char* status = terminal_status(device_id, terminals, coordinator, elsewhere);
  auto metadata = json::parse(device.metadata_json);
  return json::object({
      {"terminalId", json::Value(device.device_id)},
      {"deviceId", json::Value(device.device_id)},
      {"connectionId", connection ? json::Value(connection->connection_id) : json::Value(nullptr)},
      {"label", json::Value(device.label)},
      {"status", json::Value(status)},
      {"connectedAt",
       optional_time(connection ? std::optional(connection->connected_at) : std::nullopt)},
      {"lastActivity", optional_time(connection ? connection->last_activity : std::nullopt)},
      {"metadata", metadata ? std::move(*metadata) : json::Value(json::Object{})},
  });
}

ApiError submit_problem(const payments::SubmitOutcome& outcome, const std::string& terminal_id,
                        std::string_view reference_name) {
  const auto transaction_id =
      outcome.transaction ? std::optional(outcome.transaction->transaction_id) : std::nullopt;
  switch (outcome.error.value_or(SubmitError::too_many_waiting)) {
    case SubmitError::terminal_not_found:
      return problem_of(ErrorCode::terminal_not_found, "no terminal " + terminal_id);
    case SubmitError::no_webhook_endpoints:
      return problem_of(ErrorCode::no_webhook_endpoints,
                        "webhookMode needs an active webhook endpoint: create one with POST "
                        "/v1/webhooks/endpoints, or send webhookMode false to wait for the result");
    case SubmitError::terminal_offline:
      return problem_of(ErrorCode::terminal_offline,
                        "terminal " + terminal_id + " is not connected to the gateway");
    case SubmitError::payment_in_progress:
      return problem_of(ErrorCode::payment_in_progress,
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
  return problem_of(ErrorCode::service_unavailable,
                    "too many payments are waiting; use webhookMode or retry shortly");
}

PaymentRoutes::PaymentRoutes(store::AsyncStore& store, payments::PaymentCoordinator& coordinator,
                             payments::TerminalPort& terminals, const domain::Clock& clock,
                             views::RequestLimits limits)
    : store_(store),
      coordinator_(coordinator),
      terminals_(terminals),
      clock_(clock),
      limits_(limits) {}

void PaymentRoutes::add_routes(RouteTable& table) {
  constexpr auto kMerchant = Auth::merchant;
  table.add(*this, {
                       {"POST", "/v1/terminals/{terminalId}/payments", kMerchant,
                        &PaymentRoutes::create_payment},
                       {"GET", "/v1/transactions/{transactionId}", kMerchant,
                        &PaymentRoutes::get_transaction},
                       {"GET", "/v1/transactions", kMerchant, &PaymentRoutes::list_transactions},
                       {"POST", "/v1/transactions/{transactionId}/cancel", kMerchant,
                        &PaymentRoutes::cancel_transaction},
                       {"GET", "/v1/terminals", kMerchant, &PaymentRoutes::list_terminals},
                   });
}

// Not a coroutine: the request, its parsed payment and the terminal's id are gone before a
// standard-mode payment waits, in answer_submitted()'s small frame.
RouteAnswer PaymentRoutes::create_payment(RouteRequest request) {
  std::string terminal_id = request.parameter("terminalId");
  auto parsed = parse_payment_request(request.http.body, limits_);
  if (!parsed) {
    ApiError problem{ErrorCode::validation_error, "the payment request is not valid: see details",
                     parsed.error(), std::nullopt, std::nullopt};
    return answered(error_response(problem, clock_.now()));
  }
  const bool webhook_mode = parsed->webhook_mode;
  auto submit = coordinator_.submit(domain::MerchantId(std::move(request.merchant_id)), terminal_id,
                                    std::move(*parsed));
  return answer_submitted(std::move(submit), std::move(terminal_id), webhook_mode);
}

// A held long-poll waits here: the submit's awaitable, the terminal's id and the mode.
RouteAnswer PaymentRoutes::answer_submitted(boost::asio::awaitable<payments::SubmitOutcome> submit,
                                            std::string terminal_id, bool webhook_mode) {
  const auto outcome = co_await std::move(submit);
  co_return submitted(outcome, terminal_id, webhook_mode);
}

// The answer to a submit: its error, 202 for a webhook-mode payment not final yet, 504 when
// the wait timed out, else 200 with the final transaction.
net::HttpResponse PaymentRoutes::submitted(const payments::SubmitOutcome& outcome,
                                           const std::string& terminal_id,
                                           bool webhook_mode) const {
  if (outcome.error) {
    return error_response(submit_problem(outcome, terminal_id, "transactionId"), clock_.now());
  }
  const auto& transaction = *outcome.transaction;
  if (webhook_mode && !domain::is_final(transaction.status)) {
    return json_answer(
        202, json::object({{"transactionId", json::Value(transaction.transaction_id)},
                           {"status", json::Value(domain::to_string(transaction.status))},
                           {"timestamp", json::Value(domain::format_iso8601(clock_.now()))}}));
  }
  if (outcome.timed_out) {
    return error_response(timed_out(transaction.transaction_id), clock_.now());
  }
  return json_text_answer(200, payment_answer(transaction, clock_.now()));
}

RouteAnswer PaymentRoutes::get_transaction(RouteRequest request) {
  const std::string transaction_id = request.parameter("transactionId");
  const auto transaction =
      co_await store_.read(&Store::find_transaction, request.merchant_id, transaction_id);
  if (!transaction) {
    co_return error_answer(ErrorCode::transaction_not_found, "no transaction " + transaction_id,
                           clock_.now());
  }
  co_return json_answer(200, with_timestamp(transaction_view(*transaction), clock_.now()));
}

RouteAnswer PaymentRoutes::list_terminals(RouteRequest request) {
  const auto devices = co_await store_.call(&Store::list_devices, request.merchant_id);
  auto elsewhere_query = coordinator_.terminals_elsewhere(domain::MerchantId(request.merchant_id));
  const auto elsewhere = co_await std::move(elsewhere_query);
  json::Array items;
  for (const auto& device : devices) {
    if (!device.revoked_at) {
      items.push_back(terminal_view(device, terminals_, coordinator_, elsewhere));
    }
  }
  const auto count = static_cast<std::int64_t>(items.size());
  co_return json_answer(
      200, json::object({{"terminals", json::Value(std::move(items))},
                         {"count", json::Value(count)},
                         {"timestamp", json::Value(domain::format_iso8601(clock_.now()))}}));
}

RouteAnswer PaymentRoutes::list_transactions(RouteRequest request) {
  store::TransactionQuery query;
  query.merchant_id = request.merchant_id;
  const auto problems = read_query(
      request.http.query,
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
  auto rows = co_await store_.call(&Store::list_transactions, query);
  co_return json_answer(
      200, list_page("transactions", std::move(rows), page_size, transaction_view, clock_.now()));
}

// Asks the terminal to abandon an unfinished payment; its answer decides (section 6).
RouteAnswer PaymentRoutes::cancel_transaction(RouteRequest request) {
  const std::string transaction_id = request.parameter("transactionId");
  auto cancel = coordinator_.cancel(domain::MerchantId(request.merchant_id),
                                    domain::TransactionId(transaction_id));
  const auto outcome = co_await std::move(cancel);
  if (outcome.error == payments::CancelError::transaction_not_found) {
    co_return error_answer(ErrorCode::transaction_not_found, "no transaction " + transaction_id,
                           clock_.now());
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
  co_return json_answer(202, with_timestamp(transaction_view(*outcome.transaction), clock_.now()));
}

}  // namespace tillgate::api
