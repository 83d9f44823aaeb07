#include "api/console_routes.hpp"

#include <algorithm>

namespace tillgate::api {

namespace {

using net::HttpRequest;
using net::HttpResponse;

// Every answer is revalidated (the ETag makes that a 304 without a body): the files are
// not renamed per build, so a cached copy must never outlive the binary that served it.
constexpr std::string_view kCacheControl = "no-cache";

bool valid_host(std::string_view host) {
  if (host.empty() || host.size() > 255) {
    return false;
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '[' || c == ']';
  });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

HttpResponse redirect(std::string_view location, std::string_view host) {
  HttpResponse response;
  response.status = 302;
  response.content_type = "text/plain; charset=utf-8";
  response.body = "see " + std::string(location) + "\n";
  response.headers = console_security_headers(host);
  response.headers.emplace_back("Location", std::string(location));
  return response;
}

RouteAnswer serve_asset(const ConsoleAsset* asset, RouteRequest request) {
  co_return console_asset_answer(*asset, request.http);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> console_security_headers(std::string_view host) {
  std::string connect = "connect-src 'self'";
  if (valid_host(host)) {
    connect += " ws://" + std::string(host) + " wss://" + std::string(host);
  }
  std::string policy =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " + connect +
      "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  return {{"Content-Security-Policy", std::move(policy)},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"X-Frame-Options", "DENY"},
          {"Cross-Origin-Opener-Policy", "same-origin"},
          {"Cache-Control", std::string(kCacheControl)}};
}

bool if_none_match_matches(std::string_view if_none_match, std::string_view etag) {
  const auto opaque = [](std::string_view tag) {
    tag = trim(tag);
    return tag.starts_with("W/") ? tag.substr(2) : tag;
  };
  while (!if_none_match.empty()) {
    const auto comma = std::min(if_none_match.find(','), if_none_match.size());
    const auto tag = trim(if_none_match.substr(0, comma));
    if (tag == "*" || (!tag.empty() && opaque(tag) == opaque(etag))) {
      return true;
    }
    if_none_match.remove_prefix(std::min(comma + 1, if_none_match.size()));
  }
  return false;
}

HttpResponse console_asset_answer(const ConsoleAsset& asset, const HttpRequest& request) {
  HttpResponse response;
  response.headers = console_security_headers(request.header("host").value_or(""));
  response.headers.emplace_back("ETag", std::string(asset.etag));
  response.content_type = std::string(asset.content_type);
  const auto if_none_match = request.header("if-none-match");
  if (if_none_match && if_none_match_matches(*if_none_match, asset.etag)) {
    response.status = 304;
    return response;
  }
  response.body = std::string(asset.body);
  return response;
}

ConsoleRoutes::ConsoleRoutes(bool enabled) : enabled_(enabled) {}

bool ConsoleRoutes::serves(std::string_view path_template) {
  return path_template == "/" || path_template == "/console" ||
         path_template.starts_with("/console/");
}

void ConsoleRoutes::add_routes(RouteTable& table) {
  if (!enabled_) {
    return;
  }
  table.add(*this, {
                       {"GET", "/", Auth::none, &ConsoleRoutes::redirect_to_console},
                       {"GET", "/console", Auth::none, &ConsoleRoutes::redirect_to_console},
                   });
  for (const auto& asset : embedded::web_asset_table()) {
    const ConsoleAsset* served = &asset;
    table.add("GET", std::string(asset.path), Auth::none,
              [served](RouteRequest request) { return serve_asset(served, std::move(request)); });
  }
}

RouteAnswer ConsoleRoutes::redirect_to_console(RouteRequest request) {
  co_return redirect("/console/", request.http.header("host").value_or(""));
}

}  // namespace tillgate::api
