// `dojang export` / `dojang import FILE.pfx` end to end between two separate
// NPKI folders, with the openssl CLI as the independent reader and writer.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "testing/testing.hpp"

namespace dojang::testing {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    expected_ = read_expected(data_path("pki/cred/yessign-general/expected.txt"));
    folder_ = install_credential(tmp_ / "A", "yessign-general");
    write_text(tmp_ / "pw", expected_["password"] + "\n");
    write_text(tmp_ / "idn", expected_["idn"] + "\n");
    pw_ = (tmp_ / "pw").string();
  }
  RunResult dojang(const std::string& npki, std::vector<std::string> args) {
    args.insert(args.begin(), {bin_path("dojang").string(), "--npki-dir", (tmp_ / npki).string()});
    return run(args);
  }
  std::string pfx(const std::string& name) { return (tmp_ / name).string(); }
  // The credential folders under an NPKI root (none means nothing half-written either).
  std::vector<fs::path> folders(const std::string& npki) {
    std::vector<fs::path> out;
    std::error_code ec;
    if (!fs::exists(tmp_ / npki, ec)) return out;
    for (auto& e : fs::recursive_directory_iterator(tmp_ / npki, ec))
      if (e.is_directory() && e.path().parent_path().filename() == "USER") out.push_back(e.path());
    return out;
  }
  void expectOneLineError(const RunResult& r, int code, const std::string& needle) {
    EXPECT_EQ(r.exit_code, code) << r.out << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("dojang: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  }
  // The restored credential signs and its VID still verifies.
  void expectWorks(const std::string& npki) {
    auto vid = dojang(npki, {"vid", "홍길동", "--idn-file", (tmp_ / "idn").string(), "--password-file", pw_});
    EXPECT_EQ(vid.exit_code, 0) << vid.out << vid.err;
    EXPECT_NE(vid.out.find("VID matches"), std::string::npos) << vid.out;
    write_text(tmp_ / "doc.txt", "transfer 10000 KRW\n");
    auto sign = dojang(npki, {"sign", "홍길동", "--in", (tmp_ / "doc.txt").string(), "--out",
                              (tmp_ / "doc.p7s").string(), "--password-file", pw_});
    ASSERT_EQ(sign.exit_code, 0) << sign.err;
    auto verify = run({kOpenssl, "cms", "-verify", "-noverify", "-inform", "DER", "-in",
                       (tmp_ / "doc.p7s").string(), "-out", (tmp_ / "doc.out").string()});
    EXPECT_EQ(verify.exit_code, 0) << verify.err;
    EXPECT_EQ(read_text(tmp_ / "doc.out"), "transfer 10000 KRW\n");
  }
  TempDir tmp_;
  std::map<std::string, std::string> expected_;
  fs::path folder_;
  std::string pw_;
};

TEST_F(BackupTest, ExportThenImportIntoAnotherFolderKeepsTheVidAndSigns) {
  auto out = dojang("A", {"--json", "export", "홍길동", "--out", pfx("backup.pfx"), "--password-file", pw_});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  auto j = nlohmann::json::parse(out.out, nullptr, false);
  EXPECT_EQ(j["profile"], "modern");
  struct stat st {};
  ASSERT_EQ(::stat(pfx("backup.pfx").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto in = dojang("B", {"import", pfx("backup.pfx"), "--password-file", pw_});
  ASSERT_EQ(in.exit_code, 0) << in.out << in.err;
  ASSERT_EQ(folders("B").size(), 1u);
  // The NPKI folder name real clients use: the subject, most specific RDN first.
  EXPECT_EQ(folders("B")[0].filename(), "cn=홍길동()0012345678901234,ou=WOORI,ou=personal4IB,o=yessign,c=kr");
  EXPECT_EQ(read_bytes(folders("B")[0] / "signCert.der"), read_bytes(folder_ / "signCert.der"));
  expectWorks("B");
}

TEST_F(BackupTest, OpensslReadsOurExportAndTheKeyMatchesTheCertificate) {
  for (bool legacy : {false, true}) {
    std::string file = pfx(legacy ? "legacy.pfx" : "modern.pfx");
    std::vector<std::string> args = {"export", "홍길동", "--out", file, "--password-file", pw_};
    if (legacy) args.push_back("--legacy");
    auto out = dojang("A", args);
    ASSERT_EQ(out.exit_code, 0) << out.err;
    std::vector<std::string> info = {kOpenssl, "pkcs12", "-in", file, "-info", "-nodes", "-passin", "file:" + pw_,
                                     "-out", (tmp_ / "all.pem").string()};
    if (legacy) info.push_back("-legacy");
    auto r = run(info);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(legacy ? "MAC: sha1" : "MAC: sha256"), std::string::npos) << r.err;
    auto key_mod = run({kOpenssl, "rsa", "-in", (tmp_ / "all.pem").string(), "-noout", "-modulus"});
    auto cert_mod = run({kOpenssl, "x509", "-in", (tmp_ / "all.pem").string(), "-noout", "-modulus"});
    ASSERT_EQ(key_mod.exit_code, 0) << key_mod.err;
    EXPECT_EQ(key_mod.out, cert_mod.out);
    // And it imports back, R included.
    auto in = dojang(legacy ? "L" : "M", {"import", file, "--password-file", pw_});
    ASSERT_EQ(in.exit_code, 0) << in.err;
    expectWorks(legacy ? "L" : "M");
  }
}

TEST_F(BackupTest, ImportsPfxFilesMadeByOpensslModernAndLegacy) {
  auto aes = read_expected(data_path("pki/cred/aes-openssl/expected.txt"));
  write_text(tmp_ / "aes-pw", aes["password"] + "\n");
  std::string pw = "file:" + (tmp_ / "aes-pw").string();
  fs::path dir = data_path("pki/cred/aes-openssl");
  ASSERT_EQ(run({kOpenssl, "pkcs8", "-inform", "DER", "-in", (dir / "signPri.key").string(), "-passin", pw, "-out",
                 (tmp_ / "key.pem").string()})
                .exit_code,
            0);
  ASSERT_EQ(run({kOpenssl, "x509", "-inform", "DER", "-in", (dir / "signCert.der").string(), "-out",
                 (tmp_ / "cert.pem").string()})
                .exit_code,
            0);
  for (bool legacy : {false, true}) {
    std::string file = pfx(legacy ? "theirs-legacy.pfx" : "theirs.pfx");
    std::vector<std::string> args = {kOpenssl, "pkcs12", "-export", "-inkey", (tmp_ / "key.pem").string(), "-in",
                                     (tmp_ / "cert.pem").string(), "-passout", pw, "-out", file};
    if (legacy) args.push_back("-legacy");
    ASSERT_EQ(run(args).exit_code, 0);
    std::string npki = legacy ? "L" : "M";
    auto in = dojang(npki, {"--json", "import", file, "--password-file", (tmp_ / "aes-pw").string()});
    ASSERT_EQ(in.exit_code, 0) << in.out << in.err;
    auto list = dojang(npki, {"--json", "list"});
    auto j = nlohmann::json::parse(list.out, nullptr, false);
    ASSERT_EQ(j["certificates"].size(), 1u) << list.out;
    EXPECT_EQ(j["certificates"][0]["certificate"]["serial"], "0x" + aes["serial_hex"]) << list.out;
    auto folder = folders(npki).at(0);
    // The stored key is an NPKI key file the openssl CLI did not write and our reader opens.
    auto show = dojang(npki, {"sign", "0x" + aes["serial_hex"], "--in", (dir / "signCert.der").string(),
                              "--out", (tmp_ / "s.p7s").string(), "--password-file", (tmp_ / "aes-pw").string()});
    EXPECT_EQ(show.exit_code, 0) << show.err;
    EXPECT_TRUE(fs::exists(folder / "signPri.key"));
  }
}

TEST_F(BackupTest, ImportNeverOverwritesSilently) {
  ASSERT_EQ(dojang("A", {"export", "홍길동", "--out", pfx("b.pfx"), "--password-file", pw_}).exit_code, 0);
  auto again = dojang("A", {"import", pfx("b.pfx"), "--password-file", pw_});
  expectOneLineError(again, 4, "already in the wallet");
  EXPECT_NE(again.err.find("--replace"), std::string::npos);
  auto replaced = dojang("A", {"import", pfx("b.pfx"), "--password-file", pw_, "--replace"});
  EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_EQ(folders("A").size(), 1u);  // replaced, not duplicated
  expectWorks("A");
  // export does not overwrite a file either
  auto clobber = dojang("A", {"export", "홍길동", "--out", pfx("b.pfx"), "--password-file", pw_});
  expectOneLineError(clobber, 4, "already exists");
}

TEST_F(BackupTest, BadInputGivesOneLineExit3AndNoFolder) {
  ASSERT_EQ(dojang("A", {"export", "홍길동", "--out", pfx("good.pfx"), "--password-file", pw_}).exit_code, 0);
  auto good = read_bytes(pfx("good.pfx"));

  write_text(tmp_ / "garbage.pfx", "this is not a pfx file\n");
  expectOneLineError(dojang("B", {"import", pfx("garbage.pfx"), "--password-file", pw_}), 3, "PKCS#12");

  write_bytes(tmp_ / "truncated.pfx", std::vector<std::uint8_t>(good.begin(), good.begin() + 700));
  expectOneLineError(dojang("B", {"import", pfx("truncated.pfx"), "--password-file", pw_}), 3, "truncated");

  auto flipped = good;
  flipped[flipped.size() / 2] ^= 0x40;
  write_bytes(tmp_ / "flipped.pfx", flipped);
  auto f = dojang("B", {"import", pfx("flipped.pfx"), "--password-file", pw_});
  EXPECT_EQ(f.exit_code, 3) << f.err;

  write_text(tmp_ / "wrong", "Wrong!password-1\n");
  expectOneLineError(dojang("B", {"import", pfx("good.pfx"), "--password-file", (tmp_ / "wrong").string()}), 3,
                     "wrong password");
  expectOneLineError(dojang("A", {"export", "홍길동", "--out", pfx("x.pfx"), "--password-file",
                                  (tmp_ / "wrong").string()}),
                     3, "wrong password");
  EXPECT_FALSE(fs::exists(pfx("x.pfx")));

  write_bytes(tmp_ / "empty.pfx", {});
  expectOneLineError(dojang("B", {"import", pfx("empty.pfx"), "--password-file", pw_}), 3, "empty");

  EXPECT_TRUE(folders("B").empty());
  // Nothing left behind, not even a temporary folder.
  std::error_code ec;
  if (fs::exists(tmp_ / "B", ec)) {
    for (auto& e : fs::recursive_directory_iterator(tmp_ / "B")) {
      EXPECT_FALSE(e.is_regular_file()) << e.path();
    }
  }
}

TEST_F(BackupTest, KmPairTravelsWithTheBackup) {
  // A km pair beside the signing pair: key and certificate from the openssl CLI,
  // kmPri.key as a PBES2/AES-256 key file written by `openssl pkcs8`.
  ASSERT_EQ(run({kOpenssl, "genrsa", "-out", (tmp_ / "km.pem").string(), "2048"}).exit_code, 0);
  ASSERT_EQ(run({kOpenssl, "req", "-x509", "-new", "-key", (tmp_ / "km.pem").string(), "-subj", "/CN=km/O=yessign/C=kr",
                 "-addext", "keyUsage=critical,keyEncipherment", "-days", "30", "-outform", "DER", "-out",
                 (folder_ / "kmCert.der").string()})
                .exit_code,
            0);
  ASSERT_EQ(run({kOpenssl, "pkcs8", "-topk8", "-in", (tmp_ / "km.pem").string(), "-v2", "aes-256-cbc", "-v2prf",
                 "hmacWithSHA256", "-outform", "DER", "-passout", "file:" + pw_, "-out",
                 (folder_ / "kmPri.key").string()})
                .exit_code,
            0);
  ASSERT_EQ(dojang("A", {"export", "홍길동", "--out", pfx("km.pfx"), "--password-file", pw_}).exit_code, 0);
  auto in = dojang("B", {"import", pfx("km.pfx"), "--password-file", pw_});
  ASSERT_EQ(in.exit_code, 0) << in.err;
  auto b = folders("B").at(0);
  EXPECT_EQ(read_bytes(b / "kmCert.der"), read_bytes(folder_ / "kmCert.der"));
  ASSERT_TRUE(fs::exists(b / "kmPri.key"));
  // The restored kmPri.key holds the same key, for the openssl CLI too.
  auto km_mod = run({kOpenssl, "rsa", "-in", (tmp_ / "km.pem").string(), "-noout", "-modulus"});
  auto cert_mod = run({kOpenssl, "x509", "-inform", "DER", "-in", (b / "kmCert.der").string(), "-noout", "-modulus"});
  EXPECT_EQ(km_mod.out, cert_mod.out);
  expectWorks("B");
}

}  // namespace
}  // namespace dojang::testing
