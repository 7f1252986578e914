// ASN.1 templates for the parts of CRMF (RFC 4211) and CMP (RFC 4210) that
// OpenSSL 3.0 does not let us reach: the regInfo of a CertReqMsg, where Korean
// NPKI clients put the EncryptedVID. Everything we do not need to look into is
// kept as its original encoding, so a decode/encode round trip is byte-exact.
#pragma once

#include <openssl/asn1t.h>

#include "pki/internal/ossl.hpp"

namespace dojang::pki::internal {

// RFC 4211 (DEFINITIONS IMPLICIT TAGS):
// AttributeTypeAndValue ::= SEQUENCE {
//     type         OBJECT IDENTIFIER,
//     value        ANY DEFINED BY type }
struct DOJANG_CRMF_ATAV_st {
  ASN1_OBJECT* type;
  ASN1_TYPE* value;
};
using DOJANG_CRMF_ATAV = DOJANG_CRMF_ATAV_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CRMF_ATAV)
DECLARE_ASN1_DUP_FUNCTION(DOJANG_CRMF_ATAV)
DEFINE_STACK_OF(DOJANG_CRMF_ATAV)

// ProofOfPossession ::= CHOICE {
//     raVerified        [0] NULL,
//     signature         [1] POPOSigningKey,
//     keyEncipherment   [2] POPOPrivKey,
//     keyAgreement      [3] POPOPrivKey }
// POPOSigningKey is a SEQUENCE and POPOPrivKey a CHOICE (so its tag is
// explicit): alternatives 1-3 are constructed and are kept whole, tag
// included, as an opaque SEQUENCE-typed string.
struct DOJANG_CRMF_POPO_st {
  int type;
  union {
    ASN1_NULL* ra_verified;
    ASN1_STRING* signature;
    ASN1_STRING* key_encipherment;
    ASN1_STRING* key_agreement;
  } value;
};
using DOJANG_CRMF_POPO = DOJANG_CRMF_POPO_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CRMF_POPO)

// CertReqMsg ::= SEQUENCE {
//     certReq   CertRequest,
//     popo      ProofOfPossession  OPTIONAL,
//     -- content depends upon key type
//     regInfo   SEQUENCE SIZE(1..MAX) OF AttributeTypeAndValue OPTIONAL }
// certReq (CertRequest ::= SEQUENCE { ... }) is kept opaque.
struct DOJANG_CRMF_CERT_REQ_MSG_st {
  ASN1_STRING* cert_req;
  DOJANG_CRMF_POPO* popo;
  STACK_OF(DOJANG_CRMF_ATAV) * reg_info;
};
using DOJANG_CRMF_CERT_REQ_MSG = DOJANG_CRMF_CERT_REQ_MSG_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CRMF_CERT_REQ_MSG)
DEFINE_STACK_OF(DOJANG_CRMF_CERT_REQ_MSG)

// RFC 4210 (DEFINITIONS EXPLICIT TAGS):
// InfoTypeAndValue ::= SEQUENCE {
//     infoType               OBJECT IDENTIFIER,
//     infoValue              ANY DEFINED BY infoType  OPTIONAL }
// (OpenSSL's own OSSL_CMP_ITAV stores known infoTypes as other C types and
// cannot be encoded through the public API, hence this template.)
struct DOJANG_CMP_ITAV_st {
  ASN1_OBJECT* type;
  ASN1_TYPE* value;
};
using DOJANG_CMP_ITAV = DOJANG_CMP_ITAV_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CMP_ITAV)
DEFINE_STACK_OF(DOJANG_CMP_ITAV)

