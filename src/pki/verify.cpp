#include "dojang/pki/verify.hpp"

#include <openssl/objects.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <climits>
#include <ctime>

#include "dojang/pki/random.hpp"
#include "dojang/pki/signing.hpp"
#include "dojang/pki/vid.hpp"
#include "pki/internal/identify_data.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::pki {

using internal::check;
using internal::drain_errors;
using internal::libctx;
using internal::own;
using internal::Ptr;

namespace {

constexpr size_t kNonceBytes = 16;  // RFC 8954: 1 to 32 octets

std::string time_text(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string name_text(const X509_NAME* name) {
  Ptr<BIO> bio = own(::BIO_new(::BIO_s_mem()));
  if (!bio) return "?";
  ::X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = ::BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

// A STACK_OF(X509) holding one reference to each certificate.
Result<Ptr<STACK_OF(X509)>> stack_of(const std::vector<Certificate>& certs) {
  Ptr<STACK_OF(X509)> sk = own(sk_X509_new_null());
  if (!sk) return Error{Errc::crypto, drain_errors("sk_X509_new_null")};
  for (const Certificate& c : certs)
    DOJANG_TRY(check(::X509_add_cert(sk.get(), c.native(), X509_ADD_FLAG_UP_REF), "X509_add_cert"));
  return sk;
}

// A store of the trust anchors whose verification time is `at`.
Result<Ptr<X509_STORE>> trust_store(const std::vector<Certificate>& trust, TimePoint at) {
  Ptr<X509_STORE> store = own(::X509_STORE_new());
  if (!store) return Error{Errc::crypto, drain_errors("X509_STORE_new")};
  for (const Certificate& t : trust)
    DOJANG_TRY(check(::X509_STORE_add_cert(store.get(), t.native()), "X509_STORE_add_cert"));
  X509_VERIFY_PARAM* param = ::X509_STORE_get0_param(store.get());
  ::X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(at));
  return store;
}

Result<Ptr<OCSP_CERTID>> cert_id(const Certificate& cert, const Certificate& issuer) {
  // CertID with SHA-1 hashes of the issuer's name and key (RFC 5019 §2.1.1).
  DOJANG_ASSIGN(Ptr<EVP_MD> sha1, internal::fetch_md("SHA1"));
  Ptr<OCSP_CERTID> id = own(::OCSP_cert_to_id(sha1.get(), cert.native(), issuer.native()));
  if (!id) return Error{Errc::crypto, drain_errors("OCSP_cert_to_id")};
  return id;
}

Status check_freshness(const char* what, const ASN1_GENERALIZEDTIME* this_update,
                       const ASN1_GENERALIZEDTIME* next_update, TimePoint now,
                       std::chrono::seconds skew, std::optional<std::chrono::seconds> max_age,
                       RevocationStatus& out) {
  std::optional<TimePoint> tu = internal::time_of(this_update);
  if (!tu) return Error{Errc::invalid_input, std::string(what) + " has a malformed thisUpdate"};
  out.this_update = *tu;
  if (*tu > now + skew)
    return Error{Errc::invalid_input, std::string(what) + " is not yet valid: thisUpdate " +
                                          time_text(*tu) + " is in the future"};
  if (next_update != nullptr) {
    std::optional<TimePoint> nu = internal::time_of(next_update);
    if (!nu) return Error{Errc::invalid_input, std::string(what) + " has a malformed nextUpdate"};
    out.next_update = *nu;
    if (*nu + skew < now)
      return Error{Errc::invalid_input, std::string(what) + " is stale: its nextUpdate " +
                                            time_text(*nu) + " has passed"};
  } else if (!max_age) {
    return Error{Errc::invalid_input, std::string(what) + " has no nextUpdate"};
  } else if (*tu + *max_age < now) {
    return Error{Errc::invalid_input, std::string(what) + " is stale: produced " + time_text(*tu) +
                                          ", no nextUpdate, older than " +
                                          std::to_string(max_age->count()) + " s"};
  }
  return {};
}

// The fullName URIs of a DistributionPointName.
std::vector<std::string> uris_of(const GENERAL_NAMES* names) {
  std::vector<std::string> out;
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(uri->data), static_cast<size_t>(uri->length));
  }
  return out;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Path validation
// ---------------------------------------------------------------------------

Result<PathResult> validate_path(const Certificate& leaf, const std::vector<Certificate>& trust,
                                 const std::vector<Certificate>& untrusted, TimePoint at) {
  if (trust.empty()) return Error{Errc::usage, "no trust anchor given"};
  DOJANG_ASSIGN(Ptr<X509_STORE> store, trust_store(trust, at));
  DOJANG_ASSIGN(Ptr<STACK_OF(X509)> chain_in, stack_of(untrusted));
  Ptr<X509_STORE_CTX> ctx = own(::X509_STORE_CTX_new_ex(libctx(), nullptr));
  if (!ctx) return Error{Errc::crypto, drain_errors("X509_STORE_CTX_new_ex")};
  DOJANG_TRY(check(::X509_STORE_CTX_init(ctx.get(), store.get(), leaf.native(), chain_in.get()),
                   "X509_STORE_CTX_init"));
  if (::X509_verify_cert(ctx.get()) != 1) {
    internal::clear_errors();
    int err = ::X509_STORE_CTX_get_error(ctx.get());
    int depth = ::X509_STORE_CTX_get_error_depth(ctx.get());
    X509* at_cert = ::X509_STORE_CTX_get_current_cert(ctx.get());
    std::string who = at_cert != nullptr ? name_text(::X509_get_subject_name(at_cert)) : "?";
    std::string where = depth == 0 ? "the signer certificate"
                                   : "the CA certificate at depth " + std::to_string(depth);
    std::string msg = where + " (" + who + "): " + ::X509_verify_cert_error_string(err);
    const bool time_error =
        err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID;
    return Error{time_error ? Errc::policy : Errc::bad_signature, msg};
  }
  Ptr<STACK_OF(X509)> chain = own(::X509_STORE_CTX_get1_chain(ctx.get()));
  PathResult out;
  for (int i = 0; chain && i < sk_X509_num(chain.get()); ++i)
    out.chain.push_back(Certificate::adopt(sk_X509_value(chain.get(), i)));
  return out;
}

// ---------------------------------------------------------------------------
// Revocation
// ---------------------------------------------------------------------------

const char* cert_status_name(CertStatus s) noexcept {
  switch (s) {
    case CertStatus::good:
      return "good";
    case CertStatus::revoked:
      return "revoked";
    case CertStatus::unknown:
      return "unknown";
  }
  return "unknown";
}

// CRLReason ::= ENUMERATED { unspecified (0), keyCompromise (1), cACompromise (2),
//   affiliationChanged (3), superseded (4), cessationOfOperation (5),
//   certificateHold (6), -- value 7 is not used -- removeFromCRL (8),
//   privilegeWithdrawn (9), aACompromise (10) }                  (RFC 5280 §5.3.1)
const char* crl_reason_name(int code) noexcept {
  switch (code) {
    case 1:
      return "keyCompromise";
    case 2:
      return "cACompromise";
    case 3:
      return "affiliationChanged";
    case 4:
      return "superseded";
    case 5:
      return "cessationOfOperation";
    case 6:
      return "certificateHold";
    case 8:
      return "removeFromCRL";
    case 9:
      return "privilegeWithdrawn";
    case 10:
      return "aACompromise";
    default:
      return "unspecified";
  }
}

Result<OcspRequest> make_ocsp_request(const Certificate& cert, const Certificate& issuer,
                                      const OcspOptions& options) {
  DOJANG_ASSIGN(Ptr<OCSP_CERTID> id, cert_id(cert, issuer));
  Ptr<OCSP_REQUEST> req = own(::OCSP_REQUEST_new());
  if (!req) return Error{Errc::crypto, drain_errors("OCSP_REQUEST_new")};
  if (::OCSP_request_add0_id(req.get(), id.get()) == nullptr)
    return Error{Errc::crypto, drain_errors("OCSP_request_add0_id")};
  (void)id.release();  // owned by req
  OcspRequest out;
  if (options.nonce) {
    DOJANG_ASSIGN(out.nonce, random_bytes(kNonceBytes));
    DOJANG_TRY(check(
        ::OCSP_request_add1_nonce(req.get(), out.nonce.data(), static_cast<int>(out.nonce.size())),
        "OCSP_request_add1_nonce"));
  }
  DOJANG_ASSIGN(out.der, internal::to_der(req.get(), ::i2d_OCSP_REQUEST, "encoding OCSPRequest"));
  return out;
}

Result<RevocationStatus> check_ocsp_response(ByteView response_der, const OcspRequest& request,
                                             const Certificate& cert, const Certificate& issuer,
                                             const std::vector<Certificate>& trust,
                                             const Clock& clock, const OcspOptions& options) {
  if (response_der.empty() || response_der.size() > static_cast<size_t>(LONG_MAX))
    return Error{Errc::invalid_input, "the OCSP response is empty"};
  const unsigned char* p = response_der.data();
  Ptr<OCSP_RESPONSE> resp =
      own(::d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response_der.size())));
  if (!resp) return Error{Errc::invalid_input, drain_errors("not a DER OCSPResponse")};
  // OCSPResponseStatus ::= ENUMERATED { successful (0), malformedRequest (1),
  //   internalError (2), tryLater (3), sigRequired (5), unauthorized (6) }
  const int rs = ::OCSP_response_status(resp.get());
  if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL)
    return Error{Errc::policy,
                 std::string("the OCSP responder answered ") + ::OCSP_response_status_str(rs)};
  Ptr<OCSP_BASICRESP> basic = own(::OCSP_response_get1_basic(resp.get()));
  if (!basic)
    return Error{Errc::invalid_input, drain_errors("the OCSP response is not a BasicOCSPResponse")};

  const unsigned char* q = request.der.data();
  Ptr<OCSP_REQUEST> req =
      own(::d2i_OCSP_REQUEST(nullptr, &q, static_cast<long>(request.der.size())));
  if (!req) return Error{Errc::crypto, drain_errors("re-reading our OCSPRequest")};
  // 1: nonces equal; 2: neither has one; 3: only the response; -1: only the
  // request (a pre-signed RFC 5019 response: freshness decides); 0: different.
  if (::OCSP_check_nonce(req.get(), basic.get()) == 0)
    return Error{
        Errc::invalid_input,
        "the OCSP response's nonce differs from the request's (replayed or for another request)"};

  // The responder is the issuer itself or its delegate with id-kp-OCSPSigning
  // (RFC 6960 §4.2.2.2); OCSP_basic_verify checks both and the signer's path.
  DOJANG_ASSIGN(Ptr<X509_STORE> store, trust_store(trust, clock.now()));
  DOJANG_ASSIGN(Ptr<STACK_OF(X509)> certs, stack_of({issuer}));
  if (::OCSP_basic_verify(basic.get(), certs.get(), store.get(), 0) != 1)
    return Error{
        Errc::bad_signature,
        drain_errors("the OCSP response is not signed by the CA or its authorised responder")};

  DOJANG_ASSIGN(Ptr<OCSP_CERTID> id, cert_id(cert, issuer));
  int status = 0;
  int reason = OCSP_REVOKED_STATUS_NOSTATUS;
  ASN1_GENERALIZEDTIME* revoked_at = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  if (::OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revoked_at, &this_update,
                              &next_update) != 1) {
    internal::clear_errors();
    return Error{Errc::invalid_input, "the OCSP response has no status for this certificate"};
  }
  RevocationStatus out;
  DOJANG_TRY(check_freshness("the OCSP response", this_update, next_update, clock.now(),
                             options.skew, options.max_age, out));
  switch (status) {
    case V_OCSP_CERTSTATUS_GOOD:
      out.status = CertStatus::good;
      break;
    case V_OCSP_CERTSTATUS_REVOKED:
      out.status = CertStatus::revoked;
      out.revoked_at = internal::time_of(revoked_at);
      if (reason != OCSP_REVOKED_STATUS_NOSTATUS) out.reason = crl_reason_name(reason);
      break;
    default:
      out.status = CertStatus::unknown;
      break;
  }
  return out;
}

