#include "openapi_check.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <stdexcept>

#include "api/openapi.hpp"

namespace tillgate::ft::openapi {
namespace {

constexpr int kMaxDepth = 64;                // $ref chains and nesting; deeper means a cycle
constexpr std::size_t kMaxBodyShown = 1500;  // characters of a body quoted in a failure

// Keywords that only annotate: they never make a value invalid.
const std::set<std::string, std::less<>> kAnnotations = {
    "description", "title",    "examples",   "example",  "default",
    "format",      "$comment", "deprecated", "readOnly", "writeOnly"};

// Keywords validate_node() checks.
// clang-format off
const std::set<std::string, std::less<>> kAssertions = {
    "$ref", "type", "enum", "const", "properties", "required", "additionalProperties",
    "items", "minItems", "maxItems", "minProperties", "maxProperties", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "allOf",
    "anyOf", "oneOf", "not"};
// clang-format on

std::string escape_token(std::string_view token) {
  std::string out;
  for (const char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape_token(std::string_view token) {
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out += token[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

std::vector<std::string> split_path(std::string_view path) {
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

bool is_integer_text(const std::string& text) {
  return text.find_first_of(".eE") == std::string::npos;
}

double number_of(const json::Value& value) {
  return std::strtod(value.as_number().text.c_str(), nullptr);
}

bool has_type(const json::Value& instance, std::string_view type) {
  if (type == "null") {
    return instance.is_null();
  }
  if (type == "boolean") {
    return instance.is_bool();
  }
  if (type == "object") {
    return instance.is_object();
  }
  if (type == "array") {
    return instance.is_array();
  }
  if (type == "string") {
    return instance.is_string();
  }
  if (type == "number") {
    return instance.is_number();
  }
  if (type == "integer") {
    return instance.is_number() && is_integer_text(instance.as_number().text);
  }
  return false;
}

std::size_t code_points(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string shown(std::string_view text) {
  if (text.size() <= kMaxBodyShown) {
    return std::string(text);
  }
  return std::string(text.substr(0, kMaxBodyShown)) + "... (" + std::to_string(text.size()) +
         " bytes)";
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<std::string> header_of(const client::HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (client::iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

// "first problem" of a branch, for anyOf/oneOf summaries.
std::string first_problem(const std::vector<Violation>& violations) {
  if (violations.empty()) {
    return "(valid)";
  }
  const auto& v = violations.front();
  return v.schema_path + " at '" + v.instance_path + "': " + v.message;
}

// A documented path called with a method it does not document is answered in that
// path's envelope: the Nomba routes refuse a wrong method with a NombaError 404, not an
// Error. True when `body` matches the schema that one of the path's documented operations
// gives `status` (by status, then "4XX", then "default", as check_response resolves it).
bool is_error_of_path(const Document& document, std::string_view target, int status,
                      const json::Value& body) {
  const std::string status_key = std::to_string(status);
  for (const std::string_view method : {"get", "put", "post", "delete", "patch"}) {
    const auto operation = document.find_operation(method, target);
    if (!operation) {
      continue;
    }
    const auto* responses = document.resolve(operation->pointer + "/responses");
    if (responses == nullptr || !responses->is_object()) {
      continue;
    }
    const json::Value* response = nullptr;
    for (const std::string& key :
         {status_key, status_key.substr(0, 1) + "XX", std::string("default")}) {
      response = responses->find(key);
      if (response != nullptr) {
        break;
      }
    }
    for (int hops = 0; response != nullptr && hops < 8; ++hops) {
      const auto ref = response->find_string("$ref");
      if (!ref) {
        break;
      }
      response = document.resolve(*ref);
    }
    if (response == nullptr || !response->is_object()) {
      continue;
    }
    const auto* content = response->find("content");
    const auto* media = content != nullptr ? content->find("application/json") : nullptr;
    const auto* schema = media != nullptr ? media->find("schema") : nullptr;
    if (schema != nullptr && document.validate(body, *schema, operation->pointer).empty()) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string describe(const std::vector<Violation>& violations) {
  std::string out;
  for (const auto& v : violations) {
    out += "\n    schema " + v.schema_path + ", value at '" + v.instance_path + "': " + v.message;
  }
  return out;
}

Document::Document(std::string_view text) {
  auto parsed = json::parse(text, json::ParseLimits{128});
  if (!parsed || !parsed->is_object()) {
    throw std::invalid_argument("the OpenAPI document is not a JSON object" +
                                (parsed ? std::string() : ": " + parsed.error().message));
  }
  root_ = std::move(*parsed);
}

const Document& Document::served() {
  static const Document document(api::openapi_document());
  return document;
}

const json::Value* Document::resolve(std::string_view ref) const {
  if (ref.empty() || ref.front() != '#') {
    return nullptr;
  }
  const json::Value* node = &root_;
  if (ref.size() == 1) {
    return node;
  }
  for (const auto& token : split_path(ref.substr(1))) {
    const auto key = unescape_token(token);
    if (node->is_object()) {
      node = node->find(key);
    } else if (node->is_array()) {
      char* end = nullptr;
      const auto index = std::strtoul(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0' || index >= node->as_array().size()) {
        return nullptr;
      }
      node = &node->as_array()[index];
    } else {
      return nullptr;
    }
    if (node == nullptr) {
      return nullptr;
    }
  }
  return node;
}

std::vector<Violation> Document::validate(const json::Value& instance,
                                          std::string_view schema_pointer) const {
  const auto* schema = resolve(schema_pointer);
  if (schema == nullptr) {
    return {Violation{std::string(schema_pointer), "", "no such schema in the document"}};
  }
  return validate(instance, *schema, std::string(schema_pointer));
}

std::vector<Violation> Document::validate(const json::Value& instance, const json::Value& schema,
                                          const std::string& schema_path) const {
  std::vector<Violation> out;
  validate_node(instance, schema, schema_path, "", out, 0);
  return out;
}

bool Document::pattern_matches(const std::string& pattern, const std::string& text,
                               std::string& error) const {
  std::shared_ptr<const std::regex> compiled;
  {
    std::lock_guard lock(regex_mutex_);
    auto& slot = regexes_[pattern];
    if (!slot) {
      try {
        slot = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& failure) {
        regexes_.erase(pattern);
        error = "pattern " + pattern + " does not compile: " + failure.what();
        return false;
      }
    }
    compiled = slot;
  }
  return std::regex_search(text, *compiled);  // JSON Schema patterns are not anchored
}

void Document::validate_node(const json::Value& instance, const json::Value& schema,
                             const std::string& sp, const std::string& ip,
                             std::vector<Violation>& out, int depth) const {
  if (depth > kMaxDepth) {
    out.push_back({sp, ip, "schema nesting is too deep (a $ref cycle?)"});
    return;
  }
  if (schema.is_bool()) {
    if (!schema.as_bool()) {
      out.push_back({sp, ip, "no value is allowed here (schema false)"});
    }
    return;
  }
  if (!schema.is_object()) {
    out.push_back({sp, ip, "the schema is not an object or boolean"});
    return;
  }
  const auto fail = [&](const std::string& keyword, std::string message) {
    out.push_back({sp + "/" + escape_token(keyword), ip, std::move(message)});
  };
  for (const auto& member : schema.as_object()) {
    const std::string& key = member.key;
    const json::Value& value = member.value;
    const std::string here = sp + "/" + escape_token(key);
    if (kAnnotations.contains(key)) {
      continue;
    }
    if (key == "$ref") {
      const auto* target = value.is_string() ? resolve(value.as_string()) : nullptr;
      if (target == nullptr) {
        fail(key, "cannot resolve $ref " + json::serialize(value));
      } else {
        validate_node(instance, *target, value.as_string(), ip, out, depth + 1);
      }
    } else if (key == "type") {
      std::vector<std::string> names;
      if (value.is_string()) {
        names.push_back(value.as_string());
      } else if (value.is_array()) {
        for (const auto& name : value.as_array()) {
          names.push_back(name.is_string() ? name.as_string() : json::serialize(name));
        }
      }
      const bool ok = std::any_of(names.begin(), names.end(), [&](const std::string& name) {
        return has_type(instance, name);
      });
      if (!ok) {
        fail(key, "expected type " + json::serialize(value) + ", got " +
                      std::string(instance.type_name()) + " " + shown(json::serialize(instance)));
      }
    } else if (key == "enum") {
      const bool ok = value.is_array() &&
                      std::any_of(value.as_array().begin(), value.as_array().end(),
                                  [&](const json::Value& allowed) { return allowed == instance; });
      if (!ok) {
        fail(key, shown(json::serialize(instance)) + " is not one of " + json::serialize(value));
      }
    } else if (key == "const") {
      if (!(value == instance)) {
        fail(key, shown(json::serialize(instance)) + " is not " + json::serialize(value));
      }
    } else if (key == "properties") {
      if (instance.is_object() && value.is_object()) {
        for (const auto& property : value.as_object()) {
          if (const auto* present = instance.find(property.key)) {
            validate_node(*present, property.value, here + "/" + escape_token(property.key),
                          ip + "/" + escape_token(property.key), out, depth + 1);
          }
        }
      }
    } else if (key == "required") {
      if (instance.is_object() && value.is_array()) {
        for (const auto& name : value.as_array()) {
          if (name.is_string() && instance.find(name.as_string()) == nullptr) {
            fail(key, "the required member \"" + name.as_string() + "\" is missing");
          }
        }
      }
    } else if (key == "additionalProperties") {
      if (instance.is_object()) {
        const auto* properties = schema.find("properties");
        for (const auto& present : instance.as_object()) {
          if (properties != nullptr && properties->find(present.key) != nullptr) {
            continue;
          }
          if (value.is_bool() && !value.as_bool()) {
            fail(key, "the member \"" + present.key +
                          "\" is not documented (additionalProperties is false)");
          } else {
            validate_node(present.value, value, here, ip + "/" + escape_token(present.key), out,
                          depth + 1);
          }
        }
      }
    } else if (key == "items") {
      if (instance.is_array()) {
        const auto& items = instance.as_array();
        for (std::size_t i = 0; i < items.size(); ++i) {
          validate_node(items[i], value, here, ip + "/" + std::to_string(i), out, depth + 1);
        }
      }
    } else if (key == "minItems" || key == "maxItems") {
      if (instance.is_array()) {
        const auto size = static_cast<double>(instance.as_array().size());
        const bool ok = key == "minItems" ? size >= number_of(value) : size <= number_of(value);
        if (!ok) {
          fail(key, "has " + std::to_string(instance.as_array().size()) + " items; " + key +
                        " is " + value.as_number().text);
        }
      }
    } else if (key == "minProperties" || key == "maxProperties") {
      if (instance.is_object()) {
        const auto size = static_cast<double>(instance.as_object().size());
        const bool ok =
            key == "minProperties" ? size >= number_of(value) : size <= number_of(value);
        if (!ok) {
          fail(key, "has " + std::to_string(instance.as_object().size()) + " members; " + key +
                        " is " + value.as_number().text);
        }
      }
    } else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
               key == "exclusiveMaximum") {
      if (instance.is_number()) {
        const double x = number_of(instance);
        const double bound = number_of(value);
        const bool ok = key == "minimum"            ? x >= bound
                        : key == "maximum"          ? x <= bound
                        : key == "exclusiveMinimum" ? x > bound
                                                    : x < bound;
        if (!ok) {
          fail(key, instance.as_number().text + " is out of range (" + key + " " +
                        value.as_number().text + ")");
        }
      }
    } else if (key == "minLength" || key == "maxLength") {
      if (instance.is_string()) {
        const auto length = code_points(instance.as_string());
        const auto bound = static_cast<std::size_t>(number_of(value));
        const bool ok = key == "minLength" ? length >= bound : length <= bound;
        if (!ok) {
          fail(key, "has " + std::to_string(length) + " characters; " + key + " is " +
                        value.as_number().text);
        }
      }
    } else if (key == "pattern") {
      if (instance.is_string() && value.is_string()) {
        std::string error;
        if (!pattern_matches(value.as_string(), instance.as_string(), error)) {
          fail(key, error.empty()
                        ? shown(json::serialize(instance)) + " does not match " + value.as_string()
                        : error);
        }
      }
    } else if (key == "allOf") {
      if (value.is_array()) {
        for (std::size_t i = 0; i < value.as_array().size(); ++i) {
          validate_node(instance, value.as_array()[i], here + "/" + std::to_string(i), ip, out,
                        depth + 1);
        }
      }
    } else if (key == "anyOf" || key == "oneOf") {
      if (value.is_array()) {
        std::size_t passing = 0;
        std::string branches;
        for (std::size_t i = 0; i < value.as_array().size(); ++i) {
          std::vector<Violation> branch;
          validate_node(instance, value.as_array()[i], here + "/" + std::to_string(i), ip, branch,
                        depth + 1);
          if (branch.empty()) {
            ++passing;
          }
          branches += "\n      branch " + std::to_string(i) + ": " + first_problem(branch);
        }
        if (passing == 0) {
          fail(key, "matches none of its " + std::to_string(value.as_array().size()) +
                        " branches:" + branches);
        } else if (key == "oneOf" && passing > 1) {
          fail(key, "matches " + std::to_string(passing) + " branches; exactly one must match");
        }
      }
    } else if (key == "not") {
      std::vector<Violation> branch;
      validate_node(instance, value, here, ip, branch, depth + 1);
      if (branch.empty()) {
        fail(key, "matches the schema it must not match");
      }
    } else {
      fail(key, "the keyword \"" + key + "\" is not supported by the test's validator");
    }
  }
}

std::optional<Operation> Document::find_operation(std::string_view method,
                                                  std::string_view target) const {
  const auto path = target.substr(0, target.find('?'));
  const auto segments = split_path(path);
  const auto* paths = root_.find("paths");
  if (paths == nullptr || !paths->is_object() || segments.empty()) {
    return std::nullopt;
  }
  const std::string method_key = lower(method);
  std::optional<Operation> best;
  int best_literals = -1;
  for (const auto& item : paths->as_object()) {
    if (!item.value.is_object() || item.value.find(method_key) == nullptr) {
      continue;
    }
    const auto pattern = split_path(item.key);
    if (pattern.size() != segments.size()) {
      continue;
    }
    int literals = 0;
    bool matches = true;
    for (std::size_t i = 0; i < pattern.size() && matches; ++i) {
      const bool parameter =
          pattern[i].size() > 2 && pattern[i].front() == '{' && pattern[i].back() == '}';
      if (parameter) {
        matches = !segments[i].empty();
      } else {
        matches = pattern[i] == segments[i];
        ++literals;
      }
    }
    if (matches && literals > best_literals) {
      best_literals = literals;
      best =
          Operation{method_key, item.key, "#/paths/" + escape_token(item.key) + "/" + method_key};
    }
  }
  return best;
}

std::vector<std::string> Document::check_response(std::string_view method, std::string_view target,
                                                  int status, const client::HeaderList& headers,
                                                  std::string_view body) const {
  std::vector<std::string> problems;
  const auto path = target.substr(0, target.find('?'));
  const auto operation = find_operation(method, target);
  if (!operation) {
    // Hostile and negative tests reach routes that do not exist: those may answer only an
    // error, with the Error body.
    if (status < 400) {
      problems.push_back("no operation " + std::string(method) + " " + std::string(path) +
                         " is documented, yet it answered " + std::to_string(status));
      return problems;
    }
    auto parsed = json::parse(body);
    if (!parsed) {
      problems.push_back("an undocumented route's error body is not JSON: " +
                         parsed.error().message);
      return problems;
    }
    const auto violations = validate(*parsed, "#/components/schemas/Error");
    if (!violations.empty() && !is_error_of_path(*this, target, status, *parsed)) {
      problems.push_back(
          "an undocumented route's error body is not an Error (nor an error its path "
          "documents for another method):" +
          describe(violations));
    }
    return problems;
  }
  const std::string where = std::string(method) + " " + operation->path_template;
  const auto* responses = resolve(operation->pointer + "/responses");
  if (responses == nullptr || !responses->is_object()) {
    problems.push_back(where + " documents no responses");
    return problems;
  }
  const std::string status_key = std::to_string(status);
  std::string response_pointer;
  for (const std::string& key :
       {status_key, status_key.substr(0, 1) + "XX", std::string("default")}) {
    if (responses->find(key) != nullptr) {
      response_pointer = operation->pointer + "/responses/" + key;
      break;
    }
  }
  if (response_pointer.empty()) {
    std::string documented;
    for (const auto& member : responses->as_object()) {
      documented += (documented.empty() ? "" : ", ") + member.key;
    }
    problems.push_back("status " + status_key + " is not documented for " + where +
                       " (documented: " + documented + ")");
    return problems;
  }
  const auto* response = resolve(response_pointer);
  for (int hops = 0; response != nullptr && response->find("$ref") != nullptr && hops < 8; ++hops) {
    response_pointer = std::string(response->find_string("$ref").value_or(""));
    response = resolve(response_pointer);
  }
  if (response == nullptr || !response->is_object()) {
    problems.push_back("the response object " + response_pointer + " does not resolve");
    return problems;
  }
  if (const auto* documented_headers = response->find("headers");
      documented_headers != nullptr && documented_headers->is_object()) {
    for (const auto& member : documented_headers->as_object()) {
      const json::Value* header = &member.value;
      std::string header_pointer = response_pointer + "/headers/" + escape_token(member.key);
      if (const auto ref = header->find_string("$ref")) {
        header_pointer = std::string(*ref);
        header = resolve(*ref);
      }
      if (header == nullptr) {
        problems.push_back("the header object " + header_pointer + " does not resolve");
        continue;
      }
      const auto present = header_of(headers, member.key);
      const auto* required = header->find("required");
      if (!present) {
        if (required != nullptr && required->is_bool() && required->as_bool()) {
          problems.push_back("the required header " + member.key + " (" + header_pointer +
                             ") is missing");
        }
        continue;
      }
      if (const auto* schema = header->find("schema")) {
        const auto* type = schema->find("type");
        const bool numeric = type != nullptr && type->is_string() &&
                             (type->as_string() == "integer" || type->as_string() == "number");
        json::Value value(*present);
        if (numeric) {
          auto parsed = json::parse(*present);
          value = parsed ? std::move(*parsed) : json::Value(*present);
        }
        const auto violations = validate(value, *schema, header_pointer + "/schema");
        if (!violations.empty()) {
          problems.push_back("the header " + member.key + ": " + *present +
                             " does not match its schema:" + describe(violations));
        }
      }
    }
  }
  const auto* content = response->find("content");
  if (content == nullptr) {
    if (!body.empty()) {
      problems.push_back(response_pointer + " documents no body, yet the answer has " +
                         std::to_string(body.size()) + " bytes");
    }
    return problems;
  }
  const auto* media = content->find("application/json");
  if (media == nullptr) {
    // A text answer (GET /metrics): the Content-Type, and the body as a JSON string.
    if (const auto* text = content->find("text/plain")) {
      const auto content_type = header_of(headers, "content-type").value_or("(none)");
      if (!content_type.starts_with("text/plain")) {
        problems.push_back("Content-Type is " + content_type + ", documented text/plain");
      }
      if (const auto* schema = text->find("schema")) {
        const auto violations = validate(json::Value(std::string(body)), *schema,
                                         response_pointer + "/content/text~1plain/schema");
        if (!violations.empty()) {
          problems.push_back("the body does not match the schema of " + where + " " + status_key +
                             ":" + describe(violations));
        }
      }
      return problems;
    }
    problems.push_back(response_pointer + " documents no application/json or text/plain content");
    return problems;
  }
  const auto content_type = header_of(headers, "content-type").value_or("(none)");
  if (content_type.find("application/json") == std::string::npos) {
    problems.push_back("Content-Type is " + content_type + ", documented application/json");
  }
  auto parsed = json::parse(body, json::ParseLimits{128});
  if (!parsed) {
    problems.push_back("the body is not JSON (" + parsed.error().message + ")");
    return problems;
  }
  if (const auto* schema = media->find("schema")) {
    const auto violations =
        validate(*parsed, *schema, response_pointer + "/content/application~1json/schema");
    if (!violations.empty()) {
      problems.push_back("the body does not match the schema of " + where + " " + status_key + ":" +
                         describe(violations));
    }
  }
  return problems;
}

void Document::collect_unsupported(const json::Value& schema, const std::string& path,
                                   std::vector<std::string>& out) const {
  if (!schema.is_object()) {
    if (!schema.is_bool()) {
      out.push_back(path + ": not a schema");
    }
    return;
  }
  for (const auto& member : schema.as_object()) {
    const std::string here = path + "/" + escape_token(member.key);
    if (kAnnotations.contains(member.key)) {
      continue;
    }
    if (!kAssertions.contains(member.key)) {
      out.push_back(path + ": " + member.key);
      continue;
    }
    if (member.key == "properties" && member.value.is_object()) {
      for (const auto& property : member.value.as_object()) {
        collect_unsupported(property.value, here + "/" + escape_token(property.key), out);
      }
    } else if (member.key == "additionalProperties" || member.key == "items" ||
               member.key == "not") {
      collect_unsupported(member.value, here, out);
    } else if ((member.key == "allOf" || member.key == "anyOf" || member.key == "oneOf") &&
               member.value.is_array()) {
      for (std::size_t i = 0; i < member.value.as_array().size(); ++i) {
        collect_unsupported(member.value.as_array()[i], here + "/" + std::to_string(i), out);
      }
    } else if (member.key == "$ref" &&
               (!member.value.is_string() || resolve(member.value.as_string()) == nullptr)) {
      out.push_back(path + ": unresolvable $ref " + json::serialize(member.value));
    }
  }
}

std::vector<std::string> Document::unsupported_keywords() const {
  std::vector<std::string> out;
  // Every schema: components/schemas/*, and each "schema" of a parameter, header or media
  // type anywhere outside the schemas themselves.
  const auto walk = [&](const auto& self, const json::Value& node,
                        const std::string& path) -> void {
    if (node.is_object()) {
      for (const auto& member : node.as_object()) {
        const std::string here = path + "/" + escape_token(member.key);
        if (member.key == "schema") {
          collect_unsupported(member.value, here, out);
        } else if (here == "#/components/schemas" && member.value.is_object()) {
          for (const auto& schema : member.value.as_object()) {
            collect_unsupported(schema.value, here + "/" + escape_token(schema.key), out);
          }
        } else {
          self(self, member.value, here);
        }
      }
    } else if (node.is_array()) {
      for (std::size_t i = 0; i < node.as_array().size(); ++i) {
        self(self, node.as_array()[i], path + "/" + std::to_string(i));
      }
    }
  };
  walk(walk, root_, "#");
  return out;
}

void expect_documented(std::string_view method, std::string_view target,
                       const client::HttpResponse& response) {
  const Document* document = nullptr;
  try {
    document = &Document::served();
  } catch (const std::exception& failure) {
    ADD_FAILURE() << "OpenAPI check: the served document does not load: " << failure.what();
    return;
  }
  const auto problems =
      document->check_response(method, target, response.status, response.headers, response.body);
  if (problems.empty()) {
    return;
  }
  std::string text;
  for (const auto& problem : problems) {
    text += "\n  " + problem;
  }
  ADD_FAILURE() << "OpenAPI check (docs/openapi.json): " << method << " " << target << " answered "
                << response.status << text << "\n  body: " << shown(response.body);
}

}  // namespace tillgate::ft::openapi
