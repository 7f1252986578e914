// Subkeys of the bank's data key, one per use.
#pragma once

#include <string_view>

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::ra::internal {

// HMAC-SHA256(data_key, "dojang/ra/v1/" + use): a 32-byte key for one use
// ("idn-seal", "idn-mac", "otp-mac", "auth-code-seal", "sms-outbox-seal").
// Errors: usage (data_key not 32 bytes), crypto.
Result<SecretBytes> derive_key(const SecretBytes& data_key, std::string_view use);

}  // namespace dojang::ra::internal
