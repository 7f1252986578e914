#include "pki/internal/cmp_asn1.hpp"

#include <openssl/objects.h>

#include <string>

namespace dojang::pki::internal {

STACK_OF(DOJANG_CRMF_CERT_REQ_MSG) * cert_req_messages(const DOJANG_CMP_BODY* body) noexcept {
  if (body == nullptr) return nullptr;
  switch (body->type) {
    case kBodyIr:
      return body->value.ir;
    case kBodyCr:
      return body->value.cr;
    case kBodyKur:
      return body->value.kur;
    default:
      return nullptr;
  }
}

STACK_OF(DOJANG_CMP_ITAV) * info_type_and_values(const DOJANG_CMP_BODY* body) noexcept {
  if (body == nullptr) return nullptr;
  switch (body->type) {
    case kBodyGenm:
      return body->value.genm;
    case kBodyGenp:
      return body->value.genp;
    default:
      return nullptr;
  }
}

Result<Ptr<DOJANG_CMP_MESSAGE>> decode_cmp_message(ByteView der) {
  const unsigned char* p = der.data();
  Ptr<DOJANG_CMP_MESSAGE> msg =
      own(d2i_DOJANG_CMP_MESSAGE(nullptr, &p, static_cast<long>(der.size())));
  if (!msg)
    return Error{Errc::invalid_input,
                 drain_errors("not a DER PKIMessage with an ir, cr, kur, genm or genp body")};
  if (p != der.data() + der.size())
    return Error{Errc::invalid_input, "PKIMessage has trailing bytes"};
  return msg;
}

Result<Ptr<ASN1_OBJECT>> parse_oid(std::string_view oid) {
  std::string text(oid);
  bool dotted = !text.empty() && text.find_first_not_of("0123456789.") == std::string::npos;
  Ptr<ASN1_OBJECT> obj = dotted ? own(::OBJ_txt2obj(text.c_str(), 1)) : nullptr;
  if (!obj) {
    clear_errors();
    return Error{Errc::usage, "not a dotted object identifier: \"" + text + "\""};
  }
  return obj;
}

Result<Ptr<DOJANG_CRMF_ATAV>> make_atav(std::string_view oid, ByteView value_der) {
  DOJANG_ASSIGN(Ptr<ASN1_OBJECT> type, parse_oid(oid));
  const unsigned char* p = value_der.data();
  Ptr<ASN1_TYPE> value = own(::d2i_ASN1_TYPE(nullptr, &p, static_cast<long>(value_der.size())));
  if (!value) return Error{Errc::invalid_input, drain_errors("regInfo value is not a DER value")};
  if (p != value_der.data() + value_der.size())
    return Error{Errc::invalid_input, "regInfo value has trailing bytes after its DER value"};

  Ptr<DOJANG_CRMF_ATAV> atav = own(DOJANG_CRMF_ATAV_new());
  DOJANG_TRY(check_ptr(atav.get(), "AttributeTypeAndValue"));
  ::ASN1_OBJECT_free(atav->type);
  atav->type = type.release();
  ::ASN1_TYPE_free(atav->value);
  atav->value = value.release();
  return atav;
}

Status append_reginfo(DOJANG_CRMF_CERT_REQ_MSG* msg, const DOJANG_CRMF_ATAV* atav) {
  Ptr<DOJANG_CRMF_ATAV> copy = own(DOJANG_CRMF_ATAV_dup(atav));
  DOJANG_TRY(check_ptr(copy.get(), "AttributeTypeAndValue copy"));
  if (msg->reg_info == nullptr) {
    msg->reg_info = sk_DOJANG_CRMF_ATAV_new_null();
    DOJANG_TRY(check_ptr(msg->reg_info, "regInfo"));
  }
  if (sk_DOJANG_CRMF_ATAV_push(msg->reg_info, copy.get()) <= 0)
    return Error{Errc::crypto, drain_errors("regInfo push")};
  copy.release();
  return {};
}

// The ASN.1 templates (declared, with their definitions, in cmp_asn1.hpp).
// clang-format off

// AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY DEFINED BY type }
ASN1_SEQUENCE(DOJANG_CRMF_ATAV) = {
    ASN1_SIMPLE(DOJANG_CRMF_ATAV, type, ASN1_OBJECT),
    ASN1_SIMPLE(DOJANG_CRMF_ATAV, value, ASN1_ANY),
} ASN1_SEQUENCE_END(DOJANG_CRMF_ATAV)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CRMF_ATAV)
// IMPLEMENT_ASN1_DUP_FUNCTION returns a void* (C only).
DOJANG_CRMF_ATAV* DOJANG_CRMF_ATAV_dup(const DOJANG_CRMF_ATAV* a) {
  return static_cast<DOJANG_CRMF_ATAV*>(::ASN1_item_dup(ASN1_ITEM_rptr(DOJANG_CRMF_ATAV), a));
}

