// The CA's CMP endpoint in-process: HttpServer on a loopback port, our wallet
// CMP client (and OpenSSL's client API for p10cr and raw messages).
#include "dojang/service/cmp_server.hpp"

#include <gtest/gtest.h>
#include <openssl/cmp.h>
#include <openssl/x509.h>

#include <functional>
#include <regex>
#include <set>
#include <thread>

#include "dojang/pki/encrypted_vid.hpp"
#include "dojang/pki/random.hpp"
#include "dojang/pki/vid.hpp"
#include "dojang/service/data_dir.hpp"
#include "dojang/service/http_server.hpp"
#include "dojang/wallet/cmp_client.hpp"
#include "pki/internal/cmp_client.hpp"
#include "pki/internal/ossl.hpp"
#include "service/http_test_helpers.hpp"
#include "service/internal/cmp_server_asn1.hpp"
#include "testing/testing.hpp"

namespace dojang::service {
namespace {

namespace ossl = pki::internal;
namespace fs = std::filesystem;
using dojang::testing::TempDir;
using namespace std::chrono_literals;

constexpr const char* kIdn = "8001011234567";
constexpr const char* kOtherIdn = "9002022345678";
constexpr const char* kAuthText = "unknown reference number or wrong authorization code";

// Everything the suite shares: one CA (RSA-2048 issuing key, for speed), its
// bank and registry, the CMP service behind a real HTTP server.
struct World {
  TempDir dir;
  FakeClock clock{
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now())};
  std::unique_ptr<DataDir> data;
  std::unique_ptr<ca::Registry> registry;
  std::unique_ptr<CmpService> cmp;
  std::unique_ptr<HttpServer> server;
  std::vector<std::string> log;
  std::mutex log_mu;
  std::uint16_t port = 0;
  int customers = 0;

  World() {
    // The data directory (a CA hierarchy: RSA key generation) is made once per
    // test binary and shared by the test processes; each opens its own copy.
    const SecretString pass(std::string("operator passphrase"));
    const auto stamp = fs::last_write_time("/proc/self/exe").time_since_epoch().count();
    fs::path cached = dojang::testing::build_cache(
        "cmp-server-data-" + std::to_string(stamp), [&](const fs::path& aside) {
          ca::InitOptions o;
          o.issuing_key = ca::KeyType::rsa2048;
          auto made = DataDir::init(aside / "data", pass, o, clock);
          EXPECT_TRUE(made.ok()) << made.error().message;
          return made.ok();
        });
    EXPECT_FALSE(cached.empty());
    std::error_code ec;
    fs::copy(cached / "data", dir / "data", fs::copy_options::recursive, ec);
    EXPECT_FALSE(ec) << ec.message();
    auto d = DataDir::open(dir / "data", pass, clock);
    EXPECT_TRUE(d.ok()) << d.error().message;
    data = std::move(d).value();
    auto r = ca::Registry::open(data->database_handle(), clock);
    EXPECT_TRUE(r.ok()) << r.error().message;
    registry = std::move(r).value();
    CmpServiceOptions options;
    options.log = [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(log_mu);
      log.emplace_back(line);
    };
    cmp = std::make_unique<CmpService>(data->ca(), data->bank(), *registry, clock, options);
    Router router;
    register_cmp(router, *cmp);
    ServerConfig cfg;
    cfg.listen = "127.0.0.1:0";
    cfg.threads = 2;
    server = std::make_unique<HttpServer>(cfg, std::move(router));
    auto p = server->start();
    EXPECT_TRUE(p.ok()) << p.error().message;
    port = *p;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/pkix/"; }
  wallet::CmpEndpoint endpoint() const { return {url(), {data->ca().root_cert()}, 30}; }

  // Enrols a new customer and opens a teller application for them.
  ra::ApplicationTicket application(const char* idn = kIdn,
                                    ra::Purpose purpose = ra::Purpose::general,
                                    std::string* customer_out = nullptr) {
    std::string id;
    {
      std::lock_guard<std::mutex> lock(log_mu);
      id = "cust" + std::to_string(++customers);
    }
    ra::Enrolment e;
    e.customer_id = id;
    e.real_name = "홍길동";
    e.idn = SecretString(std::string(idn));
    e.phone = "010-1234-5678";
    e.bank_code = "WOORI";
    e.login_password = SecretString(std::string("login password 1"));
    Status s = data->bank().enrol(e);
    EXPECT_TRUE(s.ok()) << s.error().message;
    auto t = data->bank().teller_application(id, purpose);
    EXPECT_TRUE(t.ok()) << t.error().message;
    if (customer_out) *customer_out = id;
    return std::move(t).value();
  }
};

class CmpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { world_ = new World(); }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }
  void TearDown() override { ossl::clear_errors(); }

  static World& w() { return *world_; }

  static pki::PrivateKey new_key() {
    auto k = pki::PrivateKey::generate_rsa(2048);
    EXPECT_TRUE(k.ok());
    return std::move(k).value();
  }

  static std::pair<std::string, Bytes> evid_for(const char* idn, const SecretBytes& r) {
    auto ev = pki::make_encrypted_vid(w().data->ca().km_cert(), SecretString(std::string(idn)), r);
    EXPECT_TRUE(ev.ok()) << ev.error().message;
    return {"1.2.410.200004.10.1.1.2", *ev};  // not pki::kOidEncryptedVid (defined twice)
  }

