#pragma once
// Query strings and list cursors, shared by the list routes (transactions, deliveries).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/time.hpp"
#include "json/json.hpp"
#include "views/errors.hpp"
#include "views/payment_request_parser.hpp"
#include "views/transaction_view.hpp"

namespace tillgate::api {

// The error vocabulary, the payment request parser and the transaction views that every
// merchant-facing edge shares live in src/views; the API uses them by their short names.
using views::ApiError;
using views::error_response;
using views::ErrorCode;
using views::FieldProblem;
using views::parse_payment_request;
using views::payment_answer;
using views::payment_response;
using views::RequestLimits;
using views::transaction_view;

// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}}; nullopt on a malformed percent escape.
[[nodiscard]] std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(
    std::string_view query);

// A list cursor: opaque to merchants, "v1:<sequence>" inside (base64url).
[[nodiscard]] std::string encode_cursor(std::int64_t sequence);
[[nodiscard]] std::optional<std::int64_t> decode_cursor(std::string_view cursor);

// Reads a list route's query: each parameter goes to `apply(name, value, problems)`, which
// records what is wrong with it. The problems found; empty when the query is valid.
using ApplyQueryParam = std::function<void(const std::string& name, const std::string& value,
                                           std::vector<FieldProblem>& problems)>;
[[nodiscard]] std::vector<FieldProblem> read_query(std::string_view query,
                                                   const ApplyQueryParam& apply);

// The paging parameters every list route shares: `limit` (1-200) and `cursor` (a
// nextCursor as returned). True when `name` was one of them (a problem is recorded if its
// value is not valid); false for any other name.
bool apply_page_param(const std::string& name, const std::string& value, std::int64_t& limit,
                      std::optional<std::int64_t>& before_sequence,
                      std::vector<FieldProblem>& problems);

// A list page is fetched with one row more than `page_size`: that row only tells whether
// another page exists. Drops it and answers the next page's cursor (null on the last page).
template <typename Row>
[[nodiscard]] json::Value trim_page(std::vector<Row>& rows, std::int64_t page_size) {
  if (static_cast<std::int64_t>(rows.size()) <= page_size) {
    return json::Value(nullptr);
  }
  rows.resize(static_cast<std::size_t>(page_size));
  return json::Value(encode_cursor(rows.back().sequence));
}

// A list route's answer from the rows fetched (page_size + 1 of them at most):
// {<items_name>: [view(row), ...], "nextCursor", "timestamp"}.
template <typename Row, typename View>
[[nodiscard]] json::Value list_page(std::string_view items_name, std::vector<Row> rows,
                                    std::int64_t page_size, const View& view,
                                    domain::Timestamp now) {
  json::Value next_cursor = trim_page(rows, page_size);
  json::Array items;
  items.reserve(rows.size());
  for (const auto& row : rows) {
    items.push_back(view(row));
  }
  return json::object({{items_name, json::Value(std::move(items))},
                       {"nextCursor", std::move(next_cursor)},
                       {"timestamp", json::Value(domain::format_iso8601(now))}});
}

}  // namespace tillgate::api
