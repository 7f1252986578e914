// The device's CMP client against an independent peer: the mock CMP server
// built into the openssl CLI (`openssl cmp -port ...`), OpenSSL 3.0.
#include "dojang/wallet/cmp_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/cmp.h>
#include <openssl/objects.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <regex>
#include <thread>

#include "dojang/pki/cmp.hpp"
#include "pki/certinfo_testdata.hpp"
#include "pki/internal/cmp_client.hpp"
#include "pki/internal/ossl.hpp"
#include "testing/testing.hpp"

extern char** environ;

namespace dojang::wallet {
namespace {

namespace fs = std::filesystem;
namespace ossl = pki::internal;
using dojang::testing::TempDir;
using pki::test::openssl_bin;
using pki::test::run_openssl;

constexpr const char* kRef = "31415926";
constexpr const char* kCode = "X7Kq-93Fm-PL0d-2Wzr";  // what the bank would hand out

std::string slurp(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return {};
  return dojang::testing::read_text(p);
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// `openssl cmp` acting as mock CMP server on a port the kernel picks; it
// answers max_msgs messages and then exits by itself.
class MockCmpServer {
 public:
  MockCmpServer(const TempDir& dir, int max_msgs, std::vector<std::string> args) {
    static int serial = 0;
    log_ = dir / ("mock-" + std::to_string(++serial) + ".log");
    fs::path cnf = dir / "empty.cnf";
    if (!fs::exists(cnf)) dojang::testing::write_text(cnf, "");
    std::vector<std::string> argv = {openssl_bin(), "cmp", "-config",   cnf.string(),
                                     "-port",       "0",   "-max_msgs", std::to_string(max_msgs)};
    argv.insert(argv.end(), args.begin(), args.end());

    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                       0600);
    ::posix_spawn_file_actions_adddup2(&actions, 1, 2);
    ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, cargv[0], &actions, nullptr, cargv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "cannot start openssl cmp";
      pid_ = -1;
      return;
    }
    wait_listening();
  }
  ~MockCmpServer() {
    if (pid_ > 0 && wait_exit(std::chrono::seconds(5)) < -1) {
      ::kill(pid_, SIGTERM);  // the process this fixture started, by its id
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  MockCmpServer(const MockCmpServer&) = delete;
  MockCmpServer& operator=(const MockCmpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/pkix/"; }
  std::string log() const { return slurp(log_); }
  // The exit code once the server has stopped by itself; -2 if it is still running.
  int wait_exit(std::chrono::milliseconds limit) {
    if (exited_) return exit_code_;
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return exit_code_;
      }
      if (std::chrono::steady_clock::now() >= deadline) return -2;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // Requests the server received (it logs the HTTP request line of each).
  size_t requests_received() const { return count(log(), "Received request"); }

 private:
  void wait_listening() {
    static const std::regex accept_line(R"(ACCEPT \S*:(\d+))");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    std::smatch m;
    std::string text;  // m points into it
    for (;;) {
      text = log();
      if (std::regex_search(text, m, accept_line)) break;
      if (wait_exit(std::chrono::milliseconds(0)) != -2 ||
          std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "mock CMP server did not start:\n" << text;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    port_ = std::stoi(m[1].str());
    // It prints ACCEPT once it listens; check the socket table all the same
    // (never probe by connecting: that would use up one of max_msgs).
    auto ss = dojang::testing::run({"/usr/bin/ss", "-ltn"}, {}, {}, 10);
    EXPECT_NE(ss.out.find(":" + std::to_string(port_) + " "), std::string::npos) << ss.out;
  }

  fs::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  int exit_code_ = -1;
};

// A loopback port nobody listens on (bound, then closed).
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// The certificates the tests use, made with the openssl CLI: root CA ->
// issuing CA -> the device's certificate (on a key generated by our code),
// plus a foreign root and a certificate for another key.
struct Pki {
  TempDir dir;
  bool made_ = false;  // before the certificates: load() makes them on first use
  pki::PrivateKey device_key = pki::PrivateKey::generate_rsa(2048).value();
  pki::Certificate root = load("root.pem");
  pki::Certificate issuing = load("issuing.pem");
  pki::Certificate device = load("device.pem");
  pki::Certificate other_root = load("other-root.pem");

  Pki() = default;

  pki::Certificate load(const std::string& name) {
    make_once();
    auto c = pki::Certificate::from_pem(dojang::testing::read_bytes(dir / name));
    EXPECT_TRUE(c.ok()) << name << ": " << c.error().message;
    return std::move(c).value();
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }

 private:
  void openssl(std::vector<std::string> args) {
    auto r = run_openssl(dir, std::move(args));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void make_once() {
    if (made_) return;
    made_ = true;
    dojang::testing::write_text(dir / "ca.ext",
                                "[ca]\nbasicConstraints=critical,CA:TRUE\n"
                                "keyUsage=critical,keyCertSign,cRLSign\n"
                                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
                                "[ee]\nkeyUsage=critical,digitalSignature,nonRepudiation\n");
    for (const char* r : {"root", "other-root"}) {
      openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
               path(std::string(r) + ".key"), "-out", path(std::string(r) + ".pem"), "-subj",
               std::string("/CN=Test ") + r, "-days", "2", "-addext",
               "basicConstraints=critical,CA:TRUE", "-addext",
               "keyUsage=critical,keyCertSign,cRLSign"});
    }
    openssl({"req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", path("issuing.key"), "-out",
             path("issuing.csr"), "-subj", "/CN=Test issuing CA"});
    openssl({"x509", "-req", "-in", path("issuing.csr"), "-CA", path("root.pem"), "-CAkey",
             path("root.key"), "-set_serial", "2", "-days", "2", "-extfile", path("ca.ext"),
             "-extensions", "ca", "-out", path("issuing.pem")});
    auto pem = device_key.to_pem();
    ASSERT_TRUE(pem.ok());
    dojang::testing::write_bytes(dir / "device.key", Bytes(pem->data(), pem->data() + pem->size()));
    for (const auto& [key, out] : {std::pair{"device.key", "device"}, std::pair{"", "stranger"}}) {
      std::string k = *key ? path(key) : path("stranger.key");
      if (!*key) openssl({"genrsa", "-out", k, "2048"});
      openssl({"req", "-new", "-key", k, "-out", path(std::string(out) + ".csr"), "-subj",
               "/CN=Hong Gildong()0012345678/OU=personal4IB/O=Test/C=KR"});
      openssl({"x509", "-req", "-in", path(std::string(out) + ".csr"), "-CA", path("issuing.pem"),
               "-CAkey", path("issuing.key"), "-set_serial", std::string(*key ? "100" : "101"),
               "-days", "1", "-extfile", path("ca.ext"), "-extensions", "ee", "-out",
               path(std::string(out) + ".pem")});
    }
    dojang::testing::write_text(dir / "code.txt", kCode);
    dojang::testing::write_text(dir / "wrong-code.txt", "not-the-code");
  }
};

class CmpClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new Pki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  void TearDown() override { ossl::clear_errors(); }

  // Mock server arguments: MAC with our reference number and code, the
  // device certificate as the enrollment result, the issuing CA in
  // extraCerts and the root in caPubs.
  static std::vector<std::string> server_args(const std::string& secret_file = "code.txt") {
    return {"-srv_ref",        kRef,
            "-srv_secret",     "file:" + pki_->path(secret_file),
            "-rsp_cert",       pki_->path("device.pem"),
            "-rsp_extracerts", pki_->path("issuing.pem"),
            "-rsp_capubs",     pki_->path("root.pem")};
  }
  static std::vector<std::string> plus(std::vector<std::string> a, std::vector<std::string> b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  std::unique_ptr<ossl::CmpClient> make_client(const std::string& url) {
    ossl::CmpClientOptions o;
    o.url = url;
    o.trusted = &trusted_;
    o.timeout_seconds = 10;
    o.reference = kRef;
    o.secret = &code_;
    auto c = ossl::CmpClient::create(o);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(c).value() : nullptr;
  }

  CmpEndpoint endpoint(const std::string& url) const {
    CmpEndpoint e;
    e.url = url;
    e.trusted = {pki_->root};
    e.timeout_seconds = 10;
    return e;
  }

  static Bytes der(const pki::Certificate& c) { return c.der().value(); }
  static std::string cn(const pki::Certificate& c) { return c.info().value().cn; }

  static Bytes reg_info_value() {
    // Stands in for the EncryptedVID: any DER value, opaque to the client.
    return dojang::testing::from_hex("300d06092a864886f70d01010b0500");
  }

  template <class T>
  void expectError(const Result<T>& r, Errc code, const std::string& mentions = {}) {
    ASSERT_FALSE(r.ok()) << "unexpected success";
    EXPECT_EQ(r.error().code, code) << r.error().message;
    if (!mentions.empty()) {
      EXPECT_NE(r.error().message.find(mentions), std::string::npos) << r.error().message;
    }
    EXPECT_EQ(r.error().message.find(kCode), std::string::npos) << "auth code leaked";
  }

  void expectIssued(const Result<IssuedCertificate>& r) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(der(r->cert), der(pki_->device));
    EXPECT_TRUE(r->cert.matches(pki_->device_key));
    ASSERT_EQ(r->ca_chain.size(), 2u);
    EXPECT_EQ(der(r->ca_chain[0]), der(pki_->issuing));
    EXPECT_EQ(der(r->ca_chain[1]), der(pki_->root));
  }

  // The mock handled every message of the exchange and stopped by itself.
  void expectServerDone(MockCmpServer& server, size_t messages) {
    EXPECT_EQ(server.wait_exit(std::chrono::seconds(10)), 0) << server.log();
    EXPECT_EQ(server.requests_received(), messages) << server.log();
  }

  static Pki* pki_;
  SecretString code_{std::string(kCode)};
  std::vector<pki::Certificate> trusted_{pki_->root};
};
Pki* CmpClientTest::pki_ = nullptr;

// ---------------------------------------------------------------------------
// ir

TEST_F(CmpClientTest, IrWithoutRegInfoGetsTheCertificateAndConfirmsIt) {
  MockCmpServer server(pki_->dir, 2, server_args());  // ir, certConf
  auto r = request_ir(endpoint(server.url()), kRef, code_, pki_->device_key, std::nullopt);
  expectIssued(r);
  expectServerDone(server, 2);
}

TEST_F(CmpClientTest, IrWithRegInfoIsAcceptedByTheServer) {
  // The mock ignores regInfo but checks the MAC and the proof of possession
  // of the message we built: success means both verify.
  MockCmpServer server(pki_->dir, 2, server_args());
  auto r = request_ir(endpoint(server.url()), kRef, code_, pki_->device_key,
                      std::pair{std::string(pki::kOidEncryptedVid), reg_info_value()});
  expectIssued(r);
  expectServerDone(server, 2);
}

TEST_F(CmpClientTest, IrOverIpv6Loopback) {
  int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool has_v6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (probe >= 0) ::close(probe);
  if (!has_v6) GTEST_SKIP() << "no IPv6 loopback here";
  MockCmpServer server(pki_->dir, 2, server_args());  // listens on [::]
  auto r = request_ir(endpoint("http://[::1]:" + std::to_string(server.port()) + "/pkix/"), kRef,
                      code_, pki_->device_key, std::nullopt);
  expectIssued(r);
  expectServerDone(server, 2);
}

TEST_F(CmpClientTest, TheIrOnTheWireCarriesTheRegInfo) {
  // The same steps as request_ir, looking at every message on the wire.
  MockCmpServer server(pki_->dir, 2, server_args());
  auto client = make_client(server.url());
  OSSL_CMP_CTX* ctx = client->ctx();
  ::EVP_PKEY_up_ref(pki_->device_key.native());
  ASSERT_EQ(::OSSL_CMP_CTX_set0_newPkey(ctx, 1, pki_->device_key.native()), 1);
  ossl::Ptr<X509_NAME> subject = ossl::own(::X509_NAME_new());
  ::X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(kRef), -1, -1, 0);
  ASSERT_EQ(::OSSL_CMP_CTX_set1_subjectName(ctx, subject.get()), 1);
  auto check = ossl::NewCertCheck::create({pki_->root});
  ASSERT_TRUE(check.ok());
  ASSERT_TRUE(check->install(ctx).ok());
  auto crm = ossl::cert_req_msg_with_reginfo(ctx, pki::kOidEncryptedVid, reg_info_value());
  ASSERT_TRUE(crm.ok()) << crm.error().message;

  ASSERT_NE(::OSSL_CMP_exec_certreq(ctx, OSSL_CMP_IR, crm->get()), nullptr)
      << ossl::exchange_error(ctx, "ir").message;
  ASSERT_EQ(client->requests().size(), 2u);
  ASSERT_EQ(client->responses().size(), 2u);
  auto type = [](const Bytes& der) {
    const unsigned char* p = der.data();
    ossl::Ptr<OSSL_CMP_MSG> m =
        ossl::own(::d2i_OSSL_CMP_MSG(nullptr, &p, static_cast<long>(der.size())));
    return m ? ::OSSL_CMP_MSG_get_bodytype(m.get()) : -1;
  };
  constexpr int kIp = 1, kPkiConf = 19, kCertConf = 24;  // PKIBody tags
  EXPECT_EQ(type(client->requests()[0]), OSSL_CMP_IR);
  EXPECT_EQ(type(client->responses()[0]), kIp);
  EXPECT_EQ(type(client->requests()[1]), kCertConf);
  EXPECT_EQ(type(client->responses()[1]), kPkiConf);
  auto sent = pki::extract_reginfo_from_message(client->requests()[0], pki::kOidEncryptedVid);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(*sent, std::vector<std::optional<Bytes>>{reg_info_value()});
  EXPECT_FALSE(check->rejected());
  ASSERT_EQ(check->chain().size(), 2u);
  expectServerDone(server, 2);
}

// The other way to inject regInfo, kept as a check of OpenSSL's behaviour:
// let OSSL_CMP_CTX build and protect the ir, rewrite it in the transfer
// callback, re-protect it with OSSL_CMP_MSG_update_transactionID and send it
// with OpenSSL's own transport. The server accepts it and the client's
// transactionID / nonce checks of the answers still pass. (request_ir uses
// the simpler path: the CertReqMsg goes into OSSL_CMP_exec_certreq.)
TEST_F(CmpClientTest, RewritingTheIrInTheTransferCallbackAlsoWorks) {
  MockCmpServer server(pki_->dir, 2, server_args());
  auto client = make_client(server.url());
  OSSL_CMP_CTX* ctx = client->ctx();
  ::EVP_PKEY_up_ref(pki_->device_key.native());
  ASSERT_EQ(::OSSL_CMP_CTX_set0_newPkey(ctx, 1, pki_->device_key.native()), 1);
  ossl::Ptr<X509_NAME> subject = ossl::own(::X509_NAME_new());
  ::X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(kRef), -1, -1, 0);
  ASSERT_EQ(::OSSL_CMP_CTX_set1_subjectName(ctx, subject.get()), 1);
  ASSERT_EQ(::OSSL_CMP_CTX_set1_server(ctx, "127.0.0.1"), 1);
  ASSERT_EQ(::OSSL_CMP_CTX_set_serverPort(ctx, server.port()), 1);
  ASSERT_EQ(::OSSL_CMP_CTX_set1_serverPath(ctx, "/pkix/"), 1);
  ASSERT_EQ(::OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_MSG_TIMEOUT, 10), 1);

