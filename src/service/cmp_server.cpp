#include "dojang/service/cmp_server.hpp"

#include <openssl/cmp.h>
#include <openssl/crmf.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "dojang/ca/issue.hpp"
#include "dojang/pki/aead.hpp"
#include "dojang/pki/cmp.hpp"
#include "dojang/pki/encrypted_vid.hpp"
#include "dojang/pki/random.hpp"
#include "dojang/pki/time_text.hpp"
#include "pki/internal/ossl.hpp"
#include "service/internal/cmp_server_asn1.hpp"

namespace dojang::service {

namespace {

namespace ossl = pki::internal;
using ossl::own;
using ossl::Ptr;

// --- our reasons on OpenSSL's error queue -------------------------------------
// OSSL_CMP_SRV_process_request answers any failure with an error message whose
// statusString is the reason string of the OLDEST error on the queue: we put
// ours there first, registered as an error library of our own.
enum Reason : int {
  kAuthFailed = 1,
  kNotAuthorized,
  kNoTransaction,
  kSystem,
  kBadContent,
  kSignerRefused,
};

constexpr const char* kAuthFailedText = "unknown reference number or wrong authorization code";
constexpr const char* kVidMismatchText = "VID does not match the holder";
constexpr const char* kVidUnreadableText = "EncryptedVID cannot be opened";
constexpr const char* kSystemText = "the CA cannot process the request now";

int error_library() {
  static const int lib = [] {
    int l = ::ERR_get_next_error_library();
    static ERR_STRING_DATA strings[] = {
        {ERR_PACK(0, 0, 0), "dojang CA"},
        {ERR_PACK(0, 0, kAuthFailed), kAuthFailedText},
        {ERR_PACK(0, 0, kNotAuthorized), "application not usable"},
        {ERR_PACK(0, 0, kNoTransaction), "no open transaction with this transactionID"},
        {ERR_PACK(0, 0, kSystem), kSystemText},
        {ERR_PACK(0, 0, kBadContent), "request content not acceptable"},
        {ERR_PACK(0, 0, kSignerRefused), "the signing certificate cannot be used"},
        {0, nullptr},
    };
    strings[0].error = ERR_PACK(l, 0, 0);  // a zero entry would end the list
    ::ERR_load_strings(l, strings);
    return l;
  }();
  return lib;
}

// The bank's texts for an unusable application are precise and hold no secret.
void raise(Reason reason, const std::string& detail = {}) {
  if (detail.empty()) {
    ERR_raise(error_library(), reason);
  } else {
    ERR_raise_data(error_library(), reason, "%s", detail.c_str());
  }
}

int quiet_log(const char*, const char*, int, OSSL_CMP_severity, const char*) {
  return 1;
}

struct Rejection {
  int fail_bit;
  std::string text;
};

OSSL_CMP_PKISI* rejection_si(const Rejection& r) {
  return ::OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_rejection, 1 << r.fail_bit, r.text.c_str());
}

pki::Purpose to_pki(ra::Purpose p) {
  return p == ra::Purpose::bank_insurance ? pki::Purpose::bank_insurance : pki::Purpose::general;
}

// 16 digits after "()" in the CN: the first 8 bytes of
// SHA-256("dojang holder digits" || customer id) as a number modulo 10^16,
// zero-padded. Deterministic, so a customer keeps the same CN suffix across
// certificates, and it reveals neither IDN nor customer id.
Result<std::string> holder_digits(std::string_view customer_id) {
  std::string input = "dojang holder digits";
  input += customer_id;
  DOJANG_ASSIGN(Bytes h, pki::sha256(ByteView(reinterpret_cast<const std::uint8_t*>(input.data()),
                                              input.size())));
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | h[static_cast<size_t>(i)];
  std::string digits = std::to_string(v % 10'000'000'000'000'000ULL);
  return std::string(16 - digits.size(), '0') + digits;
}

// issue() reports rejections as Error{policy, "<bit>\x1f<text>"}; unpack.
Rejection unpack(const Error& e) {
  auto sep = e.message.find('\x1f');
  if (sep == std::string::npos) return {OSSL_CMP_PKIFAILUREINFO_systemFailure, kSystemText};
  return {std::stoi(e.message.substr(0, sep)), e.message.substr(sep + 1)};
}

std::string date_text(TimePoint t) {
  return format_utc(t, "%Y-%m-%d");
}

// The registry's key form of a serial INTEGER.
std::string serial_hex_of(const ASN1_INTEGER* serial) {
  if (serial == nullptr) return {};
  return ca::serial_to_hex(ByteView(::ASN1_STRING_get0_data(serial),
                                    static_cast<std::size_t>(::ASN1_STRING_length(serial))));
}

// The value of the first RDN of type nid in name other than `skip`; empty if none.
std::string name_entry(const X509_NAME* name, int nid, std::string_view skip = {}) {
  for (int i = -1; (i = ::X509_NAME_get_index_by_NID(name, nid, i)) >= 0;) {
    const ASN1_STRING* v = ::X509_NAME_ENTRY_get_data(::X509_NAME_get_entry(name, i));
    std::string text(reinterpret_cast<const char*>(::ASN1_STRING_get0_data(v)),
                     static_cast<std::size_t>(::ASN1_STRING_length(v)));
    if (text != skip) return text;
  }
  return {};
}

Response cmp_response(const OSSL_CMP_MSG* msg) {
  auto der = ossl::to_der(msg, ::i2d_OSSL_CMP_MSG, "CMP response");
  if (!der.ok()) return Response::text(500, "cannot encode the CMP response\n");
  Response r = Response::bytes(200, std::string(kCmpContentType), *der);
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

Ptr<STACK_OF(X509)> stack_of(std::initializer_list<const pki::Certificate*> certs) {
  Ptr<STACK_OF(X509)> sk = own(sk_X509_new_null());
  if (!sk) return sk;
  for (const pki::Certificate* c : certs) {
    if (::X509_up_ref(c->native()) != 1 || sk_X509_push(sk.get(), c->native()) <= 0) {
      return nullptr;
    }
  }
  return sk;
}

}  // namespace

// One request (and, for ir/cr/p10cr, its transaction up to certConf): the
// custom context of its OSSL_CMP_SRV_CTX.
struct Exchange {
  CmpService::Impl* svc = nullptr;
  std::string ref;
  std::string transaction_id;
  std::optional<ra::ApplicationForCa> app;
  std::optional<Rejection> rejection;  // set: answer every certificate request with it
  // Signed requests (kur, rr, signed genm): the signer, checked against the registry.
  std::optional<pki::Certificate> signer;
  std::optional<ca::CertificateRecord> signer_record;
  std::optional<int> rr_reason;  // rr: the reasonCode asked for
  std::string renews;            // kur: the serial of the certificate it renews
  // After an issuance:
  std::string serial_hex;
  std::optional<pki::Certificate> cert;
  bool confirmed = false;
};

struct Transaction {
  std::mutex mu;
  Ptr<OSSL_CMP_SRV_CTX> srv;
  std::unique_ptr<Exchange> ex;
  TimePoint started;
};

struct CmpService::Impl {
  const ca::Hierarchy* ca;
  ra::Bank* bank;
  ca::Registry* registry;
  const Clock* clock;
  CmpServiceOptions options;

  mutable std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<Transaction>> transactions;
  std::atomic<std::int64_t> last_sweep{0};

  void log(const std::string& line) const {
    if (options.log) {
      options.log(line);
    } else {
      std::cerr << "dojangd cmp: " << line << "\n";
    }
  }

  // --- the OSSL_CMP_SRV_CTX callbacks ---------------------------------------
  static Exchange& exchange(OSSL_CMP_SRV_CTX* srv) {
    return *static_cast<Exchange*>(::OSSL_CMP_SRV_CTX_get0_custom_ctx(srv));
  }

  static OSSL_CMP_PKISI* on_cert_request(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG*, int,
                                         const OSSL_CRMF_MSG* crm, const X509_REQ* p10cr,
                                         X509** cert_out, STACK_OF(X509) * *chain_out,
                                         STACK_OF(X509) * *ca_pubs) {
    Exchange& ex = exchange(srv);
    if (!ex.rejection) {
      auto issued = ex.signer_record ? ex.svc->renew(ex, crm) : ex.svc->issue(ex, crm, p10cr);
      if (!issued.ok()) ex.rejection = unpack(issued.error());
    }
    if (ex.rejection) {
      ex.svc->log((ex.signer_record ? "kur signed by certificate " + ex.signer_record->serial_hex
                                    : "ir for reference " + ex.ref) +
                  " rejected: " + ex.rejection->text);
      ossl::clear_errors();
      return rejection_si(*ex.rejection);
    }
    Ptr<STACK_OF(X509)> chain = stack_of({&ex.svc->ca->issuing_cert()});
    Ptr<STACK_OF(X509)> pubs = stack_of({&ex.svc->ca->root_cert()});
    if (!chain || !pubs || ::X509_up_ref(ex.cert->native()) != 1) return nullptr;
    *cert_out = ex.cert->native();
    *chain_out = chain.release();
    *ca_pubs = pubs.release();
    return ::OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_accepted, 0, nullptr);
  }

  static int on_genm(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG*, const STACK_OF(OSSL_CMP_ITAV) * in,
                     STACK_OF(OSSL_CMP_ITAV) * *out) {
    Exchange& ex = exchange(srv);
    if (ex.rejection) {  // signed genm: raised before processing; MAC: not reached
      if (::ERR_peek_error() == 0) raise(kSignerRefused, ex.rejection->text);
      return 0;
    }
    const ca::Hierarchy& h = *ex.svc->ca;
    Ptr<STACK_OF(OSSL_CMP_ITAV)> itavs = own(sk_OSSL_CMP_ITAV_new_null());
    if (!itavs) return 0;
    bool want_ca_certs = sk_OSSL_CMP_ITAV_num(in) <= 0, want_km = want_ca_certs;
    for (int i = 0; i < sk_OSSL_CMP_ITAV_num(in); ++i) {
      int nid = ::OBJ_obj2nid(::OSSL_CMP_ITAV_get0_type(sk_OSSL_CMP_ITAV_value(in, i)));
      want_ca_certs |= nid == NID_id_it_caCerts;
      want_km |= nid == NID_id_it_caProtEncCert;
    }
    if (want_ca_certs) {
      // id-it-caCerts: SEQUENCE OF Certificate. OpenSSL 3.0 has no C type for
      // it and keeps the value as an ASN1_TYPE.
      Ptr<ASN1_SEQUENCE_ANY> seq = own(sk_ASN1_TYPE_new_null());
      if (!seq) return 0;
      for (const pki::Certificate* c : {&h.issuing_cert(), &h.root_cert()}) {
        auto der = c->der();
        if (!der.ok()) return 0;
        Ptr<ASN1_STRING> s = own(::ASN1_STRING_type_new(V_ASN1_SEQUENCE));
        Ptr<ASN1_TYPE> t = own(::ASN1_TYPE_new());
        if (!s || !t || ::ASN1_STRING_set(s.get(), der->data(), static_cast<int>(der->size())) != 1)
          return 0;
        ::ASN1_TYPE_set(t.get(), V_ASN1_SEQUENCE, s.release());
        if (sk_ASN1_TYPE_push(seq.get(), t.get()) <= 0) return 0;
        t.release();
      }
      auto seq_der = ossl::to_der(seq.get(), ::i2d_ASN1_SEQUENCE_ANY, "caCerts");
      if (!seq_der.ok()) return 0;
      Ptr<ASN1_STRING> s = own(::ASN1_STRING_type_new(V_ASN1_SEQUENCE));
      Ptr<ASN1_TYPE> value = own(::ASN1_TYPE_new());
      if (!s || !value ||
          ::ASN1_STRING_set(s.get(), seq_der->data(), static_cast<int>(seq_der->size())) != 1)
        return 0;
      ::ASN1_TYPE_set(value.get(), V_ASN1_SEQUENCE, s.release());
      Ptr<OSSL_CMP_ITAV> itav =
          own(::OSSL_CMP_ITAV_create(::OBJ_nid2obj(NID_id_it_caCerts), value.get()));
      if (!itav) return 0;
      value.release();
      if (sk_OSSL_CMP_ITAV_push(itavs.get(), itav.get()) <= 0) return 0;
      itav.release();
    }
    if (want_km) {
      // id-it-caProtEncCert: OpenSSL 3.0 keeps this value as an X509 in the
      // InfoTypeAndValue's union of pointers, but its only public setter takes
      // the union's ASN1_TYPE member: hand it the X509 through that member.
      X509* km = ::X509_dup(h.km_cert().native());
      if (km == nullptr) return 0;
      Ptr<OSSL_CMP_ITAV> itav = own(::OSSL_CMP_ITAV_create(::OBJ_nid2obj(NID_id_it_caProtEncCert),
                                                           reinterpret_cast<ASN1_TYPE*>(km)));
      if (!itav) {
        ::X509_free(km);
        return 0;
      }
      if (sk_OSSL_CMP_ITAV_push(itavs.get(), itav.get()) <= 0) return 0;
      itav.release();
    }
    *out = itavs.release();
    return 1;
  }

  static OSSL_CMP_PKISI* on_rr(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG*, const X509_NAME* issuer,
                               const ASN1_INTEGER* serial) {
    Exchange& ex = exchange(srv);
    if (!ex.rejection) {
      auto revoked = ex.svc->revoke(ex, issuer, serial);
      if (!revoked.ok()) ex.rejection = unpack(revoked.error());
    }
    if (ex.rejection) {
      ex.svc->log("rr" + (ex.signer_record ? " signed by certificate " + ex.signer_record->serial_hex
                                           : std::string()) +
                  " rejected: " + ex.rejection->text);
      ossl::clear_errors();
      return rejection_si(*ex.rejection);
    }
    return ::OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_accepted, 0, nullptr);
  }