  static SecretBytes random_r() {
    SecretBytes r(20);
    EXPECT_TRUE(pki::random_bytes(std::span<std::uint8_t>(r.data(), r.size())).ok());
    return r;
  }

  // The registry key of a certificate: its serial's bytes in hex (16 bytes).
  static std::string registry_key(const pki::Certificate& cert) {
    auto info = cert.info();
    EXPECT_TRUE(info.ok());
    std::string s = info->serial_hex;
    return std::string(s.size() < 32 ? 32 - s.size() : 0, '0') + s;
  }

  static void expectRefused(const Result<wallet::IssuedCertificate>& r, const std::string& text) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::policy) << r.error().message;
    EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
  }

  // The DER of an ir the OpenSSL client would send (captured, not sent).
  static Bytes capture_ir(const std::string& ref, const std::string& code) {
    static thread_local Bytes captured;
    Ptr<OSSL_CMP_CTX> ctx = own(::OSSL_CMP_CTX_new(ossl::libctx(), nullptr));
    ::OSSL_CMP_CTX_set_log_cb(
        ctx.get(), [](const char*, const char*, int, OSSL_CMP_severity, const char*) { return 1; });
    ::OSSL_CMP_CTX_set1_referenceValue(ctx.get(),
                                       reinterpret_cast<const unsigned char*>(ref.data()),
                                       static_cast<int>(ref.size()));
    ::OSSL_CMP_CTX_set1_secretValue(ctx.get(), reinterpret_cast<const unsigned char*>(code.data()),
                                    static_cast<int>(code.size()));
    pki::PrivateKey key = new_key();
    ::EVP_PKEY_up_ref(key.native());
    ::OSSL_CMP_CTX_set0_newPkey(ctx.get(), 1, key.native());
    Ptr<X509_NAME> name = own(::X509_NAME_new());
    ::X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("x"), 1, -1, 0);
    ::OSSL_CMP_CTX_set1_subjectName(ctx.get(), name.get());
    ::OSSL_CMP_CTX_set_transfer_cb(ctx.get(),
                                   [](OSSL_CMP_CTX*, const OSSL_CMP_MSG* req) -> OSSL_CMP_MSG* {
                                     auto der = ossl::to_der(req, ::i2d_OSSL_CMP_MSG, "ir");
                                     if (der.ok()) captured = *der;
                                     return nullptr;
                                   });
    captured.clear();
    X509* cert = ::OSSL_CMP_exec_certreq(ctx.get(), OSSL_CMP_IR, nullptr);
    EXPECT_EQ(cert, nullptr);
    ossl::clear_errors();
    return captured;
  }

  template <class T>
  using Ptr = ossl::Ptr<T>;
  template <class T>
  static Ptr<T> own(T* p) {
    return ossl::own(p);
  }

  static World* world_;
};
World* CmpServerTest::world_ = nullptr;

TEST_F(CmpServerTest, GenmReturnsCaCertsAndKmCert) {
  auto t = w().application();
  auto certs = wallet::request_ca_certs(w().endpoint(), t.ref, t.auth_code);
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  auto der_of = [](const pki::Certificate& c) { return c.der().value(); };
  std::set<Bytes> got;
  for (const auto& c : *certs) got.insert(der_of(c));
  EXPECT_EQ(got.size(), 3u);
  EXPECT_TRUE(got.count(der_of(w().data->ca().issuing_cert())));
  EXPECT_TRUE(got.count(der_of(w().data->ca().root_cert())));
  EXPECT_TRUE(got.count(der_of(w().data->ca().km_cert())));
  // genm does not use the application up.
  EXPECT_TRUE(w().data->bank().application_for_ca(t.ref).ok());
}

TEST_F(CmpServerTest, GenmWithWrongCodeIsRefused) {
  auto t = w().application();
  auto certs =
      wallet::request_ca_certs(w().endpoint(), t.ref, SecretString(std::string("WRONG-CODE")));
  ASSERT_FALSE(certs.ok());
  EXPECT_EQ(certs.error().code, Errc::policy) << certs.error().message;
  EXPECT_NE(certs.error().message.find(kAuthText), std::string::npos) << certs.error().message;
}