Result<Crl> Crl::parse(ByteView der_or_pem) {
  if (der_or_pem.empty()) return Error{Errc::invalid_input, "the CRL is empty"};
  if (der_or_pem.size() > static_cast<size_t>(INT_MAX))
    return Error{Errc::invalid_input, "the CRL is too large"};
  X509_CRL* raw = nullptr;
  if (der_or_pem.front() == 0x30) {
    const unsigned char* p = der_or_pem.data();
    raw = ::d2i_X509_CRL(nullptr, &p, static_cast<long>(der_or_pem.size()));
    if (raw != nullptr && p != der_or_pem.data() + der_or_pem.size()) {
      ::X509_CRL_free(raw);
      return Error{Errc::invalid_input, "the CRL has trailing bytes after the DER structure"};
    }
  } else {
    Ptr<BIO> bio = own(::BIO_new_mem_buf(der_or_pem.data(), static_cast<int>(der_or_pem.size())));
    if (!bio) return Error{Errc::crypto, drain_errors("BIO_new_mem_buf")};
    raw = ::PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr);
  }
  if (raw == nullptr) return Error{Errc::invalid_input, drain_errors("not a DER or PEM X.509 CRL")};
  return Crl(std::shared_ptr<X509_CRL>(raw, ::X509_CRL_free));
}

