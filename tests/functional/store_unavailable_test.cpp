// A store that refuses writes (merchant-api.md section 2, STORE_UNAVAILABLE; operations.md,
// /readyz): the real gateway with a real write failure. Its file-size limit (RLIMIT_FSIZE,
// what `ulimit -f` sets) is lowered while it runs, so every SQLite write fails with EFBIG as
// on a full disk, and raised again; nothing may be lost or half-done meanwhile.
#include <sys/resource.h>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

// Sets the soft file-size limit of a running process (the hard one stays).
void set_file_size_limit(pid_t pid, rlim_t soft) {
  rlimit current{};
  ASSERT_EQ(prlimit(pid, RLIMIT_FSIZE, nullptr, &current), 0);
  rlimit wanted{soft, current.rlim_max};
  ASSERT_EQ(prlimit(pid, RLIMIT_FSIZE, &wanted, nullptr), 0);
}

class StoreUnavailableTest : public GatewayTest {};

TEST_F(StoreUnavailableTest, RefusedWritesAnswer503AndNothingIsLost) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-disk");
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  ASSERT_EQ(plain_request("GET", "/readyz").status, 200);
  const pid_t pid = gateway().pid();
  ASSERT_GT(pid, 0);

  set_file_size_limit(pid, 1);  // no write past the first byte of any file
  const std::string body = payment_body("12.34", "USD", "TXN-DISK-1");
  auto client = http(30s);
  const auto refused =
      client::send_signed(client, merchant.credentials, "POST", payments_path("till-disk"), body);
  expect_error(refused, 503, "STORE_UNAVAILABLE");
  EXPECT_EQ(refused.header("Retry-After"), "5");
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms)) << "a payment not stored must not reach the terminal";
  const auto not_ready = plain_request("GET", "/readyz");
  expect_error(not_ready, 503, "STORE_UNAVAILABLE");
  EXPECT_TRUE(not_ready.header("Retry-After").has_value());
  // Reads still work, and show that nothing was stored.
  expect_error(get_transaction(merchant, "TXN-DISK-1"), 404, "TRANSACTION_NOT_FOUND");
  // Another write route: the same refusal.
  expect_error(signed_request(merchant, "POST", "/v1/devices/codes", R"({"label":"x"})"), 503,
               "STORE_UNAVAILABLE");

  set_file_size_limit(pid, RLIM_INFINITY);
  EXPECT_TRUE(eventually([&] { return plain_request("GET", "/readyz").status == 200; }));
  // The same request, repeated as the Retry-After invites, now takes the payment.
  auto pending = pay_async(merchant, "till-disk", body);
  const auto request = read_frame(*ws, "payment.request");
  EXPECT_EQ(string_at(request, "transactionId"), "TXN-DISK-1");
  ASSERT_TRUE(ws->send_json(result_frame("TXN-DISK-1", "SUCCESS", "AUTH000001")));
  (void)read_frame(*ws, "payment.result.ack");
  const auto paid = await_response(pending, 10s);
  ASSERT_TRUE(paid.has_value());
  EXPECT_EQ(paid->status, 200) << paid->body;
  EXPECT_EQ(transaction_status(merchant, "TXN-DISK-1"), "COMPLETED");
  EXPECT_TRUE(gateway().running());
}

}  // namespace
}  // namespace tillgate::ft
