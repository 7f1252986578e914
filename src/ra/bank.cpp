#include "dojang/ra/bank.hpp"

#include <sodium.h>

#include <array>
#include <cstdio>
#include <limits>
#include <string>

#include "dojang/pki/aead.hpp"
#include "dojang/pki/random.hpp"
#include "dojang/pki/vid.hpp"
#include "ra/internal/keys.hpp"

namespace dojang::ra {

namespace {

constexpr std::size_t kTokenBytes = 32;
constexpr std::size_t kRefDigits = 8;
constexpr std::uint32_t kRefLow = 10'000'000;  // first digit non-zero
constexpr std::uint32_t kRefCount = 90'000'000;
constexpr int kRefAttempts = 32;
constexpr std::uint32_t kOtpCount = 1'000'000;  // 6 digits
constexpr std::size_t kOtpDigits = 6;
// Crockford's base-32: no I, L, O, U.
constexpr std::string_view kAuthAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::size_t kAuthSymbols = 16;  // 16 x 5 bits = 80 bits
constexpr std::size_t kAuthGroup = 4;
constexpr std::size_t kMinPassword = 8;
constexpr std::size_t kMaxPassword = 1024;
constexpr std::size_t kMaxCustomerId = 64;
constexpr std::size_t kMaxRealName = 64;
constexpr std::size_t kMaxBankCode = 32;

const char* const kNoSession = "not logged in, or the session expired; log in again";
const char* const kSessionClosed = "session closed after 5 wrong IDNs; log in again";
const char* const kWrongLogin = "wrong customer id or password";
const char* const kLocked = "account locked after 5 failed logins; ask the bank";
const char* const kUnknownRef = "unknown reference number";

ByteView bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Status init_sodium() {
  static const int rc = ::sodium_init();  // thread-safe, idempotent
  if (rc < 0) return Error{Errc::crypto, "libsodium failed to initialise"};
  return {};
}

Result<std::string> hash_password(const SecretString& password) {
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (::crypto_pwhash_str_alg(
          out.data(), password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
          crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Error{Errc::crypto, "Argon2id password hashing failed (out of memory?)"};
  return std::string(out.data());
}

bool password_matches(const std::string& hash, const SecretString& password) {
  return ::crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool equal_macs(ByteView a, ByteView b) {
  return a.size() == b.size() && ::sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// A uniform integer in [0, n), by rejection sampling 32-bit draws.
Result<std::uint32_t> uniform_below(std::uint32_t n) {
  constexpr std::uint64_t kRange = std::uint64_t{1} << 32;
  const std::uint64_t limit = kRange - kRange % n;
  for (;;) {
    std::array<std::uint8_t, 4> b{};
    DOJANG_TRY(pki::random_bytes(b));
    const std::uint64_t x = (std::uint64_t{b[0]} << 24) | (std::uint64_t{b[1]} << 16) |
                            (std::uint64_t{b[2]} << 8) | b[3];
    secure_wipe(b.data(), b.size());
    if (x < limit) return static_cast<std::uint32_t>(x % n);
  }
}

// value as exactly `digits` decimal digits, in a SecretString.
SecretString zero_padded(std::uint32_t value, std::size_t digits) {
  std::string s;
  s.reserve(64);  // on the heap, so moving it into the SecretString copies nothing
  s.assign(digits, '0');
  for (std::size_t i = digits; i-- > 0; value /= 10) s[i] = static_cast<char>('0' + value % 10);
  return SecretString(std::move(s));
}

Result<SecretString> random_auth_code() {
  std::array<std::uint8_t, kAuthSymbols * 5 / 8> raw{};  // 10 bytes = 80 bits
  DOJANG_TRY(pki::random_bytes(raw));
  std::string code;
  code.reserve(64);
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t emitted = 0;
  for (std::uint8_t byte : raw) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      if (emitted != 0 && emitted % kAuthGroup == 0) code.push_back('-');
      code.push_back(kAuthAlphabet[(acc >> bits) & 0x1f]);
      ++emitted;
    }
  }
  acc = 0;
  secure_wipe(raw.data(), raw.size());
  return SecretString(std::move(code));
}

Result<SecretString> random_token() {
  std::array<std::uint8_t, kTokenBytes> raw{};
  DOJANG_TRY(pki::random_bytes(raw));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  token.reserve(kTokenBytes * 2);
  for (std::uint8_t b : raw) {
    token.push_back(kHex[b >> 4]);
    token.push_back(kHex[b & 0x0f]);
  }
  secure_wipe(raw.data(), raw.size());
  return SecretString(std::move(token));
}

bool is_token_syntax(std::string_view token) {
  if (token.size() != kTokenBytes * 2) return false;
  for (char c : token)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Structurally valid UTF-8 (no overlongs, surrogates or code points past
// U+10FFFF) without C0/C1 control characters or DEL.
bool is_clean_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned c = *p;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++p;
      continue;
    }
    int n = 0;
    std::uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
      return false;
    p += n + 1;
  }
  return true;
}

Status validate_customer_id(std::string_view id) {
  bool ok = !id.empty() && id.size() <= kMaxCustomerId;
  for (char c : id)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-' || c == '@');
  if (!ok) return Error{Errc::usage, "a customer id is 1-64 of the characters A-Z a-z 0-9 . _ - @"};
  return {};
}

Status validate_real_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxRealName || !is_clean_utf8(name) || name.front() == ' ' ||
      name.back() == ' ')
    return Error{
        Errc::usage,
        "a real name is 1-64 bytes of UTF-8 without control characters or surrounding spaces"};
  return {};
}

Status validate_bank_code(std::string_view code) {
  bool ok = !code.empty() && code.size() <= kMaxBankCode && is_clean_utf8(code);
  // It becomes an ou= of the certificate's subject: keep DN syntax out.
  for (char c : code) ok = ok && std::string_view(" ,=+\"\\<>;#").find(c) == std::string_view::npos;
  if (!ok)
    return Error{Errc::usage,
                 "a bank code is 1-32 bytes of UTF-8 without spaces, controls or any of , = + \" "
                 "\\ < > ; #"};
  return {};
}

Status validate_password(const SecretString& pw) {
  if (pw.size() < kMinPassword || pw.size() > kMaxPassword)
    return Error{Errc::usage, "a login password has 8 to 1024 bytes"};
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------

Result<Bank> Bank::create(store::BankStore& store, SecretBytes data_key, SmsGateway& sms,
                          const Clock& clock) {
  DOJANG_TRY(init_sodium());
  Keys keys;
  DOJANG_ASSIGN(keys.idn_seal, internal::derive_key(data_key, "idn-seal"));
  DOJANG_ASSIGN(keys.idn_mac, internal::derive_key(data_key, "idn-mac"));
  DOJANG_ASSIGN(keys.otp_mac, internal::derive_key(data_key, "otp-mac"));
  DOJANG_ASSIGN(keys.code_seal, internal::derive_key(data_key, "auth-code-seal"));
  data_key.clear();
  DOJANG_ASSIGN(SecretString dummy_password, random_token());
  DOJANG_ASSIGN(std::string dummy_hash, hash_password(dummy_password));
  return Bank(store, std::move(keys), sms, clock, std::move(dummy_hash));
}

Status Bank::enrol(const Enrolment& e) {
  DOJANG_TRY(validate_customer_id(e.customer_id));
  DOJANG_TRY(validate_real_name(e.real_name));
  DOJANG_ASSIGN(SecretString idn, pki::normalize_idn(e.idn.view()));
  DOJANG_ASSIGN(std::string phone, normalize_phone(e.phone));
  DOJANG_TRY(validate_bank_code(e.bank_code));
  DOJANG_TRY(validate_password(e.login_password));

  // Fail fast before the Argon2id work; insert_customer still guards races.
  if (auto existing = store_->find_customer(e.customer_id); existing.ok()) {
    return Error{Errc::already_exists, "customer '" + e.customer_id + "' already exists"};
  } else if (existing.error().code != Errc::not_found) {
    return std::move(existing).error();
  }

  store::CustomerRecord r;
  r.customer_id = e.customer_id;
  r.real_name = e.real_name;
  DOJANG_ASSIGN(r.idn_sealed,
                pki::seal(keys_.idn_seal.view(), idn.bytes(), bytes_of(e.customer_id)));
  DOJANG_ASSIGN(r.idn_mac, pki::hmac_sha256(keys_.idn_mac.view(), idn.bytes()));
  r.phone = std::move(phone);
  r.bank_code = e.bank_code;
  DOJANG_ASSIGN(r.password_hash, hash_password(e.login_password));
  r.created_at = clock_->now();
  return store_->insert_customer(r);
}

Result<Session> Bank::login(std::string_view customer_id, const SecretString& password) {
  auto customer = store_->find_customer(customer_id);
  if (!customer.ok()) {
    if (customer.error().code != Errc::not_found) return std::move(customer).error();
    // As much work as for a real customer, so timing does not tell them apart.
    (void)password_matches(dummy_hash_, password);
    return Error{Errc::wrong_password, kWrongLogin};
  }
  if (customer->failed_logins >= kMaxLoginFailures) return Error{Errc::policy, kLocked};
  // Count the attempt as failed before checking it, so parallel guesses
  // cannot get past the limit; a success resets the count.
  DOJANG_ASSIGN(store::Attempt attempt,
                store_->reserve_login_attempt(customer_id, kMaxLoginFailures));
  if (!attempt.allowed) return Error{Errc::policy, kLocked};
  if (!password_matches(customer->password_hash, password))
    return Error{Errc::wrong_password, kWrongLogin};
  DOJANG_TRY(store_->reset_login_failures(customer_id));

  const TimePoint now = clock_->now();
  DOJANG_TRY(store_->purge_sessions(now));
  DOJANG_ASSIGN(SecretString token, random_token());
  store::SessionRecord s;
  DOJANG_ASSIGN(s.token_hash, pki::sha256(token.bytes()));
  s.customer_id = customer->customer_id;
  s.created_at = now;
  s.expires_at = now + kSessionLifetime;
  DOJANG_TRY(store_->insert_session(s));
  return Session{std::move(token), s.customer_id, s.expires_at};
}

Status Bank::logout(std::string_view token) {
  if (!is_token_syntax(token)) return {};
  DOJANG_ASSIGN(Bytes hash, pki::sha256(bytes_of(token)));
  return store_->delete_session(hash);
}

Result<store::SessionRecord> Bank::live_session(std::string_view token, Bytes& token_hash) {
  if (!is_token_syntax(token)) return Error{Errc::policy, kNoSession};
  DOJANG_ASSIGN(token_hash, pki::sha256(bytes_of(token)));
  auto s = store_->find_session(token_hash);
  if (!s.ok()) {
    if (s.error().code == Errc::not_found) return Error{Errc::policy, kNoSession};
    return std::move(s).error();
  }
  if (clock_->now() >= s->expires_at) return Error{Errc::policy, kNoSession};
  if (s->idn_failures >= kMaxIdnFailures) return Error{Errc::policy, kSessionClosed};
  return s;
}

Result<OtpSent> Bank::start_identity_check(std::string_view token, const SecretString& idn) {
  Bytes th;
  DOJANG_ASSIGN(store::SessionRecord session, live_session(token, th));
  DOJANG_ASSIGN(SecretString digits, pki::normalize_idn(idn.view()));
  DOJANG_ASSIGN(store::CustomerRecord customer, store_->find_customer(session.customer_id));

  DOJANG_ASSIGN(store::Attempt attempt, store_->reserve_idn_attempt(th, kMaxIdnFailures));
  if (!attempt.allowed) return Error{Errc::policy, kSessionClosed};
  DOJANG_ASSIGN(Bytes mac, pki::hmac_sha256(keys_.idn_mac.view(), digits.bytes()));
  if (!equal_macs(mac, customer.idn_mac)) {
    const int left = kMaxIdnFailures - attempt.failures;
    if (left <= 0)
      return Error{Errc::invalid_input,
                   "the IDN does not match the bank's records; session closed after 5 wrong IDNs, "
                   "log in again"};
    return Error{Errc::invalid_input, "the IDN does not match the bank's records (" +
                                          std::to_string(left) + " tries left)"};
  }
  DOJANG_TRY(store_->reset_idn_failures(th));

  DOJANG_ASSIGN(std::uint32_t n, uniform_below(kOtpCount));
  SecretString code = zero_padded(n, kOtpDigits);
  n = 0;
  store::OtpRecord otp;
  {
    SecretBytes input(th.size() + code.size());
    std::copy(th.begin(), th.end(), input.data());
    std::copy(code.bytes().begin(), code.bytes().end(), input.data() + th.size());
    DOJANG_ASSIGN(otp.code_mac, pki::hmac_sha256(keys_.otp_mac.view(), input.view()));
  }
  otp.expires_at = clock_->now() + kOtpLifetime;
  DOJANG_ASSIGN(bool stored, store_->put_otp(th, otp, kMaxOtpSends));
  if (!stored) return Error{Errc::policy, "too many codes requested in this session; log in again"};

  std::string text;
  text.reserve(128);
  text = "[Dojang 은행] 인증번호 ";
  text += code.view();
  text += " (3분 이내 입력). 타인에게 알려주지 마세요.";
  DOJANG_TRY(sms_->send(customer.phone, SecretString(std::move(text))));
  return OtpSent{mask_phone(customer.phone), otp.expires_at};
}

Status Bank::verify_otp(std::string_view token, std::string_view code) {
  Bytes th;
  DOJANG_ASSIGN(store::SessionRecord session, live_session(token, th));
  if (code.size() != kOtpDigits || !all_digits(code))
    return Error{Errc::invalid_input, "the code has 6 digits"};

  auto otp = store_->find_otp(th);
  if (!otp.ok()) {
    if (otp.error().code == Errc::not_found)
      return Error{Errc::policy,
                   "no code was sent in this session; start the identity check first"};
    return std::move(otp).error();
  }
  if (clock_->now() >= otp->expires_at)
    return Error{Errc::policy, "code expired; request a new one"};
  const Error dead{Errc::policy, "too many wrong codes; request a new one"};
  if (otp->failures >= kMaxOtpFailures) return dead;
  DOJANG_ASSIGN(store::Attempt attempt, store_->reserve_otp_attempt(th, kMaxOtpFailures));
  if (!attempt.allowed) return dead;

  Bytes mac;
  {
    SecretBytes input(th.size() + code.size());
    std::copy(th.begin(), th.end(), input.data());
    std::copy(code.begin(), code.end(), input.data() + th.size());
    DOJANG_ASSIGN(mac, pki::hmac_sha256(keys_.otp_mac.view(), input.view()));
  }
  if (!equal_macs(mac, otp->code_mac)) {
    const int left = kMaxOtpFailures - attempt.failures;
    if (left <= 0)
      return Error{Errc::invalid_input, "wrong code; no tries left, request a new code"};
    return Error{Errc::invalid_input, "wrong code (" + std::to_string(left) + " tries left)"};
  }
  return store_->mark_session_verified(th, clock_->now());
}

Result<ApplicationTicket> Bank::open_application(std::string_view token, Purpose purpose,
                                                 ApplicationKind kind) {
  Bytes th;
  DOJANG_ASSIGN(store::SessionRecord session, live_session(token, th));
  if (!session.verified_at)
    return Error{Errc::policy, "identity not verified; confirm the SMS code first"};
  return create_application(session.customer_id, purpose, kind, Channel::app,
                            kAppApplicationLifetime);
}

Result<ApplicationTicket> Bank::open_reissue_application(std::string_view token, Purpose purpose,
                                                       const ReissueOf& of) {
  if (of.serial_hex.empty()) return Error{Errc::usage, "no certificate to re-issue"};
  DOJANG_ASSIGN(std::string customer, verified_customer(token));
  return create_application(customer, purpose, ApplicationKind::reissue, Channel::app,
                            kAppApplicationLifetime, &of);
}

Result<std::string> Bank::verified_customer(std::string_view token) {
  Bytes th;
  DOJANG_ASSIGN(store::SessionRecord session, live_session(token, th));
  if (!session.verified_at)
    return Error{Errc::policy, "identity not verified; confirm the SMS code first"};
  if (clock_->now() >= *session.verified_at + kManagementWindow)
    return Error{Errc::policy, "identity verified more than 5 minutes ago; verify it again"};
  return session.customer_id;
}

Result<ApplicationTicket> Bank::teller_application(std::string_view customer_id, Purpose purpose,
                                                   ApplicationKind kind) {
  return create_application(customer_id, purpose, kind, Channel::teller,
                            kTellerApplicationLifetime);
}

Result<ApplicationTicket> Bank::create_application(std::string_view customer_id, Purpose purpose,
                                                   ApplicationKind kind, Channel channel,
                                                   std::chrono::seconds lifetime,
                                                   const ReissueOf* reissue) {
  DOJANG_ASSIGN(store::CustomerRecord customer, store_->find_customer(customer_id));
  const TimePoint now = clock_->now();
  for (int i = 0; i < kRefAttempts; ++i) {
    DOJANG_ASSIGN(std::uint32_t n, uniform_below(kRefCount));
    SecretString ref_digits = zero_padded(kRefLow + n, kRefDigits);
    std::string ref(ref_digits.view());
    DOJANG_ASSIGN(SecretString code, random_auth_code());

    store::ApplicationRecord a;
    a.ref = ref;
    a.customer_id = customer.customer_id;
    a.purpose = purpose;
    a.kind = kind;
    a.channel = channel;
    DOJANG_ASSIGN(a.auth_code_sealed,
                  pki::seal(keys_.code_seal.view(), code.bytes(), bytes_of(ref)));
    a.state = ApplicationState::open;
    a.created_at = now;
    a.expires_at = now + lifetime;
    if (reissue != nullptr) {
      a.replaces_serial = reissue->serial_hex;
      a.not_after = reissue->not_after;
    }
    auto id = store_->insert_application(a, now - kRefQuarantine);
    if (id.ok())
      return ApplicationTicket{std::move(ref), std::move(code), purpose, kind, a.expires_at};
    if (id.error().code != Errc::already_exists) return std::move(id).error();
  }
  return Error{Errc::io, "no free reference number found; too many live applications"};
}

Result<store::ApplicationRecord> Bank::find_application(std::string_view ref) {
  auto a = store_->find_application(ref);
  if (!a.ok() && a.error().code == Errc::not_found) return Error{Errc::not_found, kUnknownRef};
  return a;
}

Status Bank::application_error(std::string_view ref) {
  DOJANG_ASSIGN(store::ApplicationRecord a, find_application(ref));
  return application_error(a);
}

Status Bank::application_error(const store::ApplicationRecord& a) const {
  switch (a.state) {
    case ApplicationState::used:
      return Error{Errc::policy, "reference number already used"};
    case ApplicationState::locked:
      return Error{Errc::policy, "application locked after 5 failed attempts"};
    case ApplicationState::open:
      break;
  }
  if (clock_->now() >= a.expires_at) return Error{Errc::policy, "reference number expired"};
  return {};
}

Result<ApplicationForCa> Bank::application_for_ca(std::string_view ref) {
  if (ref.size() != kRefDigits || !all_digits(ref)) return Error{Errc::not_found, kUnknownRef};
  // One read for the state check and the record.
  DOJANG_ASSIGN(store::ApplicationRecord a, find_application(ref));
  DOJANG_TRY(application_error(a));
  DOJANG_ASSIGN(store::CustomerRecord customer, store_->find_customer(a.customer_id));
  auto code = pki::open(keys_.code_seal.view(), a.auth_code_sealed, bytes_of(a.ref));
  if (!code.ok())
    return Error{Errc::invalid_input,
                 "the authorization code of " + a.ref + " does not decrypt (wrong data key?)"};
  std::string text;
  text.reserve(64);
  text.assign(reinterpret_cast<const char*>(code->data()), code->size());

  ApplicationForCa out;
  out.ref = a.ref;
  out.auth_code = SecretString(std::move(text));
  out.customer_id = a.customer_id;
  out.real_name = customer.real_name;
  out.bank_code = customer.bank_code;
  out.purpose = a.purpose;
  out.kind = a.kind;
  out.channel = a.channel;
  out.expires_at = a.expires_at;
  out.mac_failures = a.mac_failures;
  out.replaces_serial = a.replaces_serial;
  out.not_after = a.not_after;
  return out;
}

Result<SecretString> Bank::customer_idn(std::string_view customer_id) {
  DOJANG_ASSIGN(store::CustomerRecord customer, store_->find_customer(customer_id));
  auto idn = pki::open(keys_.idn_seal.view(), customer.idn_sealed, bytes_of(customer.customer_id));
  if (!idn.ok())
    return Error{Errc::invalid_input, "the IDN of customer '" + customer.customer_id +
                                          "' does not decrypt (wrong data key?)"};
  std::string text;
  text.reserve(64);
  text.assign(reinterpret_cast<const char*>(idn->data()), idn->size());
  return SecretString(std::move(text));
}

Result<int> Bank::record_mac_failure(std::string_view ref) {
  auto a = store_->record_mac_failure(ref, kMaxMacFailures);
  if (!a.ok()) {
    if (a.error().code == Errc::not_found) return Error{Errc::not_found, kUnknownRef};
    return std::move(a).error();
  }
  return a->mac_failures;
}

Status Bank::mark_used(std::string_view ref) {
  auto used = store_->mark_application_used(ref, clock_->now());
  if (!used.ok()) {
    if (used.error().code == Errc::not_found) return Error{Errc::not_found, kUnknownRef};
    return std::move(used).error();
  }
  if (*used) return {};
  DOJANG_TRY(application_error(ref));
  return Error{Errc::policy, "reference number already used"};  // raced with another use
}

Status Bank::unlock_customer(std::string_view customer_id) {
  return store_->reset_login_failures(customer_id);
}

Result<CustomerInfo> Bank::get_customer(std::string_view customer_id) {
  DOJANG_ASSIGN(store::CustomerRecord c, store_->find_customer(customer_id));
  return CustomerInfo{c.customer_id, c.real_name,     c.phone,
                      c.bank_code,   c.failed_logins, c.failed_logins >= kMaxLoginFailures,
                      c.created_at};
}

Result<SecretString> normalize_auth_code(std::string_view typed) {
  std::string code;
  code.reserve(64);
  std::size_t symbols = 0;
  for (char c : typed) {
    if (c == ' ' || c == '-' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == 'O') c = '0';
    if (c == 'I' || c == 'L') c = '1';
    if (kAuthAlphabet.find(c) == std::string_view::npos || symbols == kAuthSymbols) {
      secure_wipe(code.data(), code.size());
      return Error{Errc::usage,
                   "an authorization code is 16 letters and digits, XXXX-XXXX-XXXX-XXXX"};
    }
    if (symbols != 0 && symbols % kAuthGroup == 0) code.push_back('-');
    code.push_back(c);
    ++symbols;
  }
  if (symbols != kAuthSymbols) {
    secure_wipe(code.data(), code.size());
    return Error{Errc::usage,
                 "an authorization code is 16 letters and digits, XXXX-XXXX-XXXX-XXXX"};
  }
  return SecretString(std::move(code));
}

}  // namespace dojang::ra
