// Client-side CMP glue on OpenSSL 3.0's OSSL_CMP_CTX (RFC 4210 over RFC 6712
// HTTP): context setup for password-based MAC, a CertReqMsg that carries a
// regInfo attribute, checking the newly enrolled certificate, and turning a
// failed exchange into an Error.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/key.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::pki::internal {

struct CmpHttpTarget {
  std::string host;  // an IPv6 address keeps its brackets: "[::1]"
  int port = 80;
  std::string path;  // starts with '/'
};

// Parses "http://host[:port][/path]" (OSSL_HTTP_parse_url). usage for
// anything else: another scheme (https is not supported yet), user info,
// query or fragment.
Result<CmpHttpTarget> parse_cmp_url(std::string_view url);

struct CmpClientOptions {
  std::string_view url;
  const std::vector<Certificate>* trusted = nullptr;  // may be empty
  int timeout_seconds = 30;                           // per message; 0 = none
  std::string_view reference;                         // senderKID
  const SecretString* secret = nullptr;               // the PBM shared secret
  // Instead of reference + secret: requests signed with key, cert first in
  // extraCerts (kur, rr, and genm by a certificate holder).
  const Certificate* cert = nullptr;
  const PrivateKey* key = nullptr;
};

// An OSSL_CMP_CTX on libctx() whose requests are protected by password-based
// MAC (senderKID = reference), or signed with a certificate's key, and sent over HTTP by our own transfer
// callback, which records every message as DER.
//  - Signed responses must chain to the trusted certificates.
//  - Negative responses (error messages, rejections) are accepted even when
//    their protection does not verify: with a wrong secret that is the only
//    way to learn the server's reason, and a negative answer grants nothing.
//  - The transport connects once: a refused connection fails at once
//    (OpenSSL 3.0's own transport, OSSL_CMP_MSG_http_perform, retries a
//    refused connection until the message timeout). Connecting, sending and
//    receiving each end after timeout_seconds.
// The object is the transfer callback's argument, hence not movable.
class CmpClient final {
 public:
  // usage for a bad URL, empty reference or secret (without cert and key), negative timeout.
  static Result<std::unique_ptr<CmpClient>> create(const CmpClientOptions& options);
  CmpClient(const CmpClient&) = delete;
  CmpClient& operator=(const CmpClient&) = delete;

  OSSL_CMP_CTX* ctx() const noexcept { return ctx_.get(); }
  // DER of every request sent and every response received, in order.
  const std::vector<Bytes>& requests() const noexcept { return requests_; }
  const std::vector<Bytes>& responses() const noexcept { return responses_; }

 private:
  CmpClient() = default;
  static OSSL_CMP_MSG* transfer(OSSL_CMP_CTX* ctx, const OSSL_CMP_MSG* req);
  OSSL_CMP_MSG* send(const OSSL_CMP_MSG* req);

  CmpHttpTarget target_;
  int timeout_seconds_ = 0;
  Ptr<OSSL_CMP_CTX> ctx_;
  std::vector<Bytes> requests_;
  std::vector<Bytes> responses_;
};

// The CertReqMsg ctx would send for an ir / cr (OSSL_CMP_CTX_setup_CRM, with
// the new key set by OSSL_CMP_CTX_set0_newPkey), with AttributeTypeAndValue
// {oid, value} appended to its regInfo, then its proof of possession signed
// with that key as ctx would.
// Pass it to OSSL_CMP_exec_certreq, which protects the message itself.
// for_kur: the CertReqMsg of a kur (subject from the old certificate, oldCertID control).
Result<Ptr<OSSL_CRMF_MSG>> cert_req_msg_with_reginfo(OSSL_CMP_CTX* ctx, std::string_view oid,
                                                     ByteView value_der, bool for_kur = false);

// Checks a newly enrolled certificate before the client confirms it: it must
// chain to the trusted certificates, with the response's extraCerts and
// caPubs as intermediates. Installed with install_new_cert_check; the client
// then sends certConf with incorrectData instead of accepting a certificate
// that fails.
// install() hands ctx a pointer to this object: it must stay in place (and
// alive) until the exchange is over.
class NewCertCheck final {
 public:
  static Result<NewCertCheck> create(const std::vector<Certificate>& trusted);
  NewCertCheck(NewCertCheck&&) = default;
  NewCertCheck& operator=(NewCertCheck&&) = default;
  Status install(OSSL_CMP_CTX* ctx);

  bool rejected() const noexcept { return rejected_; }
  const std::string& reason() const noexcept { return reason_; }
  // The validated chain above the new certificate, up to the trust anchor.
  const std::vector<Certificate>& chain() const noexcept { return chain_; }

 private:
  NewCertCheck() = default;
  static int callback(OSSL_CMP_CTX* ctx, X509* cert, int fail_info, const char** text);
  int check(OSSL_CMP_CTX* ctx, X509* cert, int fail_info, const char** text);

  Ptr<X509_STORE> store_;
  bool rejected_ = false;
  std::string reason_;
  std::vector<Certificate> chain_;
};

// The PKIFailureInfo bit names (RFC 4210), comma separated: "badMessageCheck, badPOP".
std::string failinfo_names(int bits);
// "accepted", "rejection", ... for a PKIStatus; "" for OpenSSL's internal states.
std::string_view pkistatus_name(int status);

// Turns the state of ctx after a failed OSSL_CMP_exec_* into an Error (and
// drains the error queue): what the server refused → policy with its status,
// failure info and text; no answer (connection, timeout, HTTP) → io; an
// answer that does not verify or does not fit the request → invalid_input;
// anything else → crypto. `what` names the step ("certificate request").
Error exchange_error(const OSSL_CMP_CTX* ctx, std::string_view what);

// Every certificate carried by the InfoTypeAndValues of a genp PKIMessage:
// values that are a Certificate (id-it-caProtEncCert, ...) or a SEQUENCE OF
// Certificate (id-it-caCerts, ...), in order, without duplicates; other
// values are skipped. The certificates are not verified. invalid_input when
// the DER is not a genp.
Result<std::vector<Certificate>> certificates_in_genp(ByteView genp_der);

}  // namespace dojang::pki::internal
