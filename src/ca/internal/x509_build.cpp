#include "ca/internal/x509_build.hpp"

#include <openssl/objects.h>

#include <ctime>

#include "pki/internal/identify_data.hpp"

namespace dojang::ca::internal {

using pki::internal::check;
using pki::internal::drain_errors;
using pki::internal::libctx;
using pki::internal::own;

namespace {

constexpr size_t kMaxSerialOctets = 20;  // RFC 5280 section 4.1.2.2

Result<Ptr<ASN1_STRING>> ia5(const std::string& s) {
  Ptr<ASN1_STRING> out = own(::ASN1_IA5STRING_new());
  if (!out) return Error{Errc::crypto, drain_errors("ASN1_IA5STRING_new")};
  DOJANG_TRY(
      check(::ASN1_STRING_set(out.get(), s.data(), static_cast<int>(s.size())), "ASN1_STRING_set"));
  return out;
}

Status set_time(ASN1_TIME* field, TimePoint t, const char* label) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  if (::ASN1_TIME_set(field, tt) == nullptr) return Error{Errc::crypto, drain_errors(label)};
  return {};
}

}  // namespace

Result<Ptr<GENERAL_NAME>> uri_name(const std::string& url) {
  DOJANG_ASSIGN(Ptr<ASN1_STRING> s, ia5(url));
  Ptr<GENERAL_NAME> gen = own(::GENERAL_NAME_new());
  if (!gen) return Error{Errc::crypto, drain_errors("GENERAL_NAME_new")};
  ::GENERAL_NAME_set0_value(gen.get(), GEN_URI, s.release());
  return gen;
}

Result<Ptr<ASN1_TIME>> asn1_time(TimePoint t) {
  Ptr<ASN1_TIME> out = own(::ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(t)));
  if (!out) return Error{Errc::crypto, drain_errors("ASN1_TIME_set")};
  return out;
}

Result<Ptr<X509_NAME>> make_name(const std::vector<NameAttr>& attrs) {
  Ptr<X509_NAME> name = own(::X509_NAME_new());
  if (!name) return Error{Errc::crypto, drain_errors("X509_NAME_new")};
  for (const NameAttr& a : attrs) {
    int type = a.nid == NID_countryName ? V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING;
    DOJANG_TRY(
        check(::X509_NAME_add_entry_by_NID(name.get(), a.nid, type,
                                           reinterpret_cast<const unsigned char*>(a.value.data()),
                                           static_cast<int>(a.value.size()), -1, 0),
              "X509_NAME_add_entry_by_NID"));
  }
  return name;
}

Result<Ptr<X509>> new_certificate(const X509_NAME* subject, const X509_NAME* issuer,
                                  ByteView serial, TimePoint not_before, TimePoint not_after) {
  size_t skip = 0;
  while (skip < serial.size() && serial[skip] == 0) ++skip;
  ByteView magnitude = serial.subspan(skip);
  if (magnitude.empty()) return Error{Errc::usage, "the serial number must be a positive integer"};
  if (magnitude.size() > kMaxSerialOctets ||
      (magnitude.size() == kMaxSerialOctets && (magnitude[0] & 0x80) != 0))
    return Error{Errc::usage, "the serial number is longer than 20 octets"};
  if (not_after <= not_before) return Error{Errc::usage, "notAfter must be after notBefore"};

  Ptr<X509> x = own(::X509_new_ex(libctx(), nullptr));
  if (!x) return Error{Errc::crypto, drain_errors("X509_new_ex")};
  DOJANG_TRY(check(::X509_set_version(x.get(), X509_VERSION_3), "X509_set_version"));

  Ptr<BIGNUM> bn = own(::BN_bin2bn(magnitude.data(), static_cast<int>(magnitude.size()), nullptr));
  if (!bn) return Error{Errc::crypto, drain_errors("BN_bin2bn")};
  Ptr<ASN1_INTEGER> ai = own(::BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!ai) return Error{Errc::crypto, drain_errors("BN_to_ASN1_INTEGER")};
  DOJANG_TRY(check(::X509_set_serialNumber(x.get(), ai.get()), "X509_set_serialNumber"));

  DOJANG_TRY(check(::X509_set_subject_name(x.get(), subject), "X509_set_subject_name"));
  DOJANG_TRY(check(::X509_set_issuer_name(x.get(), issuer), "X509_set_issuer_name"));
  DOJANG_TRY(set_time(::X509_getm_notBefore(x.get()), not_before, "setting notBefore"));
  DOJANG_TRY(set_time(::X509_getm_notAfter(x.get()), not_after, "setting notAfter"));
  return x;
}

Status add_ext(X509* x, const X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  ::X509V3_set_ctx(&ctx, const_cast<X509*>(issuer), x, nullptr, nullptr, 0);
  Ptr<X509_EXTENSION> ext = own(::X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext)
    return Error{Errc::crypto,
                 drain_errors(std::string("building extension ") + ::OBJ_nid2sn(nid))};
  return check(::X509_add_ext(x, ext.get(), -1), "X509_add_ext");
}

