#include "light_cmp.hpp"

#include <openssl/asn1t.h>
#include <openssl/cmp.h>
#include <openssl/crmf.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <vector>

#include "dojang/pki/hex.hpp"
#include "dojang/pki/random.hpp"
#include "pki/internal/cmp_client.hpp"
#include "pki/internal/ossl.hpp"
#include "service/internal/cmp_server_asn1.hpp"

// RFC 4210 (DEFINITIONS EXPLICIT TAGS), RFC 5280 and RFC 4211, as far as the
// light client reads or writes them. Certificates, caPubs, extraCerts and the
// ir's CertReqMessages are kept as their DER (ASN1_SEQUENCE items) and never
// decoded.
namespace dojang::bench::asn1 {

// PKIStatusInfo ::= SEQUENCE {
//     status        PKIStatus,
//     statusString  PKIFreeText     OPTIONAL,
//     failInfo      PKIFailureInfo  OPTIONAL }
// PKIStatus ::= INTEGER; PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String;
// PKIFailureInfo ::= BIT STRING
struct LIGHT_STATUS_st {
  ASN1_INTEGER* status;
  STACK_OF(ASN1_UTF8STRING) * status_string;
  ASN1_BIT_STRING* fail_info;
};
using LIGHT_STATUS = LIGHT_STATUS_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_STATUS)

// CertOrEncCert ::= CHOICE {
//     certificate     [0] CMPCertificate,
//     encryptedCert   [1] EncryptedValue }
// CMPCertificate ::= CHOICE { x509v3PKCert Certificate, ... }
struct LIGHT_CERT_OR_ENC_CERT_st {
  int type;
  union {
    ASN1_STRING* certificate;  // the Certificate's DER
    ASN1_STRING* encrypted_cert;
  } value;
};
using LIGHT_CERT_OR_ENC_CERT = LIGHT_CERT_OR_ENC_CERT_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_CERT_OR_ENC_CERT)

// CertifiedKeyPair ::= SEQUENCE {
//     certOrEncCert       CertOrEncCert,
//     privateKey      [0] EncryptedValue      OPTIONAL,
//     publicationInfo [1] PKIPublicationInfo  OPTIONAL }
struct LIGHT_CERTIFIED_KEY_PAIR_st {
  LIGHT_CERT_OR_ENC_CERT* cert_or_enc_cert;
  ASN1_STRING* private_key;
  ASN1_STRING* publication_info;
};
using LIGHT_CERTIFIED_KEY_PAIR = LIGHT_CERTIFIED_KEY_PAIR_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_CERTIFIED_KEY_PAIR)

// CertResponse ::= SEQUENCE {
//     certReqId           INTEGER,
//     status              PKIStatusInfo,
//     certifiedKeyPair    CertifiedKeyPair    OPTIONAL,
//     rspInfo             OCTET STRING        OPTIONAL }
struct LIGHT_CERT_RESPONSE_st {
  ASN1_INTEGER* cert_req_id;
  LIGHT_STATUS* status;
  LIGHT_CERTIFIED_KEY_PAIR* certified_key_pair;
  ASN1_OCTET_STRING* rsp_info;
};
using LIGHT_CERT_RESPONSE = LIGHT_CERT_RESPONSE_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_CERT_RESPONSE)
DEFINE_STACK_OF(LIGHT_CERT_RESPONSE)

// CertRepMessage ::= SEQUENCE {
//     caPubs       [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate OPTIONAL,
//     response         SEQUENCE OF CertResponse }
struct LIGHT_CERT_REP_st {
  ASN1_STRING* ca_pubs;
  STACK_OF(LIGHT_CERT_RESPONSE) * response;
};
using LIGHT_CERT_REP = LIGHT_CERT_REP_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_CERT_REP)

// ErrorMsgContent ::= SEQUENCE {
//     pKIStatusInfo          PKIStatusInfo,
//     errorCode              INTEGER           OPTIONAL,
//     errorDetails           PKIFreeText       OPTIONAL }
struct LIGHT_ERROR_st {
  LIGHT_STATUS* status;
  ASN1_INTEGER* error_code;
  STACK_OF(ASN1_UTF8STRING) * error_details;
};
using LIGHT_ERROR = LIGHT_ERROR_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_ERROR)

// CertStatus ::= SEQUENCE {
//     certHash    OCTET STRING,
//     certReqId   INTEGER,
//     statusInfo  PKIStatusInfo OPTIONAL }
struct LIGHT_CERT_STATUS_st {
  ASN1_OCTET_STRING* cert_hash;
  ASN1_INTEGER* cert_req_id;
  LIGHT_STATUS* status_info;
};
using LIGHT_CERT_STATUS = LIGHT_CERT_STATUS_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_CERT_STATUS)
DEFINE_STACK_OF(LIGHT_CERT_STATUS)

