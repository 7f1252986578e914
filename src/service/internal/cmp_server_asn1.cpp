#include "service/internal/cmp_server_asn1.hpp"

#include <openssl/cmp.h>
#include <openssl/crmf.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "dojang/pki/cmp.hpp"

namespace dojang::service::internal {

using pki::internal::DOJANG_CMP_ITAV;
using pki::internal::DOJANG_CMP_ITAV_it;
using pki::internal::own;
using pki::internal::Ptr;

ASN1_SEQUENCE(DOJANG_CMP_HEADER) =
    {
        ASN1_SIMPLE(DOJANG_CMP_HEADER, pvno, ASN1_INTEGER),
        ASN1_SIMPLE(DOJANG_CMP_HEADER, sender, GENERAL_NAME),
        ASN1_SIMPLE(DOJANG_CMP_HEADER, recipient, GENERAL_NAME),
        ASN1_EXP_OPT(DOJANG_CMP_HEADER, message_time, ASN1_GENERALIZEDTIME, 0),
        ASN1_EXP_OPT(DOJANG_CMP_HEADER, protection_alg, X509_ALGOR, 1),
        ASN1_EXP_OPT(DOJANG_CMP_HEADER, sender_kid, ASN1_OCTET_STRING, 2),
        ASN1_EXP_OPT(DOJANG_CMP_HEADER, recip_kid, ASN1_OCTET_STRING, 3),
        ASN1_EXP_OPT(DOJANG_CMP_HEADER, transaction_id, ASN1_OCTET_STRING, 4),
        ASN1_EXP_OPT(DOJANG_CMP_HEADER, sender_nonce, ASN1_OCTET_STRING, 5),
        ASN1_EXP_OPT(DOJANG_CMP_HEADER, recip_nonce, ASN1_OCTET_STRING, 6),
        ASN1_EXP_SEQUENCE_OF_OPT(DOJANG_CMP_HEADER, free_text, ASN1_UTF8STRING, 7),
        ASN1_EXP_SEQUENCE_OF_OPT(DOJANG_CMP_HEADER, general_info, DOJANG_CMP_ITAV, 8),
} ASN1_SEQUENCE_END(DOJANG_CMP_HEADER) IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CMP_HEADER)

        ASN1_SEQUENCE(DOJANG_CMP_SPKI) =
            {
                ASN1_SIMPLE(DOJANG_CMP_SPKI, algorithm, X509_ALGOR),
                ASN1_SIMPLE(DOJANG_CMP_SPKI, public_key, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(DOJANG_CMP_SPKI) IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CMP_SPKI)

        ASN1_SEQUENCE(DOJANG_CRMF_VALIDITY) =
            {
                ASN1_EXP_OPT(DOJANG_CRMF_VALIDITY, not_before, ASN1_TIME, 0),
                ASN1_EXP_OPT(DOJANG_CRMF_VALIDITY, not_after, ASN1_TIME, 1),
} ASN1_SEQUENCE_END(DOJANG_CRMF_VALIDITY) IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CRMF_VALIDITY)

                ASN1_SEQUENCE(DOJANG_CRMF_TEMPLATE) =
                    {
                        ASN1_IMP_OPT(DOJANG_CRMF_TEMPLATE, version, ASN1_INTEGER, 0),
                        ASN1_IMP_OPT(DOJANG_CRMF_TEMPLATE, serial, ASN1_INTEGER, 1),
                        ASN1_IMP_OPT(DOJANG_CRMF_TEMPLATE, signing_alg, X509_ALGOR, 2),
                        ASN1_EXP_OPT(DOJANG_CRMF_TEMPLATE, issuer, X509_NAME, 3),
                        ASN1_IMP_OPT(DOJANG_CRMF_TEMPLATE, validity, DOJANG_CRMF_VALIDITY, 4),
                        ASN1_EXP_OPT(DOJANG_CRMF_TEMPLATE, subject, X509_NAME, 5),
                        ASN1_IMP_OPT(DOJANG_CRMF_TEMPLATE, public_key, DOJANG_CMP_SPKI, 6),
                        ASN1_IMP_OPT(DOJANG_CRMF_TEMPLATE, issuer_uid, ASN1_BIT_STRING, 7),
                        ASN1_IMP_OPT(DOJANG_CRMF_TEMPLATE, subject_uid, ASN1_BIT_STRING, 8),
                        ASN1_IMP_SEQUENCE_OF_OPT(DOJANG_CRMF_TEMPLATE, extensions, X509_EXTENSION,
                                                 9),
} ASN1_SEQUENCE_END(DOJANG_CRMF_TEMPLATE) IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CRMF_TEMPLATE)

                        ASN1_SEQUENCE(DOJANG_CMP_STATUS) =
                            {
                                ASN1_SIMPLE(DOJANG_CMP_STATUS, status, ASN1_INTEGER),
                                ASN1_SEQUENCE_OF_OPT(DOJANG_CMP_STATUS, status_string,
                                                     ASN1_UTF8STRING),
                                ASN1_OPT(DOJANG_CMP_STATUS, fail_info, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(DOJANG_CMP_STATUS) IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CMP_STATUS)

                                namespace {
  template <class T, class I2d, class D2i>
  Result<Ptr<T>> reencode(const void* obj, I2d i2d, D2i d2i, std::string_view what) {
    unsigned char* der = nullptr;
    int len = i2d(obj, &der);
    if (len <= 0) return Error{Errc::invalid_input, pki::internal::drain_errors(what)};
    Ptr<unsigned char> owner(der);
    const unsigned char* p = der;
    Ptr<T> out = own(d2i(nullptr, &p, len));
    if (!out || p != der + len)
      return Error{Errc::invalid_input, pki::internal::drain_errors(what)};
    return out;
  }

  std::string hex(const ASN1_OCTET_STRING* s) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    if (s == nullptr) return out;
    const unsigned char* d = ::ASN1_STRING_get0_data(s);
    for (int i = 0; i < ::ASN1_STRING_length(s); ++i) {
      out += kDigits[d[i] >> 4];
      out += kDigits[d[i] & 15];
    }
    return out;
  }

}  // namespace

