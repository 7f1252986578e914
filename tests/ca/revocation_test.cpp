// Revocation in the registry, CRLs and the OCSP responder, with a fake clock.
// Responses and CRLs are decoded with OpenSSL's own parsers and verified
// against the hierarchy (OCSP_basic_verify, X509_CRL_verify).
#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include <chrono>

#include "ca/ca_testing.hpp"
#include "pki/internal/ossl.hpp"
#include "dojang/ca/crl.hpp"
#include "dojang/ca/ocsp.hpp"
#include "dojang/ca/registry.hpp"

namespace dojang::ca {
namespace {

using namespace std::chrono_literals;
using dojang::testing::TempDir;
using pki::internal::own;
using pki::internal::Ptr;
using test::kPassphrase;

// ---------------------------------------------------------------------------
// Registry

class RevocationRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open(dir_ / "dojang.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = *db;
    auto r = Registry::open(db_, clock_);
    ASSERT_TRUE(r.ok()) << r.error().message;
    reg_ = std::move(*r);
  }
  void add(const std::string& serial, bool confirm = true) {
    CertificateRecord r;
    r.serial_hex = serial;
    r.customer_id = "hong";
    r.application_ref = "12345678";
    r.subject = "cn=x";
    r.not_before = clock_.now();
    r.not_after = clock_.now() + 24h * 365;
    r.der = {0x30, 0x00};
    r.transaction_id = "00";
    ASSERT_TRUE(reg_->record_pending(r).ok());
    if (confirm) {
      ASSERT_TRUE(reg_->confirm(serial).ok());
    }
  }
  void expectError(const Status& s, Errc code, const std::string& text = {}) {
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, code) << s.error().message;
    if (!text.empty()) {
      EXPECT_NE(s.error().message.find(text), std::string::npos) << s.error().message;
    }
  }

  TempDir dir_;
  FakeClock clock_{TimePoint{} + std::chrono::seconds(1'700'000'000)};
  std::shared_ptr<store::Database> db_;
  std::unique_ptr<Registry> reg_;
};

TEST_F(RevocationRegistryTest, MigrationTwoIsApplied) {
  auto v = db_->schema_version("ca");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 2);
}

TEST_F(RevocationRegistryTest, RevokeConfirmed) {
  add("0a");
  const TimePoint when = clock_.now() + 10s;
  ASSERT_TRUE(reg_->revoke("0a", RevocationReason::key_compromise, when).ok());
  auto r = reg_->find("0a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, CertStatus::confirmed);
  EXPECT_TRUE(r->revoked());
  EXPECT_EQ(r->revoked_at, when);
  EXPECT_EQ(r->revocation_reason, RevocationReason::key_compromise);
  expectError(reg_->revoke("0a", RevocationReason::superseded, when), Errc::policy,
              "already revoked (keyCompromise)");
  expectError(reg_->unhold("0a"), Errc::policy, "revoked for good");
}

TEST_F(RevocationRegistryTest, RefusesWhatIsNotConfirmed) {
  add("0b", /*confirm=*/false);
  expectError(reg_->revoke("0b", RevocationReason::superseded, clock_.now()), Errc::policy,
              "is pending");
  expectError(reg_->revoke("ff", RevocationReason::superseded, clock_.now()), Errc::not_found);
  expectError(reg_->unhold("ff"), Errc::not_found);
  ASSERT_TRUE(reg_->reject("0b").ok());
  expectError(reg_->revoke("0b", RevocationReason::superseded, clock_.now()), Errc::policy,
              "is rejected");
  add("0c");
  expectError(reg_->revoke("0c", RevocationReason::remove_from_crl, clock_.now()), Errc::usage);
}

TEST_F(RevocationRegistryTest, HoldResumeAndHoldThenRevoke) {
  add("0d");
  expectError(reg_->unhold("0d"), Errc::policy, "not suspended");
  ASSERT_TRUE(reg_->revoke("0d", RevocationReason::certificate_hold, clock_.now()).ok());
  expectError(reg_->revoke("0d", RevocationReason::certificate_hold, clock_.now()), Errc::policy,
              "suspended");
  ASSERT_TRUE(reg_->unhold("0d").ok());
  auto r = reg_->find("0d");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->revoked());
  ASSERT_TRUE(reg_->revoke("0d", RevocationReason::certificate_hold, clock_.now()).ok());
  ASSERT_TRUE(reg_->revoke("0d", RevocationReason::key_compromise, clock_.now()).ok());
  r = reg_->find("0d");
  EXPECT_EQ(r->revocation_reason, RevocationReason::key_compromise);
}

TEST_F(RevocationRegistryTest, ListRevokedIncludesRejectedAndUnconfirmed) {
  add("01");
  add("02");
  add("03", false);
  add("04", false);
  add("11");
  ASSERT_TRUE(reg_->revoke("01", RevocationReason::superseded, clock_.now()).ok());
  ASSERT_TRUE(reg_->reject("03").ok());
  clock_.advance(11min);
  auto n = reg_->expire_unconfirmed();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);  // 04
  ASSERT_TRUE(reg_->revoke("11", RevocationReason::certificate_hold, clock_.now()).ok());
  auto all = reg_->list_revoked();
  ASSERT_TRUE(all.ok());
  std::vector<std::string> serials;
  for (const auto& e : *all) serials.push_back(e.serial_hex);
  EXPECT_EQ(serials, (std::vector<std::string>{"01", "03", "04", "11"}));
  EXPECT_EQ((*all)[2].revocation_time(), clock_.now());  // 04: when it timed out
  // Partition = first byte mod 16: 0x11 -> 1, 0x01 -> 1, 0x03 -> 3, 0x04 -> 4.
  auto p1 = reg_->list_revoked(1, 16);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->size(), 2u);
  EXPECT_EQ((*p1)[0].serial_hex, "01");
  EXPECT_EQ((*p1)[1].serial_hex, "11");
  auto p2 = reg_->list_revoked(2, 16);
  ASSERT_TRUE(p2.ok());
  EXPECT_TRUE(p2->empty());
}