// PKIBody ::= CHOICE {
//     ir       [0]  CertReqMessages,        --Initialization Request
//     ip       [1]  CertRepMessage,         --Initialization Response
//     ...
//     pkiconf  [19] PKIConfirmContent,      --Confirmation
//     ...
//     error    [23] ErrorMsgContent,        --Error Message
//     certConf [24] CertConfirmContent,     --Certificate confirm
//     ... }
// PKIConfirmContent ::= NULL
// CertConfirmContent ::= SEQUENCE OF CertStatus
// Only these alternatives are modelled: decoding any other body fails.
enum : int { kBodyIr = 0, kBodyIp = 1, kBodyPkiConf = 2, kBodyError = 3, kBodyCertConf = 4 };
struct LIGHT_BODY_st {
  int type;  // kBody*: the index of the alternative, not its tag
  union {
    ASN1_STRING* ir;
    LIGHT_CERT_REP* ip;
    ASN1_NULL* pkiconf;
    LIGHT_ERROR* error;
    STACK_OF(LIGHT_CERT_STATUS) * cert_conf;
  } value;
};
using LIGHT_BODY = LIGHT_BODY_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_BODY)

// PKIHeader: the CA's own template (service/internal/cmp_server_asn1.hpp).
using service::internal::DOJANG_CMP_HEADER;
using service::internal::DOJANG_CMP_HEADER_it;

// PKIMessage ::= SEQUENCE {
//     header           PKIHeader,
//     body             PKIBody,
//     protection   [0] PKIProtection OPTIONAL,
//     extraCerts   [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate
//                  OPTIONAL }
// PKIProtection ::= BIT STRING
struct LIGHT_MESSAGE_st {
  DOJANG_CMP_HEADER* header;
  LIGHT_BODY* body;
  ASN1_BIT_STRING* protection;
  ASN1_STRING* extra_certs;
};
using LIGHT_MESSAGE = LIGHT_MESSAGE_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_MESSAGE)

// ProtectedPart ::= SEQUENCE {
//     header    PKIHeader,
//     body      PKIBody }
struct LIGHT_PROTECTED_PART_st {
  DOJANG_CMP_HEADER* header;
  LIGHT_BODY* body;
};
using LIGHT_PROTECTED_PART = LIGHT_PROTECTED_PART_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_PROTECTED_PART)

// PBMParameter ::= SEQUENCE {
//     salt                OCTET STRING,
//     owf                 AlgorithmIdentifier,
//     iterationCount      INTEGER,
//     mac                 AlgorithmIdentifier }
// (OpenSSL's OSSL_CRMF_PBMPARAMETER has no getters: read with this one.)
struct LIGHT_PBM_st {
  ASN1_OCTET_STRING* salt;
  X509_ALGOR* owf;
  ASN1_INTEGER* iteration_count;
  X509_ALGOR* mac;
};
using LIGHT_PBM = LIGHT_PBM_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_PBM)

// RFC 5280 (the TBSCertificate fields are IMPLICIT unless marked):
// TBSCertificate  ::=  SEQUENCE  {
//      version         [0]  EXPLICIT Version DEFAULT v1,
//      serialNumber         CertificateSerialNumber,
//      signature            AlgorithmIdentifier,
//      issuer               Name,
//      validity             Validity,
//      subject              Name,
//      subjectPublicKeyInfo SubjectPublicKeyInfo,
//      issuerUniqueID  [1]  IMPLICIT UniqueIdentifier OPTIONAL,
//      subjectUniqueID [2]  IMPLICIT UniqueIdentifier OPTIONAL,
//      extensions      [3]  EXPLICIT Extensions OPTIONAL }
// Everything but the serial number is kept as DER; in particular the
// SubjectPublicKeyInfo is not decoded into a key.
struct LIGHT_TBS_st {
  ASN1_INTEGER* version;
  ASN1_INTEGER* serial;
  ASN1_STRING* signature;
  ASN1_STRING* issuer;
  ASN1_STRING* validity;
  ASN1_STRING* subject;
  ASN1_STRING* public_key_info;
  ASN1_BIT_STRING* issuer_uid;
  ASN1_BIT_STRING* subject_uid;
  ASN1_STRING* extensions;
};
using LIGHT_TBS = LIGHT_TBS_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_TBS)

