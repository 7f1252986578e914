#include "dojang/pki/cmp.hpp"

#include <gtest/gtest.h>
#include <openssl/cmp.h>
#include <openssl/crmf.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <memory>

#include "dojang/pki/key.hpp"
#include "pki/certinfo_testdata.hpp"
#include "pki/internal/cmp_asn1.hpp"
#include "pki/internal/cmp_client.hpp"
#include "pki/internal/ossl.hpp"
#include "testing/testing.hpp"

namespace dojang::pki {
namespace {

using internal::own;
using internal::Ptr;

constexpr std::string_view kOtherOid = "1.2.3.4.5";

// What OpenSSL's own CMP client produces, captured in its transfer callback
// (which then fails the exchange: nothing is sent).
OSSL_CMP_MSG* capture(OSSL_CMP_CTX* ctx, const OSSL_CMP_MSG* req) {
  auto* out = static_cast<Bytes*>(::OSSL_CMP_CTX_get_transfer_cb_arg(ctx));
  auto der = internal::to_der(req, ::i2d_OSSL_CMP_MSG, "request");
  if (der.ok()) *out = std::move(der).value();
  return nullptr;
}

class CmpRegInfoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto k = PrivateKey::generate_rsa(2048);
    ASSERT_TRUE(k.ok()) << k.error().message;
    key_ = new PrivateKey(std::move(k).value());
  }
  static void TearDownTestSuite() {
    delete key_;
    key_ = nullptr;
  }
  void TearDown() override { internal::clear_errors(); }

