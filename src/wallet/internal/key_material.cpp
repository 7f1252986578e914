#include "wallet/internal/key_material.hpp"

#include <openssl/crypto.h>

#include <string>

namespace dojang::wallet::internal {

Status same_key_material(const pki::PrivateKey& a, const std::optional<SecretBytes>& ra,
                         const pki::PrivateKey& b, const std::optional<SecretBytes>& rb,
                         std::string_view what) {
  DOJANG_ASSIGN(auto da, a.to_pkcs8_der());
  DOJANG_ASSIGN(auto db, b.to_pkcs8_der());
  bool same_key = da.size() == db.size() && CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
  bool same_r = ra.has_value() == rb.has_value() &&
                (!ra || (ra->size() == rb->size() &&
                         CRYPTO_memcmp(ra->data(), rb->data(), ra->size()) == 0));
  if (!same_key || !same_r)
    return Error{Errc::crypto, std::string(what) + " does not give back the same key and R"};
  return {};
}

}  // namespace dojang::wallet::internal