TEST_F(RevocationRegistryTest, RevisionAndChangesSince) {
  auto r0 = reg_->revision();
  ASSERT_TRUE(r0.ok());
  std::int64_t heard = 0;
  reg_->set_change_listener([&](std::int64_t rev) { heard = rev; });
  add("05");  // pending + confirm: two changes
  auto r1 = reg_->revision();
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(*r1, *r0 + 2);
  EXPECT_EQ(heard, *r1);
  ASSERT_TRUE(reg_->revoke("05", RevocationReason::superseded, clock_.now()).ok());
  EXPECT_EQ(heard, *r1 + 1);
  auto changes = reg_->changes_since(*r1);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].serial_hex, "05");
  EXPECT_EQ((*changes)[0].reason, RevocationReason::superseded);
  EXPECT_TRUE(reg_->confirm("05").ok());  // repeated certConf: no change
  EXPECT_EQ(heard, *r1 + 1);
  reg_->set_change_listener(nullptr);
}

TEST_F(RevocationRegistryTest, CrlNumbersSurviveReopen) {
  auto a = reg_->next_crl_number();
  auto b = reg_->next_crl_number();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*b, *a + 1);
  reg_.reset();
  db_.reset();
  auto db = store::Database::open(dir_ / "dojang.db");
  ASSERT_TRUE(db.ok());
  auto again = Registry::open(*db, clock_);
  ASSERT_TRUE(again.ok());
  auto c = (*again)->next_crl_number();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, *b + 1);
}

TEST(RevocationParseTest, Serials) {
  EXPECT_EQ(parse_serial("0x7D02727F").value(), "7d02727f");
  EXPECT_EQ(parse_serial("0x0001ff").value(), "01ff");
  EXPECT_EQ(parse_serial("255").value(), "ff");
  EXPECT_EQ(parse_serial("256").value(), "0100");
  for (const char* bad : {"", "0x", "12a", "0xzz", "-5", "0", "0x00"})
    EXPECT_EQ(parse_serial(bad).error().code, Errc::usage) << bad;
}

