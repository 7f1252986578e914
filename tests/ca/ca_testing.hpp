// Helpers shared by the ca tests: hierarchies in temp folders, subject keys,
// issuance requests and the openssl CLI.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "dojang/ca/hierarchy.hpp"
#include "dojang/ca/issue.hpp"
#include "dojang/pki/key.hpp"
#include "dojang/pki/random.hpp"
#include "dojang/pki/vid.hpp"
#include "pki/certinfo_testdata.hpp"
#include "testing/testing.hpp"

namespace dojang::ca::test {

namespace fs = std::filesystem;
using dojang::testing::TempDir;

inline constexpr const char* kPassphrase = "correct horse battery staple";
inline constexpr const char* kIdn = "8001011234567";

// A fake clock standing at the real time (whole seconds), so that the openssl
// CLI, which checks validity against the real clock, accepts what is issued.
inline FakeClock clock_at_now() {
  return FakeClock(
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
}

inline dojang::testing::RunResult openssl(const TempDir& dir, std::vector<std::string> args) {
  return pki::test::run_openssl(dir, std::move(args));
}

inline Bytes spki_of(const pki::PrivateKey& key) {
  auto der = key.public_key_der();
  EXPECT_TRUE(der.ok());
  return der.ok() ? *der : Bytes{};
}

// SPKI of a key the openssl CLI generates (genpkey arguments after -algorithm).
inline Bytes openssl_spki(const TempDir& dir, const std::vector<std::string>& genpkey_args) {
  fs::path key = dir / "subject.key";
  fs::path pub = dir / "subject.pub.der";
  std::vector<std::string> args = {"genpkey", "-out", key.string()};
  args.insert(args.end(), genpkey_args.begin(), genpkey_args.end());
  auto r = openssl(dir, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = openssl(dir,
              {"pkey", "-in", key.string(), "-pubout", "-outform", "DER", "-out", pub.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dojang::testing::read_bytes(pub);
}

// A request for 홍길동 at bank WOORI with a VID from kIdn and r.
inline IssueRequest request_for(const pki::PrivateKey& subject, const SecretBytes& r,
                                pki::Purpose purpose = pki::Purpose::general) {
  IssueRequest req;
  req.public_key_der = spki_of(subject);
  req.real_name = "홍길동";
  req.holder_digits = "0012345678901234";
  req.bank_code = "WOORI";
  req.purpose = purpose;
  auto vid = pki::compute_vid(SecretString(kIdn), r, "sha256");
  EXPECT_TRUE(vid.ok());
  req.vid = VidValue{"sha256", vid.ok() ? *vid : Bytes{}};
  auto serial = new_serial();
  EXPECT_TRUE(serial.ok());
  req.serial = serial.ok() ? *serial : Bytes{};
  return req;
}

// A hierarchy made by init_hierarchy once per test binary and key type, shared
// by the test processes (CTest runs each test in its own; RSA key generation is
// most of a test's time), copied to `into` and loaded from there. Loaded, it
// holds no root key: tests that need it make their own with init_hierarchy.
inline Result<Hierarchy> shared_hierarchy(const fs::path& into, KeyType issuing_key) {
  const auto stamp = fs::last_write_time("/proc/self/exe").time_since_epoch().count();
  InitOptions o;
  o.issuing_key = issuing_key;
  fs::path cached = dojang::testing::build_cache(
      "ca-hierarchy-" + std::to_string(static_cast<int>(issuing_key)) + "-" + std::to_string(stamp),
      [&](const fs::path& aside) {
        FakeClock clock = clock_at_now();
        auto h = init_hierarchy(aside / "ca", SecretString(kPassphrase), o, clock);
        EXPECT_TRUE(h.ok()) << h.error().message;
        return h.ok();
      });
  if (cached.empty()) return Error{Errc::io, "the shared hierarchy could not be made"};
  std::error_code ec;
  fs::copy(cached / "ca", into, fs::copy_options::recursive, ec);
  if (ec) return Error{Errc::io, "copying the shared hierarchy: " + ec.message()};
  return load_hierarchy(into, SecretString(kPassphrase));
}

// Writes a certificate as PEM for the openssl CLI.
inline fs::path write_pem(const TempDir& dir, const std::string& name, const pki::Certificate& c) {
  auto der = c.der();
  EXPECT_TRUE(der.ok());
  fs::path der_path = dir / (name + ".der");
  fs::path pem_path = dir / (name + ".pem");
  dojang::testing::write_bytes(der_path, *der);
  auto r =
      openssl(dir, {"x509", "-inform", "DER", "-in", der_path.string(), "-out", pem_path.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return pem_path;
}

// `openssl verify -CAfile root.pem -untrusted chain.pem cert`: "OK" expected.
inline void expect_openssl_verifies(const TempDir& tmp, const fs::path& ca_dir,
                                    const fs::path& cert_pem) {
  auto r = openssl(tmp, {"verify", "-CAfile", (ca_dir / "root.pem").string(), "-untrusted",
                         (ca_dir / "chain.pem").string(), cert_pem.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(": OK"), std::string::npos) << r.out << r.err;
}

}  // namespace dojang::ca::test
