// Certificate management through the bank, without the key, end to end against
// the real dojangd: `dojang suspend` / `resume` / `revoke --via-bank` /
// `reissue`, checked with `openssl ocsp` against dojangd's /ocsp, the partition
// CRL (`openssl crl`, `openssl verify -crl_check`), `dojang verify` and
// `dojang list --check`; and the refusals (wrong code, no session, another
// customer's certificate, resuming a revoked one).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <regex>
#include <thread>

#include "dojangd_helpers.hpp"

namespace dojang::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kCertPassword = "Seoul#River-92z";

class LifecycleTest : public DojangdFixture {
 protected:
  void SetUp() override {
    npki_ = (tmp_ / "NPKI").string();
    init("rsa2048");
    // The certificates' AIA and CRL DP must name this test's server (relying
    // parties and `list --check` follow them): point the copied CA's base URL
    // at a free port before anything is issued, and serve there.
    const std::uint16_t port = free_port();
    ASSERT_NE(port, 0);
    const fs::path conf = fs::path(data_) / "hierarchy.conf";
    std::string text = read_text(conf);
    const std::string from = "base_url = http://127.0.0.1:8080";
    ASSERT_NE(text.find(from), std::string::npos) << text;
    text.replace(text.find(from), from.size(), "base_url = http://127.0.0.1:" + std::to_string(port));
    write_text(conf, text);
    enrol_hong();
    server_ = serve(port, {"--crl-interval", "1"});
    secret("cpw", kCertPassword);
    issuer_ = data_ + "/certs/issuing.pem";
    root_ = data_ + "/root.pem";
  }
  RunResult dojang(std::vector<std::string> args, const std::string& npki = {}) {
    args.insert(args.begin(), {bin_path("dojang").string(), "--npki-dir", npki.empty() ? npki_ : npki});
    return run(args);
  }
  RunResult openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    return run(args);
  }
  std::string otp_command(bool wrong = false) {
    if (wrong) return "echo 'your code: 000000'";
    return "'" + bin_path("dojangd").string() + "' bank outbox --data '" + data_ + "' --passphrase-file '" +
           pass_ + "' --phone 01012345678 | tail -n 1";
  }
  // The bank-login flags for hong after `verb`.
  std::vector<std::string> bank(const std::string& verb, bool wrong_otp = false) {
    std::vector<std::string> v = {"--json", verb};
    if (verb == "revoke") v.push_back("--via-bank");
    v.insert(v.end(), {"--server", url(), "--customer", "hong", "--login-password-file", (tmp_ / "lpw").string(),
                       "--idn-file", (tmp_ / "idn").string(), "--otp-command", otp_command(wrong_otp)});
    return v;
  }
  static json json_of(const std::string& s) { return json::parse(s, nullptr, false); }

  // Issues a certificate to hong on the phone path; returns the --json answer.
  json issue() {
    auto r = dojang({"--json", "issue", "--server", url(), "--trust", root_, "--customer", "hong",
                     "--login-password-file", (tmp_ / "lpw").string(), "--idn-file", (tmp_ / "idn").string(),
                     "--otp-command", otp_command(), "--password-file", (tmp_ / "cpw").string(), "--replace"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return json_of(r.out);
  }
  std::string pem_of(const json& issued) {
    auto pem = (tmp_ / (issued["serial"].get<std::string>() + ".pem")).string();
    auto r = openssl({"x509", "-inform", "DER", "-in", issued["folder"].get<std::string>() + "/signCert.der",
                      "-out", pem});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return pem;
  }
  // `openssl ocsp` against dojangd's /ocsp for a certificate; stdout + stderr.
  std::string ocsp(const std::string& pem) {
    auto r = openssl({"ocsp", "-issuer", issuer_, "-cert", pem, "-url", url() + "/ocsp", "-CAfile", root_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE((r.out + r.err).find("Response verify OK"), std::string::npos) << r.out << r.err;
    return r.out + r.err;
  }
  RunResult sign_and_verify(const json& issued) {
    auto doc = (tmp_ / "doc.txt").string();
    write_text(doc, "transfer 10000 KRW");
    auto sig = (tmp_ / "doc.p7s").string();
    auto s = dojang({"sign", issued["serial"], "--in", doc, "--out", sig, "--password-file", (tmp_ / "cpw").string()});
    EXPECT_EQ(s.exit_code, 0) << s.err;
    return dojang({"verify", "--in", sig, "--trust", root_, "--untrusted", data_ + "/chain.pem"});
  }
  // Fetches the certificate's partition CRL until the serial is on it (listed)
  // or off it, for at most ~6 s (it is republished every second); returns
  // `openssl crl -text` and leaves the CRL as PEM in crl_pem_.
  std::string crl_until(const std::string& pem, const std::string& serial, bool listed) {
    auto cdp = openssl({"x509", "-in", pem, "-noout", "-ext", "crlDistributionPoints"});
    std::smatch m;
    EXPECT_TRUE(std::regex_search(cdp.out, m, std::regex("/crl/(p[0-9]+)\\.crl"))) << cdp.out;
    const std::string name = m.size() > 1 ? m[1].str() : "p0";
    const std::string der = (tmp_ / "p.crl").string();
    std::string want = serial.substr(2);
    for (auto& c : want) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string text;
    for (int i = 0; i < 60; ++i) {
      auto resp = http_request(port_, "GET", "/crl/" + name + ".crl");
      EXPECT_EQ(resp.status, 200);
      write_text(der, resp.body);
      EXPECT_EQ(openssl({"crl", "-in", der, "-inform", "DER", "-out", crl_pem_}).exit_code, 0);
      text = openssl({"crl", "-in", crl_pem_, "-noout", "-text"}).out;
      std::string upper = text;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if ((upper.find(want) != std::string::npos) == listed) return text;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << serial << (listed ? " never appeared on" : " never left") << " the CRL:\n" << text;
    return text;
  }

  std::string npki_, issuer_, root_, crl_pem_ = (tmp_ / "p.crl.pem").string();
  std::unique_ptr<Background> server_;
};

TEST_F(LifecycleTest, SuspendThenResumeShowsInOcspAndVerify) {
  json issued = issue();
  const std::string serial = issued["serial"];
  const std::string pem = pem_of(issued);
  EXPECT_EQ(sign_and_verify(issued).exit_code, 0);

  auto flags = bank("suspend");
  flags.insert(flags.end(), {"--serial", serial});
  auto s = dojang(flags);
  ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
  json j = json_of(s.out);
  EXPECT_EQ(j["status"], "suspended") << s.out;
  EXPECT_EQ(j["reason"], "certificateHold") << s.out;
  EXPECT_EQ(j["serial"], serial);

  std::string out = ocsp(pem);
  EXPECT_NE(out.find(": revoked"), std::string::npos) << out;
  EXPECT_NE(out.find("Reason: certificateHold"), std::string::npos) << out;
  auto refused = sign_and_verify(issued);
  EXPECT_EQ(refused.exit_code, 4) << refused.out << refused.err;
  EXPECT_NE((refused.out + refused.err).find("suspended"), std::string::npos) << refused.out << refused.err;

  std::string crl = crl_until(pem, serial, true);
  EXPECT_NE(crl.find("Certificate Hold"), std::string::npos) << crl;
  auto check = dojang({"--json", "list", "--check", "--trust", root_});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  json online = json_of(check.out)["certificates"][0]["online"];
  EXPECT_EQ(online["state"], "suspended") << check.out;
  EXPECT_NE(online["advice"].get<std::string>().find("dojang resume --serial " + serial), std::string::npos)
      << check.out;

  // Suspending twice is refused by the CA.
  EXPECT_EQ(dojang(flags).exit_code, 4);

  flags = bank("resume");
  flags.insert(flags.end(), {"--serial", serial});
  auto r = dojang(flags);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(json_of(r.out)["status"], "valid") << r.out;
  out = ocsp(pem);
  EXPECT_NE(out.find(": good"), std::string::npos) << out;
  EXPECT_EQ(sign_and_verify(issued).exit_code, 0);
  crl_until(pem, serial, false);  // gone at the next publication

  // Only a suspended certificate can be resumed.
  auto again = dojang(flags);
  EXPECT_EQ(again.exit_code, 4) << again.out;
  EXPECT_NE(json_of(again.out)["message"].get<std::string>().find("not suspended"), std::string::npos) << again.out;
}

TEST_F(LifecycleTest, RevokeViaBankReachesOcspCrlAndListCheck) {
  json issued = issue();
  const std::string serial = issued["serial"];
  const std::string pem = pem_of(issued);

  auto good = dojang({"--json", "list", "--check", "--trust", root_});
  ASSERT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_EQ(json_of(good.out)["certificates"][0]["online"]["state"], "good") << good.out;

  auto flags = bank("revoke");
  flags.insert(flags.end(), {"--serial", serial});
  auto rv = dojang(flags);
  ASSERT_EQ(rv.exit_code, 0) << rv.out << rv.err;
  json j = json_of(rv.out);
  EXPECT_EQ(j["status"], "revoked") << rv.out;
  EXPECT_EQ(j["reason"], "keyCompromise") << rv.out;

  std::string out = ocsp(pem);
  EXPECT_NE(out.find(": revoked"), std::string::npos) << out;
  EXPECT_NE(out.find("Reason: keyCompromise"), std::string::npos) << out;

  // The partition CRL lists it after the next publication (--crl-interval 1).
  const std::string text = crl_until(pem, serial, true);
  EXPECT_NE(text.find("Key Compromise"), std::string::npos) << text;
  auto v = openssl({"verify", "-crl_check", "-CAfile", root_, "-untrusted", data_ + "/chain.pem", "-CRLfile", crl_pem_,
                    pem});
  EXPECT_NE(v.exit_code, 0);
  EXPECT_NE((v.out + v.err).find("certificate revoked"), std::string::npos) << v.out << v.err;

  auto check = dojang({"--json", "list", "--check", "--trust", root_});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  json online = json_of(check.out)["certificates"][0]["online"];
  EXPECT_EQ(online["state"], "revoked") << check.out;
  EXPECT_EQ(online["reason"], "keyCompromise") << check.out;
  EXPECT_NE(online["advice"].get<std::string>().find("dojang reissue"), std::string::npos) << check.out;
  auto text_check = dojang({"list", "--check", "--trust", root_});
  EXPECT_NE(text_check.out.find("status: revoked (keyCompromise)"), std::string::npos) << text_check.out;

  // A revoked certificate cannot be resumed.
  auto resume = bank("resume");
  resume.insert(resume.end(), {"--serial", serial});
  auto r = dojang(resume);
  EXPECT_EQ(r.exit_code, 4) << r.out;
  EXPECT_NE(json_of(r.out)["message"].get<std::string>().find("revoked"), std::string::npos) << r.out;
}

TEST_F(LifecycleTest, ReissueKeepsNotAfterAndSupersedesTheOldOneOnConfirmation) {
  json old_cert = issue();
  const std::string old_serial = old_cert["serial"];
  const std::string old_pem = pem_of(old_cert);
  auto old_end = openssl({"x509", "-in", old_pem, "-noout", "-enddate"}).out;
  // Outlive the old certificate's issuance second, so a new full term would differ.
  std::this_thread::sleep_for(1100ms);

  auto flags = bank("reissue");
  flags.insert(flags.end(), {"--serial", old_serial, "--trust", root_, "--password-file", (tmp_ / "cpw").string()});
  auto r = dojang(flags);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json j = json_of(r.out);
  EXPECT_EQ(j["replaces"], old_serial) << r.out;
  EXPECT_NE(j["serial"], old_serial) << r.out;
  EXPECT_EQ(j["folder"], old_cert["folder"]) << r.out;  // it took the old one's place
  json fresh = j;
  const std::string new_pem = pem_of(fresh);
  EXPECT_EQ(openssl({"x509", "-in", new_pem, "-noout", "-enddate"}).out, old_end);

  std::string out = ocsp(old_pem);
  EXPECT_NE(out.find(": revoked"), std::string::npos) << out;
  EXPECT_NE(out.find("Reason: superseded"), std::string::npos) << out;
  out = ocsp(new_pem);
  EXPECT_NE(out.find(": good"), std::string::npos) << out;

  auto list = dojang({"--json", "list"});
  json certs = json_of(list.out)["certificates"];
  ASSERT_EQ(certs.size(), 1u) << list.out;
  EXPECT_EQ(certs[0]["certificate"]["serial"], j["serial"]) << list.out;

  // The replaced certificate cannot be re-issued again.
  auto twice = bank("reissue");
  twice.insert(twice.end(), {"--serial", old_serial, "--trust", root_, "--password-file", (tmp_ / "cpw").string()});
  auto t = dojang(twice);
  EXPECT_EQ(t.exit_code, 4) << t.out << t.err;
  EXPECT_NE(json_of(t.out)["message"].get<std::string>().find("superseded"), std::string::npos) << t.out;
}

TEST_F(LifecycleTest, RefusalsWrongCodeNoSessionAndAnotherCustomersCertificate) {
  json issued = issue();
  const std::string serial = issued["serial"];

  // Wrong SMS code: invalid credentials, nothing changes.
  auto wrong = bank("suspend", true);
  wrong.insert(wrong.end(), {"--serial", serial});
  auto w = dojang(wrong);
  EXPECT_EQ(w.exit_code, 3) << w.out << w.err;
  EXPECT_NE(json_of(w.out)["message"].get<std::string>().find("identity verification: wrong code"),
            std::string::npos)
      << w.out;
  EXPECT_NE(ocsp(pem_of(issued)).find(": good"), std::string::npos);

  // No session, a bogus one, and a logged-in but unverified one.
  const std::string body = "{\"serial\":\"" + serial + "\"}";
  auto none = http_request(port_, "POST", "/api/v1/bank/certificates/revoke", body,
                           {{"Content-Type", "application/json"}});
  EXPECT_EQ(none.status, 401) << none.body;
  auto bogus = http_request(port_, "GET", "/api/v1/bank/certificates", "",
                            {{"Authorization", "Bearer " + std::string(64, 'a')}});
  EXPECT_EQ(bogus.status, 403) << bogus.body;
  EXPECT_NE(bogus.body.find("not logged in"), std::string::npos) << bogus.body;
  auto login = http_request(port_, "POST", "/api/v1/bank/login",
                            std::string("{\"customer\":\"hong\",\"password\":\"") + kLoginPassword + "\"}",
                            {{"Content-Type", "application/json"}});
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string token = json_of(login.body)["token"];
  auto unverified = http_request(port_, "POST", "/api/v1/bank/certificates/suspend", body,
                                 {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
  EXPECT_EQ(unverified.status, 403) << unverified.body;
  EXPECT_NE(unverified.body.find("identity not verified"), std::string::npos) << unverified.body;

  // Kim's certificate (teller path) is not hong's to suspend.
  auto enrol = dojangd({"bank", "enrol", "--data", data_, "--passphrase-file", pass_, "--customer", "kim", "--name",
                        "김철수", "--idn-file", secret("kim-idn", "900202-2345678"), "--phone", "010-9876-5432",
                        "--password-file", secret("kim-lpw", "Kim!login-88")});
  ASSERT_EQ(enrol.exit_code, 0) << enrol.err;
  auto [ref, code] = teller_application("kim");
  const std::string kim_npki = (tmp_ / "KIM").string();
  auto kim = dojang({"--json", "issue", "--server", url(), "--trust", root_, "--ref", ref, "--auth-code-file",
                     secret("kim-auth", code), "--password-file", (tmp_ / "cpw").string()},
                    kim_npki);
  ASSERT_EQ(kim.exit_code, 0) << kim.out << kim.err;
  const std::string kim_serial = json_of(kim.out)["serial"];
  auto other = bank("suspend");
  other.insert(other.end(), {"--serial", kim_serial});
  auto o = dojang(other);
  EXPECT_EQ(o.exit_code, 4) << o.out << o.err;
  EXPECT_NE(json_of(o.out)["message"].get<std::string>().find("among your certificates"), std::string::npos)
      << o.out;
  json kim_issued = json_of(kim.out);
  EXPECT_NE(ocsp(pem_of(kim_issued)).find(": good"), std::string::npos);

  // Without --serial and without a terminal: the bank's list, then a usage error.
  auto choose = dojang(bank("suspend"));
  EXPECT_EQ(choose.exit_code, 2) << choose.out << choose.err;
  EXPECT_NE(choose.err.find(serial), std::string::npos) << choose.err;
}

// On a terminal: the login password and IDN are asked without echo, the bank's
// list is shown and the certificate chosen by its number.
TEST_F(LifecycleTest, OnATerminalTheSecretsArePromptedAndTheCertificateChosenFromTheList) {
  json issued = issue();
  const std::string serial = issued["serial"];
  auto r = run_in_pty({bin_path("dojang").string(), "--npki-dir", npki_, "suspend", "--server", url(), "--customer",
                       "hong", "--otp-command", otp_command()},
                      {kLoginPassword, kIdn, "1"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Internet-banking password for hong: "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(kLoginPassword), std::string::npos) << r.out;  // not echoed
  EXPECT_EQ(r.out.find("800101"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1. " + serial), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Number of the certificate to suspend: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Suspended "), std::string::npos) << r.out;
  EXPECT_NE(ocsp(pem_of(issued)).find("Reason: certificateHold"), std::string::npos);
}

}  // namespace
}  // namespace dojang::testing
