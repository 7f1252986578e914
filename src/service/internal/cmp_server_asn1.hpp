// ASN.1 templates for the parts of CMP requests OpenSSL 3.0 has no public
// getter for: the senderKID of a PKIHeader, the publicKey of a CRMF
// CertTemplate and the status of a PKIStatusInfo. Each is decoded from the
// DER OpenSSL re-encodes (i2d_OSSL_CMP_PKIHEADER, i2d_OSSL_CRMF_CERTTEMPLATE,
// i2d_OSSL_CMP_PKISI), never from the wire directly.
#pragma once

#include <openssl/asn1t.h>
#include <openssl/x509.h>

#include <optional>
#include <string>
#include <vector>

#include "dojang/pki/certificate.hpp"

#include "pki/internal/cmp_asn1.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::service::internal {

// RFC 4210 (EXPLICIT TAGS):
// PKIHeader ::= SEQUENCE {
//     pvno                INTEGER     { cmp1999(1), cmp2000(2) },
//     sender              GeneralName,
//     recipient           GeneralName,
//     messageTime     [0] GeneralizedTime         OPTIONAL,
//     protectionAlg   [1] AlgorithmIdentifier     OPTIONAL,
//     senderKID       [2] KeyIdentifier           OPTIONAL,
//     recipKID        [3] KeyIdentifier           OPTIONAL,
//     transactionID   [4] OCTET STRING            OPTIONAL,
//     senderNonce     [5] OCTET STRING            OPTIONAL,
//     recipNonce      [6] OCTET STRING            OPTIONAL,
//     freeText        [7] PKIFreeText             OPTIONAL,
//     generalInfo     [8] SEQUENCE SIZE (1..MAX) OF InfoTypeAndValue OPTIONAL }
struct DOJANG_CMP_HEADER_st {
  ASN1_INTEGER* pvno;
  GENERAL_NAME* sender;
  GENERAL_NAME* recipient;
  ASN1_GENERALIZEDTIME* message_time;
  X509_ALGOR* protection_alg;
  ASN1_OCTET_STRING* sender_kid;
  ASN1_OCTET_STRING* recip_kid;
  ASN1_OCTET_STRING* transaction_id;
  ASN1_OCTET_STRING* sender_nonce;
  ASN1_OCTET_STRING* recip_nonce;
  STACK_OF(ASN1_UTF8STRING) * free_text;
  STACK_OF(DOJANG_CMP_ITAV) * general_info;
};
using DOJANG_CMP_HEADER = DOJANG_CMP_HEADER_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CMP_HEADER)

// RFC 4211 (IMPLICIT TAGS):
// OptionalValidity ::= SEQUENCE {
//     notBefore  [0] Time OPTIONAL,
//     notAfter   [1] Time OPTIONAL } -- Time is a CHOICE: the tags are explicit
struct DOJANG_CRMF_VALIDITY_st {
  ASN1_TIME* not_before;
  ASN1_TIME* not_after;
};
using DOJANG_CRMF_VALIDITY = DOJANG_CRMF_VALIDITY_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CRMF_VALIDITY)

// SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
//                                    subjectPublicKey BIT STRING }
// as plain ASN.1: unlike X509_PUBKEY, decoding it does not run OpenSSL's
// provider key decoders (the CA checks and copies the key from its encoding).
struct DOJANG_CMP_SPKI_st {
  X509_ALGOR* algorithm;
  ASN1_BIT_STRING* public_key;
};
using DOJANG_CMP_SPKI = DOJANG_CMP_SPKI_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CMP_SPKI)

// CertTemplate ::= SEQUENCE {
//     version      [0] Version               OPTIONAL,
//     serialNumber [1] INTEGER               OPTIONAL,
//     signingAlg   [2] AlgorithmIdentifier   OPTIONAL,
//     issuer       [3] Name                  OPTIONAL,
//     validity     [4] OptionalValidity      OPTIONAL,
//     subject      [5] Name                  OPTIONAL,
//     publicKey    [6] SubjectPublicKeyInfo  OPTIONAL,
//     issuerUID    [7] UniqueIdentifier      OPTIONAL,
//     subjectUID   [8] UniqueIdentifier      OPTIONAL,
//     extensions   [9] Extensions            OPTIONAL }
// (Name is a CHOICE: its tags are explicit.)
struct DOJANG_CRMF_TEMPLATE_st {
  ASN1_INTEGER* version;
  ASN1_INTEGER* serial;
  X509_ALGOR* signing_alg;
  X509_NAME* issuer;
  DOJANG_CRMF_VALIDITY* validity;
  X509_NAME* subject;
  DOJANG_CMP_SPKI* public_key;
  ASN1_BIT_STRING* issuer_uid;
  ASN1_BIT_STRING* subject_uid;
  STACK_OF(X509_EXTENSION) * extensions;
};
using DOJANG_CRMF_TEMPLATE = DOJANG_CRMF_TEMPLATE_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CRMF_TEMPLATE)