TEST(RevocationParseTest, Reasons) {
  EXPECT_EQ(parse_revocation_reason("keyCompromise").value(), RevocationReason::key_compromise);
  EXPECT_EQ(parse_revocation_reason("key-compromise").value(), RevocationReason::key_compromise);
  EXPECT_EQ(parse_revocation_reason("certificate_hold").value(),
            RevocationReason::certificate_hold);
  EXPECT_EQ(parse_revocation_reason("hold").value(), RevocationReason::certificate_hold);
  EXPECT_EQ(parse_revocation_reason("SUPERSEDED").value(), RevocationReason::superseded);
  EXPECT_EQ(parse_revocation_reason("4").value(), RevocationReason::superseded);
  EXPECT_EQ(parse_revocation_reason("7").error().code, Errc::usage);
  EXPECT_EQ(parse_revocation_reason("lost").error().code, Errc::usage);
  EXPECT_STREQ(revocation_reason_name(RevocationReason::aa_compromise), "aACompromise");
}

// ---------------------------------------------------------------------------
// CRLs and OCSP over a real hierarchy (RSA-2048 issuing CA, made once).

class RevocationCaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    auto h = test::shared_hierarchy(*tmp_ / "ca", KeyType::rsa2048);
    ASSERT_TRUE(h.ok()) << h.error().message;
    ca_ = new Hierarchy(std::move(h).value());
    auto key = pki::PrivateKey::generate_rsa(2048);
    ASSERT_TRUE(key.ok());
    subject_ = new pki::PrivateKey(std::move(key).value());
  }
  static void TearDownTestSuite() {
    delete subject_;
    delete ca_;
    delete tmp_;
  }
  void SetUp() override {
    auto db = store::Database::open(dir_ / "dojang.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = *db;
    auto r = Registry::open(db_, clock_);
    ASSERT_TRUE(r.ok()) << r.error().message;
    reg_ = std::move(*r);
  }

  // Issues and records a certificate; confirmed unless told otherwise.
  pki::Certificate issue(bool confirm = true) {
    auto r = pki::random_bytes(20);
    EXPECT_TRUE(r.ok());
    IssueRequest req = test::request_for(*subject_, SecretBytes(*r));
    auto cert = issue_certificate(*ca_, req, clock_);
    EXPECT_TRUE(cert.ok()) << cert.error().message;
    CertificateRecord rec;
    rec.serial_hex = serial_to_hex(req.serial);
    rec.customer_id = "hong";
    rec.application_ref = "1";
    rec.subject = "cn=x";
    rec.not_before = clock_.now() - 5min;
    rec.not_after = clock_.now() - 5min + 24h * 365;
    rec.der = *cert->der();
    rec.transaction_id = "00";
    EXPECT_TRUE(reg_->record_pending(rec).ok());
    if (confirm) {
      EXPECT_TRUE(reg_->confirm(rec.serial_hex).ok());
    }
    return std::move(cert).value();
  }
  static std::string serial_of(const pki::Certificate& c) {
    const ASN1_INTEGER* s = ::X509_get0_serialNumber(c.native());
    return serial_to_hex(ByteView(ASN1_STRING_get0_data(s), ASN1_STRING_length(s)));
  }

  static inline TempDir* tmp_ = nullptr;
  static inline Hierarchy* ca_ = nullptr;
  static inline pki::PrivateKey* subject_ = nullptr;
  TempDir dir_;
  FakeClock clock_ = test::clock_at_now();
  std::shared_ptr<store::Database> db_;
  std::unique_ptr<Registry> reg_;
};

// --- CRL ---

