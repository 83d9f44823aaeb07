// Pairing (one-time codes, POST /v1/devices/pair) and revocation (DELETE /v1/devices/{id}).
#include "api/device_routes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

#include "api/answers.hpp"
#include "api/provisioning.hpp"
#include "crypto/crypto.hpp"

namespace tillgate::api {

using store::Store;
using views::ApiError;
using views::ErrorCode;

namespace {

// 31 characters: no 0/O, no 1/I/L, so a code read aloud or off a screen is typed right.
constexpr std::string_view kCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
constexpr std::size_t kCodeLength = 8;
// A new code's hash is taken only by a used or live code (about one in 10^6 after a
// million codes); a fresh code is drawn then.
constexpr int kCodeInsertAttempts = 3;

// Uniform over the alphabet: bytes at or above the largest multiple of 31 that fits in a
// byte (248) are thrown away rather than folded in with a modulo.
std::string new_pairing_code() {
  constexpr auto kAlphabetSize = static_cast<unsigned>(kCodeAlphabet.size());
  constexpr unsigned kAcceptBelow = 256 / kAlphabetSize * kAlphabetSize;
  std::string code;
  while (code.size() < kCodeLength) {
    for (const char byte : crypto::random_bytes(kCodeLength * 2)) {
      const auto value = static_cast<unsigned char>(byte);
      if (value < kAcceptBelow && code.size() < kCodeLength) {
        code += kCodeAlphabet[value % kAlphabetSize];
      }
    }
  }
  return code;
}

// What a person typed into the terminal, as the code was issued: upper case, with the
// spaces and hyphens of "abcd-2345" or "ABCD 2345" dropped (neither is in the alphabet).
std::string normalize_pairing_code(std::string_view typed) {
  std::string code;
  for (const char c : typed) {
    if (c == ' ' || c == '-') {
      continue;
    }
    code += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return code;
}

bool is_pairing_code(std::string_view code) {
  return code.size() == kCodeLength && std::all_of(code.begin(), code.end(), [](char c) {
           return kCodeAlphabet.find(c) != std::string_view::npos;
         });
}

// Characters (code points) of valid UTF-8, as JSON Schema's maxLength counts them.
std::size_t character_count(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
}

// nullopt: valid (absent or null allowed when optional); otherwise the problem.
std::optional<std::string> string_problem(const json::Value* value, std::size_t min_chars,
                                          std::size_t max_chars, bool required) {
  if (value == nullptr || value->is_null()) {
    if (!required) {
      return std::nullopt;
    }
    return "is required: a string of " + std::to_string(min_chars) + "-" +
           std::to_string(max_chars) + " characters";
  }
  if (!value->is_string()) {
    return "must be a string, not " + std::string(value->type_name());
  }
  if (value->as_string().find('\0') != std::string::npos) {
    return std::string(views::kNoNulCharacter);
  }
  const auto length = character_count(value->as_string());
  if (length < min_chars || length > max_chars) {
    return min_chars == 0
               ? "must be a string of at most " + std::to_string(max_chars) + " characters"
               : "must be a string of " + std::to_string(min_chars) + "-" +
                     std::to_string(max_chars) + " characters";
  }
  return std::nullopt;
}

constexpr std::string_view kUnknownCode =
    "this pairing code is unknown, already used or expired: ask the merchant for a new code (8 "
    "characters, valid 10 minutes)";

// The pairing request's problems, each with its field; empty when it is valid.
std::vector<views::FieldProblem> pairing_problems(const json::Value& body) {
  std::vector<views::FieldProblem> problems;
  const auto* code = body.find("code");
  if (code == nullptr || code->is_null() || !code->is_string() || code->as_string().empty()) {
    problems.push_back(
        {"code", code == nullptr || code->is_null() || code->is_string()
                     ? "is required: the 8-character pairing code the merchant gave you"
                     : "must be a string, not " + std::string(code->type_name())});
  }
  if (auto serial_problem = string_problem(body.find("serialNumber"), 1, 64, true)) {
    problems.push_back({"serialNumber", std::move(*serial_problem)});
  }
  if (auto model_problem = string_problem(body.find("model"), 0, 64, false)) {
    problems.push_back({"model", std::move(*model_problem)});
  }
  return problems;
}

// The metadata a paired device starts with: what it said about itself.
std::string pairing_metadata(const json::Value& body) {
  json::Object metadata{{"serialNumber", json::Value(body.find("serialNumber")->as_string())}};
  if (const auto* model = body.find("model"); model != nullptr && model->is_string()) {
    metadata.push_back({"model", json::Value(model->as_string())});
  }
  return json::serialize(json::Value(std::move(metadata)));
}

}  // namespace

DeviceRoutes::DeviceRoutes(store::AsyncStore& store, payments::TerminalPort& terminals,
                           const domain::Clock& clock, const DeviceRouteSettings& settings)
    : store_(store),
      terminals_(terminals),
      clock_(clock),
      pairing_code_ttl_(settings.pairing_code_ttl),
      limits_(settings.request_limits),
      pairing_limiter_(settings.pair_rate_limit_rps, 2.0 * settings.pair_rate_limit_rps,
                       settings.max_rate_limit_keys) {}

void DeviceRoutes::add_routes(RouteTable& table) {
  table.add(*this,
            {
                {"POST", "/v1/devices/codes", Auth::merchant, &DeviceRoutes::create_pairing_code},
                // A new terminal has no credentials: limited per client address instead.
                {"POST", "/v1/devices/pair", Auth::none, &DeviceRoutes::pair_device},
                {"DELETE", "/v1/devices/{deviceId}", Auth::merchant, &DeviceRoutes::revoke_device},
            });
}

boost::asio::awaitable<std::string> DeviceRoutes::insert_new_code(store::PairingCodeRecord record) {
  for (int attempt = 1; attempt <= kCodeInsertAttempts; ++attempt) {
    std::string code = new_pairing_code();
    record.code_hash = crypto::sha256_hex(code);
    if (co_await store_.call(&Store::insert_new_pairing_code, record)) {
      co_return code;
    }
  }
  throw store::StoreError("insert_new_pairing_code: every code drawn was taken");
}

RouteAnswer DeviceRoutes::create_pairing_code(RouteRequest request) {
  const auto body = parse_optional_body(request.http.body, limits_);
  ApiError problem{ErrorCode::validation_error,
                   "the pairing code request is not valid: see details",
                   {},
                   std::nullopt,
                   std::nullopt};
  if (!body || !body->is_object()) {
    problem.details.push_back({"body", "must be empty or a JSON object {label?}"});
    co_return views::error_response(problem, clock_.now());
  }
  const auto* label = body->find("label");
  if (auto label_problem = string_problem(label, 0, 200, false)) {
    problem.details.push_back({"label", std::move(*label_problem)});
    co_return views::error_response(problem, clock_.now());
  }
  const auto now = clock_.now();
  const auto expires_at = now + pairing_code_ttl_;
  const store::PairingCodeRecord record{
      {},
      request.merchant_id,
      label && label->is_string() ? label->as_string() : std::string(),
      now,
      expires_at};
  const std::string code = co_await insert_new_code(record);
  spdlog::info("pairing code created for merchant {}, valid until {}", request.merchant_id,
               domain::format_iso8601(expires_at));
  co_return json_answer(
      201, json::object({{"code", json::Value(code)},
                         {"expiresAt", json::Value(domain::format_iso8601(expires_at))}}));
}

RouteAnswer DeviceRoutes::pair_device(RouteRequest request) {
  if (auto refused = over_rate(pairing_limiter_, request.http.remote_address, clock_.now())) {
    co_return std::move(*refused);
  }
  const auto body = parse_body(request.http.body, limits_);
  ApiError problem{ErrorCode::validation_error,
                   "the pairing request is not valid: see details",
                   {},
                   std::nullopt,
                   std::nullopt};
  if (!body || !body->is_object()) {
    problem.details.push_back({"body", "must be a JSON object {code, serialNumber, model?}"});
    co_return views::error_response(problem, clock_.now());
  }
  problem.details = pairing_problems(*body);
  if (!problem.details.empty()) {
    co_return views::error_response(problem, clock_.now());
  }
  const std::string normalized = normalize_pairing_code(body->find("code")->as_string());
  if (!is_pairing_code(normalized)) {
    co_return error_answer(ErrorCode::invalid_pairing_code, std::string(kUnknownCode),
                           clock_.now());
  }
  const auto now = clock_.now();
  auto created = new_device(std::string(), std::string(), std::string(), now);
  created.record.metadata_json = pairing_metadata(*body);
  const std::string code_hash = crypto::sha256_hex(normalized);
  const auto paired = co_await store_.call(&Store::pair_device, code_hash, created.record, now);
  if (!paired) {
    spdlog::info("pairing refused: unknown, used or expired code");
    co_return error_answer(ErrorCode::invalid_pairing_code, std::string(kUnknownCode),
                           clock_.now());
  }
  spdlog::info("device {} paired for merchant {}", paired->device_id, paired->merchant_id);
  co_return json_answer(201,
                        json::object({{"deviceId", json::Value(paired->device_id)},
                                      {"deviceSecret", json::Value(created.device_secret.reveal())},
                                      {"merchantId", json::Value(paired->merchant_id)}}));
}

// Revoking twice answers 204 both times (docs/decisions.md): the retry of a DELETE whose
// answer was lost must not look like a failure. Another merchant's device, or an unknown
// one, is 404 exactly as if it did not exist.
RouteAnswer DeviceRoutes::revoke_device(RouteRequest request) {
  const std::string device_id = request.parameter("deviceId");
  const auto now = clock_.now();
  const auto outcome =
      co_await store_.call(&Store::revoke_merchant_device, request.merchant_id, device_id, now);
  if (outcome == store::DeviceRevokeOutcome::not_found) {
    co_return error_answer(ErrorCode::terminal_not_found, "no terminal " + device_id, clock_.now());
  }
  // On a repeat too: it costs nothing and leaves no connection of a revoked device open.
  terminals_.revoke(domain::DeviceId(device_id));
  if (outcome == store::DeviceRevokeOutcome::revoked) {
    spdlog::info("device {} of merchant {} revoked", device_id, request.merchant_id);
  }
  co_return no_content();
}

}  // namespace tillgate::api
