#include "dojang/pki/cmp.hpp"

#include <openssl/cmp.h>
#include <openssl/objects.h>

#include <string>
#include <vector>

#include "pki/internal/cmp_asn1.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::pki {

namespace {

using internal::Ptr;

Result<Ptr<internal::DOJANG_CRMF_CERT_REQ_MSG>> decode_cert_req_msg(ByteView der) {
  const unsigned char* p = der.data();
  auto msg = internal::own(
      internal::d2i_DOJANG_CRMF_CERT_REQ_MSG(nullptr, &p, static_cast<long>(der.size())));
  if (!msg) return Error{Errc::invalid_input, internal::drain_errors("not a DER CRMF CertReqMsg")};
  if (p != der.data() + der.size())
    return Error{Errc::invalid_input, "CertReqMsg has trailing bytes"};
  return msg;
}

// Decodes an ir / cr / kur PKIMessage with our template, after OpenSSL's own
// decoder has accepted it as a PKIMessage.
Result<Ptr<internal::DOJANG_CMP_MESSAGE>> decode_cert_req_message(ByteView der) {
  const unsigned char* p = der.data();
  Ptr<OSSL_CMP_MSG> full =
      internal::own(::d2i_OSSL_CMP_MSG(nullptr, &p, static_cast<long>(der.size())));
  if (!full) return Error{Errc::invalid_input, internal::drain_errors("not a DER CMP PKIMessage")};
  if (p != der.data() + der.size())
    return Error{Errc::invalid_input, "PKIMessage has trailing bytes"};
  int type = ::OSSL_CMP_MSG_get_bodytype(full.get());
  if (type != OSSL_CMP_IR && type != OSSL_CMP_CR && type != OSSL_CMP_KUR)
    return Error{Errc::usage, "PKIMessage body (type " + std::to_string(type) +
                                  ") is not a certificate request (ir, cr or kur)"};
  DOJANG_ASSIGN(auto msg, internal::decode_cmp_message(der));
  if (internal::cert_req_messages(msg->body) == nullptr)
    return Error{Errc::invalid_input, "PKIMessage has no CertReqMessages"};
  return msg;
}

Result<std::optional<Bytes>> find_reginfo(const internal::DOJANG_CRMF_CERT_REQ_MSG* msg,
                                          const ASN1_OBJECT* type) {
  for (int i = 0; i < internal::sk_DOJANG_CRMF_ATAV_num(msg->reg_info); ++i) {
    const internal::DOJANG_CRMF_ATAV* atav = internal::sk_DOJANG_CRMF_ATAV_value(msg->reg_info, i);
    if (::OBJ_cmp(atav->type, type) != 0) continue;
    DOJANG_ASSIGN(Bytes value, internal::to_der(atav->value, ::i2d_ASN1_TYPE, "regInfo value"));
    return std::optional<Bytes>(std::move(value));
  }
  return std::optional<Bytes>{};
}

}  // namespace

Result<std::optional<Bytes>> extract_reginfo(ByteView cert_req_msg_der, std::string_view oid) {
  DOJANG_ASSIGN(Ptr<ASN1_OBJECT> type, internal::parse_oid(oid));
  DOJANG_ASSIGN(auto msg, decode_cert_req_msg(cert_req_msg_der));
  return find_reginfo(msg.get(), type.get());
}

Result<Bytes> add_reginfo_to_cert_req_msg(ByteView cert_req_msg_der, std::string_view oid,
                                          ByteView value_der) {
  DOJANG_ASSIGN(auto atav, internal::make_atav(oid, value_der));
  DOJANG_ASSIGN(auto msg, decode_cert_req_msg(cert_req_msg_der));
  DOJANG_TRY(internal::append_reginfo(msg.get(), atav.get()));
  return internal::to_der(msg.get(), internal::i2d_DOJANG_CRMF_CERT_REQ_MSG, "CertReqMsg");
}

Result<Bytes> add_reginfo(ByteView pki_message_der, std::string_view oid, ByteView value_der) {
  DOJANG_ASSIGN(auto atav, internal::make_atav(oid, value_der));
  DOJANG_ASSIGN(auto msg, decode_cert_req_message(pki_message_der));
  auto* reqs = internal::cert_req_messages(msg->body);
  for (int i = 0; i < internal::sk_DOJANG_CRMF_CERT_REQ_MSG_num(reqs); ++i)
    DOJANG_TRY(
        internal::append_reginfo(internal::sk_DOJANG_CRMF_CERT_REQ_MSG_value(reqs, i), atav.get()));
  return internal::to_der(msg.get(), internal::i2d_DOJANG_CMP_MESSAGE, "PKIMessage");
}

Result<std::vector<std::optional<Bytes>>> extract_reginfo_from_message(ByteView pki_message_der,
                                                                       std::string_view oid) {
  DOJANG_ASSIGN(Ptr<ASN1_OBJECT> type, internal::parse_oid(oid));
  DOJANG_ASSIGN(auto msg, decode_cert_req_message(pki_message_der));
  auto* reqs = internal::cert_req_messages(msg->body);
  std::vector<std::optional<Bytes>> out;
  for (int i = 0; i < internal::sk_DOJANG_CRMF_CERT_REQ_MSG_num(reqs); ++i) {
    DOJANG_ASSIGN(auto value,
                  find_reginfo(internal::sk_DOJANG_CRMF_CERT_REQ_MSG_value(reqs, i), type.get()));
    out.push_back(std::move(value));
  }
  return out;
}

}  // namespace dojang::pki