class CrlTest : public RevocationCaTest {
 protected:
  static Ptr<X509_CRL> parse(const std::string& der) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    Ptr<X509_CRL> crl = own(::d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    EXPECT_TRUE(crl) << "CRL does not parse";
    if (crl) {
      EXPECT_EQ(::X509_CRL_verify(crl.get(), ::X509_get0_pubkey(ca_->issuing_cert().native())), 1);
    }
    return crl;
  }
  static long number_of(X509_CRL* crl) {
    Ptr<ASN1_INTEGER> n(
        static_cast<ASN1_INTEGER*>(::X509_CRL_get_ext_d2i(crl, NID_crl_number, nullptr, nullptr)));
    return n ? ::ASN1_INTEGER_get(n.get()) : -1;
  }
  static bool lists(X509_CRL* crl, const pki::Certificate& c, int* reason = nullptr) {
    X509_REVOKED* entry = nullptr;
    if (::X509_CRL_get0_by_cert(crl, &entry, const_cast<X509*>(c.native())) != 1) return false;
    if (reason != nullptr) {
      Ptr<ASN1_ENUMERATED> code(static_cast<ASN1_ENUMERATED*>(
          ::X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr)));
      *reason = code ? static_cast<int>(::ASN1_ENUMERATED_get(code.get())) : -1;
    }
    return true;
  }
  // The URI of the CRL's issuingDistributionPoint, and whether it is critical.
  static std::optional<std::string> idp_of(X509_CRL* crl, bool* critical) {
    int crit = -1;
    Ptr<ISSUING_DIST_POINT> idp(static_cast<ISSUING_DIST_POINT*>(
        ::X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, nullptr)));
    if (!idp) return std::nullopt;
    *critical = crit == 1;
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(idp->distpoint->name.fullname, 0);
    const ASN1_IA5STRING* uri = g->d.uniformResourceIdentifier;
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                       ASN1_STRING_length(uri));
  }
  // The URI of a certificate's cRLDistributionPoints.
  static std::string cdp_of(const pki::Certificate& c) {
    Ptr<CRL_DIST_POINTS> dps(static_cast<CRL_DIST_POINTS*>(
        ::X509_get_ext_d2i(c.native(), NID_crl_distribution_points, nullptr, nullptr)));
    const DIST_POINT* dp = sk_DIST_POINT_value(dps.get(), 0);
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
    const ASN1_IA5STRING* uri = g->d.uniformResourceIdentifier;
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                       ASN1_STRING_length(uri));
  }
  static std::string partition_of(const pki::Certificate& c) {
    auto bytes = serial_from_hex(serial_of(c));
    return crl_partition_name(crl_partition(*bytes, ca_->options().crl_partitions));
  }
};

TEST_F(CrlTest, PartitionCrlNamesTheCertificatesDistributionPoint) {
  auto good = issue();
  auto bad = issue();
  ASSERT_TRUE(reg_->revoke(serial_of(bad), RevocationReason::key_compromise, clock_.now()).ok());
  CrlPublisher pub(*ca_, *reg_, clock_);
  ASSERT_TRUE(pub.publish().ok());

  auto part = pub.get(partition_of(bad));
  ASSERT_TRUE(part);
  Ptr<X509_CRL> crl = parse(part->der);
  ASSERT_TRUE(crl);
  bool critical = false;
  auto idp = idp_of(crl.get(), &critical);
  ASSERT_TRUE(idp.has_value());
  EXPECT_TRUE(critical);
  EXPECT_EQ(*idp, cdp_of(bad));  // exactly the URL in the certificate
  int reason = 0;
  EXPECT_TRUE(lists(crl.get(), bad, &reason));
  EXPECT_EQ(reason, 1);  // keyCompromise
  EXPECT_FALSE(lists(crl.get(), good));

  auto full = pub.get("full");
  ASSERT_TRUE(full);
  Ptr<X509_CRL> fcrl = parse(full->der);
  ASSERT_TRUE(fcrl);
  EXPECT_FALSE(idp_of(fcrl.get(), &critical).has_value());
  EXPECT_TRUE(lists(fcrl.get(), bad));
  EXPECT_EQ(pub.get("p99"), nullptr);
  EXPECT_EQ(pub.get("nope"), nullptr);
  for (unsigned i = 0; i < ca_->options().crl_partitions; ++i)
    EXPECT_TRUE(pub.get(crl_partition_name(i))) << i;
}