TEST_F(CmpServerTest, IrWithEncryptedVidIssuesTheRaSubjectAndConfirms) {
  std::string customer;
  auto t = w().application(kIdn, ra::Purpose::bank_insurance, &customer);
  pki::PrivateKey key = new_key();
  SecretBytes r = random_r();
  auto before = w().registry->counts().value();
  auto issued = wallet::request_ir(w().endpoint(), t.ref, t.auth_code, key, evid_for(kIdn, r));
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_TRUE(issued->cert.matches(key));
  auto info = issued->cert.info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->real_name, "홍길동");
  EXPECT_TRUE(info->subject.starts_with("cn=홍길동()")) << info->subject;
  EXPECT_NE(info->subject.find("ou=WOORI"), std::string::npos) << info->subject;
  EXPECT_EQ(info->subject.find("cn=" + t.ref), std::string::npos);  // the placeholder is ignored
  EXPECT_EQ(info->cn.size(), std::string("홍길동()").size() + 16);
  ASSERT_TRUE(info->vid.has_value());
  auto vid_ok = pki::verify_vid(issued->cert, r, SecretString(std::string(kIdn)));
  ASSERT_TRUE(vid_ok.ok()) << vid_ok.error().message;
  EXPECT_TRUE(*vid_ok);
  ASSERT_EQ(info->policies.size(), 1u);
  EXPECT_EQ(info->policies[0].oid, w().data->ca().options().policies.bank_insurance);
  ASSERT_FALSE(issued->ca_chain.empty());

  auto rec = w().registry->find(registry_key(issued->cert));
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  EXPECT_EQ(rec->status, ca::CertStatus::confirmed);
  EXPECT_EQ(rec->customer_id, customer);
  EXPECT_EQ(rec->application_ref, t.ref);
  EXPECT_EQ(rec->der, issued->cert.der().value());
  EXPECT_EQ(w().registry->counts()->confirmed, before.confirmed + 1);
  EXPECT_EQ(w().cmp->open_transactions(), 0u);

  // The reference number is used up.
  auto again = wallet::request_ir(w().endpoint(), t.ref, t.auth_code, key, std::nullopt);
  expectRefused(again, "notAuthorized");
  expectRefused(again, "reference number already used");
}

// Re-issue (재발급): the application names the replaced certificate and its
// notAfter; the new certificate keeps that notAfter, and its certConf revokes
// the old one with reason superseded.
TEST_F(CmpServerTest, ReissueKeepsTheOldNotAfterAndSupersedesTheOldCertificateOnConfirmation) {
  std::string customer;
  auto first = w().application(kIdn, ra::Purpose::general, &customer);
  pki::PrivateKey old_key = new_key();
  auto old_cert = wallet::request_ir(w().endpoint(), first.ref, first.auth_code, old_key, std::nullopt);
  ASSERT_TRUE(old_cert.ok()) << old_cert.error().message;
  const std::string old_serial = registry_key(old_cert->cert);
  auto old_rec = w().registry->find(old_serial);
  ASSERT_TRUE(old_rec.ok());

  // A verified bank session of the same customer opens the re-issue application.
  // (The suite's clock stands still, so a default term would end exactly when
  // the old one does: the application asks for 30 days less to show it is used.)
  const TimePoint carried = old_rec->not_after - std::chrono::hours(24 * 30);
  ra::Bank& bank = w().data->bank();
  auto session = bank.login(customer, SecretString(std::string("login password 1")));
  ASSERT_TRUE(session.ok()) << session.error().message;
  const std::string token(session->token.view());
  ASSERT_TRUE(bank.start_identity_check(token, SecretString(std::string(kIdn))).ok());
  auto box = w().data->sms().outbox(std::string_view("01012345678"));
  ASSERT_TRUE(box.ok() && !box->empty());
  std::smatch m;
  const std::string text(box->back().text.view());
  ASSERT_TRUE(std::regex_search(text, m, std::regex("([0-9]{6})")));
  ASSERT_TRUE(bank.verify_otp(token, m[1].str()).ok());
  auto t = bank.open_reissue_application(token, ra::Purpose::general, {old_serial, carried});
  ASSERT_TRUE(t.ok()) << t.error().message;

  pki::PrivateKey key = new_key();
  auto issued = wallet::request_ir(w().endpoint(), t->ref, t->auth_code, key, std::nullopt);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  auto info = issued->cert.info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->not_after, carried);
  auto old_now = w().registry->find(old_serial);
  ASSERT_TRUE(old_now.ok());
  EXPECT_TRUE(old_now->revoked_at.has_value());
  EXPECT_EQ(old_now->revocation_reason, ca::RevocationReason::superseded);
  auto new_rec = w().registry->find(registry_key(issued->cert));
  ASSERT_TRUE(new_rec.ok());
  EXPECT_EQ(new_rec->status, ca::CertStatus::confirmed);
  EXPECT_FALSE(new_rec->revoked_at.has_value());
}

TEST_F(CmpServerTest, IrWithoutRegInfoIssuesWithoutVid) {
  auto t = w().application();
  pki::PrivateKey key = new_key();
  auto issued = wallet::request_ir(w().endpoint(), t.ref, t.auth_code, key, std::nullopt);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  auto info = issued->cert.info();
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->vid.has_value());
  EXPECT_EQ(info->policies.at(0).oid, w().data->ca().options().policies.general);
}

TEST_F(CmpServerTest, WrongCodeCountsAndLocksAfterFive) {
  auto t = w().application();
  pki::PrivateKey key = new_key();
  SecretString wrong(std::string("AAAA-AAAA-AAAA-AAAA"));
  for (int i = 0; i < ra::kMaxMacFailures; ++i) {
    auto r = wallet::request_ir(w().endpoint(), t.ref, wrong, key, std::nullopt);
    expectRefused(r, "badMessageCheck");
    expectRefused(r, kAuthText);
  }
  auto app = w().data->bank().application_for_ca(t.ref);
  ASSERT_FALSE(app.ok());
  EXPECT_EQ(app.error().code, Errc::policy);
  auto locked = wallet::request_ir(w().endpoint(), t.ref, t.auth_code, key, std::nullopt);
  expectRefused(locked, "locked");
}