std::string Crl::issuer() const {
  return name_text(::X509_CRL_get_issuer(c_.get()));
}

std::optional<std::string> Crl::partition_uri() const {
  Ptr<ISSUING_DIST_POINT> idp = own(static_cast<ISSUING_DIST_POINT*>(
      ::X509_CRL_get_ext_d2i(c_.get(), NID_issuing_distribution_point, nullptr, nullptr)));
  internal::clear_errors();
  if (!idp || idp->distpoint == nullptr || idp->distpoint->type != 0) return std::nullopt;
  auto uris = uris_of(idp->distpoint->name.fullname);
  if (uris.empty()) return std::nullopt;
  return uris.front();
}

Result<RevocationStatus> check_crl(const Crl& crl, const Certificate& cert,
                                   const Certificate& issuer, const Clock& clock,
                                   std::chrono::seconds skew) {
  X509_CRL* c = crl.native();
  const X509_NAME* crl_issuer = ::X509_CRL_get_issuer(c);
  if (::X509_NAME_cmp(crl_issuer, ::X509_get_issuer_name(cert.native())) != 0)
    return Error{Errc::not_found, "the CRL is issued by " + name_text(crl_issuer) +
                                      ", not by the certificate's issuer " +
                                      name_text(::X509_get_issuer_name(cert.native()))};
  if (::X509_NAME_cmp(crl_issuer, ::X509_get_subject_name(issuer.native())) != 0)
    return Error{Errc::not_found, "the CRL's issuer is not the issuing CA of the path"};
  EVP_PKEY* key = ::X509_get0_pubkey(issuer.native());
  if (key == nullptr || ::X509_CRL_verify(c, key) != 1)
    return Error{Errc::bad_signature,
                 drain_errors("the CRL is not signed by " + name_text(crl_issuer))};

  // Extensions we process; any other critical one makes the CRL unusable (RFC 5280 §5.2).
  for (int i = 0; i < ::X509_CRL_get_ext_count(c); ++i) {
    X509_EXTENSION* ext = ::X509_CRL_get_ext(c, i);
    int nid = ::OBJ_obj2nid(::X509_EXTENSION_get_object(ext));
    if (nid == NID_delta_crl)
      return Error{Errc::invalid_input, "delta CRLs are not supported; give the base CRL"};
    if (::X509_EXTENSION_get_critical(ext) == 1 && nid != NID_issuing_distribution_point)
      return Error{Errc::invalid_input, "the CRL has an unsupported critical extension " +
                                            internal::oid_text(::X509_EXTENSION_get_object(ext))};
  }

  // IssuingDistributionPoint ::= SEQUENCE {
  //   distributionPoint          [0] DistributionPointName OPTIONAL,
  //   onlyContainsUserCerts      [1] BOOLEAN DEFAULT FALSE,
  //   onlyContainsCACerts        [2] BOOLEAN DEFAULT FALSE,
  //   onlySomeReasons            [3] ReasonFlags OPTIONAL,
  //   indirectCRL                [4] BOOLEAN DEFAULT FALSE,
  //   onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }      (RFC 5280 §5.2.5)
  int crit = 0;
  Ptr<ISSUING_DIST_POINT> idp = own(static_cast<ISSUING_DIST_POINT*>(
      ::X509_CRL_get_ext_d2i(c, NID_issuing_distribution_point, &crit, nullptr)));
  if (!idp && crit != -1)
    return Error{Errc::invalid_input,
                 drain_errors("the CRL's issuingDistributionPoint is malformed")};
  internal::clear_errors();
  if (idp) {
    const bool is_ca = ::X509_check_ca(cert.native()) > 0;
    if (idp->onlyattr > 0)
      return Error{Errc::not_found, "the CRL covers only attribute certificates"};
    if (idp->onlyuser > 0 && is_ca)
      return Error{Errc::not_found, "the CRL covers only end-entity certificates"};
    if (idp->onlyCA > 0 && !is_ca)
      return Error{Errc::not_found, "the CRL covers only CA certificates"};
    if (idp->onlysomereasons != nullptr)
      return Error{Errc::not_found, "the CRL covers only some revocation reasons (not supported)"};
    if (idp->indirectCRL > 0) return Error{Errc::not_found, "indirect CRLs are not supported"};
    if (idp->distpoint != nullptr) {
      if (idp->distpoint->type != 0)
        return Error{Errc::not_found,
                     "the CRL's partition is a name relative to the issuer (not supported)"};
      const GENERAL_NAMES* partition = idp->distpoint->name.fullname;
      Ptr<CRL_DIST_POINTS> dps = own(static_cast<CRL_DIST_POINTS*>(
          ::X509_get_ext_d2i(cert.native(), NID_crl_distribution_points, nullptr, nullptr)));
      internal::clear_errors();
      bool covered = false;
      for (int i = 0; dps && !covered && i < sk_DIST_POINT_num(dps.get()); ++i) {
        const DIST_POINT* dp = sk_DIST_POINT_value(dps.get(), i);
        if (dp->distpoint == nullptr || dp->distpoint->type != 0) continue;
        const GENERAL_NAMES* names = dp->distpoint->name.fullname;
        for (int a = 0; !covered && a < sk_GENERAL_NAME_num(names); ++a)
          for (int b = 0; !covered && b < sk_GENERAL_NAME_num(partition); ++b)
            covered = ::GENERAL_NAME_cmp(sk_GENERAL_NAME_value(names, a),
                                         sk_GENERAL_NAME_value(partition, b)) == 0;
      }
      if (!covered) {
        std::string mine = join(crl_urls(cert), ", ");
        return Error{Errc::not_found, "the CRL covers partition " + join(uris_of(partition), ", ") +
                                          ", the certificate belongs to " +
                                          (mine.empty() ? std::string("no partition") : mine)};
      }
    }
  }

  RevocationStatus out;
  DOJANG_TRY(check_freshness("the CRL", ::X509_CRL_get0_lastUpdate(c),
                             ::X509_CRL_get0_nextUpdate(c), clock.now(), skew, std::nullopt, out));

  X509_REVOKED* entry = nullptr;
  const int found = ::X509_CRL_get0_by_serial(c, &entry, ::X509_get0_serialNumber(cert.native()));
  if (found == 1 && entry != nullptr) {
    out.status = CertStatus::revoked;
    out.revoked_at = internal::time_of(::X509_REVOKED_get0_revocationDate(entry));
    Ptr<ASN1_STRING> code = own(static_cast<ASN1_STRING*>(
        ::X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr)));
    internal::clear_errors();
    if (code) out.reason = crl_reason_name(static_cast<int>(::ASN1_ENUMERATED_get(code.get())));
  } else {
    out.status = CertStatus::good;  // not listed (or removeFromCRL)
  }
  return out;
}

