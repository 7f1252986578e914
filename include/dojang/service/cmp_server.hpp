// The CA's CMP endpoint (RFC 4210 over HTTP, RFC 6712): POST /pkix/ with a
// DER PKIMessage as application/pkixcmp, built on OpenSSL's OSSL_CMP_SRV_CTX.
//
// Authentication: every ir / cr / p10cr / genm is protected by password-based
// MAC with senderKID = the RA's reference number and secret = its
// authorization code (ra::Bank::application_for_ca). A genm does not use the
// application up; an issued certificate does.
//
// Messages:
//   ir, cr, p10cr  one certificate per request. The CA builds subject and
//                  identifyData from the RA record (real name, bank code,
//                  purpose -> policy); the client's subject (our client sends
//                  the placeholder CN=<reference>) is ignored; the public key
//                  comes from the template (or the PKCS#10), its proof of
//                  possession is verified by OpenSSL. A regInfo
//                  1.2.410.200004.10.1.1.2 (EncryptedVID) is opened with the
//                  CA's km key and checked against the customer's IDN; the VID
//                  goes into the certificate. Without it the certificate has
//                  no VID (the openssl cmp teller path).
//                  Before the ip/cp is returned the application is marked used
//                  and the certificate recorded as pending (ca::Registry),
//                  both durably. The ip carries the issuing CA in extraCerts
//                  and the root in caPubs. implicitConfirm is never granted.
//   certConf       accepted -> Registry::confirm, rejected -> Registry::reject;
//                  answered with pkiConf. The transaction (OpenSSL's server
//                  context) lives in memory between ip and certConf, at most
//                  CmpServiceOptions::transaction_timeout; a certConf the CA
//                  no longer knows (timeout, restart) gets an error and the
//                  certificate later becomes revoked_unconfirmed.
//   genm           id-it-caCerts (1.3.6.1.5.5.7.4.17) -> SEQUENCE OF
//                  Certificate {issuing CA, root}; id-it-caProtEncCert
//                  (1.3.6.1.5.5.7.4.1) -> the CA's key-management certificate
//                  (the EncryptedVID recipient); an empty genm -> both; other
//                  info types are ignored. This is what wallet::request_ca_certs asks.
//   error          logged, answered with pkiConf.
//
// Signed requests (no reference number: protection is a signature by the key
// of a certificate this CA issued, that certificate first in extraCerts):
//   kur            renewal. The signer must be one of ours (the exact DER in
//                  ca::Registry), confirmed, neither revoked nor on hold, not
//                  expired, and now must be inside the renewal window (the last
//                  CmpServiceOptions::renewal_window before its notAfter). An
//                  oldCertID control, when present, must name the signer; the
//                  template's key must be a new one. The new certificate copies
//                  subject, realName, bank and purpose from the old certificate
//                  (never from the template); its VID comes from the
//                  EncryptedVID in regInfo, checked against the holder's IDN as
//                  for ir (required when the old certificate has a VID); it runs
//                  from now to one user validity (a year) past the old notAfter.
//                  It is recorded pending with application_ref "kur:<old
//                  serial>"; its certConf confirms it and revokes the old one
//                  (superseded) in one registry transaction
//                  (Registry::confirm_superseding), so a second renewal of the
//                  same certificate cannot be confirmed.
//   rr             revocation with the key: the RevDetails must name the signer
//                  itself (else notAuthorized); reason from crlEntryDetails
//                  reasonCode: unspecified (none), keyCompromise,
//                  affiliationChanged, superseded or cessationOfOperation. The
//                  registry revokes at once (OCSP sees it, CRLs at their next
//                  publication); answered with rp.
//   genm           as above, signed by any certificate in our registry (the
//                  answer is public; `dojang renew` asks for the km
//                  certificate this way, and its kur gets the precise refusal).
//   Responses are signed with the CA's CMP protection certificate (extraCerts:
//   it and its chain). Refusals (kur: ip rejection; rr: rp rejection; genm:
//   error) carry a PKIFailureInfo and a text:
//     badMessageCheck   "the signature does not verify with certificate <s>",
//                       or a MAC-protected kur / rr
//     signerNotTrusted  no signer certificate, or one this CA did not issue
//     certRevoked       "certificate <s> is revoked (<reason>)" / "... is suspended
//                       (certificateHold)"
//     notAuthorized     "certificate <s> expired on <date>" / "certificate <s>
//                       cannot be renewed before <date> ..." / not yet confirmed /
//                       an rr for another certificate than the signer
//     badCertId         oldCertID is not the signer
//     badCertTemplate   the same key as the old certificate
//     transactionIdInUse  a transactionID that is still open
//
// Errors (each one a CMP message, never a crash):
//   ir / cr / p10cr are answered with an ip / cp whose PKIStatusInfo is
//   rejection with a PKIFailureInfo and a statusString:
//     badMessageCheck  "unknown reference number or wrong authorization code"
//                      (one answer for both; a wrong MAC counts toward the
//                      5 that lock the application; no senderKID is the same)
//     notAuthorized    "reference number expired" / "reference number already
//                      used" / "application locked after 5 failed attempts"
//     badRequest       "VID does not match the holder"; "EncryptedVID cannot be
//                      opened" (one text for every EncryptedVID failure: no
//                      padding oracle)
//     badCertTemplate  unusable public key (weak, unsupported, missing)
//     badPOP           proof of possession does not verify (OpenSSL)
//     systemFailure    the CA could not record or sign
//   Every other failure (genm with bad credentials, certConf of an unknown
//   transaction, malformed content) is an error message produced by OpenSSL
//   3.0's server, whose PKIFailureInfo is always badRequest; its statusString
//   carries the same texts as above.
//   Rejections are MAC-protected with a random throw-away secret when the
//   request's MAC did not verify (the real code never protects an answer to
//   someone who does not know it), else with the authorization code.
//   HTTP level: a body over 64 KiB -> 413 (the server), a Content-Type other
//   than application/pkixcmp -> 415, a body that is not a DER PKIMessage -> 400
//   (no transactionID to answer to).
//
// Thread safety: handle() may run on many threads at once; each request gets
// its own OSSL_CMP_SRV_CTX (kept for its transaction until certConf).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "dojang/ca/hierarchy.hpp"
#include "dojang/ca/registry.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/ra/bank.hpp"
#include "dojang/service/http.hpp"

