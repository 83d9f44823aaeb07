// Pairing (one-time codes, POST /v1/devices/pair) and revocation (DELETE /v1/devices/{id}).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "api/provisioning.hpp"
#include "api/router.hpp"
#include "crypto/crypto.hpp"

namespace tillgate::api {

namespace asio = boost::asio;
using net::HttpRequest;
using net::HttpResponse;
using store::Store;

namespace {

// 31 characters: no 0/O, no 1/I/L, so a code read aloud or off a screen is typed right.
constexpr std::string_view kCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
constexpr std::size_t kCodeLength = 8;
// A store insert fails only when the new code's hash is already in the table (a used or
// live code: about one in 10^6 after a million codes); a fresh code is drawn then.
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
  const auto length = character_count(value->as_string());
  if (length < min_chars || length > max_chars) {
    return min_chars == 0
               ? "must be a string of at most " + std::to_string(max_chars) + " characters"
               : "must be a string of " + std::to_string(min_chars) + "-" +
                     std::to_string(max_chars) + " characters";
  }
  return std::nullopt;
}

enum class RevokeOutcome { revoked, already_revoked, not_found };

}  // namespace

asio::awaitable<HttpResponse> Router::create_pairing_code(std::string merchant_id,
                                                          HttpRequest request) {
  auto body =
      request.body.empty()
          ? boost::system::result<json::Value, json::ParseError>(json::Value(json::Object{}))
          : json::parse(request.body, json::ParseLimits{settings_.request_limits.max_json_depth});
  ApiError problem{ErrorCode::validation_error,
                   "the pairing code request is not valid: see details",
                   {},
                   std::nullopt,
                   std::nullopt};
  if (!body || !body->is_object()) {
    problem.details.push_back({"body", "must be empty or a JSON object {label?}"});
    co_return error_response(problem, clock_.now());
  }
  const auto* label = body->find("label");
  if (auto label_problem = string_problem(label, 0, 200, false)) {
    problem.details.push_back({"label", std::move(*label_problem)});
    co_return error_response(problem, clock_.now());
  }
  const auto now = clock_.now();
  const auto expires_at = now + settings_.pairing_code_ttl;
  store::PairingCodeRecord record{{},
                                  merchant_id,
                                  label && label->is_string() ? label->as_string() : std::string(),
                                  now,
                                  expires_at};
  auto insert_pairing_code_in_store = [record](Store& store) mutable {
    for (int attempt = 1;; ++attempt) {
      std::string code = new_pairing_code();
      record.code_hash = crypto::sha256_hex(code);
      try {
        store.insert_pairing_code(record);
        return code;
      } catch (const store::StoreError&) {
        if (attempt == kCodeInsertAttempts) {
          throw;
        }
      }
    }
  };
  const std::string code = co_await store_.call(std::move(insert_pairing_code_in_store));
  spdlog::info("pairing code created for merchant {}, valid until {}", merchant_id,
               domain::format_iso8601(expires_at));
  co_return json_response(
      201, json::object({{"code", json::Value(code)},
                         {"expiresAt", json::Value(domain::format_iso8601(expires_at))}}));
}

asio::awaitable<HttpResponse> Router::pair_device(HttpRequest request) {
  auto body = json::parse(request.body, json::ParseLimits{settings_.request_limits.max_json_depth});
  ApiError problem{ErrorCode::validation_error,
                   "the pairing request is not valid: see details",
                   {},
                   std::nullopt,
                   std::nullopt};
  if (!body || !body->is_object()) {
    problem.details.push_back({"body", "must be a JSON object {code, serialNumber, model?}"});
    co_return error_response(problem, clock_.now());
  }
  const auto* code = body->find("code");
  if (code == nullptr || code->is_null() || !code->is_string() || code->as_string().empty()) {
    problem.details.push_back(
        {"code", code == nullptr || code->is_null() || code->is_string()
                     ? "is required: the 8-character pairing code the merchant gave you"
                     : "must be a string, not " + std::string(code->type_name())});
  }
  const auto* serial_number = body->find("serialNumber");
  if (auto serial_problem = string_problem(serial_number, 1, 64, true)) {
    problem.details.push_back({"serialNumber", std::move(*serial_problem)});
  }
  const auto* model = body->find("model");
  if (auto model_problem = string_problem(model, 0, 64, false)) {
    problem.details.push_back({"model", std::move(*model_problem)});
  }
  if (!problem.details.empty()) {
    co_return error_response(problem, clock_.now());
  }

  const std::string normalized = normalize_pairing_code(code->as_string());
  if (!is_pairing_code(normalized)) {
    co_return error(ErrorCode::invalid_pairing_code,
                    "this pairing code is unknown, already used or expired: ask the merchant for "
                    "a new code (8 characters, valid 10 minutes)");
  }
  json::Object metadata{{"serialNumber", json::Value(serial_number->as_string())}};
  if (model != nullptr && model->is_string()) {
    metadata.push_back({"model", json::Value(model->as_string())});
  }
  const auto now = clock_.now();
  auto created = new_device(std::string(), std::string(), std::string(), now);
  created.record.metadata_json = json::serialize(json::Value(std::move(metadata)));
  const std::string secret = std::move(created.device_secret);
  auto pair_device_in_store = [code_hash = crypto::sha256_hex(normalized),
                               device = std::move(created.record), now](Store& store) {
    return store.pair_device(code_hash, device, now);
  };
  const auto paired = co_await store_.call(std::move(pair_device_in_store));
  if (!paired) {
    spdlog::info("pairing refused: unknown, used or expired code");
    co_return error(ErrorCode::invalid_pairing_code,
                    "this pairing code is unknown, already used or expired: ask the merchant for "
                    "a new code (8 characters, valid 10 minutes)");
  }
  spdlog::info("device {} paired for merchant {}", paired->device_id, paired->merchant_id);
  co_return json_response(201, json::object({{"deviceId", json::Value(paired->device_id)},
                                             {"deviceSecret", json::Value(secret)},
                                             {"merchantId", json::Value(paired->merchant_id)}}));
}

// Revoking twice answers 204 both times (docs/decisions.md): the retry of a DELETE whose
// answer was lost must not look like a failure. Another merchant's device, or an unknown
// one, is 404 exactly as if it did not exist.
asio::awaitable<HttpResponse> Router::delete_device(std::string merchant_id,
                                                    std::string device_id) {
  const auto now = clock_.now();
  auto revoke_device_in_store = [merchant_id, device_id, now](Store& store) {
    if (store.revoke_device(merchant_id, device_id, now)) {
      return RevokeOutcome::revoked;
    }
    const auto device = store.find_device(device_id);
    if (device && device->merchant_id == merchant_id && device->revoked_at) {
      return RevokeOutcome::already_revoked;
    }
    return RevokeOutcome::not_found;
  };
  const auto outcome = co_await store_.call(std::move(revoke_device_in_store));
  if (outcome == RevokeOutcome::not_found) {
    co_return error(ErrorCode::terminal_not_found, "no terminal " + device_id);
  }
  // On a repeat too: it costs nothing and leaves no connection of a revoked device open.
  terminals_.revoke(device_id);
  if (outcome == RevokeOutcome::revoked) {
    spdlog::info("device {} of merchant {} revoked", device_id, merchant_id);
  }
  co_return HttpResponse{204, {}, "application/json; charset=utf-8", {}};
}

}  // namespace tillgate::api
