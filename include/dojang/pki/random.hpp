// The one seam for randomness: OpenSSL's DRBG in Dojang's library context.
#pragma once

#include <cstdint>
#include <span>

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::pki {

// Fills out with cryptographically secure random bytes.
Status random_bytes(std::span<std::uint8_t> out);
// Returns n cryptographically secure random bytes.
Result<Bytes> random_bytes(std::size_t n);

}  // namespace dojang::pki
