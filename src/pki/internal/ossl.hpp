// OpenSSL plumbing shared by the pki module: owning handles, the one error
// checker, and the library context every call goes through.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cmp.h>
#include <openssl/cms.h>
#include <openssl/crmf.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pkcs12.h>
#include <openssl/ocsp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::pki::internal {

// Free<T> knows how to release one OpenSSL type; Ptr<T> owns it.
template <class T>
struct Free;

#define DOJANG_OSSL_FREE(T, fn) \
  template <>                   \
  struct Free<T> {              \
    void operator()(T* p) const noexcept { fn(p); } \
  }

DOJANG_OSSL_FREE(BIO, BIO_free_all);
DOJANG_OSSL_FREE(BIGNUM, BN_clear_free);
DOJANG_OSSL_FREE(EVP_PKEY, EVP_PKEY_free);
DOJANG_OSSL_FREE(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
DOJANG_OSSL_FREE(EVP_MD_CTX, EVP_MD_CTX_free);
DOJANG_OSSL_FREE(EVP_MD, EVP_MD_free);
DOJANG_OSSL_FREE(EVP_CIPHER, EVP_CIPHER_free);
DOJANG_OSSL_FREE(EVP_CIPHER_CTX, EVP_CIPHER_CTX_free);
DOJANG_OSSL_FREE(EVP_KDF, EVP_KDF_free);
DOJANG_OSSL_FREE(EVP_KDF_CTX, EVP_KDF_CTX_free);
DOJANG_OSSL_FREE(X509, X509_free);
DOJANG_OSSL_FREE(X509_NAME, X509_NAME_free);
DOJANG_OSSL_FREE(X509_STORE, X509_STORE_free);
DOJANG_OSSL_FREE(X509_STORE_CTX, X509_STORE_CTX_free);
DOJANG_OSSL_FREE(X509_SIG, X509_SIG_free);
DOJANG_OSSL_FREE(X509_ALGOR, X509_ALGOR_free);
DOJANG_OSSL_FREE(X509_ATTRIBUTE, X509_ATTRIBUTE_free);
DOJANG_OSSL_FREE(PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free);
DOJANG_OSSL_FREE(PBEPARAM, PBEPARAM_free);
DOJANG_OSSL_FREE(PBE2PARAM, PBE2PARAM_free);
DOJANG_OSSL_FREE(PBKDF2PARAM, PBKDF2PARAM_free);
DOJANG_OSSL_FREE(ASN1_OBJECT, ASN1_OBJECT_free);
DOJANG_OSSL_FREE(ASN1_TYPE, ASN1_TYPE_free);
// ASN1_OCTET_STRING, ASN1_BIT_STRING, ASN1_INTEGER, ASN1_TIME are all ASN1_STRING.
DOJANG_OSSL_FREE(ASN1_STRING, ASN1_STRING_free);
DOJANG_OSSL_FREE(GENERAL_NAMES, GENERAL_NAMES_free);
DOJANG_OSSL_FREE(CERTIFICATEPOLICIES, CERTIFICATEPOLICIES_free);
DOJANG_OSSL_FREE(CMS_ContentInfo, CMS_ContentInfo_free);
DOJANG_OSSL_FREE(PKCS7, PKCS7_free);
DOJANG_OSSL_FREE(OSSL_LIB_CTX, OSSL_LIB_CTX_free);
template <>
struct Free<STACK_OF(X509)> {
  void operator()(STACK_OF(X509) * p) const noexcept { sk_X509_pop_free(p, X509_free); }
};
template <>
struct Free<unsigned char> {  // buffers allocated by i2d_* / OPENSSL_malloc
  void operator()(unsigned char* p) const noexcept { OPENSSL_free(p); }
};
// Certificate building (ca/) and EncryptedVID (pki/encrypted_vid).
DOJANG_OSSL_FREE(X509_EXTENSION, X509_EXTENSION_free);
DOJANG_OSSL_FREE(GENERAL_NAME, GENERAL_NAME_free);
DOJANG_OSSL_FREE(POLICYINFO, POLICYINFO_free);
DOJANG_OSSL_FREE(POLICYQUALINFO, POLICYQUALINFO_free);
DOJANG_OSSL_FREE(DIST_POINT, DIST_POINT_free);
DOJANG_OSSL_FREE(CRL_DIST_POINTS, CRL_DIST_POINTS_free);
DOJANG_OSSL_FREE(ACCESS_DESCRIPTION, ACCESS_DESCRIPTION_free);
DOJANG_OSSL_FREE(AUTHORITY_INFO_ACCESS, AUTHORITY_INFO_ACCESS_free);
DOJANG_OSSL_FREE(RSA_OAEP_PARAMS, RSA_OAEP_PARAMS_free);
DOJANG_OSSL_FREE(PKCS7_ISSUER_AND_SERIAL, PKCS7_ISSUER_AND_SERIAL_free);
// CMP / CRMF (pki/cmp, wallet/cmp_client).
template <>
struct Free<char> {  // strings allocated by OpenSSL (OPENSSL_strdup, OSSL_HTTP_parse_url)
  void operator()(char* p) const noexcept { OPENSSL_free(p); }
};
DOJANG_OSSL_FREE(OSSL_CMP_CTX, OSSL_CMP_CTX_free);
DOJANG_OSSL_FREE(OSSL_CMP_MSG, OSSL_CMP_MSG_free);
DOJANG_OSSL_FREE(OSSL_CMP_ITAV, OSSL_CMP_ITAV_free);
DOJANG_OSSL_FREE(OSSL_CRMF_MSG, OSSL_CRMF_MSG_free);
DOJANG_OSSL_FREE(OSSL_CRMF_MSGS, OSSL_CRMF_MSGS_free);
template <>
struct Free<STACK_OF(OSSL_CMP_ITAV)> {
  void operator()(STACK_OF(OSSL_CMP_ITAV) * p) const noexcept {
    sk_OSSL_CMP_ITAV_pop_free(p, OSSL_CMP_ITAV_free);
  }
};
template <>
struct Free<ASN1_SEQUENCE_ANY> {
  void operator()(ASN1_SEQUENCE_ANY* p) const noexcept { sk_ASN1_TYPE_pop_free(p, ASN1_TYPE_free); }
};
// Relying-party verification (pki/verify): OCSP and CRLs.
DOJANG_OSSL_FREE(OCSP_REQUEST, OCSP_REQUEST_free);
DOJANG_OSSL_FREE(OCSP_RESPONSE, OCSP_RESPONSE_free);
DOJANG_OSSL_FREE(OCSP_BASICRESP, OCSP_BASICRESP_free);
DOJANG_OSSL_FREE(OCSP_CERTID, OCSP_CERTID_free);
DOJANG_OSSL_FREE(X509_CRL, X509_CRL_free);
DOJANG_OSSL_FREE(X509_REVOKED, X509_REVOKED_free);
DOJANG_OSSL_FREE(ISSUING_DIST_POINT, ISSUING_DIST_POINT_free);
#undef DOJANG_OSSL_FREE
// CMP server (service/cmp_server).
template <>
struct Free<OSSL_CMP_SRV_CTX> {
  void operator()(OSSL_CMP_SRV_CTX* p) const noexcept { OSSL_CMP_SRV_CTX_free(p); }
};
template <>
struct Free<OSSL_CMP_PKISI> {
  void operator()(OSSL_CMP_PKISI* p) const noexcept { OSSL_CMP_PKISI_free(p); }
};
template <>
struct Free<X509_REQ> {
  void operator()(X509_REQ* p) const noexcept { X509_REQ_free(p); }
};

// PKCS#12 (pki/pkcs12).
template <>
struct Free<PKCS12> {
  void operator()(PKCS12* p) const noexcept { PKCS12_free(p); }
};
template <>
struct Free<PKCS12_SAFEBAG> {
  void operator()(PKCS12_SAFEBAG* p) const noexcept { PKCS12_SAFEBAG_free(p); }
};
template <>
struct Free<STACK_OF(PKCS12_SAFEBAG)> {
  void operator()(STACK_OF(PKCS12_SAFEBAG) * p) const noexcept {
    sk_PKCS12_SAFEBAG_pop_free(p, PKCS12_SAFEBAG_free);
  }
};
template <>
struct Free<STACK_OF(PKCS7)> {
  void operator()(STACK_OF(PKCS7) * p) const noexcept { sk_PKCS7_pop_free(p, PKCS7_free); }
};

template <class T>
using Ptr = std::unique_ptr<T, Free<T>>;

// Takes ownership of a freshly allocated handle.
template <class T>
Ptr<T> own(T* p) noexcept {
  return Ptr<T>(p);
}

// Drains the whole OpenSSL error queue of this thread into one readable string
// ("label: reason; reason"), leaving the queue empty.
std::string drain_errors(std::string_view label);

// Discards the error queue (after an expected failure, e.g. a wrong password).
void clear_errors() noexcept;

// The one checker for OpenSSL return codes: rc == 1 (or a non-null pointer) is
// success; anything else becomes an Error carrying the drained queue.
Status check(int rc, std::string_view label, Errc code = Errc::crypto);
template <class T>
Result<T*> check_ptr(T* p, std::string_view label, Errc code = Errc::crypto) {
  if (p != nullptr) return p;
  return Error{code, drain_errors(label)};
}

// The private library context, with the default and legacy (SEED) providers
// loaded in-process. The system openssl.cnf is never read.
OSSL_LIB_CTX* libctx();

// Encodes an ASN.1 object with an i2d_ function into a byte vector.
template <class T, class F>
Result<Bytes> to_der(const T* obj, F i2d, std::string_view label) {
  unsigned char* out = nullptr;
  int len = i2d(obj, &out);
  if (len <= 0) return Error{Errc::crypto, drain_errors(label)};
  Ptr<unsigned char> owner(out);
  return Bytes(out, out + len);
}

// An ASN1_TIME (UTCTime or GeneralizedTime) as a time point; nullopt when malformed.
std::optional<TimePoint> time_of(const ASN1_TIME* t);

// Fetches a digest / cipher from libctx().
Result<Ptr<EVP_MD>> fetch_md(const char* name);
Result<Ptr<EVP_CIPHER>> fetch_cipher(const char* name);

}  // namespace dojang::pki::internal