  // A client with our options (MAC: senderKID "1234", secret "auth-code"),
  // kept alive until the end of the test.
  OSSL_CMP_CTX* client(std::string_view secret = "auth-code") {
    SecretString s{std::string(secret)};
    internal::CmpClientOptions o;
    o.url = "http://127.0.0.1:1/pkix/";
    o.reference = "1234";
    o.secret = &s;
    auto created = internal::CmpClient::create(o);
    EXPECT_TRUE(created.ok()) << created.error().message;
    if (!created.ok()) return nullptr;
    clients_.push_back(std::move(created).value());
    OSSL_CMP_CTX* ctx = clients_.back()->ctx();
    ::EVP_PKEY_up_ref(key_->native());
    EXPECT_EQ(::OSSL_CMP_CTX_set0_newPkey(ctx, 1, key_->native()), 1);
    // OpenSSL verifies a signature popo only with a subject in the template.
    Ptr<X509_NAME> subject = own(::X509_NAME_new());
    ::X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("1234"), -1, -1, 0);
    EXPECT_EQ(::OSSL_CMP_CTX_set1_subjectName(ctx, subject.get()), 1);
    return ctx;
  }

  // The DER of a CertReqMsg as OSSL_CMP_CTX builds it, with the given proof of possession.
  Bytes cert_req_msg(int popo_method) {
    OSSL_CMP_CTX* ctx = client();
    Ptr<OSSL_CRMF_MSG> crm = own(::OSSL_CMP_CTX_setup_CRM(ctx, 0, 0));
    EXPECT_TRUE(crm) << internal::drain_errors("setup_CRM");
    if (popo_method != OSSL_CRMF_POPO_NONE) {
      auto md = internal::fetch_md("SHA256");
      EXPECT_TRUE(md.ok());
      EXPECT_EQ(::OSSL_CRMF_MSG_create_popo(popo_method, crm.get(), key_->native(), md->get(),
                                            internal::libctx(), nullptr),
                1)
          << internal::drain_errors("create_popo");
    }
    auto der = internal::to_der(crm.get(), ::i2d_OSSL_CRMF_MSG, "crm");
    EXPECT_TRUE(der.ok());
    return der.ok() ? std::move(der).value() : Bytes{};
  }

  // The DER of the PKIMessage OSSL_CMP_CTX would send for an ir (crm null) or genm.
  Bytes captured_request(OSSL_CMP_CTX* ctx, bool genm = false, const OSSL_CRMF_MSG* crm = nullptr) {
    Bytes out;
    EXPECT_EQ(::OSSL_CMP_CTX_set_transfer_cb(ctx, capture), 1);
    EXPECT_EQ(::OSSL_CMP_CTX_set_transfer_cb_arg(ctx, &out), 1);
    if (genm) {
      Ptr<STACK_OF(OSSL_CMP_ITAV)> itavs = own(::OSSL_CMP_exec_GENM_ses(ctx));
      EXPECT_FALSE(itavs);
    } else {
      EXPECT_EQ(::OSSL_CMP_exec_certreq(ctx, OSSL_CMP_IR, crm), nullptr);
    }
    internal::clear_errors();
    EXPECT_FALSE(out.empty()) << "no request captured";
    return out;
  }

  // Does ctx's secret verify the protection of the PKIMessage?
  static bool protection_verifies(OSSL_CMP_CTX* ctx, ByteView der) {
    Ptr<OSSL_CMP_MSG> msg = decode(der);
    if (!msg) return false;
    bool ok = ::OSSL_CMP_validate_msg(ctx, msg.get()) == 1;
    internal::clear_errors();
    return ok;
  }

  static Ptr<OSSL_CMP_MSG> decode(ByteView der) {
    const unsigned char* p = der.data();
    Ptr<OSSL_CMP_MSG> msg = own(::d2i_OSSL_CMP_MSG(nullptr, &p, static_cast<long>(der.size())));
    EXPECT_TRUE(msg) << internal::drain_errors("d2i_OSSL_CMP_MSG");
    EXPECT_EQ(p, der.data() + der.size());
    return msg;
  }

  static Ptr<OSSL_CRMF_MSG> decode_crm(ByteView der) {
    const unsigned char* p = der.data();
    Ptr<OSSL_CRMF_MSG> crm = own(::d2i_OSSL_CRMF_MSG(nullptr, &p, static_cast<long>(der.size())));
    EXPECT_TRUE(crm) << internal::drain_errors("d2i_OSSL_CRMF_MSG");
    return crm;
  }

  // An opaque DER value in place of an EncryptedVID: a SEQUENCE.
  static Bytes sequence_value() {
    Ptr<X509_ALGOR> alg = own(::X509_ALGOR_new());
    ::X509_ALGOR_set0(alg.get(), ::OBJ_nid2obj(NID_sha256), V_ASN1_UNDEF, nullptr);
    return internal::to_der(alg.get(), ::i2d_X509_ALGOR, "alg").value();
  }
  static Bytes utf8_value(const std::string& s) {
    Ptr<ASN1_STRING> str = own(::ASN1_UTF8STRING_new());
    ::ASN1_STRING_set(str.get(), s.data(), static_cast<int>(s.size()));
    return internal::to_der(str.get(), ::i2d_ASN1_UTF8STRING, "utf8").value();
  }

  template <class T>
  static void expectError(const Result<T>& r, Errc code) {
    ASSERT_FALSE(r.ok()) << "unexpected success";
    EXPECT_EQ(r.error().code, code) << r.error().message;
    EXPECT_FALSE(r.error().message.empty());
  }

  template <class T>
  static T expectOk(const Result<T>& r) {
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r.value() : T{};
  }

  static PrivateKey* key_;
  std::vector<std::unique_ptr<internal::CmpClient>> clients_;
};
PrivateKey* CmpRegInfoTest::key_ = nullptr;

// ---------------------------------------------------------------------------
// CertReqMsg

TEST_F(CmpRegInfoTest, TemplateReencodesEveryProofOfPossessionByteForByte) {
  for (int method : {OSSL_CRMF_POPO_NONE, OSSL_CRMF_POPO_RAVERIFIED, OSSL_CRMF_POPO_SIGNATURE,
                     OSSL_CRMF_POPO_KEYENC}) {
    SCOPED_TRACE(method);
    Bytes der = cert_req_msg(method);
    const unsigned char* p = der.data();
    Ptr<internal::DOJANG_CRMF_CERT_REQ_MSG> msg =
        own(internal::d2i_DOJANG_CRMF_CERT_REQ_MSG(nullptr, &p, static_cast<long>(der.size())));
    ASSERT_TRUE(msg) << internal::drain_errors("d2i");
    EXPECT_EQ(msg->popo == nullptr, method == OSSL_CRMF_POPO_NONE);
    if (msg->popo != nullptr) {
      EXPECT_EQ(msg->popo->type, method);
    }
    auto again = internal::to_der(msg.get(), internal::i2d_DOJANG_CRMF_CERT_REQ_MSG, "i2d");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, der);
  }
}

