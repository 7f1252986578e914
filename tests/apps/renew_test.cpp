// `dojang renew` and `dojang revoke` end to end against the real dojangd:
// CMP kur and rr signed with the certificate's own key, the old certificate
// superseded at certConf, `openssl verify` / `openssl ocsp` as independent
// checkers, the renewal window on both sides, and stock `openssl cmp -cmd kur`
// / `-cmd rr` as an independent client.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "dojangd_helpers.hpp"

namespace dojang::testing {
namespace {

constexpr const char* kCertPassword = "Seoul#River-92z";

std::uint16_t free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

class RenewTest : public DojangdFixture {
 protected:
  // window_days: the CA's [profile] renewal_window_days (0: the default, 30).
  // base_port: init a CA of its own whose CDP/OCSP URLs name this port (for
  // `dojang verify` online), instead of the cached template.
  void start(int window_days, std::uint16_t base_port = 0) {
    npki_ = (tmp_ / "NPKI").string();
    if (base_port == 0) {
      init("rsa2048");
    } else {
      auto r = dojangd({"init", "--data", data_, "--passphrase-file", pass_, "--issuing-key", "rsa2048",
                        "--base-url", "http://127.0.0.1:" + std::to_string(base_port)});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    enrol_hong();
    if (window_days > 0)
      write_text(fs::path(data_) / "dojangd.toml",
                 "[profile]\nrenewal_window_days = " + std::to_string(window_days) + "\n");
    server_ = serve(base_port, {"--crl-interval", "1"});
    url_ = url();
    cpw_ = secret("cpw", kCertPassword);
  }
  RunResult dojang(std::vector<std::string> args) {
    args.insert(args.begin(), {bin_path("dojang").string(), "--npki-dir", npki_});
    return run(args);
  }
  RunResult openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    return run(args);
  }
  static nlohmann::json json_of(const std::string& s) { return nlohmann::json::parse(s, nullptr, false); }

