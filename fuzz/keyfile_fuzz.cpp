// Feeds arbitrary bytes to the signPri.key decoder: structure inspection, then
// decryption with a fixed password (bounded iteration counts keep runs fast).
#include <cstddef>
#include <cstdint>

#include "dojang/pki/keyfile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dojang;
  ByteView in(data, size);
  auto info = pki::inspect_key_file(in);
  if (!info.ok() || info->iterations > 4096) return 0;
  SecretString password(std::string("Dojang!test2048"));
  auto key = pki::decrypt_key_file(in, password);
  if (key.ok()) (void)key->key.public_key_der();
  return 0;
}
