#include "dojang/wallet/store.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "wallet/internal/fs.hpp"

namespace dojang::wallet {

namespace fs = std::filesystem;
using internal::Kind;
using internal::lower_ascii;

namespace {

constexpr std::size_t kMaxCertSize = 1 << 20;  // real certificates are about 2 KB
constexpr mode_t kDirMode = 0700;
constexpr mode_t kKeyMode = 0600;
constexpr mode_t kCertMode = 0644;

// The file names of a credential folder, canonical spelling.
constexpr std::string_view kSignCert = "signCert.der";
constexpr std::string_view kSignKey = "signPri.key";
constexpr std::string_view kKmCert = "kmCert.der";
constexpr std::string_view kKmKey = "kmPri.key";

bool is_known_file(std::string_view name) {
  const std::string l = lower_ascii(name);
  for (auto k : {kSignCert, kSignKey, kKmCert, kKmKey, kAttemptsFile})
    if (l == lower_ascii(k)) return true;
  return false;
}

// The regular file among `names` spelled `canonical` in any letter case; the
// exact spelling wins when several exist.
std::optional<fs::path> find_file(const fs::path& folder, const std::vector<std::string>& names,
                                  std::string_view canonical) {
  std::optional<fs::path> found;
  const std::string want = lower_ascii(canonical);
  for (const auto& n : names) {
    if (lower_ascii(n) != want) continue;
    auto k = internal::kind_of(folder / n);
    if (!k.ok() || *k != Kind::regular) continue;
    if (n == canonical) return folder / n;
    if (!found) found = folder / n;
  }
  return found;
}

// Splits an RFC 2253 line into its attribute=value components at unescaped
// ',' and '+'.
std::vector<std::string> dn_components(std::string_view dn) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < dn.size(); ++i) {
    const char c = dn[i];
    if (c == '\\' && i + 1 < dn.size()) {
      cur += c;
      cur += dn[++i];
    } else if (c == ',' || c == '+') {
      out.push_back(std::move(cur));
      cur.clear();
      cur += c;  // keep the separator to rebuild the line
    } else {
      cur += c;
    }
  }
  out.push_back(std::move(cur));
  return out;
}

// Removes RFC 2253 escapes: "\," and "\XX" (hex).
std::string dn_unescape(std::string_view v) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\' || i + 1 >= v.size()) {
      out += v[i];
    } else if (i + 2 < v.size() && hex(v[i + 1]) >= 0 && hex(v[i + 2]) >= 0) {
      out += static_cast<char>(hex(v[i + 1]) * 16 + hex(v[i + 2]));
      i += 2;
    } else {
      out += v[++i];
    }
  }
  return out;
}

// The first value of attribute `type` ("o") in an RFC 2253 line, unescaped.
std::optional<std::string> dn_attribute(std::string_view dn, std::string_view type) {
  for (auto comp : dn_components(dn)) {
    std::string_view c = comp;
    if (!c.empty() && (c[0] == ',' || c[0] == '+')) c.remove_prefix(1);
    const auto eq = c.find('=');
    if (eq == std::string_view::npos) continue;
    if (lower_ascii(c.substr(0, eq)) == type) return dn_unescape(c.substr(eq + 1));
  }
  return std::nullopt;
}

