// Comparing decrypted key material without leaking timing.
#pragma once

#include <optional>

#include "dojang/pki/key.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::wallet::internal {

// ok when a and b are the same private key with the same R (or both without R);
// crypto "<what> does not give back the same key and R" otherwise.
Status same_key_material(const pki::PrivateKey& a, const std::optional<SecretBytes>& ra,
                         const pki::PrivateKey& b, const std::optional<SecretBytes>& rb,
                         std::string_view what);

}  // namespace dojang::wallet::internal
