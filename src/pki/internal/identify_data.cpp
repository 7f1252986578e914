#include "pki/internal/identify_data.hpp"

#include <openssl/asn1t.h>
#include <openssl/objects.h>

#include <cctype>

namespace dojang::pki::internal {

std::string oid_text(const ASN1_OBJECT* obj) {
  if (obj == nullptr) return {};
  int n = ::OBJ_obj2txt(nullptr, 0, obj, 1);
  if (n <= 0) {
    clear_errors();
    return {};
  }
  std::string s(static_cast<size_t>(n) + 1, '\0');
  ::OBJ_obj2txt(s.data(), n + 1, obj, 1);
  s.resize(static_cast<size_t>(n));
  return s;
}

std::optional<std::string> to_utf8(const ASN1_STRING* s) {
  if (s == nullptr) return std::nullopt;
  unsigned char* out = nullptr;
  int n = ::ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) {
    clear_errors();
    return std::nullopt;
  }
  Ptr<unsigned char> owner(out);
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

std::string vid_hash_name(const ASN1_OBJECT* alg) {
  switch (::OBJ_obj2nid(alg)) {
    case NID_sha256:
      return "sha256";
    case NID_sha1:
      return "sha1";
    case NID_undef:
      return oid_text(alg);
    default:
      break;
  }
  std::string sn = ::OBJ_nid2sn(::OBJ_obj2nid(alg));
  for (char& c : sn) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return sn;
}

int vid_hash_nid(std::string_view name) noexcept {
  if (name == "sha256") return NID_sha256;
  if (name == "sha1") return NID_sha1;
  return NID_undef;
}

Result<IdentifyInfo> decode_identify_data(ByteView der) {
  const unsigned char* p = der.data();
  Ptr<DOJANG_IDENTIFY_DATA> id =
      own(d2i_DOJANG_IDENTIFY_DATA(nullptr, &p, static_cast<long>(der.size())));
  if (!id)
    return Error{Errc::invalid_input,
                 drain_errors("identifyData is not a valid IdentifyData SEQUENCE")};
  if (p != der.data() + der.size())
    return Error{Errc::invalid_input,
                 "identifyData has trailing bytes after the IdentifyData SEQUENCE"};

  IdentifyInfo info;
  auto name = to_utf8(id->real_name);
  if (!name) return Error{Errc::invalid_input, "identifyData realName is not a decodable string"};
  info.real_name = std::move(*name);

  for (int i = 0; i < sk_DOJANG_USER_INFO_num(id->user_infos); ++i) {
    const DOJANG_USER_INFO* ui = sk_DOJANG_USER_INFO_value(id->user_infos, i);
    if (oid_text(ui->id_type) != kOidVid) continue;  // another kind of identifier
    const ASN1_OBJECT* alg = nullptr;
    ::X509_ALGOR_get0(&alg, nullptr, nullptr, ui->vid->hash_alg);
    const ASN1_OCTET_STRING* v = ui->vid->virtual_id;
    if (::ASN1_STRING_length(v) <= 0)
      return Error{Errc::invalid_input, "identifyData VID has an empty virtualID"};
    CertVid vid;
    vid.hash_alg = vid_hash_name(alg);
    vid.hash_alg_oid = oid_text(alg);
    const unsigned char* data = ::ASN1_STRING_get0_data(v);
    vid.virtual_id.assign(data, data + ::ASN1_STRING_length(v));
    info.vid = std::move(vid);
    break;
  }
  return info;
}

Result<std::optional<IdentifyInfo>> read_identify_data(const X509* cert) {
  int crit = 0;
  Ptr<GENERAL_NAMES> names = own(
      static_cast<GENERAL_NAMES*>(::X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
  if (!names) {
    if (crit == -1) {  // no subjectAltName
      clear_errors();
      return std::optional<IdentifyInfo>{};
    }
    if (crit == -2) {
      clear_errors();
      return Error{Errc::invalid_input, "certificate has more than one subjectAltName extension"};
    }
    return Error{Errc::invalid_input, drain_errors("subjectAltName extension is malformed")};
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_OTHERNAME) continue;
    const OTHERNAME* other = gn->d.otherName;
    if (oid_text(other->type_id) != kOidIdentifyData) continue;
    const ASN1_TYPE* value = other->value;
    if (value == nullptr || value->type != V_ASN1_SEQUENCE || value->value.sequence == nullptr)
      return Error{Errc::invalid_input, "identifyData in subjectAltName is not a SEQUENCE"};
    const ASN1_STRING* seq = value->value.sequence;
    DOJANG_ASSIGN(IdentifyInfo info,
                  decode_identify_data(ByteView(::ASN1_STRING_get0_data(seq),
                                                static_cast<size_t>(::ASN1_STRING_length(seq)))));
    return std::optional<IdentifyInfo>(std::move(info));
  }
  return std::optional<IdentifyInfo>{};
}

// The ASN.1 templates (declared in identify_data.hpp).
// clang-format off

// VID ::= SEQUENCE { hashAlg AlgorithmIdentifier, virtualID [0] EXPLICIT OCTET STRING }
ASN1_SEQUENCE(DOJANG_VID) = {
    ASN1_SIMPLE(DOJANG_VID, hash_alg, X509_ALGOR),
    ASN1_EXP(DOJANG_VID, virtual_id, ASN1_OCTET_STRING, 0),
} ASN1_SEQUENCE_END(DOJANG_VID)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_VID)

// UserInfo ::= SEQUENCE { idType OBJECT IDENTIFIER, vid VID }
ASN1_SEQUENCE(DOJANG_USER_INFO) = {
    ASN1_SIMPLE(DOJANG_USER_INFO, id_type, ASN1_OBJECT),
    ASN1_SIMPLE(DOJANG_USER_INFO, vid, DOJANG_VID),
} ASN1_SEQUENCE_END(DOJANG_USER_INFO)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_USER_INFO)

// IdentifyData ::= SEQUENCE { realName UTF8String, userInfos SEQUENCE OF UserInfo }
// realName is read as a DirectoryString so that the BMPString names of old
// certificates decode too; Dojang writes UTF8String.
ASN1_SEQUENCE(DOJANG_IDENTIFY_DATA) = {
    ASN1_SIMPLE(DOJANG_IDENTIFY_DATA, real_name, DIRECTORYSTRING),
    ASN1_SEQUENCE_OF(DOJANG_IDENTIFY_DATA, user_infos, DOJANG_USER_INFO),
} ASN1_SEQUENCE_END(DOJANG_IDENTIFY_DATA)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_IDENTIFY_DATA)

// HashContent ::= SEQUENCE { idn PrintableString, randomNum BIT STRING }
ASN1_SEQUENCE(DOJANG_HASH_CONTENT) = {
    ASN1_SIMPLE(DOJANG_HASH_CONTENT, idn, ASN1_PRINTABLESTRING),
    ASN1_SIMPLE(DOJANG_HASH_CONTENT, random_num, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(DOJANG_HASH_CONTENT)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_HASH_CONTENT)

// clang-format on

}  // namespace dojang::pki::internal
