#include "pos/pos_frames.hpp"

#include <utility>

#include "domain/transaction.hpp"
#include "views/transaction_view.hpp"

namespace tillgate::pos {

namespace {

json::Value stamp(domain::Timestamp now) {
  return json::Value(domain::format_iso8601(now));
}

// Every notification carries the merchant as "groupId" and "version": "v1".
std::string notification(json::Value body, const std::string& merchant_id, domain::Timestamp now) {
  auto& members = body.as_object();
  members.push_back({"timestamp", stamp(now)});
  members.push_back({"groupId", json::Value(merchant_id)});
  members.push_back({"version", json::Value("v1")});
  return json::serialize(body);
}

std::string_view presence_status(payments::TerminalPresence presence) {
  switch (presence) {
    case payments::TerminalPresence::connected:
      return "connected";
    case payments::TerminalPresence::reconnecting:
      return "reconnecting";
    case payments::TerminalPresence::gone:
      return "disconnected";
  }
  return "disconnected";
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Internal Server Error";
  }
}

std::string error_frame(const views::ApiError& error, const std::optional<std::string>& request_id,
                        domain::Timestamp now) {
  json::Object members{
      {"action", json::Value("error")},
      {"error", json::Value(reason_phrase(views::http_status(error.code)))},
      {"code", json::Value(views::wire_name(error.code))},
      {"message", json::Value(error.message)},
  };
  if (request_id) {
    members.push_back({"requestId", json::Value(*request_id)});
  }
  if (error.transaction_id) {
    members.push_back({"transactionId", json::Value(*error.transaction_id)});
  }
  if (!error.details.empty()) {
    json::Array details;
    for (const auto& problem : error.details) {
      details.push_back(json::object(
          {{"field", json::Value(problem.field)}, {"problem", json::Value(problem.problem)}}));
    }
    members.push_back({"details", json::Value(std::move(details))});
  }
  members.push_back({"timestamp", stamp(now)});
  return json::serialize(json::Value(std::move(members)));
}

std::string answer_frame(json::Value body, const std::optional<std::string>& request_id,
                         domain::Timestamp now) {
  auto& members = body.as_object();
  if (request_id) {
    members.push_back({"requestId", json::Value(*request_id)});
  }
  members.push_back({"timestamp", stamp(now)});
  return json::serialize(body);
}

std::optional<std::string> payment_notification(const store::TransactionRecord& transaction,
                                                const domain::EventId& event_id,
                                                domain::Timestamp now) {
  const auto text = views::payment_notification(transaction, event_id.str());
  if (!text) {
    return std::nullopt;
  }
  return notification(json::parse(*text).value(), transaction.merchant_id, now);
}

std::optional<std::string> replayed_notification(const store::PaymentEventRecord& event,
                                                 domain::Timestamp now) {
  auto body = json::parse(event.notification);
  if (!body || !body->is_object()) {
    return std::nullopt;
  }
  return notification(std::move(*body), event.merchant_id, now);
}

std::string force_disconnect_frame(domain::Timestamp now) {
  return json::serialize(json::object(
      {{"action", json::Value("forceDisconnect")},
       {"reason", json::Value("NEW_CONNECTION")},
       {"message", json::Value("a newer connection with the same API key replaced this one")},
       {"timestamp", stamp(now)}}));
}

std::string terminal_status_frame(const payments::TerminalPresenceChanged& change,
                                  const json::Value* terminal_info, domain::Timestamp now) {
  json::Object members{{"action", json::Value("terminalStatusUpdate")},
                       {"terminalId", json::Value(change.device_id.str())}};
  if (terminal_info != nullptr) {
    members.push_back({"connectionId", terminal_info->find("connectionId") != nullptr
                                           ? *terminal_info->find("connectionId")
                                           : json::Value(nullptr)});
  }
  members.push_back({"deviceId", json::Value(change.device_id.str())});
  members.push_back({"status", json::Value(presence_status(change.presence))});
  if (terminal_info != nullptr) {
    members.push_back({"terminalInfo", *terminal_info});
  }
  return notification(json::Value(std::move(members)), change.merchant_id.str(), now);
}

}  // namespace tillgate::pos
