#include "dojang/pki/encrypted_vid.hpp"

#include <openssl/objects.h>
#include <openssl/rsa.h>

#include <string>

#include "dojang/pki/vid.hpp"
#include "pki/internal/encrypted_vid_asn1.hpp"
#include "pki/internal/identify_data.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::pki {

using internal::check;
using internal::drain_errors;
using internal::libctx;
using internal::own;
using internal::Ptr;
using internal::VidEncryption;

namespace {

constexpr size_t kSha1Size = 20;
constexpr size_t kSha256Size = 32;

Error malformed(const std::string& what) {
  internal::clear_errors();
  return Error{Errc::invalid_input, "EncryptedVID: " + what};
}

// RSA-OAEP parameters as the encryptor used them.
struct OaepParams {
  std::string md = "SHA1";
  std::string mgf1_md = "SHA1";
  Bytes label;
};

// A SHA-1 / SHA-2 digest name for an OAEP hash AlgorithmIdentifier.
Result<std::string> oaep_digest(const X509_ALGOR* alg) {
  const ASN1_OBJECT* obj = nullptr;
  ::X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  switch (::OBJ_obj2nid(obj)) {
    case NID_sha1:
      return std::string("SHA1");
    case NID_sha224:
      return std::string("SHA224");
    case NID_sha256:
      return std::string("SHA256");
    case NID_sha384:
      return std::string("SHA384");
    case NID_sha512:
      return std::string("SHA512");
    default:
      break;
  }
  return Error{Errc::foreign_format,
               "EncryptedVID: unsupported RSA-OAEP hash " + internal::oid_text(obj)};
}

// RSAES-OAEP-params ::= SEQUENCE {
//     hashAlgorithm     [0] HashAlgorithm    DEFAULT sha1,
//     maskGenAlgorithm  [1] MaskGenAlgorithm DEFAULT mgf1SHA1,
//     pSourceAlgorithm  [2] PSourceAlgorithm DEFAULT pSpecifiedEmpty }   (RFC 8017 A.2.1)
Result<OaepParams> read_oaep_params(const X509_ALGOR* alg) {
  OaepParams out;
  int ptype = V_ASN1_UNDEF;
  const void* pval = nullptr;
  ::X509_ALGOR_get0(nullptr, &ptype, &pval, alg);
  // Absent (or, leniently, NULL) parameters: the defaults.
  if (ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL) return out;
  if (ptype != V_ASN1_SEQUENCE) return malformed("RSA-OAEP parameters are not a SEQUENCE");
  Ptr<RSA_OAEP_PARAMS> params = own(static_cast<RSA_OAEP_PARAMS*>(
      ::ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_OAEP_PARAMS), alg->parameter)));
  if (!params) return malformed("RSA-OAEP parameters are malformed");

  if (params->hashFunc != nullptr) {
    DOJANG_ASSIGN(out.md, oaep_digest(params->hashFunc));
  }
  if (params->maskGenFunc != nullptr) {
    const ASN1_OBJECT* mgf = nullptr;
    ::X509_ALGOR_get0(&mgf, nullptr, nullptr, params->maskGenFunc);
    if (::OBJ_obj2nid(mgf) != NID_mgf1)
      return Error{Errc::foreign_format,
                   "EncryptedVID: unsupported RSA-OAEP mask generation " + internal::oid_text(mgf)};
    if (params->maskGenFunc->parameter == nullptr ||
        params->maskGenFunc->parameter->type != V_ASN1_SEQUENCE)
      return malformed("MGF1 parameters are missing");
    Ptr<X509_ALGOR> mgf_md = own(static_cast<X509_ALGOR*>(
        ::ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR), params->maskGenFunc->parameter)));
    if (!mgf_md) return malformed("MGF1 parameters are malformed");
    DOJANG_ASSIGN(out.mgf1_md, oaep_digest(mgf_md.get()));
  }
  if (params->pSourceFunc != nullptr) {
    const ASN1_OBJECT* src = nullptr;
    int stype = V_ASN1_UNDEF;
    const void* sval = nullptr;
    ::X509_ALGOR_get0(&src, &stype, &sval, params->pSourceFunc);
    if (::OBJ_obj2nid(src) != NID_pSpecified)
      return Error{Errc::foreign_format,
                   "EncryptedVID: unsupported RSA-OAEP label source " + internal::oid_text(src)};
    if (stype != V_ASN1_OCTET_STRING) return malformed("RSA-OAEP label is not an OCTET STRING");
    const auto* label = static_cast<const ASN1_OCTET_STRING*>(sval);
    const unsigned char* d = ::ASN1_STRING_get0_data(label);
    out.label.assign(d, d + ::ASN1_STRING_length(label));
  }
  return out;
}