Status add_policy(X509* x, const std::string& policy_oid, const std::string& cps_url,
                  bool critical) {
  Ptr<CERTIFICATEPOLICIES> policies = own(sk_POLICYINFO_new_null());
  Ptr<POLICYINFO> info = own(::POLICYINFO_new());
  Ptr<POLICYQUALINFO> qualifier = own(::POLICYQUALINFO_new());
  if (!policies || !info || !qualifier) return Error{Errc::crypto, drain_errors("POLICYINFO_new")};

  Ptr<ASN1_OBJECT> oid = own(::OBJ_txt2obj(policy_oid.c_str(), 1));
  if (!oid) return Error{Errc::usage, drain_errors("policy OID '" + policy_oid + "' is malformed")};
  Ptr<ASN1_OBJECT> previous_oid(info->policyid);
  info->policyid = oid.release();

  // PolicyQualifierInfo { id-qt-cps, IA5String cPSuri }
  DOJANG_ASSIGN(Ptr<ASN1_STRING> uri, ia5(cps_url));
  Ptr<ASN1_OBJECT> previous_qid(qualifier->pqualid);
  qualifier->pqualid = ::OBJ_nid2obj(NID_id_qt_cps);
  qualifier->d.cpsuri = uri.release();

  info->qualifiers = sk_POLICYQUALINFO_new_null();
  if (info->qualifiers == nullptr)
    return Error{Errc::crypto, drain_errors("sk_POLICYQUALINFO_new")};
  if (sk_POLICYQUALINFO_push(info->qualifiers, qualifier.get()) <= 0)
    return Error{Errc::crypto, drain_errors("sk_POLICYQUALINFO_push")};
  qualifier.release();
  if (sk_POLICYINFO_push(policies.get(), info.get()) <= 0)
    return Error{Errc::crypto, drain_errors("sk_POLICYINFO_push")};
  info.release();
  return check(::X509_add1_ext_i2d(x, NID_certificate_policies, policies.get(), critical ? 1 : 0,
                                   X509V3_ADD_DEFAULT),
               "adding certificatePolicies");
}

Status add_crl_distribution_point(X509* x, const std::string& url) {
  Ptr<CRL_DIST_POINTS> points = own(sk_DIST_POINT_new_null());
  Ptr<DIST_POINT> point = own(::DIST_POINT_new());
  if (!points || !point) return Error{Errc::crypto, drain_errors("DIST_POINT_new")};
  point->distpoint = ::DIST_POINT_NAME_new();
  if (point->distpoint == nullptr) return Error{Errc::crypto, drain_errors("DIST_POINT_NAME_new")};
  point->distpoint->type = 0;  // fullName
  point->distpoint->name.fullname = ::GENERAL_NAMES_new();
  if (point->distpoint->name.fullname == nullptr)
    return Error{Errc::crypto, drain_errors("GENERAL_NAMES_new")};
  DOJANG_ASSIGN(Ptr<GENERAL_NAME> uri, uri_name(url));
  if (sk_GENERAL_NAME_push(point->distpoint->name.fullname, uri.get()) <= 0)
    return Error{Errc::crypto, drain_errors("sk_GENERAL_NAME_push")};
  uri.release();
  if (sk_DIST_POINT_push(points.get(), point.get()) <= 0)
    return Error{Errc::crypto, drain_errors("sk_DIST_POINT_push")};
  point.release();
  return check(
      ::X509_add1_ext_i2d(x, NID_crl_distribution_points, points.get(), 0, X509V3_ADD_DEFAULT),
      "adding cRLDistributionPoints");
}

Status add_authority_info_access(X509* x, const std::string& ocsp_url,
                                 const std::string& ca_issuers_url) {
  Ptr<AUTHORITY_INFO_ACCESS> aia = own(sk_ACCESS_DESCRIPTION_new_null());
  if (!aia) return Error{Errc::crypto, drain_errors("sk_ACCESS_DESCRIPTION_new")};
  const std::pair<int, const std::string*> entries[] = {{NID_ad_OCSP, &ocsp_url},
                                                        {NID_ad_ca_issuers, &ca_issuers_url}};
  for (const auto& [method, url] : entries) {
    Ptr<ACCESS_DESCRIPTION> ad = own(::ACCESS_DESCRIPTION_new());
    if (!ad) return Error{Errc::crypto, drain_errors("ACCESS_DESCRIPTION_new")};
    Ptr<ASN1_OBJECT> previous_method(ad->method);
    ad->method = ::OBJ_nid2obj(method);
    DOJANG_ASSIGN(Ptr<GENERAL_NAME> uri, uri_name(*url));
    Ptr<GENERAL_NAME> previous_location(ad->location);
    ad->location = uri.release();
    if (sk_ACCESS_DESCRIPTION_push(aia.get(), ad.get()) <= 0)
      return Error{Errc::crypto, drain_errors("sk_ACCESS_DESCRIPTION_push")};
    ad.release();
  }
  return check(::X509_add1_ext_i2d(x, NID_info_access, aia.get(), 0, X509V3_ADD_DEFAULT),
               "adding authorityInfoAccess");
}

