// The certificate authority's hierarchy on disk: root CA, issuing CA, OCSP
// signer, CMP protection certificate and the CA's key-management (encryption)
// certificate for EncryptedVID, with private keys encrypted under an operator
// passphrase.
//
// Layout of the hierarchy folder (design.md section 4: DIR/root.pem, DIR/chain.pem):
//   root.pem            the root CA certificate (the trust anchor clients pin)
//   chain.pem           issuing CA + root, for `openssl verify -untrusted` and clients
//   hierarchy.conf      the CA configuration (InitOptions), key = value lines
//   certs/{root,issuing,ocsp,cmp,km}.pem
//   keys/{root,issuing,ocsp,cmp,km}.key.pem   PKCS#8 EncryptedPrivateKeyInfo, PBES2
//                       (PBKDF2-HMAC-SHA256, AES-256-CBC), mode 0600 in a 0700 folder
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/pki/key.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::ca {

// Key type of the issuing CA (and of the OCSP signer and CMP protection key).
// The root is always RSA-3072 and the key-management certificate RSA-2048.
enum class KeyType { rsa3072, rsa2048, ec_p256 };

// "rsa3072", "rsa2048", "ec_p256".
const char* key_type_name(KeyType type) noexcept;
// Parses a key type name (also accepts "rsa-3072", "rsa-2048", "ec-p256", "p256"); usage error
// otherwise.
Result<KeyType> parse_key_type(std::string_view name);

// The certificate policy OIDs put in subscriber certificates, per purpose
// (design.md section 2; yessign-style personal OIDs by default).
struct PolicyOids {
  std::string general = "1.2.410.200005.1.1.1";         // 범용
  std::string bank_insurance = "1.2.410.200005.1.1.4";  // 용도제한: 은행/보험
};

// The CA configuration, fixed at init and stored in hierarchy.conf.
struct InitOptions {
  std::string ca_name = "Dojang CA";  // o= of every certificate
  KeyType issuing_key = KeyType::rsa3072;
  std::string base_url = "http://127.0.0.1:8080";  // CDP, AIA and CPS URLs start here
  PolicyOids policies;
  unsigned crl_partitions = 16;       // CRL partitions p0 .. p<N-1>
  unsigned user_validity_days = 365;  // default subscriber certificate validity
};

class Hierarchy {
 public:
  const InitOptions& options() const noexcept { return options_; }
  const std::filesystem::path& dir() const noexcept { return dir_; }

  const pki::Certificate& root_cert() const noexcept { return root_cert_; }
  const pki::Certificate& issuing_cert() const noexcept { return issuing_cert_; }
  const pki::Certificate& ocsp_cert() const noexcept { return ocsp_cert_; }
  const pki::Certificate& cmp_cert() const noexcept { return cmp_cert_; }
  const pki::Certificate& km_cert() const noexcept { return km_cert_; }

  const pki::PrivateKey& issuing_key() const noexcept { return *issuing_key_; }
  const pki::PrivateKey& ocsp_key() const noexcept { return *ocsp_key_; }
  const pki::PrivateKey& cmp_key() const noexcept { return *cmp_key_; }
  const pki::PrivateKey& km_key() const noexcept { return *km_key_; }
  // The root key is kept offline: present after init_hierarchy, absent after
  // load_hierarchy (use load_root_key when it is really needed).
  const std::optional<pki::PrivateKey>& root_key() const noexcept { return root_key_; }

  // SHA-256 fingerprint of the root certificate, uppercase hex pairs joined by
  // ':' (the form `openssl x509 -fingerprint -sha256` prints).
  const std::string& root_fingerprint() const noexcept { return root_fingerprint_; }

 private:
  friend struct HierarchyAccess;
  Hierarchy(std::filesystem::path dir, InitOptions options, pki::Certificate root,
            pki::Certificate issuing, pki::Certificate ocsp, pki::Certificate cmp,
            pki::Certificate km, pki::PrivateKey issuing_key, pki::PrivateKey ocsp_key,
            pki::PrivateKey cmp_key, pki::PrivateKey km_key);

  std::filesystem::path dir_;
  InitOptions options_;
  pki::Certificate root_cert_, issuing_cert_, ocsp_cert_, cmp_cert_, km_cert_;
  std::optional<pki::PrivateKey> issuing_key_, ocsp_key_, cmp_key_, km_key_, root_key_;
  std::string root_fingerprint_;
};

// Creates a new hierarchy in dir (created if missing): root CA (RSA-3072,
// self-signed, 20 years), issuing CA (10 years, pathlen 0), OCSP signer
// (2 years, id-kp-OCSPSigning, ocsp-nocheck), CMP protection certificate
// (2 years) and key-management certificate (RSA-2048, keyEncipherment, 2 years).
// Prints nothing. Errors: usage (empty passphrase, bad options),
// already_exists (dir already holds a hierarchy, even a partial one),
// io (cannot write; nothing is left behind), crypto.
Result<Hierarchy> init_hierarchy(const std::filesystem::path& dir, const SecretString& passphrase,
                                 const InitOptions& options, const Clock& clock);

// Loads the hierarchy in dir with its online keys (not the root key).
// Errors: wrong_password, invalid_input naming the missing or corrupt file,
// key_mismatch (a key does not belong to its certificate), io.
Result<Hierarchy> load_hierarchy(const std::filesystem::path& dir, const SecretString& passphrase);

// Decrypts the root CA key of the hierarchy in dir (for operations that need
// the root, e.g. re-certifying the issuing CA). Errors as load_hierarchy.
Result<pki::PrivateKey> load_root_key(const std::filesystem::path& dir,
                                      const SecretString& passphrase);

}  // namespace dojang::ca