TEST_F(CrlTest, RejectedUnconfirmedAndHeldAreListed) {
  auto rejected = issue(false);
  ASSERT_TRUE(reg_->reject(serial_of(rejected)).ok());
  auto held = issue();
  ASSERT_TRUE(reg_->revoke(serial_of(held), RevocationReason::certificate_hold, clock_.now()).ok());
  auto unconfirmed = issue(false);
  clock_.advance(11min);
  ASSERT_TRUE(reg_->expire_unconfirmed().ok());
  CrlPublisher pub(*ca_, *reg_, clock_);
  ASSERT_TRUE(pub.publish().ok());
  Ptr<X509_CRL> crl = parse(pub.get("full")->der);
  int reason = 0;
  EXPECT_TRUE(lists(crl.get(), rejected, &reason));
  EXPECT_EQ(reason, -1);  // no reasonCode
  EXPECT_TRUE(lists(crl.get(), unconfirmed));
  EXPECT_TRUE(lists(crl.get(), held, &reason));
  EXPECT_EQ(reason, 6);  // certificateHold

  ASSERT_TRUE(reg_->unhold(serial_of(held)).ok());
  ASSERT_TRUE(pub.publish().ok());
  crl = parse(pub.get("full")->der);
  EXPECT_FALSE(lists(crl.get(), held));
}

TEST_F(CrlTest, NumbersIncreaseAndScheduleHonoursIntervalAndNextUpdate) {
  CrlOptions o;
  o.validity = 24h;
  o.publish_interval = 60s;
  o.refresh_margin = 1h;
  CrlPublisher pub(*ca_, *reg_, clock_, o);
  EXPECT_EQ(pub.get("full"), nullptr);
  auto t = pub.tick();  // nothing published yet: due
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(*t);
  auto first = pub.get("full");
  ASSERT_TRUE(first);
  Ptr<X509_CRL> c1 = parse(first->der);
  EXPECT_EQ(first->next_update - first->this_update, 24h);
  EXPECT_EQ(first->etag, "\"full-" + std::to_string(first->number) + "\"");

  EXPECT_FALSE(*pub.tick());  // nothing changed
  auto cert = issue();
  ASSERT_TRUE(reg_->revoke(serial_of(cert), RevocationReason::superseded, clock_.now()).ok());
  pub.note_change();
  clock_.advance(30s);
  EXPECT_FALSE(*pub.tick());  // changed, but within publish_interval of the last publication
  clock_.advance(31s);
  EXPECT_TRUE(*pub.tick());  // at most publish_interval later
  auto second = pub.get("full");
  Ptr<X509_CRL> c2 = parse(second->der);
  EXPECT_GT(number_of(c2.get()), number_of(c1.get()));
  EXPECT_TRUE(lists(c2.get(), cert));
  EXPECT_FALSE(*pub.tick());

  // Unchanged: re-published before nextUpdate (refresh_margin ahead).
  clock_.advance(22h);
  EXPECT_FALSE(*pub.tick());
  clock_.advance(1h);
  EXPECT_TRUE(*pub.tick());
  auto third = pub.get(partition_of(cert));
  EXPECT_GT(third->number, second->number);
  EXPECT_EQ(third->this_update, std::chrono::time_point_cast<std::chrono::seconds>(clock_.now()));
}

// --- OCSP ---