// Replaces what a file name cannot hold ('/', NUL, control characters) and
// refuses "." and "..".
std::string file_name_safe(std::string s) {
  for (char& c : s)
    if (c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '_';
  if (s == "." || s == "..") s = "_";
  // NAME_MAX is 255 bytes: cut at a UTF-8 character boundary.
  if (s.size() > 255) {
    std::size_t cut = 255;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
  }
  return s;
}

// Loads one credential folder; never fails: problems go to broken_reason.
StoredCredential load_credential(const fs::path& root, const std::string& ca,
                                 const fs::path& folder) {
  StoredCredential c;
  c.root = root;
  c.folder = folder;
  c.ca_folder = ca;
  auto names = internal::list_dir(folder);
  if (!names.ok()) {
    c.broken_reason = names.error().message;
    return c;
  }
  auto cert = find_file(folder, *names, kSignCert);
  auto key = find_file(folder, *names, kSignKey);
  c.km_cert_path = find_file(folder, *names, kKmCert);
  c.km_key_path = find_file(folder, *names, kKmKey);
  if (key) c.key_path = *key;
  if (!cert) {
    c.broken_reason = names->empty() ? "empty folder (no signCert.der)" : "no signCert.der";
    return c;
  }
  c.cert_path = *cert;
  auto der = internal::read_file(*cert, kMaxCertSize);
  if (!der.ok()) {
    c.broken_reason = "cannot read signCert.der: " + der.error().message;
    return c;
  }
  auto parsed = pki::Certificate::from_der(*der);
  if (!parsed.ok()) {
    c.broken_reason = "signCert.der is not a certificate: " + parsed.error().message;
    return c;
  }
  c.cert = *parsed;
  auto info = parsed->info();
  if (!info.ok()) {
    c.broken_reason = "signCert.der cannot be decoded: " + info.error().message;
    return c;
  }
  c.info = std::move(*info);
  if (!key) {
    c.broken_reason = "no signPri.key";
    return c;
  }
  struct stat st {};
  if (::stat(key->c_str(), &st) != 0 || st.st_size == 0) {
    c.broken_reason = "signPri.key is empty";
  } else if (::access(key->c_str(), R_OK) != 0) {
    c.broken_reason = "cannot read signPri.key: " + internal::errno_text(errno);
  }
  return c;
}

StoredCredential broken_entry(const fs::path& root, const std::string& ca, const fs::path& folder,
                              std::string reason) {
  StoredCredential c;
  c.root = root;
  c.folder = folder;
  c.ca_folder = ca;
  c.broken_reason = std::move(reason);
  return c;
}

// Subfolders of `dir` (links followed), skipping dot names, files and dangling
// links; entries that cannot be examined go to on_error.
template <class OnDir, class OnError>
void for_each_subdir(const fs::path& dir, const std::vector<std::string>& names, OnDir on_dir,
                     OnError on_error) {
  for (const auto& n : names) {
    if (n.empty() || n[0] == '.') continue;
    auto k = internal::kind_of(dir / n);
    if (!k.ok()) {
      on_error(dir / n, k.error().message);
      continue;
    }
    if (*k == Kind::directory) on_dir(n);
  }
}

void scan_root(const fs::path& root, std::vector<StoredCredential>& out) {
  auto root_kind = internal::kind_of(root);
  if (!root_kind.ok()) {
    out.push_back(broken_entry(root, "", root, root_kind.error().message));
    return;
  }
  if (*root_kind != Kind::directory) return;  // missing (or a file): an empty root
  auto cas = internal::list_dir(root);
  if (!cas.ok()) {
    out.push_back(broken_entry(root, "", root, cas.error().message));
    return;
  }
  auto report = [&](const std::string& ca) {
    return [&out, &root, ca](const fs::path& p, const std::string& why) {
      out.push_back(broken_entry(root, ca, p, why));
    };
  };
  for_each_subdir(
      root, *cas,
      [&](const std::string& ca) {
        const fs::path ca_dir = root / ca;
        auto entries = internal::list_dir(ca_dir);
        if (!entries.ok()) {
          out.push_back(broken_entry(root, ca, ca_dir, entries.error().message));
          return;
        }
        for (const auto& u : *entries) {
          if (lower_ascii(u) != "user") continue;
          const fs::path user = ca_dir / u;
          auto uk = internal::kind_of(user);
          if (!uk.ok()) {
            out.push_back(broken_entry(root, ca, user, uk.error().message));
            continue;
          }
          if (*uk != Kind::directory) continue;
          auto dns = internal::list_dir(user);
          if (!dns.ok()) {
            out.push_back(broken_entry(root, ca, user, dns.error().message));
            continue;
          }
          for_each_subdir(
              user, *dns,
              [&](const std::string& dn) { out.push_back(load_credential(root, ca, user / dn)); },
              report(ca));
        }
      },
      report(""));
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string strip_leading_zeros(std::string s) {
  const auto p = s.find_first_not_of('0');
  return p == std::string::npos ? "0" : s.substr(p);
}

std::string describe(const StoredCredential& c) {
  return c.info->cn + " (serial 0x" + c.info->serial_hex + ", " + c.folder.string() + ")";
}

// The same path as `p`, made absolute and normalised, for comparisons.
fs::path normal(const fs::path& p) {
  std::error_code ec;
  fs::path w = fs::weakly_canonical(p, ec);
  return ec ? p.lexically_normal() : w;
}

}  // namespace

NpkiStore::NpkiStore(std::vector<fs::path> roots) : roots_(std::move(roots)) {}

fs::path NpkiStore::default_root() {
  if (const char* dir = std::getenv("DOJANG_NPKI_DIR"); dir != nullptr && *dir != '\0') return dir;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return fs::path(home) / "NPKI";
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr)
    return fs::path(pw->pw_dir) / "NPKI";
  return "NPKI";
}

Result<std::vector<StoredCredential>> NpkiStore::list() const {
  std::vector<StoredCredential> out;
  for (const auto& root : roots_) scan_root(root, out);
  return out;
}

