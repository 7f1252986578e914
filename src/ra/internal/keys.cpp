#include "ra/internal/keys.hpp"

#include <string>

#include "dojang/pki/aead.hpp"
#include "dojang/ra/bank.hpp"

namespace dojang::ra::internal {

Result<SecretBytes> derive_key(const SecretBytes& data_key, std::string_view use) {
  if (data_key.size() != kDataKeySize)
    return Error{Errc::usage,
                 "the bank's data key has 32 bytes, not " + std::to_string(data_key.size())};
  const std::string label = "dojang/ra/v1/" + std::string(use);
  DOJANG_ASSIGN(Bytes mac, pki::hmac_sha256(data_key.view(),
                                            {reinterpret_cast<const std::uint8_t*>(label.data()),
                                             label.size()}));
  SecretBytes key{ByteView(mac)};
  secure_wipe(mac.data(), mac.size());
  return key;
}

}  // namespace dojang::ra::internal