TEST_F(CmpRegInfoTest, AbsentRegInfoIsNullopt) {
  auto r = extract_reginfo(cert_req_msg(OSSL_CRMF_POPO_SIGNATURE), kOidEncryptedVid);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->has_value());
}

TEST_F(CmpRegInfoTest, AddedRegInfoReadsBackAndOpenSslStillParsesTheMessage) {
  Bytes der = cert_req_msg(OSSL_CRMF_POPO_SIGNATURE);
  Bytes value = sequence_value();
  Bytes with = expectOk(add_reginfo_to_cert_req_msg(der, kOidEncryptedVid, value));
  EXPECT_GT(with.size(), der.size());

  auto read = extract_reginfo(with, kOidEncryptedVid);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, value);
  auto other = extract_reginfo(with, kOtherOid);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());

  // OpenSSL decodes it, keeps the attribute through its own encoder, and the
  // proof of possession (over certReq only) still verifies.
  Ptr<OSSL_CRMF_MSG> crm = decode_crm(with);
  ASSERT_TRUE(crm);
  auto reencoded = internal::to_der(crm.get(), ::i2d_OSSL_CRMF_MSG, "i2d");
  ASSERT_TRUE(reencoded.ok());
  EXPECT_EQ(*reencoded, with);
  Ptr<OSSL_CRMF_MSGS> msgs = own(sk_OSSL_CRMF_MSG_new_null());
  ASSERT_GT(sk_OSSL_CRMF_MSG_push(msgs.get(), crm.release()), 0);
  EXPECT_EQ(::OSSL_CRMF_MSGS_verify_popo(msgs.get(), 0, 0, internal::libctx(), nullptr), 1)
      << internal::drain_errors("verify_popo");
}

TEST_F(CmpRegInfoTest, KeepsOtherAttributesAndFindsTheFirstOfItsType) {
  // OpenSSL's own regInfo (utf8Pairs) first, then two of ours.
  Ptr<OSSL_CRMF_MSG> crm = decode_crm(cert_req_msg(OSSL_CRMF_POPO_SIGNATURE));
  ASSERT_TRUE(crm);
  Ptr<ASN1_STRING> pairs = own(::ASN1_UTF8STRING_new());
  ::ASN1_STRING_set(pairs.get(), "version?1%", -1);
  ASSERT_EQ(::OSSL_CRMF_MSG_set1_regInfo_utf8Pairs(crm.get(), pairs.get()), 1);
  Bytes der = internal::to_der(crm.get(), ::i2d_OSSL_CRMF_MSG, "crm").value();

  Bytes first = utf8_value("first");
  Bytes second = utf8_value("second");
  Bytes other = sequence_value();
  Bytes step1 = expectOk(add_reginfo_to_cert_req_msg(der, kOidEncryptedVid, first));
  Bytes step2 = expectOk(add_reginfo_to_cert_req_msg(step1, kOtherOid, other));
  Bytes step3 = expectOk(add_reginfo_to_cert_req_msg(step2, kOidEncryptedVid, second));

  EXPECT_EQ(expectOk(extract_reginfo(step3, kOidEncryptedVid)), std::optional<Bytes>(first));
  EXPECT_EQ(expectOk(extract_reginfo(step3, kOtherOid)), std::optional<Bytes>(other));
  // OpenSSL's utf8Pairs is still there. (OpenSSL 3.0's own getter,
  // OSSL_CRMF_MSG_get0_regInfo_utf8Pairs, looks in certReq.controls instead
  // of regInfo and cannot find it, not even before our change.)
  Bytes pairs_der = internal::to_der(pairs.get(), ::i2d_ASN1_UTF8STRING, "pairs").value();
  EXPECT_EQ(expectOk(extract_reginfo(step3, "1.3.6.1.5.5.7.5.2.1")),  // id-regInfo-utf8Pairs
            std::optional<Bytes>(pairs_der));
  EXPECT_TRUE(decode_crm(step3));
}