Result<StoredCredential> NpkiStore::select(std::string_view selector) const {
  std::string sel(selector);
  while (!sel.empty() && (sel.back() == ' ' || sel.back() == '\t')) sel.pop_back();
  while (!sel.empty() && (sel.front() == ' ' || sel.front() == '\t')) sel.erase(0, 1);
  if (sel.empty()) return Error{Errc::usage, "empty certificate selector"};

  DOJANG_ASSIGN(auto all, list());
  std::vector<const StoredCredential*> matches;
  auto pick = [&](auto pred) {
    matches.clear();
    for (const auto& c : all)
      if (c.info && pred(*c.info)) matches.push_back(&c);
  };
  const std::string lsel = lower_ascii(sel);
  if (lsel.size() > 2 && lsel.compare(0, 2, "0x") == 0) {
    const std::string hex = lsel.substr(2);
    if (!std::all_of(hex.begin(), hex.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
      return Error{Errc::usage, "'" + sel + "' is not a hexadecimal serial number"};
    const std::string want = strip_leading_zeros(hex);
    pick([&](const pki::CertificateInfo& i) { return strip_leading_zeros(i.serial_hex) == want; });
  } else {
    if (all_digits(sel)) {
      const std::string want = strip_leading_zeros(sel);
      pick(
          [&](const pki::CertificateInfo& i) { return strip_leading_zeros(i.serial_dec) == want; });
    }
    if (matches.empty())
      pick([&](const pki::CertificateInfo& i) {
        return lower_ascii(i.cn).find(lsel) != std::string::npos;
      });
  }
  if (matches.empty()) return Error{Errc::not_found, "no certificate matches '" + sel + "'"};
  if (matches.size() > 1) {
    std::string msg = "'" + sel + "' matches " + std::to_string(matches.size()) + " certificates: ";
    for (std::size_t i = 0; i < matches.size(); ++i) msg += (i ? "; " : "") + describe(*matches[i]);
    return Error{Errc::ambiguous, msg};
  }
  return *matches.front();
}

std::string npki_ca_folder(std::string_view organization) {
  const std::string o = lower_ascii(organization);
  static const std::array<std::pair<std::string_view, std::string_view>, 6> known = {{
      {"yessign", "yessign"},
      {"signgate", "KICA"},
      {"kica", "KICA"},
      {"signkorea", "SignKorea"},
      {"crosscert", "CrossCert"},
      {"tradesign", "TradeSign"},
  }};
  for (auto [from, to] : known)
    if (o == from) return std::string(to);
  if (organization.empty()) return "unknown";
  return file_name_safe(std::string(organization));
}

Result<std::string> npki_folder_name(const pki::CertificateInfo& info) {
  if (info.subject.empty())
    return Error{Errc::invalid_input, "the certificate has an empty subject"};
  std::string out;
  for (auto comp : dn_components(info.subject)) {
    std::size_t start = (!comp.empty() && (comp[0] == ',' || comp[0] == '+')) ? 1 : 0;
    const auto eq = comp.find('=', start);
    if (eq != std::string::npos)
      comp = comp.substr(0, start) + lower_ascii(comp.substr(start, eq - start)) + comp.substr(eq);
    out += comp;
  }
  return file_name_safe(std::move(out));
}

Result<StoredCredential> NpkiStore::add(ByteView cert_der, ByteView key_file,
                                        const std::optional<std::pair<Bytes, Bytes>>& km,
                                        bool overwrite) {
  if (roots_.empty()) return Error{Errc::usage, "no NPKI folder to store the certificate in"};
  DOJANG_ASSIGN(pki::Certificate cert, pki::Certificate::from_der(cert_der));
  DOJANG_ASSIGN(pki::CertificateInfo info, cert.info());
  if (key_file.empty()) return Error{Errc::invalid_input, "the private key file is empty"};
  if (km) {
    auto km_cert = pki::Certificate::from_der(km->first);
    if (!km_cert.ok())
      return Error{Errc::invalid_input,
                   "kmCert.der is not a certificate: " + km_cert.error().message};
    if (km->second.empty()) return Error{Errc::invalid_input, "kmPri.key is empty"};
  }

  std::string org = dn_attribute(info.subject, "o").value_or("");
  if (org.empty()) org = dn_attribute(info.issuer, "o").value_or("");
  const std::string ca = npki_ca_folder(org);
  DOJANG_ASSIGN(std::string name, npki_folder_name(info));
  const fs::path& root = roots_.front();
  const fs::path user = root / ca / "USER";
  const fs::path dest = user / name;

  DOJANG_ASSIGN(Kind existing, internal::kind_of(dest));
  if (existing != Kind::missing && !overwrite)
    return Error{Errc::already_exists,
                 "a credential for " + info.cn + " already exists in " + dest.string()};

  DOJANG_TRY(internal::make_dirs(user, kDirMode));
  DOJANG_ASSIGN(fs::path tmp, internal::make_temp_dir(user, ".dojang-new-"));
  internal::TreeGuard guard(tmp);
  DOJANG_TRY(internal::write_new_file(tmp / kSignCert, cert_der, kCertMode));
  DOJANG_TRY(internal::write_new_file(tmp / kSignKey, key_file, kKeyMode));
  if (km) {
    DOJANG_TRY(internal::write_new_file(tmp / kKmCert, km->first, kCertMode));
    DOJANG_TRY(internal::write_new_file(tmp / kKmKey, km->second, kKeyMode));
  }
  DOJANG_TRY(internal::fsync_dir(tmp));

  if (existing != Kind::missing) {
    // Swap the complete new folder in; the old one lands at `tmp` and is
    // deleted only once the swap is durable.
    DOJANG_TRY(internal::rename_exchange(tmp, dest));
    DOJANG_TRY(internal::fsync_dir(user));
  } else {
    auto renamed = internal::rename_noreplace(tmp, dest);
    if (!renamed.ok()) {
      if (renamed.error().code == Errc::already_exists)
        return Error{Errc::already_exists,
                     "a credential for " + info.cn + " already exists in " + dest.string()};
      return std::move(renamed).error();
    }
    guard.release();
    DOJANG_TRY(internal::fsync_dir(user));
  }
  return load_credential(root, ca, dest);
}

Status NpkiStore::check_own_folder(const fs::path& folder) const {
  if (folder.empty()) return Error{Errc::usage, "no credential folder given"};
  // Only ever touch folders inside <root>/<CA>/USER/ of this store.
  fs::path canonical = normal(folder);
  if (!canonical.has_filename()) canonical = canonical.parent_path();  // a trailing '/'
  const fs::path parent = canonical.parent_path();
  const bool ours = lower_ascii(parent.filename().string()) == "user" &&
                    std::any_of(roots_.begin(), roots_.end(), [&](const fs::path& r) {
                      return normal(r) == parent.parent_path().parent_path();
                    });
  if (!ours)
    return Error{Errc::usage, folder.string() + " is not a credential folder of this NPKI store"};
  DOJANG_ASSIGN(Kind k, internal::kind_of(folder));
  if (k == Kind::missing) return Error{Errc::not_found, folder.string() + " no longer exists"};
  if (k != Kind::directory) return Error{Errc::usage, folder.string() + " is not a folder"};
  return {};
}

Result<fs::path> NpkiStore::retire(const StoredCredential& cred, std::string_view label) const {
  DOJANG_TRY(check_own_folder(cred.folder));
  fs::path folder = normal(cred.folder);
  if (!folder.has_filename()) folder = folder.parent_path();
  std::string base = "." + std::string(label);
  if (cred.info) base += "-" + cred.info->serial_hex;
  base += "-" + folder.filename().string();
  fs::path target = folder.parent_path() / base;
  for (int i = 2;; ++i) {
    DOJANG_ASSIGN(Kind k, internal::kind_of(target));
    if (k == Kind::missing) break;
    target = folder.parent_path() / (base + "." + std::to_string(i));
  }
  if (::rename(folder.c_str(), target.c_str()) != 0)
    return Error{Errc::io, "cannot move " + folder.string() + " aside: " +
                               internal::errno_text(errno)};
  DOJANG_TRY(internal::fsync_dir(folder.parent_path()));
  return target;
}

Result<std::vector<fs::path>> NpkiStore::remove(const StoredCredential& cred) const {
  const fs::path folder = cred.folder;
  DOJANG_TRY(check_own_folder(folder));

  DOJANG_ASSIGN(auto names, internal::list_dir(folder));
  std::vector<fs::path> remaining;
  for (const auto& n : names) {
    const fs::path p = folder / n;
    if (!is_known_file(n)) {
      remaining.push_back(p);
      continue;
    }
    if (::unlink(p.c_str()) != 0)
      return Error{Errc::io, "cannot delete " + p.string() + ": " + internal::errno_text(errno)};
  }
  if (remaining.empty()) {
    if (::rmdir(folder.c_str()) != 0)
      return Error{Errc::io,
                   "cannot delete " + folder.string() + ": " + internal::errno_text(errno)};
  }
  DOJANG_TRY(internal::fsync_dir(remaining.empty() ? folder.parent_path() : folder));
  return remaining;
}

Status atomic_write_file(const fs::path& path, ByteView data, fs::perms perms) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  DOJANG_ASSIGN(fs::path tmp,
                internal::write_temp_file(dir, "." + path.filename().string() + ".tmp-", data,
                                          static_cast<mode_t>(perms) & 07777));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Error{Errc::io, "cannot replace " + path.string() + ": " + internal::errno_text(err)};
  }
  return internal::fsync_dir(dir);
}

}  // namespace dojang::wallet
