#include "dojang/pki/certificate.hpp"

#include <openssl/pem.h>

#include <string_view>

#include "pki/internal/ossl.hpp"

namespace dojang::pki {

using internal::drain_errors;
using internal::libctx;
using internal::own;
using internal::Ptr;

namespace {
std::shared_ptr<x509_st> share(X509* p) { return {p, ::X509_free}; }
}  // namespace

Result<Certificate> Certificate::from_der(ByteView der) {
  if (der.empty()) return Error{Errc::invalid_input, "certificate file is empty"};
  Ptr<X509> x = own(::X509_new_ex(libctx(), nullptr));
  if (!x) return Error{Errc::crypto, drain_errors("X509_new_ex")};
  const unsigned char* p = der.data();
  X509* raw = x.get();
  if (::d2i_X509(&raw, &p, static_cast<long>(der.size())) == nullptr) {
    x.release();  // d2i_X509 freed *raw on failure
    return Error{Errc::invalid_input, drain_errors("not a DER X.509 certificate")};
  }
  if (p != der.data() + der.size())
    return Error{Errc::invalid_input, "certificate has trailing bytes after the DER structure"};
  return Certificate(share(x.release()));
}

Result<Certificate> Certificate::from_pem(ByteView pem) {
  Ptr<BIO> bio = own(::BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error{Errc::crypto, drain_errors("BIO_new_mem_buf")};
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (::PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      internal::clear_errors();
      return Error{Errc::invalid_input, "no PEM CERTIFICATE block found"};
    }
    Ptr<unsigned char> owner(data);
    bool is_cert = std::string_view(name) == "CERTIFICATE";
    ::OPENSSL_free(name);
    ::OPENSSL_free(header);
    if (is_cert) return from_der(ByteView(data, static_cast<size_t>(len)));
  }
}

Certificate Certificate::adopt(x509_st* cert) {
  ::X509_up_ref(cert);
  return Certificate(share(cert));
}

Result<Bytes> Certificate::der() const {
  return internal::to_der(c_.get(), ::i2d_X509, "encoding certificate");
}

Result<Bytes> Certificate::public_key_der() const {
  return internal::to_der(::X509_get0_pubkey(c_.get()), ::i2d_PUBKEY, "encoding SubjectPublicKeyInfo");
}

bool Certificate::matches(const PrivateKey& key) const {
  const EVP_PKEY* pub = ::X509_get0_pubkey(c_.get());
  if (pub == nullptr || key.native() == nullptr) return false;
  int eq = ::EVP_PKEY_eq(pub, key.native());
  internal::clear_errors();
  return eq == 1;
}

}  // namespace dojang::pki
