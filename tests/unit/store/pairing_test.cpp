// Pairing codes (one-time, expiring) and the active-webhook-endpoint check.
#include <gtest/gtest.h>

#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using PairingTest = StoreTest;

PairingCodeRecord make_code(const std::string& code_hash, std::int64_t expires_at_ms) {
  return PairingCodeRecord{.code_hash = code_hash,
                           .merchant_id = "m1",
                           .label = "Till 3",
                           .created_at = ms(1'000),
                           .expires_at = ms(expires_at_ms)};
}

DeviceRecord paired_device(const std::string& device_id) {
  auto device = make_device(device_id, "ignored: the code decides");
  device.label = "ignored too";
  return device;
}

TEST_P(PairingTest, CodePairsOneDeviceForItsMerchantWithItsLabel) {
  store_->insert_pairing_code(make_code("hash-a", 10'000));
  const auto paired = store_->pair_device("hash-a", paired_device("dev_new"), ms(5'000));
  ASSERT_TRUE(paired.has_value());
  EXPECT_EQ(paired->merchant_id, "m1");
  EXPECT_EQ(paired->label, "Till 3");
  const auto stored = store_->find_device("dev_new");
  ASSERT_TRUE(stored.has_value());
  expect_same(*paired, *stored);
}

TEST_P(PairingTest, UsedCodeIsRefusedAndWritesNothing) {
  store_->insert_pairing_code(make_code("hash-a", 10'000));
  ASSERT_TRUE(store_->pair_device("hash-a", paired_device("dev_1"), ms(5'000)).has_value());
  EXPECT_FALSE(store_->pair_device("hash-a", paired_device("dev_2"), ms(5'001)).has_value());
  EXPECT_FALSE(store_->find_device("dev_2").has_value());
}

TEST_P(PairingTest, ExpiredCodeIsRefused) {
  store_->insert_pairing_code(make_code("hash-a", 10'000));
  EXPECT_FALSE(store_->pair_device("hash-a", paired_device("dev_1"), ms(10'000)).has_value());
  EXPECT_FALSE(store_->find_device("dev_1").has_value());
}

TEST_P(PairingTest, UnknownCodeIsRefused) {
  EXPECT_FALSE(store_->pair_device("no-such-hash", paired_device("dev_1"), ms(1)).has_value());
}

TEST_P(PairingTest, TakenDeviceIdThrowsAndLeavesTheCodeUsable) {
  store_->insert_pairing_code(make_code("hash-a", 10'000));
  EXPECT_THROW((void)store_->pair_device("hash-a", paired_device("d1"), ms(5'000)), StoreError);
  EXPECT_TRUE(store_->pair_device("hash-a", paired_device("dev_ok"), ms(5'000)).has_value());
}

TEST_P(PairingTest, ANewCodeWhoseHashIsTakenIsRefusedAndWritesNothing) {
  EXPECT_TRUE(store_->insert_new_pairing_code(make_code("hash-a", 10'000)));
  auto again = make_code("hash-a", 20'000);
  again.label = "Till 4";
  EXPECT_FALSE(store_->insert_new_pairing_code(again));
  // The first code stands, with its label and expiry.
  EXPECT_FALSE(store_->pair_device("hash-a", paired_device("dev_1"), ms(15'000)).has_value());
  const auto paired = store_->pair_device("hash-a", paired_device("dev_2"), ms(5'000));
  ASSERT_TRUE(paired.has_value());
  EXPECT_EQ(paired->label, "Till 3");
  // A used code's hash stays taken.
  EXPECT_FALSE(store_->insert_new_pairing_code(make_code("hash-a", 30'000)));
}

TEST_P(PairingTest, CodesSurviveReopen) {
  store_->insert_pairing_code(make_code("hash-a", 10'000));
  reopen();
  EXPECT_TRUE(store_->pair_device("hash-a", paired_device("dev_1"), ms(5'000)).has_value());
}

TEST_P(PairingTest, ActiveWebhookEndpointIsSeenPerMerchant) {
  EXPECT_FALSE(store_->has_active_webhook_endpoint("m1"));
  RawDb raw = raw_db();
  const std::string insert =
      "INSERT INTO webhook_endpoints (endpoint_id, merchant_id, url, secret, status, "
      "created_at, updated_at, deleted_at) VALUES ";
  ASSERT_EQ(raw.exec(insert + "('wh_1', 'm1', 'https://a', 's', 'disabled', 1, 1, NULL)"),
            SQLITE_OK)
      << raw.last_error();
  ASSERT_EQ(raw.exec(insert + "('wh_2', 'm1', 'https://b', 's', 'active', 1, 1, 5)"), SQLITE_OK)
      << raw.last_error();
  EXPECT_FALSE(store_->has_active_webhook_endpoint("m1"));  // disabled, deleted
  ASSERT_EQ(raw.exec(insert + "('wh_3', 'm1', 'https://c', 's', 'active', 1, 1, NULL)"), SQLITE_OK)
      << raw.last_error();
  EXPECT_TRUE(store_->has_active_webhook_endpoint("m1"));
  store_->insert_merchant(make_merchant("m2"));
  EXPECT_FALSE(store_->has_active_webhook_endpoint("m2"));
}

TILLGATE_STORE_BACKENDS(PairingTest);

}  // namespace
}  // namespace tillgate::store::testing
