// PrivateKeyInfo with the randomNum attribute: shared by the signPri.key codec
// and the PKCS#12 codec (where R also travels as a bag attribute).
#pragma once

#include <optional>
#include <string_view>

#include "dojang/pki/key.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::pki::internal {

// Attribute { randomNum 1.2.410.200004.10.1.1.3, SET { BIT STRING } }
inline constexpr char kOidRandomNum[] = "1.2.410.200004.10.1.1.3";

// The dotted form of an OID ("?" when it cannot be printed).
std::string dotted_oid(const ASN1_OBJECT* obj);

// R from a set of attributes (PrivateKeyInfo attributes or PKCS#12 bag
// attributes): exactly one randomNum attribute holding exactly one non-empty
// BIT STRING without unused bits; nullopt when there is none. invalid_input
// "<what> is damaged (malformed randomNum attribute)" otherwise.
Result<std::optional<SecretBytes>> find_random_num(const STACK_OF(X509_ATTRIBUTE) * attrs,
                                                   std::string_view what);

// Overwrites the values of every randomNum attribute in attrs.
void wipe_random_num(const STACK_OF(X509_ATTRIBUTE) * attrs) noexcept;

// Marks a BIT STRING as a whole number of bytes ("0 unused bits"), so that the
// encoder keeps trailing zero bits of R.
void mark_whole_bytes(ASN1_STRING* bits) noexcept;

// The unencrypted PrivateKeyInfo of key, with R as its randomNum attribute
// when random_num is given. Errors: crypto.
Result<Ptr<PKCS8_PRIV_KEY_INFO>> make_private_key_info(const PrivateKey& key,
                                                       const SecretBytes* random_num);

struct OpenedKey {
  PrivateKey key;
  std::optional<SecretBytes> random_num;
};

// The key and R of a decoded PrivateKeyInfo, checked for consistency.
// Errors: invalid_input "<what> is damaged (...)".
Result<OpenedKey> open_private_key_info(const PKCS8_PRIV_KEY_INFO* p8, std::string_view what);

}  // namespace dojang::pki::internal
