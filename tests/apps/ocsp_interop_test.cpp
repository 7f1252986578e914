// Interop of dojangd's revocation services with the stock openssl CLI
// (OpenSSL 3.0): `openssl ocsp` against POST /ocsp after `openssl cmp` got a
// certificate from a teller application, `dojangd ca revoke` / `ca resume`
// from another process, GET /ocsp/<base64>, CRLs with `openssl crl` and
// `openssl verify -crl_check`, malformed and huge requests, idle and
// trickling connections.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <thread>

#include "testing/testing.hpp"

namespace dojang::testing {
namespace {

using namespace std::chrono_literals;

class OcspInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (tmp_ / "data").string();
    pass_ = secret("pass", "operator passphrase 1");
    write_text(tmp_ / "empty.cnf", "");
    ASSERT_FALSE(init_dojangd(data_, pass_).empty());
    auto enrol =
        dojangd({"bank", "enrol", "--data", data_, "--passphrase-file", pass_, "--customer", "hong",
                 "--name", "홍길동", "--idn-file", secret("idn", "800101-1234567"), "--phone",
                 "010-1234-5678", "--password-file", secret("lpw", "Bank!login-77")});
    ASSERT_EQ(enrol.exit_code, 0) << enrol.err;
    issuer_ = data_ + "/certs/issuing.pem";
    root_ = data_ + "/root.pem";
    server_ = std::make_unique<Background>(std::vector<std::string>{
        bin_path("dojangd").string(), "serve", "--data", data_, "--passphrase-file", pass_,
        "--listen", "127.0.0.1:0", "--threads", "2", "--crl-interval", "1"});
    std::string line = server_->wait_for_line("listening on");
    ASSERT_FALSE(line.empty()) << server_->out();
    port_ = static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->stop(SIGTERM), 0);
    }
  }
  std::string secret(const std::string& name, const std::string& value) {
    auto p = tmp_ / name;
    write_text(p, value + "\n");
    return p.string();
  }
  RunResult dojangd(std::vector<std::string> args) {
    args.insert(args.begin(), bin_path("dojangd").string());
    return run(args);
  }
  RunResult openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    return run(args);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/ocsp"; }

  // A certificate for hong through `openssl cmp` (teller path); returns its PEM path.
  std::string issue(const std::string& name) {
    auto app = dojangd(
        {"bank", "application", "--data", data_, "--passphrase-file", pass_, "--customer", "hong"});
    EXPECT_EQ(app.exit_code, 0) << app.err;
    std::smatch ref, code;
    EXPECT_TRUE(std::regex_search(app.out, ref, std::regex("Reference number: +([0-9]{8})")));
    EXPECT_TRUE(
        std::regex_search(app.out, code, std::regex("Authorization code: +([0-9A-Z-]{19})")));
    auto key = (tmp_ / (name + ".key")).string();
    EXPECT_EQ(
        openssl({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key})
            .exit_code,
        0);
    auto cert = (tmp_ / (name + ".pem")).string();
    auto r = run({"/usr/bin/openssl",
                  "cmp",
                  "-config",
                  (tmp_ / "empty.cnf").string(),
                  "-server",
                  "127.0.0.1:" + std::to_string(port_) + "/pkix/",
                  "-cmd",
                  "ir",
                  "-ref",
                  ref.size() > 1 ? ref[1].str() : "",
                  "-secret",
                  "pass:" + (code.size() > 1 ? code[1].str() : ""),
                  "-newkey",
                  key,
                  "-subject",
                  "/CN=x",
                  "-trusted",
                  root_,
                  "-certout",
                  cert});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return cert;
  }
  std::string serial_of(const std::string& cert) {
    auto r = openssl({"x509", "-in", cert, "-noout", "-serial"});
    EXPECT_EQ(r.exit_code, 0);
    auto s = r.out.substr(r.out.find('=') + 1);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  // `openssl ocsp` (with its default nonce) for a certificate; stdout + stderr.
  std::string ocsp(const std::string& cert, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"ocsp"};
    args.insert(args.end(), extra.begin(), extra.end());  // a digest goes before -cert
    for (const std::string& a : {std::string("-issuer"), issuer_, std::string("-cert"), cert,
                                 std::string("-url"), url(), std::string("-CAfile"), root_})
      args.push_back(a);
    auto r = openssl(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r.out + r.err;
  }
  void expectVerified(const std::string& out, const std::string& status) {
    EXPECT_NE(out.find("Response verify OK"), std::string::npos) << out;
    EXPECT_NE(out.find(": " + status + "\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("WARNING"), std::string::npos) << out;  // e.g. "no nonce in response"
  }
  RunResult ca(const std::string& verb, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"ca", verb, "--data", data_, "--passphrase-file", pass_};
    argv.insert(argv.end(), args.begin(), args.end());
    return dojangd(argv);
  }

  TempDir tmp_;
  std::string data_, pass_, issuer_, root_;
  std::unique_ptr<Background> server_;
  std::uint16_t port_ = 0;
};

TEST_F(OcspInteropTest, OpensslOcspSeesRevocationHoldAndResumeAtOnce) {
  auto cert = issue("c1");
  expectVerified(ocsp(cert), "good");

  auto revoke = ca("revoke", {"--serial", "0x" + serial_of(cert), "--reason", "keyCompromise"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  // Another process revoked it: the running responder reflects it at once (it
  // polls the registry revision every 25 ms; allow for a loaded machine).
  std::string out;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    out = ocsp(cert);
    if (out.find(": revoked") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  expectVerified(out, "revoked");
  EXPECT_NE(out.find("Reason: keyCompromise"), std::string::npos) << out;
  EXPECT_NE(out.find("Revocation Time:"), std::string::npos) << out;
  // Once revoked, for good: refused by policy (4).
  EXPECT_EQ(ca("revoke", {"--serial", "0x" + serial_of(cert), "--reason", "superseded"}).exit_code,
            4);
  EXPECT_EQ(ca("resume", {"--serial", "0x" + serial_of(cert)}).exit_code, 4);

  // Suspension (certificateHold) and resumption, serial given in decimal.
  auto second = issue("c2");

  auto bn = run({"/usr/bin/bash", "-c",
                 "echo \"ibase=16; $(openssl x509 -in '" + second +
                     "' -noout -serial | cut -d= -f2)\" | BC_LINE_LENGTH=0 bc"});
  std::string decimal = bn.out.substr(0, bn.out.find('\n'));
  ASSERT_FALSE(decimal.empty()) << bn.err;
  ASSERT_EQ(ca("revoke", {"--serial", decimal, "--reason", "certificateHold"}).exit_code, 0);
  for (int i = 0; i < 20; ++i) {
    out = ocsp(second);
    if (out.find(": revoked") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  expectVerified(out, "revoked");
  EXPECT_NE(out.find("Reason: certificateHold"), std::string::npos) << out;
  auto resume = ca("resume", {"--serial", decimal, "--json"});
  ASSERT_EQ(resume.exit_code, 0) << resume.err;
  EXPECT_NE(resume.out.find("\"status\":\"good\""), std::string::npos) << resume.out;
  for (int i = 0; i < 20; ++i) {
    out = ocsp(second);
    if (out.find(": good") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  expectVerified(out, "good");

  // Operator errors: usage (2), unknown serial (3).
  EXPECT_EQ(ca("revoke", {"--serial", "12ab", "--reason", "superseded"}).exit_code, 2);
  EXPECT_EQ(ca("revoke", {"--serial", "0x1234", "--reason", "lost-phone"}).exit_code, 2);
  EXPECT_EQ(ca("revoke", {"--serial", "0x1234", "--reason", "superseded"}).exit_code, 3);
}

TEST_F(OcspInteropTest, UnknownSerialNoNonceAndSha256) {
  auto cert = issue("c1");
  auto r = openssl({"ocsp", "-issuer", issuer_, "-serial", "0x0102030405060708", "-url", url(),
                    "-CAfile", root_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expectVerified(r.out + r.err, "unknown");
  // Without a nonce: the pre-signed answer; with a SHA-256 CertID.
  expectVerified(ocsp(cert, {"-no_nonce"}), "good");
  expectVerified(ocsp(cert, {"-no_nonce", "-sha256"}), "good");
  // Another issuer (the root as the CertID's issuer): unauthorized.
  auto other = openssl({"ocsp", "-issuer", root_, "-cert", cert, "-url", url(), "-CAfile", root_});
  EXPECT_NE((other.out + other.err).find("unauthorized"), std::string::npos)
      << other.out << other.err;
}

TEST_F(OcspInteropTest, GetFormWithCachingHeaders) {
  auto cert = issue("c1");
  auto req = (tmp_ / "req.der").string();
  ASSERT_EQ(
      openssl({"ocsp", "-issuer", issuer_, "-cert", cert, "-no_nonce", "-reqout", req}).exit_code,
      0);
  auto b64 = openssl({"base64", "-A", "-in", req});
  ASSERT_EQ(b64.exit_code, 0);
  std::string raw = b64.out, escaped;
  for (char c : raw) {
    if (c == '+')
      escaped += "%2B";
    else if (c == '/')
      escaped += "%2F";
    else if (c == '=')
      escaped += "%3D";
    else
      escaped += c;
  }
  for (const std::string& path : {escaped, raw}) {
    if (path == raw && raw.find('/') != std::string::npos) continue;  // '/' must be escaped
    auto resp = http_request(port_, "GET", "/ocsp/" + path);
    ASSERT_EQ(resp.status, 200) << resp.body;
    EXPECT_EQ(resp.headers["content-type"], "application/ocsp-response");
    EXPECT_NE(resp.headers["cache-control"].find("max-age="), std::string::npos);
    EXPECT_NE(resp.headers["cache-control"].find("public"), std::string::npos);
    EXPECT_FALSE(resp.headers["last-modified"].empty());
    EXPECT_FALSE(resp.headers["expires"].empty());
    EXPECT_FALSE(resp.headers["etag"].empty());
    auto der = (tmp_ / "resp.der").string();
    write_text(der, resp.body);
    auto v = openssl(
        {"ocsp", "-respin", der, "-no_nonce", "-issuer", issuer_, "-cert", cert, "-CAfile", root_});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    expectVerified(v.out + v.err, "good");
  }
}

TEST_F(OcspInteropTest, CrlsParseAndCrlCheckRejectsTheRevokedOne) {
  auto good = issue("good");
  auto bad = issue("bad");
  ASSERT_EQ(ca("revoke", {"--serial", "0x" + serial_of(bad), "--reason", "superseded"}).exit_code,
            0);
  auto cdp = [&](const std::string& cert) {
    auto r = openssl({"x509", "-in", cert, "-noout", "-ext", "crlDistributionPoints"});
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.out, m, std::regex("/crl/(p[0-9]+)\\.crl"))) << r.out;
    return m.size() > 1 ? m[1].str() : std::string("p0");
  };
  auto fetch = [&](const std::string& name) {
    auto resp = http_request(port_, "GET", "/crl/" + name + ".crl");
    EXPECT_EQ(resp.status, 200) << name;
    auto der = (tmp_ / (name + ".crl")).string();
    write_text(der, resp.body);
    auto pem = (tmp_ / (name + ".crl.pem")).string();
    EXPECT_EQ(openssl({"crl", "-in", der, "-inform", "DER", "-out", pem}).exit_code, 0);
    return std::make_pair(resp, pem);
  };
  // Published at most --crl-interval (1 s) after the change.
  std::string text;
  for (int i = 0; i < 50; ++i) {
    auto [resp, pem] = fetch(cdp(bad));
    text = openssl({"crl", "-in", pem, "-noout", "-text"}).out;
    if (text.find(serial_of(bad)) != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(text.find(serial_of(bad)), std::string::npos) << text;
  EXPECT_NE(text.find("Superseded"), std::string::npos) << text;
  EXPECT_NE(text.find("Issuing Distribution Point: critical"), std::string::npos) << text;
  EXPECT_NE(text.find("/crl/" + cdp(bad) + ".crl"), std::string::npos) << text;

  auto [bad_resp, bad_pem] = fetch(cdp(bad));
  EXPECT_EQ(bad_resp.headers["content-type"], "application/pkix-crl");
  EXPECT_NE(bad_resp.headers["cache-control"].find("max-age="), std::string::npos);
  EXPECT_FALSE(bad_resp.headers["last-modified"].empty());
  EXPECT_FALSE(bad_resp.headers["etag"].empty());
  auto not_modified = http_request(port_, "GET", "/crl/" + cdp(bad) + ".crl", "",
                                   {{"If-None-Match", bad_resp.headers["etag"]}});
  EXPECT_EQ(not_modified.status, 304);

  auto verify = [&](const std::string& cert, const std::string& crl_pem) {
    return openssl({"verify", "-crl_check", "-CAfile", root_, "-untrusted", data_ + "/chain.pem",
                    "-CRLfile", crl_pem, cert});
  };
  auto rejected = verify(bad, bad_pem);
  EXPECT_NE(rejected.exit_code, 0);
  EXPECT_NE((rejected.out + rejected.err).find("certificate revoked"), std::string::npos)
      << rejected.out << rejected.err;
  auto [good_resp, good_pem] = fetch(cdp(good));
  auto accepted = verify(good, good_pem);
  EXPECT_EQ(accepted.exit_code, 0) << accepted.out << accepted.err;

  auto [full_resp, full_pem] = fetch("full");
  auto full_text = openssl({"crl", "-in", full_pem, "-noout", "-text"}).out;
  EXPECT_NE(full_text.find(serial_of(bad)), std::string::npos);
  EXPECT_EQ(full_text.find("Issuing Distribution Point"), std::string::npos);
  EXPECT_NE(verify(bad, full_pem).exit_code, 0);
  EXPECT_EQ(http_request(port_, "GET", "/crl/p999.crl").status, 404);
  EXPECT_EQ(http_request(port_, "GET", "/crl/full").status, 404);
}

TEST_F(OcspInteropTest, MalformedHugeAndSlowClients) {
  auto cert = issue("c1");
  auto respin = [&](const std::string& body) {
    auto der = (tmp_ / "err.der").string();
    write_text(der, body);
    auto r = openssl({"ocsp", "-respin", der, "-resp_text", "-noverify"});
    return r.out + r.err;
  };
  auto garbage = http_request(port_, "POST", "/ocsp", std::string(200, 'x'),
                              {{"Content-Type", "application/ocsp-request"}});
  ASSERT_EQ(garbage.status, 200);
  EXPECT_NE(respin(garbage.body).find("malformedrequest"), std::string::npos);
  auto bad_get = http_request(port_, "GET", "/ocsp/%%%not-base64!!");
  ASSERT_EQ(bad_get.status, 200);
  EXPECT_NE(respin(bad_get.body).find("malformedrequest"), std::string::npos);
  auto huge = http_request(port_, "POST", "/ocsp", std::string(200 * 1024, '0'),
                           {{"Content-Type", "application/ocsp-request"}});
  EXPECT_EQ(huge.status, 413);

  // Idle connections (connect, send nothing) and tricklers (a byte every 200 ms).
  std::vector<int> idle;
  for (int i = 0; i < 16; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    idle.push_back(fd);
  }
  std::atomic<bool> stop{false};
  std::thread trickler([&] {
    const std::string head = "POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
    for (std::size_t i = 0; i < head.size() && !stop; ++i) {
      for (std::size_t k = 0; k < 8; ++k)
        if (::send(idle[k], head.data() + i, 1, MSG_NOSIGNAL) < 0) break;
      std::this_thread::sleep_for(200ms);
    }
  });
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) expectVerified(ocsp(cert), "good");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  stop = true;
  trickler.join();
  for (int fd : idle) ::close(fd);
}

}  // namespace
}  // namespace dojang::testing
