#include "client/commands.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "client/cli_output.hpp"
#include "client/http_client.hpp"
#include "client/pos_commands.hpp"
#include "client/request_signer.hpp"
#include "json/json.hpp"

namespace tillgate::client {

namespace {

// The standard-mode wait is the server's payment timeout (90 s by default); the client
// waits a little longer so that it sees the server's own 504 rather than giving up first.
constexpr int default_pay_timeout_s = 130;
constexpr int default_admin_timeout_s = 30;

struct PayOptions {
  std::string terminal;
  std::string amount;
  std::string currency;
  std::string method;
  std::string transaction_id;
  bool webhook = false;
  std::string url = "http://127.0.0.1:8080";
  std::string ca_file;  // https://: CAs trusted for the gateway's certificate
  std::string api_key;
  std::string api_secret;
  int timeout_s = default_pay_timeout_s;
  bool json = false;
  bool ws = false;       // over the POS WebSocket API (pos_commands.hpp)
  bool sign_ws = false;  // --ws: sign the handshake
};

struct AdminOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string ca_file;
  std::string token;
  int timeout_s = default_admin_timeout_s;
  bool json = false;
  // Subcommand arguments.
  std::string name;
  std::string merchant_id;
  std::string api_key;
  std::string device_id;
  std::string label;
};

// Percent-encodes everything outside RFC 3986 "unreserved" for use as one path segment.
std::string encode_segment(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 0x0F]);
    }
  }
  return out;
}

HttpClient make_client(const std::string& url, const std::string& ca_file, int timeout_s) {
  const auto endpoint = parse_http_url(url);
  if (!endpoint) {
    fail("--url must look like http://HOST:PORT or https://HOST:PORT, got '" + url + "'");
  }
  try {
    return HttpClient(*endpoint, std::chrono::seconds(timeout_s), ca_file);
  } catch (const HttpError& e) {
    fail(std::string("--ca-file: ") + e.what());
  }
}

// Prints the error body of merchant-api.md section 2 (or whatever came instead).
void print_error(const HttpResponse& res) {
  const auto parsed = json::parse(res.body);
  if (parsed && parsed->is_object()) {
    print_error_body("HTTP " + std::to_string(res.status), *parsed);
    return;
  }
  std::cerr << "error: HTTP " << res.status << ": " << res.body << "\n";
}

// A non-2xx answer: print it (raw JSON too with --json) and exit 1.
void exit_unless_success(const HttpResponse& res, bool json_output) {
  if (res.status >= 200 && res.status <= 299) {
    return;
  }
  if (json_output) {
    std::cout << res.body << "\n";
  }
  print_error(res);
  throw CLI::RuntimeError(kExitFailure);
}

// Key: value lines for a flat object; nested values are printed as compact JSON.
void print_object(const json::Value& value, std::string_view indent = "") {
  if (!value.is_object()) {
    std::cout << indent << scalar_text(value) << "\n";
    return;
  }
  for (const auto& member : value.as_object()) {
    std::cout << indent << member.key << ": " << scalar_text(member.value) << "\n";
  }
}

// pay --ws: the same payment over the POS WebSocket API.
void run_pay_ws(const PayOptions& options) {
  if (options.webhook) {
    fail("--webhook does not apply to --ws: the result is always pushed");
  }
  PosPayOptions pos;
  pos.connect.url = options.url;
  pos.connect.ca_file = options.ca_file;
  pos.connect.api_key = options.api_key;
  pos.connect.api_secret = options.api_secret;
  pos.connect.sign = options.sign_ws;
  pos.terminal = options.terminal;
  pos.amount = options.amount;
  pos.currency = options.currency;
  pos.method = options.method;
  pos.transaction_id = options.transaction_id;
  pos.wait_s = options.timeout_s;
  pos.json = options.json;
  run_pos_pay(pos);
}

