#include "domain/secret.hpp"

#include <openssl/crypto.h>

#include <utility>

#include "crypto/crypto.hpp"

namespace tillgate::domain {
namespace {

// Wipes every byte the string owns, up to its capacity, and leaves it empty. The bytes past
// size() may still hold an earlier, longer value, or, in the small-string buffer, what a
// move copied out; resize(capacity()) never reallocates and makes them addressable.
void wipe(std::string& text) noexcept {
  text.resize(text.capacity());
  OPENSSL_cleanse(text.data(), text.size());
  text.clear();
}

}  // namespace

Secret::Secret(std::string value) : value_(std::move(value)) {
  // A short value was copied out of value's small-string buffer, not taken from it.
  wipe(value);
}

Secret::Secret(Secret&& other) noexcept : value_(std::move(other.value_)) {
  wipe(other.value_);
}

Secret& Secret::operator=(const Secret& other) {
  if (this != &other) {
    wipe(value_);
    value_ = other.value_;
  }
  return *this;
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    // Wiped first: libstdc++'s move assignment may hand this buffer to `other`.
    wipe(value_);
    value_ = std::move(other.value_);
    wipe(other.value_);
  }
  return *this;
}

Secret::~Secret() {
  wipe(value_);
}

bool Secret::equals(std::string_view presented) const {
  // constant_time_equal's time depends on the lengths only; checked after it, so an empty
  // Secret costs the same as any other of its length.
  const bool same = crypto::constant_time_equal(value_, presented);
  return same && !value_.empty();
}

}  // namespace tillgate::domain
