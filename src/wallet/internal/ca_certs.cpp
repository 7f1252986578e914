#include "wallet/internal/ca_certs.hpp"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/internal/ossl.hpp"

namespace dojang::wallet::internal {

namespace ossl = pki::internal;

Status verify_to_root(const pki::Certificate& cert, const pki::Certificate& root,
                      const std::vector<pki::Certificate>& others) {
  ossl::Ptr<X509_STORE> store = ossl::own(::X509_STORE_new());
  DOJANG_TRY(ossl::check_ptr(store.get(), "X509_STORE_new"));
  DOJANG_TRY(ossl::check(::X509_STORE_add_cert(store.get(), root.native()), "trust anchor"));
  ossl::Ptr<STACK_OF(X509)> untrusted = ossl::own(sk_X509_new_null());
  DOJANG_TRY(ossl::check_ptr(untrusted.get(), "sk_X509_new_null"));
  for (const auto& o : others) {
    DOJANG_TRY(ossl::check(::X509_add_cert(untrusted.get(), o.native(),
                                           X509_ADD_FLAG_UP_REF | X509_ADD_FLAG_NO_DUP),
                           "intermediate"));
  }
  ossl::Ptr<X509_STORE_CTX> vctx = ossl::own(::X509_STORE_CTX_new_ex(ossl::libctx(), nullptr));
  DOJANG_TRY(ossl::check_ptr(vctx.get(), "X509_STORE_CTX_new_ex"));
  DOJANG_TRY(ossl::check(::X509_STORE_CTX_init(vctx.get(), store.get(), cert.native(), untrusted.get()),
                         "X509_STORE_CTX_init"));
  if (::X509_verify_cert(vctx.get()) != 1) {
    ossl::clear_errors();
    std::string subject = "a CA certificate";
    if (auto info = cert.info(); info.ok()) subject = "\"" + info->subject + "\"";
    return Error{Errc::invalid_input,
                 subject + " does not chain to the trusted root: " +
                     ::X509_verify_cert_error_string(::X509_STORE_CTX_get_error(vctx.get()))};
  }
  return {};
}

std::optional<pki::Certificate> find_km_cert(const std::vector<pki::Certificate>& certs) {
  for (const auto& c : certs) {
    X509* x = c.native();
    if (::X509_check_ca(x) != 0) continue;
    if ((::X509_get_extension_flags(x) & EXFLAG_KUSAGE) != 0 &&
        (::X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT) == 0)
      continue;
    return c;
  }
  return std::nullopt;
}

Result<std::vector<pki::Certificate>> verified_ca_certs(const std::vector<pki::Certificate>& ca_certs,
                                                        const pki::Certificate& root) {
  std::vector<pki::Certificate> verified;
  for (const auto& c : ca_certs) {
    if (::X509_cmp(c.native(), root.native()) == 0) continue;
    DOJANG_TRY(verify_to_root(c, root, ca_certs));
    verified.push_back(c);
  }
  return verified;
}

}  // namespace dojang::wallet::internal
