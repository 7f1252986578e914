#include "dojang/pki/signing.hpp"

#include <openssl/objects.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <ctime>
#include <string>

#include "pki/internal/ossl.hpp"

namespace dojang::pki {

using internal::check;
using internal::drain_errors;
using internal::libctx;
using internal::own;
using internal::Ptr;

namespace {

// OpenSSL rejects null pointers even for zero-length input; an empty view may have one.
const unsigned char* data_or_empty(ByteView v) {
  static const unsigned char empty = 0;
  return v.empty() ? &empty : v.data();
}

// A read-only memory BIO over v (not copied: v must outlive the BIO).
Result<Ptr<BIO>> memory_bio(ByteView v, std::string_view what) {
  if (v.size() > static_cast<size_t>(INT_MAX))
    return Error{Errc::usage, std::string(what) + " is larger than 2 GiB"};
  Ptr<BIO> bio = own(::BIO_new_mem_buf(data_or_empty(v), static_cast<int>(v.size())));
  if (!bio) return Error{Errc::crypto, drain_errors("BIO_new_mem_buf")};
  return bio;
}

Status require_rsa(const EVP_PKEY* key, std::string_view whose) {
  if (key != nullptr && ::EVP_PKEY_is_a(key, "RSA") == 1) return {};
  return Error{Errc::foreign_format,
               std::string(whose) + " is not an RSA key (PKCS#1 v1.5 signatures need RSA)"};
}

// The signingTime signed attribute of si, if there is one.
Result<std::optional<TimePoint>> signing_time_of(CMS_SignerInfo* si) {
  int idx = ::CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  if (idx < 0) return std::optional<TimePoint>{};
  X509_ATTRIBUTE* attr = ::CMS_signed_get_attr(si, idx);
  const ASN1_TYPE* value = attr != nullptr ? ::X509_ATTRIBUTE_get0_type(attr, 0) : nullptr;
  if (value == nullptr || (value->type != V_ASN1_UTCTIME && value->type != V_ASN1_GENERALIZEDTIME))
    return Error{Errc::invalid_input, "signingTime attribute is not a UTCTime or GeneralizedTime"};
  // SigningTime ::= Time (UTCTime or GeneralizedTime, RFC 5652 11.3).
  std::optional<TimePoint> t = internal::time_of(value->value.utctime);
  if (!t) return Error{Errc::invalid_input, "signingTime attribute is not a valid time"};
  return t;
}

// randomNum as an unsigned attribute of a SignerInfo, the same Attribute as in
// the PrivateKeyInfo of signPri.key:
//   Attribute { randomNum 1.2.410.200004.10.1.1.3, SET { BIT STRING } }
constexpr char kOidRandomNumAttribute[] = "1.2.410.200004.10.1.1.3";

Result<std::optional<SecretBytes>> random_num_of(CMS_SignerInfo* si) {
  Ptr<ASN1_OBJECT> oid = own(::OBJ_txt2obj(kOidRandomNumAttribute, 1));
  if (!oid) return Error{Errc::crypto, drain_errors("OBJ_txt2obj")};
  int idx = ::CMS_unsigned_get_attr_by_OBJ(si, oid.get(), -1);
  if (idx < 0) return std::optional<SecretBytes>{};
  X509_ATTRIBUTE* attr = ::CMS_unsigned_get_attr(si, idx);
  const ASN1_TYPE* t = attr != nullptr && ::X509_ATTRIBUTE_count(attr) == 1
                           ? ::X509_ATTRIBUTE_get0_type(attr, 0)
                           : nullptr;
  if (t == nullptr || t->type != V_ASN1_BIT_STRING || t->value.bit_string->length <= 0 ||
      ::CMS_unsigned_get_attr_by_OBJ(si, oid.get(), idx) >= 0)
    return Error{Errc::invalid_input,
                 "the randomNum unsigned attribute is malformed (want one non-empty BIT STRING)"};
  const ASN1_BIT_STRING* bits = t->value.bit_string;
  return std::optional<SecretBytes>(
      SecretBytes(ByteView(bits->data, static_cast<size_t>(bits->length))));
}

Status add_random_num(CMS_SignerInfo* si, const SecretBytes& r) {
  if (r.empty()) return Error{Errc::usage, "randomNum (R) is empty"};
  Ptr<ASN1_OBJECT> oid = own(::OBJ_txt2obj(kOidRandomNumAttribute, 1));
  Ptr<ASN1_STRING> bits = own(::ASN1_BIT_STRING_new());
  if (!oid || !bits) return Error{Errc::crypto, drain_errors("randomNum attribute")};
  DOJANG_TRY(check(::ASN1_BIT_STRING_set(bits.get(), const_cast<std::uint8_t*>(r.data()),
                                         static_cast<int>(r.size())),
                   "ASN1_BIT_STRING_set"));
  // A whole number of bytes: "0 unused bits", or trailing zero bits would be dropped.
  bits->flags &= ~0x07L;
  bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  Status st = check(::CMS_unsigned_add1_attr_by_OBJ(si, oid.get(), V_ASN1_BIT_STRING, bits.get(), -1),
                    "adding the randomNum unsigned attribute");
  secure_wipe(bits->data, static_cast<size_t>(bits->length));
  return st;
}

// Name of a DigestAlgorithmIdentifier ("SHA256"), or its dotted OID when OpenSSL
// has no name for it.
std::string digest_name(const X509_ALGOR* alg) {
  const ASN1_OBJECT* oid = nullptr;
  ::X509_ALGOR_get0(&oid, nullptr, nullptr, alg);
  int nid = ::OBJ_obj2nid(oid);
  if (nid != NID_undef) return ::OBJ_nid2sn(nid);
  char buf[128];
  int n = ::OBJ_obj2txt(buf, sizeof buf, oid, 1);
  return n > 0 ? std::string(buf) : std::string("unknown");
}

// Parses a DER (or BER) ContentInfo into an object bound to libctx().
Result<Ptr<CMS_ContentInfo>> parse_cms(ByteView der) {
  if (der.empty()) return Error{Errc::invalid_input, "signature file is empty"};
  if (der.size() > static_cast<size_t>(LONG_MAX))
    return Error{Errc::invalid_input, "signature file is too large"};
  Ptr<CMS_ContentInfo> cms = own(::CMS_ContentInfo_new_ex(libctx(), nullptr));
  if (!cms) return Error{Errc::crypto, drain_errors("CMS_ContentInfo_new_ex")};
  const unsigned char* p = der.data();
  CMS_ContentInfo* raw = cms.get();
  if (::d2i_CMS_ContentInfo(&raw, &p, static_cast<long>(der.size())) == nullptr) {
    cms.release();  // d2i freed *raw on failure
    return Error{Errc::invalid_input, drain_errors("not a DER CMS/PKCS#7 ContentInfo")};
  }
  if (p != der.data() + der.size())
    return Error{Errc::invalid_input, "CMS ContentInfo has trailing bytes after the DER structure"};
  return cms;
}

}  // namespace

Result<Bytes> sign_raw(const PrivateKey& key, ByteView data) {
  DOJANG_TRY(require_rsa(key.native(), "the signing key"));
  Ptr<EVP_MD_CTX> ctx = own(::EVP_MD_CTX_new());
  if (!ctx) return Error{Errc::crypto, drain_errors("EVP_MD_CTX_new")};
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  DOJANG_TRY(check(
      ::EVP_DigestSignInit_ex(ctx.get(), &pctx, "SHA256", libctx(), nullptr, key.native(), nullptr),
      "EVP_DigestSignInit_ex"));
  DOJANG_TRY(check(::EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING),
                   "EVP_PKEY_CTX_set_rsa_padding"));
  size_t len = 0;
  DOJANG_TRY(check(::EVP_DigestSign(ctx.get(), nullptr, &len, data_or_empty(data), data.size()),
                   "EVP_DigestSign (size)"));
  Bytes sig(len);
  DOJANG_TRY(check(::EVP_DigestSign(ctx.get(), sig.data(), &len, data_or_empty(data), data.size()),
                   "EVP_DigestSign"));
  sig.resize(len);
  return sig;
}