Result<HeaderFields> header_fields(const OSSL_CMP_PKIHEADER* header) {
  DOJANG_ASSIGN(Ptr<DOJANG_CMP_HEADER> h,
                reencode<DOJANG_CMP_HEADER>(
                    header,
                    [](const void* o, unsigned char** out) {
                      return ::i2d_OSSL_CMP_PKIHEADER(static_cast<const OSSL_CMP_PKIHEADER*>(o),
                                                      out);
                    },
                    [](DOJANG_CMP_HEADER** a, const unsigned char** p, long len) {
                      return d2i_DOJANG_CMP_HEADER(a, p, len);
                    },
                    "CMP header"));
  HeaderFields f;
  if (h->sender_kid != nullptr)
    f.sender_kid.assign(reinterpret_cast<const char*>(::ASN1_STRING_get0_data(h->sender_kid)),
                        static_cast<size_t>(::ASN1_STRING_length(h->sender_kid)));
  f.transaction_id = hex(h->transaction_id);
  if (h->protection_alg != nullptr) {
    const ASN1_OBJECT* oid = nullptr;
    ::X509_ALGOR_get0(&oid, nullptr, nullptr, h->protection_alg);
    f.password_based_mac = ::OBJ_obj2nid(oid) == NID_id_PasswordBasedMAC;
  }
  return f;
}

Result<Bytes> template_public_key(const OSSL_CRMF_CERTTEMPLATE* tmpl) {
  if (tmpl == nullptr) return Error{Errc::invalid_input, "certificate request without a template"};
  DOJANG_ASSIGN(Ptr<DOJANG_CRMF_TEMPLATE> t,
                reencode<DOJANG_CRMF_TEMPLATE>(
                    tmpl,
                    [](const void* o, unsigned char** out) {
                      return ::i2d_OSSL_CRMF_CERTTEMPLATE(
                          static_cast<const OSSL_CRMF_CERTTEMPLATE*>(o), out);
                    },
                    [](DOJANG_CRMF_TEMPLATE** a, const unsigned char** p, long len) {
                      return d2i_DOJANG_CRMF_TEMPLATE(a, p, len);
                    },
                    "certificate template"));
  if (t->public_key == nullptr)
    return Error{Errc::invalid_input, "certificate template without a public key"};
  return pki::internal::to_der(t->public_key, i2d_DOJANG_CMP_SPKI, "template public key");
}