Status set_oaep(EVP_PKEY_CTX* ctx, const OaepParams& p) {
  DOJANG_TRY(check(::EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 ? 1 : 0,
                   "RSA-OAEP padding"));
  DOJANG_TRY(check(::EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, p.md.c_str(), nullptr) > 0 ? 1 : 0,
                   "RSA-OAEP hash"));
  DOJANG_TRY(check(::EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, p.mgf1_md.c_str(), nullptr) > 0 ? 1 : 0,
                   "RSA-OAEP MGF1 hash"));
  if (!p.label.empty()) {
    void* copy = ::OPENSSL_memdup(p.label.data(), p.label.size());
    if (copy == nullptr) return Error{Errc::crypto, drain_errors("OPENSSL_memdup")};
    if (::EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, copy, static_cast<int>(p.label.size())) <= 0) {
      ::OPENSSL_free(copy);  // not taken over on failure
      return Error{Errc::crypto, drain_errors("RSA-OAEP label")};
    }
  }
  return {};
}

size_t digest_size(std::string_view hash_alg) {
  return hash_alg == "sha256" ? kSha256Size : kSha1Size;
}

// Copies an ASN1_STRING's bytes into a SecretBytes and wipes the original.
SecretBytes take_secret(ASN1_STRING* s) {
  SecretBytes out(
      ByteView(::ASN1_STRING_get0_data(s), static_cast<size_t>(::ASN1_STRING_length(s))));
  secure_wipe(const_cast<unsigned char*>(::ASN1_STRING_get0_data(s)),
              static_cast<size_t>(::ASN1_STRING_length(s)));
  return out;
}

}  // namespace

namespace internal {

Result<Bytes> make_encrypted_vid(const Certificate& ca_km_cert, const SecretString& idn_digits,
                                 const SecretBytes& random_num, std::string_view hash_alg,
                                 VidEncryption enc) {
  EVP_PKEY* pub = ::X509_get0_pubkey(ca_km_cert.native());
  if (pub == nullptr)
    return Error{Errc::invalid_input,
                 drain_errors("the CA encryption certificate has no usable key")};
  if (::EVP_PKEY_is_a(pub, "RSA") != 1)
    return Error{Errc::foreign_format, "the CA encryption certificate's key is not RSA"};
  if ((::X509_get_key_usage(ca_km_cert.native()) & KU_KEY_ENCIPHERMENT) == 0)
    return Error{Errc::policy,
                 "the CA certificate is not an encryption (keyEncipherment) certificate"};

  DOJANG_ASSIGN(Bytes vid, compute_vid(idn_digits, random_num, hash_alg));
  DOJANG_ASSIGN(SecretBytes plaintext, encode_vid_plaintext(hash_alg, vid, random_num));

  // RFC 8017: OAEP carries at most k - 2 hLen - 2 octets, PKCS#1 v1.5 k - 11.
  size_t k = static_cast<size_t>(::EVP_PKEY_get_size(pub));
  size_t overhead = enc == VidEncryption::rsa_oaep ? 2 * kSha1Size + 2 : 11;
  if (k <= overhead || plaintext.size() > k - overhead)
    return Error{Errc::invalid_input, "randomNum (R) is too long to encrypt to the CA's key"};

  Ptr<EVP_PKEY_CTX> ctx = own(::EVP_PKEY_CTX_new_from_pkey(libctx(), pub, nullptr));
  if (!ctx) return Error{Errc::crypto, drain_errors("EVP_PKEY_CTX_new_from_pkey")};
  DOJANG_TRY(check(::EVP_PKEY_encrypt_init(ctx.get()) > 0 ? 1 : 0, "EVP_PKEY_encrypt_init"));
  if (enc == VidEncryption::rsa_oaep) {
    DOJANG_TRY(set_oaep(ctx.get(), OaepParams{}));
  } else {
    DOJANG_TRY(check(::EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) > 0 ? 1 : 0,
                     "RSA PKCS#1 v1.5 padding"));
  }
  size_t out_len = 0;
  DOJANG_TRY(check(
      ::EVP_PKEY_encrypt(ctx.get(), nullptr, &out_len, plaintext.data(), plaintext.size()) > 0 ? 1
                                                                                               : 0,
      "RSA encryption"));
  Bytes ciphertext(out_len);
  DOJANG_TRY(check(::EVP_PKEY_encrypt(ctx.get(), ciphertext.data(), &out_len, plaintext.data(),
                                      plaintext.size()) > 0
                       ? 1
                       : 0,
                   "RSA encryption"));
  ciphertext.resize(out_len);
  return wrap_encrypted_vid(ca_km_cert, enc, hash_alg, ciphertext);
}

}  // namespace internal

