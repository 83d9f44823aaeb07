#include "crypto/crypto.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>
#include <set>
#include <string>
#include <thread>

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

// A key longer than SHA-256's 64-byte block is hashed first.
TEST(HmacSha256, Rfc4231TestCases6And7KeysLongerThanABlock) {
  const std::string key(131, '\xaa');
  EXPECT_EQ(hex_encode(hmac_sha256(key, "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(hex_encode(hmac_sha256(
                key,
                "This is a test using a larger than block-size key and a larger than block-size "
                "data. The key needs to be hashed before being used by the HMAC algorithm.")),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

// The MAC is OpenSSL's HMAC() at every key length around the block size and every message
// length around a block boundary, and on another thread (each has its own digest context).
TEST(HmacSha256, IsOpensslsHmacAtEveryLengthAroundTheBlockSize) {
  std::mt19937 random(7);
  const auto bytes = [&random](std::size_t size) {
    std::string out(size, '\0');
    for (auto& c : out) {
      c = static_cast<char>(random() & 0xFF);
    }
    return out;
  };
  const auto openssl_hmac = [](const std::string& key, const std::string& message) {
    std::string out(EVP_MAX_MD_SIZE, '\0');
    unsigned int length = 0;
    static constexpr unsigned char kEmpty = 0;
    HMAC(EVP_sha256(), key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data()),
         static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
         message.size(), reinterpret_cast<unsigned char*>(out.data()), &length);
    out.resize(length);
    return out;
  };
  for (std::size_t key_size : {0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 200}) {
    for (std::size_t message_size : {0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000}) {
      const auto key = bytes(key_size);
      const auto message = bytes(message_size);
      EXPECT_EQ(hmac_sha256(key, message), openssl_hmac(key, message))
          << key_size << " " << message_size;
    }
  }
  const auto key = bytes(40);
  const auto message = bytes(300);
  std::string on_other_thread;
  std::thread([&] { on_other_thread = hmac_sha256(key, message); }).join();
  EXPECT_EQ(on_other_thread, openssl_hmac(key, message));
  EXPECT_EQ(sha256(message), sha256(message));  // the thread's context starts afresh each time
}

TEST(HmacSha256Key, Rfc4231VectorsAndEveryUseAlike) {
  HmacSha256Key key(std::string(20, '\x0b'));
  for (int i = 0; i < 3; ++i) {  // the prepared pads serve every message alike
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
