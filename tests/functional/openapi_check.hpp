#pragma once
// Checks real responses against docs/openapi.json: the route and status must be documented
// and a JSON body must validate against the documented schema. The validator implements
// the JSON Schema subset the document uses (type incl. type arrays, properties, required,
// additionalProperties, items, enum, const, $ref, oneOf/anyOf/allOf/not, minimum/maximum,
// minLength/maxLength, minItems/maxItems, pattern) and reports any other keyword as a
// violation, so a schema it cannot check never passes silently.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "client/http_client.hpp"
#include "json/json.hpp"

namespace tillgate::ft::openapi {

// One way a value disagrees with a schema.
struct Violation {
  std::string schema_path;    // "#/components/schemas/Error/properties/code"
  std::string instance_path;  // "/details/0/field"; "" is the whole value
  std::string message;        // "\"NOPE\" is not one of [...]"
};

std::string describe(const std::vector<Violation>& violations);

// An operation of the document: "POST /v1/terminals/{terminalId}/payments".
struct Operation {
  std::string method;         // lower case, as a key of the path item
  std::string path_template;  // "/v1/terminals/{terminalId}/payments"
  std::string pointer;        // "#/paths/~1v1~1terminals~1{terminalId}~1payments/post"
};

class Document {
 public:
  // Throws std::invalid_argument when `text` is not a JSON object.
  explicit Document(std::string_view text);

  // The document compiled into tillgate (the bytes of docs/openapi.json).
  static const Document& served();

  [[nodiscard]] const json::Value& root() const { return root_; }

  // The value at a local reference "#/a/b~1c" (JSON pointer, ~0 ~1 unescaped), or nullptr.
  [[nodiscard]] const json::Value* resolve(std::string_view ref) const;

  // Validates `instance` against the schema at `schema_pointer` ("#/components/schemas/X").
  [[nodiscard]] std::vector<Violation> validate(const json::Value& instance,
                                                std::string_view schema_pointer) const;
  // Validates against an inline schema; `schema_path` names it in violations.
  [[nodiscard]] std::vector<Violation> validate(const json::Value& instance,
                                                const json::Value& schema,
                                                const std::string& schema_path) const;

  // The documented operation for a request (the query is ignored); a template whose
  // segments are literal wins over one with parameters.
  [[nodiscard]] std::optional<Operation> find_operation(std::string_view method,
                                                        std::string_view target) const;

  // Every way this response disagrees with the document, each a full sentence; empty
  // when it agrees. An undocumented route may answer only an error with the Error body,
  // or, on a path documented for other methods, with an error body one of them documents
  // for that status (the Nomba routes answer a wrong method in Nomba's envelope).
  [[nodiscard]] std::vector<std::string> check_response(std::string_view method,
                                                        std::string_view target, int status,
                                                        const client::HeaderList& headers,
                                                        std::string_view body) const;

  // Schema keywords anywhere in the document that the validator does not implement, as
  // "pointer: keyword". Empty for a document this checker can fully check.
  [[nodiscard]] std::vector<std::string> unsupported_keywords() const;

 private:
  void validate_node(const json::Value& instance, const json::Value& schema,
                     const std::string& schema_path, const std::string& instance_path,
                     std::vector<Violation>& out, int depth) const;
  bool pattern_matches(const std::string& pattern, const std::string& text,
                       std::string& error) const;
  void collect_unsupported(const json::Value& schema, const std::string& path,
                           std::vector<std::string>& out) const;

  json::Value root_;
  mutable std::mutex regex_mutex_;
  mutable std::map<std::string, std::shared_ptr<const std::regex>> regexes_;
};

// Records a test failure (ADD_FAILURE) for each way `response` disagrees with the served
// document, naming the method, target, status, body and the schema path that failed.
void expect_documented(std::string_view method, std::string_view target,
                       const client::HttpResponse& response);

}  // namespace tillgate::ft::openapi
