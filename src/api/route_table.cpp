#include "api/route_table.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "metrics/gateway_metrics.hpp"

namespace tillgate::api {

namespace {

bool is_parameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool shape_matches(const Route& route, const std::vector<std::string>& parts) {
  if (route.segments.size() != parts.size()) {
    return false;
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& segment = route.segments[i];
    if (is_parameter(segment) ? parts[i].empty() : segment != parts[i]) {
      return false;
    }
  }
  return true;
}

// Of two routes matching the same path, the one with a literal segment at the first place
// where one has a literal and the other a parameter; `best` (the earlier) on a tie.
const Route* more_literal(const Route& candidate, const Route* best) {
  if (best == nullptr) {
    return &candidate;
  }
  for (std::size_t i = 0; i < candidate.segments.size(); ++i) {
    const bool literal = !is_parameter(candidate.segments[i]);
    if (literal != !is_parameter(best->segments[i])) {
      return literal ? &candidate : best;
    }
  }
  return best;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// A path segment percent-decoded ("TXN%2F1" -> "TXN/1"); '+' stays '+' (that is a query's
// rule only). A '%' not followed by two hex digits is kept as it is: a client that did not
// encode "50%" still finds its transaction. The route was matched, and the signature
// checked, on the path exactly as sent.
std::string decode_segment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    const int high = i + 2 < segment.size() && segment[i] == '%' ? hex_value(segment[i + 1]) : -1;
    const int low = high >= 0 ? hex_value(segment[i + 2]) : -1;
    if (low >= 0) {
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(segment[i]);
    }
  }
  return out;
}

PathParameters parameters_of(const Route& route, std::vector<std::string>& parts) {
  PathParameters parameters;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& segment = route.segments[i];
    if (is_parameter(segment)) {
      parameters.emplace_back(segment.substr(1, segment.size() - 2), decode_segment(parts[i]));
    }
  }
  return parameters;
}

}  // namespace

const std::string& RouteRequest::parameter(std::string_view name) const {
  for (const auto& [parameter_name, value] : parameters) {
    if (parameter_name == name) {
      return value;
    }
  }
  throw std::out_of_range("the route has no path parameter " + std::string(name));
}

void RouteTable::add(std::string method, std::string path_template, Auth auth,
                     RouteHandler handler) {
  for (const auto& route : routes_) {
    if (route.method == method && route.path_template == path_template) {
      throw std::invalid_argument("route " + method + " " + path_template + " is there already");
    }
  }
  auto segments = path_segments(path_template);
  routes_.push_back(
      {std::move(method), std::move(path_template), auth, std::move(handler), std::move(segments)});
}

void RouteTable::add_unrouted(std::string prefix, Auth auth) {
  unrouted_.emplace_back(std::move(prefix), auth);
}

RouteTable::Match RouteTable::match(std::string_view method, std::string_view path,
                                    std::optional<Auth> excluded) const {
  auto parts = path_segments(path);
  const Route* route = nullptr;
  const Route* shape = nullptr;  // of any method
  for (const auto& candidate : routes_) {
    if (candidate.auth == excluded || !shape_matches(candidate, parts)) {
      continue;
    }
    shape = more_literal(candidate, shape);
    if (candidate.method == method) {
      route = more_literal(candidate, route);
    }
  }
  Match found;
  if (route != nullptr) {
    found.route = route;
    found.auth = route->auth;
    found.parameters = parameters_of(*route, parts);
  } else if (shape != nullptr && shape->auth != Auth::none) {
    found.auth = shape->auth;
  } else {
    std::size_t longest = 0;
    for (const auto& [prefix, auth] : unrouted_) {
      if (path.starts_with(prefix) && prefix.size() > longest) {
        longest = prefix.size();
        found.auth = auth;
      }
    }
  }
  return found;
}

std::string_view RouteTable::label(std::string_view method, std::string_view path) const {
  const auto found = match(method, path);
  return found.route != nullptr ? std::string_view(found.route->path_template)
                                : metrics::kRouteUnmatched;
}

std::string_view method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 7> kKnown = {"GET",    "HEAD",  "POST",   "PUT",
                                                             "DELETE", "PATCH", "OPTIONS"};
  for (const auto known : kKnown) {
    if (method == known) {
      return known;
    }
  }
  return metrics::kMethodUnknown;
}

std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> parts;
  if (path.empty() || path.front() != '/') {
    return parts;
  }
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

}  // namespace tillgate::api