void run_pay(const PayOptions& options) {
  if (options.ws) {
    run_pay_ws(options);
    return;
  }
  if (options.api_key.empty() || options.api_secret.empty()) {
    fail("--api-key and --api-secret (or TILLGATE_API_KEY / TILLGATE_API_SECRET) are required");
  }
  auto client = make_client(options.url, options.ca_file, options.timeout_s);
  json::Object fields{{"amount", json::Value(options.amount)},
                      {"currency", json::Value(options.currency)},
                      {"paymentMethod", json::Value(options.method)}};
  if (!options.transaction_id.empty()) {
    fields.push_back({"transactionId", json::Value(options.transaction_id)});
  }
  if (options.webhook) {
    fields.push_back({"webhookMode", json::Value(true)});
  }
  const std::string body = json::serialize(json::Value(std::move(fields)));
  const std::string target = "/v1/terminals/" + encode_segment(options.terminal) + "/payments";
  HttpResponse res;
  try {
    res = send_signed(client, {options.api_key, options.api_secret}, "POST", target, body);
  } catch (const HttpError& e) {
    fail(e.what());
  }
  exit_unless_success(res, options.json);
  if (options.json) {
    std::cout << res.body << "\n";
    return;
  }
  const auto parsed = json::parse(res.body);
  if (!parsed || !parsed->is_object()) {
    fail("the gateway answered " + std::to_string(res.status) + " with a body that is not JSON");
  }
  print_payment_summary(*parsed);
}

// Runs one admin call and prints its answer; non-2xx exits 1.
void admin_call(const AdminOptions& options, std::string_view method, const std::string& target,
                const std::string& body = {}) {
  if (options.token.empty()) {
    fail("--token (or TILLGATE_ADMIN_TOKEN) is required");
  }
  auto client = make_client(options.url, options.ca_file, options.timeout_s);
  HttpResponse res;
  try {
    res = client.request(method, target, body, {{"Authorization", "Bearer " + options.token}});
  } catch (const HttpError& e) {
    fail(e.what());
  }
  exit_unless_success(res, options.json);
  if (options.json || res.body.empty()) {
    if (!res.body.empty()) {
      std::cout << res.body << "\n";
    } else if (!options.json) {
      std::cout << "ok (HTTP " << res.status << ")\n";
    }
    return;
  }
  const auto parsed = json::parse(res.body);
  if (!parsed) {
    std::cout << res.body << "\n";
    return;
  }
  // A listing prints one block per element; anything else prints as key: value lines.
  if (parsed->is_object()) {
    for (const auto& member : parsed->as_object()) {
      if (member.value.is_array()) {
        for (const auto& element : member.value.as_array()) {
          print_object(element);
          std::cout << "\n";
        }
        return;
      }
    }
  }
  print_object(*parsed);
}

void add_pay(CLI::App& app) {
  auto options = std::make_shared<PayOptions>();
  auto* pay = app.add_subcommand("pay", "Push a signed payment to a terminal and wait for it");
  pay->add_option("--terminal", options->terminal, "deviceId or connectionId")->required();
  pay->add_option("--amount", options->amount, "amount in major units, e.g. 12.34")->required();
  pay->add_option("--currency", options->currency, "ISO 4217 code, e.g. USD")->required();
  pay->add_option("--method", options->method, "CARD|CASH|MOBILE|OTHER")
      ->capture_default_str()
      ->default_val("CARD");
  pay->add_option("--transaction-id", options->transaction_id,
                  "your id for the payment (makes retries safe)");
  pay->add_flag("--webhook", options->webhook, "webhook mode: answer 202 at once");
  pay->add_option("--url", options->url, "gateway base URL (http:// or https://)")
      ->envname("TILLGATE_URL")
      ->capture_default_str();
  pay->add_option("--ca-file", options->ca_file,
                  "https://: PEM CAs to verify the gateway's certificate with (default: the "
                  "system's)")
      ->envname("TILLGATE_CA_FILE");
  pay->add_option("--api-key", options->api_key, "merchant API key")->envname("TILLGATE_API_KEY");
  pay->add_option("--api-secret", options->api_secret, "merchant API secret")
      ->envname("TILLGATE_API_SECRET");
  pay->add_option("--timeout", options->timeout_s, "seconds to wait for the answer")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  pay->add_flag("--json", options->json, "print the gateway's JSON answer as is");
  pay->add_flag("--ws", options->ws,
                "over the POS WebSocket API: exit 0 when approved, 2 when declined, "
                "cancelled or timed out, 1 on an error");
  pay->add_flag("--signed", options->sign_ws, "--ws: sign the handshake (x-signature)");
  pay->callback([options] { run_pay(*options); });
}

using AdminOptionsPtr = std::shared_ptr<AdminOptions>;