TEST_F(CmpRegInfoTest, MalformedCertReqMsgIsInvalidInput) {
  Bytes good = cert_req_msg(OSSL_CRMF_POPO_SIGNATURE);
  expectError(extract_reginfo(Bytes{}, kOidEncryptedVid), Errc::invalid_input);
  expectError(extract_reginfo(Bytes{0x30, 0x03, 0x02, 0x01}, kOidEncryptedVid),
              Errc::invalid_input);
  expectError(extract_reginfo(Bytes(good.begin(), good.end() - 1), kOidEncryptedVid),
              Errc::invalid_input);
  Bytes trailing = good;
  trailing.push_back(0x00);
  expectError(extract_reginfo(trailing, kOidEncryptedVid), Errc::invalid_input);
  Bytes garbage(64, 0xA5);
  expectError(extract_reginfo(garbage, kOidEncryptedVid), Errc::invalid_input);
  expectError(add_reginfo_to_cert_req_msg(garbage, kOidEncryptedVid, utf8_value("x")),
              Errc::invalid_input);
  // A whole PKIMessage is not a CertReqMsg.
  OSSL_CMP_CTX* ctx = client();
  expectError(extract_reginfo(captured_request(ctx), kOidEncryptedVid), Errc::invalid_input);
}

TEST_F(CmpRegInfoTest, BadOidIsUsageAndBadValueIsInvalidInput) {
  Bytes der = cert_req_msg(OSSL_CRMF_POPO_SIGNATURE);
  expectError(extract_reginfo(der, "encryptedVID"), Errc::usage);
  expectError(extract_reginfo(der, ""), Errc::usage);
  expectError(add_reginfo_to_cert_req_msg(der, "1.2.x", utf8_value("x")), Errc::usage);
  expectError(add_reginfo_to_cert_req_msg(der, kOidEncryptedVid, Bytes{}), Errc::invalid_input);
  expectError(add_reginfo_to_cert_req_msg(der, kOidEncryptedVid, Bytes{0x30, 0x05, 0x02}),
              Errc::invalid_input);
  Bytes two_values = utf8_value("a");
  Bytes b = utf8_value("b");
  two_values.insert(two_values.end(), b.begin(), b.end());
  expectError(add_reginfo_to_cert_req_msg(der, kOidEncryptedVid, two_values), Errc::invalid_input);
}

// ---------------------------------------------------------------------------
// PKIMessage

TEST_F(CmpRegInfoTest, AddRegInfoToOpenSslIrThenReprotectVerifies) {
  OSSL_CMP_CTX* ctx = client();
  Bytes ir = captured_request(ctx);
  ASSERT_TRUE(protection_verifies(ctx, ir));
  EXPECT_EQ(expectOk(extract_reginfo_from_message(ir, kOidEncryptedVid)),
            std::vector<std::optional<Bytes>>{std::nullopt});

  Bytes value = sequence_value();
  Bytes injected = expectOk(add_reginfo(ir, kOidEncryptedVid, value));
  Ptr<OSSL_CMP_MSG> msg = decode(injected);
  ASSERT_TRUE(msg);
  EXPECT_EQ(::OSSL_CMP_MSG_get_bodytype(msg.get()), OSSL_CMP_IR);
  EXPECT_EQ(expectOk(extract_reginfo_from_message(injected, kOidEncryptedVid)),
            std::vector<std::optional<Bytes>>{value});
  // The old MAC no longer matches the changed body ...
  EXPECT_FALSE(protection_verifies(ctx, injected));
  // ... until the sender protects the message again (OpenSSL's documented
  // way: OSSL_CMP_MSG_update_transactionID re-protects).
  ASSERT_EQ(::OSSL_CMP_MSG_update_transactionID(ctx, msg.get()), 1)
      << internal::drain_errors("update_transactionID");
  Bytes reprotected = internal::to_der(msg.get(), ::i2d_OSSL_CMP_MSG, "msg").value();
  EXPECT_TRUE(protection_verifies(ctx, reprotected));
  EXPECT_EQ(expectOk(extract_reginfo_from_message(reprotected, kOidEncryptedVid)),
            std::vector<std::optional<Bytes>>{value});
  // Another secret does not verify it.
  OSSL_CMP_CTX* other = client("another-code");
  EXPECT_FALSE(protection_verifies(other, reprotected));
}