  static void on_error(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG*, const OSSL_CMP_PKISI* si,
                       const ASN1_INTEGER*, const OSSL_CMP_PKIFREETEXT*) {
    Exchange& ex = exchange(srv);
    char buf[512] = {0};
    const char* text =
        si != nullptr ? ::OSSL_CMP_snprint_PKIStatusInfo(si, buf, sizeof buf) : nullptr;
    ex.svc->log("error message from the client (reference " + ex.ref +
                "): " + (text != nullptr ? text : "no status"));
  }

  static int on_certconf(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG*, int,
                         const ASN1_OCTET_STRING* cert_hash, const OSSL_CMP_PKISI* si) {
    Exchange& ex = exchange(srv);
    Impl& svc = *ex.svc;
    if (!ex.cert) {
      ERR_raise(ERR_LIB_CMP, CMP_R_ERROR_UNEXPECTED_CERTCONF);
      return 0;
    }
    bool accepted = true;
    if (si != nullptr) {
      auto status = internal::pkisi_status(si);
      accepted = status.ok() && (*status == OSSL_CMP_PKISTATUS_accepted ||
                                 *status == OSSL_CMP_PKISTATUS_grantedWithMods);
    }
    if (!accepted) {
      Status s = svc.registry->reject(ex.serial_hex);
      svc.log("certificate " + ex.serial_hex + " rejected by the holder" +
              (s.ok() ? std::string() : ": " + s.error().message));
      ex.confirmed = true;  // the transaction is over
      return 1;
    }
    Ptr<ASN1_OCTET_STRING> expected = own(::X509_digest_sig(ex.cert->native(), nullptr, nullptr));
    if (!expected || cert_hash == nullptr ||
        ::ASN1_OCTET_STRING_cmp(expected.get(), cert_hash) != 0) {
      ERR_raise(ERR_LIB_CMP, CMP_R_CERTHASH_UNMATCHED);
      return 0;
    }
    // Renewal and re-issue: the old certificate is superseded in the same
    // registry transaction as the confirmation of the new one.
    Status s = !ex.renews.empty()
                   ? svc.registry->confirm_superseding(ex.serial_hex, ex.renews, svc.clock->now())
               : ex.app && ex.app->replaces_serial
                   ? svc.registry->confirm_superseding(ex.serial_hex, *ex.app->replaces_serial,
                                                       svc.clock->now(),
                                                       ca::Registry::Replaced::reissue)
                   : svc.registry->confirm(ex.serial_hex);
    if (!s.ok()) {
      svc.log("cannot confirm certificate " + ex.serial_hex + ": " + s.error().message);
      raise(kSystem, s.error().code == Errc::policy ? s.error().message : std::string());
      return 0;
    }
    if (!ex.renews.empty())
      svc.log("certificate " + ex.serial_hex + " confirmed; it renews " + ex.renews +
              ", now revoked (superseded)");
    ex.confirmed = true;
    if (ex.app && ex.app->replaces_serial)
      svc.log("certificate " + ex.serial_hex + " confirmed; it re-issues " +
              *ex.app->replaces_serial + ", now revoked (superseded unless revoked before)");
    return 1;
  }

