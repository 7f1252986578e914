// Signing and verifying the way Korean relying parties expect: raw PKCS#1 v1.5
// signatures and CMS / PKCS#7 SignedData, both over SHA-256.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/pki/key.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::pki {

// RSASSA-PKCS1-v1_5 signature over SHA-256(data) (RFC 8017 8.2).
// Fails with foreign_format for a key that is not RSA.
Result<Bytes> sign_raw(const PrivateKey& key, ByteView data);

// Verifies a raw RSASSA-PKCS1-v1_5 SHA-256 signature with the certificate's
// public key. A raw signature carries no certificate, so it is given here.
// Errors: bad_signature when it does not verify; foreign_format for a non-RSA key.
Status verify_raw(const Certificate& cert, ByteView data, ByteView signature);

struct CmsSignOptions {
  bool detached = false;          // content not embedded
  bool signed_attributes = true;  // contentType, signingTime, messageDigest; false: the bare
                                  // form many Korean relying parties use (signature directly
                                  // over the content)
  // When set, R travels beside the signature as the unsigned attribute
  // randomNum (1.2.410.200004.10.1.1.3, BIT STRING) so that a relying party
  // that knows the IDN can check the VID (dojang sign --include-random).
  const SecretBytes* random_num = nullptr;
};

// CMS / PKCS#7 SignedData (RFC 5652) as DER ContentInfo: SHA-256, sha256 with
// RSA, the signer identified by issuerAndSerialNumber, the signer certificate
// included, content taken as binary (no MIME canonicalisation). With signed
// attributes, signingTime is clock.now().
// Errors: key_mismatch when key is not the certificate's private key; usage
// for content too large to sign in memory.
Result<Bytes> sign_cms(const PrivateKey& key, const Certificate& cert, ByteView content,
                       const CmsSignOptions& options, const Clock& clock);

struct CmsVerified {
  Certificate signer;                     // the certificate that signed (from the SignedData)
  std::optional<TimePoint> signing_time;  // from the signed attributes
  bool detached = false;
  bool signed_attributes = false;
  Bytes content;                 // the signed content (embedded or the given detached content)
  std::string digest_algorithm;  // "SHA256", "SHA1", ...
  std::vector<Certificate> certificates;  // every certificate in the SignedData (intermediates)
  std::optional<SecretBytes> random_num;  // the signer's randomNum unsigned attribute, if any
};

// Verifies a DER CMS / PKCS#7 SignedData: every SignerInfo's signature, its
// signed attributes (messageDigest, contentType) and that its certificate is
// in the SignedData. Reports the first signer. Does not check the certificate
// chain, validity or revocation (path validation does that) and never touches
// the network. When content is given for a signature that embeds its content,
// the two must be equal.
// Errors: invalid_input (not DER, not SignedData, no signer or no signer
// certificate in it); usage (detached signature without content);
// bad_signature (content or signature does not verify); foreign_format
// (a digest algorithm OpenSSL does not know).
Result<CmsVerified> verify_cms(ByteView cms_der, std::optional<ByteView> detached_content);

}  // namespace dojang::pki
