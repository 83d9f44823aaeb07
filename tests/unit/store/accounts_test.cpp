// Merchants, API keys and devices.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ApiKeyRecord make_key(const std::string& api_key, const std::string& merchant_id) {
  return ApiKeyRecord{.api_key = api_key,
                      .merchant_id = merchant_id,
                      .api_secret = domain::Secret("secret-of-" + api_key),
                      .created_at = ms(1'700'000'000'001),
                      .revoked_at = std::nullopt};
}

using AccountsTest = StoreTest;

TEST_P(AccountsTest, MerchantRoundTrip) {
  const auto found = store_->find_merchant("m1");
  ASSERT_TRUE(found.has_value());
  expect_same(make_merchant("m1"), *found);
  EXPECT_FALSE(store_->find_merchant("m2").has_value());
}

TEST_P(AccountsTest, MerchantsAreListedOldestFirst) {
  auto late = make_merchant("m0");
  late.created_at = ms(5'000);
  store_->insert_merchant(late);
  store_->insert_merchant(make_merchant("m2"));  // same created_at as m1: by id
  const auto merchants = store_->list_merchants();
  ASSERT_EQ(merchants.size(), 3U);
  EXPECT_EQ(merchants[0].merchant_id, "m1");
  EXPECT_EQ(merchants[1].merchant_id, "m2");
  EXPECT_EQ(merchants[2].merchant_id, "m0");
}

TEST_P(AccountsTest, DuplicateMerchantIsAnError) {
  EXPECT_THROW(store_->insert_merchant(make_merchant("m1")), StoreError);
}

TEST_P(AccountsTest, CreateMerchantStoresTheMerchantWithItsKey) {
  const auto merchant = make_merchant("m2");
  const auto key = make_key("k2", "m2");
  store_->create_merchant(merchant, key);
  expect_same(merchant, *store_->find_merchant("m2"));
  expect_same(key, *store_->find_api_key("k2"));
}

TEST_P(AccountsTest, CreateMerchantWritesBothOrNeither) {
  store_->insert_api_key(make_key("k1", "m1"));
  // The key's id is taken: the merchant is not stored without it.
  EXPECT_THROW(store_->create_merchant(make_merchant("m2"), make_key("k1", "m2")), StoreError);
  EXPECT_FALSE(store_->find_merchant("m2").has_value());
  EXPECT_EQ(store_->find_api_key("k1")->merchant_id, "m1");
  // A taken merchant id: no key is left behind either.
  EXPECT_THROW(store_->create_merchant(make_merchant("m1"), make_key("k3", "m1")), StoreError);
  EXPECT_FALSE(store_->find_api_key("k3").has_value());
}

TEST_P(AccountsTest, ApiKeyRoundTrip) {
  const auto key = make_key("k1", "m1");
  store_->insert_api_key(key);
  const auto found = store_->find_api_key("k1");
  ASSERT_TRUE(found.has_value());
  expect_same(key, *found);
  EXPECT_FALSE(store_->find_api_key("k2").has_value());
}

TEST_P(AccountsTest, RevokeApiKeyOnlyForItsMerchantAndOnlyOnce) {
  store_->insert_merchant(make_merchant("m2"));
  store_->insert_api_key(make_key("k1", "m1"));

  EXPECT_FALSE(store_->revoke_api_key("m2", "k1", ms(10)));  // another merchant's key
  EXPECT_FALSE(store_->find_api_key("k1")->revoked_at.has_value());
  EXPECT_FALSE(store_->revoke_api_key("m1", "unknown", ms(10)));

  EXPECT_TRUE(store_->revoke_api_key("m1", "k1", ms(20)));
  EXPECT_EQ(store_->find_api_key("k1")->revoked_at, ms(20));

  EXPECT_FALSE(store_->revoke_api_key("m1", "k1", ms(30)));   // already revoked
  EXPECT_EQ(store_->find_api_key("k1")->revoked_at, ms(20));  // first revocation stands
}

TEST_P(AccountsTest, ErrorsNameTheOperationButNeverTheValues) {
  store_->insert_api_key(make_key("k1", "m1"));
  auto duplicate = make_key("k1", "m1");
  duplicate.api_secret = domain::Secret("hunter2-very-secret");
  try {
    store_->insert_api_key(duplicate);
    FAIL() << "a duplicate api key was accepted";
  } catch (const StoreError& error) {
    const std::string message = error.what();
    EXPECT_THAT(message, HasSubstr("insert_api_key"));
    EXPECT_THAT(message, HasSubstr(unique_violation()));
    EXPECT_THAT(message, Not(HasSubstr("hunter2")));
  }
}

TEST_P(AccountsTest, DeviceRoundTrip) {
  auto device = make_device("d3", "m1");
  device.label = "";  // an empty label stays empty, not NULL
  device.metadata_json = R"({"model":"A920","serialNumber":"SN-\u00e9"})";
  ASSERT_TRUE(store_->insert_device(device));
  const auto found = store_->find_device("d3");
  ASSERT_TRUE(found.has_value());
  expect_same(device, *found);
  EXPECT_FALSE(store_->find_device("nope").has_value());
}

TEST_P(AccountsTest, DeviceIdsAreGloballyUnique) {
  store_->insert_merchant(make_merchant("m2"));
  auto clash = make_device("d1", "m2");
  clash.label = "Other till";
  EXPECT_FALSE(store_->insert_device(clash));
  EXPECT_FALSE(store_->insert_device(make_device("d1", "m1")));
  expect_same(make_device("d1", "m1"), *store_->find_device("d1"));  // unchanged
}

TEST_P(AccountsTest, DeviceOfUnknownMerchantIsAnError) {
  EXPECT_THROW((void)store_->insert_device(make_device("d9", "nobody")), StoreError);
}

TEST_P(AccountsTest, DevicesAreListedPerMerchant) {
  store_->insert_merchant(make_merchant("m2"));
  ASSERT_TRUE(store_->insert_device(make_device("d3", "m2")));
  const auto devices = store_->list_devices("m1");
  ASSERT_EQ(devices.size(), 2U);
  EXPECT_EQ(devices[0].device_id, "d1");
  EXPECT_EQ(devices[1].device_id, "d2");
  EXPECT_EQ(store_->list_devices("m2").size(), 1U);
  EXPECT_TRUE(store_->list_devices("m3").empty());
}

TEST_P(AccountsTest, RevokeDeviceOnlyForItsMerchantAndOnlyOnce) {
  store_->insert_merchant(make_merchant("m2"));
  EXPECT_FALSE(store_->revoke_device("m2", "d1", ms(10)));
  EXPECT_FALSE(store_->revoke_device("m1", "unknown", ms(10)));
  EXPECT_TRUE(store_->revoke_device("m1", "d1", ms(20)));
  EXPECT_FALSE(store_->revoke_device("m1", "d1", ms(30)));
  EXPECT_EQ(store_->find_device("d1")->revoked_at, ms(20));
  EXPECT_FALSE(store_->find_device("d2")->revoked_at.has_value());
}

TEST_P(AccountsTest, RevokeMerchantDeviceTellsAFirstRevocationFromARepeat) {
  store_->insert_merchant(make_merchant("m2"));
  EXPECT_EQ(store_->revoke_merchant_device("m2", "d1", ms(10)), DeviceRevokeOutcome::not_found);
  EXPECT_EQ(store_->revoke_merchant_device("m1", "unknown", ms(10)),
            DeviceRevokeOutcome::not_found);
  EXPECT_FALSE(store_->find_device("d1")->revoked_at.has_value());
  EXPECT_EQ(store_->revoke_merchant_device("m1", "d1", ms(20)), DeviceRevokeOutcome::revoked);
  EXPECT_EQ(store_->revoke_merchant_device("m1", "d1", ms(30)),
            DeviceRevokeOutcome::already_revoked);
  // Revoked already, but another merchant's all the same.
  EXPECT_EQ(store_->revoke_merchant_device("m2", "d1", ms(40)), DeviceRevokeOutcome::not_found);
  EXPECT_EQ(store_->find_device("d1")->revoked_at, ms(20));
  EXPECT_FALSE(store_->find_device("d2")->revoked_at.has_value());
}

TILLGATE_STORE_BACKENDS(AccountsTest);

}  // namespace
}  // namespace tillgate::store::testing
