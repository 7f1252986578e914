#include "dojang/ca/issue.hpp"

#include <openssl/objects.h>

#include <chrono>

#include "ca/internal/subject_key.hpp"
#include "ca/internal/x509_build.hpp"
#include "dojang/ca/crl.hpp"
#include "dojang/pki/random.hpp"
#include "dojang/pki/vid.hpp"
#include "pki/internal/identify_data.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::ca {

using pki::internal::drain_errors;
using pki::internal::own;
using pki::internal::Ptr;

namespace {

constexpr std::size_t kSerialBytes = 16;
constexpr std::size_t kMaxNameChars = 64;  // ub-common-name, ub-organizational-unit-name
constexpr std::size_t kMaxHolderDigits = 40;
constexpr auto kClockSkew = std::chrono::minutes(5);
constexpr const char* kPersonalOu = "personal4IB";

// IdentifyData { realName, userInfos } for the subjectAltName: userInfos holds
// the VID when there is one and is empty otherwise.
Result<Bytes> identify_data(const IssueRequest& r) {
  if (r.vid) return pki::encode_identify_data(r.real_name, r.vid->hash_alg, r.vid->value);
  Ptr<pki::internal::DOJANG_IDENTIFY_DATA> id = own(pki::internal::DOJANG_IDENTIFY_DATA_new());
  if (!id) return Error{Errc::crypto, drain_errors("IdentifyData_new")};
  if (::ASN1_mbstring_copy(
          &id->real_name, reinterpret_cast<const unsigned char*>(r.real_name.data()),
          static_cast<int>(r.real_name.size()), MBSTRING_UTF8, B_ASN1_UTF8STRING) < 0)
    return Error{Errc::usage, drain_errors("real name is not valid UTF-8")};
  return pki::internal::to_der(id.get(), pki::internal::i2d_DOJANG_IDENTIFY_DATA,
                               "encoding IdentifyData");
}

Status check_request(const IssueRequest& r) {
  if (auto msg = internal::check_text("the real name", r.real_name, kMaxNameChars); !msg.empty())
    return Error{Errc::usage, msg};
  if (auto msg = internal::check_text("the bank code", r.bank_code, kMaxNameChars); !msg.empty())
    return Error{Errc::usage, msg};
  if (r.holder_digits.empty() || r.holder_digits.size() > kMaxHolderDigits ||
      r.holder_digits.find_first_not_of("0123456789") != std::string::npos)
    return Error{Errc::usage, "the holder number in the CN must be 1 to 40 digits"};
  if (r.vid && r.vid->value.empty()) return Error{Errc::usage, "the VID is empty"};
  if (r.serial.empty()) return Error{Errc::usage, "the request carries no serial number"};
  return {};
}

}  // namespace

Result<std::string> policy_oid_for(const InitOptions& options, pki::Purpose purpose) {
  switch (purpose) {
    case pki::Purpose::general:
      return options.policies.general;
    case pki::Purpose::bank_insurance:
      return options.policies.bank_insurance;
    default:
      break;
  }
  return Error{Errc::usage, std::string("this CA does not issue ") + pki::purpose_name(purpose) +
                                " certificates (general or bank_insurance)"};
}

Result<Bytes> new_serial() {
  Bytes serial(kSerialBytes);
  do {
    DOJANG_TRY(pki::random_bytes(std::span<std::uint8_t>(serial)));
    serial[0] &= 0x7F;  // a positive INTEGER of exactly 16 octets
  } while (serial[0] == 0);
  return serial;
}

unsigned crl_partition(ByteView serial, unsigned partitions) {
  if (partitions == 0) partitions = 1;
  for (std::uint8_t b : serial)
    if (b != 0) return b % partitions;
  return 0;
}

std::string crl_partition_name(unsigned index) {
  return "p" + std::to_string(index);
}

std::string crl_url(const InitOptions& options, ByteView serial) {
  return crl_partition_url(options, crl_partition(serial, options.crl_partitions));
}

Result<pki::Certificate> issue_certificate(const Hierarchy& ca, const IssueRequest& r,
                                           const Clock& clock) {
  DOJANG_TRY(check_request(r));
  const InitOptions& o = ca.options();
  DOJANG_ASSIGN(std::string policy_oid, policy_oid_for(o, r.purpose));
  DOJANG_ASSIGN(internal::SubjectKey key, internal::parse_subject_key(r.public_key_der));
  DOJANG_ASSIGN(Bytes identify, identify_data(r));

  std::string cn = r.real_name + "()" + r.holder_digits;
  if (auto msg = internal::check_text("the common name", cn, kMaxNameChars); !msg.empty())
    return Error{Errc::usage, msg};
  // DER order, most general first: c=kr, o=<CA>, ou=personal4IB, ou=<bank>, cn.
  DOJANG_ASSIGN(Ptr<X509_NAME> subject,
                internal::make_name({{NID_countryName, "kr"},
                                     {NID_organizationName, o.ca_name},
                                     {NID_organizationalUnitName, kPersonalOu},
                                     {NID_organizationalUnitName, r.bank_code},
                                     {NID_commonName, cn}}));

  const X509* issuer = ca.issuing_cert().native();
  TimePoint nb = r.not_before.value_or(clock.now() - kClockSkew);
  TimePoint na = r.not_after.value_or(nb + std::chrono::days(o.user_validity_days));
  DOJANG_ASSIGN(TimePoint ca_end, internal::not_after_of(issuer));
  if (nb >= ca_end)
    return Error{Errc::policy, "the issuing CA certificate expires before the requested notBefore"};
  if (na > ca_end) na = ca_end;

  DOJANG_ASSIGN(Ptr<X509> x, internal::new_certificate(
                                 subject.get(), ::X509_get_subject_name(issuer), r.serial, nb, na));
  DOJANG_TRY(internal::set_subject_key(x.get(), key));
  DOJANG_TRY(internal::add_ext(x.get(), issuer, NID_key_usage,
                               "critical,digitalSignature,nonRepudiation"));
  DOJANG_TRY(internal::add_policy(x.get(), policy_oid, o.base_url + "/cps", true));
  DOJANG_TRY(internal::add_ext(x.get(), issuer, NID_subject_key_identifier, "hash"));
  DOJANG_TRY(internal::add_ext(x.get(), issuer, NID_authority_key_identifier, "keyid:always"));
  DOJANG_TRY(internal::add_crl_distribution_point(x.get(), crl_url(o, r.serial)));
  DOJANG_TRY(
      internal::add_authority_info_access(x.get(), o.base_url + "/ocsp", o.base_url + "/ca.crt"));
  DOJANG_TRY(internal::add_identify_data(x.get(), identify));
  DOJANG_TRY(internal::sign_certificate(x.get(), ca.issuing_key().native()));
  // The signed X509 as it is: parsing its encoding again would only run
  // OpenSSL's key decoders over a key parse_subject_key has already checked.
  return pki::Certificate::adopt(x.get());
}

}  // namespace dojang::ca
