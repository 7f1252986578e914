#include "wallet/internal/add_once.hpp"

#include <algorithm>

namespace dojang::wallet::internal {

Result<StoredCredential> add_once(NpkiStore& store, ByteView cert_der, ByteView key_file,
                                  const std::optional<std::pair<Bytes, Bytes>>& km, bool overwrite) {
  DOJANG_ASSIGN(std::vector<StoredCredential> creds, store.list());
  std::optional<StoredCredential> same;
  for (const auto& c : creds) {
    if (c.broken() || !c.cert) continue;
    auto der = c.cert->der();
    if (der.ok() && std::equal(der->begin(), der->end(), cert_der.begin(), cert_der.end())) {
      same = c;
      break;
    }
  }
  if (same && !overwrite)
    return Error{Errc::already_exists, "the certificate " + (same->info ? same->info->cn : std::string()) +
                                           " is already in the wallet at " + same->folder.string()};
  DOJANG_ASSIGN(StoredCredential added, store.add(cert_der, key_file, km, overwrite));
  if (same && same->folder != added.folder) DOJANG_TRY(store.remove(*same));
  return added;
}

}  // namespace dojang::wallet::internal