// Certificate  ::=  SEQUENCE  {
//      tbsCertificate       TBSCertificate,
//      signatureAlgorithm   AlgorithmIdentifier,
//      signatureValue       BIT STRING  }
struct LIGHT_CERT_st {
  LIGHT_TBS* tbs;
  X509_ALGOR* signature_alg;
  ASN1_BIT_STRING* signature;
};
using LIGHT_CERT = LIGHT_CERT_st;
DECLARE_ASN1_FUNCTIONS(LIGHT_CERT)

// clang-format off
ASN1_SEQUENCE(LIGHT_STATUS) = {
    ASN1_SIMPLE(LIGHT_STATUS, status, ASN1_INTEGER),
    ASN1_SEQUENCE_OF_OPT(LIGHT_STATUS, status_string, ASN1_UTF8STRING),
    ASN1_OPT(LIGHT_STATUS, fail_info, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(LIGHT_STATUS)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_STATUS)

ASN1_CHOICE(LIGHT_CERT_OR_ENC_CERT) = {
    ASN1_EXP(LIGHT_CERT_OR_ENC_CERT, value.certificate, ASN1_SEQUENCE, 0),
    ASN1_EXP(LIGHT_CERT_OR_ENC_CERT, value.encrypted_cert, ASN1_SEQUENCE, 1),
} ASN1_CHOICE_END(LIGHT_CERT_OR_ENC_CERT)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_CERT_OR_ENC_CERT)

ASN1_SEQUENCE(LIGHT_CERTIFIED_KEY_PAIR) = {
    ASN1_SIMPLE(LIGHT_CERTIFIED_KEY_PAIR, cert_or_enc_cert, LIGHT_CERT_OR_ENC_CERT),
    ASN1_EXP_OPT(LIGHT_CERTIFIED_KEY_PAIR, private_key, ASN1_SEQUENCE, 0),
    ASN1_EXP_OPT(LIGHT_CERTIFIED_KEY_PAIR, publication_info, ASN1_SEQUENCE, 1),
} ASN1_SEQUENCE_END(LIGHT_CERTIFIED_KEY_PAIR)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_CERTIFIED_KEY_PAIR)

ASN1_SEQUENCE(LIGHT_CERT_RESPONSE) = {
    ASN1_SIMPLE(LIGHT_CERT_RESPONSE, cert_req_id, ASN1_INTEGER),
    ASN1_SIMPLE(LIGHT_CERT_RESPONSE, status, LIGHT_STATUS),
    ASN1_OPT(LIGHT_CERT_RESPONSE, certified_key_pair, LIGHT_CERTIFIED_KEY_PAIR),
    ASN1_OPT(LIGHT_CERT_RESPONSE, rsp_info, ASN1_OCTET_STRING),
} ASN1_SEQUENCE_END(LIGHT_CERT_RESPONSE)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_CERT_RESPONSE)

ASN1_SEQUENCE(LIGHT_CERT_REP) = {
    ASN1_EXP_OPT(LIGHT_CERT_REP, ca_pubs, ASN1_SEQUENCE, 1),
    ASN1_SEQUENCE_OF(LIGHT_CERT_REP, response, LIGHT_CERT_RESPONSE),
} ASN1_SEQUENCE_END(LIGHT_CERT_REP)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_CERT_REP)

ASN1_SEQUENCE(LIGHT_ERROR) = {
    ASN1_SIMPLE(LIGHT_ERROR, status, LIGHT_STATUS),
    ASN1_OPT(LIGHT_ERROR, error_code, ASN1_INTEGER),
    ASN1_SEQUENCE_OF_OPT(LIGHT_ERROR, error_details, ASN1_UTF8STRING),
} ASN1_SEQUENCE_END(LIGHT_ERROR)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_ERROR)

ASN1_SEQUENCE(LIGHT_CERT_STATUS) = {
    ASN1_SIMPLE(LIGHT_CERT_STATUS, cert_hash, ASN1_OCTET_STRING),
    ASN1_SIMPLE(LIGHT_CERT_STATUS, cert_req_id, ASN1_INTEGER),
    ASN1_OPT(LIGHT_CERT_STATUS, status_info, LIGHT_STATUS),
} ASN1_SEQUENCE_END(LIGHT_CERT_STATUS)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_CERT_STATUS)

ASN1_CHOICE(LIGHT_BODY) = {
    ASN1_EXP(LIGHT_BODY, value.ir, ASN1_SEQUENCE, 0),
    ASN1_EXP(LIGHT_BODY, value.ip, LIGHT_CERT_REP, 1),
    ASN1_EXP(LIGHT_BODY, value.pkiconf, ASN1_NULL, 19),
    ASN1_EXP(LIGHT_BODY, value.error, LIGHT_ERROR, 23),
    ASN1_EXP_SEQUENCE_OF(LIGHT_BODY, value.cert_conf, LIGHT_CERT_STATUS, 24),
} ASN1_CHOICE_END(LIGHT_BODY)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_BODY)

