#pragma once
// Gateway configuration: flags > TILLGATE_* environment > TOML file > defaults.
// Every bound the gateway enforces lives in Limits, with its default and reason; every
// default is written here and nowhere else (the lower layers' settings have none for what
// the app sets). check_relations() refuses settings that contradict each other.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/secret.hpp"
#include "store/database_options.hpp"

namespace tillgate::app {

struct Limits {
  // HTTP (merchant and admin side).
  std::size_t max_body_bytes = 64 * 1024;    // merchant-api.md: 413 above this
  std::size_t max_header_bytes = 16 * 1024;  // request line + headers; larger is 431
  std::size_t max_json_depth = 32;           // nesting; deeper bodies are 400
  // A payment request's free-form members (merchant-api.md section 4, v2): over one is 400
  // VALIDATION_ERROR naming the field. "bytes": of the member as JSON.
  std::size_t max_products = 100;
  std::size_t max_product_bytes = 4 * 1024;  // each product line
  std::size_t max_metadata_keys = 50;        // top-level
  std::size_t max_metadata_key_chars = 40;
  std::size_t max_metadata_depth = 5;  // the metadata object itself is level 1
  std::size_t max_metadata_bytes = 8 * 1024;
  std::size_t max_customer_info_bytes = 4 * 1024;
  int http_read_timeout_s = 30;                     // a whole request must arrive within this
  int http_idle_timeout_s = 60;                     // keep-alive connection with no request
  int http_write_timeout_s = 30;                    // a slow reader is cut off after this
  std::size_t max_http_connections = 10'000;        // accepted merchant/admin connections
  std::size_t max_http_connections_per_ip = 1'000;  // of those, from one client address
  // Long-polls held open at once; each holds an HTTP connection, so at most
  // max_http_connections (checked at start).
  std::size_t max_waiting_payments = 10'000;
  // Terminal WebSocket side.
  std::size_t max_terminal_frame_bytes = 64 * 1024;  // terminal-protocol.md: close 1009 above
  std::size_t max_terminal_outbox_frames = 64;       // queued frames; more = slow terminal, cut off
  std::size_t max_terminal_connections = 100'000;
  std::size_t max_terminal_connections_per_ip = 1'000;  // a shop's NAT holds several
  int terminal_write_timeout_s = 10;
  // Merchant POS WebSocket side (docs/pos-websocket.md).
  std::size_t max_pos_outbox_frames = 256;  // queued frames; more = slow POS client, cut off
  std::size_t pos_resume_page = 100;        // events per store read of a resume's replay
  int pos_resume_window_s = 86'400;         // the oldest event a POS client resumes after
  std::size_t max_pos_connections = 10'000;
  std::size_t max_pos_connections_per_ip = 1'000;
  // Authentication.
  // Signatures remembered for the skew window, in memory (SQLite: one node). PostgreSQL's
  // shared cache is a table, bounded by the signed requests the rate limits let in per
  // window (docs/scale-out.md); each insert deletes at most replay_purge_batch expired rows.
  std::size_t max_replay_cache_entries = 1'000'000;
  std::size_t replay_purge_batch = 16;
  std::size_t max_rate_limit_keys = 100'000;  // merchants / addresses with a tracked bucket
  // Failed authentications (HTTP 401, refused terminal hellos) per client address: this
  // rate, bursts of auth_failure_burst; beyond, the address is refused until it refills.
  int auth_failure_rate_limit_rps = 1;
  int auth_failure_burst = 30;
  // Store.
  std::size_t max_store_queue = 10'000;  // store calls queued for the store thread
  // Group commit: store calls that arrive while a commit is being made share the next one
  // (one fsync). At most store_batch_max calls per commit; when fewer are queued, the store
  // thread waits up to store_batch_wait_us for more before committing (0: never waits, a
  // batch is whatever queued up during the previous fsync).
  std::size_t store_batch_max = 256;
  int store_batch_wait_us = 0;
  // A payment deadline, grace or the start-up recovery whose store call failed (a full
  // disk, a lost database) tries again after store_retry_first_ms, doubling up to
  // store_retry_max_ms, until it succeeds or the gateway stops.
  int store_retry_first_ms = 1'000;
  int store_retry_max_ms = 30'000;
  // PostgreSQL: the bound of one statement (store::DatabaseOptions, where its default of
  // 10 s is written): the server cancels a statement running longer, and a round trip
  // without an answer within twice this fails as unavailable (a server or a network that
  // stopped answering), the connection closed and made again.
  int db_statement_timeout_ms =
      static_cast<int>(store::DatabaseOptions{}.statement_timeout.count());
  // PostgreSQL: the store's connections per node (store::DatabaseOptions::pool, where its
  // default of 8 is written): one writes in group-commit batches, the others run reads
  // concurrently. SQLite keeps one connection.
  std::size_t db_pool = store::DatabaseOptions{}.pool;
  // Several nodes on one PostgreSQL database (docs/scale-out.md#several-nodes): a node that
  // has not renewed its lease for this long is dead, and its terminals count as dropped.
  // It renews every third of it.
  int node_lease_s = 15;
  // The longest a node waits before reading the other nodes' changes when no notification
  // came (LISTEN/NOTIFY is only a hint).
  int node_poll_ms = 1'000;
  // Rows per read of the change feed, of the terminal claims and of a dead node's terminals.
  std::size_t node_feed_batch = 500;
  // Webhooks (webhooks.md).
  std::size_t max_webhook_endpoints = 16;   // per merchant, deleted ones not counted (the spec's)
  std::size_t max_webhook_in_flight = 256;  // delivery attempts at once, every endpoint together
  // Attempts at once to one endpoint: a slow or dead endpoint holds at most these slots, so
  // max_webhook_in_flight / this many endpoints must be stuck at once to delay the others.
  std::size_t max_webhook_in_flight_per_endpoint = 4;
  std::size_t webhook_batch = 100;  // due deliveries read per store query
  // A due delivery is claimed by one node for this long (docs/scale-out.md): another node
  // attempts it only after the lease, so a node that dies mid-attempt delays it by at most
  // this much. Must cover an attempt (webhook_attempt_timeout_ms, 10 s) and its record: at
  // least twice the attempt timeout (checked at start).
  int webhook_lease_s = 60;
  std::size_t max_webhook_pings_in_flight = 64;  // endpoint validation pings at once; more: 503
  // Bytes of an endpoint's answer body kept with each attempt, for the Nomba event logs'
  // responsePayload (at most the 64 KiB the delivery client reads at all).
  std::size_t webhook_logged_response_bytes = 4096;
  // Ids one Nomba bulk re-push may name (nomba-compat.md: at most 100).
  std::size_t nomba_max_repush_ids = 100;
  // Nomba-compatible API: live refresh tokens per merchant; a new one beyond it revokes the
  // oldest, so a client that asks for a token per request cannot grow the table unbounded.
  std::size_t max_refresh_tokens_per_merchant = 100;
  // GET /metrics: series (distinct label sets) per metric; past it, new label sets are
  // counted in one series labelled "overflow". The gateway's labels come from fixed sets
  // (route templates, methods, statuses), so this only guards against a mistake.
  std::size_t max_metric_series = 2000;
};

struct Config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string database_url = "sqlite:./data/tillgate.db";
  // How this node names itself in the store and its logs (several nodes on PostgreSQL);
  // empty: generated at start ("node-" and 12 random hex digits).
  std::string node_id;
  std::optional<domain::Secret> admin_token;
  int payment_timeout_s = 90;
  int reconnect_grace_s = 60;
  int hello_timeout_s = 5;
  int heartbeat_s = 30;     // terminal-protocol.md: a ping after 30 s of quiet
  int pong_timeout_s = 10;  // and no pong within 10 s: dead. Less than heartbeat_s.
  // The POS WebSocket's handshake: "key" (x-api-key, as Modulus) or "signed" (x-api-key,
  // x-timestamp and x-signature, an HMAC-signed GET of the request target).
  std::string pos_ws_auth = "key";
  int signature_skew_s = 300;
  int pairing_code_ttl_s = 600;  // one-time pairing codes (merchant-api.md section 5)
  bool webhook_allow_http = false;
  // The browser console and virtual terminal under /console/ (docs/console.md); false: 404.
  bool console = true;
  bool webhook_allow_private = false;  // deliver to loopback/private/link-local addresses
  // Seconds to wait after the 1st, 2nd, ... failed attempt; then the delivery is failed.
  std::vector<int> webhook_retry_s{5, 300, 1800, 7200, 18000, 36000, 36000};
  // webhooks.md: "a 2xx within 10 s is success"; lower only for tests.
  int webhook_attempt_timeout_ms = 10'000;
  std::string webhook_ca_file;  // PEM CAs trusted besides the system store; empty: none
  // nomba-compat.md v2: the push's amount is in minor units (kobo), as Nomba's reference.
  std::string nomba_amount_unit = "minor";
  // nomba-compat.md v2: a refresh answers the same refresh token, valid until it expires;
  // true: single use, a reused one revokes its family (version 1).
  bool nomba_rotate_refresh_tokens = false;
  // nomba-compat.md: access tokens live 30 min, refresh tokens 30 days.
  int nomba_access_token_ttl_s = 1800;
  int nomba_refresh_token_ttl_s = 30 * 24 * 3600;
  // Nomba's published retry table for "nomba" endpoints, read as the waits after each
  // failure (nomba-compat.md v2); lower only for tests.
  std::vector<int> nomba_webhook_retry_s{120, 280, 640, 1440, 3200};
  int rate_limit_rps = 100;     // per merchant, bursts of twice that
  int pair_rate_limit_rps = 5;  // POST /v1/devices/pair per client address, bursts of twice
  int shutdown_grace_s = 10;
  std::string log_level = "info";
  // TLS termination in serve: both PEM files set = HTTPS and WSS on the listen address
  // (TLS 1.2 with ECDHE+AEAD suites, or TLS 1.3); both empty = plain HTTP/WS.
  std::string tls_cert_file;  // certificate chain, leaf first
  std::string tls_key_file;   // its private key
  Limits limits;
};

// Thrown with a message naming the setting and the problem.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Applies the TOML file (if given), then the environment, onto `config`. Flags are
// applied by the caller afterwards. `environment` is injectable for tests.
void apply_config_file(Config& config, const std::string& path);
void apply_environment(Config& config, const std::map<std::string, std::string>& environment);
[[nodiscard]] std::map<std::string, std::string> process_environment();

// The relations between settings that every value on its own cannot show (a per-address
// cap above its global cap, a batch larger than the queue it is taken from...). Throws
// ConfigError naming both settings (by their TILLGATE_ names) and their values. The
// gateway calls it before anything is opened.
void check_relations(const Config& config);

// "HOST:PORT" -> host, port; "[::1]:0" for IPv6.
void parse_listen(Config& config, const std::string& host_port);

}  // namespace tillgate::app
