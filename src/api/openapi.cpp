#include "api/openapi.hpp"

namespace tillgate::api {

// Placeholder until docs/openapi.json is embedded by the build.
std::string_view openapi_document() {
  return R"({"openapi":"3.1.0","info":{"title":"Tillgate","version":"0.1.0"},"paths":{}})";
}

}  // namespace tillgate::api