Result<std::optional<Bytes>> encrypted_vid_of(const OSSL_CRMF_MSG* crm) {
  DOJANG_ASSIGN(Bytes der, pki::internal::to_der(crm, ::i2d_OSSL_CRMF_MSG, "CertReqMsg"));
  return pki::extract_reginfo(der, pki::kOidEncryptedVid);
}

Result<long> pkisi_status(const OSSL_CMP_PKISI* si) {
  DOJANG_ASSIGN(Ptr<DOJANG_CMP_STATUS> s,
                reencode<DOJANG_CMP_STATUS>(
                    si,
                    [](const void* o, unsigned char** out) {
                      return ::i2d_OSSL_CMP_PKISI(static_cast<const OSSL_CMP_PKISI*>(o), out);
                    },
                    [](DOJANG_CMP_STATUS** a, const unsigned char** p, long len) {
                      return d2i_DOJANG_CMP_STATUS(a, p, len);
                    },
                    "PKIStatusInfo"));
  long v = ::ASN1_INTEGER_get(s->status);
  if (v < 0) return Error{Errc::invalid_input, "PKIStatusInfo with a bad status"};
  return v;
}

// PKIMessage with the body kept whole (ANY: its CHOICE alternatives are
// context-tagged) and extraCerts decoded.
struct DOJANG_CMP_ANY_MESSAGE_st {
  ASN1_STRING* header;
  ASN1_TYPE* body;
  ASN1_TYPE* protection;
  STACK_OF(X509) * extra_certs;
};
using DOJANG_CMP_ANY_MESSAGE = DOJANG_CMP_ANY_MESSAGE_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CMP_ANY_MESSAGE)

// RevDetails ::= SEQUENCE { certDetails CertTemplate, crlEntryDetails Extensions OPTIONAL }
struct DOJANG_CMP_REV_DETAILS_st {
  ASN1_STRING* cert_details;
  STACK_OF(X509_EXTENSION) * crl_entry_details;
};
using DOJANG_CMP_REV_DETAILS = DOJANG_CMP_REV_DETAILS_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CMP_REV_DETAILS)
DEFINE_STACK_OF(DOJANG_CMP_REV_DETAILS)

// PKIMessage whose body is rr [11] RevReqContent.
struct DOJANG_CMP_RR_MESSAGE_st {
  ASN1_STRING* header;
  STACK_OF(DOJANG_CMP_REV_DETAILS) * rr;
  ASN1_TYPE* protection;
  STACK_OF(X509) * extra_certs;
};
using DOJANG_CMP_RR_MESSAGE = DOJANG_CMP_RR_MESSAGE_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CMP_RR_MESSAGE)

ASN1_SEQUENCE(DOJANG_CMP_ANY_MESSAGE) = {
    ASN1_SIMPLE(DOJANG_CMP_ANY_MESSAGE, header, ASN1_SEQUENCE),
    ASN1_SIMPLE(DOJANG_CMP_ANY_MESSAGE, body, ASN1_ANY),
    ASN1_EXP_OPT(DOJANG_CMP_ANY_MESSAGE, protection, ASN1_ANY, 0),
    ASN1_EXP_SEQUENCE_OF_OPT(DOJANG_CMP_ANY_MESSAGE, extra_certs, X509, 1),
} ASN1_SEQUENCE_END(DOJANG_CMP_ANY_MESSAGE)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CMP_ANY_MESSAGE)

ASN1_SEQUENCE(DOJANG_CMP_REV_DETAILS) = {
    ASN1_SIMPLE(DOJANG_CMP_REV_DETAILS, cert_details, ASN1_SEQUENCE),
    ASN1_SEQUENCE_OF_OPT(DOJANG_CMP_REV_DETAILS, crl_entry_details, X509_EXTENSION),
} ASN1_SEQUENCE_END(DOJANG_CMP_REV_DETAILS)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CMP_REV_DETAILS)

