// The subscriber's public key, checked against the CA's key policy from its
// SubjectPublicKeyInfo alone, and placed into a certificate without a
// decode/encode round trip through OpenSSL's provider decoders.
#pragma once

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::ca::internal {

// SubjectPublicKeyInfo ::= SEQUENCE {
//     algorithm         AlgorithmIdentifier,
//     subjectPublicKey  BIT STRING }                        -- RFC 5280 section 4.1
struct DOJANG_SPKI_st {
  X509_ALGOR* algorithm;
  ASN1_BIT_STRING* public_key;
};
using DOJANG_SPKI = DOJANG_SPKI_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_SPKI)

// RSAPublicKey ::= SEQUENCE {
//     modulus           INTEGER,  -- n
//     publicExponent    INTEGER } -- e                      -- RFC 8017 appendix A.1.1
struct DOJANG_RSA_PUBLIC_KEY_st {
  ASN1_INTEGER* modulus;
  ASN1_INTEGER* exponent;
};
using DOJANG_RSA_PUBLIC_KEY = DOJANG_RSA_PUBLIC_KEY_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_RSA_PUBLIC_KEY)

}  // namespace dojang::ca::internal

namespace dojang::pki::internal {
template <>
struct Free<ca::internal::DOJANG_SPKI> {
  void operator()(ca::internal::DOJANG_SPKI* p) const noexcept {
    ca::internal::DOJANG_SPKI_free(p);
  }
};
template <>
struct Free<ca::internal::DOJANG_RSA_PUBLIC_KEY> {
  void operator()(ca::internal::DOJANG_RSA_PUBLIC_KEY* p) const noexcept {
    ca::internal::DOJANG_RSA_PUBLIC_KEY_free(p);
  }
};
}  // namespace dojang::pki::internal

namespace dojang::ca::internal {

enum class SubjectKeyType { rsa, ec_p256 };

// A policy-checked subject key: its type and the subjectPublicKey octets.
struct SubjectKey {
  SubjectKeyType type = SubjectKeyType::rsa;
  Bytes key_bits;  // RSAPublicKey DER, or the EC point
};

// Checks a SubjectPublicKeyInfo: RSA (rsaEncryption, 2048..8192 bits, odd e >=
// 65537) or EC P-256 (id-ecPublicKey with the named curve prime256v1).
// Errors: usage (empty), invalid_input (malformed), policy (weak or unsupported).
Result<SubjectKey> parse_subject_key(ByteView spki);

// Sets x's subjectPublicKeyInfo (the encoding only: the certificate is issued
// without the key ever being decoded into an EVP_PKEY, which is why
// parse_subject_key checks everything a decoder would, the EC point included).
Status set_subject_key(X509* x, const SubjectKey& key);

}  // namespace dojang::ca::internal