class OcspTest : public RevocationCaTest {
 protected:
  void makeResponder(OcspOptions o = {}) {
    auto r = OcspResponder::create(*ca_, *reg_, clock_, o);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ocsp_ = std::move(*r);
  }
  // An OCSPRequest for (issuer, serial) built with OpenSSL (SHA-1 CertID by default).
  static Bytes request(const pki::Certificate& issuer, const std::string& serial_hex,
                       bool nonce = false, const EVP_MD* md = nullptr) {
    auto bytes = serial_from_hex(serial_hex);
    Ptr<BIGNUM> bn = own(::BN_bin2bn(bytes->data(), static_cast<int>(bytes->size()), nullptr));
    Ptr<ASN1_INTEGER> ai = own(::BN_to_ASN1_INTEGER(bn.get(), nullptr));
    OCSP_CERTID* id = ::OCSP_cert_id_new(md != nullptr ? md : ::EVP_sha1(),
                                         ::X509_get_subject_name(issuer.native()),
                                         ::X509_get0_pubkey_bitstr(issuer.native()), ai.get());
    Ptr<OCSP_REQUEST> req = own(::OCSP_REQUEST_new());
    EXPECT_NE(::OCSP_request_add0_id(req.get(), id), nullptr);
    if (nonce) {
      EXPECT_EQ(::OCSP_request_add1_nonce(req.get(), nullptr, -1), 1);
    }
    auto der = pki::internal::to_der(req.get(), ::i2d_OCSP_REQUEST, "i2d");
    return *der;
  }
  Bytes request(const pki::Certificate& cert, bool nonce = false) {
    return request(ca_->issuing_cert(), serial_of(cert), nonce);
  }

  struct Decoded {
    int response_status = -1;
    int cert_status = -2;
    int reason = -2;
    bool verified = false;
    bool nonce_ok = false;
    std::string this_update;
  };
  // Decodes and verifies a response to `req` (signature and signer chain to the root).
  Decoded decode(const OcspAnswer& a, const Bytes& req_der) {
    Decoded d;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(a.der->data());
    Ptr<OCSP_RESPONSE> resp =
        own(::d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(a.der->size())));
    if (!resp) return d;
    d.response_status = ::OCSP_response_status(resp.get());
    if (d.response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) return d;
    Ptr<OCSP_BASICRESP> bs = own(::OCSP_response_get1_basic(resp.get()));
    Ptr<X509_STORE> store = own(::X509_STORE_new());
    ::X509_STORE_add_cert(store.get(), const_cast<X509*>(ca_->root_cert().native()));
    Ptr<STACK_OF(X509)> chain = own(sk_X509_new_null());
    X509* issuing = ::X509_dup(ca_->issuing_cert().native());
    sk_X509_push(chain.get(), issuing);
    d.verified = ::OCSP_basic_verify(bs.get(), chain.get(), store.get(), 0) == 1;
    pki::internal::clear_errors();
    const unsigned char* q = req_der.data();
    Ptr<OCSP_REQUEST> req = own(::d2i_OCSP_REQUEST(nullptr, &q, static_cast<long>(req_der.size())));
    d.nonce_ok = ::OCSP_check_nonce(req.get(), bs.get()) == 1;
    OCSP_CERTID* id = ::OCSP_onereq_get0_id(::OCSP_request_onereq_get0(req.get(), 0));
    ASN1_GENERALIZEDTIME *rev = nullptr, *thisupd = nullptr, *nextupd = nullptr;
    if (::OCSP_resp_find_status(bs.get(), id, &d.cert_status, &d.reason, &rev, &thisupd,
                                &nextupd) == 1 &&
        thisupd != nullptr)
      d.this_update.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(thisupd)),
                           ASN1_STRING_length(thisupd));
    return d;
  }
  Decoded ask(const Bytes& req) { return decode(ocsp_->respond(req), req); }
  void expectStatus(const Bytes& req, int status, int reason = -1) {
    Decoded d = ask(req);
    ASSERT_EQ(d.response_status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
    EXPECT_TRUE(d.verified);
    EXPECT_EQ(d.cert_status, status);
    if (status == V_OCSP_CERTSTATUS_REVOKED) {
      EXPECT_EQ(d.reason, reason);
    }
  }
  int responseStatus(ByteView req) {
    OcspAnswer a = ocsp_->respond(req);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(a.der->data());
    Ptr<OCSP_RESPONSE> resp =
        own(::d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(a.der->size())));
    EXPECT_TRUE(resp);
    EXPECT_FALSE(a.successful);
    return resp ? ::OCSP_response_status(resp.get()) : -1;
  }

  std::unique_ptr<OcspResponder> ocsp_;
};

