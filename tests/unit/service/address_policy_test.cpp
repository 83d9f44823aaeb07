// Where webhooks may go (webhooks/address_policy.hpp): the public internet only, unless
// TILLGATE_WEBHOOK_ALLOW_PRIVATE says otherwise.
#include "webhooks/address_policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tillgate::webhooks {
namespace {

TEST(AddressPolicy, PublicAddressesAreAllowed) {
  for (const std::string address :
       {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.15.255.255", "172.32.0.0", "100.63.255.255",
        "100.128.0.0", "169.253.255.255", "198.17.255.255", "198.20.0.0", "223.255.255.255",
        "2606:4700:4700::1111", "2a00:1450:4001:81c::200e", "::ffff:8.8.8.8", "64:ff9b::808:808"}) {
    EXPECT_TRUE(is_public_address(address)) << address;
  }
}

TEST(AddressPolicy, LoopbackPrivateLinkLocalAndSpecialAddressesAreNot) {
  for (const std::string address : {"127.0.0.1",
                                    "127.255.255.254",
                                    "10.0.0.1",
                                    "10.255.255.255",
                                    "172.16.0.1",
                                    "172.31.255.255",
                                    "192.168.1.1",
                                    "169.254.169.254",
                                    "100.64.0.1",
                                    "100.127.255.255",
                                    "0.0.0.0",
                                    "0.1.2.3",
                                    "192.0.0.8",
                                    "198.18.0.1",
                                    "198.19.255.255",
                                    "224.0.0.1",
                                    "239.255.255.250",
                                    "240.0.0.1",
                                    "255.255.255.255",
                                    "::",
                                    "::1",
                                    "fc00::1",
                                    "fd12:3456::1",
                                    "fe80::1",
                                    "febf::1",
                                    "ff02::1",
                                    "100::1",
                                    "2001:db8::1",
                                    "::ffff:127.0.0.1",
                                    "::ffff:10.1.2.3",
                                    "::ffff:169.254.169.254",
                                    "64:ff9b::a9fe:a9fe",
                                    "::127.0.0.1",
                                    "fe80::1%eth0"}) {
    EXPECT_FALSE(is_public_address(address)) << address;
  }
}

TEST(AddressPolicy, TextThatIsNotAnAddressIsNotPublic) {
  for (const std::string text : {"", "localhost", "example.com", "1.2.3", "1.2.3.4.5", "01.2.3.4",
                                 "::g", "8.8.8.8 ", " 8.8.8.8", "0x08080808"}) {
    EXPECT_FALSE(is_public_address(text)) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace tillgate::webhooks
