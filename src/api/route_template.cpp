#include "api/route_template.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "json/json.hpp"
#include "metrics/gateway_metrics.hpp"

namespace tillgate::api {

namespace {

bool is_parameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return out;
}

}  // namespace

RouteTemplates::RouteTemplates(std::vector<std::pair<std::string, std::string>> operations) {
  operations_.reserve(operations.size());
  for (auto& [method, path_template] : operations) {
    auto segments = path_segments(path_template);
    operations_.push_back({std::move(method), std::move(path_template), std::move(segments)});
  }
}

RouteTemplates RouteTemplates::from_openapi(std::string_view document) {
  static constexpr std::array<std::string_view, 7> kMethods = {"get",    "head",  "post",   "put",
                                                               "delete", "patch", "options"};
  const auto parsed = json::parse(document, json::ParseLimits{128});
  const auto* paths = parsed ? parsed->find("paths") : nullptr;
  if (paths == nullptr || !paths->is_object()) {
    throw std::invalid_argument("the OpenAPI document has no paths object");
  }
  std::vector<std::pair<std::string, std::string>> operations;
  for (const auto& item : paths->as_object()) {
    if (!item.value.is_object()) {
      continue;
    }
    for (const auto& operation : item.value.as_object()) {
      for (const auto method : kMethods) {
        if (operation.key == method) {
          operations.emplace_back(upper(method), item.key);
        }
      }
    }
  }
  return RouteTemplates(std::move(operations));
}

std::string_view RouteTemplates::match(std::string_view method, std::string_view path) const {
  const auto parts = path_segments(path);
  const Operation* best = nullptr;
  for (const auto& operation : operations_) {
    if (operation.method != method || operation.segments.size() != parts.size()) {
      continue;
    }
    bool matches = true;
    for (std::size_t i = 0; i < parts.size() && matches; ++i) {
      const auto& segment = operation.segments[i];
      matches = is_parameter(segment) ? !parts[i].empty() : segment == parts[i];
    }
    if (!matches) {
      continue;
    }
    if (best == nullptr) {
      best = &operation;
      continue;
    }
    // The first place where one has a literal and the other a parameter decides.
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const bool literal = !is_parameter(operation.segments[i]);
      const bool best_literal = !is_parameter(best->segments[i]);
      if (literal != best_literal) {
        if (literal) {
          best = &operation;
        }
        break;
      }
    }
  }
  return best != nullptr ? std::string_view(best->path_template) : metrics::kRouteUnmatched;
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
