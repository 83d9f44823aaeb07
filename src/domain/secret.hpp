#pragma once
// Secret: a credential's text (an API secret "tgs_...", a device secret "tds_...", a webhook
// secret "whsec_...", the admin token) that must never reach a log or a response it was not
// meant for.
//
// - reveal() is the only way to read it, named so that every use can be found with grep.
// - equals() compares in constant time; there is no operator==.
// - It cannot be formatted (fmt, spdlog) or streamed: both are compile errors.
// - Its bytes are wiped (OPENSSL_cleanse) when it is destroyed, moved from or overwritten.
//   Copies are independent and each wipes its own bytes; a std::string that the caller
//   keeps, or that reveal() was copied into, is the caller's to handle.
#include <fmt/core.h>

#include <iosfwd>
#include <string>
#include <string_view>

namespace tillgate::domain {

class Secret {
 public:
  Secret() = default;  // empty: "no secret"
  // Takes the text; the string moved from is wiped.
  explicit Secret(std::string value);

  Secret(const Secret& other) = default;
  Secret(Secret&& other) noexcept;  // `other` is left empty, its bytes wiped
  Secret& operator=(const Secret& other);
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  // The only way to read the secret. Keep the reference short-lived; do not log it.
  [[nodiscard]] const std::string& reveal() const noexcept { return value_; }
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

  // In time that depends only on the lengths, never on where the bytes differ. An empty
  // Secret equals nothing, not even "": an unset credential must not authenticate anyone.
  [[nodiscard]] bool equals(std::string_view presented) const;

  friend std::ostream& operator<<(std::ostream& out, const Secret& secret) = delete;

 private:
  std::string value_;
};

}  // namespace tillgate::domain

// Not formattable: fmt::is_formattable<Secret> is false, and fmt::format("{}", secret) or
// spdlog::info("{}", secret) does not compile.
//
// fmt 9 decides formattability by whether formatter<T> can be default-constructed, inside
// is_formattable and inside its own overload selection. So the specialisation below has a
// deleted constructor. (A constructible formatter whose parse or format holds a
// static_assert would not do: is_formattable would be true, or, when format's return type is
// deduced, fmt would instantiate its body while asking and is_formattable itself would fail
// to compile. Both were tried with fmt 9.1.)
template <>
struct fmt::formatter<tillgate::domain::Secret> {
  formatter() = delete;  // a Secret cannot be formatted or logged; log an id instead
};

// The clear message. With a compile-time format string (fmt::format, spdlog::info with a
// literal), fmt 9 falls back to detail::fallback_formatter<T> when formatter<T> cannot be
// constructed; this specialisation of it fails to compile with the message below. fmt 9
// only looks at fallback_formatter there (has_fallback_formatter is std::false_type unless
// FMT_DEPRECATED_OSTREAM is defined), so is_formattable stays false. With a runtime format
// string (fmt::runtime) or another fmt version, the error is fmt's own "Cannot format an
// argument" instead, still a compile error.
#if FMT_VERSION >= 90000 && FMT_VERSION < 100000 && !defined(FMT_DEPRECATED_OSTREAM)
namespace tillgate::domain::detail {
template <class T>
inline constexpr bool secret_formatting_requested = false;
}  // namespace tillgate::domain::detail

template <class Char>
struct fmt::detail::fallback_formatter<tillgate::domain::Secret, Char> {
  static_assert(tillgate::domain::detail::secret_formatting_requested<Char>,
                "a Secret cannot be formatted or logged; log an id instead");
};
#endif