std::vector<std::string> ocsp_urls(const Certificate& cert) {
  std::vector<std::string> out;
  STACK_OF(OPENSSL_STRING)* urls = ::X509_get1_ocsp(cert.native());
  for (int i = 0; urls != nullptr && i < sk_OPENSSL_STRING_num(urls); ++i)
    out.emplace_back(sk_OPENSSL_STRING_value(urls, i));
  ::X509_email_free(urls);
  internal::clear_errors();
  return out;
}

std::vector<std::string> ca_issuer_urls(const Certificate& cert) {
  std::vector<std::string> out;
  Ptr<AUTHORITY_INFO_ACCESS> aia = own(static_cast<AUTHORITY_INFO_ACCESS*>(
      ::X509_get_ext_d2i(cert.native(), NID_info_access, nullptr, nullptr)));
  internal::clear_errors();
  for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia.get()); ++i) {
    const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia.get(), i);
    if (::OBJ_obj2nid(ad->method) != NID_ad_ca_issuers || ad->location->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = ad->location->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(uri->data), static_cast<std::size_t>(uri->length));
  }
  return out;
}

Result<OcspAnswer> query_ocsp(const Certificate& cert, const Certificate& issuer,
                              const std::vector<Certificate>& trust, Fetcher& fetcher,
                              const Clock& clock, const OcspOptions& options,
                              std::vector<std::string>* attempts) {
  std::vector<std::string> local;
  std::vector<std::string>& tried = attempts != nullptr ? *attempts : local;
  const auto urls = ocsp_urls(cert);
  if (urls.empty()) return Error{Errc::not_found, "the certificate names no OCSP responder"};
  for (const std::string& url : urls) {
    auto req = make_ocsp_request(cert, issuer, options);
    if (!req.ok()) {
      tried.push_back("OCSP " + url + ": " + req.error().message);
      continue;
    }
    auto body = fetcher.post(url, "application/ocsp-request", req->der);
    if (!body.ok()) {
      tried.push_back("OCSP " + url + ": " + body.error().message);
      continue;
    }
    auto st = check_ocsp_response(*body, *req, cert, issuer, trust, clock, options);
    if (!st.ok()) {
      tried.push_back("OCSP " + url + ": " + st.error().message);
      continue;
    }
    return OcspAnswer{std::move(st).value(), url};
  }
  return Error{Errc::io, join(tried, "; ")};
}