TEST_F(CmpRegInfoTest, CertReqMsgWithRegInfoGivesAnIrOpenSslProtects) {
  // The way the wallet client does it: the CertReqMsg goes in through
  // OSSL_CMP_exec_certreq, so OpenSSL protects the final message itself.
  OSSL_CMP_CTX* ctx = client();
  Bytes value = sequence_value();
  auto crm = internal::cert_req_msg_with_reginfo(ctx, kOidEncryptedVid, value);
  ASSERT_TRUE(crm.ok()) << crm.error().message;
  Bytes ir = captured_request(ctx, false, crm->get());
  EXPECT_TRUE(protection_verifies(ctx, ir));
  EXPECT_EQ(expectOk(extract_reginfo_from_message(ir, kOidEncryptedVid)),
            std::vector<std::optional<Bytes>>{value});

  Bytes crm_der = internal::to_der(crm->get(), ::i2d_OSSL_CRMF_MSG, "crm").value();
  EXPECT_EQ(expectOk(extract_reginfo(crm_der, kOidEncryptedVid)), std::optional<Bytes>(value));
  Ptr<OSSL_CRMF_MSGS> msgs = own(sk_OSSL_CRMF_MSG_new_null());
  ASSERT_GT(sk_OSSL_CRMF_MSG_push(msgs.get(), ::OSSL_CRMF_MSG_dup(crm->get())), 0);
  EXPECT_EQ(::OSSL_CRMF_MSGS_verify_popo(msgs.get(), 0, 0, internal::libctx(), nullptr), 1)
      << internal::drain_errors("verify_popo");
}

TEST_F(CmpRegInfoTest, AddRegInfoToAnIrFromTheOpensslCli) {
  // An independent implementation's message: `openssl cmp -reqout` writes the
  // ir before its (refused) connection attempt.
  dojang::testing::TempDir dir;
  auto pem = key_->to_pem();
  ASSERT_TRUE(pem.ok());
  dojang::testing::write_bytes(dir / "new.key", Bytes(pem->data(), pem->data() + pem->size()));
  auto run = test::run_openssl(
      dir, {"cmp", "-cmd", "ir", "-server", "127.0.0.1:1/pkix/", "-ref", "1234", "-secret",
            "pass:auth-code", "-newkey", (dir / "new.key").string(), "-subject", "/CN=cli",
            "-certout", (dir / "cert.pem").string(), "-reqout", (dir / "ir.der").string()});
  ASSERT_NE(run.exit_code, 0);  // nobody listens on port 1
  Bytes ir = dojang::testing::read_bytes(dir / "ir.der");
  OSSL_CMP_CTX* ctx = client();
  EXPECT_TRUE(protection_verifies(ctx, ir));

  Bytes value = utf8_value("opaque EncryptedVID stand-in");
  Bytes injected = expectOk(add_reginfo(ir, kOidEncryptedVid, value));
  EXPECT_EQ(expectOk(extract_reginfo_from_message(injected, kOidEncryptedVid)),
            std::vector<std::optional<Bytes>>{value});
  Ptr<OSSL_CMP_MSG> msg = decode(injected);
  ASSERT_TRUE(msg);
  ASSERT_EQ(::OSSL_CMP_MSG_update_transactionID(ctx, msg.get()), 1);
  EXPECT_TRUE(
      protection_verifies(ctx, internal::to_der(msg.get(), ::i2d_OSSL_CMP_MSG, "msg").value()));
}