Result<Bytes> make_encrypted_vid(const Certificate& ca_km_cert, const SecretString& idn_digits,
                                 const SecretBytes& random_num, std::string_view hash_alg) {
  return internal::make_encrypted_vid(ca_km_cert, idn_digits, random_num, hash_alg,
                                      VidEncryption::rsa_oaep);
}

Result<OpenedVid> open_encrypted_vid(ByteView der, const PrivateKey& km_key,
                                     const Certificate& km_cert) {
  if (der.empty()) return malformed("empty");
  const unsigned char* p = der.data();
  Ptr<internal::DOJANG_ENCRYPTED_VID> ev =
      own(internal::d2i_DOJANG_ENCRYPTED_VID(nullptr, &p, static_cast<long>(der.size())));
  if (!ev) return malformed("not a valid EncryptedVID SEQUENCE");
  if (p != der.data() + der.size()) return malformed("trailing bytes after the SEQUENCE");

  if (ev->version != nullptr) {
    long version = ::ASN1_INTEGER_get(ev->version);
    if (version != 0) {
      internal::clear_errors();
      return Error{Errc::foreign_format,
                   "EncryptedVID: unsupported version " + std::to_string(version)};
    }
  }

  const X509* cert = km_cert.native();
  if (::X509_NAME_cmp(ev->cert_id->issuer, ::X509_get_issuer_name(cert)) != 0 ||
      ::ASN1_INTEGER_cmp(ev->cert_id->serial, ::X509_get0_serialNumber(cert)) != 0)
    return malformed("encrypted to another certificate");
  if (!km_cert.matches(km_key))
    return Error{Errc::key_mismatch,
                 "the key-management key does not belong to the key-management certificate"};

  // vidEncAlg
  const ASN1_OBJECT* enc_obj = nullptr;
  ::X509_ALGOR_get0(&enc_obj, nullptr, nullptr, ev->vid_enc_alg);
  VidEncryption enc = VidEncryption::rsa_oaep;
  OaepParams oaep;
  switch (::OBJ_obj2nid(enc_obj)) {
    case NID_rsaesOaep: {
      enc = VidEncryption::rsa_oaep;
      DOJANG_ASSIGN(oaep, read_oaep_params(ev->vid_enc_alg));
      break;
    }
    case NID_rsaEncryption:
      enc = VidEncryption::rsa_pkcs1_v15;
      break;
    default:
      return Error{Errc::foreign_format,
                   "EncryptedVID: unsupported encryption algorithm " + internal::oid_text(enc_obj)};
  }

  // Decrypt. Every failure gives the same answer (no padding oracle in the message).
  const ASN1_OCTET_STRING* ct = ev->encrypted_vid;
  size_t k = static_cast<size_t>(::EVP_PKEY_get_size(km_key.native()));
  // k octets (RFC 8017); some encoders drop leading zero octets, so shorter is tolerated.
  size_t ct_len = static_cast<size_t>(::ASN1_STRING_length(ct));
  if (ct_len == 0 || ct_len > k)
    return malformed("the encrypted VID does not decrypt with the CA's key-management key");
  Ptr<EVP_PKEY_CTX> ctx = own(::EVP_PKEY_CTX_new_from_pkey(libctx(), km_key.native(), nullptr));
  if (!ctx) return Error{Errc::crypto, drain_errors("EVP_PKEY_CTX_new_from_pkey")};
  DOJANG_TRY(check(::EVP_PKEY_decrypt_init(ctx.get()) > 0 ? 1 : 0, "EVP_PKEY_decrypt_init"));
  if (enc == VidEncryption::rsa_oaep) {
    DOJANG_TRY(set_oaep(ctx.get(), oaep));
  } else {
    DOJANG_TRY(check(::EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) > 0 ? 1 : 0,
                     "RSA PKCS#1 v1.5 padding"));
  }
  SecretBytes plaintext(k);
  size_t pt_len = plaintext.size();
  if (::EVP_PKEY_decrypt(ctx.get(), plaintext.data(), &pt_len, ::ASN1_STRING_get0_data(ct),
                         ct_len) <= 0)
    return malformed("the encrypted VID does not decrypt with the CA's key-management key");
  plaintext.resize_down(pt_len);

  // EncryptContent
  const unsigned char* q = plaintext.data();
  Ptr<internal::DOJANG_VID_PLAINTEXT> pt =
      own(internal::d2i_DOJANG_VID_PLAINTEXT(nullptr, &q, static_cast<long>(plaintext.size())));
  if (!pt) return malformed("the decrypted content is not an EncryptContent SEQUENCE");
  OpenedVid out;
  out.random_num = take_secret(pt->random_num);
  if (q != plaintext.data() + plaintext.size())
    return malformed("trailing bytes after the decrypted EncryptContent");
  if ((pt->random_num->flags & ASN1_STRING_FLAG_BITS_LEFT) != 0 &&
      (pt->random_num->flags & 0x07) != 0)
    return malformed("randomNum is not a whole number of octets");
  if (out.random_num.empty()) return malformed("randomNum is empty");

  const ASN1_OBJECT* hash_obj = nullptr;
  ::X509_ALGOR_get0(&hash_obj, nullptr, nullptr, pt->vid->hash_alg);
  out.hash_alg = internal::vid_hash_name(hash_obj);
  if (internal::vid_hash_nid(out.hash_alg) == NID_undef)
    return Error{Errc::foreign_format,
                 "EncryptedVID: unsupported VID hash algorithm " + internal::oid_text(hash_obj)};
  if (ev->vid_hash_alg != nullptr) {
    const ASN1_OBJECT* outer = nullptr;
    ::X509_ALGOR_get0(&outer, nullptr, nullptr, ev->vid_hash_alg);
    if (::OBJ_cmp(outer, hash_obj) != 0)
      return malformed("vidHashAlg disagrees with the VID's hash");
  }
  const ASN1_OCTET_STRING* v = pt->vid->virtual_id;
  if (static_cast<size_t>(::ASN1_STRING_length(v)) != digest_size(out.hash_alg))
    return malformed("the VID has the wrong length for its hash algorithm");
  const unsigned char* vd = ::ASN1_STRING_get0_data(v);
  out.vid.assign(vd, vd + ::ASN1_STRING_length(v));
  return out;
}

Result<bool> check_vid_against_idn(const OpenedVid& opened, const SecretString& idn_digits) {
  DOJANG_ASSIGN(Bytes want, compute_vid(idn_digits, opened.random_num, opened.hash_alg));
  return want.size() == opened.vid.size() &&
         ::CRYPTO_memcmp(want.data(), opened.vid.data(), want.size()) == 0;
}

}  // namespace dojang::pki
