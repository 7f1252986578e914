// PKCS#12 (.pfx) backups of a joint certificate: the signing pair, the
// key-management pair when there is one, and R (randomNum) so that the VID
// still verifies after a restore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/key.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::pki {

// One certificate with its private key and the key's R, when it has one.
struct Pkcs12Pair {
  Certificate cert;
  PrivateKey key;
  std::optional<SecretBytes> random_num;
};

struct Pkcs12Contents {
  Pkcs12Pair sign;                       // signCert.der + signPri.key
  std::optional<Pkcs12Pair> km;          // kmCert.der + kmPri.key
  std::vector<Certificate> other_certs;  // certificates without a key (CA chain); kept on read
};

enum class Pkcs12Profile {
  // Keys in PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) shrouded key bags, all bags
  // in one AES-256-CBC encrypted SafeContents, MAC HMAC-SHA256. R travels both
  // in the PrivateKeyInfo attributes and as a key bag attribute (which is then
  // encrypted too).
  modern,
  // What old Windows readers take: keys in pbeWithSHAAnd3-KeyTripleDES-CBC
  // bags in a plain SafeContents, certificates in a pbeWithSHAAnd40BitRC2-CBC
  // encrypted one, MAC HMAC-SHA1. R travels only inside the (3DES-encrypted)
  // PrivateKeyInfo: a bag attribute would sit in the clear or under RC2-40.
  legacy,
};

struct Pkcs12Options {
  Pkcs12Profile profile = Pkcs12Profile::modern;
  std::uint32_t iterations = 0;  // 0: 10000 (modern) or 2048 (legacy, what openssl writes)
  std::string friendly_name;     // friendlyName of the signing pair; "" = its CN
};

// PKCS#12 files stating more iterations than this (MAC or encryption) are refused.
inline constexpr std::uint64_t kMaxPkcs12Iterations = 10'000'000;

// Builds a DER PKCS#12 file protected by password (UTF-8 as typed).
// Errors: usage (empty password, a key that does not belong to its certificate),
// crypto.
Result<Bytes> write_pkcs12(const Pkcs12Contents& contents, const SecretString& password,
                           const Pkcs12Options& options = {});

// Reads a PKCS#12 file: checks the MAC, decrypts every SafeContents and key
// bag, pairs each key with its certificate, takes R from the key bag
// attribute 1.2.410.200004.10.1.1.3 or the PrivateKeyInfo attribute. A pair
// whose certificate's keyUsage allows encryption but not signatures is the km
// pair. Errors: invalid_input (not DER PKCS#12, truncated, no key, a key
// without its certificate, more than one signing pair, damaged contents),
// wrong_password, foreign_format (unsupported algorithm, more than
// kMaxPkcs12Iterations iterations).
Result<Pkcs12Contents> read_pkcs12(ByteView der, const SecretString& password);

}  // namespace dojang::pki