  // --- issuance -----------------------------------------------------------------
  Result<void> issue(Exchange& ex, const OSSL_CRMF_MSG* crm, const X509_REQ* p10cr);
  Result<void> renew(Exchange& ex, const OSSL_CRMF_MSG* crm);
  Result<void> revoke(Exchange& ex, const X509_NAME* issuer, const ASN1_INTEGER* serial);
  Result<std::optional<ca::VidValue>> vid_of(const OSSL_CRMF_MSG* crm, const std::string& customer_id,
                                             const std::string& label);
  // A new serial, then the certificate signed; rejections as issue() reports them.
  Result<pki::Certificate> sign(ca::IssueRequest& request, const std::string& label);
  Result<void> record_issued(Exchange& ex, pki::Certificate cert, const Bytes& serial,
                             const std::string& customer_id, const std::string& application_ref);
  std::optional<Rejection> check_signer(Exchange& ex, const OSSL_CMP_MSG* req, int type,
                                        const internal::HeaderFields& fields);
  std::optional<Rejection> signer_state(const ca::CertificateRecord& record, int type) const;
  Response process_signed(const OSSL_CMP_MSG* req, int type, const internal::HeaderFields& fields);
  Response finish(const OSSL_CMP_MSG* req, Ptr<OSSL_CMP_SRV_CTX> srv, std::unique_ptr<Exchange> ex);
  static Error reject_with(int bit, std::string text) {
    return Error{Errc::policy, std::to_string(bit) + "\x1f" + std::move(text)};
  }

  Response process(ByteView der);
  Response continue_transaction(const OSSL_CMP_MSG* req, const std::string& tid);
  Response fail_without_transaction(const OSSL_CMP_MSG* req, Reason reason);
  // With a secret: answers MAC-protected with it; without: signed with the
  // CA's CMP key, the signer (if known) pinned as the requester's certificate.
  Result<Ptr<OSSL_CMP_SRV_CTX>> new_srv(Exchange& ex, std::optional<ByteView> secret);
  void maybe_sweep();
  Result<std::int64_t> sweep_now();
};