Status add_identify_data(X509* x, ByteView identify_data_der) {
  Ptr<GENERAL_NAMES> names = own(::GENERAL_NAMES_new());
  Ptr<GENERAL_NAME> gen = own(::GENERAL_NAME_new());
  Ptr<ASN1_TYPE> value = own(::ASN1_TYPE_new());
  Ptr<ASN1_STRING> seq = own(::ASN1_STRING_type_new(V_ASN1_SEQUENCE));
  Ptr<ASN1_OBJECT> oid = own(::OBJ_txt2obj(pki::internal::kOidIdentifyData, 1));
  if (!names || !gen || !value || !seq || !oid)
    return Error{Errc::crypto, drain_errors("building identifyData otherName")};
  // An ANY holding a SEQUENCE keeps the complete DER (tag and length included).
  DOJANG_TRY(check(::ASN1_STRING_set(seq.get(), identify_data_der.data(),
                                     static_cast<int>(identify_data_der.size())),
                   "ASN1_STRING_set"));
  ::ASN1_TYPE_set(value.get(), V_ASN1_SEQUENCE, seq.release());
  DOJANG_TRY(check(::GENERAL_NAME_set0_othername(gen.get(), oid.get(), value.get()),
                   "GENERAL_NAME_set0_othername"));
  oid.release();
  value.release();
  if (sk_GENERAL_NAME_push(names.get(), gen.get()) <= 0)
    return Error{Errc::crypto, drain_errors("sk_GENERAL_NAME_push")};
  gen.release();
  return check(::X509_add1_ext_i2d(x, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT),
               "adding subjectAltName");
}

Status sign_certificate(X509* x, EVP_PKEY* key) {
  Ptr<EVP_MD_CTX> mctx = own(::EVP_MD_CTX_new());
  if (!mctx) return Error{Errc::crypto, drain_errors("EVP_MD_CTX_new")};
  DOJANG_TRY(
      check(::EVP_DigestSignInit_ex(mctx.get(), nullptr, "SHA256", libctx(), nullptr, key, nullptr),
            "EVP_DigestSignInit_ex"));
  if (::X509_sign_ctx(x, mctx.get()) <= 0)
    return Error{Errc::crypto, drain_errors("signing the certificate")};
  return {};
}

Result<pki::Certificate> to_certificate(const X509* x) {
  DOJANG_ASSIGN(Bytes der, pki::internal::to_der(x, ::i2d_X509, "encoding the certificate"));
  auto cert = pki::Certificate::from_der(der);
  if (!cert) return Error{Errc::crypto, cert.error().message};
  if (::X509_get0_pubkey(cert->native()) == nullptr) {
    pki::internal::clear_errors();
    return Error{Errc::invalid_input, "the subject public key cannot be decoded"};
  }
  return std::move(cert).value();
}

Result<pki::PrivateKey> generate_key(KeyType type) {
  switch (type) {
    case KeyType::rsa3072:
      return pki::PrivateKey::generate_rsa(3072);
    case KeyType::rsa2048:
      return pki::PrivateKey::generate_rsa(2048);
    case KeyType::ec_p256: {
      Ptr<EVP_PKEY> k = own(::EVP_PKEY_Q_keygen(libctx(), nullptr, "EC", "P-256"));
      if (!k) return Error{Errc::crypto, drain_errors("EC P-256 key generation")};
      return pki::PrivateKey::adopt(k.get());
    }
  }
  return Error{Errc::usage, "unknown key type"};
}

Result<TimePoint> not_after_of(const X509* x) {
  std::tm tm{};
  if (::ASN1_TIME_to_tm(::X509_get0_notAfter(x), &tm) != 1)
    return Error{Errc::invalid_input, drain_errors("certificate notAfter is malformed")};
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

std::string check_text(std::string_view what, std::string_view s, size_t max_chars) {
  if (s.empty()) return std::string(what) + " is empty";
  size_t chars = 0;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return std::string(what) + " is not valid UTF-8";
    std::uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t j = 1; j < len; ++j) {
      auto cc = static_cast<unsigned char>(s[i + j]);
      if ((cc & 0xC0) != 0x80) return std::string(what) + " is not valid UTF-8";
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return std::string(what) + " is not valid UTF-8";
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
      return std::string(what) + " contains control characters";
    i += len;
    ++chars;
  }
  if (chars > max_chars)
    return std::string(what) + " is longer than " + std::to_string(max_chars) + " characters";
  return {};
}

}  // namespace dojang::ca::internal
