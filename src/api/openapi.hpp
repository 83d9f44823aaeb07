#pragma once
// The OpenAPI 3.1 document of every public route (docs/openapi.json, embedded at build time).
#include <string_view>

namespace tillgate::api {

[[nodiscard]] std::string_view openapi_document();

}  // namespace tillgate::api
