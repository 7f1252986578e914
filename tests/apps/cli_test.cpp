// End-to-end tests of the dojang CLI: the real binary against NPKI trees in
// temp dirs, with the openssl CLI as the independent checker.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/testing.hpp"

namespace dojang::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { npki_ = tmp_ / "NPKI"; }

  RunResult dojang(std::vector<std::string> args, const std::string& stdin_data = {}) {
    std::vector<std::string> argv = {bin_path("dojang").string(), "--npki-dir", npki_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, stdin_data);
  }
  RunResult openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    return run(args);
  }
  nlohmann::json json_of(const RunResult& r) {
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j;
  }
  // Writes a secret file and returns its path.
  std::string secret(const std::string& name, const std::string& value) {
    auto p = tmp_ / name;
    write_text(p, value + "\n");
    return p.string();
  }
  std::map<std::string, std::string> expected(const std::string& cred) {
    return read_expected(data_path("pki/cred/" + cred + "/expected.txt"));
  }
  fs::path install(const std::string& cred) { return install_credential(npki_, cred); }
  void expectExit(const RunResult& r, int code) {
    EXPECT_EQ(r.exit_code, code) << "stdout: " << r.out << "\nstderr: " << r.err;
  }
  // One line on stderr, prefixed "dojang: ".
  void expectOneLineError(const RunResult& r, const std::string& needle) {
    EXPECT_TRUE(r.err.starts_with("dojang: ")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  }

  TempDir tmp_;
  fs::path npki_;
};

TEST_F(CliTest, ListEmptyWallet) {
  auto r = dojang({"list"});
  expectExit(r, 0);
  EXPECT_NE(r.out.find("No certificates"), std::string::npos);
}

