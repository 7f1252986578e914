// Lower-case hexadecimal text of bytes (tokens, digests, VIDs in JSON).
#pragma once

#include <string>

#include "dojang/pki/secret.hpp"

namespace dojang::pki {

inline std::string to_hex(ByteView b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (auto c : b) {
    s += kDigits[c >> 4];
    s += kDigits[c & 15];
  }
  return s;
}

}  // namespace dojang::pki