Status verify_raw(const Certificate& cert, ByteView data, ByteView signature) {
  EVP_PKEY* pub = ::X509_get0_pubkey(cert.native());
  if (pub == nullptr)
    return Error{Errc::invalid_input, drain_errors("certificate has no usable public key")};
  DOJANG_TRY(require_rsa(pub, "the certificate's public key"));
  Ptr<EVP_MD_CTX> ctx = own(::EVP_MD_CTX_new());
  if (!ctx) return Error{Errc::crypto, drain_errors("EVP_MD_CTX_new")};
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  DOJANG_TRY(
      check(::EVP_DigestVerifyInit_ex(ctx.get(), &pctx, "SHA256", libctx(), nullptr, pub, nullptr),
            "EVP_DigestVerifyInit_ex"));
  DOJANG_TRY(check(::EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING),
                   "EVP_PKEY_CTX_set_rsa_padding"));
  int rc = ::EVP_DigestVerify(ctx.get(), data_or_empty(signature), signature.size(),
                              data_or_empty(data), data.size());
  if (rc == 1) return {};
  internal::clear_errors();
  return Error{Errc::bad_signature,
               "the signature does not verify with the certificate's public key"};
}

Result<Bytes> sign_cms(const PrivateKey& key, const Certificate& cert, ByteView content,
                       const CmsSignOptions& options, const Clock& clock) {
  if (!cert.matches(key))
    return Error{Errc::key_mismatch, "the private key does not belong to the signer certificate"};
  DOJANG_ASSIGN(Ptr<BIO> in, memory_bio(content, "the content to sign"));
  DOJANG_ASSIGN(Ptr<EVP_MD> sha256, internal::fetch_md("SHA256"));

  // Binary content, no SMIMECapabilities; CMS_PARTIAL so the signer and its
  // signingTime can be set before CMS_final computes the signature.
  unsigned int flags = CMS_BINARY | CMS_NOSMIMECAP | CMS_PARTIAL;
  if (options.detached) flags |= CMS_DETACHED;
  if (!options.signed_attributes) flags |= CMS_NOATTR;

  DOJANG_ASSIGN(CMS_ContentInfo * raw,
                internal::check_ptr(
                    ::CMS_sign_ex(nullptr, nullptr, nullptr, nullptr, flags, libctx(), nullptr),
                    "CMS_sign_ex"));
  Ptr<CMS_ContentInfo> cms = own(raw);
  DOJANG_ASSIGN(CMS_SignerInfo * si,
                internal::check_ptr(
                    ::CMS_add1_signer(cms.get(), cert.native(), key.native(), sha256.get(), flags),
                    "CMS_add1_signer"));

  if (options.signed_attributes) {
    // SigningTime ::= Time; Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }
    // (RFC 5652 11.3: UTCTime for 1950-2049, GeneralizedTime otherwise, which ASN1_TIME_set
    // chooses). OpenSSL adds its own signingTime only when none is present.
    std::time_t now = std::chrono::system_clock::to_time_t(clock.now());
    Ptr<ASN1_STRING> when = own(::ASN1_TIME_set(nullptr, now));
    if (!when) return Error{Errc::crypto, drain_errors("ASN1_TIME_set (signingTime)")};
    DOJANG_TRY(check(::CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime,
                                                   ::ASN1_STRING_type(when.get()), when.get(), -1),
                     "adding the signingTime attribute"));
  }
  DOJANG_TRY(check(::CMS_set_detached(cms.get(), options.detached ? 1 : 0), "CMS_set_detached"));
  DOJANG_TRY(check(::CMS_final(cms.get(), in.get(), nullptr, flags), "CMS_final"));
  // Unsigned attributes are outside the signature: added after it is computed.
  if (options.random_num != nullptr) DOJANG_TRY(add_random_num(si, *options.random_num));
  return internal::to_der(cms.get(), ::i2d_CMS_ContentInfo, "encoding CMS SignedData");
}