namespace dojang::service {

inline constexpr std::size_t kMaxCmpBodyBytes = 64 * 1024;
inline constexpr std::string_view kCmpContentType = "application/pkixcmp";

struct CmpServiceOptions {
  // How long the CA waits for a certConf (then the transaction is forgotten
  // and, by Registry::expire_unconfirmed, the certificate revoked).
  std::chrono::seconds confirm_timeout = ca::kConfirmTimeout;
  // A certificate can be renewed (kur) in the last renewal_window before its
  // notAfter (dojangd.toml [profile] renewal_window_days).
  std::chrono::days renewal_window{30};
  // One line per notable event (rejections, client error messages, failures);
  // never secrets. Empty: stderr.
  std::function<void(std::string_view)> log;
};

class CmpService {
 public:
  // ca, bank, registry and clock must outlive the service.
  CmpService(const ca::Hierarchy& ca, ra::Bank& bank, ca::Registry& registry, const Clock& clock,
             CmpServiceOptions options = {});
  ~CmpService();
  CmpService(const CmpService&) = delete;
  CmpService& operator=(const CmpService&) = delete;

  // Answers one HTTP request to /pkix/ (see the header comment).
  Response handle(const Request& request);
  // Answers one DER PKIMessage: 200 with the DER response, or 400.
  Response handle_der(ByteView der);

  // Transactions waiting for their certConf.
  std::size_t open_transactions() const;
  // Forgets transactions older than confirm_timeout and marks their
  // certificates revoked_unconfirmed (also done by handle(), at most once a
  // minute). Returns how many certificates were revoked.
  Result<std::int64_t> sweep();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Registers POST /pkix/ (body limit kMaxCmpBodyBytes). service must outlive the router.
void register_cmp(Router& router, CmpService& service);

}  // namespace dojang::service
