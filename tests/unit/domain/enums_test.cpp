#include "domain/enums.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string_view>

namespace tillgate::domain {
namespace {

using namespace std::string_view_literals;

// Each set's wire names, in enumerator order, written out here rather than derived.
TEST(PaymentMethod, HasTheWireNames) {
  ASSERT_EQ(kPaymentMethods.size(), 4U);
  EXPECT_EQ(to_string(PaymentMethod::card), "CARD");
  EXPECT_EQ(to_string(PaymentMethod::cash), "CASH");
  EXPECT_EQ(to_string(PaymentMethod::mobile), "MOBILE");
  EXPECT_EQ(to_string(PaymentMethod::other), "OTHER");
}

TEST(PaymentMethod, RoundTrips) {
  std::set<std::string_view> names;
  for (const PaymentMethod method : kPaymentMethods) {
    names.insert(to_string(method));
    EXPECT_EQ(parse_payment_method(to_string(method)), method) << to_string(method);
  }
  EXPECT_EQ(names.size(), kPaymentMethods.size());  // no two share a name
}

TEST(PaymentMethod, RefusesAnythingButTheExactName) {
  for (const std::string_view text :
       {"card"sv, "Card"sv, "cArD"sv, ""sv, "CARD "sv, " CARD"sv, "CARD\n"sv, "CARDS"sv, "CAR"sv,
        "CASH\0"sv, "C\0ARD"sv, "mobile"sv, "Other"sv, "CREDIT"sv, "0"sv}) {
    EXPECT_EQ(parse_payment_method(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(EndpointStatus, HasTheWireNamesAndRoundTrips) {
  ASSERT_EQ(kEndpointStatuses.size(), 2U);
  EXPECT_EQ(to_string(EndpointStatus::active), "active");
  EXPECT_EQ(to_string(EndpointStatus::disabled), "disabled");
  for (const EndpointStatus status : kEndpointStatuses) {
    EXPECT_EQ(parse_endpoint_status(to_string(status)), status) << to_string(status);
  }
}

TEST(EndpointStatus, RefusesAnythingButTheExactName) {
  for (const std::string_view text : {"ACTIVE"sv, "Active"sv, ""sv, "active "sv, " disabled"sv,
                                      "Disabled"sv, "enabled"sv, "inactive"sv, "activ"sv}) {
    EXPECT_EQ(parse_endpoint_status(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(WebhookFormat, HasTheWireNamesAndRoundTrips) {
  ASSERT_EQ(kWebhookFormats.size(), 2U);
  EXPECT_EQ(to_string(WebhookFormat::standard), "standard");
  EXPECT_EQ(to_string(WebhookFormat::nomba), "nomba");
  for (const WebhookFormat format : kWebhookFormats) {
    EXPECT_EQ(parse_webhook_format(to_string(format)), format) << to_string(format);
  }
}

TEST(WebhookFormat, RefusesAnythingButTheExactName) {
  for (const std::string_view text : {"STANDARD"sv, "Standard"sv, "NOMBA"sv, "Nomba"sv, ""sv,
                                      "nomba "sv, "standard\t"sv, "json"sv, "default"sv}) {
    EXPECT_EQ(parse_webhook_format(text), std::nullopt) << '"' << text << '"';
  }
}

}  // namespace
}  // namespace tillgate::domain