  // A certificate for hong through `dojang issue` (teller path, with VID); returns the --json output.
  nlohmann::json issue() {
    auto [ref, code] = teller_application();
    auto r = dojang({"--json", "issue", "--server", url_, "--trust", data_ + "/root.pem", "--ref", ref,
                     "--auth-code-file", secret("auth", code), "--idn-file", (tmp_ / "idn").string(),
                     "--password-file", cpw_});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return json_of(r.out);
  }
  RunResult renew(const std::string& sel, std::vector<std::string> extra = {}, bool json = false) {
    std::vector<std::string> args = {"renew",       sel, "--server", url_, "--trust", data_ + "/root.pem",
                                     "--password-file", cpw_, "--idn-file", (tmp_ / "idn").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    if (json) args.insert(args.begin(), "--json");
    return dojang(args);
  }
  std::string pem_of(const std::string& der_path, const std::string& name) {
    auto pem = (tmp_ / (name + ".pem")).string();
    auto conv = openssl({"x509", "-inform", "DER", "-in", der_path, "-out", pem});
    EXPECT_EQ(conv.exit_code, 0) << conv.err;
    return pem;
  }
  // `openssl ocsp` against dojangd's /ocsp for a certificate (PEM).
  RunResult ocsp(const std::string& cert_pem) {
    return openssl({"ocsp", "-issuer", data_ + "/certs/issuing.pem", "-cert", cert_pem, "-url", url_ + "/ocsp",
                    "-CAfile", data_ + "/root.pem", "-resp_text"});
  }

  std::string npki_, url_, cpw_;
  std::unique_ptr<Background> server_;
};

// Inside the window (the CA's is 400 days, so a fresh certificate is in it):
// a new certificate that verifies, the old one revoked (superseded) at once.
TEST_F(RenewTest, RenewInsideTheWindowSupersedesTheOldCertificate) {
  start(400);
  auto issued = issue();
  const std::string old_serial = issued["serial"];
  const std::string folder = issued["folder"];
  const std::string old_pem = pem_of(folder + "/signCert.der", "old");

  auto r = renew(old_serial, {"--window-days", "400"}, true);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = json_of(r.out);
  EXPECT_EQ(j["ok"], true) << r.out;
  EXPECT_EQ(j["renewed_serial"], old_serial);
  EXPECT_NE(j["serial"], old_serial);
  EXPECT_EQ(j["vid_verified"], true);
  EXPECT_EQ(j["folder"], folder);
  for (const char* step : {"Checking the renewal window", "Fetching the CA certificates (CMP genm, signed)",
                           "Generating your new key on this device (RSA-2048)",
                           "Requesting the renewal from the CA (CMP kur", "Confirmed (certConf)", "Stored in "})
    EXPECT_NE(r.err.find(step), std::string::npos) << step << "\n" << r.err;

  // The new certificate: verifies, same subject, one year past the old notAfter.
  const std::string new_pem = pem_of(folder + "/signCert.der", "new");
  auto v = openssl({"verify", "-CAfile", data_ + "/root.pem", "-untrusted", data_ + "/chain.pem", new_pem});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  auto subj_old = openssl({"x509", "-in", old_pem, "-noout", "-subject", "-enddate"});
  auto subj_new = openssl({"x509", "-in", new_pem, "-noout", "-subject", "-enddate"});
  EXPECT_EQ(subj_old.out.substr(0, subj_old.out.find('\n')), subj_new.out.substr(0, subj_new.out.find('\n')));
  EXPECT_NE(subj_old.out, subj_new.out);

  // OCSP: the old one revoked as superseded, the new one good.
  auto old_status = ocsp(old_pem);
  EXPECT_EQ(old_status.exit_code, 0) << old_status.err;
  EXPECT_NE(old_status.out.find(": revoked"), std::string::npos) << old_status.out;
  EXPECT_NE(old_status.out.find("Reason: superseded"), std::string::npos) << old_status.out;
  auto new_status = ocsp(new_pem);
  EXPECT_NE(new_status.out.find(": good"), std::string::npos) << new_status.out;

  // The wallet holds the new one only; the old credential is kept aside, unlisted.
  auto list = dojang({"--json", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto certs = json_of(list.out)["certificates"];
  ASSERT_EQ(certs.size(), 1u) << list.out;
  EXPECT_TRUE(fs::exists(j["archived"].get<std::string>() + "/signPri.key"));
  auto sign = dojang({"sign", j["serial"], "--in", (tmp_ / "idn").string(), "--out", (tmp_ / "sig.p7s").string(), "--password-file",
                      cpw_});
  EXPECT_EQ(sign.exit_code, 0) << sign.err;

  // A second renewal of the old certificate (from a copy of the old credential) is refused.
  fs::path copy_root = tmp_ / "OLD";
  fs::path user = fs::path(folder).parent_path();
  fs::create_directories(copy_root / user.parent_path().filename() / "USER");
  fs::copy(j["archived"].get<std::string>(), copy_root / user.parent_path().filename() / "USER" /
                                                 fs::path(folder).filename(),
           fs::copy_options::recursive);
  auto again = run({bin_path("dojang").string(), "--npki-dir", copy_root.string(), "renew", old_serial, "--server",
                    url_, "--trust", data_ + "/root.pem", "--password-file", cpw_, "--idn-file",
                    (tmp_ / "idn").string(), "--window-days", "400"});
  EXPECT_EQ(again.exit_code, 4) << again.out << again.err;
  EXPECT_NE(again.err.find("certRevoked"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("revoked (superseded)"), std::string::npos) << again.err;
}

// Outside the window: refused on the device first (exit 4, with the date the
// window opens), and by the CA when the device's idea of the window is wider.
TEST_F(RenewTest, RenewOutsideTheWindowIsRefusedWithTheOpeningDate) {
  start(0);  // the default: 30 days
  auto issued = issue();
  const std::string serial = issued["serial"];
  auto local = renew(serial);
  EXPECT_EQ(local.exit_code, 4) << local.out << local.err;
  EXPECT_TRUE(std::regex_search(local.err, std::regex("dojang: renewal window: certificate 0x[0-9a-f]+ cannot be "
                                                      "renewed yet: the renewal window opens on "
                                                      "20[0-9]{2}-[0-9]{2}-[0-9]{2} \\(30 days before")))
      << local.err;

  auto server = renew(serial, {"--window-days", "400"});
  EXPECT_EQ(server.exit_code, 4) << server.out << server.err;
  EXPECT_NE(server.err.find("certificate request: "), std::string::npos) << server.err;
  EXPECT_NE(server.err.find("notAuthorized"), std::string::npos) << server.err;
  EXPECT_TRUE(std::regex_search(server.err, std::regex("the renewal window opens on 20[0-9]{2}-[0-9]{2}-[0-9]{2}")))
      << server.err;
  // Still one valid certificate in the wallet.
  auto list = dojang({"--json", "list"});
  EXPECT_EQ(json_of(list.out)["certificates"].size(), 1u) << list.out;
}

// Revocation with the key: OCSP says revoked with the reason at once, a
// signature made before verifies as revoked, the wallet no longer lists it.
TEST_F(RenewTest, RevokeWithTheKeyShowsInOcspAndVerify) {
  start(0, free_port());
  auto issued = issue();
  const std::string serial = issued["serial"];
  const std::string folder = issued["folder"];
  const std::string pem = pem_of(folder + "/signCert.der", "cert");
  auto content = secret("content", "transfer 10000 KRW");
  auto sig = (tmp_ / "sig.p7s").string();
  auto sign = dojang({"sign", serial, "--in", content, "--out", sig, "--password-file", cpw_});
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  auto before = dojang({"verify", "--in", sig, "--trust", data_ + "/root.pem", "--untrusted", data_ + "/chain.pem"});
  EXPECT_EQ(before.exit_code, 0) << before.out << before.err;

  auto no_confirm = dojang({"revoke", serial, "--server", url_, "--trust", data_ + "/root.pem", "--password-file",
                            cpw_});
  EXPECT_EQ(no_confirm.exit_code, 2) << no_confirm.err;
  EXPECT_NE(no_confirm.err.find("--yes"), std::string::npos) << no_confirm.err;
  auto bad_reason = dojang({"revoke", serial, "--server", url_, "--trust", data_ + "/root.pem", "--password-file",
                            cpw_, "--reason", "certificateHold", "--yes"});
  EXPECT_EQ(bad_reason.exit_code, 2) << bad_reason.err;

  auto r = dojang({"--json", "revoke", serial, "--server", url_, "--trust", data_ + "/root.pem", "--password-file",
                   cpw_, "--reason", "keyCompromise", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = json_of(r.out);
  EXPECT_EQ(j["reason"], "keyCompromise") << r.out;
  EXPECT_NE(r.err.find("CMP rr, signed with its key"), std::string::npos) << r.err;

  auto status = ocsp(pem);
  EXPECT_NE(status.out.find(": revoked"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("Reason: keyCompromise"), std::string::npos) << status.out;

  auto after = dojang({"--json", "verify", "--in", sig, "--trust", data_ + "/root.pem", "--untrusted", data_ + "/chain.pem"});
  EXPECT_EQ(after.exit_code, 4) << after.out << after.err;
  auto v = json_of(after.out);
  EXPECT_EQ(v["revocation"]["status"], "revoked") << after.out;

  auto list = dojang({"--json", "list"});
  EXPECT_EQ(json_of(list.out)["certificates"].size(), 0u) << list.out;
  EXPECT_TRUE(fs::exists(j["archived"].get<std::string>() + "/signPri.key")) << r.out;
}

// Stock OpenSSL as the client: `openssl cmp -cmd kur` signed with the old key
// (a certificate without VID, from `openssl cmp -cmd ir`), then `-cmd rr`.
TEST_F(RenewTest, OpensslCmpKurAndRrInterop) {
  start(400);
  auto [ref, code] = teller_application();
  auto key = (tmp_ / "old.key").string(), cert = (tmp_ / "old.pem").string();
  auto newkey = (tmp_ / "new.key").string(), newcert = (tmp_ / "new.pem").string();
  for (const auto& k : {key, newkey})
    ASSERT_EQ(openssl({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", k}).exit_code, 0);
  auto ir = openssl({"cmp", "-cmd", "ir", "-server", "127.0.0.1:" + std::to_string(port_), "-path", "pkix/",
                     "-ref", ref, "-secret", "file:" + secret("auth", code), "-newkey", key, "-subject", "/CN=" + ref,
                     "-trusted", data_ + "/root.pem", "-certout", cert});
  ASSERT_EQ(ir.exit_code, 0) << ir.out << ir.err;

  auto kur = openssl({"cmp", "-cmd", "kur", "-server", "127.0.0.1:" + std::to_string(port_), "-path", "pkix/",
                      "-cert", cert, "-key", key, "-newkey", newkey, "-trusted", data_ + "/root.pem",
                      "-untrusted", data_ + "/chain.pem", "-certout", newcert});
  ASSERT_EQ(kur.exit_code, 0) << kur.out << kur.err;
  auto v = openssl({"verify", "-CAfile", data_ + "/root.pem", "-untrusted", data_ + "/chain.pem", newcert});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(ocsp(cert).out.find("Reason: superseded"), std::string::npos);

  // The superseded certificate can no longer renew.
  auto again = openssl({"cmp", "-cmd", "kur", "-server", "127.0.0.1:" + std::to_string(port_), "-path", "pkix/",
                        "-cert", cert, "-key", key, "-newkey", key, "-trusted", data_ + "/root.pem",
                        "-untrusted", data_ + "/chain.pem", "-certout", (tmp_ / "x.pem").string()});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE((again.out + again.err).find("revoked"), std::string::npos) << again.out << again.err;

  auto rr = openssl({"cmp", "-cmd", "rr", "-server", "127.0.0.1:" + std::to_string(port_), "-path", "pkix/",
                     "-cert", newcert, "-key", newkey, "-oldcert", newcert, "-revreason", "5", "-trusted",
                     data_ + "/root.pem", "-untrusted", data_ + "/chain.pem"});
  EXPECT_EQ(rr.exit_code, 0) << rr.out << rr.err;
  auto status = ocsp(newcert);
  EXPECT_NE(status.out.find("Reason: cessationOfOperation"), std::string::npos) << status.out;
}

}  // namespace
}  // namespace dojang::testing