TEST_F(CliTest, ListShowsKoreanNamesPurposeAndBrokenFolders) {
  install("yessign-general");
  install("yessign-bank");
  fs::create_directories(npki_ / "yessign/USER/cn=broken");
  write_text(npki_ / "yessign/USER/cn=broken/signCert.der", "garbage");
  auto r = dojang({"list"});
  expectExit(r, 0);
  EXPECT_NE(r.out.find("홍길동()"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("BROKEN"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("general (범용)"), std::string::npos) << r.out;

  auto j = json_of(dojang({"--json", "list"}));
  ASSERT_EQ(j["certificates"].size(), 3u);
  int broken = 0;
  for (const auto& c : j["certificates"]) {
    if (!c["broken"].is_null()) {
      ++broken;
      continue;
    }
    EXPECT_FALSE(c["certificate"]["serial"].get<std::string>().empty());
  }
  EXPECT_EQ(broken, 1);
}

TEST_F(CliTest, ShowBySerialAndNameGivesIdentityAndPolicy) {
  install("yessign-general");
  auto e = expected("yessign-general");
  for (const std::string& sel : {"0x" + e["serial_hex"], e["serial_dec"], std::string("길동")}) {
    auto r = dojang({"--json", "show", sel});
    expectExit(r, 0);
    auto j = json_of(r)["certificate"];
    EXPECT_EQ(j["serial"], "0x" + e["serial_hex"]);
    EXPECT_EQ(j["real_name"], e["real_name"]);
    EXPECT_EQ(j["vid"]["value"], e["vid"]);
    EXPECT_EQ(j["vid"]["hash"], "sha256");
    EXPECT_EQ(j["policies"][0]["oid"], e["policy_oid"]);
    EXPECT_EQ(j["policies"][0]["purpose"], "general");
  }
  auto text = dojang({"show", "길동"});
  expectExit(text, 0);
  EXPECT_NE(text.out.find("Real name:  홍길동"), std::string::npos) << text.out;
}

TEST_F(CliTest, SelectorErrors) {
  install("yessign-general");
  install("yessign-bank");
  auto none = dojang({"show", "nobody-by-that-name"});
  expectExit(none, 3);
  expectOneLineError(none, "nobody-by-that-name");
  // Both test holders share the "()00" CN suffix.
  auto many = dojang({"show", "()"});
  expectExit(many, 3);
  auto usage = dojang({"show"});
  expectExit(usage, 2);
}

TEST_F(CliTest, ImportChecksThePasswordAndNeverOverwrites) {
  auto src = data_path("pki/cred/signgate-old");
  auto pw = secret("pw", expected("signgate-old")["password"]);
  auto wrong = secret("wrong", "Not-the-password1");

  auto bad = dojang({"import", src.string(), "--password-file", wrong});
  expectExit(bad, 3);
  expectOneLineError(bad, "wrong password");

  auto no_tty = dojang({"import", src.string()});
  expectExit(no_tty, 2);
  expectOneLineError(no_tty, "--password-file");

  auto ok = dojang({"import", src.string(), "--password-file", pw});
  expectExit(ok, 0);
  auto again = dojang({"import", src.string(), "--password-file", pw});
  expectExit(again, 4);
  auto forced = dojang({"import", src.string(), "--password-file", pw, "--overwrite"});
  expectExit(forced, 0);
  auto j = json_of(dojang({"--json", "list"}));
  EXPECT_EQ(j["certificates"].size(), 1u);
}

TEST_F(CliTest, ImportRefusesAKeyOfAnotherCertificate) {
  auto folder = tmp_ / "mixed";
  fs::create_directories(folder);
  fs::copy_file(data_path("pki/cred/yessign-general/signCert.der"), folder / "SignCert.der");
  fs::copy_file(data_path("pki/bad/other-key.key"), folder / "SIGNPRI.KEY");
  auto r = dojang({"import", folder.string(), "--password-file",
                   secret("pw", expected("yessign-general")["password"])});
  expectExit(r, 3);
  expectOneLineError(r, "does not belong");
  EXPECT_FALSE(fs::exists(npki_));
}

TEST_F(CliTest, SignCmsVerifiesWithOpenssl) {
  install("yessign-general");
  auto pw = secret("pw", expected("yessign-general")["password"]);
  auto doc = tmp_ / "transfer.txt";
  write_text(doc, "이체: 100,000원 to 110-123-456789\n");
  auto sig = tmp_ / "transfer.p7s";
  expectExit(dojang({"sign", "길동", "--in", doc.string(), "--out", sig.string(),
                     "--password-file", pw}),
             0);
  auto v = openssl({"cms", "-verify", "-binary", "-inform", "DER", "-in", sig.string(), "-noverify"});
  expectExit(v, 0);
  EXPECT_EQ(v.out, read_text(doc));
  expectExit(dojang({"verify", "--in", sig.string()}), 0);

  // Detached, no signed attributes: the form many relying parties use.
  auto det = tmp_ / "detached.p7s";
  expectExit(dojang({"sign", "길동", "--in", doc.string(), "--out", det.string(), "--detached",
                     "--no-signed-attrs", "--password-file", pw}),
             0);
  expectExit(openssl({"cms", "-verify", "-binary", "-inform", "DER", "-in", det.string(),
                      "-content", doc.string(), "-noverify", "-out", "/dev/null"}),
             0);
  auto vj = dojang({"--json", "verify", "--in", det.string(), "--content", doc.string()});
  expectExit(vj, 0);
  auto j = json_of(vj);
  EXPECT_EQ(j["detached"], true);
  EXPECT_EQ(j["signed_attributes"], false);
  EXPECT_EQ(j["signer"]["real_name"], "홍길동");

  // Tampered content: verification fails with exit 3.
  auto other = tmp_ / "other.txt";
  write_text(other, "이체: 900,000원\n");
  auto bad = dojang({"verify", "--in", det.string(), "--content", other.string()});
  expectExit(bad, 3);
}

TEST_F(CliTest, SignRawVerifiesWithOpenssl) {
  install("tradesign-pbes2");
  auto e = expected("tradesign-pbes2");
  auto pw = secret("pw", e["password"]);
  auto data = tmp_ / "challenge";
  write_text(data, "login-challenge-8c1f");
  auto sig = tmp_ / "sig";
  expectExit(dojang({"sign", "0x" + e["serial_hex"], "--in", data.string(), "--out", sig.string(),
                     "--format", "raw", "--password-file", pw}),
             0);
  auto cert = data_path("pki/cred/tradesign-pbes2/signCert.der");
  auto pub = tmp_ / "pub.pem";
  expectExit(openssl({"x509", "-inform", "DER", "-in", cert.string(), "-noout", "-pubkey", "-out",
                      pub.string()}),
             0);
  expectExit(openssl({"dgst", "-sha256", "-verify", pub.string(), "-signature", sig.string(),
                      data.string()}),
             0);
  expectExit(dojang({"verify", "--format", "raw", "--in", sig.string(), "--content", data.string(),
                     "--cert", cert.string()}),
             0);
}

TEST_F(CliTest, SignRefusesWrongPasswordAndExpiredCertificate) {
  install("yessign-general");
  install("expired");
  auto doc = tmp_ / "doc";
  write_text(doc, "x");
  auto r = dojang({"sign", "길동", "--in", doc.string(), "--out", (tmp_ / "s").string(),
                   "--password-file", secret("pw", "Wrong!password1")});
  expectExit(r, 3);
  EXPECT_FALSE(fs::exists(tmp_ / "s"));
  auto e = expected("expired");
  auto ex = dojang({"sign", "0x" + e["serial_hex"], "--in", doc.string(), "--out",
                    (tmp_ / "s").string(), "--password-file", secret("pw2", e["password"])});
  expectExit(ex, 4);
  expectOneLineError(ex, "expired");
}

TEST_F(CliTest, CorruptKeyFilesGiveExitThreeWithoutCrashing) {
  auto folder = install("yessign-general");
  auto pw = secret("pw", expected("yessign-general")["password"]);
  auto doc = tmp_ / "doc";
  write_text(doc, "x");
  for (std::string bad : {"empty.key", "truncated.key", "not-der.key", "wrong-oid.key",
                                "bitflip-ciphertext.key", "bitflip-middle.key", "cert-as-key.key"}) {
    fs::copy_file(data_path("pki/bad/" + bad), folder / "signPri.key",
                  fs::copy_options::overwrite_existing);
    auto r = dojang({"sign", "길동", "--in", doc.string(), "--out", (tmp_ / "s").string(),
                     "--password-file", pw});
    EXPECT_EQ(r.exit_code, 3) << bad << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << bad << ": " << r.err;
  }
}

TEST_F(CliTest, PasswdRefusesWeakPasswordsAndKeepsTheOldFile) {
  auto folder = install("yessign-general");
  auto e = expected("yessign-general");
  auto before = read_bytes(folder / "signPri.key");
  auto old_pw = secret("old", e["password"]);
  auto idn = secret("idn", e["idn"]);

  auto weak = dojang({"passwd", "길동", "--password-file", old_pw, "--new-password-file",
                      secret("weak", "abcd1234!!"), "--idn-file", idn});
  expectExit(weak, 4);
  expectOneLineError(weak, "refused");
  auto birth = dojang({"passwd", "길동", "--password-file", old_pw, "--new-password-file",
                       secret("birth", "Seoul#19800101"), "--idn-file", idn});
  expectExit(birth, 4);
  expectOneLineError(birth, "birth date");
  auto wrong_old = dojang({"passwd", "길동", "--password-file", secret("w", "Wrong!pass99"),
                           "--new-password-file", secret("new0", "Han-River#Walk27")});
  expectExit(wrong_old, 3);
  EXPECT_EQ(read_bytes(folder / "signPri.key"), before);
}

TEST_F(CliTest, PasswdChangesThePasswordKeepingKeyAndR) {
  auto folder = install("yessign-general");
  auto e = expected("yessign-general");
  auto old_pw = secret("old", e["password"]);
  auto new_pw = secret("new", "Han-River#Walk27");
  expectExit(dojang({"passwd", "길동", "--password-file", old_pw, "--new-password-file", new_pw,
                     "--format", "pbes2-aria"}),
             0);
  // The old password no longer opens it; the new one does, and R still gives the VID.
  auto doc = tmp_ / "doc";
  write_text(doc, "x");
  expectExit(dojang({"sign", "길동", "--in", doc.string(), "--out", (tmp_ / "s").string(),
                     "--password-file", old_pw}),
             3);
  expectExit(dojang({"vid", "길동", "--idn-file", secret("idn", e["idn"]), "--password-file", new_pw}),
             0);
  // An independent reader opens the new PBES2/ARIA file.
  auto p8 = openssl({"pkcs8", "-inform", "DER", "-in", (folder / "signPri.key").string(), "-passin",
                     "file:" + new_pw, "-nocrypt", "-topk8", "-outform", "DER", "-out",
                     (tmp_ / "plain.der").string()});
  expectExit(p8, 0);
  auto pub = openssl({"pkey", "-inform", "DER", "-in", (tmp_ / "plain.der").string(), "-pubout",
                      "-outform", "DER", "-out", (tmp_ / "pub.der").string()});
  expectExit(pub, 0);
  auto cert_pub = openssl({"x509", "-inform", "DER", "-in", (folder / "signCert.der").string(),
                           "-noout", "-pubkey"});
  auto ours = openssl({"pkey", "-pubin", "-inform", "DER", "-in", (tmp_ / "pub.der").string()});
  EXPECT_EQ(ours.out, cert_pub.out);
}

TEST_F(CliTest, VidMatchesOnlyTheHoldersIdn) {
  install("yessign-general");
  install("signgate-old");
  install("norandom");
  for (std::string cred : {"yessign-general", "signgate-old"}) {
    auto e = expected(cred);
    auto pw = secret(cred + "-pw", e["password"]);
    expectExit(dojang({"vid", "0x" + e["serial_hex"], "--idn-file", secret(cred + "-idn", e["idn"]),
                       "--password-file", pw}),
               0);
    expectExit(dojang({"vid", "0x" + e["serial_hex"], "--idn-file",
                       secret(cred + "-other", "900101-1234568"), "--password-file", pw}),
               3);
  }
  auto e = expected("yessign-general");
  auto malformed = dojang({"vid", "길동", "--idn-file", secret("bad-idn", "80010112345"),
                           "--password-file", secret("p", e["password"])});
  expectExit(malformed, 2);
  EXPECT_EQ(malformed.err.find("80010112345"), std::string::npos) << "IDN echoed: " << malformed.err;
  auto n = expected("norandom");
  auto none = dojang({"vid", "0x" + n["serial_hex"], "--idn-file", secret("i", n["idn"]),
                      "--password-file", secret("np", n["password"])});
  expectExit(none, 3);
}

TEST_F(CliTest, WrongPasswordsAreThrottled) {
  install("yessign-general");
  auto doc = tmp_ / "doc";
  write_text(doc, "x");
  auto wrong = secret("wrong", "Wrong!password1");
  for (int i = 0; i < 5; ++i)
    expectExit(dojang({"sign", "길동", "--in", doc.string(), "--out", (tmp_ / "s").string(),
                       "--password-file", wrong}),
               3);
  auto locked = dojang({"sign", "길동", "--in", doc.string(), "--out", (tmp_ / "s").string(),
                        "--password-file", secret("pw", expected("yessign-general")["password"])});
  expectExit(locked, 4);
  expectOneLineError(locked, "try again in");
}

TEST_F(CliTest, DeleteNeedsConfirmationAndRemovesTheFolder) {
  auto folder = install("yessign-general");
  expectExit(dojang({"delete", "길동"}), 2);
  EXPECT_TRUE(fs::exists(folder / "signPri.key"));
  expectExit(dojang({"delete", "길동", "--yes"}), 0);
  EXPECT_FALSE(fs::exists(folder));
}

TEST_F(CliTest, JsonErrorsAndMissingFiles) {
  install("yessign-general");
  auto r = dojang({"--json", "sign", "길동", "--in", (tmp_ / "missing").string(), "--out",
                   (tmp_ / "s").string()});
  expectExit(r, 3);
  auto j = json_of(r);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"], "not_found");
  expectExit(dojang({"frobnicate"}), 2);
}

}  // namespace
}  // namespace dojang::testing

