#include "dojang/pki/key.hpp"

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "pki/internal/ossl.hpp"

namespace dojang::pki {

using internal::check;
using internal::drain_errors;
using internal::libctx;
using internal::own;
using internal::Ptr;

namespace {
std::shared_ptr<evp_pkey_st> share(EVP_PKEY* p) { return {p, ::EVP_PKEY_free}; }
}  // namespace

Result<PrivateKey> PrivateKey::generate_rsa(int bits) {
  EVP_PKEY* k = ::EVP_PKEY_Q_keygen(libctx(), nullptr, "RSA", static_cast<size_t>(bits));
  if (k == nullptr) return Error{Errc::crypto, drain_errors("RSA key generation")};
  return PrivateKey(share(k));
}

Result<PrivateKey> PrivateKey::from_pkcs8_der(ByteView der) {
  const unsigned char* p = der.data();
  Ptr<PKCS8_PRIV_KEY_INFO> p8 =
      own(::d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
  if (!p8 || p != der.data() + der.size())
    return Error{Errc::invalid_input, drain_errors("PrivateKeyInfo is not valid DER")};
  EVP_PKEY* k = ::EVP_PKCS82PKEY_ex(p8.get(), libctx(), nullptr);
  if (k == nullptr) return Error{Errc::invalid_input, drain_errors("PrivateKeyInfo holds no usable key")};
  return PrivateKey(share(k));
}

Result<PrivateKey> PrivateKey::from_pem(ByteView pem) {
  Ptr<BIO> bio = own(::BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error{Errc::crypto, drain_errors("BIO_new_mem_buf")};
  EVP_PKEY* k = ::PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, nullptr, nullptr, libctx(), nullptr);
  if (k == nullptr) return Error{Errc::invalid_input, drain_errors("not a PEM private key")};
  return PrivateKey(share(k));
}

PrivateKey PrivateKey::adopt(evp_pkey_st* pkey) {
  ::EVP_PKEY_up_ref(pkey);
  return PrivateKey(share(pkey));
}

Result<Bytes> PrivateKey::public_key_der() const {
  return internal::to_der(k_.get(), ::i2d_PUBKEY, "encoding SubjectPublicKeyInfo");
}

Result<SecretBytes> PrivateKey::to_pkcs8_der() const {
  Ptr<PKCS8_PRIV_KEY_INFO> p8 = own(::EVP_PKEY2PKCS8(k_.get()));
  if (!p8) return Error{Errc::crypto, drain_errors("EVP_PKEY2PKCS8")};
  unsigned char* out = nullptr;
  int len = ::i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &out);
  if (len <= 0) return Error{Errc::crypto, drain_errors("encoding PrivateKeyInfo")};
  SecretBytes s(ByteView(out, static_cast<size_t>(len)));
  ::OPENSSL_clear_free(out, static_cast<size_t>(len));
  return s;
}

Result<SecretBytes> PrivateKey::to_pem() const {
  Ptr<BIO> bio = own(::BIO_new(::BIO_s_secmem()));
  if (!bio) return Error{Errc::crypto, drain_errors("BIO_new")};
  DOJANG_TRY(check(::PEM_write_bio_PKCS8PrivateKey(bio.get(), k_.get(), nullptr, nullptr, 0, nullptr,
                                                   nullptr),
                   "PEM_write_bio_PKCS8PrivateKey"));
  char* data = nullptr;
  long len = ::BIO_get_mem_data(bio.get(), &data);
  return SecretBytes(ByteView(reinterpret_cast<const unsigned char*>(data), static_cast<size_t>(len)));
}

int PrivateKey::bits() const { return ::EVP_PKEY_get_bits(k_.get()); }

}  // namespace dojang::pki
