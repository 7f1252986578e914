// ASN.1 templates for the Korean subject-identification structures (KISA
// "Subject identification method based on virtual ID", design.md section 2) and
// the helpers that read them out of a certificate.
#pragma once

#include <optional>
#include <string>

#include "dojang/pki/certificate.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::pki::internal {

// VID ::= SEQUENCE {
//     hashAlg     AlgorithmIdentifier,              -- parameters absent
//     virtualID   [0] EXPLICIT OCTET STRING }
struct DOJANG_VID_st {
  X509_ALGOR* hash_alg;
  ASN1_OCTET_STRING* virtual_id;
};
using DOJANG_VID = DOJANG_VID_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_VID)

// UserInfo ::= SEQUENCE {
//     idType      OBJECT IDENTIFIER,   -- id-VID 1.2.410.200004.10.1.1.1
//     vid         VID }
struct DOJANG_USER_INFO_st {
  ASN1_OBJECT* id_type;
  DOJANG_VID* vid;
};
using DOJANG_USER_INFO = DOJANG_USER_INFO_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_USER_INFO)
DEFINE_STACK_OF(DOJANG_USER_INFO)

// IdentifyData ::= SEQUENCE {
//     realName    UTF8String,          -- BMPString in some old certificates
//     userInfos   SEQUENCE OF UserInfo }
// carried as the value of the subjectAltName otherName
// id-identifyData 1.2.410.200004.10.1.1.
struct DOJANG_IDENTIFY_DATA_st {
  ASN1_STRING* real_name;  // DirectoryString: UTF8String, BMPString, ...
  STACK_OF(DOJANG_USER_INFO) * user_infos;
};
using DOJANG_IDENTIFY_DATA = DOJANG_IDENTIFY_DATA_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_IDENTIFY_DATA)

// HashContent ::= SEQUENCE {
//     idn         PrintableString,     -- the IDN, digits only
//     randomNum   BIT STRING }         -- R from the private key file
// VID = h(h(DER(HashContent)))
struct DOJANG_HASH_CONTENT_st {
  ASN1_PRINTABLESTRING* idn;
  ASN1_BIT_STRING* random_num;
};
using DOJANG_HASH_CONTENT = DOJANG_HASH_CONTENT_st;
DECLARE_ASN1_FUNCTIONS(DOJANG_HASH_CONTENT)

template <>
struct Free<DOJANG_VID> {
  void operator()(DOJANG_VID* p) const noexcept { DOJANG_VID_free(p); }
};
template <>
struct Free<DOJANG_USER_INFO> {
  void operator()(DOJANG_USER_INFO* p) const noexcept { DOJANG_USER_INFO_free(p); }
};
template <>
struct Free<DOJANG_IDENTIFY_DATA> {
  void operator()(DOJANG_IDENTIFY_DATA* p) const noexcept { DOJANG_IDENTIFY_DATA_free(p); }
};
template <>
struct Free<DOJANG_HASH_CONTENT> {
  void operator()(DOJANG_HASH_CONTENT* p) const noexcept { DOJANG_HASH_CONTENT_free(p); }
};

inline constexpr const char* kOidIdentifyData = "1.2.410.200004.10.1.1";
inline constexpr const char* kOidVid = "1.2.410.200004.10.1.1.1";

// What an IdentifyData says.
struct IdentifyInfo {
  std::string real_name;       // UTF-8
  std::optional<CertVid> vid;  // the first userInfo of type id-VID, if any
};

// Dotted text of an OID ("1.2.410.200004.10.1.1").
std::string oid_text(const ASN1_OBJECT* obj);

// Converts any ASN.1 character string to UTF-8; nullopt when it cannot be decoded.
std::optional<std::string> to_utf8(const ASN1_STRING* s);

// Decodes the DER of an IdentifyData SEQUENCE. invalid_input when malformed
// (including trailing bytes).
Result<IdentifyInfo> decode_identify_data(ByteView der);

// Finds the identifyData otherName in cert's subjectAltName: nullopt when the
// certificate has none, invalid_input when the extension or the value is malformed.
Result<std::optional<IdentifyInfo>> read_identify_data(const X509* cert);

// "sha256" / "sha1" for a VID hash algorithm OID, else the OID's lowercase
// OpenSSL short name or its dotted form.
std::string vid_hash_name(const ASN1_OBJECT* alg);
// The digest NID for "sha256" / "sha1"; NID_undef otherwise.
int vid_hash_nid(std::string_view name) noexcept;

}  // namespace dojang::pki::internal
