// `dojang copy receive` / `dojang copy send` end to end between two separate
// NPKI folders over the real relay in dojangd (free loopback port, temp data
// directory): both directions, wrong, reused, unknown and brute-forced codes,
// and what the relay's database holds.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "testing/testing.hpp"

namespace dojang::testing {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";
// Where the wallet stores yessign-general: the NPKI folder name real clients use.
constexpr char kFolder[] = "cn=홍길동()0012345678901234,ou=WOORI,ou=personal4IB,o=yessign,c=kr";

class CopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (tmp_ / "data").string();
    write_text(tmp_ / "pass", "operator passphrase 1\n");
    ASSERT_FALSE(init_dojangd(data_, tmp_ / "pass").empty());
    server_ = std::make_unique<Background>(std::vector<std::string>{
        bin_path("dojangd").string(), "serve", "--data", data_, "--passphrase-file", (tmp_ / "pass").string(),
        "--listen", "127.0.0.1:0", "--threads", "2"});
    std::string line = server_->wait_for_line("listening on");
    ASSERT_FALSE(line.empty()) << server_->out();
    url_ = "http://127.0.0.1:" + line.substr(line.rfind(':') + 1);

    expected_ = read_expected(data_path("pki/cred/yessign-general/expected.txt"));
    folder_ = install_credential(tmp_ / "A", "yessign-general");
    write_text(tmp_ / "pw", expected_["password"] + "\n");
    write_text(tmp_ / "idn", expected_["idn"] + "\n");
    pw_ = (tmp_ / "pw").string();
  }

  std::vector<std::string> dojang_args(const std::string& npki, std::vector<std::string> args) {
    args.insert(args.begin(), {bin_path("dojang").string(), "--npki-dir", (tmp_ / npki).string()});
    return args;
  }
  RunResult dojang(const std::string& npki, std::vector<std::string> args) {
    return run(dojang_args(npki, std::move(args)));
  }

  // Starts `copy receive` into npki and returns the code it wrote with --code-out.
  std::string startReceiver(const std::string& npki, const std::string& password_file) {
    fs::path code_file = tmp_ / ("code-" + npki + std::to_string(++receivers_));
    receiver_ = std::make_unique<Background>(dojang_args(
        npki, {"copy", "receive", "--server", url_, "--code-out", code_file.string(), "--password-file",
               password_file}));
    for (int i = 0; i < 600 && !fs::exists(code_file); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(fs::exists(code_file)) << receiver_->out();
    return fs::exists(code_file) ? read_text(code_file) : std::string();
  }
  // Waits for the receiver to finish; returns its exit code.
  int receiverExit() {
    receiver_->wait_for_line("\x01 never printed", 60);
    return receiver_->stop(SIGTERM);
  }
  RunResult send(const std::string& npki, const std::string& sel, const std::string& code) {
    fs::path f = tmp_ / "send-code";
    write_text(f, code + "\n");
    return dojang(npki, {"copy", "send", sel, "--server", url_, "--code-file", f.string()});
  }
  // The relay's SQLite files (database and WAL) as one byte string.
  std::string relayDatabase() {
    std::string all;
    for (const char* name : {"dojang.db", "dojang.db-wal"}) {
      fs::path p = fs::path(data_) / name;
      if (fs::exists(p)) all += read_text(p);
    }
    return all;
  }
  static bool holds(const std::string& hay, const std::vector<std::uint8_t>& needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
  }
  static bool holds(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

  void expectVidAndSignature(const std::string& npki) {
    auto vid = dojang(npki, {"vid", "홍길동", "--idn-file", (tmp_ / "idn").string(), "--password-file", pw_});
    EXPECT_EQ(vid.exit_code, 0) << vid.out << vid.err;
    write_text(tmp_ / "doc.txt", "login challenge 42\n");
    auto sign = dojang(npki, {"sign", "홍길동", "--in", (tmp_ / "doc.txt").string(), "--out",
                              (tmp_ / "doc.p7s").string(), "--password-file", pw_});
    ASSERT_EQ(sign.exit_code, 0) << sign.err;
    auto verify = run({kOpenssl, "cms", "-verify", "-noverify", "-inform", "DER", "-in", (tmp_ / "doc.p7s").string()});
    EXPECT_EQ(verify.exit_code, 0) << verify.err;
  }

  TempDir tmp_;
  std::string data_, url_, pw_;
  std::map<std::string, std::string> expected_;
  fs::path folder_;
  std::unique_ptr<Background> server_, receiver_;
  int receivers_ = 0;
};

TEST_F(CopyTest, CopiesBetweenTwoFoldersAndTheRelayNeverHoldsKeyOrCode) {
  std::string code = startReceiver("B", pw_);
  ASSERT_EQ(code.size(), 16u);
  auto sent = send("A", "홍길동", code);
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  EXPECT_EQ(receiverExit(), 0) << receiver_->out();
  EXPECT_NE(receiver_->out().find("Copy code:  " + code.substr(0, 4) + " " + code.substr(4, 4)), std::string::npos)
      << receiver_->out();
  EXPECT_NE(receiver_->out().find("Copied 홍길동"), std::string::npos) << receiver_->out();

  // The same files, byte for byte, in the other NPKI folder; VID and signing work there.
  fs::path b = tmp_ / "B" / "yessign" / "USER" / kFolder;
  EXPECT_EQ(read_bytes(b / "signCert.der"), read_bytes(folder_ / "signCert.der"));
  EXPECT_EQ(read_bytes(b / "signPri.key"), read_bytes(folder_ / "signPri.key"));
  expectVidAndSignature("B");

  // The relay saw ciphertext only: neither the key file, the certificate nor
  // any form of the code is in its database or WAL.
  std::string db = relayDatabase();
  ASSERT_FALSE(db.empty());
  EXPECT_FALSE(holds(db, read_bytes(folder_ / "signPri.key")));
  EXPECT_FALSE(holds(db, read_bytes(folder_ / "signCert.der")));
  EXPECT_FALSE(holds(db, code));
  EXPECT_FALSE(holds(db, code.substr(6)));  // the secret digits
  EXPECT_FALSE(holds(db, code.substr(0, 6)));  // even the session id is stored hashed

  // The code is single use.
  auto again = send("A", "홍길동", code);
  EXPECT_EQ(again.exit_code, 3) << again.err;
  EXPECT_NE(again.err.find("no copy session for this code"), std::string::npos) << again.err;
}

TEST_F(CopyTest, WorksTheOtherWayAndThePlaintextKeyNeverReachesTheRelay) {
  // B -> A with a certificate whose plaintext key the openssl CLI can show us.
  fs::path aes = install_credential(tmp_ / "B", "aes-openssl");
  auto aes_expected = read_expected(data_path("pki/cred/aes-openssl/expected.txt"));
  write_text(tmp_ / "aes-pw", aes_expected["password"] + "\n");
  ASSERT_EQ(run({kOpenssl, "pkcs8", "-inform", "DER", "-in", (aes / "signPri.key").string(), "-passin",
                 "file:" + (tmp_ / "aes-pw").string(), "-outform", "DER", "-out", (tmp_ / "plain.der").string()})
                .exit_code,
            0);
  std::string code = startReceiver("A", (tmp_ / "aes-pw").string());
  auto sent = send("B", "0x" + aes_expected["serial_hex"], code);
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  EXPECT_EQ(receiverExit(), 0) << receiver_->out();
  auto list = dojang("A", {"--json", "list"});
  auto j = nlohmann::json::parse(list.out, nullptr, false);
  EXPECT_EQ(j["certificates"].size(), 2u) << list.out;
  std::string db = relayDatabase();
  EXPECT_FALSE(holds(db, read_bytes(tmp_ / "plain.der")));
  EXPECT_FALSE(holds(db, read_bytes(aes / "signPri.key")));
}

TEST_F(CopyTest, WrongCodeIsRefusedAndTheRightOneStillWorks) {
  std::string code = startReceiver("B", pw_);
  std::string wrong = code.substr(0, 6) + (code[6] == '9' ? "0" : "9") + code.substr(7);
  auto bad = send("A", "홍길동", wrong);
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  EXPECT_NE(bad.err.find("did not accept the code"), std::string::npos) << bad.err;
  auto good = send("A", "홍길동", code);
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(receiverExit(), 0) << receiver_->out();

  auto unknown = send("A", "홍길동", "0000000000000000");
  EXPECT_EQ(unknown.exit_code, 3) << unknown.err;
  auto malformed = send("A", "홍길동", "1234");
  EXPECT_EQ(malformed.exit_code, 2) << malformed.err;
}

TEST_F(CopyTest, FiveWrongCodesLockTheSession) {
  std::string code = startReceiver("B", pw_);
  for (int i = 0; i < 5; ++i) {
    std::string wrong = code.substr(0, 6) + std::to_string(1000000000 + i * 7919);
    if (wrong == code) continue;
    auto bad = send("A", "홍길동", wrong);
    EXPECT_TRUE(bad.exit_code == 3 || bad.exit_code == 4) << i << ": " << bad.err;
  }
  EXPECT_EQ(receiverExit(), 4) << receiver_->out();
  EXPECT_NE(receiver_->out().find("locked"), std::string::npos) << receiver_->out();
  auto right = send("A", "홍길동", code);
  EXPECT_EQ(right.exit_code, 4) << right.err;
  EXPECT_TRUE(fs::exists(tmp_ / "B") == false ||
              !fs::exists(tmp_ / "B" / "yessign" / "USER" / kFolder));
}

TEST_F(CopyTest, WrongPasswordOnTheReceiverStoresNothing) {
  write_text(tmp_ / "wrong", "Wrong!password-1\n");
  std::string code = startReceiver("B", (tmp_ / "wrong").string());
  auto sent = send("A", "홍길동", code);
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_EQ(receiverExit(), 3) << receiver_->out();
  EXPECT_NE(receiver_->out().find("wrong password"), std::string::npos) << receiver_->out();
  EXPECT_FALSE(fs::exists(tmp_ / "B" / "yessign" / "USER" / kFolder));
}

}  // namespace
}  // namespace dojang::testing
