#include "api/openapi.hpp"

#include <cstddef>

// The bytes of docs/openapi.json, generated into the build tree by cmake/embed_file.cmake
// (see the root CMakeLists.txt) and rebuilt whenever the document changes.
namespace tillgate::embedded {
extern const unsigned char openapi_json[];
extern const std::size_t openapi_json_size;
}  // namespace tillgate::embedded

namespace tillgate::api {

std::string_view openapi_document() {
  return {reinterpret_cast<const char*>(embedded::openapi_json), embedded::openapi_json_size};
}

}  // namespace tillgate::api
