// The device side of certificate issuance over CMP (RFC 4210 over HTTP,
// RFC 6712), authenticated by the reference number and authorization code the
// bank hands out (password-based MAC).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/key.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::wallet {

struct CmpEndpoint {
  std::string url;  // http://host:port/path, e.g. "http://127.0.0.1:8080/pkix/"
  std::vector<pki::Certificate> trusted;  // trust anchors for the issued certificate's chain
                                          // (and for signed CMP responses)
  int timeout_seconds = 30;               // per HTTP exchange; 0 = no limit
};

struct IssuedCertificate {
  pki::Certificate cert;
  std::vector<pki::Certificate> ca_chain;  // issuer first, up to the trust anchor
};

// Asks the CA for a certificate on new_key with an ir (initialization
// request), MAC-protected with senderKID = reference and secret = auth_code,
// sending the public key with the placeholder subject CN=<reference> (the CA
// chooses the real subject; OpenSSL cannot sign or verify the popo of a
// template without subject) and, when given, a regInfo
// AttributeTypeAndValue {OID, DER value} (the EncryptedVID). The
// certificate must be for new_key and chain to endpoint.trusted, else the
// client rejects it in its certConf. Returns once the CA has answered the
// certConf with pkiConf.
// Errors: usage (bad URL, empty reference, code or trust list, bad OID or
// value), io (no connection, timeout, HTTP failure), policy (the server
// refused: "rejected: badMessageCheck (...)" with its failure info and text),
// invalid_input (a response whose protection does not verify or that does not
// fit the request, or an issued certificate that fails the checks above).
// Messages never contain the authorization code.
Result<IssuedCertificate> request_ir(const CmpEndpoint& endpoint, std::string_view reference,
                                     const SecretString& auth_code, const pki::PrivateKey& new_key,
                                     const std::optional<std::pair<std::string, Bytes>>& reg_info);

// Asks the CA for its certificates with two genm, one with id-it-caCerts and
// one with id-it-caProtEncCert (the CA's encryption certificate for the
// EncryptedVID), and returns every certificate found in the two genp, without
// duplicates and unverified: the caller checks them against its trust
// anchors. endpoint.trusted may be empty. Same errors as request_ir.
Result<std::vector<pki::Certificate>> request_ca_certs(const CmpEndpoint& endpoint,
                                                       std::string_view reference,
                                                       const SecretString& auth_code);

// The same genm exchange signed with a current certificate's key instead of
// a reference number (renewal, revocation). Same errors as request_kur.
Result<std::vector<pki::Certificate>> request_ca_certs(const CmpEndpoint& endpoint,
                                                       const pki::Certificate& cert,
                                                       const pki::PrivateKey& key);

// Renews cert with a kur (key update request) signed with key, the current
// certificate first in extraCerts, for new_key (subject and oldCertID from
// cert) with an optional regInfo {OID, DER value} (the EncryptedVID), then
// certConf and pkiConf as request_ir. The new certificate must be for new_key
// and chain to endpoint.trusted.
// Errors: as request_ir; policy carries the CA's refusal ("rejected:
// notAuthorized (certificate ... cannot be renewed yet: ...)").
Result<IssuedCertificate> request_kur(const CmpEndpoint& endpoint, const pki::Certificate& cert,
                                      const pki::PrivateKey& key, const pki::PrivateKey& new_key,
                                      const std::optional<std::pair<std::string, Bytes>>& reg_info);

// Asks the CA to revoke cert with an rr signed with its own key, with CRLReason
// `reason` (RFC 5280 number; 0, unspecified, is sent as no reasonCode, as RFC
// 5280 section 5.3.1 asks). Returns once the CA has answered with an accepting rp.
// Errors: as request_kur.
Status request_rr(const CmpEndpoint& endpoint, const pki::Certificate& cert,
                  const pki::PrivateKey& key, int reason);

}  // namespace dojang::wallet