  static std::vector<Bytes> sent;  // what went over the wire
  sent.clear();
  auto rewrite = [](OSSL_CMP_CTX* c, const OSSL_CMP_MSG* req) -> OSSL_CMP_MSG* {
    ossl::Ptr<OSSL_CMP_MSG> copy = ossl::own(::OSSL_CMP_MSG_dup(req));
    if (::OSSL_CMP_MSG_get_bodytype(req) == OSSL_CMP_IR) {
      Bytes der = ossl::to_der(req, ::i2d_OSSL_CMP_MSG, "ir").value();
      auto injected = pki::add_reginfo(der, pki::kOidEncryptedVid, reg_info_value());
      if (!injected.ok()) return nullptr;
      const unsigned char* p = injected->data();
      copy = ossl::own(::d2i_OSSL_CMP_MSG(nullptr, &p, static_cast<long>(injected->size())));
      if (!copy || ::OSSL_CMP_MSG_update_transactionID(c, copy.get()) != 1) return nullptr;
    }
    sent.push_back(ossl::to_der(copy.get(), ::i2d_OSSL_CMP_MSG, "sent").value());
    return ::OSSL_CMP_MSG_http_perform(c, copy.get());
  };
  ASSERT_EQ(::OSSL_CMP_CTX_set_transfer_cb(ctx, rewrite), 1);
  ASSERT_EQ(::OSSL_CMP_CTX_set_transfer_cb_arg(ctx, nullptr), 1);