// ProofOfPossession ::= CHOICE { raVerified [0] NULL, signature [1] POPOSigningKey,
//     keyEncipherment [2] POPOPrivKey, keyAgreement [3] POPOPrivKey }   (IMPLICIT TAGS)
// An implicitly tagged ASN1_SEQUENCE item keeps the whole element, tag included,
// and writes it back verbatim.
ASN1_CHOICE(DOJANG_CRMF_POPO) = {
    ASN1_IMP(DOJANG_CRMF_POPO, value.ra_verified, ASN1_NULL, 0),
    ASN1_IMP(DOJANG_CRMF_POPO, value.signature, ASN1_SEQUENCE, 1),
    ASN1_IMP(DOJANG_CRMF_POPO, value.key_encipherment, ASN1_SEQUENCE, 2),
    ASN1_IMP(DOJANG_CRMF_POPO, value.key_agreement, ASN1_SEQUENCE, 3),
} ASN1_CHOICE_END(DOJANG_CRMF_POPO)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CRMF_POPO)

// CertReqMsg ::= SEQUENCE { certReq CertRequest, popo ProofOfPossession OPTIONAL,
//     regInfo SEQUENCE SIZE(1..MAX) OF AttributeTypeAndValue OPTIONAL }
ASN1_SEQUENCE(DOJANG_CRMF_CERT_REQ_MSG) = {
    ASN1_SIMPLE(DOJANG_CRMF_CERT_REQ_MSG, cert_req, ASN1_SEQUENCE),
    ASN1_OPT(DOJANG_CRMF_CERT_REQ_MSG, popo, DOJANG_CRMF_POPO),
    ASN1_SEQUENCE_OF_OPT(DOJANG_CRMF_CERT_REQ_MSG, reg_info, DOJANG_CRMF_ATAV),
} ASN1_SEQUENCE_END(DOJANG_CRMF_CERT_REQ_MSG)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CRMF_CERT_REQ_MSG)

// InfoTypeAndValue ::= SEQUENCE { infoType OBJECT IDENTIFIER,
//     infoValue ANY DEFINED BY infoType OPTIONAL }
ASN1_SEQUENCE(DOJANG_CMP_ITAV) = {
    ASN1_SIMPLE(DOJANG_CMP_ITAV, type, ASN1_OBJECT),
    ASN1_OPT(DOJANG_CMP_ITAV, value, ASN1_ANY),
} ASN1_SEQUENCE_END(DOJANG_CMP_ITAV)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CMP_ITAV)

// PKIBody ::= CHOICE { ir [0] CertReqMessages, cr [2] CertReqMessages,
//     kur [7] CertReqMessages, genm [21] GenMsgContent, genp [22] GenRepContent, ... }
//     (EXPLICIT TAGS)
ASN1_CHOICE(DOJANG_CMP_BODY) = {
    ASN1_EXP_SEQUENCE_OF(DOJANG_CMP_BODY, value.ir, DOJANG_CRMF_CERT_REQ_MSG, 0),
    ASN1_EXP_SEQUENCE_OF(DOJANG_CMP_BODY, value.cr, DOJANG_CRMF_CERT_REQ_MSG, 2),
    ASN1_EXP_SEQUENCE_OF(DOJANG_CMP_BODY, value.kur, DOJANG_CRMF_CERT_REQ_MSG, 7),
    ASN1_EXP_SEQUENCE_OF(DOJANG_CMP_BODY, value.genm, DOJANG_CMP_ITAV, 21),
    ASN1_EXP_SEQUENCE_OF(DOJANG_CMP_BODY, value.genp, DOJANG_CMP_ITAV, 22),
} ASN1_CHOICE_END(DOJANG_CMP_BODY)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CMP_BODY)

// PKIMessage ::= SEQUENCE { header PKIHeader, body PKIBody,
//     protection [0] PKIProtection OPTIONAL,
//     extraCerts [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate OPTIONAL }
ASN1_SEQUENCE(DOJANG_CMP_MESSAGE) = {
    ASN1_SIMPLE(DOJANG_CMP_MESSAGE, header, ASN1_SEQUENCE),
    ASN1_SIMPLE(DOJANG_CMP_MESSAGE, body, DOJANG_CMP_BODY),
    ASN1_EXP_OPT(DOJANG_CMP_MESSAGE, protection, ASN1_ANY, 0),
    ASN1_EXP_OPT(DOJANG_CMP_MESSAGE, extra_certs, ASN1_SEQUENCE, 1),
} ASN1_SEQUENCE_END(DOJANG_CMP_MESSAGE)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_CMP_MESSAGE)

// clang-format on

}  // namespace dojang::pki::internal