Result<void> CmpService::Impl::issue(Exchange& ex, const OSSL_CRMF_MSG* crm,
                                     const X509_REQ* p10cr) {
  auto fail = [](int bit, std::string text) -> Error { return reject_with(bit, std::move(text)); };
  if (!ex.app) return fail(OSSL_CMP_PKIFAILUREINFO_badMessageCheck, kAuthFailedText);
  const ra::ApplicationForCa& app = *ex.app;

  // The public key: from the CRMF template or the PKCS#10.
  Bytes spki;
  if (crm != nullptr) {
    auto k = internal::template_public_key(::OSSL_CRMF_MSG_get0_tmpl(crm));
    if (!k.ok()) return fail(OSSL_CMP_PKIFAILUREINFO_badCertTemplate, k.error().message);
    spki = std::move(k).value();
  } else if (p10cr != nullptr) {
    EVP_PKEY* key = ::X509_REQ_get0_pubkey(const_cast<X509_REQ*>(p10cr));
    auto k = key != nullptr ? ossl::to_der(key, ::i2d_PUBKEY, "PKCS#10 public key")
                            : Result<Bytes>(Error{Errc::invalid_input, "no public key"});
    if (!k.ok())
      return fail(OSSL_CMP_PKIFAILUREINFO_badCertTemplate,
                  "PKCS#10 request without a usable public key");
    spki = std::move(k).value();
  } else {
    return fail(OSSL_CMP_PKIFAILUREINFO_badRequest, "no certificate request");
  }

  // The VID from the EncryptedVID in regInfo, checked against the holder's IDN.
  std::optional<ca::VidValue> vid;
  if (crm != nullptr) {
    DOJANG_ASSIGN(vid, vid_of(crm, app.customer_id, "reference " + ex.ref));
  }

  ca::IssueRequest request;
  request.public_key_der = std::move(spki);
  request.real_name = app.real_name;
  auto digits = holder_digits(app.customer_id);
  if (!digits.ok()) return fail(OSSL_CMP_PKIFAILUREINFO_systemFailure, kSystemText);
  request.holder_digits = *digits;
  request.bank_code = app.bank_code;
  request.purpose = to_pki(app.purpose);
  request.vid = std::move(vid);
  request.not_after = app.not_after;  // re-issue: the replaced certificate's notAfter
  DOJANG_ASSIGN(pki::Certificate cert, sign(request, "reference " + ex.ref));

  // Use the application up (exactly one request wins), then record the
  // certificate durably; only then does the ip leave.
  if (Status s = bank->mark_used(ex.ref); !s.ok()) {
    if (s.error().code == Errc::policy)
      return fail(OSSL_CMP_PKIFAILUREINFO_notAuthorized, s.error().message);
    log("cannot use up reference " + ex.ref + ": " + s.error().message);
    return fail(OSSL_CMP_PKIFAILUREINFO_systemFailure, kSystemText);
  }
  DOJANG_TRY(record_issued(ex, std::move(cert), request.serial, app.customer_id, ex.ref));
  log("issued certificate " + ex.serial_hex + " for reference " + ex.ref + " (pending certConf)");
  return {};
}

Result<std::optional<ca::VidValue>> CmpService::Impl::vid_of(const OSSL_CRMF_MSG* crm,
                                                             const std::string& customer_id,
                                                             const std::string& label) {
  auto fail = [](int bit, std::string text) -> Error { return reject_with(bit, std::move(text)); };
  auto reg = internal::encrypted_vid_of(crm);
  if (!reg.ok()) return fail(OSSL_CMP_PKIFAILUREINFO_badDataFormat, "CertReqMsg does not decode");
  if (!reg->has_value()) return std::optional<ca::VidValue>{};
  auto opened = pki::open_encrypted_vid(**reg, ca->km_key(), ca->km_cert());
  if (!opened.ok()) {
    ossl::clear_errors();
    return fail(OSSL_CMP_PKIFAILUREINFO_badRequest, kVidUnreadableText);
  }
  auto idn = bank->customer_idn(customer_id);
  if (!idn.ok()) {
    log("cannot read the IDN of the holder of " + label + ": " + idn.error().message);
    return fail(OSSL_CMP_PKIFAILUREINFO_systemFailure, kSystemText);
  }
  auto match = pki::check_vid_against_idn(*opened, *idn);
  if (!match.ok()) return fail(OSSL_CMP_PKIFAILUREINFO_badRequest, kVidUnreadableText);
  if (!*match) return fail(OSSL_CMP_PKIFAILUREINFO_badRequest, kVidMismatchText);
  return std::optional<ca::VidValue>(ca::VidValue{opened->hash_alg, opened->vid});
}

Result<pki::Certificate> CmpService::Impl::sign(ca::IssueRequest& request,
                                               const std::string& label) {
  auto serial = ca::new_serial();
  if (!serial.ok()) return reject_with(OSSL_CMP_PKIFAILUREINFO_systemFailure, kSystemText);
  request.serial = *serial;
  auto cert = ca::issue_certificate(*ca, request, *clock);
  if (!cert.ok()) {
    ossl::clear_errors();
    if (cert.error().code == Errc::crypto || cert.error().code == Errc::io) {
      log("signing failed for " + label + ": " + cert.error().message);
      return reject_with(OSSL_CMP_PKIFAILUREINFO_systemFailure, kSystemText);
    }
    return reject_with(OSSL_CMP_PKIFAILUREINFO_badCertTemplate, cert.error().message);
  }
  return cert;
}

Result<void> CmpService::Impl::record_issued(Exchange& ex, pki::Certificate cert,
                                             const Bytes& serial, const std::string& customer_id,
                                             const std::string& application_ref) {
  auto validity = cert.validity();
  auto der = cert.der();
  if (!validity.ok() || !der.ok())
    return reject_with(OSSL_CMP_PKIFAILUREINFO_systemFailure, kSystemText);
  ca::CertificateRecord record;
  record.serial_hex = ca::serial_to_hex(serial);
  record.customer_id = customer_id;
  record.application_ref = application_ref;
  record.subject = cert.subject();
  record.not_before = validity->not_before;
  record.not_after = validity->not_after;
  record.der = std::move(der).value();
  record.transaction_id = ex.transaction_id;
  if (Status s = registry->record_pending(record); !s.ok()) {
    log("cannot record certificate " + record.serial_hex + " (" + application_ref +
        "): " + s.error().message);
    return reject_with(OSSL_CMP_PKIFAILUREINFO_systemFailure, kSystemText);
  }
  ex.serial_hex = record.serial_hex;
  ex.cert = std::move(cert);
  return {};
}

