#include "pki/internal/ossl.hpp"

#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/random.hpp"
#include "dojang/pki/time_text.hpp"

namespace dojang {

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::usage: return "usage";
    case Errc::invalid_input: return "invalid_input";
    case Errc::foreign_format: return "foreign_format";
    case Errc::wrong_password: return "wrong_password";
    case Errc::key_mismatch: return "key_mismatch";
    case Errc::bad_signature: return "bad_signature";
    case Errc::not_found: return "not_found";
    case Errc::ambiguous: return "ambiguous";
    case Errc::already_exists: return "already_exists";
    case Errc::policy: return "policy";
    case Errc::io: return "io";
    case Errc::crypto: return "crypto";
  }
  return "unknown";
}

std::string format_utc(TimePoint t, const char* format) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[128];
  std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

void secure_wipe(void* p, std::size_t n) noexcept {
  if (p != nullptr && n != 0) OPENSSL_cleanse(p, n);
}

SecretBytes& SecretBytes::operator=(SecretBytes&& o) noexcept {
  if (this != &o) {
    clear();
    b_ = std::move(o.b_);
  }
  return *this;
}

void SecretBytes::resize_down(std::size_t n) {
  if (n >= b_.size()) return;
  secure_wipe(b_.data() + n, b_.size() - n);
  b_.resize(n);
}

void SecretBytes::clear() noexcept {
  secure_wipe(b_.data(), b_.size());
  b_.clear();
}

SecretString& SecretString::operator=(SecretString&& o) noexcept {
  if (this != &o) {
    clear();
    s_ = std::move(o.s_);
  }
  return *this;
}

void SecretString::clear() noexcept {
  // Wipe the whole capacity: short strings live inside the object.
  secure_wipe(s_.data(), s_.capacity());
  s_.clear();
}

}  // namespace dojang

namespace dojang::pki {

Status random_bytes(std::span<std::uint8_t> out) {
  if (out.empty()) return {};
  return internal::check(::RAND_bytes_ex(internal::libctx(), out.data(), out.size(), 0),
                         "RAND_bytes_ex");
}

Result<Bytes> random_bytes(std::size_t n) {
  Bytes b(n);
  DOJANG_TRY(random_bytes(std::span<std::uint8_t>(b)));
  return b;
}

}  // namespace dojang::pki

namespace dojang::pki::internal {

std::string drain_errors(std::string_view label) {
  std::string out(label);
  bool first = true;
  unsigned long e;
  const char* data = nullptr;
  int flags = 0;
  while ((e = ::ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    char buf[256];
    ::ERR_error_string_n(e, buf, sizeof buf);
    out += first ? ": " : "; ";
    first = false;
    const char* reason = ::ERR_reason_error_string(e);
    out += reason != nullptr ? reason : buf;
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') {
      out += " (";
      out += data;
      out += ")";
    }
  }
  if (first) out += ": failed";
  return out;
}

void clear_errors() noexcept { ::ERR_clear_error(); }

Status check(int rc, std::string_view label, Errc code) {
  if (rc == 1) return {};
  return Error{code, drain_errors(label)};
}

namespace {

struct Context {
  Ptr<OSSL_LIB_CTX> ctx;
  OSSL_PROVIDER* deflt = nullptr;
  OSSL_PROVIDER* legacy = nullptr;

  Context() : ctx(own(::OSSL_LIB_CTX_new())) {
    if (!ctx) abort_with("OSSL_LIB_CTX_new");
    deflt = ::OSSL_PROVIDER_load(ctx.get(), "default");
    if (deflt == nullptr) abort_with("loading the OpenSSL default provider");
    legacy = ::OSSL_PROVIDER_load(ctx.get(), "legacy");
    if (legacy == nullptr) abort_with("loading the OpenSSL legacy provider (SEED)");
  }
  ~Context() {
    if (legacy != nullptr) ::OSSL_PROVIDER_unload(legacy);
    if (deflt != nullptr) ::OSSL_PROVIDER_unload(deflt);
  }

  [[noreturn]] static void abort_with(const char* what) {
    // A missing provider is an installation fault, not an input error.
    std::fprintf(stderr, "dojang: fatal: %s\n", drain_errors(what).c_str());
    std::abort();
  }
};

}  // namespace

OSSL_LIB_CTX* libctx() {
  static Context context;
  return context.ctx.get();
}

std::optional<TimePoint> time_of(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ::ASN1_TIME_to_tm(t, &tm) != 1) {
    clear_errors();
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

Result<Ptr<EVP_MD>> fetch_md(const char* name) {
  Ptr<EVP_MD> md = own(::EVP_MD_fetch(libctx(), name, nullptr));
  if (!md) return Error{Errc::foreign_format, drain_errors(std::string("digest ") + name)};
  return md;
}

Result<Ptr<EVP_CIPHER>> fetch_cipher(const char* name) {
  Ptr<EVP_CIPHER> c = own(::EVP_CIPHER_fetch(libctx(), name, nullptr));
  if (!c) return Error{Errc::foreign_format, drain_errors(std::string("cipher ") + name)};
  return c;
}

}  // namespace dojang::pki::internal
