// Result<T>: the return type of library operations that can fail because of
// input or environment. Exceptions are kept for programming errors.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace dojang {

// Error codes, mapped once at the edge (CLI exit codes, HTTP statuses, ...).
enum class Errc {
  usage,            // the caller asked for something malformed (bad flag value, bad IDN syntax)
  invalid_input,    // corrupt, truncated or malformed data
  foreign_format,   // well-formed but not something we support (unknown OID, algorithm)
  wrong_password,   // the password does not decrypt the key
  key_mismatch,     // the private key does not belong to the certificate
  bad_signature,    // a signature does not verify
  not_found,        // no such certificate / file
  ambiguous,        // a selector matched more than one certificate
  already_exists,   // refusing to overwrite
  policy,           // refused by policy (weak password, expired, revoked)
  io,               // file system or network failure
  crypto,           // an OpenSSL operation failed for a reason other than the input
};

// Short stable name of an error code ("wrong_password"), used in --json output.
const char* errc_name(Errc code) noexcept;

struct Error {
  Errc code;
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}     // NOLINT(google-explicit-constructor)
  Result(Errc code, std::string message) : v_(Error{code, std::move(message)}) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), failed_(true) {}  // NOLINT
  Result(Errc code, std::string message) : err_{code, std::move(message)}, failed_(true) {}

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const& { assert(failed_); return err_; }
  Error&& error() && { assert(failed_); return std::move(err_); }

 private:
  Error err_{Errc::crypto, {}};
  bool failed_ = false;
};

using Status = Result<void>;

inline Status ok_status() { return {}; }

}  // namespace dojang

// Propagate a failed Result from the enclosing function.
#define DOJANG_TRY(expr)                                  \
  do {                                                    \
    auto&& dojang_try_r_ = (expr);                        \
    if (!dojang_try_r_.ok()) return dojang_try_r_.error(); \
  } while (0)

#define DOJANG_CONCAT_INNER_(a, b) a##b
#define DOJANG_CONCAT_(a, b) DOJANG_CONCAT_INNER_(a, b)
// DOJANG_ASSIGN(auto x, expr): evaluate expr, return its error or bind its value.
#define DOJANG_ASSIGN(decl, expr) DOJANG_ASSIGN_IMPL_(DOJANG_CONCAT_(dojang_r_, __LINE__), decl, expr)
#define DOJANG_ASSIGN_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                         \
  if (!tmp.ok()) return std::move(tmp).error(); \
  decl = std::move(tmp).value()
