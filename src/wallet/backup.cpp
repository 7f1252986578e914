#include "dojang/wallet/backup.hpp"

#include "dojang/pki/keyfile.hpp"
#include "dojang/wallet/credential.hpp"
#include "wallet/internal/add_once.hpp"
#include "wallet/internal/fs.hpp"
#include "wallet/internal/key_material.hpp"

namespace dojang::wallet {

namespace {

// Certificates and key files are a few KB.
constexpr std::size_t kMaxCredentialFile = 1u << 20;

std::optional<SecretBytes> clone(const std::optional<SecretBytes>& r) {
  if (!r) return std::nullopt;
  return r->clone();
}

// The km pair of a credential folder, opened with the certificate password.
Result<pki::Pkcs12Pair> open_km_pair(const StoredCredential& cred, const SecretString& password) {
  DOJANG_ASSIGN(Bytes cert_der, internal::read_file(*cred.km_cert_path, kMaxCredentialFile));
  DOJANG_ASSIGN(Bytes key_file, internal::read_file(*cred.km_key_path, kMaxCredentialFile));
  DOJANG_ASSIGN(pki::Certificate cert, pki::Certificate::from_der(cert_der));
  auto key = pki::decrypt_key_file(key_file, password);
  if (!key.ok()) {
    if (key.error().code == Errc::wrong_password)
      return Error{Errc::wrong_password, "kmPri.key does not open with the certificate password"};
    return Error{key.error().code, "kmPri.key: " + key.error().message};
  }
  if (!cert.matches(key->key))
    return Error{Errc::key_mismatch, "kmPri.key does not belong to kmCert.der"};
  return pki::Pkcs12Pair{cert, std::move(key->key), std::move(key->random_num)};
}

Status same_pair(const pki::Pkcs12Pair& a, const pki::Pkcs12Pair& b, std::string_view what) {
  if (!a.cert.matches(b.key)) return Error{Errc::crypto, std::string(what) + " does not give back the same certificate"};
  return internal::same_key_material(a.key, a.random_num, b.key, b.random_num, what);
}

// An NPKI key file for the pair under password, checked to decrypt back.
Result<Bytes> key_file_for(const pki::Pkcs12Pair& pair, const SecretString& password) {
  const SecretBytes* r = pair.random_num ? &*pair.random_num : nullptr;
  DOJANG_ASSIGN(Bytes file, pki::encrypt_key_file(pair.key, r, password));
  DOJANG_ASSIGN(pki::DecryptedKey back, pki::decrypt_key_file(file, password));
  DOJANG_TRY(internal::same_key_material(pair.key, pair.random_num, back.key, back.random_num,
                                         "the new key file"));
  return file;
}

}  // namespace

Result<Bytes> export_backup(const StoredCredential& cred, const SecretString& password,
                            const BackupOptions& options, const Clock& clock) {
  DOJANG_ASSIGN(UnlockedCredential unlocked, unlock(cred, password, clock));
  pki::Pkcs12Contents contents{
      pki::Pkcs12Pair{unlocked.cert, unlocked.key.key, clone(unlocked.key.random_num)}, std::nullopt, {}};
  if (cred.km_cert_path && cred.km_key_path) {
    DOJANG_ASSIGN(pki::Pkcs12Pair km, open_km_pair(cred, password));
    contents.km.emplace(std::move(km));
  }
  pki::Pkcs12Options o;
  o.profile = options.legacy ? pki::Pkcs12Profile::legacy : pki::Pkcs12Profile::modern;
  DOJANG_ASSIGN(Bytes pfx, pki::write_pkcs12(contents, password, o));

  // The file must give back exactly what went in before anyone relies on it.
  DOJANG_ASSIGN(pki::Pkcs12Contents back, pki::read_pkcs12(pfx, password));
  DOJANG_TRY(same_pair(contents.sign, back.sign, "the new .pfx file"));
  if (contents.km.has_value() != back.km.has_value())
    return Error{Errc::crypto, "the new .pfx file lost the km pair"};
  if (contents.km) DOJANG_TRY(same_pair(*contents.km, *back.km, "the new .pfx file (km pair)"));
  return pfx;
}

Result<StoredCredential> import_backup(NpkiStore& store, ByteView pfx, const SecretString& password,
                                       bool overwrite) {
  DOJANG_ASSIGN(pki::Pkcs12Contents contents, pki::read_pkcs12(pfx, password));
  DOJANG_ASSIGN(Bytes sign_key, key_file_for(contents.sign, password));
  DOJANG_ASSIGN(Bytes sign_cert, contents.sign.cert.der());
  std::optional<std::pair<Bytes, Bytes>> km;
  if (contents.km) {
    DOJANG_ASSIGN(Bytes km_key, key_file_for(*contents.km, password));
    DOJANG_ASSIGN(Bytes km_cert, contents.km->cert.der());
    km.emplace(std::move(km_cert), std::move(km_key));
  }
  return internal::add_once(store, sign_cert, sign_key, km, overwrite);
}

bool is_backup_file(const std::filesystem::path& path) {
  auto kind = internal::kind_of(path);
  return kind.ok() && *kind == internal::Kind::regular;
}

}  // namespace dojang::wallet
