// An X.509 certificate and what a Korean joint certificate says about its holder.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dojang/pki/clock.hpp"

#include "dojang/pki/key.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

struct x509_st;

namespace dojang::pki {

// What a certificate policy OID says (KISA-accredited CAs' published OIDs).
enum class Purpose {
  general,          // 범용: every use
  bank_insurance,   // 용도제한: banking / insurance
  credit_card,      // 용도제한: credit card
  securities,       // 용도제한: securities / insurance
  other_limited,    // another 용도제한 purpose
  unknown,          // a policy we do not know: shown as unknown, never guessed
};
enum class HolderKind { personal, corporate, unknown };

struct PolicyInfo {
  std::string oid;            // dotted OID as found in the certificate
  std::string ca;             // "yessign", "KICA signGATE", "SignKorea", "CrossCert", "TradeSign", "NCASign", or "" when unknown
  Purpose purpose = Purpose::unknown;
  HolderKind holder = HolderKind::unknown;
  std::string label;          // human description, e.g. "yessign personal general-purpose (범용)"
};

// Looks up a policy OID; unknown OIDs give Purpose::unknown with an empty ca.
PolicyInfo lookup_policy(const std::string& oid);
// "general", "bank_insurance", ... (stable names for --json and --require-purpose).
const char* purpose_name(Purpose p) noexcept;

// The VID the certificate carries in its identifyData subjectAltName.
struct CertVid {
  std::string hash_alg;       // "sha256" or "sha1" (from the hashAlg OID)
  std::string hash_alg_oid;   // dotted OID
  Bytes virtual_id;           // h(h(DER(HashContent)))
};

// Everything `dojang show` prints about a certificate. Strings are UTF-8
// (BMPString and UTF8String names converted).
struct CertificateInfo {
  std::string subject;        // RFC 2253 order, e.g. "cn=홍길동()0012...,ou=WOORI,ou=personal4IB,o=yessign,c=kr"
  std::string issuer;
  std::string cn;             // subject commonName
  std::string serial_hex;     // lowercase hex, no 0x, no leading zeros
  std::string serial_dec;
  TimePoint not_before;
  TimePoint not_after;
  std::optional<std::string> real_name;   // identifyData realName
  std::optional<CertVid> vid;             // identifyData VID
  std::vector<PolicyInfo> policies;       // every certificatePolicies OID, looked up
  std::string key_algorithm;              // "RSA-2048"
  std::string signature_algorithm;        // "sha256WithRSAEncryption"
};

struct Validity {
  TimePoint not_before;
  TimePoint not_after;
};

class Certificate {
 public:
  // Parses a DER certificate; trailing bytes are an error.
  static Result<Certificate> from_der(ByteView der);
  // Parses the first certificate of a PEM text.
  static Result<Certificate> from_pem(ByteView pem);
  // Takes one reference to an X509 the caller owns.
  static Certificate adopt(x509_st* cert);

  Result<Bytes> der() const;
  // DER SubjectPublicKeyInfo.
  Result<Bytes> public_key_der() const;
  // The subject as info() gives it, and the validity: without decoding the
  // rest of the certificate.
  std::string subject() const;
  Result<Validity> validity() const;
  // True when key is the private half of this certificate's public key.
  bool matches(const PrivateKey& key) const;

  // Decodes subject, issuer, serial, validity, identifyData and policies.
  // Fails (invalid_input) only when an extension it needs is malformed.
  Result<CertificateInfo> info() const;
  // Whole days from now until notAfter (negative once expired).
  long days_left(const Clock& clock) const;
  bool expired(const Clock& clock) const;

  x509_st* native() const noexcept { return c_.get(); }

 private:
  explicit Certificate(std::shared_ptr<x509_st> c) : c_(std::move(c)) {}
  std::shared_ptr<x509_st> c_;
};

// Reads every certificate of a PEM bundle, or one DER certificate.
// Errors: invalid_input when it holds no certificate.
Result<std::vector<Certificate>> certificates_from(ByteView pem_or_der);

}  // namespace dojang::pki
