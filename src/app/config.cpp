#include "app/config.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <vector>

extern char** environ;

namespace tillgate::app {
namespace {

template <class Integer>
Integer parse_integer(const std::string& name, const std::string& text, Integer min_value,
                      Integer max_value) {
  Integer value{};
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || value < min_value || value > max_value) {
    throw ConfigError(name + " must be an integer from " + std::to_string(min_value) + " to " +
                      std::to_string(max_value) + ", got '" + text + "'");
  }
  return value;
}

int seconds(const std::string& name, const std::string& text) {
  return parse_integer<int>(name, text, 1, 7 * 24 * 3600);
}

bool boolean(const std::string& name, const std::string& text) {
  if (text == "1" || text == "true") {
    return true;
  }
  if (text == "0" || text == "false" || text.empty()) {
    return false;
  }
  throw ConfigError(name + " must be 0 or 1, got '" + text + "'");
}

// "5,300,1800": each a number of seconds (1 s to 7 days), 1 to 20 of them.
std::vector<int> retry_schedule(const std::string& name, const std::string& text) {
  std::vector<int> schedule;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    schedule.push_back(seconds(name + " entry", text.substr(start, comma - start)));
    start = comma + 1;
  }
  if (schedule.size() > 20) {
    throw ConfigError(name + " must list 1 to 20 intervals, got " +
                      std::to_string(schedule.size()));
  }
  return schedule;
}

bool valid_node_id(const std::string& text) {
  constexpr std::size_t kMaxNodeIdChars = 64;
  return !text.empty() && text.size() <= kMaxNodeIdChars &&
         std::all_of(text.begin(), text.end(), [](unsigned char ch) {
           return std::isalnum(ch) != 0 || ch == '.' || ch == '_' || ch == '-';
         });
}

struct Setting {
  const char* key;  // TOML key; the environment name is TILLGATE_ + upper case
  std::function<void(Config&, const std::string& name, const std::string& value)> apply;
};

std::size_t size_value(const std::string& name, const std::string& text) {
  return parse_integer<std::size_t>(name, text, 1, std::size_t{1} << 40);
}

