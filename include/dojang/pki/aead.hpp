// Authenticated encryption of small records at rest (AES-256-GCM), HMAC-SHA256
// and SHA-256, all in Dojang's OpenSSL library context.
#pragma once

#include <cstdint>

#include <cstddef>

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::pki {

inline constexpr std::size_t kAeadKeySize = 32;    // AES-256
inline constexpr std::size_t kAeadNonceSize = 12;  // GCM's 96-bit IV
inline constexpr std::size_t kAeadTagSize = 16;
// Bytes seal() adds to the plaintext.
inline constexpr std::size_t kAeadOverhead = kAeadNonceSize + kAeadTagSize;

// Encrypts plaintext with AES-256-GCM under key32 and a fresh random nonce,
// authenticating aad too. Returns nonce(12) || ciphertext || tag(16).
// Errors: usage (key not 32 bytes), crypto.
Result<Bytes> seal(ByteView key32, ByteView plaintext, ByteView aad);

// Derives length bytes from a passphrase with PBKDF2-HMAC-SHA256.
// Errors: usage (empty salt, zero iterations), crypto.
Result<SecretBytes> pbkdf2_sha256(const SecretString& passphrase, ByteView salt,
                                  std::uint32_t iterations, std::size_t length);

// Reverses seal(). Errors: invalid_input (truncated, tampered, wrong key or
// wrong aad: all alike), usage (key not 32 bytes), crypto.
Result<SecretBytes> open(ByteView key32, ByteView sealed, ByteView aad);

// HMAC-SHA256(key, data): 32 bytes. Errors: crypto.
Result<Bytes> hmac_sha256(ByteView key, ByteView data);

// SHA-256(data): 32 bytes. Errors: crypto.
Result<Bytes> sha256(ByteView data);

}  // namespace dojang::pki