TEST_F(OcspTest, GoodRevokedUnknownPending) {
  auto good = issue();
  auto pending = issue(false);
  auto rejected = issue(false);
  ASSERT_TRUE(reg_->reject(serial_of(rejected)).ok());
  makeResponder();
  expectStatus(request(good), V_OCSP_CERTSTATUS_GOOD);
  expectStatus(request(pending), V_OCSP_CERTSTATUS_UNKNOWN);
  expectStatus(request(rejected), V_OCSP_CERTSTATUS_REVOKED, OCSP_REVOKED_STATUS_NOSTATUS);
  expectStatus(request(ca_->issuing_cert(), "7f0102030405060708"), V_OCSP_CERTSTATUS_UNKNOWN);
  // SHA-256 CertIDs are answered too.
  expectStatus(request(ca_->issuing_cert(), serial_of(good), false, ::EVP_sha256()),
               V_OCSP_CERTSTATUS_GOOD);
  // The pending one is confirmed: good once the responder refreshes.
  ASSERT_TRUE(reg_->confirm(serial_of(pending)).ok());
  ASSERT_TRUE(ocsp_->refresh().ok());
  expectStatus(request(pending), V_OCSP_CERTSTATUS_GOOD);
}

TEST_F(OcspTest, PreSignedUntilStatusChangesThenRevokedAtOnce) {
  auto cert = issue();
  makeResponder();
  Bytes req = request(cert);
  OcspAnswer a1 = ocsp_->respond(req);
  OcspAnswer a2 = ocsp_->respond(req);
  EXPECT_TRUE(a1.cacheable);
  EXPECT_EQ(*a1.der, *a2.der);  // the same pre-signed bytes
  EXPECT_EQ(ocsp_->stats().signatures, 1u);
  EXPECT_EQ(a1.next_update - a1.this_update, std::chrono::seconds(3600));

  ASSERT_TRUE(reg_->revoke(serial_of(cert), RevocationReason::key_compromise, clock_.now()).ok());
  ASSERT_TRUE(ocsp_->refresh().ok());
  EXPECT_EQ(ocsp_->stats().signatures, 2u);  // re-signed by refresh() itself
  expectStatus(req, V_OCSP_CERTSTATUS_REVOKED, 1);
  EXPECT_EQ(ocsp_->stats().signatures, 2u);  // and served from the cache
}

// refresh(at_least) reads the registry only when the index is behind that
// revision: a writer whose change another refresh already pulled in returns at
// once, and one whose change is new still gets it.
TEST_F(OcspTest, RefreshAtLeastSkipsOnlyWhatIsAlreadyKnown) {
  auto cert = issue();
  makeResponder();
  Bytes req = request(cert);
  expectStatus(req, V_OCSP_CERTSTATUS_GOOD);
  const std::int64_t known = ocsp_->revision();
  auto same = ocsp_->refresh(known);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, known);
  ASSERT_TRUE(reg_->revoke(serial_of(cert), RevocationReason::key_compromise, clock_.now()).ok());
  auto rev = reg_->revision();
  ASSERT_TRUE(rev.ok());
  ASSERT_GT(*rev, known);
  auto stale = ocsp_->refresh(known);  // already reflects `known`: nothing read
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(*stale, known);
  expectStatus(req, V_OCSP_CERTSTATUS_GOOD);  // the change is not in yet
  auto fresh = ocsp_->refresh(*rev);
  ASSERT_TRUE(fresh.ok());
  EXPECT_GE(*fresh, *rev);
  expectStatus(req, V_OCSP_CERTSTATUS_REVOKED, 1);
}

TEST_F(OcspTest, HoldAndResume) {
  auto cert = issue();
  makeResponder();
  Bytes req = request(cert);
  expectStatus(req, V_OCSP_CERTSTATUS_GOOD);
  ASSERT_TRUE(reg_->revoke(serial_of(cert), RevocationReason::certificate_hold, clock_.now()).ok());
  ASSERT_TRUE(ocsp_->refresh().ok());
  expectStatus(req, V_OCSP_CERTSTATUS_REVOKED, OCSP_REVOKED_STATUS_CERTIFICATEHOLD);
  ASSERT_TRUE(reg_->unhold(serial_of(cert)).ok());
  ASSERT_TRUE(ocsp_->refresh().ok());
  expectStatus(req, V_OCSP_CERTSTATUS_GOOD);
}