TEST_F(CmpServerTest, UnknownReferenceLooksLikeWrongCode) {
  auto t = w().application();
  pki::PrivateKey key = new_key();
  auto wrong = wallet::request_ir(
      w().endpoint(), t.ref, SecretString(std::string("BBBB-BBBB-BBBB-BBBB")), key, std::nullopt);
  auto unknown = wallet::request_ir(w().endpoint(), "99999999", t.auth_code, key, std::nullopt);
  ASSERT_FALSE(wrong.ok());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(wrong.error().code, unknown.error().code);
  EXPECT_EQ(wrong.error().message, unknown.error().message);
  auto app = w().data->bank().application_for_ca(t.ref);
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(app->mac_failures, 1);
}

TEST_F(CmpServerTest, ExpiredReference) {
  auto t = w().application();
  pki::PrivateKey key = new_key();
  TimePoint now = w().clock.now();
  w().clock.advance(ra::kTellerApplicationLifetime + 1h);
  auto r = wallet::request_ir(w().endpoint(), t.ref, t.auth_code, key, std::nullopt);
  w().clock.set(now);
  expectRefused(r, "expired");
}

TEST_F(CmpServerTest, VidOfAnotherIdnIsRefusedAndKeepsTheApplication) {
  auto t = w().application(kIdn);
  pki::PrivateKey key = new_key();
  SecretBytes r = random_r();
  auto res = wallet::request_ir(w().endpoint(), t.ref, t.auth_code, key, evid_for(kOtherIdn, r));
  expectRefused(res, "badRequest");
  expectRefused(res, "VID does not match the holder");
  // A tampered EncryptedVID: one text, whatever broke.
  auto ev = evid_for(kIdn, r);
  ev.second[ev.second.size() - 5] ^= 0x40;
  res = wallet::request_ir(w().endpoint(), t.ref, t.auth_code, key, ev);
  expectRefused(res, "EncryptedVID cannot be opened");
  // Nothing was used up.
  auto ok = wallet::request_ir(w().endpoint(), t.ref, t.auth_code, key, evid_for(kIdn, r));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
}

TEST_F(CmpServerTest, ClientRejectionIsRecorded) {
  auto t = w().application();
  pki::PrivateKey key = new_key();
  auto before = w().registry->counts().value();
  wallet::CmpEndpoint ep = w().endpoint();
  ep.trusted = {w().data->ca().km_cert()};  // not the root: the client refuses the certificate
  auto r = wallet::request_ir(ep, t.ref, t.auth_code, key, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input) << r.error().message;
  auto after = w().registry->counts().value();
  EXPECT_EQ(after.rejected, before.rejected + 1);
  EXPECT_EQ(w().cmp->open_transactions(), 0u);
}

TEST_F(CmpServerTest, P10crGetsTheRaSubject) {
  auto t = w().application();
  pki::PrivateKey key = new_key();
  std::vector<pki::Certificate> trusted = {w().data->ca().root_cert()};
  std::string url = w().url();
  ossl::CmpClientOptions o;
  o.url = url;
  o.trusted = &trusted;
  o.reference = t.ref;
  o.secret = &t.auth_code;
  auto client = ossl::CmpClient::create(o);
  ASSERT_TRUE(client.ok()) << client.error().message;
  OSSL_CMP_CTX* ctx = (*client)->ctx();
  Ptr<X509_REQ> csr = own(::X509_REQ_new_ex(ossl::libctx(), nullptr));
  Ptr<X509_NAME> name = own(::X509_NAME_new());
  ::X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("ignored"), -1, -1, 0);
  ASSERT_EQ(::X509_REQ_set_subject_name(csr.get(), name.get()), 1);
  ASSERT_EQ(::X509_REQ_set_pubkey(csr.get(), key.native()), 1);
  ASSERT_GT(::X509_REQ_sign(csr.get(), key.native(), ::EVP_sha256()), 0);
  ASSERT_EQ(::OSSL_CMP_CTX_set1_p10CSR(ctx, csr.get()), 1);
  X509* cert = ::OSSL_CMP_exec_certreq(ctx, OSSL_CMP_P10CR, nullptr);
  ASSERT_NE(cert, nullptr) << ossl::exchange_error(ctx, "p10cr").message;
  pki::Certificate issued = pki::Certificate::adopt(cert);  // adopt up-refs; ctx keeps its own
  auto info = issued.info();
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->subject.starts_with("cn=홍길동()")) << info->subject;
  auto rec = w().registry->find(registry_key(issued));
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, ca::CertStatus::confirmed);
}

