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
std::shared_ptr<evp_pkey_st> share(EVP_PKEY* p) {
  return {p, ::EVP_PKEY_free};
}

// RSA key arithmetic without primality tests: n = pq, dp = d mod (p-1),
// dq = d mod (q-1), e·dp ≡ 1 (mod p-1), e·dq ≡ 1 (mod q-1), qinv·q ≡ 1 (mod p).
// A few big-number multiplications (microseconds), where OpenSSL's
// EVP_PKEY_pairwise_check also tests p and q for primality (tens of
// milliseconds, paid on every unlock). -1: the key has no CRT components.
int rsa_components_consistent(const EVP_PKEY* pkey) {
  const char* names[] = {"n",
                         "e",
                         "d",
                         "rsa-factor1",
                         "rsa-factor2",
                         "rsa-exponent1",
                         "rsa-exponent2",
                         "rsa-coefficient1"};
  Ptr<BIGNUM> v[8];
  for (int i = 0; i < 8; ++i) {
    BIGNUM* b = nullptr;
    if (::EVP_PKEY_get_bn_param(pkey, names[i], &b) != 1) return -1;
    v[i] = own(b);
  }
  const BIGNUM *n = v[0].get(), *e = v[1].get(), *d = v[2].get(), *p = v[3].get(), *q = v[4].get(),
               *dp = v[5].get(), *dq = v[6].get(), *qinv = v[7].get();
  struct CtxFree {
    void operator()(BN_CTX* c) const { ::BN_CTX_free(c); }
  };
  std::unique_ptr<BN_CTX, CtxFree> ctx(::BN_CTX_new_ex(libctx()));
  Ptr<BIGNUM> t = own(::BN_new()), p1 = own(::BN_dup(p)), q1 = own(::BN_dup(q));
  if (!ctx || !t || !p1 || !q1 || ::BN_sub_word(p1.get(), 1) != 1 ||
      ::BN_sub_word(q1.get(), 1) != 1)
    return 0;
  auto equal_mod = [&](const BIGNUM* a, const BIGNUM* b, const BIGNUM* m, const BIGNUM* want) {
    // (a·b) mod m == want, or a mod m == want when b is null
    int ok = b != nullptr ? ::BN_mod_mul(t.get(), a, b, m, ctx.get())
                          : ::BN_nnmod(t.get(), a, m, ctx.get());
    return ok == 1 && ::BN_cmp(t.get(), want) == 0;
  };
  if (::BN_mul(t.get(), p, q, ctx.get()) != 1 || ::BN_cmp(t.get(), n) != 0) return 0;
  return equal_mod(d, nullptr, p1.get(), dp) && equal_mod(d, nullptr, q1.get(), dq) &&
                 equal_mod(e, dp, p1.get(), ::BN_value_one()) &&
                 equal_mod(e, dq, q1.get(), ::BN_value_one()) &&
                 equal_mod(qinv, q, p, ::BN_value_one())
             ? 1
             : 0;
}

}  // namespace

bool PrivateKey::consistent() const {
  EVP_PKEY* pkey = k_.get();
  if (::EVP_PKEY_is_a(pkey, "RSA") == 1) {
    int rc = rsa_components_consistent(pkey);
    if (rc >= 0) return rc == 1;
  }
  Ptr<EVP_PKEY_CTX> ctx = own(::EVP_PKEY_CTX_new_from_pkey(libctx(), pkey, nullptr));
  if (!ctx) return false;
  int rc = ::EVP_PKEY_pairwise_check(ctx.get());  // -2: no check for this type
  return rc == 1 || rc == -2;
}

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