// PKIStatusInfo ::= SEQUENCE {
//     status        PKIStatus,
//     statusString  PKIFreeText     OPTIONAL,
//     failInfo      PKIFailureInfo  OPTIONAL }
struct DOJANG_CMP_STATUS_st {
  ASN1_INTEGER* status;
  STACK_OF(ASN1_UTF8STRING) * status_string;
  ASN1_BIT_STRING* fail_info;
};
using DOJANG_CMP_STATUS = DOJANG_CMP_STATUS_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_CMP_STATUS)

// PKIBody alternatives (RFC 4210 section 5.1.2: ir [0], ip [1], cr [2], cp [3],
// p10cr [4], ..., pkiconf [19], nested [20], genm [21], genp [22], error [23],
// certConf [24], pollReq [25], pollRep [26]): what OSSL_CMP_MSG_get_bodytype
// returns; OpenSSL 3.0 keeps its names for them private.
enum BodyType : int {
  kBodyIr = 0,
  kBodyIp = 1,
  kBodyCr = 2,
  kBodyP10cr = 4,
  kBodyKur = 7,
  kBodyRr = 11,
  kBodyPkiConf = 19,
  kBodyGenm = 21,
  kBodyError = 23,
  kBodyCertConf = 24,
};

// The EncryptedVID (regInfo 1.2.410.200004.10.1.1.2) of a CertReqMsg, as DER;
// nullopt when it has none. invalid_input when the CertReqMsg does not encode.
Result<std::optional<Bytes>> encrypted_vid_of(const OSSL_CRMF_MSG* crm);

// What the CA reads from a PKIHeader.
struct HeaderFields {
  std::string sender_kid;      // bytes as sent (the reference number)
  std::string transaction_id;  // lowercase hex; empty when absent
  bool password_based_mac = false;
};
// Errors: invalid_input when the header does not encode / decode.
Result<HeaderFields> header_fields(const OSSL_CMP_PKIHEADER* header);

// The SubjectPublicKeyInfo (DER) of a CertTemplate; invalid_input when absent.
Result<Bytes> template_public_key(const OSSL_CRMF_CERTTEMPLATE* tmpl);

// The PKIStatus of a PKIStatusInfo; invalid_input when it does not decode.
Result<long> pkisi_status(const OSSL_CMP_PKISI* si);

// RFC 4210:
// PKIMessage ::= SEQUENCE {
//     header           PKIHeader,
//     body             PKIBody,
//     protection   [0] PKIProtection OPTIONAL,
//     extraCerts   [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate OPTIONAL }
// The certificates of extraCerts (OpenSSL 3.0 has no getter for a received
// message's), in order: for a signed request the first one is the signer's
// (RFC 9483 section 3.3). invalid_input when the message does not re-decode.
Result<std::vector<pki::Certificate>> extra_certs(const OSSL_CMP_MSG* msg);

// RFC 4210 section 5.3.9:
// RevReqContent ::= SEQUENCE OF RevDetails
// RevDetails ::= SEQUENCE {
//     certDetails         CertTemplate,
//     crlEntryDetails     Extensions       OPTIONAL }
// The CRLReason (RFC 5280 reasonCode extension) of the first RevDetails of an
// rr; nullopt when it names none. invalid_input when msg is no rr or the
// extension does not decode.
Result<std::optional<int>> revocation_reason(const OSSL_CMP_MSG* msg);

}  // namespace dojang::service::internal

namespace dojang::pki::internal {
template <>
struct Free<service::internal::DOJANG_CMP_HEADER> {
  void operator()(service::internal::DOJANG_CMP_HEADER* p) const noexcept {
    service::internal::DOJANG_CMP_HEADER_free(p);
  }
};
template <>
struct Free<service::internal::DOJANG_CRMF_TEMPLATE> {
  void operator()(service::internal::DOJANG_CRMF_TEMPLATE* p) const noexcept {
    service::internal::DOJANG_CRMF_TEMPLATE_free(p);
  }
};
template <>
struct Free<service::internal::DOJANG_CMP_STATUS> {
  void operator()(service::internal::DOJANG_CMP_STATUS* p) const noexcept {
    service::internal::DOJANG_CMP_STATUS_free(p);
  }
};
}  // namespace dojang::pki::internal
