#pragma once
// The files of the browser console (web/), embedded at build time by cmake/embed_web.cmake
// into a generated source of this layer: each with the path it is served at, its
// Content-Type and its strong ETag. Static storage: the views live as long as the program.
#include <string_view>
#include <vector>

namespace tillgate::api {

struct ConsoleAsset {
  std::string_view path;          // "/console/", "/console/terminal", "/console/js/app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // "\"<32 hex digits of its SHA-256>\"", quotes included
  std::string_view body;
};

}  // namespace tillgate::api

namespace tillgate::embedded {

// Every file under web/, sorted by its path in web/.
[[nodiscard]] const std::vector<api::ConsoleAsset>& web_asset_table();

}  // namespace tillgate::embedded
