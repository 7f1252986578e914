// The NPKI private key file (signPri.key / kmPri.key): a PKCS#8
// EncryptedPrivateKeyInfo over an RSA PrivateKeyInfo that may carry the
// holder's randomNum R as an attribute.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "dojang/pki/key.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::pki {

// The password-based encryption a key file uses (outer AlgorithmIdentifier).
enum class KeyFileScheme {
  seed_cbc_with_sha1,  // 1.2.410.200004.1.15: PBKDF1-SHA1, SEED-CBC, IV from SHA-1 of the DK tail
  seed_cbc_legacy,     // 1.2.410.200004.1.4 as the outer algorithm: fixed IV "0123456789012345"
  pbes2,               // 1.2.840.113549.1.5.13: PBKDF2 + SEED/ARIA/AES-CBC
};

// Key files stating more iterations than this are refused (foreign_format), so
// a hostile file cannot keep the caller busy for hours.
inline constexpr std::uint64_t kMaxKeyFileIterations = 10'000'000;

// What a key file says about its protection; readable without the password.
struct KeyFileInfo {
  KeyFileScheme scheme = KeyFileScheme::seed_cbc_with_sha1;
  // e.g. "seedCBCWithSHA1 (PBKDF1-SHA1, 2048 iterations)",
  //      "PBES2 (PBKDF2-HMAC-SHA256, 10000 iterations, ARIA-128-CBC)"
  std::string description;
  std::uint64_t iterations = 0;
  std::string kdf;     // "PBKDF1-SHA1", "PBKDF2-HMAC-SHA1", "PBKDF2-HMAC-SHA256", ...
  std::string cipher;  // "SEED-CBC", "ARIA-128-CBC", "AES-256-CBC", ...
  std::size_t salt_length = 0;
};

struct DecryptedKey {
  PrivateKey key;
  std::optional<SecretBytes> random_num;  // R (attribute 1.2.410.200004.10.1.1.3), when present
  // As inspect_key_file() reports it, except that for seed_cbc_legacy files `kdf`
  // and `description` name the derivation that actually opened the file.
  KeyFileInfo info;
};

// Reads the encryption parameters of a key file.
// Fails with invalid_input (empty, truncated, not DER, malformed parameters,
// zero iterations) or foreign_format (unsupported algorithm, PRF or cipher,
// more than kMaxKeyFileIterations iterations).
Result<KeyFileInfo> inspect_key_file(ByteView der);

// Decrypts a key file with the password (UTF-8 bytes as typed).
// Fails as inspect_key_file() does, and with wrong_password when the password
// does not open the file (the format has no integrity check, so a damaged
// ciphertext usually lands here too), invalid_input "key file is damaged" when
// the decrypted key is inconsistent or its randomNum attribute is malformed.
Result<DecryptedKey> decrypt_key_file(ByteView der, const SecretString& password);

struct KeyFileOptions {
  enum class Format {
    seed_cbc_with_sha1,  // 1.2.410.200004.1.15, 8-byte salt: what every Korean reader accepts
    pbes2_seed,          // PBES2, PBKDF2-HMAC-SHA256, 16-byte salt, SEED-CBC (1.2.410.200004.1.4)
    pbes2_aria,  // PBES2, PBKDF2-HMAC-SHA256, 16-byte salt, ARIA-128-CBC (1.2.410.200046.1.1.2)
  };
  Format format = Format::seed_cbc_with_sha1;
  // 0 means the default: 2048 for seedCBCWithSHA1, 10000 for PBES2.
  std::uint32_t iterations = 0;
};

// Encrypts key, with R as its randomNum attribute when random_num is given,
// into a key file with a fresh random salt (and IV for PBES2).
// Fails with usage (empty password, empty R, more than kMaxKeyFileIterations
// iterations), policy (PBES2 with fewer than 10000 iterations) or crypto.
Result<Bytes> encrypt_key_file(const PrivateKey& key, const SecretBytes* random_num,
                               const SecretString& password, const KeyFileOptions& options = {});

// "seed_cbc_with_sha1", "seed_cbc_legacy", "pbes2" (for --json).
const char* key_file_scheme_name(KeyFileScheme scheme) noexcept;

}  // namespace dojang::pki
