// GET /ocsp/<base64> decoding (RFC 6960 appendix A.1) and the OCSP/CRL HTTP edge.
#include "dojang/service/revocation.hpp"

#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include "dojang/ca/issue.hpp"
#include "testing/testing.hpp"

namespace dojang::service {
namespace {

Bytes decoded(std::string_view path) {
  auto r = decode_ocsp_get_path(path);
  EXPECT_TRUE(r.ok()) << path << ": " << r.error().message;
  return r.ok() ? *r : Bytes{};
}

// Base64 of {0xfb, 0xef, 0xff} is "++//": the characters URL encoding trips over.
TEST(OcspGetPathTest, PlusIsAPlusAndPercentEscapesAreDecoded) {
  const Bytes want = {0xfb, 0xef, 0xff};
  EXPECT_EQ(decoded("++//"), want);
  EXPECT_EQ(decoded("%2B%2B%2F%2F"), want);
  EXPECT_EQ(decoded("%2b+%2f/"), want);
  EXPECT_EQ(decoded("--__"), want);  // base64url
}

TEST(OcspGetPathTest, PaddingOptional) {
  const Bytes want = {0x30, 0x03};
  EXPECT_EQ(decoded("MAM="), want);
  EXPECT_EQ(decoded("MAM%3D"), want);
  EXPECT_EQ(decoded("MAM"), want);
}

TEST(OcspGetPathTest, Malformed) {
  for (std::string_view bad : {"", "%", "%2", "%zz", "!!!!", "MA=M", "%00%00"}) {
    auto r = decode_ocsp_get_path(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, Errc::invalid_input) << bad;
    }
  }
}

// A change written through another Registry object (as `dojangd ca revoke`
// does from another process) reaches OCSP on the watcher's next poll, and the
// CRLs on the next tick once publish_interval has passed.
TEST(RevocationWatcherTest, PicksUpChangesMadeElsewhere) {
  dojang::testing::TempDir tmp;
  FakeClock clock(
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  ca::InitOptions o;
  o.issuing_key = ca::KeyType::rsa2048;
  auto h = ca::init_hierarchy(tmp / "ca", SecretString("watcher test passphrase"), o, clock);
  ASSERT_TRUE(h.ok()) << h.error().message;
  auto db = store::Database::open(tmp / "dojang.db");
  ASSERT_TRUE(db.ok());
  auto served = ca::Registry::open(*db, clock);         // the one dojangd serve uses
  auto operator_side = ca::Registry::open(*db, clock);  // another writer
  ASSERT_TRUE(served.ok() && operator_side.ok());
  ca::CertificateRecord rec;
  rec.serial_hex = "7a0102030405060708090a0b0c0d0e0f";
  rec.customer_id = "hong";
  rec.application_ref = "1";
  rec.subject = "cn=x";
  rec.not_before = clock.now();
  rec.not_after = clock.now() + std::chrono::hours(24 * 365);
  rec.der = {0x30, 0x00};
  rec.transaction_id = "00";
  ASSERT_TRUE((*operator_side)->record_pending(rec).ok());
  ASSERT_TRUE((*operator_side)->confirm(rec.serial_hex).ok());

  auto ocsp = ca::OcspResponder::create(*h, **served, clock);
  ASSERT_TRUE(ocsp.ok());
  ca::CrlOptions co;
  co.publish_interval = std::chrono::seconds(60);
  ca::CrlPublisher crls(*h, **served, clock, co);
  ASSERT_TRUE(crls.publish().ok());
  RevocationWatcher watcher(**served, **ocsp, crls);

  // An OCSP request for the serial (SHA-1 CertID), built with OpenSSL.
  const Bytes serial = *ca::serial_from_hex(rec.serial_hex);
  BIGNUM* bn = ::BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
  ASN1_INTEGER* ai = ::BN_to_ASN1_INTEGER(bn, nullptr);
  OCSP_CERTID* id =
      ::OCSP_cert_id_new(::EVP_sha1(), ::X509_get_subject_name(h->issuing_cert().native()),
                         ::X509_get0_pubkey_bitstr(h->issuing_cert().native()), ai);
  OCSP_REQUEST* req = ::OCSP_REQUEST_new();
  ::OCSP_request_add0_id(req, id);
  unsigned char* der = nullptr;
  int len = ::i2d_OCSP_REQUEST(req, &der);
  const Bytes request(der, der + len);
  ::OPENSSL_free(der);
  ::OCSP_REQUEST_free(req);
  ::ASN1_INTEGER_free(ai);
  ::BN_free(bn);
  auto status = [&] {
    auto a = (*ocsp)->respond(request);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(a.der->data());
    OCSP_RESPONSE* resp = ::d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(a.der->size()));
    OCSP_BASICRESP* bs = ::OCSP_response_get1_basic(resp);
    int st = -1;
    if (bs != nullptr) {
      OCSP_SINGLERESP* single = ::OCSP_resp_get0(bs, 0);
      st = ::OCSP_single_get0_status(single, nullptr, nullptr, nullptr, nullptr);
    }
    ::OCSP_BASICRESP_free(bs);
    ::OCSP_RESPONSE_free(resp);
    return st;
  };
  EXPECT_EQ(status(), V_OCSP_CERTSTATUS_GOOD);
  auto number = crls.get("full")->number;

  ASSERT_TRUE((*operator_side)
                  ->revoke(rec.serial_hex, ca::RevocationReason::certificate_hold, clock.now())
                  .ok());
  EXPECT_EQ(status(), V_OCSP_CERTSTATUS_GOOD);  // the cached answer: not seen yet
  watcher.run_once(/*tick=*/false);
  EXPECT_EQ(status(), V_OCSP_CERTSTATUS_REVOKED);  // seen on the next poll
  watcher.run_once(/*tick=*/true);
  EXPECT_EQ(crls.get("full")->number, number);  // within publish_interval
  clock.advance(std::chrono::seconds(61));
  watcher.run_once(/*tick=*/true);
  EXPECT_GT(crls.get("full")->number, number);

  // Through the served Registry itself: at once, with no poll (its change listener).
  ASSERT_TRUE((*served)->unhold(rec.serial_hex).ok());
  EXPECT_EQ(status(), V_OCSP_CERTSTATUS_GOOD);
  ASSERT_TRUE(
      (*served)->revoke(rec.serial_hex, ca::RevocationReason::key_compromise, clock.now()).ok());
  EXPECT_EQ(status(), V_OCSP_CERTSTATUS_REVOKED);
}

}  // namespace
}  // namespace dojang::service