std::vector<std::string> crl_urls(const Certificate& cert) {
  std::vector<std::string> out;
  Ptr<CRL_DIST_POINTS> dps = own(static_cast<CRL_DIST_POINTS*>(
      ::X509_get_ext_d2i(cert.native(), NID_crl_distribution_points, nullptr, nullptr)));
  internal::clear_errors();
  for (int i = 0; dps && i < sk_DIST_POINT_num(dps.get()); ++i) {
    const DIST_POINT* dp = sk_DIST_POINT_value(dps.get(), i);
    if (dp->distpoint == nullptr || dp->distpoint->type != 0) continue;
    for (auto& u : uris_of(dp->distpoint->name.fullname)) out.push_back(std::move(u));
  }
  return out;
}

// ---------------------------------------------------------------------------
// The pipeline
// ---------------------------------------------------------------------------

Result<RequiredPurpose> parse_required_purpose(std::string_view name) {
  if (name == "general") return RequiredPurpose::general;
  if (name == "bank") return RequiredPurpose::bank;
  return Error{Errc::usage, "unknown purpose '" + std::string(name) + "' (want general or bank)"};
}

const char* check_state_name(CheckState s) noexcept {
  switch (s) {
    case CheckState::passed:
      return "ok";
    case CheckState::failed:
      return "failed";
    case CheckState::skipped:
      return "not_checked";
  }
  return "not_checked";
}