// --- signed requests: kur, rr, genm --------------------------------------------

std::optional<Rejection> CmpService::Impl::check_signer(Exchange& ex, const OSSL_CMP_MSG* req,
                                                        int type,
                                                        const internal::HeaderFields& fields) {
  if (fields.password_based_mac)
    return Rejection{OSSL_CMP_PKIFAILUREINFO_badMessageCheck,
                     "kur and rr must be signed with the key of the certificate concerned"};
  {
    std::lock_guard<std::mutex> lock(mu);
    if (transactions.count(fields.transaction_id) != 0)
      return Rejection{OSSL_CMP_PKIFAILUREINFO_transactionIdInUse,
                       "transactionID already in use"};
  }
  auto certs = internal::extra_certs(req);
  ossl::clear_errors();
  if (!certs.ok() || certs->empty())
    return Rejection{OSSL_CMP_PKIFAILUREINFO_signerNotTrusted,
                     "no signer certificate in extraCerts"};
  const pki::Certificate& cert = certs->front();
  const std::string serial = serial_hex_of(::X509_get0_serialNumber(cert.native()));
  constexpr const char* kNotOurs = "the signer certificate was not issued by this CA";
  auto record = registry->find(serial);
  if (!record.ok()) {
    if (record.error().code == Errc::not_found)
      return Rejection{OSSL_CMP_PKIFAILUREINFO_signerNotTrusted, kNotOurs};
    log("cannot look up certificate " + serial + ": " + record.error().message);
    return Rejection{OSSL_CMP_PKIFAILUREINFO_systemFailure, kSystemText};
  }
  auto der = cert.der();
  if (!der.ok() || *der != record->der)
    return Rejection{OSSL_CMP_PKIFAILUREINFO_signerNotTrusted, kNotOurs};

  Ptr<OSSL_CMP_CTX> check = own(::OSSL_CMP_CTX_new(ossl::libctx(), nullptr));
  bool ok = check && ::OSSL_CMP_CTX_set_log_cb(check.get(), quiet_log) == 1 &&
            ::OSSL_CMP_CTX_set1_srvCert(check.get(), cert.native()) == 1 &&
            ::OSSL_CMP_validate_msg(check.get(), req) == 1;
  ossl::clear_errors();
  if (!ok)
    return Rejection{OSSL_CMP_PKIFAILUREINFO_badMessageCheck,
                     "the signature does not verify with certificate " + serial};
  ex.signer = cert;
  ex.signer_record = std::move(record).value();
  // A genm only fetches the CA's public certificates: any holder may ask, and
  // the kur that follows gets the precise refusal.
  if (type == internal::kBodyGenm) return std::nullopt;
  return signer_state(*ex.signer_record, type);
}

std::optional<Rejection> CmpService::Impl::signer_state(const ca::CertificateRecord& r,
                                                        int type) const {
  const std::string& s = r.serial_hex;
  if (r.status == ca::CertStatus::pending)
    return Rejection{OSSL_CMP_PKIFAILUREINFO_notAuthorized,
                     "certificate " + s + " is not confirmed"};
  if (r.status != ca::CertStatus::confirmed)
    return Rejection{OSSL_CMP_PKIFAILUREINFO_certRevoked, "certificate " + s + " is revoked (" +
                                                              ca::cert_status_name(r.status) + ")"};
  if (r.revoked_at) {
    if (r.revocation_reason == ca::RevocationReason::certificate_hold)
      return Rejection{OSSL_CMP_PKIFAILUREINFO_certRevoked,
                       "certificate " + s + " is suspended (certificateHold)"};
    return Rejection{OSSL_CMP_PKIFAILUREINFO_certRevoked,
                     "certificate " + s + " is revoked (" +
                         (r.revocation_reason ? ca::revocation_reason_name(*r.revocation_reason)
                                              : "no reason") +
                         ")"};
  }
  const TimePoint now = clock->now();
  if (now >= r.not_after)
    return Rejection{OSSL_CMP_PKIFAILUREINFO_notAuthorized,
                     "certificate " + s + " expired on " + date_text(r.not_after) +
                         ": apply for a new certificate"};
  const TimePoint opens = r.not_after - options.renewal_window;
  if (type == internal::kBodyKur && now < opens)
    return Rejection{OSSL_CMP_PKIFAILUREINFO_notAuthorized,
                     "certificate " + s + " cannot be renewed yet: the renewal window opens on " +
                         date_text(opens) + " (" + std::to_string(options.renewal_window.count()) +
                         " days before it expires on " + date_text(r.not_after) + ")"};
  return std::nullopt;
}