// tidy: table. One row per setting, each row the setting's parse and bounds; splitting the
// table would only scatter them.
const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = {
      {"listen", [](Config& c, const std::string&, const std::string& v) { parse_listen(c, v); }},
      {"db", [](Config& c, const std::string&, const std::string& v) { c.database_url = v; }},
      {"admin_token",
       [](Config& c, const std::string&, const std::string& v) {
         if (v.empty()) {
           c.admin_token.reset();
         } else {
           c.admin_token = domain::Secret(v);
         }
       }},
      {"payment_timeout_s", [](Config& c, const std::string& n,
                               const std::string& v) { c.payment_timeout_s = seconds(n, v); }},
      {"reconnect_grace_s", [](Config& c, const std::string& n,
                               const std::string& v) { c.reconnect_grace_s = seconds(n, v); }},
      {"hello_timeout_s", [](Config& c, const std::string& n,
                             const std::string& v) { c.hello_timeout_s = seconds(n, v); }},
      {"heartbeat_s", [](Config& c, const std::string& n,
                         const std::string& v) { c.heartbeat_s = seconds(n, v); }},
      {"pong_timeout_s", [](Config& c, const std::string& n,
                            const std::string& v) { c.pong_timeout_s = seconds(n, v); }},
      {"pairing_code_ttl_s", [](Config& c, const std::string& n,
                                const std::string& v) { c.pairing_code_ttl_s = seconds(n, v); }},
      {"console", [](Config& c, const std::string& n,
                     const std::string& v) { c.console = boolean(n, v); }},
      {"webhook_allow_http", [](Config& c, const std::string& n,
                                const std::string& v) { c.webhook_allow_http = boolean(n, v); }},
      {"webhook_allow_private",
       [](Config& c, const std::string& n, const std::string& v) {
         c.webhook_allow_private = boolean(n, v);
       }},
      {"webhook_retry_s", [](Config& c, const std::string& n,
                             const std::string& v) { c.webhook_retry_s = retry_schedule(n, v); }},
      {"webhook_attempt_timeout_ms",
       [](Config& c, const std::string& n, const std::string& v) {
         c.webhook_attempt_timeout_ms = parse_integer<int>(n, v, 100, 60'000);
       }},
      {"webhook_ca_file",
       [](Config& c, const std::string&, const std::string& v) { c.webhook_ca_file = v; }},
      {"webhook_max_in_flight",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.max_webhook_in_flight = parse_integer<std::size_t>(n, v, 1, 100'000);
       }},
      {"webhook_max_in_flight_per_endpoint",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.max_webhook_in_flight_per_endpoint = parse_integer<std::size_t>(n, v, 1, 1'000);
       }},
      {"webhook_batch",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.webhook_batch = parse_integer<std::size_t>(n, v, 1, 10'000);
       }},
      {"webhook_max_pings_in_flight",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.max_webhook_pings_in_flight = parse_integer<std::size_t>(n, v, 1, 10'000);
       }},
      {"webhook_lease_s", [](Config& c, const std::string& n,
                             const std::string& v) { c.limits.webhook_lease_s = seconds(n, v); }},
      {"webhook_logged_response_bytes",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.webhook_logged_response_bytes = parse_integer<std::size_t>(n, v, 0, 65'536);
       }},
      {"nomba_max_repush_ids",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.nomba_max_repush_ids = parse_integer<std::size_t>(n, v, 1, 100);
       }},
      {"nomba_amount_unit",
       [](Config& c, const std::string& n, const std::string& v) {
         if (v != "major" && v != "minor") {
           throw ConfigError(n + " must be 'major' or 'minor', got '" + v + "'");
         }
         c.nomba_amount_unit = v;
       }},
      {"pos_ws_auth",
       [](Config& c, const std::string& n, const std::string& v) {
         if (v != "key" && v != "signed") {
           throw ConfigError(n + " must be 'key' or 'signed', got '" + v + "'");
         }
         c.pos_ws_auth = v;
       }},
      {"pos_ws_max_outbox",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.max_pos_outbox_frames = parse_integer<std::size_t>(n, v, 1, 100'000);
       }},
      {"pos_ws_resume_page",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.pos_resume_page = parse_integer<std::size_t>(n, v, 1, 100'000);
       }},
      {"pos_ws_resume_window_s",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.pos_resume_window_s = parse_integer<int>(n, v, 1, 30 * 24 * 3600);
       }},
      {"pos_ws_max_connections",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_pos_connections = size_value(n, v); }},
      {"pos_ws_max_connections_per_ip",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_pos_connections_per_ip = size_value(n, v); }},
      {"nomba_access_token_ttl_s",
       [](Config& c, const std::string& n, const std::string& v) {
         c.nomba_access_token_ttl_s = parse_integer<int>(n, v, 1, 24 * 3600);
       }},
      {"nomba_refresh_token_ttl_s",
       [](Config& c, const std::string& n, const std::string& v) {
         c.nomba_refresh_token_ttl_s = parse_integer<int>(n, v, 1, 365 * 24 * 3600);
       }},
      {"nomba_rotate_refresh_tokens",
       [](Config& c, const std::string& n, const std::string& v) {
         c.nomba_rotate_refresh_tokens = boolean(n, v);
       }},
      {"nomba_webhook_retry_s",
       [](Config& c, const std::string& n, const std::string& v) {
         c.nomba_webhook_retry_s = retry_schedule(n, v);
       }},
      {"nomba_max_refresh_tokens",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.max_refresh_tokens_per_merchant = parse_integer<std::size_t>(n, v, 1, 100'000);
       }},
      {"rate_limit_rps",
       [](Config& c, const std::string& n, const std::string& v) {
         c.rate_limit_rps = parse_integer<int>(n, v, 1, 1'000'000);
       }},
      {"pair_rate_limit_rps",
       [](Config& c, const std::string& n, const std::string& v) {
         c.pair_rate_limit_rps = parse_integer<int>(n, v, 1, 1'000'000);
       }},
      {"replay_purge_batch",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.replay_purge_batch = parse_integer<std::size_t>(n, v, 1, 10'000);
       }},
      {"max_rate_limit_keys",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_rate_limit_keys = size_value(n, v); }},
      {"shutdown_grace_s",
       [](Config& c, const std::string& n,
          const std::string& v) { c.shutdown_grace_s = parse_integer<int>(n, v, 0, 3600); }},
      {"log", [](Config& c, const std::string&, const std::string& v) { c.log_level = v; }},
      {"max_body_bytes", [](Config& c, const std::string& n,
                            const std::string& v) { c.limits.max_body_bytes = size_value(n, v); }},
      {"max_http_connections",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_http_connections = size_value(n, v); }},
      {"http_read_timeout_s",
       [](Config& c, const std::string& n,
          const std::string&
              v) { c.limits.http_read_timeout_s = parse_integer<int>(n, v, 1, 3600); }},
      {"http_idle_timeout_s",
       [](Config& c, const std::string& n,
          const std::string&
              v) { c.limits.http_idle_timeout_s = parse_integer<int>(n, v, 1, 3600); }},
      {"max_http_connections_per_ip",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_http_connections_per_ip = size_value(n, v); }},
      {"max_terminal_connections_per_ip",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.max_terminal_connections_per_ip = size_value(n, v);
       }},
      {"auth_failure_rate_limit_rps",
       [](Config& c, const std::string& n,
          const std::string&
              v) { c.limits.auth_failure_rate_limit_rps = parse_integer<int>(n, v, 1, 1'000'000); }},
      {"auth_failure_burst",
       [](Config& c, const std::string& n,
          const std::string&
              v) { c.limits.auth_failure_burst = parse_integer<int>(n, v, 1, 1'000'000); }},
      {"max_terminal_connections",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_terminal_connections = size_value(n, v); }},
      {"store_batch_max",
       [](Config& c, const std::string& n,
          const std::string&
              v) { c.limits.store_batch_max = parse_integer<std::size_t>(n, v, 1, 10'000); }},
      {"store_batch_wait_us",
       [](Config& c, const std::string& n,
          const std::string&
              v) { c.limits.store_batch_wait_us = parse_integer<int>(n, v, 0, 100'000); }},
      {"store_retry_first_ms",
       [](Config& c, const std::string& n,
          const std::string&
              v) { c.limits.store_retry_first_ms = parse_integer<int>(n, v, 10, 600'000); }},
      {"db_statement_timeout_ms",
       [](Config& c, const std::string& n,
          const std::string&
              v) { c.limits.db_statement_timeout_ms = parse_integer<int>(n, v, 100, 600'000); }},
      {"db_pool",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.db_pool = parse_integer<std::size_t>(n, v, 1, 256); }},
      {"store_retry_max_ms",
       [](Config& c, const std::string& n,
          const std::string&
              v) { c.limits.store_retry_max_ms = parse_integer<int>(n, v, 10, 600'000); }},
      {"node_id",
       [](Config& c, const std::string& n, const std::string& v) {
         if (!valid_node_id(v)) {
           throw ConfigError(n + " must be 1 to 64 letters, digits, '.', '_' or '-', got '" + v +
                             "'");
         }
         c.node_id = v;
       }},
      {"node_lease_s", [](Config& c, const std::string& n,
                          const std::string& v) { c.limits.node_lease_s = parse_integer<int>(n, v, 3, 3600); }},
      {"node_poll_ms", [](Config& c, const std::string& n,
                          const std::string& v) { c.limits.node_poll_ms = parse_integer<int>(n, v, 10, 60'000); }},
      {"node_feed_batch",
       [](Config& c, const std::string& n, const std::string& v) {
         c.limits.node_feed_batch = parse_integer<std::size_t>(n, v, 1, 10'000);
       }},
      {"max_products", [](Config& c, const std::string& n,
                          const std::string& v) { c.limits.max_products = size_value(n, v); }},
      {"max_product_bytes",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_product_bytes = size_value(n, v); }},
      {"max_metadata_keys",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_metadata_keys = size_value(n, v); }},
      {"max_metadata_key_chars",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_metadata_key_chars = size_value(n, v); }},
      {"max_metadata_depth",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_metadata_depth = size_value(n, v); }},
      {"max_metadata_bytes",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_metadata_bytes = size_value(n, v); }},
      {"max_customer_info_bytes",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_customer_info_bytes = size_value(n, v); }},
      {"max_store_queue",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_store_queue = size_value(n, v); }},
      {"tls_cert_file",
       [](Config& c, const std::string&, const std::string& v) { c.tls_cert_file = v; }},
      {"tls_key_file",
       [](Config& c, const std::string&, const std::string& v) { c.tls_key_file = v; }},
      {"max_waiting_payments",
       [](Config& c, const std::string& n,
          const std::string& v) { c.limits.max_waiting_payments = size_value(n, v); }},
      {"max_metric_series",
       [](Config& c, const std::string& n,
          const std::string&
              v) { c.limits.max_metric_series = parse_integer<std::size_t>(n, v, 10, 1'000'000); }},
  };
  return table;
}

std::string environment_name(const char* key) {
  std::string name = "TILLGATE_";
  for (const char* p = key; *p; ++p) {
    name += static_cast<char>(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
  }
  return name;
}

std::string toml_value_text(const toml::node& node, const std::string& key) {
  if (const auto* s = node.as_string()) {
    return s->get();
  }
  if (const auto* i = node.as_integer()) {
    return std::to_string(i->get());
  }
  if (const auto* b = node.as_boolean()) {
    return b->get() ? "1" : "0";
  }
  throw ConfigError("config key '" + key + "' must be a string, integer or boolean");
}

// One relation: `holds`, else a ConfigError "A (a) must be <relation> B (b): why".
template <class Value>
void require(bool holds, const char* key_a, Value a, const char* relation, const char* key_b,
             Value b, const char* why) {
  if (!holds) {
    throw ConfigError(environment_name(key_a) + " (" + std::to_string(a) + ") must be " + relation +
                      " " + environment_name(key_b) + " (" + std::to_string(b) + "): " + why);
  }
}

}  // namespace

void check_relations(const Config& c) {
  const Limits& l = c.limits;
  require(l.max_http_connections_per_ip <= l.max_http_connections, "max_http_connections_per_ip",
          l.max_http_connections_per_ip, "at most", "max_http_connections", l.max_http_connections,
          "one address cannot hold more connections than the whole gateway");
  require(l.max_terminal_connections_per_ip <= l.max_terminal_connections,
          "max_terminal_connections_per_ip", l.max_terminal_connections_per_ip, "at most",
          "max_terminal_connections", l.max_terminal_connections,
          "one address cannot hold more terminal connections than the whole gateway");
  require(l.max_waiting_payments <= l.max_http_connections, "max_waiting_payments",
          l.max_waiting_payments, "at most", "max_http_connections", l.max_http_connections,
          "each long-poll holds an HTTP connection open");
  require(l.store_batch_max <= l.max_store_queue, "store_batch_max", l.store_batch_max, "at most",
          "max_store_queue", l.max_store_queue, "a batch is taken from the store queue");
  require(l.store_retry_first_ms <= l.store_retry_max_ms, "store_retry_first_ms",
          l.store_retry_first_ms, "at most", "store_retry_max_ms", l.store_retry_max_ms,
          "the pause between tries grows from the first to the longest");
  require(l.max_webhook_in_flight_per_endpoint <= l.max_webhook_in_flight,
          "webhook_max_in_flight_per_endpoint", l.max_webhook_in_flight_per_endpoint, "at most",
          "webhook_max_in_flight", l.max_webhook_in_flight,
          "an endpoint's attempts are counted in the global ones");
  if (std::int64_t{l.webhook_lease_s} * 1000 < std::int64_t{c.webhook_attempt_timeout_ms} * 2) {
    throw ConfigError("TILLGATE_WEBHOOK_LEASE_S (" + std::to_string(l.webhook_lease_s) +
                      " s) must be at least twice TILLGATE_WEBHOOK_ATTEMPT_TIMEOUT_MS (" +
                      std::to_string(c.webhook_attempt_timeout_ms) +
                      " ms): a claimed delivery must stay claimed while its attempt runs and "
                      "is recorded");
  }
  require(l.pos_resume_page <= l.max_pos_outbox_frames, "pos_ws_resume_page", l.pos_resume_page,
          "at most", "pos_ws_max_outbox", l.max_pos_outbox_frames,
          "a replayed page is queued whole on the connection's outbox");
  require(c.pong_timeout_s < c.heartbeat_s, "pong_timeout_s", c.pong_timeout_s, "less than",
          "heartbeat_s", c.heartbeat_s,
          "a pong must be due before the next ping, or a dead terminal is never noticed");
  require(c.nomba_access_token_ttl_s <= c.nomba_refresh_token_ttl_s, "nomba_access_token_ttl_s",
          c.nomba_access_token_ttl_s, "at most", "nomba_refresh_token_ttl_s",
          c.nomba_refresh_token_ttl_s,
          "a refresh token is used once its access token expired, so it must live as long");
}

void parse_listen(Config& config, const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw ConfigError("TILLGATE_LISTEN must be HOST:PORT, got '" + host_port + "'");
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  config.listen_host = host;
  config.listen_port =
      parse_integer<std::uint16_t>("TILLGATE_LISTEN port", host_port.substr(colon + 1), 0, 65535);
}

void apply_config_file(Config& config, const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& error) {
    throw ConfigError("cannot read config file " + path + ": " + std::string(error.description()));
  }
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    bool known = false;
    for (const auto& setting : settings()) {
      if (name == setting.key) {
        setting.apply(config, path + ": " + name, toml_value_text(node, name));
        known = true;
      }
    }
    if (!known) {
      throw ConfigError(path + ": unknown setting '" + name + "'");
    }
  }
}

void apply_environment(Config& config, const std::map<std::string, std::string>& environment) {
  for (const auto& setting : settings()) {
    const std::string name = environment_name(setting.key);
    if (const auto it = environment.find(name); it != environment.end()) {
      setting.apply(config, name, it->second);
    }
  }
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> result;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    if (const auto eq = text.find('=');
        eq != std::string_view::npos && text.starts_with("TILLGATE_")) {
      result.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
    }
  }
  return result;
}

}  // namespace tillgate::app