// PKIBody ::= CHOICE {
//     ir       [0]  CertReqMessages,        --Initialization Request
//     ...
//     cr       [2]  CertReqMessages,        --Certification Request
//     ...
//     kur      [7]  CertReqMessages,        --Key Update Request
//     ...
//     genm     [21] GenMsgContent,          --General Message
//     genp     [22] GenRepContent,          --General Response
//     ... }
// CertReqMessages ::= SEQUENCE SIZE (1..MAX) OF CertReqMsg
// GenMsgContent ::= SEQUENCE OF InfoTypeAndValue
// GenRepContent ::= SEQUENCE OF InfoTypeAndValue
// Only these alternatives are modelled: decoding any other body fails.
enum : int { kBodyIr = 0, kBodyCr = 1, kBodyKur = 2, kBodyGenm = 3, kBodyGenp = 4 };
struct DOJANG_CMP_BODY_st {
  int type;  // kBody*: the index of the alternative, not its tag
  union {
    STACK_OF(DOJANG_CRMF_CERT_REQ_MSG) * ir;
    STACK_OF(DOJANG_CRMF_CERT_REQ_MSG) * cr;
    STACK_OF(DOJANG_CRMF_CERT_REQ_MSG) * kur;
    STACK_OF(DOJANG_CMP_ITAV) * genm;
    STACK_OF(DOJANG_CMP_ITAV) * genp;
  } value;
};
using DOJANG_CMP_BODY = DOJANG_CMP_BODY_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CMP_BODY)

// PKIMessage ::= SEQUENCE {
//     header           PKIHeader,
//     body             PKIBody,
//     protection   [0] PKIProtection OPTIONAL,
//     extraCerts   [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate
//                  OPTIONAL }
// PKIProtection ::= BIT STRING
// header and extraCerts are kept opaque; protection is kept as it came.
struct DOJANG_CMP_MESSAGE_st {
  ASN1_STRING* header;
  DOJANG_CMP_BODY* body;
  ASN1_TYPE* protection;
  ASN1_STRING* extra_certs;
};
using DOJANG_CMP_MESSAGE = DOJANG_CMP_MESSAGE_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CMP_MESSAGE)

template <>
struct Free<DOJANG_CRMF_ATAV> {
  void operator()(DOJANG_CRMF_ATAV* p) const noexcept { DOJANG_CRMF_ATAV_free(p); }
};
template <>
struct Free<DOJANG_CRMF_CERT_REQ_MSG> {
  void operator()(DOJANG_CRMF_CERT_REQ_MSG* p) const noexcept { DOJANG_CRMF_CERT_REQ_MSG_free(p); }
};
template <>
struct Free<DOJANG_CMP_MESSAGE> {
  void operator()(DOJANG_CMP_MESSAGE* p) const noexcept { DOJANG_CMP_MESSAGE_free(p); }
};

// The CertReqMessages of an ir / cr / kur body; nullptr for other bodies.
STACK_OF(DOJANG_CRMF_CERT_REQ_MSG) * cert_req_messages(const DOJANG_CMP_BODY* body) noexcept;
// The InfoTypeAndValues of a genm / genp body; nullptr for other bodies.
STACK_OF(DOJANG_CMP_ITAV) * info_type_and_values(const DOJANG_CMP_BODY* body) noexcept;

// Decodes a whole PKIMessage whose body is one of the modelled alternatives.
// invalid_input when the DER is malformed, has trailing bytes or another body.
Result<Ptr<DOJANG_CMP_MESSAGE>> decode_cmp_message(ByteView der);

// AttributeTypeAndValue{oid, value}: usage when oid is not a dotted OID,
// invalid_input when value_der is not exactly one DER value.
Result<Ptr<DOJANG_CRMF_ATAV>> make_atav(std::string_view oid, ByteView value_der);

// Appends a copy of atav to msg's regInfo (creating it).
Status append_reginfo(DOJANG_CRMF_CERT_REQ_MSG* msg, const DOJANG_CRMF_ATAV* atav);

// Parses a dotted OID (numerical form only); usage error otherwise.
Result<Ptr<ASN1_OBJECT>> parse_oid(std::string_view oid);

}  // namespace dojang::pki::internal