void add_admin_merchants(CLI::App& admin, const AdminOptionsPtr& o) {
  auto* merchants = admin.add_subcommand("merchants", "Merchants")->require_subcommand(1);
  merchants->fallthrough();
  auto* m_create = merchants->add_subcommand("create", "Create a merchant and its first key");
  m_create->fallthrough();
  m_create->add_option("--name", o->name, "merchant name")->required();
  m_create->callback([o] {
    admin_call(*o, "POST", "/admin/v1/merchants",
               json::serialize(json::object({{"name", json::Value(o->name)}})));
  });
  auto* m_list = merchants->add_subcommand("list", "List merchants");
  m_list->fallthrough();
  m_list->callback([o] { admin_call(*o, "GET", "/admin/v1/merchants"); });
  auto* m_get = merchants->add_subcommand("get", "Show one merchant");
  m_get->fallthrough();
  m_get->add_option("merchant_id", o->merchant_id, "merchantId")->required();
  m_get->callback(
      [o] { admin_call(*o, "GET", "/admin/v1/merchants/" + encode_segment(o->merchant_id)); });
}

void add_admin_keys(CLI::App& admin, const AdminOptionsPtr& o) {
  auto* keys = admin.add_subcommand("keys", "Merchant API keys")->require_subcommand(1);
  keys->fallthrough();
  auto* k_create = keys->add_subcommand("create", "Issue a new API key for a merchant");
  k_create->fallthrough();
  k_create->add_option("merchant_id", o->merchant_id, "merchantId")->required();
  k_create->callback([o] {
    admin_call(*o, "POST", "/admin/v1/merchants/" + encode_segment(o->merchant_id) + "/keys");
  });
  auto* k_revoke = keys->add_subcommand("revoke", "Revoke an API key");
  k_revoke->fallthrough();
  k_revoke->add_option("merchant_id", o->merchant_id, "merchantId")->required();
  k_revoke->add_option("api_key", o->api_key, "the API key to revoke")->required();
  k_revoke->callback([o] {
    admin_call(*o, "DELETE",
               "/admin/v1/merchants/" + encode_segment(o->merchant_id) + "/keys/" +
                   encode_segment(o->api_key));
  });
}

void add_admin_devices(CLI::App& admin, const AdminOptionsPtr& o) {
  auto* devices = admin.add_subcommand("devices", "Terminals")->require_subcommand(1);
  devices->fallthrough();
  auto* d_create = devices->add_subcommand("create", "Provision a terminal for a merchant");
  d_create->fallthrough();
  d_create->add_option("merchant_id", o->merchant_id, "merchantId")->required();
  d_create->add_option("--device-id", o->device_id, "choose the deviceId (default: generated)");
  d_create->add_option("--label", o->label, "a label for people");
  d_create->callback([o] {
    json::Object fields;
    if (!o->device_id.empty()) {
      fields.push_back({"deviceId", json::Value(o->device_id)});
    }
    if (!o->label.empty()) {
      fields.push_back({"label", json::Value(o->label)});
    }
    admin_call(*o, "POST", "/admin/v1/merchants/" + encode_segment(o->merchant_id) + "/devices",
               json::serialize(json::Value(std::move(fields))));
  });
}

// The options every admin subcommand shares (they fall through to it), then the
// subcommands, in the order --help lists them.
void add_admin(CLI::App& app) {
  auto o = std::make_shared<AdminOptions>();
  auto* admin = app.add_subcommand("admin", "Merchants, API keys and devices (admin API)");
  admin->require_subcommand(1);
  admin->add_option("--url", o->url, "gateway base URL (http:// or https://)")
      ->envname("TILLGATE_URL")
      ->capture_default_str();
  admin
      ->add_option("--ca-file", o->ca_file,
                   "https://: PEM CAs to verify the gateway's certificate with (default: the "
                   "system's)")
      ->envname("TILLGATE_CA_FILE");
  admin->add_option("--token", o->token, "admin bearer token")->envname("TILLGATE_ADMIN_TOKEN");
  admin->add_option("--timeout", o->timeout_s, "seconds to wait for each answer")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  admin->add_flag("--json", o->json, "print the gateway's JSON answer as is");
  add_admin_merchants(*admin, o);
  add_admin_keys(*admin, o);
  add_admin_devices(*admin, o);
}

}  // namespace

void register_commands(CLI::App& app) {
  add_pay(app);
  add_admin(app);
}

}  // namespace tillgate::client