TEST_F(CmpServerTest, GarbageTruncatedAndBitFlippedBodiesNeverCrash) {
  auto t = w().application();
  Bytes ir = capture_ir(t.ref, std::string(t.auth_code.view()));
  ASSERT_FALSE(ir.empty());
  auto check = [](const Response& r) {
    if (r.status == 200) {
      EXPECT_EQ(r.content_type, kCmpContentType);
      const unsigned char* p = reinterpret_cast<const unsigned char*>(r.body.data());
      Ptr<OSSL_CMP_MSG> msg =
          own(::d2i_OSSL_CMP_MSG(nullptr, &p, static_cast<long>(r.body.size())));
      ASSERT_TRUE(msg);
      int type = ::OSSL_CMP_MSG_get_bodytype(msg.get());
      EXPECT_TRUE(type == internal::kBodyError || type == internal::kBodyIp) << type;
    } else {
      EXPECT_EQ(r.status, 400) << r.body;
    }
    ossl::clear_errors();
  };
  check(w().cmp->handle_der({}));
  Bytes garbage(300);
  ASSERT_TRUE(pki::random_bytes(std::span<std::uint8_t>(garbage)).ok());
  check(w().cmp->handle_der(garbage));
  garbage[0] = 0x30;
  garbage[1] = 0x82;
  check(w().cmp->handle_der(garbage));
  for (size_t n = 0; n < ir.size(); n += 13) check(w().cmp->handle_der(ByteView(ir.data(), n)));
  for (size_t i = 0; i < ir.size(); i += 11) {
    Bytes flipped = ir;
    flipped[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    check(w().cmp->handle_der(flipped));
  }
  // A certConf nobody asked for: an ir's header with another body cannot be
  // made here, but an unknown transaction is covered by the flipped bodies.
  // Over HTTP: size and media type.
  testing::RawClient c(w().port);
  std::string big(kMaxCmpBodyBytes + 1, 'x');
  auto r = c.roundtrip(testing::post_request("/pkix/", big));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  testing::RawClient c2(w().port);
  std::string body(ir.begin(), ir.end());
  r = c2.roundtrip(testing::post_request("/pkix/", body, "Content-Type: text/plain\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 415);
  testing::RawClient c3(w().port);
  std::string hello =
      "POST /pkix/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkixcmp\r\n"
      "Content-Length: 5\r\n\r\nhello";
  r = c3.roundtrip(hello);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(CmpServerTest, ConcurrentIssuancesHaveUniqueSerials) {
  constexpr int kN = 20;
  std::vector<ra::ApplicationTicket> tickets;
  for (int i = 0; i < kN; ++i) tickets.push_back(w().application());
  auto before = w().registry->counts().value();
  std::vector<std::string> serials(kN);
  std::vector<std::string> errors(kN);
  std::vector<std::thread> threads;
  for (int i = 0; i < kN; ++i)
    threads.emplace_back([&, i] {
      auto key = pki::PrivateKey::generate_rsa(2048);
      if (!key.ok()) {
        errors[i] = key.error().message;
        return;
      }
      auto r = wallet::request_ir(w().endpoint(), tickets[i].ref, tickets[i].auth_code, *key,
                                  evid_for(kIdn, random_r()));
      if (!r.ok()) {
        errors[i] = r.error().message;
        return;
      }
      serials[i] = registry_key(r->cert);
      ossl::clear_errors();
    });
  for (auto& th : threads) th.join();
  for (int i = 0; i < kN; ++i) EXPECT_EQ(errors[i], "") << i;
  std::set<std::string> unique(serials.begin(), serials.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kN));
  auto after = w().registry->counts().value();
  EXPECT_EQ(after.confirmed, before.confirmed + kN);
  EXPECT_EQ(after.pending, before.pending);
  for (const auto& s : serials) {
    auto rec = w().registry->find(s);
    ASSERT_TRUE(rec.ok()) << s;
    EXPECT_EQ(rec->status, ca::CertStatus::confirmed);
  }
}

TEST_F(CmpServerTest, UnconfirmedCertificatesAreRevokedAfterTheTimeout) {
  // An ir whose certConf never arrives: the OpenSSL client talks to the
  // service directly and its transfer drops the certConf.
  auto t = w().application();
  pki::PrivateKey key = new_key();
  Ptr<OSSL_CMP_CTX> ctx = own(::OSSL_CMP_CTX_new(ossl::libctx(), nullptr));
  ::OSSL_CMP_CTX_set_log_cb(
      ctx.get(), [](const char*, const char*, int, OSSL_CMP_severity, const char*) { return 1; });
  ::OSSL_CMP_CTX_set1_referenceValue(ctx.get(),
                                     reinterpret_cast<const unsigned char*>(t.ref.data()),
                                     static_cast<int>(t.ref.size()));
  ::OSSL_CMP_CTX_set1_secretValue(ctx.get(), t.auth_code.bytes().data(),
                                  static_cast<int>(t.auth_code.size()));
  ::EVP_PKEY_up_ref(key.native());
  ::OSSL_CMP_CTX_set0_newPkey(ctx.get(), 1, key.native());
  Ptr<X509_NAME> name = own(::X509_NAME_new());
  ::X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("x"), 1, -1, 0);
  ::OSSL_CMP_CTX_set1_subjectName(ctx.get(), name.get());
  ::OSSL_CMP_CTX_set_transfer_cb(
      ctx.get(), [](OSSL_CMP_CTX*, const OSSL_CMP_MSG* req) -> OSSL_CMP_MSG* {
        if (::OSSL_CMP_MSG_get_bodytype(req) != internal::kBodyIr) return nullptr;  // drop certConf
        auto der = ossl::to_der(req, ::i2d_OSSL_CMP_MSG, "ir");
        if (!der.ok()) return nullptr;
        Response r = w().cmp->handle_der(*der);
        const unsigned char* p = reinterpret_cast<const unsigned char*>(r.body.data());
        return ::d2i_OSSL_CMP_MSG(nullptr, &p, static_cast<long>(r.body.size()));
      });
  auto before = w().registry->counts().value();
  X509* cert = ::OSSL_CMP_exec_certreq(ctx.get(), OSSL_CMP_IR, nullptr);
  EXPECT_EQ(cert, nullptr);  // the certConf went nowhere
  ossl::clear_errors();
  auto pending = w().registry->counts().value();
  EXPECT_EQ(pending.pending, before.pending + 1);
  EXPECT_GE(w().cmp->open_transactions(), 1u);

  TimePoint now = w().clock.now();
  w().clock.advance(ca::kConfirmTimeout + 1min);
  auto n = w().cmp->sweep();
  w().clock.set(now);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_GE(*n, 1);
  auto after = w().registry->counts().value();
  EXPECT_EQ(after.pending, 0);
  EXPECT_EQ(after.revoked_unconfirmed, before.revoked_unconfirmed + pending.pending);
  EXPECT_EQ(w().cmp->open_transactions(), 0u);
}

// --- Signed requests: kur (renewal) and rr (revocation with the key) ----------

class CmpRenewalTest : public CmpServerTest {
 protected:
  struct Held {
    pki::Certificate cert;
    pki::PrivateKey key;
    std::string serial;  // registry key
    std::string customer;
  };
  // A confirmed certificate (with a VID unless !vid) for a new customer with
  // IDN kIdn, issued age_days ago (the clock is set back meanwhile).
  static Held issue_held(int age_days = 0, bool vid = true) {
    const TimePoint now = w().clock.now();
    w().clock.set(now - std::chrono::days(age_days));
    std::string customer;
    auto t = w().application(kIdn, ra::Purpose::general, &customer);
    pki::PrivateKey key = new_key();
    auto issued = wallet::request_ir(w().endpoint(), t.ref, t.auth_code, key,
                                     vid ? std::optional(evid_for(kIdn, random_r())) : std::nullopt);
    EXPECT_TRUE(issued.ok()) << issued.error().message;
    std::string serial = registry_key(issued->cert);
    w().clock.set(now);
    return Held{issued->cert, std::move(key), serial, customer};
  }
  // Moves the clock to `before` the certificate's notAfter; restored by TearDown.
  void at_days_before_expiry(const Held& h, int days) {
    auto rec = w().registry->find(h.serial);
    ASSERT_TRUE(rec.ok());
    saved_ = w().clock.now();
    w().clock.set(rec->not_after - std::chrono::days(days));
  }
  void TearDown() override {
    if (saved_) w().clock.set(*saved_);
    CmpServerTest::TearDown();
  }

  // A kur as OpenSSL's client sends it, with `tamper` applied to its DER,
  // answered by the service in-process: (PKIStatus, PKIFailureInfo names, error).
  struct RawAnswer {
    int status = -1;
    std::string failinfo;
    std::string error;
  };
  static RawAnswer raw_kur(const Held& h, const pki::PrivateKey& new_key_,
                           std::function<void(Bytes&)> tamper) {
    static thread_local std::function<void(Bytes&)> t;
    t = std::move(tamper);
    Ptr<OSSL_CMP_CTX> ctx = own(::OSSL_CMP_CTX_new(ossl::libctx(), nullptr));
    ::OSSL_CMP_CTX_set_log_cb(
        ctx.get(), [](const char*, const char*, int, OSSL_CMP_severity, const char*) { return 1; });
    ::OSSL_CMP_CTX_set1_cert(ctx.get(), h.cert.native());
    ::OSSL_CMP_CTX_set1_pkey(ctx.get(), h.key.native());
    ::OSSL_CMP_CTX_set_option(ctx.get(), OSSL_CMP_OPT_UNPROTECTED_ERRORS, 1);
    ::EVP_PKEY_up_ref(new_key_.native());
    ::OSSL_CMP_CTX_set0_newPkey(ctx.get(), 1, new_key_.native());
    ::OSSL_CMP_CTX_set_transfer_cb(ctx.get(), [](OSSL_CMP_CTX*, const OSSL_CMP_MSG* req) -> OSSL_CMP_MSG* {
      auto der = ossl::to_der(req, ::i2d_OSSL_CMP_MSG, "kur");
      if (!der.ok()) return nullptr;
      t(*der);
      Response r = w().cmp->handle_der(*der);
      if (r.status != 200) return nullptr;
      const unsigned char* p = reinterpret_cast<const unsigned char*>(r.body.data());
      return ::d2i_OSSL_CMP_MSG(nullptr, &p, static_cast<long>(r.body.size()));
    });
    X509* cert = ::OSSL_CMP_exec_certreq(ctx.get(), OSSL_CMP_KUR, nullptr);
    RawAnswer a;
    if (cert != nullptr) {
      a.status = OSSL_CMP_PKISTATUS_accepted;
      return a;
    }
    a.status = ::OSSL_CMP_CTX_get_status(ctx.get());
    a.failinfo = ossl::failinfo_names(::OSSL_CMP_CTX_get_failInfoCode(ctx.get()));
    a.error = ossl::exchange_error(ctx.get(), "kur").message;
    return a;
  }

  std::optional<TimePoint> saved_;
};

TEST_F(CmpRenewalTest, KurInsideTheWindowRenewsAndSupersedesAtCertConf) {
  // Issued 355 days ago: expires in 10 days (the client checks the new
  // certificate against the real time, so the clock stays at now).
  Held h = issue_held(355);
  auto old_rec = w().registry->find(h.serial).value();
  pki::PrivateKey key = new_key();
  SecretBytes r = random_r();
  auto renewed = wallet::request_kur(w().endpoint(), h.cert, h.key, key, evid_for(kIdn, r));
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_TRUE(renewed->cert.matches(key));
  auto old_info = h.cert.info().value();
  auto info = renewed->cert.info().value();
  EXPECT_EQ(info.subject, old_info.subject);
  EXPECT_EQ(info.real_name, old_info.real_name);
  EXPECT_EQ(info.policies.at(0).oid, old_info.policies.at(0).oid);
  auto vid_ok = pki::verify_vid(renewed->cert, r, SecretString(std::string(kIdn)));
  ASSERT_TRUE(vid_ok.ok());
  EXPECT_TRUE(*vid_ok);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(info.not_after - old_info.not_after),
            std::chrono::seconds(std::chrono::days(365)));

  auto rec = w().registry->find(registry_key(renewed->cert)).value();
  EXPECT_EQ(rec.status, ca::CertStatus::confirmed);
  EXPECT_EQ(rec.customer_id, h.customer);
  EXPECT_EQ(rec.application_ref, "kur:" + h.serial);
  auto old = w().registry->find(h.serial).value();
  ASSERT_TRUE(old.revoked_at.has_value());
  EXPECT_EQ(old.revocation_reason, ca::RevocationReason::superseded);
  EXPECT_EQ(old_rec.revoked_at, std::nullopt);
  EXPECT_EQ(w().cmp->open_transactions(), 0u);

  // The old certificate cannot renew again (a replayed kur is refused the same way).
  auto again = wallet::request_kur(w().endpoint(), h.cert, h.key, new_key(), evid_for(kIdn, random_r()));
  expectRefused(again, "certRevoked");
  expectRefused(again, "is revoked (superseded)");
  // The new one can sign a genm.
  auto certs = wallet::request_ca_certs(w().endpoint(), renewed->cert, key);
  EXPECT_TRUE(certs.ok()) << certs.error().message;
}

TEST_F(CmpRenewalTest, KurOutsideTheWindowSaysWhenItOpens) {
  Held h = issue_held();
  auto r = wallet::request_kur(w().endpoint(), h.cert, h.key, new_key(), evid_for(kIdn, random_r()));
  expectRefused(r, "notAuthorized");
  expectRefused(r, "cannot be renewed yet: the renewal window opens on ");
  expectRefused(r, "(30 days before it expires on ");
  EXPECT_FALSE(w().registry->find(h.serial)->revoked_at.has_value());
}

TEST_F(CmpRenewalTest, KurAfterExpiryIsRefused) {
  Held h = issue_held();
  at_days_before_expiry(h, -1);
  auto r = wallet::request_kur(w().endpoint(), h.cert, h.key, new_key(), evid_for(kIdn, random_r()));
  expectRefused(r, "notAuthorized");
  expectRefused(r, "expired on ");
}

TEST_F(CmpRenewalTest, KurByRevokedOrSuspendedSignerIsRefused) {
  Held h = issue_held();
  at_days_before_expiry(h, 10);
  ASSERT_TRUE(w().registry->revoke(h.serial, ca::RevocationReason::certificate_hold, w().clock.now()).ok());
  auto held = wallet::request_kur(w().endpoint(), h.cert, h.key, new_key(), evid_for(kIdn, random_r()));
  expectRefused(held, "certRevoked");
  expectRefused(held, "suspended (certificateHold)");
  ASSERT_TRUE(w().registry->revoke(h.serial, ca::RevocationReason::key_compromise, w().clock.now()).ok());
  auto revoked = wallet::request_kur(w().endpoint(), h.cert, h.key, new_key(), evid_for(kIdn, random_r()));
  expectRefused(revoked, "certRevoked");
  expectRefused(revoked, "revoked (keyCompromise)");
}

TEST_F(CmpRenewalTest, KurSignedByACertificateNotInTheRegistryIsRefused) {
  // The CA's own CMP certificate is issued by the issuing CA but is no subscriber's.
  const auto& ca = w().data->ca();
  auto r = wallet::request_kur(w().endpoint(), ca.cmp_cert(), ca.cmp_key(), new_key(), std::nullopt);
  expectRefused(r, "signerNotTrusted");
  expectRefused(r, "the signer certificate was not issued by this CA");
}

TEST_F(CmpRenewalTest, KurWithABadSignatureIsRefused) {
  Held h = issue_held();
  at_days_before_expiry(h, 10);
  pki::PrivateKey key = new_key();
  // Flip a bit in the last byte of the protection BIT STRING ([0] after header and body).
  auto a = raw_kur(h, key, [](Bytes& der) {
    const unsigned char* p = der.data();
    const unsigned char* end = der.data() + der.size();
    long len = 0;
    int tag = 0, cls = 0;
    ::ASN1_get_object(&p, &len, &tag, &cls, end - p);  // PKIMessage: into its content
    for (int skip = 0; skip < 2; ++skip) {             // header, body
      ::ASN1_get_object(&p, &len, &tag, &cls, end - p);
      p += len;
    }
    ::ASN1_get_object(&p, &len, &tag, &cls, end - p);  // protection
    ASSERT_EQ(cls, V_ASN1_CONTEXT_SPECIFIC);
    ASSERT_EQ(tag, 0);
    der[static_cast<size_t>(p - der.data() + len - 1)] ^= 0x01;
  });
  EXPECT_EQ(a.status, OSSL_CMP_PKISTATUS_rejection) << a.error;
  EXPECT_NE(a.failinfo.find("badMessageCheck"), std::string::npos) << a.failinfo << " " << a.error;
  EXPECT_NE(a.error.find("the signature does not verify with certificate " + h.serial), std::string::npos)
      << a.error;
  EXPECT_FALSE(w().registry->find(h.serial)->revoked_at.has_value());
}

TEST_F(CmpRenewalTest, ReplayedKurIsRefused) {
  Held h = issue_held(355, false);  // inside the window; no VID, so no EncryptedVID needed
  pki::PrivateKey key = new_key();
  static Bytes captured;
  captured.clear();
  raw_kur(h, key, [](Bytes& der) {
    captured = der;
    der.assign({0x30, 0x00});  // the original is not sent
  });
  ASSERT_FALSE(captured.empty());
  Response first = w().cmp->handle_der(captured);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(w().cmp->open_transactions(), 1u);
  // The same message again while its transaction waits for certConf.
  Response again = w().cmp->handle_der(captured);
  ASSERT_EQ(again.status, 200);
  EXPECT_NE(again.body.find("transactionID already in use"), std::string::npos);
  EXPECT_EQ(w().cmp->open_transactions(), 1u);
  // Never confirmed: the old certificate stays valid, the new one is swept.
  EXPECT_FALSE(w().registry->find(h.serial)->revoked_at.has_value());
  w().clock.advance(ca::kConfirmTimeout + 1s);
  EXPECT_GE(w().cmp->sweep().value(), 1);
  w().clock.advance(-(ca::kConfirmTimeout + 1s));
  EXPECT_EQ(w().cmp->open_transactions(), 0u);
}

TEST_F(CmpRenewalTest, KurWithTheOldKeyOrAnotherIdnIsRefused) {
  Held h = issue_held();
  at_days_before_expiry(h, 10);
  auto same = wallet::request_kur(w().endpoint(), h.cert, h.key, h.key, evid_for(kIdn, random_r()));
  expectRefused(same, "badCertTemplate");
  expectRefused(same, "a renewal needs a new key pair");
  auto other = wallet::request_kur(w().endpoint(), h.cert, h.key, new_key(), evid_for(kOtherIdn, random_r()));
  expectRefused(other, "VID does not match the holder");
  auto none = wallet::request_kur(w().endpoint(), h.cert, h.key, new_key(), std::nullopt);
  expectRefused(none, "must carry an EncryptedVID");
  EXPECT_FALSE(w().registry->find(h.serial)->revoked_at.has_value());
}

TEST_F(CmpRenewalTest, RrWithTheKeyRevokesWithTheReason) {
  Held h = issue_held();
  Status s = wallet::request_rr(w().endpoint(), h.cert, h.key, 1);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto rec = w().registry->find(h.serial).value();
  ASSERT_TRUE(rec.revoked_at.has_value());
  EXPECT_EQ(rec.revocation_reason, ca::RevocationReason::key_compromise);
  // Again: already revoked.
  Status again = wallet::request_rr(w().endpoint(), h.cert, h.key, 1);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::policy);
  EXPECT_NE(again.error().message.find("certRevoked"), std::string::npos) << again.error().message;

  Held plain = issue_held();
  ASSERT_TRUE(wallet::request_rr(w().endpoint(), plain.cert, plain.key, 0).ok());
  EXPECT_EQ(w().registry->find(plain.serial)->revocation_reason, ca::RevocationReason::unspecified);
  Held hold = issue_held();
  Status refused = wallet::request_rr(w().endpoint(), hold.cert, hold.key, 6);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("certificateHold cannot be asked for with the key"), std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(w().registry->find(hold.serial)->revoked_at.has_value());
}

