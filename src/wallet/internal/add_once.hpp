// Adding a restored or copied credential without ever duplicating one.
#pragma once

#include <optional>
#include <utility>

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "dojang/wallet/store.hpp"

namespace dojang::wallet::internal {

// NpkiStore::add, but a certificate already in the store under any folder
// name (same DER) is already_exists unless overwrite; with overwrite the new
// folder goes in first and the old folder is removed after.
Result<StoredCredential> add_once(NpkiStore& store, ByteView cert_der, ByteView key_file,
                                  const std::optional<std::pair<Bytes, Bytes>>& km, bool overwrite);

}  // namespace dojang::wallet::internal
