// Subscriber certificate issuance with the personal profile of design.md
// section 2, serial numbers and CRL partitions.
#pragma once

#include <optional>
#include <string>

#include "dojang/ca/hierarchy.hpp"
#include "dojang/pki/certificate.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::ca {

// The VID the CA puts in the identifyData subjectAltName.
struct VidValue {
  std::string hash_alg = "sha256";  // "sha256" or "sha1"
  Bytes value;                      // h(h(DER(HashContent)))
};

// What to certify. The CA builds subject and extensions from these fields
// alone (the RA's record), never from a client's template.
struct IssueRequest {
  Bytes public_key_der;       // SubjectPublicKeyInfo: RSA >= 2048 (e >= 65537) or EC P-256
  std::string real_name;      // UTF-8; the CN is "<real_name>()<holder_digits>"
  std::string holder_digits;  // digits after "()" in the CN
  std::string bank_code;      // the first ou=
  pki::Purpose purpose = pki::Purpose::general;  // general or bank_insurance
  std::optional<VidValue> vid;          // identifyData userInfos (realName is always present)
  std::optional<TimePoint> not_before;  // default now - 5 minutes
  std::optional<TimePoint> not_after;   // default not_before + user_validity_days
  Bytes serial;                         // big-endian, e.g. from new_serial()
};

// Issues a certificate signed by the issuing CA:
//   subject cn=<name>()<digits>,ou=<bank>,ou=personal4IB,o=<CA name>,c=kr (UTF8String; c
//   PrintableString) keyUsage critical {digitalSignature, nonRepudiation} certificatePolicies
//   critical {policy OID of the purpose, CPS <base_url>/cps} subjectKeyIdentifier,
//   authorityKeyIdentifier cRLDistributionPoints <base_url>/crl/<partition>.crl authorityInfoAccess
//   OCSP <base_url>/ocsp, caIssuers <base_url>/ca.crt subjectAltName otherName identifyData
//   {realName, userInfos (VID, when given)}
// signed sha256WithRSAEncryption (ecdsa-with-SHA256 for an EC issuing key).
// notAfter is capped at the issuing CA's notAfter. Safe to call from several
// threads at once on the same Hierarchy.
// Errors: usage (missing or malformed fields, unsupported purpose, bad serial,
// notAfter not after notBefore), invalid_input (SPKI not parseable),
// policy (weak or unsupported subject key), foreign_format (VID hash), crypto.
Result<pki::Certificate> issue_certificate(const Hierarchy& ca, const IssueRequest& request,
                                           const Clock& clock);

// A fresh serial number: 16 random bytes with the top bit cleared (a positive
// INTEGER) and a non-zero first byte (127 random bits, >= 64 as CA/B and
// design.md ask).
Result<Bytes> new_serial();

// The CRL partition of a serial (big-endian bytes; leading zero bytes are
// ignored): its first byte modulo `partitions` (>= 1).
unsigned crl_partition(ByteView serial, unsigned partitions = 16);
// "p<index>", the partition's name in /crl/<name>.crl.
std::string crl_partition_name(unsigned index);
// <base_url>/crl/<partition name>.crl for a serial under the hierarchy's options.
std::string crl_url(const InitOptions& options, ByteView serial);

// The policy OID the CA configuration assigns to a purpose; usage error for
// purposes the CA does not issue.
Result<std::string> policy_oid_for(const InitOptions& options, pki::Purpose purpose);

}  // namespace dojang::ca
