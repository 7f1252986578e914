#include "dojang/ca/hierarchy.hpp"

#include <openssl/objects.h>
#include <openssl/pem.h>

#include <chrono>
#include <system_error>
#include <vector>

#include "ca/internal/files.hpp"
#include "ca/internal/keystore.hpp"
#include "ca/internal/options.hpp"
#include "ca/internal/x509_build.hpp"
#include "dojang/ca/issue.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::ca {

namespace fs = std::filesystem;
using pki::internal::drain_errors;
using pki::internal::own;
using pki::internal::Ptr;

namespace {

constexpr std::size_t kMaxFileSize = 1 << 20;
constexpr mode_t kKeyMode = 0600;
constexpr mode_t kKeyDirMode = 0700;
constexpr mode_t kPublicMode = 0644;
constexpr mode_t kDirMode = 0755;

constexpr auto kClockSkew = std::chrono::minutes(5);
constexpr int kRootYears = 20;
constexpr int kIssuingYears = 10;
constexpr int kServiceYears = 2;  // OCSP signer, CMP protection, key management

constexpr const char* kConfFile = "hierarchy.conf";
constexpr const char* kRootPem = "root.pem";
constexpr const char* kChainPem = "chain.pem";

// The five credentials of a hierarchy: file stems under certs/ and keys/.
enum Role { kRoot, kIssuing, kOcsp, kCmp, kKm, kRoles };
constexpr const char* kStem[kRoles] = {"root", "issuing", "ocsp", "cmp", "km"};

fs::path cert_path(const fs::path& dir, Role r) {
  return dir / "certs" / (std::string(kStem[r]) + ".pem");
}
fs::path key_path(const fs::path& dir, Role r) {
  return dir / "keys" / (std::string(kStem[r]) + ".key.pem");
}

std::chrono::system_clock::duration years(int n) {
  return std::chrono::days(365 * n + n / 4);
}

Result<std::string> sha256_fingerprint(const pki::Certificate& cert) {
  DOJANG_ASSIGN(Ptr<EVP_MD> md, pki::internal::fetch_md("SHA256"));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  DOJANG_TRY(pki::internal::check(::X509_digest(cert.native(), md.get(), digest, &len),
                                  "certificate fingerprint"));
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    if (i != 0) out += ':';
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

Result<Bytes> cert_pem(const pki::Certificate& cert) {
  Ptr<BIO> bio = own(::BIO_new(::BIO_s_mem()));
  if (!bio) return Error{Errc::crypto, drain_errors("BIO_new")};
  DOJANG_TRY(
      pki::internal::check(::PEM_write_bio_X509(bio.get(), cert.native()), "PEM_write_bio_X509"));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return Bytes(data, data + len);
}

// What one certificate of the hierarchy is.
struct Profile {
  const char* cn_suffix;
  const char* basic_constraints;
  const char* key_usage;
  const char* ext_key_usage;  // nullptr: none
  bool ocsp_nocheck;
  int years;
};

constexpr Profile kProfiles[kRoles] = {
    {"Root CA", "critical,CA:TRUE", "critical,keyCertSign,cRLSign", nullptr, false, kRootYears},
    {"Issuing CA", "critical,CA:TRUE,pathlen:0", "critical,keyCertSign,cRLSign", nullptr, false,
     kIssuingYears},
    // RFC 6960 section 4.2.2.2: a delegated responder carries id-kp-OCSPSigning;
    // id-pkix-ocsp-nocheck tells clients not to check the responder itself.
    {"OCSP Responder", "CA:FALSE", "critical,digitalSignature", "OCSPSigning", true, kServiceYears},
    // RFC 9483 section 3.1: id-kp-cmcCA marks a CA's own CMP protection certificate.
    {"CMP", "CA:FALSE", "critical,digitalSignature", "cmcCA", false, kServiceYears},
    {"Key Management", "CA:FALSE", "critical,keyEncipherment", nullptr, false, kServiceYears},
};

// Issues one hierarchy certificate. issuer == nullptr: self-signed (the root).
Result<pki::Certificate> make_ca_certificate(Role role, const InitOptions& options,
                                             const pki::PrivateKey& subject_key,
                                             const pki::Certificate* issuer,
                                             const pki::PrivateKey& issuer_key,
                                             const Clock& clock) {
  const Profile& p = kProfiles[role];
  DOJANG_ASSIGN(Ptr<X509_NAME> subject,
                internal::make_name({{NID_countryName, "kr"},
                                     {NID_organizationName, options.ca_name},
                                     {NID_commonName, options.ca_name + " " + p.cn_suffix}}));
  DOJANG_ASSIGN(Bytes serial, new_serial());
  TimePoint nb = clock.now() - kClockSkew;
  TimePoint na = nb + years(p.years);
  if (issuer != nullptr) {
    DOJANG_ASSIGN(TimePoint cap, internal::not_after_of(issuer->native()));
    if (na > cap) na = cap;
  }
  const X509_NAME* issuer_name =
      issuer != nullptr ? ::X509_get_subject_name(issuer->native()) : subject.get();
  DOJANG_ASSIGN(Ptr<X509> x, internal::new_certificate(subject.get(), issuer_name, serial, nb, na));
  DOJANG_TRY(
      pki::internal::check(::X509_set_pubkey(x.get(), subject_key.native()), "X509_set_pubkey"));
  const X509* issuer_x = issuer != nullptr ? issuer->native() : x.get();
  DOJANG_TRY(internal::add_ext(x.get(), issuer_x, NID_basic_constraints, p.basic_constraints));
  DOJANG_TRY(internal::add_ext(x.get(), issuer_x, NID_key_usage, p.key_usage));
  if (p.ext_key_usage != nullptr)
    DOJANG_TRY(internal::add_ext(x.get(), issuer_x, NID_ext_key_usage, p.ext_key_usage));
  if (p.ocsp_nocheck)
    DOJANG_TRY(internal::add_ext(x.get(), issuer_x, NID_id_pkix_OCSP_noCheck, "ignored"));
  DOJANG_TRY(internal::add_ext(x.get(), issuer_x, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr)
    DOJANG_TRY(internal::add_ext(x.get(), issuer_x, NID_authority_key_identifier, "keyid:always"));
  DOJANG_TRY(internal::sign_certificate(x.get(), issuer_key.native()));
  return internal::to_certificate(x.get());
}

// Undoes a failed init: removes what it created, newest first.
class Rollback {
 public:
  ~Rollback() {
    if (committed_) return;
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
      std::error_code ec;
      fs::remove(*it, ec);
    }
  }
  void add(fs::path p) { created_.push_back(std::move(p)); }
  void commit() { committed_ = true; }

 private:
  std::vector<fs::path> created_;
  bool committed_ = false;
};

Status write_file(Rollback& rollback, const fs::path& p, ByteView data, mode_t mode) {
  DOJANG_TRY(internal::write_new_file(p, data, mode));
  rollback.add(p);
  return {};
}

Status make_dir(Rollback& rollback, const fs::path& p, mode_t mode) {
  bool created = false;
  DOJANG_TRY(internal::make_dir(p, mode, created));
  if (created) rollback.add(p);
  return {};
}

// Any load error, phrased as "<file>: <what>" and mapped to invalid_input
// unless it is an I/O failure.
Error file_error(const fs::path& p, Error e) {
  if (e.code == Errc::io) return e;
  std::string msg = e.message;
  if (msg.rfind(p.string(), 0) != 0) msg = p.string() + ": " + msg;
  return Error{Errc::invalid_input, std::move(msg)};
}

Result<pki::Certificate> load_cert(const fs::path& p) {
  auto bytes = internal::read_file(p, kMaxFileSize);
  if (!bytes) return file_error(p, std::move(bytes).error());
  auto cert = pki::Certificate::from_pem(*bytes);
  if (!cert) return file_error(p, std::move(cert).error());
  return std::move(cert).value();
}

Result<pki::PrivateKey> load_key(const fs::path& p, const SecretString& passphrase) {
  auto bytes = internal::read_file(p, kMaxFileSize);
  if (!bytes) return file_error(p, std::move(bytes).error());
  auto key = internal::decrypt_key_pem(*bytes, passphrase);
  if (!key) {
    if (key.error().code == Errc::wrong_password)
      return Error{Errc::wrong_password, "wrong passphrase for the CA keys (" + p.string() + ")"};
    return file_error(p, std::move(key).error());
  }
  return std::move(key).value();
}

Status check_pair(const fs::path& dir, Role r, const pki::Certificate& cert,
                  const pki::PrivateKey& key) {
  if (!cert.matches(key))
    return Error{Errc::key_mismatch,
                 key_path(dir, r).string() + " does not belong to " + cert_path(dir, r).string()};
  return {};
}

Status check_signed_by(const fs::path& dir, Role r, const pki::Certificate& cert,
                       const pki::Certificate& issuer) {
  EVP_PKEY* pub = ::X509_get0_pubkey(issuer.native());
  bool ok = pub != nullptr &&
            ::X509_NAME_cmp(::X509_get_issuer_name(cert.native()),
                            ::X509_get_subject_name(issuer.native())) == 0 &&
            ::X509_verify(cert.native(), pub) == 1;
  pki::internal::clear_errors();
  if (!ok)
    return Error{Errc::invalid_input,
                 cert_path(dir, r).string() + ": not issued by the certificate in " +
                     cert_path(dir, r == kIssuing ? kRoot : kIssuing).string()};
  return {};
}

}  // namespace

// Builds Hierarchy objects (its constructor is private).
struct HierarchyAccess {
  static Hierarchy make(fs::path dir, InitOptions options, std::vector<pki::Certificate>& certs,
                        std::vector<pki::PrivateKey>& keys, std::string fingerprint) {
    Hierarchy h(std::move(dir), std::move(options), certs[kRoot], certs[kIssuing], certs[kOcsp],
                certs[kCmp], certs[kKm], keys[0], keys[1], keys[2], keys[3]);
    h.root_fingerprint_ = std::move(fingerprint);
    return h;
  }
  static void set_root_key(Hierarchy& h, pki::PrivateKey key) { h.root_key_ = std::move(key); }
};

Hierarchy::Hierarchy(fs::path dir, InitOptions options, pki::Certificate root,
                     pki::Certificate issuing, pki::Certificate ocsp, pki::Certificate cmp,
                     pki::Certificate km, pki::PrivateKey issuing_key, pki::PrivateKey ocsp_key,
                     pki::PrivateKey cmp_key, pki::PrivateKey km_key)
    : dir_(std::move(dir)),
      options_(std::move(options)),
      root_cert_(std::move(root)),
      issuing_cert_(std::move(issuing)),
      ocsp_cert_(std::move(ocsp)),
      cmp_cert_(std::move(cmp)),
      km_cert_(std::move(km)),
      issuing_key_(std::move(issuing_key)),
      ocsp_key_(std::move(ocsp_key)),
      cmp_key_(std::move(cmp_key)),
      km_key_(std::move(km_key)) {}

const char* key_type_name(KeyType type) noexcept {
  switch (type) {
    case KeyType::rsa3072:
      return "rsa3072";
    case KeyType::rsa2048:
      return "rsa2048";
    case KeyType::ec_p256:
      return "ec_p256";
  }
  return "unknown";
}

Result<KeyType> parse_key_type(std::string_view name) {
  if (name == "rsa3072" || name == "rsa-3072") return KeyType::rsa3072;
  if (name == "rsa2048" || name == "rsa-2048") return KeyType::rsa2048;
  if (name == "ec_p256" || name == "ec-p256" || name == "p256" || name == "ecdsa-p256")
    return KeyType::ec_p256;
  return Error{Errc::usage,
               "unknown key type '" + std::string(name) + "' (want rsa3072, rsa2048 or ec_p256)"};
}

Result<Hierarchy> init_hierarchy(const fs::path& dir, const SecretString& passphrase,
                                 const InitOptions& requested, const Clock& clock) {
  if (passphrase.empty()) return Error{Errc::usage, "the CA passphrase is empty"};
  DOJANG_ASSIGN(InitOptions options, internal::normalize_options(requested));
  for (const char* entry : {kConfFile, kRootPem, kChainPem, "keys", "certs"}) {
    if (internal::exists_nofollow(dir / entry))
      return Error{Errc::already_exists, dir.string() + " already holds a CA hierarchy (found " +
                                             entry + "); refusing to overwrite it"};
  }

  // Keys and certificates, all in memory first.
  const KeyType types[kRoles] = {KeyType::rsa3072, options.issuing_key, options.issuing_key,
                                 options.issuing_key, KeyType::rsa2048};
  std::vector<pki::PrivateKey> keys;
  for (KeyType t : types) {
    DOJANG_ASSIGN(pki::PrivateKey k, internal::generate_key(t));
    keys.push_back(std::move(k));
  }
  std::vector<pki::Certificate> certs;
  DOJANG_ASSIGN(pki::Certificate root,
                make_ca_certificate(kRoot, options, keys[kRoot], nullptr, keys[kRoot], clock));
  certs.push_back(std::move(root));
  DOJANG_ASSIGN(pki::Certificate issuing, make_ca_certificate(kIssuing, options, keys[kIssuing],
                                                              &certs[kRoot], keys[kRoot], clock));
  certs.push_back(std::move(issuing));
  for (Role r : {kOcsp, kCmp, kKm}) {
    DOJANG_ASSIGN(pki::Certificate c, make_ca_certificate(r, options, keys[r], &certs[kIssuing],
                                                          keys[kIssuing], clock));
    certs.push_back(std::move(c));
  }

  std::vector<Bytes> key_pems, cert_pems;
  for (int r = 0; r < kRoles; ++r) {
    DOJANG_ASSIGN(Bytes kp, internal::encrypt_key_pem(keys[r], passphrase));
    key_pems.push_back(std::move(kp));
    DOJANG_ASSIGN(Bytes cp, cert_pem(certs[r]));
    cert_pems.push_back(std::move(cp));
  }
  Bytes chain = cert_pems[kIssuing];
  chain.insert(chain.end(), cert_pems[kRoot].begin(), cert_pems[kRoot].end());
  std::string conf = internal::format_options(options);
  DOJANG_ASSIGN(std::string fingerprint, sha256_fingerprint(certs[kRoot]));

  // Then the files; hierarchy.conf last. On failure everything created goes again.
  Rollback rollback;
  DOJANG_TRY(make_dir(rollback, dir, kKeyDirMode));
  DOJANG_TRY(make_dir(rollback, dir / "keys", kKeyDirMode));
  DOJANG_TRY(make_dir(rollback, dir / "certs", kDirMode));
  for (int r = 0; r < kRoles; ++r) {
    DOJANG_TRY(write_file(rollback, key_path(dir, static_cast<Role>(r)), key_pems[r], kKeyMode));
    DOJANG_TRY(
        write_file(rollback, cert_path(dir, static_cast<Role>(r)), cert_pems[r], kPublicMode));
  }
  DOJANG_TRY(write_file(rollback, dir / kChainPem, chain, kPublicMode));
  DOJANG_TRY(write_file(rollback, dir / kRootPem, cert_pems[kRoot], kPublicMode));
  DOJANG_TRY(internal::fsync_dir(dir / "keys"));
  DOJANG_TRY(internal::fsync_dir(dir / "certs"));
  DOJANG_TRY(write_file(rollback, dir / kConfFile,
                        ByteView(reinterpret_cast<const std::uint8_t*>(conf.data()), conf.size()),
                        kPublicMode));
  DOJANG_TRY(internal::fsync_dir(dir));
  rollback.commit();

  pki::PrivateKey root_key = keys[kRoot];
  std::vector<pki::PrivateKey> online(keys.begin() + kIssuing, keys.end());
  Hierarchy h =
      HierarchyAccess::make(dir, std::move(options), certs, online, std::move(fingerprint));
  HierarchyAccess::set_root_key(h, std::move(root_key));
  return h;
}

Result<Hierarchy> load_hierarchy(const fs::path& dir, const SecretString& passphrase) {
  if (passphrase.empty()) return Error{Errc::usage, "the CA passphrase is empty"};
  fs::path conf_path = dir / kConfFile;
  auto conf_bytes = internal::read_file(conf_path, kMaxFileSize);
  if (!conf_bytes) {
    if (conf_bytes.error().code == Errc::not_found)
      return Error{Errc::invalid_input, conf_path.string() + ": missing (no CA hierarchy in " +
                                            dir.string() + "; run init first)"};
    return file_error(conf_path, std::move(conf_bytes).error());
  }
  auto options = internal::parse_options(
      std::string_view(reinterpret_cast<const char*>(conf_bytes->data()), conf_bytes->size()));
  if (!options) return file_error(conf_path, std::move(options).error());

  std::vector<pki::Certificate> certs;
  for (int r = 0; r < kRoles; ++r) {
    DOJANG_ASSIGN(pki::Certificate c, load_cert(cert_path(dir, static_cast<Role>(r))));
    certs.push_back(std::move(c));
  }
  DOJANG_TRY(check_signed_by(dir, kIssuing, certs[kIssuing], certs[kRoot]));
  for (Role r : {kOcsp, kCmp, kKm}) DOJANG_TRY(check_signed_by(dir, r, certs[r], certs[kIssuing]));

  // The issuing key decides whether the passphrase is right; a later key that
  // does not decrypt under it is a damaged file.
  std::vector<pki::PrivateKey> keys;
  for (Role r : {kIssuing, kOcsp, kCmp, kKm}) {
    auto k = load_key(key_path(dir, r), passphrase);
    if (!k) {
      if (k.error().code == Errc::wrong_password && r != kIssuing)
        return Error{Errc::invalid_input,
                     key_path(dir, r).string() +
                         ": does not decrypt with the passphrase that opens the issuing CA key "
                         "(damaged file?)"};
      return std::move(k).error();
    }
    DOJANG_TRY(check_pair(dir, r, certs[r], *k));
    keys.push_back(std::move(k).value());
  }
  DOJANG_ASSIGN(std::string fingerprint, sha256_fingerprint(certs[kRoot]));
  return HierarchyAccess::make(dir, std::move(options).value(), certs, keys,
                               std::move(fingerprint));
}

Result<pki::PrivateKey> load_root_key(const fs::path& dir, const SecretString& passphrase) {
  if (passphrase.empty()) return Error{Errc::usage, "the CA passphrase is empty"};
  DOJANG_ASSIGN(pki::Certificate root, load_cert(cert_path(dir, kRoot)));
  DOJANG_ASSIGN(pki::PrivateKey key, load_key(key_path(dir, kRoot), passphrase));
  DOJANG_TRY(check_pair(dir, kRoot, root, key));
  return key;
}

}  // namespace dojang::ca