Result<void> CmpService::Impl::renew(Exchange& ex, const OSSL_CRMF_MSG* crm) {
  auto fail = [](int bit, std::string text) -> Error { return reject_with(bit, std::move(text)); };
  const ca::CertificateRecord& old = *ex.signer_record;
  const pki::Certificate& old_cert = *ex.signer;
  if (crm == nullptr) return fail(OSSL_CMP_PKIFAILUREINFO_badRequest, "no certificate request");

  // RFC 4211 section 6.5: oldCertID names the certificate to be updated.
  if (const OSSL_CRMF_CERTID* id = ::OSSL_CRMF_MSG_get0_regCtrl_oldCertID(crm)) {
    const X509_NAME* issuer = ::OSSL_CRMF_CERTID_get0_issuer(id);
    if (serial_hex_of(::OSSL_CRMF_CERTID_get0_serialNumber(id)) != old.serial_hex ||
        issuer == nullptr ||
        ::X509_NAME_cmp(issuer, ::X509_get_issuer_name(old_cert.native())) != 0)
      return fail(OSSL_CMP_PKIFAILUREINFO_badCertId,
                  "oldCertID does not name the certificate that signs the kur");
  }
  auto spki = internal::template_public_key(::OSSL_CRMF_MSG_get0_tmpl(crm));
  if (!spki.ok()) return fail(OSSL_CMP_PKIFAILUREINFO_badCertTemplate, spki.error().message);
  auto old_spki = old_cert.public_key_der();
  if (!old_spki.ok()) return fail(OSSL_CMP_PKIFAILUREINFO_systemFailure, kSystemText);
  if (*spki == *old_spki)
    return fail(OSSL_CMP_PKIFAILUREINFO_badCertTemplate, "a renewal needs a new key pair");

  // Subject, realName, bank and purpose: from the old certificate.
  auto info = old_cert.info();
  if (!info.ok() || !info->real_name)
    return fail(OSSL_CMP_PKIFAILUREINFO_badRequest,
                "certificate " + old.serial_hex + " has no identifyData to renew");
  ca::IssueRequest request;
  request.public_key_der = std::move(spki).value();
  request.real_name = *info->real_name;
  const X509_NAME* subject = ::X509_get_subject_name(old_cert.native());
  const std::string cn = name_entry(subject, NID_commonName);
  const auto digits_at = cn.rfind("()");
  request.holder_digits = digits_at == std::string::npos ? std::string() : cn.substr(digits_at + 2);
  request.bank_code = name_entry(subject, NID_organizationalUnitName, "personal4IB");
  const ca::PolicyOids& oids = ca->options().policies;
  std::optional<pki::Purpose> purpose;
  for (const auto& policy : info->policies) {
    if (policy.oid == oids.general) purpose = pki::Purpose::general;
    if (policy.oid == oids.bank_insurance) purpose = pki::Purpose::bank_insurance;
  }
  if (!purpose)
    return fail(OSSL_CMP_PKIFAILUREINFO_badRequest,
                "certificate " + old.serial_hex + " has no policy this CA issues");
  request.purpose = *purpose;

  DOJANG_ASSIGN(request.vid, vid_of(crm, old.customer_id, "certificate " + old.serial_hex));
  if (!request.vid && info->vid)
    return fail(OSSL_CMP_PKIFAILUREINFO_badRequest,
                "certificate " + old.serial_hex +
                    " carries a VID: the kur must carry an EncryptedVID (regInfo " +
                    std::string(pki::kOidEncryptedVid) + ")");
  request.not_after = old.not_after + std::chrono::days(ca->options().user_validity_days);
  DOJANG_ASSIGN(pki::Certificate cert, sign(request, "renewal of certificate " + old.serial_hex));
  DOJANG_TRY(record_issued(ex, std::move(cert), request.serial, old.customer_id,
                           "kur:" + old.serial_hex));
  ex.renews = old.serial_hex;
  log("issued certificate " + ex.serial_hex + " renewing " + old.serial_hex +
      " (pending certConf)");
  return {};
}

Result<void> CmpService::Impl::revoke(Exchange& ex, const X509_NAME* issuer,
                                      const ASN1_INTEGER* serial) {
  auto fail = [](int bit, std::string text) -> Error { return reject_with(bit, std::move(text)); };
  if (!ex.signer_record) return fail(OSSL_CMP_PKIFAILUREINFO_badMessageCheck, kAuthFailedText);
  const ca::CertificateRecord& r = *ex.signer_record;
  const std::string named = serial_hex_of(serial);
  if (named != r.serial_hex || issuer == nullptr ||
      ::X509_NAME_cmp(issuer, ::X509_get_issuer_name(ex.signer->native())) != 0)
    return fail(OSSL_CMP_PKIFAILUREINFO_notAuthorized,
                "a certificate can only be revoked with its own key: the rr names certificate " +
                    (named.empty() ? std::string("(none)") : named) + " but is signed by " +
                    r.serial_hex);
  using ca::RevocationReason;
  const auto reason = static_cast<RevocationReason>(ex.rr_reason.value_or(0));
  if (reason != RevocationReason::unspecified && reason != RevocationReason::key_compromise &&
      reason != RevocationReason::affiliation_changed &&
      reason != RevocationReason::superseded &&
      reason != RevocationReason::cessation_of_operation)
    return fail(OSSL_CMP_PKIFAILUREINFO_badRequest,
                std::string("reason ") + ca::revocation_reason_name(reason) +
                    " cannot be asked for with the key (unspecified, keyCompromise, "
                    "affiliationChanged, superseded, cessationOfOperation)");
  if (Status s = registry->revoke(r.serial_hex, reason, clock->now()); !s.ok()) {
    if (s.error().code == Errc::policy)
      return fail(OSSL_CMP_PKIFAILUREINFO_certRevoked, s.error().message);
    log("cannot revoke certificate " + r.serial_hex + ": " + s.error().message);
    return fail(OSSL_CMP_PKIFAILUREINFO_systemFailure, kSystemText);
  }
  log("certificate " + r.serial_hex + " revoked by its holder (" +
      ca::revocation_reason_name(reason) + ")");
  return {};
}

Response CmpService::Impl::process_signed(const OSSL_CMP_MSG* req, int type,
                                          const internal::HeaderFields& fields) {
  auto ex = std::make_unique<Exchange>();
  ex->svc = this;
  ex->transaction_id = fields.transaction_id;
  std::optional<Rejection> refusal = check_signer(*ex, req, type, fields);
  if (!refusal && type == internal::kBodyRr) {
    auto reason = internal::revocation_reason(req);
    ossl::clear_errors();
    if (!reason.ok()) {
      refusal = Rejection{OSSL_CMP_PKIFAILUREINFO_badDataFormat, reason.error().message};
    } else {
      ex->rr_reason = *reason;
    }
  }
  auto srv = new_srv(*ex, std::nullopt);
  if (!srv.ok()) {
    log("cannot set up the CMP server context: " + srv.error().message);
    return Response::text(500, "cannot set up CMP\n");
  }
  ::ERR_clear_error();
  if (refusal) {
    ex->rejection = refusal;
    // Let OpenSSL get as far as our callback, which answers with the refusal.
    if (::OSSL_CMP_SRV_CTX_set_accept_unprotected(srv->get(), 1) != 1)
      return Response::text(500, "cannot set up CMP\n");
    if (type == internal::kBodyGenm) {
      log("signed genm refused: " + refusal->text);
      raise(kSignerRefused, refusal->text);
    }
  }
  return finish(req, std::move(srv).value(), std::move(ex));
}

Response CmpService::Impl::finish(const OSSL_CMP_MSG* req, Ptr<OSSL_CMP_SRV_CTX> srv,
                                  std::unique_ptr<Exchange> ex) {
  Ptr<OSSL_CMP_MSG> rsp = own(::OSSL_CMP_SRV_process_request(srv.get(), req));
  ossl::clear_errors();
  if (!rsp) return Response::text(500, "cannot produce a CMP response\n");
  Response out = cmp_response(rsp.get());
  if (ex->cert) {  // keep the transaction open for its certConf
    auto t = std::make_shared<Transaction>();
    t->srv = std::move(srv);
    t->ex = std::move(ex);
    t->started = clock->now();
    std::lock_guard<std::mutex> lock(mu);
    transactions[t->ex->transaction_id] = std::move(t);
  }
  return out;
}

