#include "ca/internal/keystore.hpp"

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "pki/internal/ossl.hpp"

namespace dojang::ca::internal {

using pki::internal::drain_errors;
using pki::internal::libctx;
using pki::internal::own;
using pki::internal::Ptr;

namespace {
constexpr int kSaltBytes = 16;
}  // namespace

Result<Bytes> encrypt_key_pem(const pki::PrivateKey& key, const SecretString& passphrase,
                              int iterations) {
  if (passphrase.empty()) return Error{Errc::usage, "the CA passphrase is empty"};
  Ptr<PKCS8_PRIV_KEY_INFO> p8 = own(::EVP_PKEY2PKCS8(key.native()));
  if (!p8) return Error{Errc::crypto, drain_errors("EVP_PKEY2PKCS8")};
  DOJANG_ASSIGN(Ptr<EVP_CIPHER> cipher, pki::internal::fetch_cipher("AES-256-CBC"));
  // Salt and IV come from libctx's DRBG (salt == NULL, aiv == NULL).
  Ptr<X509_ALGOR> pbe = own(::PKCS5_pbe2_set_iv_ex(cipher.get(), iterations, nullptr, kSaltBytes,
                                                   nullptr, NID_hmacWithSHA256, libctx()));
  if (!pbe) return Error{Errc::crypto, drain_errors("PBES2 parameters")};
  Ptr<X509_SIG> sig =
      own(::PKCS8_set0_pbe_ex(passphrase.data(), static_cast<int>(passphrase.size()), p8.get(),
                              pbe.get(), libctx(), nullptr));
  if (!sig) return Error{Errc::crypto, drain_errors("encrypting the private key")};
  pbe.release();  // owned by sig

  Ptr<BIO> bio = own(::BIO_new(::BIO_s_mem()));
  if (!bio) return Error{Errc::crypto, drain_errors("BIO_new")};
  DOJANG_TRY(
      pki::internal::check(::PEM_write_bio_PKCS8(bio.get(), sig.get()), "PEM_write_bio_PKCS8"));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0) return Error{Errc::crypto, "PEM encoding produced nothing"};
  return Bytes(data, data + len);
}

Result<pki::PrivateKey> decrypt_key_pem(ByteView pem, const SecretString& passphrase) {
  Ptr<BIO> bio = own(::BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error{Errc::crypto, drain_errors("BIO_new_mem_buf")};
  Ptr<X509_SIG> sig = own(::PEM_read_bio_PKCS8(bio.get(), nullptr, nullptr, nullptr));
  if (!sig) return Error{Errc::invalid_input, drain_errors("not an ENCRYPTED PRIVATE KEY PEM")};
  Ptr<PKCS8_PRIV_KEY_INFO> p8 = own(::PKCS8_decrypt_ex(
      sig.get(), passphrase.data(), static_cast<int>(passphrase.size()), libctx(), nullptr));
  if (!p8) {
    pki::internal::clear_errors();
    return Error{Errc::wrong_password, "the passphrase does not decrypt the key"};
  }
  Ptr<EVP_PKEY> k = own(::EVP_PKCS82PKEY_ex(p8.get(), libctx(), nullptr));
  if (!k) return Error{Errc::invalid_input, drain_errors("the decrypted key is not usable")};
  pki::PrivateKey key = pki::PrivateKey::adopt(k.get());
  if (!key.consistent()) {
    pki::internal::clear_errors();
    return Error{Errc::invalid_input,
                 "the decrypted key is damaged (its values do not fit together)"};
  }
  return key;
}

}  // namespace dojang::ca::internal