  X509* cert = ::OSSL_CMP_exec_certreq(ctx, OSSL_CMP_IR, nullptr);
  ASSERT_NE(cert, nullptr) << ossl::exchange_error(ctx, "ir").message;
  EXPECT_EQ(::X509_cmp(cert, pki_->device.native()), 0);
  ASSERT_EQ(sent.size(), 2u);  // ir, certConf
  auto carried = pki::extract_reginfo_from_message(sent[0], pki::kOidEncryptedVid);
  ASSERT_TRUE(carried.ok()) << carried.error().message;
  EXPECT_EQ(*carried, std::vector<std::optional<Bytes>>{reg_info_value()});
  expectServerDone(server, 2);
}

TEST_F(CmpClientTest, WrongAuthCodeIsRefusedWithTheServersReason) {
  MockCmpServer server(pki_->dir, 1, server_args("wrong-code.txt"));
  auto r = request_ir(endpoint(server.url()), kRef, code_, pki_->device_key, std::nullopt);
  expectError(r, Errc::policy, "rejected");
  if (!r.ok()) {
    EXPECT_NE(r.error().message.find("badRequest"), std::string::npos) << r.error().message;
  }
  expectServerDone(server, 1);
}

TEST_F(CmpClientTest, ServerRejectionCarriesStatusFailInfoAndText) {
  MockCmpServer server(pki_->dir, 1,
                       plus(server_args(), {"-pkistatus", "2", "-failure", "9", "-statusstring",
                                            "proof of possession does not verify"}));
  auto r = request_ir(endpoint(server.url()), kRef, code_, pki_->device_key, std::nullopt);
  expectError(r, Errc::policy, "rejected: badPOP");
  if (!r.ok()) {
    EXPECT_NE(r.error().message.find("proof of possession does not verify"), std::string::npos)
        << r.error().message;
  }
  expectServerDone(server, 1);
}

TEST_F(CmpClientTest, ResponseWithBadProtectionIsInvalidInput) {
  // The server takes our request despite the MAC mismatch and grants the
  // certificate, but its answer is protected with another secret.
  MockCmpServer server(pki_->dir, 1, plus(server_args("wrong-code.txt"), {"-accept_unprotected"}));
  auto r = request_ir(endpoint(server.url()), kRef, code_, pki_->device_key, std::nullopt);
  expectError(r, Errc::invalid_input, "protection");
  expectServerDone(server, 1);
}

TEST_F(CmpClientTest, CertificateFromAnUntrustedCaIsRefusedInCertConf) {
  MockCmpServer server(pki_->dir, 2, server_args());
  CmpEndpoint e = endpoint(server.url());
  e.trusted = {pki_->other_root};
  auto r = request_ir(e, kRef, code_, pki_->device_key, std::nullopt);
  expectError(r, Errc::invalid_input, "does not chain to a trusted root");
  expectServerDone(server, 2);  // the rejection went to the CA as certConf
}

TEST_F(CmpClientTest, CertificateForAnotherKeyIsRefused) {
  std::vector<std::string> args = server_args();
  args[5] = pki_->path("stranger.pem");  // -rsp_cert
  MockCmpServer server(pki_->dir, 2, args);
  auto r = request_ir(endpoint(server.url()), kRef, code_, pki_->device_key, std::nullopt);
  expectError(r, Errc::invalid_input, "public key");
  expectServerDone(server, 2);
}

TEST_F(CmpClientTest, ServerDownIsIoAndQuick) {
  auto start = std::chrono::steady_clock::now();
  auto r = request_ir(endpoint("http://127.0.0.1:" + std::to_string(closed_port()) + "/pkix/"),
                      kRef, code_, pki_->device_key, std::nullopt);
  expectError(r, Errc::io);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  auto g = request_ca_certs(endpoint("http://127.0.0.1:" + std::to_string(closed_port()) + "/"),
                            kRef, code_);
  expectError(g, Errc::io);
}

TEST_F(CmpClientTest, SilentServerTimesOutAsIo) {
  // A socket that accepts connections (backlog) but never answers.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  CmpEndpoint e = endpoint("http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/pkix/");
  e.timeout_seconds = 1;
  auto start = std::chrono::steady_clock::now();
  auto r = request_ir(e, kRef, code_, pki_->device_key, std::nullopt);
  ::close(fd);
  expectError(r, Errc::io);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// Answers one HTTP request with a canned response from a thread.
class CannedHttpServer {
 public:
  explicit CannedHttpServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~CannedHttpServer() {
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/pkix/"; }

 private:
  void serve() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) return;  // the client never came
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    std::string in;
    char buf[4096];
    // Read the headers and the announced body, then answer.
    for (;;) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
      size_t end = in.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      std::smatch m;
      static const std::regex length(R"(Content-Length: *(\d+))", std::regex::icase);
      size_t body = std::regex_search(in, m, length) ? std::stoul(m[1].str()) : 0;
      if (in.size() >= end + 4 + body) break;
    }
    ssize_t sent = ::write(c, response_.data(), response_.size());
    (void)sent;
    ::close(c);
  }
  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(CmpClientTest, GarbageAnswerIsInvalidInput) {
  CannedHttpServer server(
      "HTTP/1.0 200 OK\r\nContent-Type: application/pkixcmp\r\nContent-Length: 16\r\n\r\n"
      "not a PKIMessage");
  expectError(request_ir(endpoint(server.url()), kRef, code_, pki_->device_key, std::nullopt),
              Errc::invalid_input, "not a CMP message");
}

TEST_F(CmpClientTest, HttpErrorStatusIsIo) {
  CannedHttpServer server("HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  expectError(request_ir(endpoint(server.url()), kRef, code_, pki_->device_key, std::nullopt),
              Errc::io, "503");
}

TEST_F(CmpClientTest, BadArgumentsAreUsageErrors) {
  expectError(
      request_ir(endpoint("https://127.0.0.1/pkix/"), kRef, code_, pki_->device_key, std::nullopt),
      Errc::usage);
  expectError(
      request_ir(endpoint("http://127.0.0.1:1/"), "", code_, pki_->device_key, std::nullopt),
      Errc::usage);
  SecretString empty;
  expectError(
      request_ir(endpoint("http://127.0.0.1:1/"), kRef, empty, pki_->device_key, std::nullopt),
      Errc::usage);
  CmpEndpoint no_trust = endpoint("http://127.0.0.1:1/");
  no_trust.trusted.clear();
  expectError(request_ir(no_trust, kRef, code_, pki_->device_key, std::nullopt), Errc::usage);
  expectError(request_ir(endpoint("http://127.0.0.1:1/"), kRef, code_, pki_->device_key,
                         std::pair{std::string("encryptedVID"), reg_info_value()}),
              Errc::usage);
  expectError(request_ir(endpoint("http://127.0.0.1:1/"), kRef, code_, pki_->device_key,
                         std::pair{std::string(pki::kOidEncryptedVid), Bytes{0x30, 0x10}}),
              Errc::invalid_input);
}

// ---------------------------------------------------------------------------
// genm

TEST_F(CmpClientTest, CaCertsFromTheMockServer) {
  // OpenSSL 3.0's mock server answers a genm by echoing the request's one
  // InfoTypeAndValue (it refuses more than one), so the id-it-caCerts and
  // id-it-caProtEncCert requests come back without values: two verified
  // genp, no certificates. (dojangd answers them with its certificates.)
  MockCmpServer server(pki_->dir, 2, server_args());
  auto r = request_ca_certs(endpoint(server.url()), kRef, code_);
  ASSERT_TRUE(r.ok()) << r.error().message << "\n" << server.log();
  EXPECT_TRUE(r->empty());
  expectServerDone(server, 2);
}

TEST_F(CmpClientTest, GenpCertificatesAreReadFromEveryShapeOfValue) {
  // Let the echoing mock send values back, one genm each: a SEQUENCE OF
  // Certificate (the id-it-caCerts shape), a single Certificate (the
  // id-it-caProtEncCert shape), another SEQUENCE, no value. Private OIDs, so
  // OpenSSL keeps every value as ANY.
  MockCmpServer server(pki_->dir, 4, server_args());
  auto any_of_der = [](const Bytes& der) {
    const unsigned char* p = der.data();
    return ::d2i_ASN1_TYPE(nullptr, &p, static_cast<long>(der.size()));
  };
  auto echo = [&](const char* oid, ASN1_TYPE* value) {
    auto client = make_client(server.url());
    OSSL_CMP_ITAV* itav = ::OSSL_CMP_ITAV_create(::OBJ_txt2obj(oid, 1), value);
    EXPECT_EQ(::OSSL_CMP_CTX_push0_genm_ITAV(client->ctx(), itav), 1);
    ossl::Ptr<STACK_OF(OSSL_CMP_ITAV)> itavs = ossl::own(::OSSL_CMP_exec_GENM_ses(client->ctx()));
    EXPECT_TRUE(itavs) << ossl::exchange_error(client->ctx(), "genm").message;
    EXPECT_EQ(client->responses().size(), 1u);
    if (client->responses().empty()) return std::vector<Bytes>{};
    auto certs = ossl::certificates_in_genp(client->responses()[0]);
    EXPECT_TRUE(certs.ok()) << certs.error().message;
    std::vector<Bytes> out;
    if (certs.ok())
      for (const auto& c : *certs) out.push_back(der(c));
    return out;
  };
  ossl::Ptr<ASN1_SEQUENCE_ANY> seq = ossl::own(sk_ASN1_TYPE_new_null());
  for (const pki::Certificate* c : {&pki_->root, &pki_->issuing, &pki_->root})
    sk_ASN1_TYPE_push(seq.get(), any_of_der(der(*c)));
  Bytes seq_der = ossl::to_der(seq.get(), ::i2d_ASN1_SEQUENCE_ANY, "seq").value();

  EXPECT_EQ(echo("1.3.6.1.4.1.55555.1", any_of_der(seq_der)),
            (std::vector<Bytes>{der(pki_->root), der(pki_->issuing)}));  // root once
  EXPECT_EQ(echo("1.3.6.1.4.1.55555.2", any_of_der(der(pki_->device))),
            std::vector<Bytes>{der(pki_->device)});
  EXPECT_EQ(echo("1.3.6.1.4.1.55555.3", any_of_der(reg_info_value())), std::vector<Bytes>{});
  EXPECT_EQ(echo("1.3.6.1.4.1.55555.4", nullptr), std::vector<Bytes>{});
  expectServerDone(server, 4);
}

TEST_F(CmpClientTest, GenmWithWrongAuthCodeIsRefused) {
  MockCmpServer server(pki_->dir, 1, server_args("wrong-code.txt"));  // fails at the first genm
  auto r = request_ca_certs(endpoint(server.url()), kRef, code_);
  expectError(r, Errc::policy, "rejected");
  expectServerDone(server, 1);
}

}  // namespace
}  // namespace dojang::wallet
