// Subject identification by virtual ID (VID): the IDN check a relying party or
// the CA runs against the identifyData of a Korean joint certificate.
#pragma once

#include <string_view>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::pki {

// Validates and normalises an IDN (resident / corporate registration number):
// 13 digits, optionally written with one '-' after the first six
// (800101-1234567); surrounding whitespace is ignored. Returns the 13 digits.
// Errc::usage with a message saying what is wrong (never echoing the IDN).
Result<SecretString> normalize_idn(std::string_view idn);

// VID = h(h(DER(HashContent))), HashContent ::= SEQUENCE { idn PrintableString,
// randomNum BIT STRING }. hash_alg is "sha256" or "sha1".
// Errors: usage (idn not digits), invalid_input (empty R), foreign_format (hash).
Result<Bytes> compute_vid(const SecretString& idn_digits, const SecretBytes& random_num,
                          std::string_view hash_alg);

// Checks idn_digits against the VID in cert (with the hash the certificate
// names) using R from the key file. true on a match, false on a mismatch.
// Errors: not_found (cert has no VID), invalid_input (R missing or the
// certificate's identifyData malformed), foreign_format (unsupported hash),
// usage (idn not digits).
Result<bool> verify_vid(const Certificate& cert, const SecretBytes& random_num,
                        const SecretString& idn_digits);

// DER of IdentifyData ::= SEQUENCE { realName UTF8String, userInfos SEQUENCE OF
// UserInfo } holding one id-VID entry: the value a CA puts in the
// subjectAltName otherName 1.2.410.200004.10.1.1.
// Errors: usage (real_name not UTF-8 or empty, vid empty), foreign_format (hash).
Result<Bytes> encode_identify_data(std::string_view real_name, std::string_view hash_alg,
                                   const Bytes& vid);

}  // namespace dojang::pki
