// CA private keys at rest: PKCS#8 EncryptedPrivateKeyInfo in PEM, PBES2 with
// PBKDF2-HMAC-SHA256 and AES-256-CBC (RFC 8018), readable by `openssl pkey`.
#pragma once

#include "dojang/pki/key.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::ca::internal {

// PBKDF2 iterations for CA keys: >= 200000 while keeping load_hierarchy (four
// keys) well under a second (about 60 ms per key on a 2020s x86 core).
inline constexpr int kKeyIterations = 250000;

// "-----BEGIN ENCRYPTED PRIVATE KEY-----" PEM of key under passphrase.
Result<Bytes> encrypt_key_pem(const pki::PrivateKey& key, const SecretString& passphrase,
                              int iterations = kKeyIterations);

// Decrypts such a PEM. invalid_input when it is not an encrypted PKCS#8 PEM or
// holds no usable key, wrong_password when the passphrase does not decrypt it.
Result<pki::PrivateKey> decrypt_key_pem(ByteView pem, const SecretString& passphrase);

}  // namespace dojang::ca::internal
