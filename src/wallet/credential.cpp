#include "dojang/wallet/credential.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>

#include "dojang/pki/vid.hpp"
#include "wallet/internal/key_material.hpp"

namespace dojang::wallet {

namespace fs = std::filesystem;

namespace {

// Wrong-password throttling. The state sits beside the key file so it follows
// the credential: "<failures> <unix time of last failure>".
constexpr int kFreeAttempts = 5;

struct Throttle {
  int failures = 0;
  std::int64_t last = 0;
};

Throttle read_throttle(const fs::path& folder) {
  Throttle t;
  std::ifstream in(folder / kAttemptsFile);
  if (!(in >> t.failures >> t.last)) return {};
  t.failures = std::clamp(t.failures, 0, 1000);
  return t;
}

std::int64_t unix_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Seconds to wait after `failures` consecutive wrong passwords: none for the
// first five, then 30 s doubling per failure, at most one hour.
std::int64_t lockout_seconds(int failures) {
  if (failures < kFreeAttempts) return 0;
  int exp = std::min(failures - kFreeAttempts, 7);
  return std::min<std::int64_t>(30LL << exp, 3600);
}

void record_failure(const fs::path& folder, Throttle t, const Clock& clock) {
  t.failures += 1;
  t.last = unix_seconds(clock.now());
  std::string text = std::to_string(t.failures) + " " + std::to_string(t.last) + "\n";
  // Best effort: failing to record must not hide the wrong-password error.
  (void)atomic_write_file(folder / kAttemptsFile,
                                        ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                                        fs::perms::owner_read | fs::perms::owner_write);
}

void reset_throttle(const fs::path& folder) {
  std::error_code ec;
  fs::remove(folder / kAttemptsFile, ec);
}

// Reads a credential file (certificates and key files are a few KB; 1 MB is plenty).
Result<Bytes> read_all(const fs::path& p) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  if (ec) return Error{Errc::io, p.string() + ": " + ec.message()};
  if (size > (1u << 20)) return Error{Errc::invalid_input, p.string() + " is too large for a credential file"};
  std::ifstream in(p, std::ios::binary);
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error{Errc::io, p.string() + ": read error"};
  return data;
}

// The file in folder whose name equals name ignoring ASCII case.
std::optional<fs::path> find_ci(const fs::path& folder, std::string_view name) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    std::string f = e.path().filename().string();
    if (f.size() == name.size() &&
        std::equal(f.begin(), f.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }) &&
        e.is_regular_file(ec))
      return e.path();
  }
  return std::nullopt;
}

}  // namespace

Result<UnlockedCredential> unlock(const StoredCredential& cred, const SecretString& password,
                                  const Clock& clock) {
  if (cred.broken()) return Error{Errc::invalid_input, cred.folder.string() + ": " + cred.broken_reason};
  if (!cred.cert) return Error{Errc::invalid_input, cred.folder.string() + ": certificate not loaded"};

  Throttle t = read_throttle(cred.folder);
  std::int64_t wait = lockout_seconds(t.failures) - (unix_seconds(clock.now()) - t.last);
  if (wait > 0)
    return Error{Errc::policy, std::to_string(t.failures) +
                                   " wrong passwords in a row: try again in " + std::to_string(wait) +
                                   " s"};

  DOJANG_ASSIGN(Bytes key_file, read_all(cred.key_path));
  auto key = pki::decrypt_key_file(key_file, password);
  if (!key.ok()) {
    if (key.error().code == Errc::wrong_password) record_failure(cred.folder, t, clock);
    return std::move(key).error();
  }
  if (!cred.cert->matches(key->key)) {
    return Error{Errc::key_mismatch, cred.key_path.filename().string() +
                                         " holds a key that does not belong to " +
                                         cred.cert_path.filename().string()};
  }
  if (t.failures > 0) reset_throttle(cred.folder);
  return UnlockedCredential{cred, *cred.cert, std::move(key).value()};
}

