// ASN.1 templates for EncryptedVID, the structure in which a subscriber sends
// the VID and its random number R to the CA (KCAC.TS.SIVID "Subscriber
// Identification Based on Virtual ID", carried in a CMP regInfo attribute
// 1.2.410.200004.10.1.1.2), and the lower-level encoders the tests use to build
// EncryptedVIDs the public API never makes.
#pragma once

#include <string_view>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/encrypted_vid.hpp"
#include "pki/internal/identify_data.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::pki::internal {

// Tagging: KISA's module text is not at hand, so the tags follow what deployed
// clients send. A public INISAFE-style JavaScript CMP client (node-forge based,
// found through code search; it quotes KCAC.TS.SIVID from
// rootca.kisa.or.kr/kcac/down/TechSpec/1.5-Subscriber Identification Based on
// Virtual ID.pdf) builds every [n] of EncryptedVID as a constructed
// context-specific tag wrapping the complete universal element (the INTEGER,
// the AlgorithmIdentifier SEQUENCE, the IssuerAndSerialNumber SEQUENCE, the
// OCTET STRING): EXPLICIT tagging. That client also writes version 0
// explicitly, NULL parameters in both AlgorithmIdentifiers and rsaEncryption
// (PKCS#1 v1.5) as vidEncAlg; all of that is accepted here.
//
// EncryptedVID ::= SEQUENCE {
//     version       [0] EXPLICIT INTEGER DEFAULT 0,
//     vidHashAlg    [1] EXPLICIT AlgorithmIdentifier OPTIONAL,  -- VIDHashAlgorithm
//     vidEncAlg     [2] EXPLICIT AlgorithmIdentifier,           -- VIDEncryptionAlgorithm
//     certID        [3] EXPLICIT IssuerAndSerialNumber,  -- the CA's encryption certificate
//     encryptedVID  [4] EXPLICIT OCTET STRING }  -- DER(EncryptContent) encrypted to certID's key
struct DOJANG_ENCRYPTED_VID_st {
  ASN1_INTEGER* version;  // NULL when absent (the DER form of the default 0)
  X509_ALGOR* vid_hash_alg;
  X509_ALGOR* vid_enc_alg;
  PKCS7_ISSUER_AND_SERIAL* cert_id;
  ASN1_OCTET_STRING* encrypted_vid;
};
using DOJANG_ENCRYPTED_VID = DOJANG_ENCRYPTED_VID_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_ENCRYPTED_VID)

// EncryptContent ::= SEQUENCE {
//     vid        VID,          -- SEQUENCE { hashAlg, virtualID [0] EXPLICIT OCTET STRING }
//     randomNum  BIT STRING }  -- R, as in the private key file
struct DOJANG_VID_PLAINTEXT_st {
  DOJANG_VID* vid;
  ASN1_BIT_STRING* random_num;
};
using DOJANG_VID_PLAINTEXT = DOJANG_VID_PLAINTEXT_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_VID_PLAINTEXT)

template <>
struct Free<DOJANG_ENCRYPTED_VID> {
  void operator()(DOJANG_ENCRYPTED_VID* p) const noexcept { DOJANG_ENCRYPTED_VID_free(p); }
};
template <>
struct Free<DOJANG_VID_PLAINTEXT> {
  void operator()(DOJANG_VID_PLAINTEXT* p) const noexcept { DOJANG_VID_PLAINTEXT_free(p); }
};

// How encryptedVID is encrypted (vidEncAlg).
enum class VidEncryption {
  rsa_oaep,       // id-RSAES-OAEP 1.2.840.113549.1.1.7, default parameters (SHA-1, MGF1-SHA-1)
  rsa_pkcs1_v15,  // rsaEncryption 1.2.840.113549.1.1.1 (PKCS#1 v1.5), old clients
};

// DER of EncryptContent { VID { hash_alg, vid }, R }. Secret: it holds R.
Result<SecretBytes> encode_vid_plaintext(std::string_view hash_alg, const Bytes& vid,
                                         const SecretBytes& random_num);

// DER of an EncryptedVID around an already encrypted EncryptContent: certID
// names km_cert; vidHashAlg is written when hash_alg is not empty.
Result<Bytes> wrap_encrypted_vid(const Certificate& km_cert, VidEncryption enc,
                                 std::string_view hash_alg, ByteView ciphertext);

// make_encrypted_vid with a chosen encryption scheme (the public function uses rsa_oaep).
Result<Bytes> make_encrypted_vid(const Certificate& ca_km_cert, const SecretString& idn_digits,
                                 const SecretBytes& random_num, std::string_view hash_alg,
                                 VidEncryption enc);

}  // namespace dojang::pki::internal