ASN1_SEQUENCE(LIGHT_MESSAGE) = {
    ASN1_SIMPLE(LIGHT_MESSAGE, header, DOJANG_CMP_HEADER),
    ASN1_SIMPLE(LIGHT_MESSAGE, body, LIGHT_BODY),
    ASN1_EXP_OPT(LIGHT_MESSAGE, protection, ASN1_BIT_STRING, 0),
    ASN1_EXP_OPT(LIGHT_MESSAGE, extra_certs, ASN1_SEQUENCE, 1),
} ASN1_SEQUENCE_END(LIGHT_MESSAGE)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_MESSAGE)

ASN1_SEQUENCE(LIGHT_PROTECTED_PART) = {
    ASN1_SIMPLE(LIGHT_PROTECTED_PART, header, DOJANG_CMP_HEADER),
    ASN1_SIMPLE(LIGHT_PROTECTED_PART, body, LIGHT_BODY),
} ASN1_SEQUENCE_END(LIGHT_PROTECTED_PART)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_PROTECTED_PART)

ASN1_SEQUENCE(LIGHT_PBM) = {
    ASN1_SIMPLE(LIGHT_PBM, salt, ASN1_OCTET_STRING),
    ASN1_SIMPLE(LIGHT_PBM, owf, X509_ALGOR),
    ASN1_SIMPLE(LIGHT_PBM, iteration_count, ASN1_INTEGER),
    ASN1_SIMPLE(LIGHT_PBM, mac, X509_ALGOR),
} ASN1_SEQUENCE_END(LIGHT_PBM)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_PBM)

ASN1_SEQUENCE(LIGHT_TBS) = {
    ASN1_EXP_OPT(LIGHT_TBS, version, ASN1_INTEGER, 0),
    ASN1_SIMPLE(LIGHT_TBS, serial, ASN1_INTEGER),
    ASN1_SIMPLE(LIGHT_TBS, signature, ASN1_SEQUENCE),
    ASN1_SIMPLE(LIGHT_TBS, issuer, ASN1_SEQUENCE),
    ASN1_SIMPLE(LIGHT_TBS, validity, ASN1_SEQUENCE),
    ASN1_SIMPLE(LIGHT_TBS, subject, ASN1_SEQUENCE),
    ASN1_SIMPLE(LIGHT_TBS, public_key_info, ASN1_SEQUENCE),
    ASN1_IMP_OPT(LIGHT_TBS, issuer_uid, ASN1_BIT_STRING, 1),
    ASN1_IMP_OPT(LIGHT_TBS, subject_uid, ASN1_BIT_STRING, 2),
    ASN1_EXP_OPT(LIGHT_TBS, extensions, ASN1_SEQUENCE, 3),
} ASN1_SEQUENCE_END(LIGHT_TBS)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_TBS)

