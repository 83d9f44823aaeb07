// docs/modulus.md: Modulus's own example request, sent unchanged, is answered 200 with
// the members the page shows, at both levels.
#include <algorithm>
#include <vector>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

constexpr std::string_view kDoc = "docs/modulus.md";

std::vector<std::string> member_names(const json::Value* value) {
  std::vector<std::string> names;
  if (value != nullptr && value->is_object()) {
    for (const auto& member : value->as_object()) {
      names.push_back(member.key);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ModulusDocsTest : public GatewayTest {};

TEST_F(ModulusDocsTest, TheModulusExampleIsAnsweredAsDocumented) {
  const auto body = block_from_docs(kDoc, "<!-- modulus: request -->", "json");
  const auto expected = parse_json(block_from_docs(kDoc, "<!-- modulus: answer -->", "json"));
  ASSERT_FALSE(body.empty());
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-1");
  SimulatedTerminal terminal(gateway(), device, "approve");
  ASSERT_TRUE(terminal.wait_online());

  const auto res = signed_request(merchant, "POST", payments_path("till-1"), body);
  ASSERT_EQ(res.status, 200) << res.body;
  const auto answer = parse_json(res.body);
  EXPECT_EQ(member_names(&answer), member_names(&expected)) << res.body;
  EXPECT_EQ(member_names(answer.find("paymentResponse")),
            member_names(expected.find("paymentResponse")))
      << res.body;
  EXPECT_EQ(string_at(answer, "transactionId"), "TXN-20240115-001");
  EXPECT_EQ(string_at(answer, "status"), "SUCCESS");
  const auto* payment = answer.find("paymentResponse");
  ASSERT_NE(payment, nullptr) << res.body;
  EXPECT_EQ(string_at(*payment, "amount"), "99.99");
  EXPECT_EQ(json_at(*payment, "metadata"), R"({"orderId":"ORD-12345"})");
}

}  // namespace
}  // namespace tillgate::ft
