// EncryptedVID: how a subscriber hands the VID and its random number R to the
// CA during issuance (CMP regInfo 1.2.410.200004.10.1.1.2) without R ever
// travelling in clear. The device makes it, encrypted to the CA's
// key-management (encryption) certificate; the CA opens it with the matching
// private key and checks the VID against the IDN the bank holds.
#pragma once

#include <string>
#include <string_view>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/key.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::pki {

// The regInfo attribute type that carries an EncryptedVID is
// pki::kOidEncryptedVid in dojang/pki/cmp.hpp (one definition only).

// What an EncryptedVID holds once decrypted.
struct OpenedVid {
  std::string hash_alg;    // "sha256" or "sha1": the VID's hash algorithm
  Bytes vid;               // h(h(DER(HashContent)))
  SecretBytes random_num;  // R
};

// Client side. Computes VID = h(h(idn, R)) and returns the DER of an
// EncryptedVID holding DER(SEQUENCE { vid VID, randomNum BIT STRING })
// encrypted with RSA-OAEP (default parameters: SHA-1, MGF1-SHA-1, empty label;
// vidEncAlg id-RSAES-OAEP) to ca_km_cert's public key; certID names
// ca_km_cert. The caller has already checked ca_km_cert against its trusted root.
// Errors: usage (idn not digits), invalid_input (R empty), foreign_format
// (hash_alg not sha256/sha1, certificate key not RSA), policy (the certificate's
// keyUsage does not allow keyEncipherment).
Result<Bytes> make_encrypted_vid(const Certificate& ca_km_cert, const SecretString& idn_digits,
                                 const SecretBytes& random_num,
                                 std::string_view hash_alg = "sha256");

// CA side. Decodes and decrypts an EncryptedVID with the CA's key-management
// key; accepts id-RSAES-OAEP (default or explicit SHA-1/SHA-2 parameters, empty
// label) and rsaEncryption (PKCS#1 v1.5) as vidEncAlg.
// Errors: invalid_input for anything malformed, truncated, tampered with or
// undecryptable, and "encrypted to another certificate" when certID does not
// name km_cert; foreign_format for a well-formed but unsupported algorithm.
Result<OpenedVid> open_encrypted_vid(ByteView der, const PrivateKey& km_key,
                                     const Certificate& km_cert);

// True when the opened VID is h(h(idn_digits, R)) (constant-time comparison).
// Errors: usage (idn not digits), foreign_format (hash algorithm).
Result<bool> check_vid_against_idn(const OpenedVid& opened, const SecretString& idn_digits);

}  // namespace dojang::pki