TEST_F(CmpRenewalTest, RrForSomeoneElsesCertificateIsNotAuthorized) {
  Held mine = issue_held();
  Held theirs = issue_held();
  // Signed with my key (my certificate in extraCerts), naming their certificate.
  std::vector<pki::Certificate> trusted{w().data->ca().root_cert()};
  ossl::CmpClientOptions options;
  std::string url = w().url();
  options.url = url;
  options.trusted = &trusted;
  options.cert = &mine.cert;
  options.key = &mine.key;
  auto client = ossl::CmpClient::create(options);
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_EQ(::OSSL_CMP_CTX_set1_oldCert((*client)->ctx(), theirs.cert.native()), 1);
  EXPECT_NE(::OSSL_CMP_exec_RR_ses((*client)->ctx()), 1);
  Error e = ossl::exchange_error((*client)->ctx(), "rr");
  EXPECT_EQ(e.code, Errc::policy) << e.message;
  EXPECT_NE(e.message.find("notAuthorized"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("can only be revoked with its own key"), std::string::npos) << e.message;
  EXPECT_FALSE(w().registry->find(theirs.serial)->revoked_at.has_value());
  EXPECT_FALSE(w().registry->find(mine.serial)->revoked_at.has_value());
}

}  // namespace
}  // namespace dojang::service