const char* verdict_name(Verdict v) noexcept {
  switch (v) {
    case Verdict::valid:
      return "valid";
    case Verdict::invalid:
      return "invalid";
    case Verdict::refused:
      return "refused";
    case Verdict::unavailable:
      return "unavailable";
  }
  return "invalid";
}

namespace {

// How bad each outcome is: the worst one decides the verdict.
int severity(Verdict v) {
  switch (v) {
    case Verdict::valid:
      return 0;
    case Verdict::unavailable:
      return 1;
    case Verdict::refused:
      return 2;
    case Verdict::invalid:
      return 3;
  }
  return 3;
}

class Pipeline {
 public:
  Pipeline(VerifyReport& r, const VerifyOptions& o, const Clock& clock)
      : r_(r), o_(o), now_(clock.now()), clock_(clock) {}

  void pass(Check& c, std::string detail) {
    c.state = CheckState::passed;
    c.detail = std::move(detail);
  }
  void skip(Check& c, std::string detail) {
    c.state = CheckState::skipped;
    c.detail = std::move(detail);
  }
  void fail(Check& c, Verdict v, std::string detail) {
    c.state = CheckState::failed;
    c.detail = detail;
    if (severity(v) > severity(worst_)) {
      worst_ = v;
      r_.summary = std::move(detail);
    }
  }

  void run(const Certificate& signer, const std::vector<Certificate>& carried,
           const std::optional<SecretBytes>& carried_r) {
    r_.signer = signer;
    auto info = signer.info();
    if (!info.ok()) {
      fail(r_.validity, Verdict::invalid,
           "the signer certificate is malformed: " + info.error().message);
      finish();
      return;
    }
    if (may_sign(signer)) validity(*info);
    const bool chained = chain(signer, carried);
    if (chained) {
      revocation(signer);
    } else if (o_.trust.empty()) {
      skip(r_.revocation, "not checked: no trust anchor given (--trust)");
    } else {
      skip(r_.revocation, "not checked: the chain is not valid");
    }
    purpose(*info);
    vid(signer, carried_r);
    finish();
  }

 private:
  void finish() {
    r_.verdict = worst_;
    if (worst_ == Verdict::valid) {
      r_.summary =
          o_.trust.empty()
              ? "the signature is valid; the chain and revocation were NOT checked (no --trust)"
              : "the signature is valid and its certificate is trusted and not revoked";
    }
  }

  // keyUsage (RFC 5280 §4.2.1.3): a signature needs digitalSignature or
  // nonRepudiation (a Korean signCert has both; a kmCert has neither).
  bool may_sign(const Certificate& signer) {
    if ((::X509_get_extension_flags(signer.native()) & EXFLAG_KUSAGE) == 0) return true;
    const uint32_t ku = ::X509_get_key_usage(signer.native());
    if ((ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) != 0) return true;
    fail(r_.validity, Verdict::invalid,
         "the certificate's keyUsage does not allow signatures (no digitalSignature or "
         "nonRepudiation)");
    return false;
  }

  void validity(const CertificateInfo& info) {
    const std::string window = time_text(info.not_before) + " to " + time_text(info.not_after);
    if (now_ < info.not_before) {
      fail(r_.validity, Verdict::refused,
           "the certificate is not valid yet (valid " + window + ")");
      return;
    }
    if (now_ > info.not_after) {
      fail(r_.validity, Verdict::refused,
           "the certificate expired on " + time_text(info.not_after));
      return;
    }
    if (r_.signing_time) {
      const TimePoint st = *r_.signing_time;
      if (st > now_ + o_.ocsp.skew) {
        fail(r_.validity, Verdict::invalid,
             "the signingTime " + time_text(st) + " is in the future");
        return;
      }
      if (st < info.not_before || st > info.not_after) {
        fail(r_.validity, Verdict::refused,
             "the certificate was not valid at the signing time " + time_text(st) + " (valid " +
                 window + ")");
        return;
      }
      pass(r_.validity, "valid " + window + ", at the signing time and now");
      return;
    }
    pass(r_.validity, "valid " + window + " (now; the signature has no signingTime)");
  }

