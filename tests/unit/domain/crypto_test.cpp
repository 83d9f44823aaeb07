#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace tillgate::crypto {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256("abc").size(), 32U);
  EXPECT_EQ(hex_encode(sha256("abc")), sha256_hex("abc"));
}

TEST(HmacSha256, Rfc4231TestCase1) {
  const std::string key(20, '\x0b');
  EXPECT_EQ(hex_encode(hmac_sha256(key, "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256, Rfc4231TestCase2) {
  EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, EmptyKeyIsAccepted) {
  EXPECT_EQ(hex_encode(hmac_sha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256Key, Rfc4231VectorsAndEveryUseAlike) {
  HmacSha256Key key(std::string(20, '\x0b'));
  for (int i = 0; i < 3; ++i) {  // the context re-keyed for each message, not consumed
    EXPECT_EQ(hex_encode(key.mac("Hi There")),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  }
  HmacSha256Key jefe("Jefe");
  EXPECT_EQ(hex_encode(jefe.mac("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  HmacSha256Key empty("");
  EXPECT_EQ(hex_encode(empty.mac("")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256Key, MatchesTheOneShotMacForKeysAroundTheBlockSize) {
  // 64 bytes is SHA-256's block: a longer key is hashed first, a shorter one padded.
  for (const std::size_t length : {1U, 32U, 63U, 64U, 65U, 131U}) {
    std::string secret;
    for (std::size_t i = 0; i < length; ++i) {
      secret.push_back(static_cast<char>('a' + i % 26));
    }
    HmacSha256Key key(secret);
    for (const std::string& message :
         std::vector<std::string>{"", "x", std::string(1000, 'm'), "POST\n/v1"}) {
      EXPECT_EQ(key.mac(message), hmac_sha256(secret, message)) << length << " " << message.size();
    }
  }
}

TEST(Hex, EncodesLowerCase) {
  EXPECT_EQ(hex_encode(""), "");
  EXPECT_EQ(hex_encode(from_hex("00ff10ab")), "00ff10ab");
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), std::string(plain)) << encoded;
  }
}

TEST(Base64, UsesStandardAlphabet) {
  EXPECT_EQ(base64_encode("\xfb\xff\xbf"), "+/+/");
  EXPECT_EQ(base64_decode("+/+/"), std::string("\xfb\xff\xbf"));
}

TEST(Base64, DecodeIsStrict) {
  for (const std::string_view bad : {"Zg", "Zg=", "Zm9", "Z===", "Zg==Zg==", "Zm=v", "Zm9v\n",
                                     " Zm9v", "Zm9_", "Zm9-", "====", "Zh==", "Zm9=", "A"}) {
    EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
  }
}

TEST(Base64Url, RoundTripsWithoutPadding) {
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  for (const std::string_view plain : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(base64url_decode(base64url_encode(plain)), std::string(plain));
  }
}

TEST(Base64Url, DecodeIsStrict) {
  for (const std::string_view bad : {"Zg==", "Zm8=", "+/+/", "Z", "Zh", "Zm9v!", "Zm 9v"}) {
    EXPECT_EQ(base64url_decode(bad), std::nullopt) << bad;
  }
}

TEST(Base32, Rfc4648VectorsLowerCaseWithoutPadding) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "my"},
      {"fo", "mzxq"},
      {"foo", "mzxw6"},
      {"foob", "mzxw6yq"},
      {"fooba", "mzxw6ytb"},
      {"foobar", "mzxw6ytboi"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base32_encode(plain), encoded);
  }
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("signature", "signature"));
  EXPECT_FALSE(constant_time_equal("signature", "signaturf"));
  EXPECT_FALSE(constant_time_equal("xignature", "signature"));
  EXPECT_FALSE(constant_time_equal("signature", "signatur"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_FALSE(constant_time_equal("abc", ""));
}

TEST(RandomBytes, DeliversTheCountAsked) {
  EXPECT_EQ(random_bytes(0).size(), 0U);
  EXPECT_EQ(random_bytes(32).size(), 32U);
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(Crypto, RandomIdBytesNeverRepeatAcrossBlocksAndRefuseMoreThanABlock) {
  // Several blocks' worth of 16-byte draws, some straddling a block's end (20 bytes
  // first): every draw has its size, and none repeats (a block is never served twice).
  std::set<std::string> seen;
  EXPECT_EQ(random_id_bytes(20).size(), 20U);
  for (std::size_t i = 0; i < 4 * kIdRandomBlockBytes / 16; ++i) {
    const auto bytes = random_id_bytes(16);
    ASSERT_EQ(bytes.size(), 16U);
    EXPECT_TRUE(seen.insert(bytes).second) << "draw " << i << " repeated";
  }
  EXPECT_EQ(random_id_bytes(kIdRandomBlockBytes).size(), kIdRandomBlockBytes);
  EXPECT_THROW((void)random_id_bytes(kIdRandomBlockBytes + 1), std::invalid_argument);
}

}  // namespace
}  // namespace tillgate::crypto
