# Writes OUTPUT, a C++ source holding every file under WEB_DIR (the browser console,
# docs/console.md) with the path it is served at, its Content-Type and a strong ETag (the
# first 128 bits of its SHA-256), as tillgate::embedded::web_asset_table(). Run by a custom
# command at build time, so the gateway's build needs nothing but CMake:
#   cmake -DWEB_DIR=<dir> -DOUTPUT=<file.cpp> -P embed_web.cmake
# Served paths: WEB_DIR/index.html -> /console/, WEB_DIR/name.html -> /console/name,
# anything else -> /console/<path under WEB_DIR>. A file whose extension has no type below
# stops the build: nothing is served with a guessed type.
file(GLOB_RECURSE files RELATIVE "${WEB_DIR}" "${WEB_DIR}/*")
list(SORT files)
set(arrays "")
set(rows "")
set(index 0)
foreach(relative IN LISTS files)
  get_filename_component(extension "${relative}" LAST_EXT)
  string(TOLOWER "${extension}" extension)
  if(extension STREQUAL ".html")
    set(type "text/html; charset=utf-8")
  elseif(extension STREQUAL ".js")
    set(type "text/javascript; charset=utf-8")
  elseif(extension STREQUAL ".css")
    set(type "text/css; charset=utf-8")
  elseif(extension STREQUAL ".svg")
    set(type "image/svg+xml")
  elseif(extension STREQUAL ".png")
    set(type "image/png")
  elseif(extension STREQUAL ".ico")
    set(type "image/x-icon")
  elseif(extension STREQUAL ".json")
    set(type "application/json; charset=utf-8")
  elseif(extension STREQUAL ".txt")
    set(type "text/plain; charset=utf-8")
  else()
    message(FATAL_ERROR "embed_web: ${relative} has no known Content-Type; add its extension")
  endif()
  if(relative STREQUAL "index.html")
    set(served "/console/")
  elseif(extension STREQUAL ".html" AND NOT relative MATCHES "/")
    string(REGEX REPLACE "\\.html$" "" stem "${relative}")
    set(served "/console/${stem}")
  else()
    set(served "/console/${relative}")
  endif()
  if(NOT served MATCHES "^[A-Za-z0-9/._-]+$")
    message(FATAL_ERROR "embed_web: ${relative}: only A-Z a-z 0-9 / . _ - in served paths")
  endif()
  file(SHA256 "${WEB_DIR}/${relative}" digest)
  string(SUBSTRING "${digest}" 0 32 etag)
  file(READ "${WEB_DIR}/${relative}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND arrays "const unsigned char asset_${index}[] = {${bytes}0x00};\n")
  string(APPEND rows "      {\"${served}\", \"${type}\", \"\\\"${etag}\\\"\", "
                     "text(asset_${index}, ${size})},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE "${OUTPUT}.tmp"
  "// Generated at build time from web/ by cmake/embed_web.cmake. Do not edit.\n"
  "#include <string_view>\n#include <vector>\n\n"
  "#include \"api/console_assets.hpp\"\n\n"
  "namespace tillgate::embedded {\nnamespace {\n\n"
  "std::string_view text(const unsigned char* bytes, std::size_t size) {\n"
  "  return {reinterpret_cast<const char*>(bytes), size};\n}\n\n"
  "// clang-format off\n${arrays}// clang-format on\n\n"
  "}  // namespace\n\n"
  "const std::vector<api::ConsoleAsset>& web_asset_table() {\n"
  "  static const std::vector<api::ConsoleAsset> table = {\n${rows}  };\n"
  "  return table;\n}\n\n"
  "}  // namespace tillgate::embedded\n")
# Only a changed file is rewritten, so an unchanged web/ recompiles nothing.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