  bool chain(const Certificate& signer, const std::vector<Certificate>& carried) {
    if (o_.trust.empty()) {
      skip(r_.chain, "not checked: no trust anchor given (--trust)");
      return false;
    }
    std::vector<Certificate> untrusted = carried;
    untrusted.insert(untrusted.end(), o_.untrusted.begin(), o_.untrusted.end());
    auto path = validate_path(signer, o_.trust, untrusted, now_);
    if (!path.ok()) {
      const bool expired = path.error().code == Errc::policy;
      fail(r_.chain, expired ? Verdict::refused : Verdict::invalid, path.error().message);
      if (expired && r_.validity.state == CheckState::passed)
        fail(r_.validity, Verdict::refused, path.error().message);
      return false;
    }
    r_.path = path->chain;
    std::vector<std::string> names;
    for (const Certificate& c : r_.path)
      names.push_back(name_text(::X509_get_subject_name(c.native())));
    pass(r_.chain, "trusted: " + join(names, " <- "));
    return true;
  }

  void revocation(const Certificate& signer) {
    if (r_.path.size() < 2) {
      skip(r_.revocation, "not checked: the signer certificate is itself a trust anchor");
      return;
    }
    const Certificate& issuer = r_.path[1];
    RevocationReport& rep = r_.revocation_info;
    std::optional<RevocationStatus> status;
    if (o_.revocation == RevocationMode::online) {
      status = by_ocsp(signer, issuer);
      if (!status) status = by_crls(signer, issuer, false);
      if (!status) status = by_cdp(signer, issuer);
    } else {
      status = by_crls(signer, issuer, true);
    }
    if (!status) {
      std::string why = rep.attempts.empty() ? "no OCSP responder or CRL is known for it"
                                             : join(rep.attempts, "; ");
      fail(r_.revocation, Verdict::unavailable,
           "the revocation status could not be determined: " + why);
      return;
    }
    rep.status = status;
    std::string from = rep.source + (rep.url.empty() ? "" : " " + rep.url);
    switch (status->status) {
      case CertStatus::good:
        pass(r_.revocation, "not revoked (" + from + ")");
        break;
      case CertStatus::unknown:
        fail(r_.revocation, Verdict::refused,
             "the CA's OCSP responder does not know this certificate (" + from + ")");
        break;
      case CertStatus::revoked: {
        std::string when = status->revoked_at ? " since " + time_text(*status->revoked_at) : "";
        if (status->reason == "certificateHold")
          fail(r_.revocation, Verdict::refused,
               "suspended (certificateHold)" + when + " (" + from + ")");
        else
          fail(r_.revocation, Verdict::refused,
               "revoked" + when + (status->reason.empty() ? "" : ", reason " + status->reason) +
                   " (" + from + ")");
        break;
      }
    }
  }

  std::optional<RevocationStatus> by_ocsp(const Certificate& signer, const Certificate& issuer) {
    RevocationReport& rep = r_.revocation_info;
    if (o_.fetcher == nullptr) {
      for (const std::string& url : ocsp_urls(signer))
        rep.attempts.push_back("OCSP " + url + ": no HTTP client");
      return std::nullopt;
    }
    auto answer = query_ocsp(signer, issuer, o_.trust, *o_.fetcher, clock_, o_.ocsp, &rep.attempts);
    if (!answer.ok()) return std::nullopt;
    rep.source = "ocsp";
    rep.url = answer->url;
    return std::move(answer->status);
  }

  // The CRLs given by the caller.
  std::optional<RevocationStatus> by_crls(const Certificate& signer, const Certificate& issuer,
                                          bool offline) {
    RevocationReport& rep = r_.revocation_info;
    std::vector<std::string> not_covering;
    for (const Crl& crl : o_.crls) {
      auto st = check_crl(crl, signer, issuer, clock_, o_.ocsp.skew);
      if (st.ok()) {
        rep.source = offline ? "offline-crl" : "crl";
        rep.url = crl.partition_uri().value_or("");
        return std::move(st).value();
      }
      (st.error().code == Errc::not_found ? not_covering : rep.attempts)
          .push_back("CRL " + crl.partition_uri().value_or(crl.issuer()) + ": " +
                     st.error().message);
    }
    if (!o_.crls.empty() && offline && rep.attempts.empty())
      rep.attempts.push_back("no CRL given covers the certificate (" + join(not_covering, "; ") +
                             ")");
    else if (offline && o_.crls.empty())
      rep.attempts.push_back("offline and no CRL given (--crl)");
    return std::nullopt;
  }

  // CRLs fetched from the certificate's CRL distribution points.
  std::optional<RevocationStatus> by_cdp(const Certificate& signer, const Certificate& issuer) {
    RevocationReport& rep = r_.revocation_info;
    for (const std::string& url : crl_urls(signer)) {
      if (o_.fetcher == nullptr) {
        rep.attempts.push_back("CRL " + url + ": no HTTP client");
        continue;
      }
      auto body = o_.fetcher->get(url);
      if (!body.ok()) {
        rep.attempts.push_back("CRL " + url + ": " + body.error().message);
        continue;
      }
      auto crl = Crl::parse(*body);
      if (!crl.ok()) {
        rep.attempts.push_back("CRL " + url + ": " + crl.error().message);
        continue;
      }
      auto st = check_crl(*crl, signer, issuer, clock_, o_.ocsp.skew);
      if (!st.ok()) {
        rep.attempts.push_back("CRL " + url + ": " + st.error().message);
        continue;
      }
      rep.source = "crl";
      rep.url = url;
      return std::move(st).value();
    }
    return std::nullopt;
  }