namespace dojang::testing {
namespace {

// On a terminal the CLI asks for secrets without echoing them.
TEST_F(CliTest, PromptsForSecretsWithoutEcho) {
  install("yessign-general");
  auto e = expected("yessign-general");
  auto doc = tmp_ / "doc";
  write_text(doc, "hello");
  auto sig = tmp_ / "sig";
  auto r = run_in_pty({bin_path("dojang").string(), "--npki-dir", npki_.string(), "sign", "길동",
                       "--in", doc.string(), "--out", sig.string()},
                      {e["password"]});
  expectExit(r, 0);
  EXPECT_NE(r.out.find("Certificate password: "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(e["password"]), std::string::npos) << "password echoed: " << r.out;
  EXPECT_TRUE(fs::exists(sig));

  // passwd asks for the new password twice; a mismatch asks again.
  auto p = run_in_pty({bin_path("dojang").string(), "--npki-dir", npki_.string(), "passwd", "길동"},
                      {e["password"], "Han-River#Walk27", "Han-River#Walk28", "Han-River#Walk27",
                       "Han-River#Walk27"});
  expectExit(p, 0);
  EXPECT_NE(p.out.find("differ"), std::string::npos) << p.out;
  EXPECT_EQ(p.out.find("Han-River"), std::string::npos) << "password echoed: " << p.out;
  EXPECT_NE(p.out.find("Password changed"), std::string::npos) << p.out;

  auto idn = run_in_pty({bin_path("dojang").string(), "--npki-dir", npki_.string(), "vid", "길동"},
                        {e["idn"], "Han-River#Walk27"});
  expectExit(idn, 0);
  EXPECT_EQ(idn.out.find(e["idn"]), std::string::npos) << "IDN echoed: " << idn.out;
}

}  // namespace
}  // namespace dojang::testing