PasswordContext password_context_for(const pki::CertificateInfo& info,
                                     const SecretString* idn_digits, std::string_view phone) {
  PasswordContext ctx;
  if (info.real_name) {
    ctx.name = *info.real_name;
  } else {
    ctx.name = info.cn.substr(0, info.cn.find("()"));
  }
  if (idn_digits != nullptr && idn_digits->size() == 13)
    ctx.birth_date = birth_date_from_idn(idn_digits->view());
  ctx.phone = std::string(phone);
  return ctx;
}

Status change_password(const StoredCredential& cred, const SecretString& old_password,
                       const SecretString& new_password, const PasswordContext& context,
                       const PasswordChange& change, const Clock& clock) {
  DOJANG_ASSIGN(UnlockedCredential unlocked, unlock(cred, old_password, clock));

  PasswordVerdict verdict = check_password(new_password, context);
  if (!verdict.ok) {
    std::string why;
    for (const auto& r : verdict.reasons) why += (why.empty() ? "" : "; ") + r;
    return Error{Errc::policy, "new password refused: " + why};
  }
  if (new_password.view() == old_password.view())
    return Error{Errc::policy, "new password refused: it is the same as the old one"};

  const SecretBytes* r = unlocked.key.random_num ? &*unlocked.key.random_num : nullptr;
  DOJANG_ASSIGN(Bytes new_file, pki::encrypt_key_file(unlocked.key.key, r, new_password, change.format));

  // The new bytes must give back exactly the same key and R before they replace anything.
  DOJANG_ASSIGN(pki::DecryptedKey check, pki::decrypt_key_file(new_file, new_password));
  DOJANG_TRY(internal::same_key_material(unlocked.key.key, unlocked.key.random_num, check.key,
                                         check.random_num, "re-encrypted key file"));
  if (!unlocked.cert.matches(check.key))
    return Error{Errc::crypto, "re-encrypted key no longer matches the certificate"};

  return atomic_write_file(cred.key_path, new_file,
                                         fs::perms::owner_read | fs::perms::owner_write);
}

Result<StoredCredential> import_folder(NpkiStore& store, const fs::path& folder,
                                       const SecretString* password, bool overwrite) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    return Error{Errc::not_found, folder.string() + " is not a folder"};
  auto find = [&](std::string_view name) { return find_ci(folder, name); };
  auto cert_path = find("signCert.der");
  auto key_path = find("signPri.key");
  if (!cert_path) return Error{Errc::invalid_input, folder.string() + " holds no signCert.der"};
  if (!key_path) return Error{Errc::invalid_input, folder.string() + " holds no signPri.key"};

  DOJANG_ASSIGN(Bytes cert_der, read_all(*cert_path));
  DOJANG_ASSIGN(Bytes key_file, read_all(*key_path));
  DOJANG_ASSIGN(pki::Certificate cert, pki::Certificate::from_der(cert_der));
  DOJANG_TRY(pki::inspect_key_file(key_file));
  if (password != nullptr) {
    DOJANG_ASSIGN(pki::DecryptedKey key, pki::decrypt_key_file(key_file, *password));
    if (!cert.matches(key.key))
      return Error{Errc::key_mismatch, "signPri.key in " + folder.string() +
                                           " does not belong to its signCert.der"};
  }

  std::optional<std::pair<Bytes, Bytes>> km;
  auto km_cert = find("kmCert.der");
  auto km_key = find("kmPri.key");
  if (km_cert && km_key) {
    DOJANG_ASSIGN(Bytes kc, read_all(*km_cert));
    DOJANG_ASSIGN(Bytes kk, read_all(*km_key));
    DOJANG_TRY(pki::Certificate::from_der(kc));
    DOJANG_TRY(pki::inspect_key_file(kk));
    km.emplace(std::move(kc), std::move(kk));
  }
  return store.add(cert_der, key_file, km, overwrite);
}

Result<bool> check_vid(const UnlockedCredential& cred, const SecretString& idn) {
  DOJANG_ASSIGN(SecretString digits, pki::normalize_idn(idn.view()));
  if (!cred.key.random_num)
    return Error{Errc::invalid_input,
                 "the key file holds no random number R, so the VID cannot be checked"};
  return pki::verify_vid(cred.cert, *cred.key.random_num, digits);
}

}  // namespace dojang::wallet