TEST_F(OcspTest, ReSignedBeforeGoingStale) {
  auto cert = issue();
  OcspOptions o;
  o.validity = 3600s;
  o.refresh_after = 1800s;
  makeResponder(o);
  Bytes req = request(cert);
  Decoded first = ask(req);
  clock_.advance(1799s);
  EXPECT_EQ(ask(req).this_update, first.this_update);  // still the pre-signed one
  EXPECT_EQ(ocsp_->resign_due(std::chrono::seconds(0)), 0u);
  EXPECT_EQ(ocsp_->resign_due(std::chrono::seconds(5)), 1u);  // background re-sign, ahead of time
  Decoded second = ask(req);
  EXPECT_NE(second.this_update, first.this_update);
  EXPECT_EQ(second.cert_status, V_OCSP_CERTSTATUS_GOOD);
  clock_.advance(1801s);  // stale without a background re-sign: re-signed on request
  Decoded third = ask(req);
  EXPECT_NE(third.this_update, second.this_update);
}

TEST_F(OcspTest, ExpiredIsNoLongerGood) {
  auto cert = issue();
  makeResponder();
  Bytes req = request(cert);
  expectStatus(req, V_OCSP_CERTSTATUS_GOOD);
  clock_.advance(24h * 366);
  expectStatus(req, V_OCSP_CERTSTATUS_UNKNOWN);
}

TEST_F(OcspTest, NonceGetsAFreshResponseEchoingIt) {
  auto cert = issue();
  makeResponder();
  Bytes r1 = request(cert, true);
  Bytes r2 = request(cert, true);
  OcspAnswer a1 = ocsp_->respond(r1);
  const auto signed_once = ocsp_->stats().signatures;
  OcspAnswer a2 = ocsp_->respond(r1);
  EXPECT_FALSE(a1.cacheable);
  EXPECT_FALSE(a2.cacheable);
  EXPECT_EQ(ocsp_->stats().signatures, signed_once + 1);  // signed again, never cached
  Decoded d = decode(a1, r1);
  EXPECT_TRUE(d.verified);
  EXPECT_TRUE(d.nonce_ok);
  EXPECT_EQ(d.cert_status, V_OCSP_CERTSTATUS_GOOD);
  Decoded other = decode(ocsp_->respond(r2), r1);  // r2's nonce does not match r1's
  EXPECT_FALSE(other.nonce_ok);
  EXPECT_GE(ocsp_->stats().signatures, 3u);
}

TEST_F(OcspTest, ErrorsAreOcspStatuses) {
  auto cert = issue();
  makeResponder();
  // Another issuer (the root's name and key in the CertID): unauthorized.
  EXPECT_EQ(responseStatus(request(ca_->root_cert(), serial_of(cert))),
            OCSP_RESPONSE_STATUS_UNAUTHORIZED);
  EXPECT_EQ(responseStatus(Bytes{}), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  EXPECT_EQ(responseStatus(Bytes{0x30, 0x03, 0x02, 0x01, 0x01}),
            OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  Bytes garbage(300, 0xA5);
  EXPECT_EQ(responseStatus(garbage), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  Bytes huge(64 * 1024, 0x30);
  EXPECT_EQ(responseStatus(huge), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  Bytes trailing = request(cert);
  trailing.push_back(0);
  EXPECT_EQ(responseStatus(trailing), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  // Every truncation of a valid request: malformed, never a crash.
  Bytes good = request(cert);
  for (std::size_t n = 1; n < good.size(); ++n)
    EXPECT_EQ(responseStatus(ByteView(good.data(), n)), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST) << n;
}

}  // namespace
}  // namespace dojang::ca