Result<Ptr<OSSL_CMP_SRV_CTX>> CmpService::Impl::new_srv(Exchange& ex,
                                                        std::optional<ByteView> secret) {
  Ptr<OSSL_CMP_SRV_CTX> srv = own(::OSSL_CMP_SRV_CTX_new(ossl::libctx(), nullptr));
  DOJANG_TRY(ossl::check_ptr(srv.get(), "OSSL_CMP_SRV_CTX_new"));
  DOJANG_TRY(ossl::check(
      ::OSSL_CMP_SRV_CTX_init(srv.get(), &ex, &Impl::on_cert_request, &Impl::on_rr,
                              &Impl::on_genm, &Impl::on_error, &Impl::on_certconf, nullptr),
      "OSSL_CMP_SRV_CTX_init"));
  OSSL_CMP_CTX* ctx = ::OSSL_CMP_SRV_CTX_get0_cmp_ctx(srv.get());
  DOJANG_TRY(ossl::check(::OSSL_CMP_CTX_set_log_cb(ctx, quiet_log), "CMP log callback"));
  if (secret) {
    DOJANG_TRY(ossl::check(
        ::OSSL_CMP_CTX_set1_secretValue(ctx, secret->data(), static_cast<int>(secret->size())),
        "CMP secret"));
  } else {
    DOJANG_TRY(ossl::check(::OSSL_CMP_CTX_set1_cert(ctx, ca->cmp_cert().native()), "CMP cert"));
    DOJANG_TRY(ossl::check(::OSSL_CMP_CTX_set1_pkey(ctx, ca->cmp_key().native()), "CMP key"));
    Ptr<STACK_OF(X509)> chain = stack_of({&ca->issuing_cert(), &ca->root_cert()});
    DOJANG_TRY(ossl::check_ptr(chain.get(), "CMP chain"));
    DOJANG_TRY(ossl::check(::OSSL_CMP_CTX_set1_untrusted(ctx, chain.get()), "CMP chain"));
    if (ex.signer)
      DOJANG_TRY(
          ossl::check(::OSSL_CMP_CTX_set1_srvCert(ctx, ex.signer->native()), "CMP signer"));
  }
  if (!ex.ref.empty())
    DOJANG_TRY(ossl::check(::OSSL_CMP_CTX_set1_referenceValue(
                               ctx, reinterpret_cast<const unsigned char*>(ex.ref.data()),
                               static_cast<int>(ex.ref.size())),
                           "CMP reference"));
  DOJANG_TRY(
      ossl::check(::OSSL_CMP_SRV_CTX_set_send_unprotected_errors(srv.get(), 0), "CMP option"));
  DOJANG_TRY(
      ossl::check(::OSSL_CMP_SRV_CTX_set_grant_implicit_confirm(srv.get(), 0), "CMP option"));
  DOJANG_TRY(ossl::check(::OSSL_CMP_SRV_CTX_set_accept_raverified(srv.get(), 0), "CMP option"));
  return srv;
}

Response CmpService::Impl::fail_without_transaction(const OSSL_CMP_MSG* req, Reason reason) {
  Exchange ex;
  ex.svc = this;
  SecretBytes throwaway(32);
  if (!pki::random_bytes(std::span<std::uint8_t>(throwaway.data(), throwaway.size())).ok())
    return Response::text(500, "no randomness\n");
  auto srv = new_srv(ex, throwaway.view());
  if (!srv.ok()) return Response::text(500, "cannot set up CMP\n");
  ::ERR_clear_error();
  raise(reason);
  Ptr<OSSL_CMP_MSG> rsp = own(::OSSL_CMP_SRV_process_request(srv->get(), req));
  ossl::clear_errors();
  if (!rsp) return Response::text(500, "cannot produce a CMP response\n");
  return cmp_response(rsp.get());
}

Response CmpService::Impl::continue_transaction(const OSSL_CMP_MSG* req, const std::string& tid) {
  std::shared_ptr<Transaction> t;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = transactions.find(tid);
    if (it != transactions.end()) t = it->second;
  }
  if (!t) return fail_without_transaction(req, kNoTransaction);
  std::lock_guard<std::mutex> lock(t->mu);
  if (!t->srv) return fail_without_transaction(req, kNoTransaction);  // finished meanwhile
  ::ERR_clear_error();
  Ptr<OSSL_CMP_MSG> rsp = own(::OSSL_CMP_SRV_process_request(t->srv.get(), req));
  ossl::clear_errors();
  int type = rsp ? ::OSSL_CMP_MSG_get_bodytype(rsp.get()) : -1;
  // OpenSSL ends the transaction with a pkiConf or an error message.
  if (t->ex->confirmed || type == internal::kBodyPkiConf || type == internal::kBodyError) {
    t->srv.reset();
    std::lock_guard<std::mutex> map_lock(mu);
    transactions.erase(tid);
  }
  if (!rsp) return Response::text(500, "cannot produce a CMP response\n");
  return cmp_response(rsp.get());
}

