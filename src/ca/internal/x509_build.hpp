// Building X.509 certificates with OpenSSL's X509 / X509V3 objects (no
// hand-rolled DER): names, validity, extensions, signing; and key generation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dojang/ca/hierarchy.hpp"
#include "dojang/pki/certificate.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/pki/key.hpp"
#include "dojang/pki/result.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::ca::internal {

using pki::internal::Ptr;

// One attribute of a distinguished name. countryName is written as a
// PrintableString, everything else as a UTF8String.
struct NameAttr {
  int nid;
  std::string value;  // UTF-8, already validated
};

// A GeneralName uniformResourceIdentifier.
Result<Ptr<GENERAL_NAME>> uri_name(const std::string& url);
// An ASN1_TIME (UTCTime until 2049, GeneralizedTime after, as RFC 5280 asks).
Result<Ptr<ASN1_TIME>> asn1_time(TimePoint t);

// A name from its attributes in DER order (most general first: c, o, ou, cn).
Result<Ptr<X509_NAME>> make_name(const std::vector<NameAttr>& attrs);

// A v3 certificate with its subject, issuer name, serial and validity set (no
// public key or extensions yet). serial is big-endian, 1..20 octets as a
// positive INTEGER.
Result<Ptr<X509>> new_certificate(const X509_NAME* subject, const X509_NAME* issuer,
                                  ByteView serial, TimePoint not_before, TimePoint not_after);

// Adds an extension given in OpenSSL's X509V3 configuration syntax, e.g.
// (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"); issuer is the issuing
// certificate (x itself when self-signed) for authorityKeyIdentifier.
Status add_ext(X509* x, const X509* issuer, int nid, const char* value);
// certificatePolicies { policy_oid with a CPS URI qualifier }.
Status add_policy(X509* x, const std::string& policy_oid, const std::string& cps_url,
                  bool critical);
// cRLDistributionPoints { fullName URI }.
Status add_crl_distribution_point(X509* x, const std::string& url);
// authorityInfoAccess { ocsp URI, caIssuers URI }.
Status add_authority_info_access(X509* x, const std::string& ocsp_url,
                                 const std::string& ca_issuers_url);
// subjectAltName { otherName identifyData (1.2.410.200004.10.1.1) [0] EXPLICIT <der> }.
Status add_identify_data(X509* x, ByteView identify_data_der);

// Signs with SHA-256 (sha256WithRSAEncryption or ecdsa-with-SHA256).
Status sign_certificate(X509* x, EVP_PKEY* key);

// The finished certificate as a parsed Certificate (re-read from its DER, so
// that its public key and extensions are decoded like any loaded certificate).
Result<pki::Certificate> to_certificate(const X509* x);

// Generates a key pair of the given type.
Result<pki::PrivateKey> generate_key(KeyType type);

// notAfter of a certificate as a TimePoint (invalid_input when unreadable).
Result<TimePoint> not_after_of(const X509* x);

// UTF-8 validation for names: well-formed, no control characters, at most
// max_chars code points. Returns an error message, or "" when acceptable.
std::string check_text(std::string_view what, std::string_view s, size_t max_chars);

}  // namespace dojang::ca::internal
