// The issuance orchestration on the teller path against an independent CMP
// peer: the mock CMP server built into the openssl CLI (`openssl cmp -port`).
// (The bank path with the EncryptedVID runs against dojangd in
// tests/apps/issue_test.cpp.)
#include "dojang/wallet/issuance.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

#include "dojang/pki/keyfile.hpp"
#include "pki/certinfo_testdata.hpp"
#include "testing/testing.hpp"

extern char** environ;

namespace dojang::wallet {
namespace {

namespace fs = std::filesystem;
using dojang::testing::TempDir;
using pki::test::openssl_bin;
using pki::test::run_openssl;

constexpr const char* kRef = "27182818";
constexpr const char* kCode = "Q2W3-E4R5-T6Y7-U8I9";
constexpr const char* kPassword = "Seoul#River-92z";

// `openssl cmp` as mock CMP server on a port the kernel picks; answers
// max_msgs messages, then exits.
class MockCmpServer {
 public:
  MockCmpServer(const TempDir& dir, int max_msgs, std::vector<std::string> args) {
    static int serial = 0;
    log_ = dir / ("issue-mock-" + std::to_string(++serial) + ".log");
    fs::path cnf = dir / "empty.cnf";
    if (!fs::exists(cnf)) dojang::testing::write_text(cnf, "");
    std::vector<std::string> argv = {openssl_bin(), "cmp", "-config", cnf.string(), "-port", "0",
                                     "-max_msgs",   std::to_string(max_msgs)};
    argv.insert(argv.end(), args.begin(), args.end());
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
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
    static const std::regex accept_line(R"(ACCEPT \S*:(\d+))");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (;;) {
      std::string text = log();
      std::smatch m;
      if (std::regex_search(text, m, accept_line)) {
        port_ = std::stoi(m[1].str());
        return;
      }
      if (exited(std::chrono::milliseconds(0)) || std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "mock CMP server did not start:\n" << text;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~MockCmpServer() {
    if (pid_ > 0 && !exited(std::chrono::seconds(5))) {
      ::kill(pid_, SIGTERM);  // the process this fixture started, by its id
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  MockCmpServer(const MockCmpServer&) = delete;
  MockCmpServer& operator=(const MockCmpServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/pkix/"; }
  std::string log() const {
    std::error_code ec;
    return fs::exists(log_, ec) ? dojang::testing::read_text(log_) : std::string();
  }

 private:
  bool exited(std::chrono::milliseconds limit) {
    if (done_) return true;
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) return done_ = true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  fs::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool done_ = false;
};

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

// root CA → issuing CA → the device's certificate on device_key (the key the
// test hands to issue_certificate as if generated on the device), all made
// with the openssl CLI; plus an unrelated root.
struct Pki {
  TempDir dir;
  pki::PrivateKey device_key = pki::PrivateKey::generate_rsa(2048).value();
  Pki() {
    dojang::testing::write_text(dir / "ca.ext",
                                "[ca]\nbasicConstraints=critical,CA:TRUE\n"
                                "keyUsage=critical,keyCertSign,cRLSign\n"
                                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
                                "[ee]\nkeyUsage=critical,digitalSignature,nonRepudiation\n");
    for (const char* r : {"root", "other-root"}) {
      openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path(std::string(r) + ".key"),
               "-out", path(std::string(r) + ".pem"), "-subj", std::string("/CN=Test ") + r, "-days", "2",
               "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
    }
    openssl({"req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", path("issuing.key"), "-out",
             path("issuing.csr"), "-subj", "/CN=Test issuing CA"});
    openssl({"x509", "-req", "-in", path("issuing.csr"), "-CA", path("root.pem"), "-CAkey", path("root.key"),
             "-set_serial", "2", "-days", "2", "-extfile", path("ca.ext"), "-extensions", "ca", "-out",
             path("issuing.pem")});
    auto pem = device_key.to_pem();
    dojang::testing::write_bytes(dir / "device.key", Bytes(pem->data(), pem->data() + pem->size()));
    openssl({"req", "-new", "-key", path("device.key"), "-out", path("device.csr"), "-subj",
             "/C=KR/O=Test/OU=personal4IB/OU=WOORI/CN=Hong Gildong()0012345678"});
    openssl({"x509", "-req", "-in", path("device.csr"), "-CA", path("issuing.pem"), "-CAkey", path("issuing.key"),
             "-set_serial", "4660", "-days", "1", "-extfile", path("ca.ext"), "-extensions", "ee", "-out",
             path("device.pem")});
    dojang::testing::write_text(dir / "code.txt", kCode);
    dojang::testing::write_text(dir / "wrong-code.txt", "not-the-code");
  }
  pki::Certificate load(const std::string& name) const {
    return pki::Certificate::from_pem(dojang::testing::read_bytes(dir / name)).value();
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }

 private:
  void openssl(std::vector<std::string> args) {
    auto r = run_openssl(dir, std::move(args));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
};

class IssuanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new Pki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  // genm caCerts, genm caProtEncCert, ir, certConf.
  static std::vector<std::string> server_args(const std::string& secret_file = "code.txt") {
    return {"-srv_ref",        kRef,
            "-srv_secret",     "file:" + pki_->path(secret_file),
            "-rsp_cert",       pki_->path("device.pem"),
            "-rsp_extracerts", pki_->path("issuing.pem"),
            "-rsp_capubs",     pki_->path("root.pem")};
  }

  IssueParams teller_params(const std::string& cmp_url) {
    IssueParams p;
    p.server = "http://127.0.0.1:1";
    p.cmp_url = cmp_url;
    p.timeout_seconds = 10;
    p.trusted_root = pki_->load("root.pem");
    p.teller = TellerTicket{kRef, SecretString(kCode)};
    p.password = SecretString(kPassword);
    p.store = &store_;
    p.make_key = [] { return Result<pki::PrivateKey>(pki_->device_key); };
    p.progress = [this](IssueStep step, std::string_view message) {
      steps_.push_back(step);
      messages_ += std::string(message) + "\n";
    };
    return p;
  }

  template <class T>
  void expectError(const Result<T>& r, Errc code, const std::string& mentions = {}) {
    ASSERT_FALSE(r.ok()) << "unexpected success";
    EXPECT_EQ(r.error().code, code) << r.error().message;
    if (!mentions.empty()) {
      EXPECT_NE(r.error().message.find(mentions), std::string::npos) << r.error().message;
    }
    EXPECT_EQ(r.error().message.find(kCode), std::string::npos);
    EXPECT_EQ(r.error().message.find(kPassword), std::string::npos);
  }
  void expectStoreEmpty() {
    auto list = store_.list();
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(list->empty());
  }
  void expectStored(const IssueOutcome& out, const SecretString& password) {
    EXPECT_EQ(out.reference, kRef);
    EXPECT_FALSE(out.vid_sent);
    EXPECT_FALSE(out.vid_verified);
    EXPECT_EQ(out.info.serial_dec, "4660");
    ASSERT_EQ(out.ca_chain.size(), 2u);  // issuing CA, root
    auto list = store_.list();
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].folder, out.stored.folder);
    EXPECT_EQ(out.stored.folder.parent_path().parent_path().parent_path(), npki_.path());
    // signCert.der is the issued certificate; signPri.key opens with the
    // password, holds our key and a 20-byte R, in seedCBCWithSHA1.
    auto cert = pki::Certificate::from_der(dojang::testing::read_bytes(out.stored.cert_path));
    ASSERT_TRUE(cert.ok());
    EXPECT_EQ(cert->der().value(), pki_->load("device.pem").der().value());
    auto key_file = dojang::testing::read_bytes(out.stored.key_path);
    auto info = pki::inspect_key_file(key_file);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->scheme, pki::KeyFileScheme::seed_cbc_with_sha1);
    auto key = pki::decrypt_key_file(key_file, password);
    ASSERT_TRUE(key.ok()) << key.error().message;
    EXPECT_TRUE(cert->matches(key->key));
    EXPECT_EQ(key->key.public_key_der().value(), pki_->device_key.public_key_der().value());
    ASSERT_TRUE(key->random_num.has_value());
    EXPECT_EQ(key->random_num->size(), 20u);
    EXPECT_EQ(fs::status(out.stored.key_path).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
  }

  static Pki* pki_;
  TempDir npki_;
  NpkiStore store_{{npki_.path()}};
  std::vector<IssueStep> steps_;
  std::string messages_;
};

Pki* IssuanceTest::pki_ = nullptr;

TEST_F(IssuanceTest, TellerPathWithoutVidStoresACredentialThatOpensWithThePassword) {
  MockCmpServer server(pki_->dir, 4, server_args());
  IssueParams p = teller_params(server.url());
  auto out = issue_certificate(p);
  ASSERT_TRUE(out.ok()) << out.error().message << "\n" << server.log();
  expectStored(*out, SecretString(kPassword));
  EXPECT_EQ(steps_.front(), IssueStep::ca_certificates);
  for (IssueStep s : {IssueStep::key_generation, IssueStep::certificate_request, IssueStep::storing})
    EXPECT_NE(std::find(steps_.begin(), steps_.end(), s), steps_.end()) << issue_step_name(s);
  EXPECT_EQ(std::find(steps_.begin(), steps_.end(), IssueStep::bank_login), steps_.end());
  EXPECT_NE(messages_.find("Generating your key on this device (RSA-2048)"), std::string::npos) << messages_;
  EXPECT_NE(messages_.find("Requesting the certificate from the CA (CMP ir)"), std::string::npos);
  EXPECT_NE(messages_.find("Stored in " + out->stored.folder.string()), std::string::npos) << messages_;
}

TEST_F(IssuanceTest, AskedPasswordIsAskedAgainWhileThePolicyRefusesIt) {
  MockCmpServer server(pki_->dir, 4, server_args());
  IssueParams p = teller_params(server.url());
  p.password.reset();
  std::vector<std::vector<std::string>> seen;
  p.ask_password = [&](const PasswordContext& ctx, const std::vector<std::string>& refused) {
    EXPECT_EQ(ctx.name, "Hong Gildong");  // from the issued certificate
    seen.push_back(refused);
    return Result<SecretString>(SecretString(seen.size() == 1 ? "password1234" : kPassword));
  };
  auto out = issue_certificate(p);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[0].empty());
  EXPECT_FALSE(seen[1].empty());
  expectStored(*out, SecretString(kPassword));
}

TEST_F(IssuanceTest, PasswordRefusedEveryTimeStoresNothing) {
  MockCmpServer server(pki_->dir, 4, server_args());
  IssueParams p = teller_params(server.url());
  p.password.reset();
  int asked = 0;
  p.ask_password = [&](const PasswordContext&, const std::vector<std::string>&) {
    ++asked;
    return Result<SecretString>(SecretString("HongGildong!1"));  // the holder's name
  };
  auto out = issue_certificate(p);
  expectError(out, Errc::policy, "certificate password: refused");
  EXPECT_EQ(asked, 3);
  expectStoreEmpty();
}

TEST_F(IssuanceTest, WeakPasswordGivenUpFrontIsRefusedBeforeAnythingIsSent) {
  IssueParams p = teller_params("http://127.0.0.1:" + std::to_string(closed_port()) + "/pkix/");
  p.password = SecretString("1234567890");
  p.idn = SecretString("8001011234567");
  expectError(issue_certificate(p), Errc::policy, "certificate password: refused");
  EXPECT_TRUE(steps_.empty());
  p.password = SecretString("Abc!19800101x");  // the birth date from the IDN
  expectError(issue_certificate(p), Errc::policy, "birth date");
}

TEST_F(IssuanceTest, CertificateFromAnotherRootIsRefusedAndNothingStored) {
  MockCmpServer server(pki_->dir, 4, server_args());
  IssueParams p = teller_params(server.url());
  p.trusted_root = pki_->load("other-root.pem");
  expectError(issue_certificate(p), Errc::invalid_input, "certificate request: ");
  expectStoreEmpty();
}

TEST_F(IssuanceTest, WrongAuthorizationCodeFailsAtTheFirstExchange) {
  MockCmpServer server(pki_->dir, 1, server_args("wrong-code.txt"));
  IssueParams p = teller_params(server.url());
  expectError(issue_certificate(p), Errc::policy, "CA certificates: ");
  expectStoreEmpty();
}

TEST_F(IssuanceTest, IdnWithoutTheCaEncryptionCertificateFailsClearly) {
  // The mock echoes genm without values: no km certificate to encrypt the VID to.
  MockCmpServer server(pki_->dir, 2, server_args());
  IssueParams p = teller_params(server.url());
  p.idn = SecretString("8001011234567");
  expectError(issue_certificate(p), Errc::invalid_input, "no encryption certificate");
  expectStoreEmpty();
}

TEST_F(IssuanceTest, PinnedFingerprintNeedsTheServerToSendThatRoot) {
  MockCmpServer server(pki_->dir, 2, server_args());
  IssueParams p = teller_params(server.url());
  p.trusted_root.reset();
  p.root_fingerprint = certificate_sha256(pki_->load("root.pem")).value();
  expectError(issue_certificate(p), Errc::invalid_input, "pinned fingerprint");
}

TEST_F(IssuanceTest, ServerDownIsIo) {
  IssueParams p = teller_params("http://127.0.0.1:" + std::to_string(closed_port()) + "/pkix/");
  expectError(issue_certificate(p), Errc::io, "CA certificates: ");
}

TEST_F(IssuanceTest, MissingOrContradictoryParametersAreUsageErrors) {
  IssueParams p = teller_params("http://127.0.0.1:1/pkix/");
  p.bank = BankLogin{"hong", SecretString("x"), BankPurpose::general, nullptr};
  expectError(issue_certificate(p), Errc::usage, "not both");
  p = teller_params("http://127.0.0.1:1/pkix/");
  p.trusted_root.reset();
  expectError(issue_certificate(p), Errc::usage, "no trust");
  p.root_fingerprint = "AB:CD";
  expectError(issue_certificate(p), Errc::usage, "64 hex digits");
  p = teller_params("http://127.0.0.1:1/pkix/");
  p.teller.reset();
  p.bank = BankLogin{"hong", SecretString("x"), BankPurpose::general, nullptr};
  expectError(issue_certificate(p), Errc::usage, "resident registration number");
  p = teller_params("http://127.0.0.1:1/pkix/");
  p.password.reset();
  expectError(issue_certificate(p), Errc::usage, "password");
  EXPECT_EQ(certificate_sha256(pki_->load("root.pem")).value().size(), 64u);
}

}  // namespace
}  // namespace dojang::wallet