  void purpose(const CertificateInfo& info) {
    std::vector<std::string> have;
    bool general = false, bank = false;
    for (const PolicyInfo& p : info.policies) {
      have.push_back(p.label);
      general = general || p.purpose == Purpose::general;
      bank = bank || p.purpose == Purpose::bank_insurance;
    }
    const std::string what = have.empty() ? std::string("no certificate policy") : join(have, ", ");
    switch (o_.purpose) {
      case RequiredPurpose::any:
        skip(r_.purpose, "not required (" + what + ")");
        return;
      case RequiredPurpose::general:
        if (general)
          pass(r_.purpose, "general-purpose (범용) required: " + what);
        else
          fail(r_.purpose, Verdict::refused,
               "a general-purpose (범용) certificate is required; this one is " + what);
        return;
      case RequiredPurpose::bank:
        if (general || bank)
          pass(r_.purpose, "accepted for banking: " + what);
        else
          fail(r_.purpose, Verdict::refused,
               "banking accepts general-purpose (범용) or banking/insurance (은행/보험용) "
               "certificates; this one is " +
                   what);
        return;
    }
  }

  void vid(const Certificate& signer, const std::optional<SecretBytes>& carried_r) {
    if (!o_.idn) {
      skip(r_.vid, "not checked: no IDN given (--idn-file)");
      return;
    }
    const SecretBytes* r = nullptr;
    if (o_.random_num) {
      r = &*o_.random_num;
      r_.random_source = "file";
    } else if (carried_r) {
      r = &*carried_r;
      r_.random_source = "cms-attribute";
    }
    if (r == nullptr) {
      fail(r_.vid, Verdict::invalid,
           "cannot check the VID: no randomNum R (give --random-file, or have the signer sign "
           "with --include-random)");
      return;
    }
    auto match = verify_vid(signer, *r, *o_.idn);
    if (!match.ok()) {
      fail(r_.vid, Verdict::invalid, "cannot check the VID: " + match.error().message);
      return;
    }
    if (!*match) {
      fail(r_.vid, Verdict::invalid,
           "VID mismatch: the certificate does not belong to the person with this IDN");
      return;
    }
    pass(r_.vid, "the certificate belongs to the person with this IDN (R from " +
                     std::string(r_.random_source == "file" ? "the given file" : "the signature") +
                     ")");
  }

  VerifyReport& r_;
  const VerifyOptions& o_;
  TimePoint now_;
  const Clock& clock_;
  Verdict worst_ = Verdict::valid;
};

VerifyReport signature_failed(std::string format, const Error& e) {
  VerifyReport r;
  r.format = std::move(format);
  r.verdict = Verdict::invalid;
  r.signature.state = CheckState::failed;
  r.signature.detail = e.message;
  r.signature_error = e.code;
  r.summary = e.message;
  for (Check* c : {&r.chain, &r.validity, &r.revocation, &r.purpose, &r.vid})
    c->detail = "not checked: the signature is not valid";
  return r;
}

}  // namespace

VerifyReport verify_signed(ByteView cms_der, std::optional<ByteView> detached_content,
                           const VerifyOptions& options, const Clock& clock) {
  auto v = verify_cms(cms_der, detached_content);
  if (!v.ok()) return signature_failed("cms", v.error());
  VerifyReport r;
  r.format = "cms";
  r.detached = v->detached;
  r.signed_attributes = v->signed_attributes;
  r.digest_algorithm = v->digest_algorithm;
  r.signing_time = v->signing_time;
  r.signature = {CheckState::passed,
                 std::string("CMS SignedData") + (v->detached ? " (detached)" : "") +
                     (v->signed_attributes ? "" : " without signed attributes") + ", " +
                     v->digest_algorithm};
  Pipeline(r, options, clock).run(v->signer, v->certificates, v->random_num);
  return r;
}

VerifyReport verify_raw_signed(ByteView signature, ByteView content, const Certificate& cert,
                               const VerifyOptions& options, const Clock& clock) {
  auto st = verify_raw(cert, content, signature);
  if (!st.ok()) return signature_failed("raw", st.error());
  VerifyReport r;
  r.format = "raw";
  r.digest_algorithm = "SHA256";
  r.signature = {CheckState::passed, "raw PKCS#1 v1.5 SHA-256"};
  Pipeline(r, options, clock).run(cert, {}, std::nullopt);
  return r;
}

}  // namespace dojang::pki
