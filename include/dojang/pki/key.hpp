// An RSA (or other) private key held in memory.
#pragma once

#include <memory>

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

struct evp_pkey_st;

namespace dojang::pki {

class PrivateKey {
 public:
  // Generates a fresh RSA key pair of the given size.
  static Result<PrivateKey> generate_rsa(int bits);
  // Parses an unencrypted PKCS#8 PrivateKeyInfo (attributes ignored).
  static Result<PrivateKey> from_pkcs8_der(ByteView der);
  // Reads a PEM private key (PKCS#8 or traditional, unencrypted); for tests and tooling.
  static Result<PrivateKey> from_pem(ByteView pem);
  // Takes one reference to an EVP_PKEY the caller owns.
  static PrivateKey adopt(evp_pkey_st* pkey);

  // DER SubjectPublicKeyInfo of the public half.
  Result<Bytes> public_key_der() const;
  // Unencrypted PKCS#8 PrivateKeyInfo without attributes.
  Result<SecretBytes> to_pkcs8_der() const;
  // Unencrypted PKCS#8 PEM; for handing the key to tools such as the openssl CLI.
  Result<SecretBytes> to_pem() const;
  int bits() const;
  // Whether the private values fit the public half: for RSA the key
  // arithmetic (n = pq and the CRT values; microseconds, no primality tests),
  // otherwise OpenSSL's pairwise check. False means a damaged key, which would
  // still decode and sign wrongly or slowly.
  bool consistent() const;

  evp_pkey_st* native() const noexcept { return k_.get(); }

 private:
  explicit PrivateKey(std::shared_ptr<evp_pkey_st> k) : k_(std::move(k)) {}
  std::shared_ptr<evp_pkey_st> k_;
};

}  // namespace dojang::pki