TEST_F(CmpRegInfoTest, AddRegInfoRefusesOtherBodiesAndGarbage) {
  OSSL_CMP_CTX* ctx = client();
  Bytes genm = captured_request(ctx, true);
  expectError(add_reginfo(genm, kOidEncryptedVid, utf8_value("x")), Errc::usage);
  expectError(extract_reginfo_from_message(genm, kOidEncryptedVid), Errc::usage);

  OSSL_CMP_CTX* ir_ctx = client();
  Bytes ir = captured_request(ir_ctx);
  expectError(
      add_reginfo(Bytes(ir.begin(), ir.begin() + ir.size() / 2), kOidEncryptedVid, utf8_value("x")),
      Errc::invalid_input);
  Bytes trailing = ir;
  trailing.push_back(0);
  expectError(add_reginfo(trailing, kOidEncryptedVid, utf8_value("x")), Errc::invalid_input);
  expectError(add_reginfo(Bytes(100, 0x30), kOidEncryptedVid, utf8_value("x")),
              Errc::invalid_input);
  expectError(add_reginfo(ir, "not-an-oid", utf8_value("x")), Errc::usage);
  expectError(add_reginfo(ir, kOidEncryptedVid, Bytes{0x04}), Errc::invalid_input);
  // A CertReqMsg is not a PKIMessage.
  expectError(
      add_reginfo(cert_req_msg(OSSL_CRMF_POPO_SIGNATURE), kOidEncryptedVid, utf8_value("x")),
      Errc::invalid_input);
}

// ---------------------------------------------------------------------------
// Client glue that needs no server

TEST(CmpClientGlueTest, ParsesHttpUrls) {
  auto t = internal::parse_cmp_url("http://127.0.0.1:8080/pkix/");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 8080);
  EXPECT_EQ(t->path, "/pkix/");
  auto v6 = internal::parse_cmp_url("http://[::1]:8080/pkix/");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(v6->host, "[::1]");
  auto d = internal::parse_cmp_url("http://ca.example");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->port, 80);
  EXPECT_EQ(d->path, "/");
  for (const char* bad :
       {"https://ca.example/pkix/", "ftp://x/", "HTTP://ca.example/", "127.0.0.1:8080/pkix/",
        "http://user:pw@ca.example/", "https://user:pw@ca.example/", "http://ca.example/pkix?x=1",
        "http://ca.example:99999/", "http://", ""}) {
    SCOPED_TRACE(bad);
    auto r = internal::parse_cmp_url(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::usage);
    EXPECT_EQ(r.error().message.find("pw"), std::string::npos);  // never echoes the URL
  }
  internal::clear_errors();
}

TEST(CmpClientGlueTest, NamesFailureInfoBits) {
  EXPECT_EQ(internal::failinfo_names(0), "");
  EXPECT_EQ(internal::failinfo_names(1 << OSSL_CMP_PKIFAILUREINFO_badMessageCheck),
            "badMessageCheck");
  EXPECT_EQ(internal::failinfo_names((1 << OSSL_CMP_PKIFAILUREINFO_badPOP) |
                                     (1 << OSSL_CMP_PKIFAILUREINFO_duplicateCertReq)),
            "badPOP, duplicateCertReq");
  EXPECT_EQ(internal::pkistatus_name(OSSL_CMP_PKISTATUS_rejection), "rejection");
  EXPECT_EQ(internal::pkistatus_name(OSSL_CMP_PKISTATUS_trans), "");
}

TEST(CmpClientGlueTest, RefusesEmptyCredentials) {
  SecretString empty;
  SecretString code("code");
  internal::CmpClientOptions o;
  o.url = "http://127.0.0.1:1/";
  o.reference = "1";
  o.secret = &empty;
  auto r = internal::CmpClient::create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::usage);
  o.secret = &code;
  o.reference = "";
  auto r2 = internal::CmpClient::create(o);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, Errc::usage);
}

TEST(CmpClientGlueTest, GenpCertificatesRejectOtherMessages) {
  auto r = internal::certificates_in_genp(Bytes{0x30, 0x00});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input);
}

}  // namespace
}  // namespace dojang::pki
