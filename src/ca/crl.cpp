#include "dojang/ca/crl.hpp"

#include <openssl/objects.h>

#include <ctime>

#include "pki/internal/ossl.hpp"
#include "ca/internal/x509_build.hpp"
#include "dojang/ca/issue.hpp"

namespace dojang::ca {

using internal::asn1_time;
using pki::internal::check;
using pki::internal::drain_errors;
using pki::internal::libctx;
using pki::internal::own;
using pki::internal::Ptr;

namespace {

Result<Ptr<ASN1_INTEGER>> serial_integer(const std::string& serial_hex) {
  DOJANG_ASSIGN(Bytes bytes, serial_from_hex(serial_hex));
  Ptr<BIGNUM> bn = own(::BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (!bn) return Error{Errc::crypto, drain_errors("BN_bin2bn")};
  Ptr<ASN1_INTEGER> ai = own(::BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!ai) return Error{Errc::crypto, drain_errors("BN_to_ASN1_INTEGER")};
  return ai;
}

// RFC 5280 section 5.3.1: "the reason code CRL entry extension SHOULD be
// absent instead of using the unspecified (0) reasonCode value".
bool has_reason_code(const StatusEntry& e) {
  return e.reason.has_value() && *e.reason != RevocationReason::unspecified;
}

Status add_entry(X509_CRL* crl, const StatusEntry& e) {
  Ptr<X509_REVOKED> rev = own(::X509_REVOKED_new());
  if (!rev) return Error{Errc::crypto, drain_errors("X509_REVOKED_new")};
  DOJANG_ASSIGN(Ptr<ASN1_INTEGER> serial, serial_integer(e.serial_hex));
  DOJANG_TRY(check(::X509_REVOKED_set_serialNumber(rev.get(), serial.get()),
                   "X509_REVOKED_set_serialNumber"));
  DOJANG_ASSIGN(Ptr<ASN1_TIME> when, asn1_time(e.revocation_time()));
  DOJANG_TRY(check(::X509_REVOKED_set_revocationDate(rev.get(), when.get()),
                   "X509_REVOKED_set_revocationDate"));
  if (has_reason_code(e)) {
    Ptr<ASN1_ENUMERATED> code = own(::ASN1_ENUMERATED_new());
    if (!code) return Error{Errc::crypto, drain_errors("ASN1_ENUMERATED_new")};
    DOJANG_TRY(check(::ASN1_ENUMERATED_set(code.get(), static_cast<long>(*e.reason)),
                     "ASN1_ENUMERATED_set"));
    DOJANG_TRY(check(::X509_REVOKED_add1_ext_i2d(rev.get(), NID_crl_reason, code.get(), 0, 0),
                     "adding reasonCode"));
  }
  DOJANG_TRY(check(::X509_CRL_add0_revoked(crl, rev.get()), "X509_CRL_add0_revoked"));
  rev.release();
  return {};
}

// IssuingDistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName
// OPTIONAL, onlyContainsUserCerts [1] BOOLEAN DEFAULT FALSE, ... } (RFC 5280 5.2.5):
// here distributionPoint fullName { URI } only, marked critical.
Status add_idp(X509_CRL* crl, const std::string& url) {
  Ptr<ISSUING_DIST_POINT> idp = own(::ISSUING_DIST_POINT_new());
  if (!idp) return Error{Errc::crypto, drain_errors("ISSUING_DIST_POINT_new")};
  idp->distpoint = ::DIST_POINT_NAME_new();
  if (idp->distpoint == nullptr) return Error{Errc::crypto, drain_errors("DIST_POINT_NAME_new")};
  idp->distpoint->type = 0;  // fullName
  idp->distpoint->name.fullname = ::GENERAL_NAMES_new();
  if (idp->distpoint->name.fullname == nullptr)
    return Error{Errc::crypto, drain_errors("GENERAL_NAMES_new")};
  DOJANG_ASSIGN(Ptr<GENERAL_NAME> gen, internal::uri_name(url));
  if (sk_GENERAL_NAME_push(idp->distpoint->name.fullname, gen.get()) <= 0)
    return Error{Errc::crypto, drain_errors("sk_GENERAL_NAME_push")};
  gen.release();
  return check(::X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp.get(), 1,
                                       X509V3_ADD_DEFAULT),
               "adding issuingDistributionPoint");
}

}  // namespace

std::string crl_name_url(const InitOptions& options, std::string_view name) {
  return options.base_url + "/crl/" + std::string(name) + ".crl";
}

std::string crl_partition_url(const InitOptions& options, unsigned index) {
  return crl_name_url(options, crl_partition_name(index));
}

Result<Bytes> build_crl(const Hierarchy& ca, const std::vector<StatusEntry>& revoked,
                        const CrlContent& content) {
  if (content.next_update <= content.this_update)
    return Error{Errc::usage, "the CRL's nextUpdate must be after its thisUpdate"};
  const X509* issuer = ca.issuing_cert().native();
  Ptr<X509_CRL> crl = own(::X509_CRL_new_ex(libctx(), nullptr));
  if (!crl) return Error{Errc::crypto, drain_errors("X509_CRL_new_ex")};
  DOJANG_TRY(check(::X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2), "X509_CRL_set_version"));
  DOJANG_TRY(check(::X509_CRL_set_issuer_name(crl.get(), ::X509_get_subject_name(issuer)),
                   "X509_CRL_set_issuer_name"));
  DOJANG_ASSIGN(Ptr<ASN1_TIME> last, asn1_time(content.this_update));
  DOJANG_ASSIGN(Ptr<ASN1_TIME> next, asn1_time(content.next_update));
  DOJANG_TRY(check(::X509_CRL_set1_lastUpdate(crl.get(), last.get()), "X509_CRL_set1_lastUpdate"));
  DOJANG_TRY(check(::X509_CRL_set1_nextUpdate(crl.get(), next.get()), "X509_CRL_set1_nextUpdate"));
  for (const StatusEntry& e : revoked) DOJANG_TRY(add_entry(crl.get(), e));
  DOJANG_TRY(check(::X509_CRL_sort(crl.get()), "X509_CRL_sort"));