Result<CmsVerified> verify_cms(ByteView cms_der, std::optional<ByteView> detached_content) {
  DOJANG_ASSIGN(Ptr<CMS_ContentInfo> cms, parse_cms(cms_der));
  if (::OBJ_obj2nid(::CMS_get0_type(cms.get())) != NID_pkcs7_signed)
    return Error{Errc::invalid_input, "the CMS/PKCS#7 ContentInfo is not SignedData"};

  const bool detached = ::CMS_is_detached(cms.get()) == 1;
  if (detached && !detached_content)
    return Error{Errc::usage, "the signature is detached: the signed content must be given"};

  STACK_OF(CMS_SignerInfo)* signers = ::CMS_get0_SignerInfos(cms.get());
  const int count = signers != nullptr ? sk_CMS_SignerInfo_num(signers) : 0;
  if (count <= 0) return Error{Errc::invalid_input, "the SignedData has no SignerInfo"};

  // Bind each SignerInfo to the certificate in the SignedData that its sid
  // (issuerAndSerialNumber or subjectKeyIdentifier) names. The call returns how
  // many it bound; each SignerInfo is checked below instead.
  (void)::CMS_set1_signers_certs(cms.get(), nullptr, 0);
  internal::clear_errors();
  for (int i = 0; i < count; ++i) {
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(signers, i);
    X509* signer = nullptr;
    X509_ALGOR* digest = nullptr;
    ::CMS_SignerInfo_get0_algs(si, nullptr, &signer, &digest, nullptr);
    if (signer == nullptr)
      return Error{Errc::invalid_input,
                   "the SignedData does not contain the signer's certificate (SignerInfo " +
                       std::to_string(i + 1) + " of " + std::to_string(count) + ")"};
    DOJANG_TRY(internal::fetch_md(digest_name(digest).c_str()));
  }

  // Chain, validity and revocation are path validation's job, not ours: no
  // store, CMS_NO_SIGNER_CERT_VERIFY, so nothing is looked up anywhere.
  const unsigned int flags = CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY;
  Ptr<BIO> out = own(::BIO_new(::BIO_s_mem()));
  if (!out) return Error{Errc::crypto, drain_errors("BIO_new")};
  Ptr<BIO> dcont;
  if (detached) {
    DOJANG_ASSIGN(dcont, memory_bio(*detached_content, "the signed content"));
  }
  if (::CMS_verify(cms.get(), nullptr, nullptr, dcont.get(), out.get(), flags) != 1)
    return Error{Errc::bad_signature, drain_errors("the CMS signature does not verify")};

  Bytes content;
  if (detached) {
    content.assign(detached_content->begin(), detached_content->end());
  } else {
    char* data = nullptr;
    long len = ::BIO_get_mem_data(out.get(), &data);
    if (len > 0) content.assign(data, data + len);
    if (detached_content && !std::equal(content.begin(), content.end(), detached_content->begin(),
                                        detached_content->end()))
      return Error{Errc::bad_signature,
                   "the given content differs from the content embedded in the signature"};
  }

  CMS_SignerInfo* first = sk_CMS_SignerInfo_value(signers, 0);
  X509* signer = nullptr;
  X509_ALGOR* digest = nullptr;
  ::CMS_SignerInfo_get0_algs(first, nullptr, &signer, &digest, nullptr);
  DOJANG_ASSIGN(std::optional<TimePoint> signing_time, signing_time_of(first));
  DOJANG_ASSIGN(std::optional<SecretBytes> random_num, random_num_of(first));
  std::vector<Certificate> certificates;
  Ptr<STACK_OF(X509)> certs = own(::CMS_get1_certs(cms.get()));
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i)
    certificates.push_back(Certificate::adopt(sk_X509_value(certs.get(), i)));
  return CmsVerified{
      .signer = Certificate::adopt(signer),
      .signing_time = signing_time,
      .detached = detached,
      .signed_attributes = ::CMS_signed_get_attr_count(first) > 0,
      .content = std::move(content),
      .digest_algorithm = digest_name(digest),
      .certificates = std::move(certificates),
      .random_num = std::move(random_num),
  };
}

}  // namespace dojang::pki
