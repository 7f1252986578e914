// Password-based key derivation and CBC encryption for the key file codec.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::pki::internal {

// RFC 8018 §5.1 PBKDF1 with SHA-1 (OpenSSL has no PBKDF1 KDF):
//   T_1 = Hash (P || S) , T_2 = Hash (T_1) , ... , T_c = Hash (T_{c-1}) ,
//   DK = T_c<0..dkLen-1>
// Returns the whole 20-byte T_c; iterations must be >= 1.
Result<SecretBytes> pbkdf1_sha1(ByteView password, ByteView salt, std::uint64_t iterations);

// RFC 8018 §5.2 PBKDF2 with HMAC over `digest` (an OpenSSL digest name such as
// "SHA1" or "SHA2-256"); no SP 800-132 minimums on salt or key length.
Result<SecretBytes> pbkdf2(ByteView password, ByteView salt, std::uint64_t iterations,
                           const char* digest, std::size_t key_length);

// CBC encryption with PKCS#7 padding under `cipher` (an OpenSSL cipher name).
Result<Bytes> cbc_encrypt(const char* cipher, ByteView key, ByteView iv, ByteView plaintext);

// CBC decryption with PKCS#7 padding; a padding failure is Errc::wrong_password.
Result<SecretBytes> cbc_decrypt(const char* cipher, ByteView key, ByteView iv, ByteView ciphertext);

}  // namespace dojang::pki::internal
