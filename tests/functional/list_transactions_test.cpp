// GET /v1/transactions: newest first, filters, an opaque cursor that holds while new
// payments arrive, validation of the query, and no view of another merchant's rows.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class ListTransactionsTest : public GatewayTest {
 protected:
  void pay(const Merchant& merchant, const Device& device, const std::string& id) {
    auto client = http(30s);
    const auto res =
        client::send_signed(client, merchant.credentials, "POST", payments_path(device.device_id),
                            payment_body("1.00", "USD", id));
    ASSERT_EQ(res.status, 200) << res.body;
  }

  std::vector<std::string> page_ids(const json::Value& page) {
    std::vector<std::string> out;
    for (const auto& item : page.find("transactions")->as_array()) {
      out.push_back(string_at(item, "transactionId"));
    }
    return out;
  }
};

TEST_F(ListTransactionsTest, PagesNewestFirstWithAStableCursor) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  SimulatedTerminal terminal(gateway(), device, "approve");
  ASSERT_TRUE(terminal.wait_online());
  for (const char* id : {"L-1", "L-2", "L-3"}) {
    pay(merchant, device, id);
  }

  auto res = signed_request(merchant, "GET", "/v1/transactions?limit=2");
  ASSERT_EQ(res.status, 200) << res.body;
  auto page = parse_json(res.body);
  EXPECT_EQ(page_ids(page), (std::vector<std::string>{"L-3", "L-2"}));
  EXPECT_TRUE(IsIsoMs(page.find("timestamp")));
  const auto cursor = string_at(page, "nextCursor");
  ASSERT_FALSE(cursor.empty());
  EXPECT_EQ(string_at(page.find("transactions")->as_array()[0], "status"), "COMPLETED");

  pay(merchant, device, "L-4");  // a newer payment must not shift the next page
  res = signed_request(merchant, "GET", "/v1/transactions?limit=2&cursor=" + cursor);
  ASSERT_EQ(res.status, 200) << res.body;
  page = parse_json(res.body);
  EXPECT_EQ(page_ids(page), (std::vector<std::string>{"L-1"}));
  EXPECT_TRUE(page.find("nextCursor")->is_null());
}

TEST_F(ListTransactionsTest, FiltersByTerminalAndStatus) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  const auto idle = create_device(merchant);
  SimulatedTerminal terminal(gateway(), device, "approve");
  ASSERT_TRUE(terminal.wait_online());
  pay(merchant, device, "F-1");

  auto page = parse_json(
      signed_request(merchant, "GET", "/v1/transactions?terminalId=" + device.device_id).body);
  EXPECT_EQ(page_ids(page), (std::vector<std::string>{"F-1"}));
  page = parse_json(
      signed_request(merchant, "GET", "/v1/transactions?terminalId=" + idle.device_id).body);
  EXPECT_TRUE(page_ids(page).empty());
  page = parse_json(signed_request(merchant, "GET", "/v1/transactions?status=FAILED").body);
  EXPECT_TRUE(page_ids(page).empty());
  page = parse_json(signed_request(merchant, "GET", "/v1/transactions?status=COMPLETED").body);
  EXPECT_EQ(page_ids(page), (std::vector<std::string>{"F-1"}));
}

TEST_F(ListTransactionsTest, AnotherMerchantSeesNothing) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  SimulatedTerminal terminal(gateway(), device, "approve");
  ASSERT_TRUE(terminal.wait_online());
  pay(merchant, device, "MINE-1");
  const auto other = create_merchant("Other Shop");
  const auto page = parse_json(signed_request(other, "GET", "/v1/transactions").body);
  EXPECT_TRUE(page_ids(page).empty());
}

TEST_F(ListTransactionsTest, BadQueryValuesAreValidationErrors) {
  const auto merchant = create_merchant();
  for (const char* query : {"limit=0", "limit=201", "limit=ten", "status=DONE", "from=yesterday",
                            "cursor=bm90LWEtY3Vyc29y", "terminalId=%zz"}) {
    SCOPED_TRACE(query);
    const auto res = signed_request(merchant, "GET", std::string("/v1/transactions?") + query);
    const auto body = expect_error(res, 400, "VALIDATION_ERROR");
    EXPECT_NE(body.find("details"), nullptr);
  }
}

}  // namespace
}  // namespace tillgate::ft
