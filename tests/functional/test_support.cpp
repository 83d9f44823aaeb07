#include "test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <set>
#include <stdexcept>

#include "../support/run_shell.hpp"
#include "domain/time.hpp"
#include "openapi_check.hpp"

namespace tillgate::ft {

json::Value parse_json(const std::string& text) {
  auto parsed = json::parse(text);
  if (!parsed) {
    ADD_FAILURE() << "not JSON (" << parsed.error().message << "): " << text;
    return json::Value();
  }
  return std::move(*parsed);
}

bool is_iso8601_ms(std::string_view text) {
  static const std::regex pattern(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  return std::regex_match(text.begin(), text.end(), pattern) &&
         domain::parse_iso8601(text).has_value();
}

::testing::AssertionResult IsIsoMs(const json::Value* value) {
  if (value == nullptr) {
    return ::testing::AssertionFailure() << "absent";
  }
  if (!value->is_string()) {
    return ::testing::AssertionFailure() << "not a string: " << json::serialize(*value);
  }
  if (!is_iso8601_ms(value->as_string())) {
    return ::testing::AssertionFailure()
           << "'" << value->as_string() << "' is not YYYY-MM-DDTHH:MM:SS.mmmZ";
  }
  return ::testing::AssertionSuccess();
}

json::Value expect_error(const client::HttpResponse& res, int status, std::string_view code) {
  EXPECT_EQ(res.status, status) << res.body;
  auto body = parse_json(res.body);
  if (!body.is_object()) {
    ADD_FAILURE() << "error body is not a JSON object: " << res.body;
    return body;
  }
  EXPECT_EQ(body.find_string("code").value_or("(none)"), code) << res.body;
  const auto message = body.find_string("message");
  EXPECT_TRUE(message && !message->empty()) << "message missing: " << res.body;
  const auto request_id = body.find_string("requestId");
  EXPECT_TRUE(request_id && request_id->substr(0, 4) == "req_")
      << "requestId missing or not req_...: " << res.body;
  EXPECT_TRUE(IsIsoMs(body.find("timestamp"))) << res.body;
  const auto content_type = res.header("content-type").value_or("");
  EXPECT_NE(content_type.find("application/json"), std::string::npos)
      << "Content-Type: " << content_type;
  return body;
}

std::string payment_body(std::string_view amount, std::string_view currency,
                         std::string_view transaction_id, std::string_view payment_method) {
  json::Object fields{{"amount", json::Value(amount)},
                      {"currency", json::Value(currency)},
                      {"paymentMethod", json::Value(payment_method)}};
  if (!transaction_id.empty()) {
    fields.push_back({"transactionId", json::Value(transaction_id)});
  }
  return json::serialize(json::Value(std::move(fields)));
}

std::string payments_path(std::string_view terminal_id) {
  return "/v1/terminals/" + std::string(terminal_id) + "/payments";
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string string_at(const json::Value& value, std::string_view key) {
  return std::string(value.find_string(key).value_or(""));
}

std::string json_at(const json::Value& value, std::string_view key) {
  const auto* member = value.find(key);
  return member == nullptr ? std::string("(absent)") : json::serialize(*member);
}

std::optional<std::int64_t> int_at(const json::Value& value, std::string_view key) {
  const auto* member = value.find(key);
  if (member == nullptr || !member->is_number()) {
    return std::nullopt;
  }
  return member->as_number().as_int64();
}

struct SimulatedTerminal::Impl {
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
      boost::asio::make_work_guard(ioc)};
  std::unique_ptr<sim::TerminalSimulator> simulator;
  std::thread thread;
};

SimulatedTerminal::SimulatedTerminal(const GatewayProcess& gateway, const Device& device,
                                     std::string behavior, std::string journal_path)
    : impl_(std::make_unique<Impl>()) {
  sim::TerminalSimulatorOptions options;
  options.host = gateway.host();
  options.port = gateway.port();
  options.tls = gateway.tls();  // wss://
  options.ca_file = gateway.client_ca_file();
  options.device_id = device.device_id;
  options.device_secret = device.device_secret;
  const auto parsed = sim::parse_behavior(behavior);
  if (!parsed) {
    throw std::invalid_argument("bad behavior " + behavior);
  }
  options.behavior = *parsed;
  options.journal_path = std::move(journal_path);
  options.reconnect_delay = std::chrono::milliseconds(100);
  options.max_reconnect_delay = std::chrono::milliseconds(1000);
  impl_->simulator = std::make_unique<sim::TerminalSimulator>(impl_->ioc.get_executor(), options);
  impl_->simulator->start();
  impl_->thread = std::thread([im = impl_.get()] { im->ioc.run(); });
}

SimulatedTerminal::~SimulatedTerminal() {
  auto& im = *impl_;
  im.simulator->stop();
  (void)eventually([&im] { return im.simulator->status().stopped; }, std::chrono::seconds(15));
  im.work.reset();
  if (!im.simulator->status().stopped) {
    im.ioc.stop();
  }
  im.thread.join();
  im.simulator.reset();
}

sim::TerminalSimulatorStatus SimulatedTerminal::status() const {
  return impl_->simulator->status();
}

bool SimulatedTerminal::wait_online(std::chrono::milliseconds timeout) {
  return eventually([this] { return impl_->simulator->status().online; }, timeout);
}

namespace {

struct SecretRegistry {
  std::mutex mutex;
  std::set<std::string> secrets;
};

SecretRegistry& secret_registry() {
  static SecretRegistry registry;
  return registry;
}

void collect_secrets(const json::Value& value) {
  if (value.is_array()) {
    for (const auto& item : value.as_array()) {
      collect_secrets(item);
    }
  }
  if (!value.is_object()) {
    return;
  }
  for (const auto& member : value.as_object()) {
    if (member.value.is_string() &&
        (member.key == "apiSecret" || member.key == "deviceSecret" || member.key == "secret" ||
         member.key == "access_token" || member.key == "refresh_token")) {
      remember_secret(member.value.as_string());
    }
    collect_secrets(member.value);
  }
}

}  // namespace

void remember_secret(std::string_view secret) {
  if (secret.size() < 8) {
    return;  // too short to be a secret, and could match by chance
  }
  auto& registry = secret_registry();
  const std::lock_guard lock(registry.mutex);
  registry.secrets.emplace(secret);
}

void remember_secrets_in(const client::HttpResponse& response) {
  if (auto body = json::parse(response.body)) {
    collect_secrets(*body);
  }
}

void forget_secret(std::string_view secret) {
  auto& registry = secret_registry();
  const std::lock_guard lock(registry.mutex);
  registry.secrets.erase(std::string(secret));
}

std::vector<std::string> secrets_in(const std::string& log) {
  auto& registry = secret_registry();
  const std::lock_guard lock(registry.mutex);
  std::vector<std::string> found;
  for (const auto& secret : registry.secrets) {
    if (log.find(secret) != std::string::npos) {
      found.push_back(secret);
    }
  }
  return found;
}

client::HttpClient http_client_for(const GatewayProcess& gateway,
                                   std::chrono::milliseconds timeout) {
  return client::HttpClient(client::HttpEndpoint{gateway.host(), gateway.port(), gateway.tls()},
                            timeout, gateway.client_ca_file());
}

void GatewayTest::SetUp() {
  {
    auto& registry = secret_registry();
    const std::lock_guard lock(registry.mutex);
    registry.secrets.clear();
  }
  gateway_ = std::make_unique<GatewayProcess>(gateway_env());
  remember_secret(gateway_->admin_token());
}

void GatewayTest::TearDown() {
  if (gateway_) {
    for (const auto& secret : secrets_in(gateway_->stderr_text())) {
      ADD_FAILURE() << "a secret, signature or token the test handled is in the gateway's log: "
                    << secret.substr(0, 6) << "... (" << secret.size() << " characters)";
    }
  }
  if (HasFailure() && gateway_) {
    std::cerr << "---- gateway stderr (" << gateway_->stderr_path() << ") ----\n"
              << log_tail(gateway_->stderr_text()) << "---- end of gateway stderr ----\n";
  }
  gateway_.reset();
}

client::HttpClient GatewayTest::http(std::chrono::milliseconds timeout) {
  return http_client_for(*gateway_, timeout);
}

client::HttpResponse GatewayTest::admin(std::string_view method, std::string_view target,
                                        std::string_view body) {
  auto client = http();
  auto res = client.request(method, target, body,
                            {{"Authorization", "Bearer " + gateway_->admin_token()}});
  openapi::expect_documented(method, target, res);
  remember_secrets_in(res);
  return res;
}

Merchant GatewayTest::create_merchant(std::string_view name) {
  const auto res = admin("POST", "/admin/v1/merchants",
                         json::serialize(json::object({{"name", json::Value(name)}})));
  EXPECT_EQ(res.status, 201) << res.body;
  const auto body = parse_json(res.body);
  Merchant merchant{string_at(body, "merchantId"),
                    string_at(body, "name"),
                    {string_at(body, "apiKey"), string_at(body, "apiSecret")}};
  EXPECT_FALSE(merchant.merchant_id.empty()) << res.body;
  EXPECT_FALSE(merchant.credentials.api_key.empty()) << res.body;
  EXPECT_FALSE(merchant.credentials.api_secret.empty()) << res.body;
  return merchant;
}

Device GatewayTest::create_device(const Merchant& merchant, std::string_view device_id) {
  json::Object fields{{"label", json::Value("test till")}};
  if (!device_id.empty()) {
    fields.push_back({"deviceId", json::Value(device_id)});
  }
  const auto res = admin("POST", "/admin/v1/merchants/" + merchant.merchant_id + "/devices",
                         json::serialize(json::Value(std::move(fields))));
  EXPECT_EQ(res.status, 201) << res.body;
  const auto body = parse_json(res.body);
  Device device{string_at(body, "deviceId"), string_at(body, "deviceSecret"),
                string_at(body, "merchantId")};
  EXPECT_FALSE(device.device_id.empty()) << res.body;
  EXPECT_FALSE(device.device_secret.empty()) << res.body;
  if (!device_id.empty()) {
    EXPECT_EQ(device.device_id, device_id);
  }
  return device;
}

client::HttpResponse GatewayTest::signed_request(const Merchant& merchant, std::string_view method,
                                                 std::string_view target, std::string_view body) {
  auto client = http();
  const auto headers = client::sign_request(merchant.credentials, method, target, body);
  for (const auto& [name, value] : headers) {
    if (name == "x-signature") {
      remember_secret(value);
    }
  }
  auto res = client.request(method, target, body, headers);
  openapi::expect_documented(method, target, res);
  remember_secrets_in(res);
  if (target == "/v1/devices/codes" && res.status == 201) {
    if (const auto answer = json::parse(res.body); answer && answer->is_object()) {
      remember_secret(answer->find_string("code").value_or(""));
    }
  }
  return res;
}

client::HttpResponse GatewayTest::plain_request(std::string_view method, std::string_view target,
                                                std::string_view body,
                                                const client::HeaderList& headers) {
  for (const auto& [name, value] : headers) {
    if (client::iequals(name, "authorization")) {
      const auto space = value.find(' ');
      remember_secret(space == std::string::npos ? value : value.substr(space + 1));
    }
  }
  auto client = http();
  auto res = client.request(method, target, body, headers);
  openapi::expect_documented(method, target, res);
  remember_secrets_in(res);
  return res;
}

std::future<client::HttpResponse> GatewayTest::pay_async(const Merchant& merchant,
                                                         std::string_view terminal_id,
                                                         std::string body,
                                                         std::chrono::milliseconds timeout) {
  return std::async(
      std::launch::async,
      [endpoint = client::HttpEndpoint{gateway_->host(), gateway_->port(), gateway_->tls()},
       ca_file = gateway_->client_ca_file(), credentials = merchant.credentials,
       target = payments_path(terminal_id), body = std::move(body), timeout] {
        client::HttpClient client(endpoint, timeout, ca_file);
        const auto headers = client::sign_request(credentials, "POST", target, body);
        for (const auto& [name, value] : headers) {
          if (name == "x-signature") {
            remember_secret(value);
          }
        }
        auto res = client.request("POST", target, body, headers);
        openapi::expect_documented("POST", target, res);
        return res;
      });
}

client::HttpResponse GatewayTest::get_transaction(const Merchant& merchant, std::string_view id) {
  return signed_request(merchant, "GET", "/v1/transactions/" + std::string(id));
}

std::string GatewayTest::transaction_status(const Merchant& merchant, std::string_view id) {
  const auto res = get_transaction(merchant, id);
  if (res.status != 200) {
    return "(HTTP " + std::to_string(res.status) + ")";
  }
  return string_at(parse_json(res.body), "status");
}

std::string GatewayTest::terminal_status(const Merchant& merchant, std::string_view device_id) {
  const auto res = signed_request(merchant, "GET", "/v1/terminals");
  const auto body = parse_json(res.body);
  if (const auto* terminals = body.find("terminals"); terminals && terminals->is_array()) {
    for (const auto& terminal : terminals->as_array()) {
      if (string_at(terminal, "deviceId") == device_id) {
        return string_at(terminal, "status");
      }
    }
  }
  return "(not listed)";
}

HelloResult GatewayTest::connect_terminal(const Device& device) {
  HelloResult out;
  out.ws = std::make_unique<WsTestClient>(gateway_->host(), gateway_->port());
  out.ws->connect();
  EXPECT_TRUE(out.ws->send_json(hello_frame(device)));
  out.hello_ok = read_frame(*out.ws, "hello.ok");
  return out;
}

json::Value GatewayTest::read_frame(WsTestClient& ws, std::string_view type,
                                    std::chrono::milliseconds timeout) {
  const auto event = ws.read(timeout);
  if (event.kind != WsEvent::Kind::message) {
    ADD_FAILURE() << "expected a '" << type << "' frame, got "
                  << (event.kind == WsEvent::Kind::timeout
                          ? std::string("nothing (timeout)")
                          : "close " + std::to_string(event.close_code) + " " + event.detail);
    return json::Value();
  }
  auto frame = parse_json(event.text);
  EXPECT_EQ(frame.find_string("type").value_or("(none)"), type) << event.text;
  return frame;
}

json::Value hello_frame(const Device& device) {
  return json::object({{"type", json::Value("hello")},
                       {"deviceId", json::Value(device.device_id)},
                       {"deviceSecret", json::Value(device.device_secret)},
                       {"software", json::Value("functional-tests")}});
}

json::Value ack_frame(std::string_view transaction_id) {
  return json::object(
      {{"type", json::Value("payment.ack")}, {"transactionId", json::Value(transaction_id)}});
}

json::Value result_frame(std::string_view transaction_id, std::string_view status,
                         std::string_view authorization_code, std::string_view error_code,
                         std::string_view error_message) {
  json::Object fields{{"type", json::Value("payment.result")},
                      {"transactionId", json::Value(transaction_id)},
                      {"status", json::Value(status)}};
  if (!authorization_code.empty()) {
    fields.push_back({"authorizationCode", json::Value(authorization_code)});
  }
  fields.push_back({"receiptData", json::Value("functional test receipt")});
  if (!error_code.empty()) {
    fields.push_back({"errorCode", json::Value(error_code)});
    fields.push_back({"errorMessage", json::Value(error_message)});
  }
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  fields.push_back({"completedAt", json::Value(domain::format_iso8601(now))});
  return json::Value(std::move(fields));
}

::testing::AssertionResult NoFrameWithin(WsTestClient& ws, std::chrono::milliseconds window) {
  const auto event = ws.read(window);
  switch (event.kind) {
    case WsEvent::Kind::timeout:
      return ::testing::AssertionSuccess();
    case WsEvent::Kind::message:
      return ::testing::AssertionFailure() << "unexpected frame: " << event.text;
    case WsEvent::Kind::closed:
      return ::testing::AssertionFailure()
             << "unexpected close " << event.close_code << " " << event.detail;
  }
  return ::testing::AssertionFailure();
}

std::optional<client::HttpResponse> await_response(std::future<client::HttpResponse>& pending,
                                                   std::chrono::milliseconds timeout) {
  if (!pending.valid() || pending.wait_for(timeout) != std::future_status::ready) {
    return std::nullopt;
  }
  try {
    return pending.get();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string block_from_docs(std::string_view doc, std::string_view marker,
                            std::string_view language) {
  const std::string path = std::string(TILLGATE_SOURCE_DIR) + "/" + std::string(doc);
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::string line;
  bool marker_seen = false;
  bool inside = false;
  std::string block;
  while (std::getline(in, line)) {
    if (!marker_seen) {
      marker_seen = line == marker;
    } else if (!inside) {
      if (line.empty()) {
        continue;
      }
      if (line != "```" + std::string(language)) {
        ADD_FAILURE() << "the line after " << marker << " in " << doc << " is not ```" << language
                      << ": " << line;
        return {};
      }
      inside = true;
    } else if (line == "```") {
      return block;
    } else {
      block += line + "\n";
    }
  }
  ADD_FAILURE() << (marker_seen ? "the block after " + std::string(marker) + " is not closed"
                                : std::string(doc) + " has no line " + std::string(marker));
  return {};
}

std::string run_shell(const std::string& command) {
  return testing::run_shell(command);
}

// ---- RawConnection ----

namespace raw {

sockaddr_in ipv4(const std::string& address, std::uint16_t port) {
  sockaddr_in out{};
  out.sin_family = AF_INET;
  out.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &out.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: " + address);
  }
  return out;
}

}  // namespace raw

RawConnection::RawConnection(const std::string& host, std::uint16_t port,
                             const std::string& source_address) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  }
  const auto source = raw::ipv4(source_address, 0);
  const auto target = raw::ipv4(host, port);
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0 ||
      ::connect(fd_, reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect from " + source_address + ": " + why);
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int RawConnection::read_some(std::chrono::milliseconds timeout) {
  if (closed_) {
    return 0;
  }
  pollfd poll_fd{fd_, POLLIN, 0};
  if (::poll(&poll_fd, 1, static_cast<int>(timeout.count())) <= 0) {
    return -1;
  }
  char buffer[4096];
  const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) {
    closed_ = true;
    return 0;
  }
  received_.append(buffer, static_cast<std::size_t>(n));
  return static_cast<int>(n);
}

std::string RawConnection::read_until_close(std::chrono::milliseconds timeout) {
  (void)closed_within(timeout);
  return received_;
}

std::string RawConnection::read_until(std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received_.find(needle) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || read_some(left) <= 0) {
      break;
    }
  }
  return received_;
}

bool RawConnection::closed_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || read_some(left) < 0) {
      break;
    }
  }
  return closed_;
}

int healthz_status_from(const std::string& host, std::uint16_t port,
                        const std::string& source_address) {
  try {
    RawConnection connection(host, port, source_address);
    if (!connection.send("GET /healthz HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n")) {
      return 0;
    }
    const auto answer = connection.read_until_close(std::chrono::seconds(5));
    if (!answer.starts_with("HTTP/1.1 ")) {
      return 0;
    }
    return std::atoi(answer.c_str() + 9);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace tillgate::ft
