// Feeds arbitrary bytes to the certificate loader and the decoder of what
// `dojang show` prints (names, identifyData SAN, policies).
#include <cstddef>
#include <cstdint>

#include "dojang/pki/certificate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dojang;
  auto cert = pki::Certificate::from_der(ByteView(data, size));
  if (!cert.ok()) return 0;
  auto info = cert->info();
  if (info.ok()) {
    FakeClock clock(info->not_before);
    (void)cert->days_left(clock);
    (void)cert->expired(clock);
  }
  return 0;
}