Response CmpService::Impl::process(ByteView der) {
  const unsigned char* p = der.data();
  Ptr<OSSL_CMP_MSG> req = own(::d2i_OSSL_CMP_MSG(nullptr, &p, static_cast<long>(der.size())));
  if (!req || p != der.data() + der.size()) {
    ossl::clear_errors();
    return Response::text(400, "not a DER PKIMessage\n");
  }
  OSSL_CMP_PKIHEADER* hdr = ::OSSL_CMP_MSG_get0_header(req.get());
  auto fields = hdr != nullptr
                    ? internal::header_fields(hdr)
                    : Result<internal::HeaderFields>(Error{Errc::invalid_input, "no header"});
  if (!fields.ok() || fields->transaction_id.empty()) {
    ossl::clear_errors();
    return Response::text(400, "PKIMessage without a usable header or transactionID\n");
  }
  maybe_sweep();

  const int type = ::OSSL_CMP_MSG_get_bodytype(req.get());
  if (type == internal::kBodyKur || type == internal::kBodyRr ||
      (type == internal::kBodyGenm && !fields->password_based_mac))
    return process_signed(req.get(), type, *fields);
  const bool cert_request =
      type == internal::kBodyIr || type == internal::kBodyCr || type == internal::kBodyP10cr;
  if (!cert_request && type != internal::kBodyGenm)
    return continue_transaction(req.get(), fields->transaction_id);

  // A new transaction: find the application and check the MAC ourselves first,
  // so that a wrong code is counted and answered like an unknown reference.
  auto ex = std::make_unique<Exchange>();
  ex->svc = this;
  ex->ref = fields->sender_kid;
  ex->transaction_id = fields->transaction_id;
  std::optional<Reason> failure;
  std::string failure_text;
  bool ref_printable = !ex->ref.empty() && ex->ref.size() <= 16 &&
                       ex->ref.find_first_not_of("0123456789") == std::string::npos;
  if (!fields->password_based_mac || !ref_printable) {
    failure = kAuthFailed;
  } else {
    auto app = bank->application_for_ca(ex->ref);
    if (app.ok()) {
      ex->app = std::move(app).value();
    } else if (app.error().code == Errc::not_found) {
      failure = kAuthFailed;
    } else if (app.error().code == Errc::policy) {
      failure = kNotAuthorized;
      failure_text = app.error().message;
    } else {
      log("application lookup failed for reference " + ex->ref + ": " + app.error().message);
      failure = kSystem;
    }
  }
  if (ex->app) {
    Ptr<OSSL_CMP_CTX> check = own(::OSSL_CMP_CTX_new(ossl::libctx(), nullptr));
    const SecretString& code = ex->app->auth_code;
    bool ok = check && ::OSSL_CMP_CTX_set_log_cb(check.get(), quiet_log) == 1 &&
              ::OSSL_CMP_CTX_set1_secretValue(check.get(), code.bytes().data(),
                                              static_cast<int>(code.size())) == 1 &&
              ::OSSL_CMP_validate_msg(check.get(), req.get()) == 1;
    ossl::clear_errors();
    if (!ok) {
      auto n = bank->record_mac_failure(ex->ref);
      log("wrong MAC for reference " + ex->ref +
          (n.ok() ? " (" + std::to_string(*n) + " failures)" : ": " + n.error().message));
      ex->app.reset();
      failure = kAuthFailed;
    }
  }

  // The secret protecting the answer: the code when the request proved it,
  // else a throw-away one.
  SecretBytes secret;
  if (ex->app) {
    secret = SecretBytes(ex->app->auth_code.bytes());
  } else {
    secret = SecretBytes(32);
    if (!pki::random_bytes(std::span<std::uint8_t>(secret.data(), secret.size())).ok())
      return Response::text(500, "no randomness\n");
  }
  auto srv = new_srv(*ex, ByteView(secret.data(), secret.size()));
  if (!srv.ok()) {
    log("cannot set up the CMP server context: " + srv.error().message);
    return Response::text(500, "cannot set up CMP\n");
  }

  ::ERR_clear_error();
  if (failure) {
    if (cert_request) {
      // Let OpenSSL get as far as our callback, which answers with the rejection.
      int bit = *failure == kAuthFailed      ? OSSL_CMP_PKIFAILUREINFO_badMessageCheck
                : *failure == kNotAuthorized ? OSSL_CMP_PKIFAILUREINFO_notAuthorized
                                             : OSSL_CMP_PKIFAILUREINFO_systemFailure;
      std::string text = *failure == kAuthFailed      ? kAuthFailedText
                         : *failure == kNotAuthorized ? failure_text
                                                      : kSystemText;
      ex->rejection = Rejection{bit, text};
      if (::OSSL_CMP_SRV_CTX_set_accept_unprotected(srv->get(), 1) != 1)
        return Response::text(500, "cannot set up CMP\n");
    } else {
      log("genm for reference " + ex->ref + " refused");
      raise(*failure, failure_text);
    }
  }
  return finish(req.get(), std::move(srv).value(), std::move(ex));
}

void CmpService::Impl::maybe_sweep() {
  std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock->now().time_since_epoch()).count();
  std::int64_t last = last_sweep.load();
  if (now - last < 60 || !last_sweep.compare_exchange_strong(last, now)) return;
  auto n = sweep_now();
  if (!n.ok()) {
    log("cannot revoke unconfirmed certificates: " + n.error().message);
  } else if (*n > 0) {
    log(std::to_string(*n) + " unconfirmed certificate(s) revoked");
  }
}

Result<std::int64_t> CmpService::Impl::sweep_now() {
  std::vector<std::shared_ptr<Transaction>> old;  // freed after the lock is released
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = transactions.begin(); it != transactions.end();) {
      if (clock->now() - it->second->started > options.confirm_timeout) {
        old.push_back(it->second);
        it = transactions.erase(it);
      } else {
        ++it;
      }
    }
  }
  return registry->expire_unconfirmed(options.confirm_timeout);
}

CmpService::CmpService(const ca::Hierarchy& ca, ra::Bank& bank, ca::Registry& registry,
                       const Clock& clock, CmpServiceOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->ca = &ca;
  impl_->bank = &bank;
  impl_->registry = &registry;
  impl_->clock = &clock;
  impl_->options = std::move(options);
  impl_->last_sweep =
      std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  error_library();
}

CmpService::~CmpService() = default;

Response CmpService::handle_der(ByteView der) {
  return impl_->process(der);
}

Response CmpService::handle(const Request& request) {
  auto type = request.header("Content-Type");
  std::string_view media = type ? type->substr(0, type->find(';')) : std::string_view();
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  if (media.size() != kCmpContentType.size() ||
      ::strncasecmp(media.data(), kCmpContentType.data(), media.size()) != 0)
    return Response::text(415, "Content-Type must be application/pkixcmp\n");
  if (request.body.size() > kMaxCmpBodyBytes) return Response::text(413, "CMP message too large\n");
  return impl_->process(request.body_bytes());
}

std::size_t CmpService::open_transactions() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->transactions.size();
}

Result<std::int64_t> CmpService::sweep() {
  return impl_->sweep_now();
}

void register_cmp(Router& router, CmpService& service) {
  RouteOptions options;
  options.max_body_bytes = kMaxCmpBodyBytes;
  options.blocking = true;  // group commits, signing, EncryptedVID decryption
  router.handle(
      "POST", "/pkix/", [&service](const Request& r) { return service.handle(r); }, options);
}

}  // namespace dojang::service
