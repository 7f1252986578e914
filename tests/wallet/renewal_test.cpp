// The device side of renewal and revocation with the key that needs no CA:
// the renewal window (fake clock), the holder's revocation reasons, and
// moving a credential aside in the NPKI store. The CMP exchanges are tested
// against the real CA in tests/service/cmp_server_test.cpp and end to end in
// tests/apps/renew_test.cpp.
#include "dojang/wallet/renewal.hpp"

#include <gtest/gtest.h>

#include "testing/testing.hpp"

namespace dojang::wallet {
namespace {

namespace fs = std::filesystem;
using dojang::testing::data_path;
using dojang::testing::read_bytes;
using dojang::testing::TempDir;
using namespace std::chrono_literals;

pki::CertificateInfo info_expiring(TimePoint not_after) {
  pki::CertificateInfo info;
  info.serial_hex = "1a2b";
  info.not_after = not_after;
  return info;
}

// 2027-03-01 00:00:00 UTC.
constexpr TimePoint kNotAfter{std::chrono::seconds(1803859200)};

TEST(RenewalWindowTest, OpensThirtyDaysBeforeExpiry) {
  const auto info = info_expiring(kNotAfter);
  FakeClock clock(kNotAfter - std::chrono::days(31));
  Status early = check_renewal_window(info, clock);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, Errc::policy);
  EXPECT_EQ(early.error().message,
            "certificate 0x1a2b cannot be renewed yet: the renewal window opens on 2027-01-30 (30 "
            "days before it expires on 2027-03-01)");
  clock.set(kNotAfter - std::chrono::days(30));
  EXPECT_TRUE(check_renewal_window(info, clock).ok());
  clock.set(kNotAfter - 1s);
  EXPECT_TRUE(check_renewal_window(info, clock).ok());
  clock.set(kNotAfter);
  Status expired = check_renewal_window(info, clock);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, Errc::policy);
  EXPECT_NE(expired.error().message.find("expired on 2027-03-01: it cannot be renewed"),
            std::string::npos)
      << expired.error().message;
  // A wider window (the CA's dojangd.toml may set one).
  clock.set(kNotAfter - std::chrono::days(300));
  EXPECT_TRUE(check_renewal_window(info, clock, std::chrono::days(400)).ok());
  EXPECT_EQ(renewal_opens(info, std::chrono::days(400)), kNotAfter - std::chrono::days(400));
}

TEST(HolderRevocationReasonTest, OnlyTheReasonsAHolderMayGive) {
  EXPECT_EQ(parse_holder_revocation_reason("keyCompromise").value(), 1);
  EXPECT_EQ(parse_holder_revocation_reason("key-compromise").value(), 1);
  EXPECT_EQ(parse_holder_revocation_reason("AFFILIATION_CHANGED").value(), 3);
  EXPECT_EQ(parse_holder_revocation_reason("superseded").value(), 4);
  EXPECT_EQ(parse_holder_revocation_reason("5").value(), 5);
  EXPECT_EQ(parse_holder_revocation_reason("unspecified").value(), 0);
  for (const char* refused : {"certificateHold", "6", "cACompromise", "removeFromCRL", ""}) {
    auto r = parse_holder_revocation_reason(refused);
    ASSERT_FALSE(r.ok()) << refused;
    EXPECT_EQ(r.error().code, Errc::usage);
  }
  EXPECT_STREQ(holder_revocation_reason_name(5), "cessationOfOperation");
}

TEST(RetireTest, MovesTheCredentialOutOfTheListingAndKeepsItsFiles) {
  TempDir dir;
  NpkiStore store({dir / "NPKI"});
  auto cert = read_bytes(data_path("pki/cred/yessign-general/signCert.der"));
  auto key = read_bytes(data_path("pki/cred/yessign-general/signPri.key"));
  auto added = store.add(cert, key, std::nullopt);
  ASSERT_TRUE(added.ok()) << added.error().message;
  auto moved = store.retire(*added, "revoked");
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(moved->parent_path(), added->folder.parent_path());
  EXPECT_TRUE(moved->filename().string().starts_with(".revoked-" + added->info->serial_hex + "-"))
      << *moved;
  EXPECT_EQ(read_bytes(*moved / "signPri.key"), key);
  EXPECT_FALSE(fs::exists(added->folder));
  EXPECT_TRUE(store.list()->empty());
  EXPECT_EQ(store.select("0x" + added->info->serial_hex).error().code, Errc::not_found);

  // The same credential again, retired again: a second name.
  auto again = store.add(cert, key, std::nullopt);
  ASSERT_TRUE(again.ok()) << again.error().message;
  auto second = store.retire(*again, "revoked");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->filename().string(), moved->filename().string() + ".2");

  // Only folders of this store.
  StoredCredential foreign;
  foreign.folder = dir / "elsewhere";
  fs::create_directories(foreign.folder);
  EXPECT_EQ(store.retire(foreign, "revoked").error().code, Errc::usage);
}

}  // namespace
}  // namespace dojang::wallet