ASN1_SEQUENCE(LIGHT_CERT) = {
    ASN1_SIMPLE(LIGHT_CERT, tbs, LIGHT_TBS),
    ASN1_SIMPLE(LIGHT_CERT, signature_alg, X509_ALGOR),
    ASN1_SIMPLE(LIGHT_CERT, signature, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(LIGHT_CERT)
IMPLEMENT_ASN1_FUNCTIONS(LIGHT_CERT)
// clang-format on

}  // namespace dojang::bench::asn1

namespace dojang::pki::internal {
#define DOJANG_BENCH_FREE(T)                                                        \
  template <>                                                                       \
  struct Free<bench::asn1::T> {                                                     \
    void operator()(bench::asn1::T* p) const noexcept { bench::asn1::T##_free(p); } \
  }
DOJANG_BENCH_FREE(LIGHT_STATUS);
DOJANG_BENCH_FREE(LIGHT_CERT_STATUS);
DOJANG_BENCH_FREE(LIGHT_MESSAGE);
DOJANG_BENCH_FREE(LIGHT_PBM);
DOJANG_BENCH_FREE(LIGHT_CERT);
#undef DOJANG_BENCH_FREE
template <>
struct Free<OSSL_CRMF_PBMPARAMETER> {
  void operator()(OSSL_CRMF_PBMPARAMETER* p) const noexcept { OSSL_CRMF_PBMPARAMETER_free(p); }
};
}  // namespace dojang::pki::internal

namespace dojang::bench {

namespace {

using namespace asn1;
namespace ossl = pki::internal;
using ossl::check;
using ossl::check_ptr;
using ossl::own;
using ossl::Ptr;

ByteView view_of(const ASN1_STRING* s) {
  return ByteView(::ASN1_STRING_get0_data(s), static_cast<std::size_t>(::ASN1_STRING_length(s)));
}

Bytes bytes_of(const ASN1_STRING* s) {
  ByteView v = view_of(s);
  return Bytes(v.begin(), v.end());
}

// A whole DER value of item; invalid_input when malformed or followed by more bytes.
template <class T>
Result<Ptr<T>> decode(ByteView der, T* (*d2i)(T**, const unsigned char**, long), const char* what) {
  const unsigned char* p = der.data();
  Ptr<T> out = own(d2i(nullptr, &p, static_cast<long>(der.size())));
  if (!out) return Error{Errc::invalid_input, ossl::drain_errors(what)};
  if (p != der.data() + der.size())
    return Error{Errc::invalid_input, std::string(what) + ": trailing bytes"};
  return out;
}

std::string text_of(const STACK_OF(ASN1_UTF8STRING) * texts) {
  std::string out;
  for (int i = 0; i < sk_ASN1_UTF8STRING_num(texts); ++i) {
    ByteView t = view_of(sk_ASN1_UTF8STRING_value(texts, i));
    if (!out.empty()) out += "; ";
    for (auto c : t) out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
  }
  return out;
}

// "rejection: badMessageCheck (text)", as the wallet words a server's status.
std::string status_text(const LIGHT_STATUS* si) {
  long status = ::ASN1_INTEGER_get(si->status);
  std::string out(ossl::pkistatus_name(static_cast<int>(status)));
  if (out.empty()) out = "status " + std::to_string(status);
  int bits = 0;
  for (int i = 0; si->fail_info != nullptr && i <= OSSL_CMP_PKIFAILUREINFO_MAX; ++i)
    if (::ASN1_BIT_STRING_get_bit(si->fail_info, i) != 0) bits |= 1 << i;
  if (bits != 0) out += ": " + ossl::failinfo_names(bits);
  std::string text = text_of(si->status_string);
  if (!text.empty()) out += " (" + text + ")";
  return out;
}

Error refused(const char* what, const LIGHT_ERROR* e) {
  std::string out = std::string(what) + ": error message from the CA: " + status_text(e->status);
  std::string details = text_of(e->error_details);
  if (!details.empty()) out += " [" + details + "]";
  return Error{Errc::policy, out};
}

Result<Ptr<LIGHT_MESSAGE>> decode_message(ByteView der, const char* what) {
  return decode(der, d2i_LIGHT_MESSAGE, what);
}

const char* body_name(int type) {
  switch (type) {
    case kBodyIr:
      return "ir";
    case kBodyIp:
      return "ip";
    case kBodyPkiConf:
      return "pkiConf";
    case kBodyError:
      return "error";
    case kBodyCertConf:
      return "certConf";
    default:
      return "?";
  }
}

Result<Bytes> encode_general_name(const GENERAL_NAME* name) {
  return ossl::to_der(name, ::i2d_GENERAL_NAME, "GeneralName");
}

Result<Ptr<ASN1_OCTET_STRING>> octet_string(ByteView bytes) {
  Ptr<ASN1_OCTET_STRING> s = own(::ASN1_OCTET_STRING_new());
  DOJANG_TRY(check_ptr(s.get(), "ASN1_OCTET_STRING_new"));
  DOJANG_TRY(check(::ASN1_OCTET_STRING_set(s.get(), bytes.data(), static_cast<int>(bytes.size())),
                   "ASN1_OCTET_STRING_set"));
  return s;
}

struct Capture {
  Bytes der;
};

// The transfer callback: keeps the first request and answers nothing, which
// ends OSSL_CMP_exec_certreq right after it has built the ir.
OSSL_CMP_MSG* capture(OSSL_CMP_CTX* ctx, const OSSL_CMP_MSG* req) {
  auto* out = static_cast<Capture*>(::OSSL_CMP_CTX_get_transfer_cb_arg(ctx));
  if (out->der.empty()) {
    auto der = ossl::to_der(req, ::i2d_OSSL_CMP_MSG, "ir");
    if (der.ok()) out->der = std::move(der).value();
  }
  return nullptr;
}

}  // namespace

Result<PreparedIr> prepare_ir(const std::string& url, std::string reference, SecretString auth_code,
                              const pki::PrivateKey& new_key) {
  if (new_key.native() == nullptr) return Error{Errc::usage, "no device key"};
  static const std::vector<pki::Certificate> kNoAnchors;
  ossl::CmpClientOptions options;
  options.url = url;
  options.trusted = &kNoAnchors;
  options.reference = reference;
  options.secret = &auth_code;
  DOJANG_ASSIGN(auto client, ossl::CmpClient::create(options));
  OSSL_CMP_CTX* ctx = client->ctx();
  Capture captured;
  DOJANG_TRY(check(::OSSL_CMP_CTX_set_transfer_cb(ctx, capture), "CMP transfer"));
  DOJANG_TRY(check(::OSSL_CMP_CTX_set_transfer_cb_arg(ctx, &captured), "CMP transfer"));

  // As wallet::request_ir: the placeholder subject CN=<reference>, the device
  // key, explicit confirmation.
  Ptr<X509_NAME> subject = own(::X509_NAME_new());
  DOJANG_TRY(check_ptr(subject.get(), "X509_NAME_new"));
  DOJANG_TRY(
      check(::X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>(reference.data()),
                                         static_cast<int>(reference.size()), -1, 0),
            "placeholder subject"));
  DOJANG_TRY(check(::OSSL_CMP_CTX_set1_subjectName(ctx, subject.get()), "subject"));
  ::EVP_PKEY_up_ref(new_key.native());
  if (::OSSL_CMP_CTX_set0_newPkey(ctx, 1, new_key.native()) != 1) {
    ::EVP_PKEY_free(new_key.native());
    return Error{Errc::crypto, ossl::drain_errors("OSSL_CMP_CTX_set0_newPkey")};
  }
  DOJANG_TRY(check(::OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_IMPLICIT_CONFIRM, 0),
                   "CMP implicitConfirm"));
  Ptr<X509> never = own(::OSSL_CMP_exec_certreq(ctx, OSSL_CMP_IR, nullptr));
  if (captured.der.empty())
    return Error{Errc::crypto, ossl::drain_errors("OSSL_CMP_exec_certreq built no ir")};
  ossl::clear_errors();  // the transfer "failure" that stopped it

  PreparedIr out;
  out.reference = std::move(reference);
  out.auth_code = std::move(auth_code);
  out.ir = std::move(captured.der);
  DOJANG_ASSIGN(Ptr<LIGHT_MESSAGE> ir, decode_message(out.ir, "the ir OpenSSL built"));
  const DOJANG_CMP_HEADER* h = ir->header;
  if (ir->body->type != kBodyIr || h->transaction_id == nullptr || h->protection_alg == nullptr)
    return Error{Errc::invalid_input, "the ir OpenSSL built has no transactionID or protection"};
  out.transaction_id = bytes_of(h->transaction_id);
  DOJANG_ASSIGN(out.sender, encode_general_name(h->sender));
  DOJANG_ASSIGN(out.recipient, encode_general_name(h->recipient));

  const ASN1_OBJECT* alg = nullptr;
  int param_type = 0;
  const void* param = nullptr;
  ::X509_ALGOR_get0(&alg, &param_type, &param, h->protection_alg);
  if (::OBJ_obj2nid(alg) != NID_id_PasswordBasedMAC || param_type != V_ASN1_SEQUENCE)
    return Error{Errc::invalid_input,
                 "the ir OpenSSL built is not protected by password-based MAC"};
  DOJANG_ASSIGN(Ptr<LIGHT_PBM> pbm, decode(view_of(static_cast<const ASN1_STRING*>(param)),
                                           d2i_LIGHT_PBM, "the ir's PBMParameter"));
  out.pbm.owf_nid = ::OBJ_obj2nid(pbm->owf->algorithm);
  out.pbm.mac_nid = ::OBJ_obj2nid(pbm->mac->algorithm);
  out.pbm.iterations = ::ASN1_INTEGER_get(pbm->iteration_count);
  out.pbm.salt_length = ::ASN1_STRING_length(pbm->salt);
  return out;
}

Result<IpFields> read_ip(ByteView der) {
  DOJANG_ASSIGN(Ptr<LIGHT_MESSAGE> msg, decode_message(der, "answer to the ir"));
  const LIGHT_BODY* body = msg->body;
  if (body->type == kBodyError) return refused("ir", body->value.error);
  if (body->type != kBodyIp)
    return Error{Errc::invalid_input,
                 std::string("answer to the ir is a ") + body_name(body->type) + ", not an ip"};
  const DOJANG_CMP_HEADER* h = msg->header;
  if (h->transaction_id == nullptr || h->sender_nonce == nullptr)
    return Error{Errc::invalid_input, "ip without transactionID or senderNonce"};
  if (sk_LIGHT_CERT_RESPONSE_num(body->value.ip->response) < 1)
    return Error{Errc::invalid_input, "ip without a CertResponse"};
  const LIGHT_CERT_RESPONSE* r = sk_LIGHT_CERT_RESPONSE_value(body->value.ip->response, 0);
  long status = ::ASN1_INTEGER_get(r->status->status);
  if (status != OSSL_CMP_PKISTATUS_accepted && status != OSSL_CMP_PKISTATUS_grantedWithMods)
    return Error{Errc::policy, "ir refused by the CA: " + status_text(r->status)};
  const LIGHT_CERTIFIED_KEY_PAIR* pair = r->certified_key_pair;
  if (pair == nullptr || pair->cert_or_enc_cert->type != 0)
    return Error{Errc::invalid_input, "ip accepts but carries no certificate"};

  IpFields out;
  out.transaction_id = bytes_of(h->transaction_id);
  out.sender_nonce = bytes_of(h->sender_nonce);
  out.cert_req_id = ::ASN1_INTEGER_get(r->cert_req_id);
  out.cert = bytes_of(pair->cert_or_enc_cert->value.certificate);
  return out;
}

Result<CertFacts> read_certificate(ByteView cert_der) {
  DOJANG_ASSIGN(Ptr<LIGHT_CERT> cert, decode(cert_der, d2i_LIGHT_CERT, "issued certificate"));
  // X509_digest_sig: the digest of the certificate's own signature algorithm.
  int md_nid = NID_undef, pkey_nid = NID_undef;
  int sig_nid = ::OBJ_obj2nid(cert->signature_alg->algorithm);
  if (::OBJ_find_sigid_algs(sig_nid, &md_nid, &pkey_nid) != 1 || md_nid == NID_undef)
    return Error{Errc::foreign_format,
                 std::string("issued certificate: no certHash digest for signature algorithm ") +
                     ::OBJ_nid2sn(sig_nid)};
  CertFacts out;
  out.serial_hex = pki::to_hex(view_of(cert->tbs->serial));
  out.cert_hash.resize(EVP_MAX_MD_SIZE);
  std::size_t len = 0;
  DOJANG_TRY(check(::EVP_Q_digest(ossl::libctx(), ::OBJ_nid2sn(md_nid), nullptr, cert_der.data(),
                                  cert_der.size(), out.cert_hash.data(), &len),
                   "certHash"));
  out.cert_hash.resize(len);
  return out;
}

Result<Bytes> make_cert_conf(const PreparedIr& ir, const IpFields& ip, ByteView cert_hash) {
  Ptr<LIGHT_MESSAGE> msg = own(LIGHT_MESSAGE_new());
  DOJANG_TRY(check_ptr(msg.get(), "PKIMessage"));
  DOJANG_CMP_HEADER* h = msg->header;

  // PKIHeader, as OpenSSL's client writes its certConf.
  DOJANG_TRY(check(::ASN1_INTEGER_set(h->pvno, OSSL_CMP_PVNO), "pvno"));
  for (auto [field, der] :
       {std::pair{&h->sender, &ir.sender}, std::pair{&h->recipient, &ir.recipient}}) {
    DOJANG_ASSIGN(Ptr<GENERAL_NAME> name,
                  decode(ByteView(*der), ::d2i_GENERAL_NAME, "GeneralName"));
    ::GENERAL_NAME_free(*field);
    *field = name.release();
  }
  h->message_time = ::ASN1_GENERALIZEDTIME_set(nullptr, std::time(nullptr));
  DOJANG_TRY(check_ptr(h->message_time, "messageTime"));
  DOJANG_ASSIGN(Bytes sender_nonce, pki::random_bytes(16));
  auto ref =
      ByteView(reinterpret_cast<const std::uint8_t*>(ir.reference.data()), ir.reference.size());
  for (auto [field, bytes] :
       {std::pair{&h->sender_kid, ref}, std::pair{&h->transaction_id, ByteView(ip.transaction_id)},
        std::pair{&h->sender_nonce, ByteView(sender_nonce)},
        std::pair{&h->recip_nonce, ByteView(ip.sender_nonce)}}) {
    DOJANG_ASSIGN(Ptr<ASN1_OCTET_STRING> s, octet_string(bytes));
    *field = s.release();
  }

  // protectionAlg: id-PasswordBasedMAC with a fresh PBMParameter (RFC 4210 section 5.1.3.1).
  Ptr<OSSL_CRMF_PBMPARAMETER> pbmp = own(::OSSL_CRMF_pbmp_new(
      ossl::libctx(), static_cast<std::size_t>(ir.pbm.salt_length), ir.pbm.owf_nid,
      static_cast<std::size_t>(ir.pbm.iterations), ir.pbm.mac_nid));
  DOJANG_TRY(check_ptr(pbmp.get(), "OSSL_CRMF_pbmp_new"));
  DOJANG_ASSIGN(Bytes pbmp_der,
                ossl::to_der(pbmp.get(), ::i2d_OSSL_CRMF_PBMPARAMETER, "PBMParameter"));
  Ptr<ASN1_STRING> params = own(::ASN1_STRING_type_new(V_ASN1_SEQUENCE));
  DOJANG_TRY(check_ptr(params.get(), "PBMParameter"));
  DOJANG_TRY(
      check(::ASN1_STRING_set(params.get(), pbmp_der.data(), static_cast<int>(pbmp_der.size())),
            "PBMParameter"));
  h->protection_alg = ::X509_ALGOR_new();
  DOJANG_TRY(check_ptr(h->protection_alg, "protectionAlg"));
  DOJANG_TRY(check(::X509_ALGOR_set0(h->protection_alg, ::OBJ_nid2obj(NID_id_PasswordBasedMAC),
                                     V_ASN1_SEQUENCE, params.get()),
                   "protectionAlg"));
  params.release();

  // certConf [24] CertConfirmContent: one CertStatus accepting the certificate.
  Ptr<LIGHT_CERT_STATUS> status = own(LIGHT_CERT_STATUS_new());
  DOJANG_TRY(check_ptr(status.get(), "CertStatus"));
  DOJANG_TRY(check(::ASN1_OCTET_STRING_set(status->cert_hash, cert_hash.data(),
                                           static_cast<int>(cert_hash.size())),
                   "certHash"));
  DOJANG_TRY(check(::ASN1_INTEGER_set(status->cert_req_id, ip.cert_req_id), "certReqId"));
  status->status_info = LIGHT_STATUS_new();  // OpenSSL sends {accepted} rather than omitting it
  DOJANG_TRY(check_ptr(status->status_info, "statusInfo"));
  DOJANG_TRY(check(::ASN1_INTEGER_set(status->status_info->status, OSSL_CMP_PKISTATUS_accepted),
                   "statusInfo"));
  msg->body->type = kBodyCertConf;
  msg->body->value.cert_conf = sk_LIGHT_CERT_STATUS_new_null();
  DOJANG_TRY(check_ptr(msg->body->value.cert_conf, "CertConfirmContent"));
  if (sk_LIGHT_CERT_STATUS_push(msg->body->value.cert_conf, status.get()) <= 0)
    return Error{Errc::crypto, ossl::drain_errors("CertConfirmContent")};
  status.release();

  // protection: the MAC over DER(ProtectedPart).
  LIGHT_PROTECTED_PART part{msg->header, msg->body};
  DOJANG_ASSIGN(Bytes protected_part,
                ossl::to_der(&part, i2d_LIGHT_PROTECTED_PART, "ProtectedPart"));
  unsigned char* mac = nullptr;
  std::size_t mac_len = 0;
  const SecretString& secret = ir.auth_code;
  int rc = ::OSSL_CRMF_pbm_new(ossl::libctx(), nullptr, pbmp.get(), protected_part.data(),
                               protected_part.size(), secret.bytes().data(), secret.size(), &mac,
                               &mac_len);
  Ptr<unsigned char> mac_owner(mac);
  DOJANG_TRY(check(rc, "OSSL_CRMF_pbm_new"));
  msg->protection = ::ASN1_BIT_STRING_new();
  DOJANG_TRY(check_ptr(msg->protection, "protection"));
  DOJANG_TRY(
      check(::ASN1_BIT_STRING_set(msg->protection, mac, static_cast<int>(mac_len)), "protection"));
  // All bits used: without the flag i2d would drop trailing zero bits of the MAC.
  msg->protection->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  msg->protection->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  return ossl::to_der(msg.get(), i2d_LIGHT_MESSAGE, "certConf");
}

Status read_pki_conf(ByteView der) {
  DOJANG_ASSIGN(Ptr<LIGHT_MESSAGE> msg, decode_message(der, "answer to the certConf"));
  if (msg->body->type == kBodyPkiConf) return {};
  if (msg->body->type == kBodyError) return refused("certConf", msg->body->value.error);
  return Error{Errc::invalid_input, std::string("answer to the certConf is a ") +
                                        body_name(msg->body->type) + ", not a pkiConf"};
}

}  // namespace dojang::bench
