#include "pki/internal/encrypted_vid_asn1.hpp"

#include <openssl/asn1t.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

namespace dojang::pki::internal {

namespace {

// Lends caller-owned secret bytes to an ASN1_STRING for one encoding, so that
// R is never copied into OpenSSL's heap; detaches them before the structure
// is freed.
class Lent {
 public:
  Lent(ASN1_STRING* s, const std::uint8_t* data, size_t len) : s_(s) {
    ::ASN1_STRING_set0(s_, const_cast<std::uint8_t*>(data), static_cast<int>(len));
  }
  ~Lent() {
    s_->data = nullptr;
    s_->length = 0;
  }
  Lent(const Lent&) = delete;
  Lent& operator=(const Lent&) = delete;

 private:
  ASN1_STRING* s_;
};

// AlgorithmIdentifier { OID, parameters absent }.
Status set_hash_alg(X509_ALGOR* alg, std::string_view hash_alg) {
  int nid = vid_hash_nid(hash_alg);
  if (nid == NID_undef)
    return Error{Errc::foreign_format, "unsupported VID hash algorithm '" + std::string(hash_alg) +
                                           "' (want sha256 or sha1)"};
  return check(::X509_ALGOR_set0(alg, ::OBJ_nid2obj(nid), V_ASN1_UNDEF, nullptr),
               "X509_ALGOR_set0");
}

// vidEncAlg. RFC 4055 section 4.1: with id-RSAES-OAEP "the parameters MUST be
// present when used in the algorithm identifier associated with an encrypted
// value"; the defaults (SHA-1, MGF1-SHA-1, empty label) encode as an empty
// SEQUENCE. rsaEncryption takes NULL parameters (RFC 3279).
Status set_enc_alg(X509_ALGOR* alg, VidEncryption enc) {
  if (enc == VidEncryption::rsa_pkcs1_v15)
    return check(::X509_ALGOR_set0(alg, ::OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL, nullptr),
                 "X509_ALGOR_set0");
  Ptr<RSA_OAEP_PARAMS> params = own(::RSA_OAEP_PARAMS_new());
  if (!params) return Error{Errc::crypto, drain_errors("RSA_OAEP_PARAMS_new")};
  Ptr<ASN1_STRING> seq =
      own(::ASN1_item_pack(params.get(), ASN1_ITEM_rptr(RSA_OAEP_PARAMS), nullptr));
  if (!seq) return Error{Errc::crypto, drain_errors("encoding RSAES-OAEP-params")};
  DOJANG_TRY(check(::X509_ALGOR_set0(alg, ::OBJ_nid2obj(NID_rsaesOaep), V_ASN1_SEQUENCE, seq.get()),
                   "X509_ALGOR_set0"));
  seq.release();  // owned by alg
  return {};
}

}  // namespace

Result<SecretBytes> encode_vid_plaintext(std::string_view hash_alg, const Bytes& vid,
                                         const SecretBytes& random_num) {
  if (vid.empty()) return Error{Errc::usage, "the VID is empty"};
  if (random_num.empty()) return Error{Errc::invalid_input, "randomNum (R) is empty"};
  Ptr<DOJANG_VID_PLAINTEXT> pt = own(DOJANG_VID_PLAINTEXT_new());
  if (!pt) return Error{Errc::crypto, drain_errors("EncryptContent_new")};
  DOJANG_TRY(set_hash_alg(pt->vid->hash_alg, hash_alg));
  DOJANG_TRY(
      check(::ASN1_OCTET_STRING_set(pt->vid->virtual_id, vid.data(), static_cast<int>(vid.size())),
            "ASN1_OCTET_STRING_set"));
  Lent r(pt->random_num, random_num.data(), random_num.size());
  // Every bit of R counts, trailing zero bits included (as in HashContent).
  pt->random_num->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  pt->random_num->flags |= ASN1_STRING_FLAG_BITS_LEFT;

  int len = i2d_DOJANG_VID_PLAINTEXT(pt.get(), nullptr);
  if (len <= 0) return Error{Errc::crypto, drain_errors("encoding EncryptContent")};
  SecretBytes der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  if (i2d_DOJANG_VID_PLAINTEXT(pt.get(), &p) != len)
    return Error{Errc::crypto, drain_errors("encoding EncryptContent")};
  return der;
}

Result<Bytes> wrap_encrypted_vid(const Certificate& km_cert, VidEncryption enc,
                                 std::string_view hash_alg, ByteView ciphertext) {
  if (ciphertext.empty()) return Error{Errc::usage, "the encrypted VID is empty"};
  Ptr<DOJANG_ENCRYPTED_VID> ev = own(DOJANG_ENCRYPTED_VID_new());
  if (!ev) return Error{Errc::crypto, drain_errors("EncryptedVID_new")};

  // version stays absent: DER leaves out a value equal to its DEFAULT (0).
  if (!hash_alg.empty()) {
    Ptr<X509_ALGOR> alg = own(::X509_ALGOR_new());
    if (!alg) return Error{Errc::crypto, drain_errors("X509_ALGOR_new")};
    DOJANG_TRY(set_hash_alg(alg.get(), hash_alg));
    ev->vid_hash_alg = alg.release();
  }
  DOJANG_TRY(set_enc_alg(ev->vid_enc_alg, enc));

  const X509* cert = km_cert.native();
  DOJANG_TRY(check(::X509_NAME_set(&ev->cert_id->issuer, ::X509_get_issuer_name(cert)),
                   "copying the certificate issuer"));
  Ptr<ASN1_INTEGER> serial = own(::ASN1_INTEGER_dup(::X509_get0_serialNumber(cert)));
  if (!serial) return Error{Errc::crypto, drain_errors("copying the certificate serial")};
  Ptr<ASN1_INTEGER> previous(ev->cert_id->serial);
  ev->cert_id->serial = serial.release();

  DOJANG_TRY(check(::ASN1_OCTET_STRING_set(ev->encrypted_vid, ciphertext.data(),
                                           static_cast<int>(ciphertext.size())),
                   "ASN1_OCTET_STRING_set"));
  return to_der(ev.get(), i2d_DOJANG_ENCRYPTED_VID, "encoding EncryptedVID");
}

// The ASN.1 templates (declared, with their ASN.1 definitions, in
// encrypted_vid_asn1.hpp).
// clang-format off

// EncryptedVID ::= SEQUENCE {
//     version [0] EXPLICIT INTEGER DEFAULT 0, vidHashAlg [1] EXPLICIT AlgorithmIdentifier OPTIONAL,
//     vidEncAlg [2] EXPLICIT AlgorithmIdentifier, certID [3] EXPLICIT IssuerAndSerialNumber,
//     encryptedVID [4] EXPLICIT OCTET STRING }
ASN1_SEQUENCE(DOJANG_ENCRYPTED_VID) = {
    ASN1_EXP_OPT(DOJANG_ENCRYPTED_VID, version, ASN1_INTEGER, 0),
    ASN1_EXP_OPT(DOJANG_ENCRYPTED_VID, vid_hash_alg, X509_ALGOR, 1),
    ASN1_EXP(DOJANG_ENCRYPTED_VID, vid_enc_alg, X509_ALGOR, 2),
    ASN1_EXP(DOJANG_ENCRYPTED_VID, cert_id, PKCS7_ISSUER_AND_SERIAL, 3),
    ASN1_EXP(DOJANG_ENCRYPTED_VID, encrypted_vid, ASN1_OCTET_STRING, 4),
} ASN1_SEQUENCE_END(DOJANG_ENCRYPTED_VID)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_ENCRYPTED_VID)

// EncryptContent ::= SEQUENCE { vid VID, randomNum BIT STRING }
ASN1_SEQUENCE(DOJANG_VID_PLAINTEXT) = {
    ASN1_SIMPLE(DOJANG_VID_PLAINTEXT, vid, DOJANG_VID),
    ASN1_SIMPLE(DOJANG_VID_PLAINTEXT, random_num, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(DOJANG_VID_PLAINTEXT)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_VID_PLAINTEXT)

// clang-format on

}  // namespace dojang::pki::internal
