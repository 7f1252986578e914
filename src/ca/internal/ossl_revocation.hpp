// Owning handles for the OpenSSL CRL and OCSP objects used by ca/crl and ca/ocsp
// (the Free<T> specialisations the pki module does not need itself).
#pragma once

#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/internal/ossl.hpp"

namespace dojang::pki::internal {

#define DOJANG_OSSL_FREE_REV(T, fn)                 \
  template <>                                       \
  struct Free<T> {                                  \
    void operator()(T* p) const noexcept { fn(p); } \
  }

DOJANG_OSSL_FREE_REV(X509_CRL, X509_CRL_free);
DOJANG_OSSL_FREE_REV(X509_REVOKED, X509_REVOKED_free);
DOJANG_OSSL_FREE_REV(ISSUING_DIST_POINT, ISSUING_DIST_POINT_free);
DOJANG_OSSL_FREE_REV(OCSP_REQUEST, OCSP_REQUEST_free);
DOJANG_OSSL_FREE_REV(OCSP_RESPONSE, OCSP_RESPONSE_free);
DOJANG_OSSL_FREE_REV(OCSP_BASICRESP, OCSP_BASICRESP_free);
DOJANG_OSSL_FREE_REV(OCSP_CERTID, OCSP_CERTID_free);
#undef DOJANG_OSSL_FREE_REV

}  // namespace dojang::pki::internal