ASN1_SEQUENCE(DOJANG_CMP_RR_MESSAGE) = {
    ASN1_SIMPLE(DOJANG_CMP_RR_MESSAGE, header, ASN1_SEQUENCE),
    ASN1_EXP_SEQUENCE_OF(DOJANG_CMP_RR_MESSAGE, rr, DOJANG_CMP_REV_DETAILS, 11),
    ASN1_EXP_OPT(DOJANG_CMP_RR_MESSAGE, protection, ASN1_ANY, 0),
    ASN1_EXP_SEQUENCE_OF_OPT(DOJANG_CMP_RR_MESSAGE, extra_certs, X509, 1),
} ASN1_SEQUENCE_END(DOJANG_CMP_RR_MESSAGE)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CMP_RR_MESSAGE)

}  // namespace dojang::service::internal

namespace dojang::pki::internal {
template <>
struct Free<service::internal::DOJANG_CMP_ANY_MESSAGE> {
  void operator()(service::internal::DOJANG_CMP_ANY_MESSAGE* p) const noexcept {
    service::internal::DOJANG_CMP_ANY_MESSAGE_free(p);
  }
};
template <>
struct Free<service::internal::DOJANG_CMP_RR_MESSAGE> {
  void operator()(service::internal::DOJANG_CMP_RR_MESSAGE* p) const noexcept {
    service::internal::DOJANG_CMP_RR_MESSAGE_free(p);
  }
};
}  // namespace dojang::pki::internal

namespace dojang::service::internal {

namespace {
int i2d_message(const void* o, unsigned char** out) {
  return ::i2d_OSSL_CMP_MSG(static_cast<const OSSL_CMP_MSG*>(o), out);
}
}  // namespace

Result<std::vector<pki::Certificate>> extra_certs(const OSSL_CMP_MSG* msg) {
  DOJANG_ASSIGN(Ptr<DOJANG_CMP_ANY_MESSAGE> m,
                reencode<DOJANG_CMP_ANY_MESSAGE>(
                    msg, i2d_message,
                    [](DOJANG_CMP_ANY_MESSAGE** a, const unsigned char** p, long len) {
                      return d2i_DOJANG_CMP_ANY_MESSAGE(a, p, len);
                    },
                    "PKIMessage extraCerts"));
  std::vector<pki::Certificate> out;
  for (int i = 0; i < sk_X509_num(m->extra_certs); ++i)
    out.push_back(pki::Certificate::adopt(sk_X509_value(m->extra_certs, i)));  // adopt up-refs
  return out;
}

Result<std::optional<int>> revocation_reason(const OSSL_CMP_MSG* msg) {
  DOJANG_ASSIGN(Ptr<DOJANG_CMP_RR_MESSAGE> m,
                reencode<DOJANG_CMP_RR_MESSAGE>(
                    msg, i2d_message,
                    [](DOJANG_CMP_RR_MESSAGE** a, const unsigned char** p, long len) {
                      return d2i_DOJANG_CMP_RR_MESSAGE(a, p, len);
                    },
                    "rr PKIMessage"));
  if (sk_DOJANG_CMP_REV_DETAILS_num(m->rr) < 1)
    return Error{Errc::invalid_input, "rr without RevDetails"};
  const DOJANG_CMP_REV_DETAILS* d = sk_DOJANG_CMP_REV_DETAILS_value(m->rr, 0);
  int crit = 0;
  Ptr<ASN1_ENUMERATED> reason = own(static_cast<ASN1_ENUMERATED*>(
      ::X509V3_get_d2i(d->crl_entry_details, NID_crl_reason, &crit, nullptr)));
  if (!reason) {
    if (crit == -2) return Error{Errc::invalid_input, "rr with more than one reasonCode"};
    if (crit >= 0) return Error{Errc::invalid_input, "rr with a reasonCode that does not decode"};
    pki::internal::clear_errors();
    return std::optional<int>{};
  }
  long v = ::ASN1_ENUMERATED_get(reason.get());
  if (v < 0 || v > 10) return Error{Errc::invalid_input, "rr with an unknown reasonCode"};
  return std::optional<int>(static_cast<int>(v));
}

}  // namespace dojang::service::internal