  X509V3_CTX ctx;
  ::X509V3_set_ctx(&ctx, const_cast<X509*>(issuer), nullptr, nullptr, crl.get(), 0);
  Ptr<X509_EXTENSION> aki =
      own(::X509V3_EXT_nconf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!aki) return Error{Errc::crypto, drain_errors("building authorityKeyIdentifier")};
  DOJANG_TRY(check(::X509_CRL_add_ext(crl.get(), aki.get(), -1), "X509_CRL_add_ext"));
  Ptr<ASN1_INTEGER> number = own(::ASN1_INTEGER_new());
  if (!number) return Error{Errc::crypto, drain_errors("ASN1_INTEGER_new")};
  DOJANG_TRY(check(::ASN1_INTEGER_set_int64(number.get(), content.number), "ASN1_INTEGER_set"));
  DOJANG_TRY(
      check(::X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, X509V3_ADD_DEFAULT),
            "adding cRLNumber"));
  if (content.distribution_point) DOJANG_TRY(add_idp(crl.get(), *content.distribution_point));

  Ptr<EVP_MD_CTX> mctx = own(::EVP_MD_CTX_new());
  if (!mctx) return Error{Errc::crypto, drain_errors("EVP_MD_CTX_new")};
  DOJANG_TRY(check(::EVP_DigestSignInit_ex(mctx.get(), nullptr, "SHA256", libctx(), nullptr,
                                           ca.issuing_key().native(), nullptr),
                   "EVP_DigestSignInit_ex"));
  if (::X509_CRL_sign_ctx(crl.get(), mctx.get()) <= 0)
    return Error{Errc::crypto, drain_errors("signing the CRL")};
  return pki::internal::to_der(crl.get(), ::i2d_X509_CRL, "encoding the CRL");
}

CrlPublisher::CrlPublisher(const Hierarchy& ca, Registry& registry, const Clock& clock,
                           CrlOptions options)
    : ca_(&ca), registry_(&registry), clock_(&clock), options_(options) {}

Status CrlPublisher::publish() {
  std::lock_guard<std::mutex> one(publish_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = false;  // changes noted from here on make the next publication due
  }
  Status s = publish_locked();
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = true;  // try again at the next tick
  }
  return s;
}

Status CrlPublisher::publish_locked() {
  const InitOptions& o = ca_->options();
  const unsigned partitions = o.crl_partitions == 0 ? 1 : o.crl_partitions;
  auto all = registry_->list_revoked();
  if (!all.ok()) return std::move(all).error();
  std::vector<std::vector<StatusEntry>> parts(partitions);
  for (const StatusEntry& e : *all) {
    DOJANG_ASSIGN(Bytes serial, serial_from_hex(e.serial_hex));
    parts[crl_partition(serial, partitions)].push_back(e);
  }
  DOJANG_ASSIGN(std::int64_t number, registry_->next_crl_number());
  const TimePoint now = std::chrono::time_point_cast<std::chrono::seconds>(clock_->now());
  CrlContent content;
  content.number = number;
  content.this_update = now;
  content.next_update = now + options_.validity;

  std::unordered_map<std::string, std::shared_ptr<const PublishedCrl>> fresh;
  auto add = [&](std::string name, const std::vector<StatusEntry>& entries) -> Status {
    DOJANG_ASSIGN(Bytes der, build_crl(*ca_, entries, content));
    auto p = std::make_shared<PublishedCrl>();
    p->name = name;
    p->der.assign(der.begin(), der.end());
    p->number = number;
    p->this_update = content.this_update;
    p->next_update = content.next_update;
    p->etag = "\"" + name + "-" + std::to_string(number) + "\"";
    fresh.emplace(std::move(name), std::move(p));
    return {};
  };
  DOJANG_TRY(add(std::string(kFullCrlName), *all));
  for (unsigned i = 0; i < partitions; ++i) {
    content.distribution_point = crl_partition_url(o, i);
    DOJANG_TRY(add(crl_partition_name(i), parts[i]));
  }
  std::lock_guard<std::mutex> lock(mu_);
  crls_ = std::move(fresh);
  published_at_ = now;
  next_update_ = content.next_update;
  return {};
}

std::shared_ptr<const PublishedCrl> CrlPublisher::get(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = crls_.find(std::string(name));
  return it == crls_.end() ? nullptr : it->second;
}

void CrlPublisher::note_change() {
  std::lock_guard<std::mutex> lock(mu_);
  dirty_ = true;
}

Result<bool> CrlPublisher::tick() {
  bool due = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const TimePoint now = clock_->now();
    if (!published_at_) {
      due = true;
    } else if (dirty_ && now >= *published_at_ + options_.publish_interval) {
      due = true;
    } else if (next_update_ && now + options_.refresh_margin >= *next_update_) {
      due = true;
    }
  }
  if (!due) return false;
  DOJANG_TRY(publish());
  return true;
}

std::optional<TimePoint> CrlPublisher::last_published() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_at_;
}

}  // namespace dojang::ca
