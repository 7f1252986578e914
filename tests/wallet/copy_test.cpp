// Device copy at the library level: the PAKE itself, the code format, and a
// hand-driven sender against the real relay in dojangd that tampers with the
// ciphertext.
#include "dojang/wallet/copy.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include <future>
#include <string>
#include <vector>

#include "testing/testing.hpp"
#include "wallet/internal/pake.hpp"

namespace dojang::wallet {
namespace {

using dojang::testing::Background;
using dojang::testing::bin_path;
using dojang::testing::data_path;
using dojang::testing::http_request;
using dojang::testing::init_dojangd;
using dojang::testing::install_credential;
using dojang::testing::read_expected;
using dojang::testing::run;
using dojang::testing::TempDir;
using dojang::testing::write_text;
using internal::Pake;
using internal::PakeRole;

std::string hex(ByteView b) {
  std::string s(b.size() * 2 + 1, '\0');
  sodium_bin2hex(s.data(), s.size(), b.data(), b.size());
  s.pop_back();
  return s;
}

Bytes unhex(const std::string& s) {
  Bytes out(s.size() / 2);
  size_t len = 0;
  sodium_hex2bin(out.data(), out.size(), s.data(), s.size(), nullptr, &len, nullptr);
  out.resize(len);
  return out;
}

TEST(PakeTest, BothSidesDeriveTheSameKeysOnlyWithTheSameCode) {
  ASSERT_GE(sodium_init(), 0);
  auto r = Pake::start(PakeRole::receiver, "123456", SecretString("0123456789"));
  auto s = Pake::start(PakeRole::sender, "123456", SecretString("0123456789"));
  ASSERT_TRUE(r.ok() && s.ok());
  auto kr = r->finish(s->message());
  auto ks = s->finish(r->message());
  ASSERT_TRUE(kr.ok() && ks.ok());
  EXPECT_EQ(hex(kr->bundle_key.view()), hex(ks->bundle_key.view()));
  EXPECT_EQ(kr->sender_tag, ks->sender_tag);
  EXPECT_EQ(kr->receiver_tag, ks->receiver_tag);
  EXPECT_NE(kr->sender_tag, kr->receiver_tag);
  EXPECT_EQ(kr->transcript, ks->transcript);

  // One wrong digit: nothing matches.
  auto wrong = Pake::start(PakeRole::sender, "123456", SecretString("0123456780"));
  ASSERT_TRUE(wrong.ok());
  auto kw = wrong->finish(r->message());
  auto kr2 = r->finish(wrong->message());
  ASSERT_TRUE(kw.ok() && kr2.ok());
  EXPECT_FALSE(internal::tags_equal(kw->sender_tag, kr2->sender_tag));
  // The same code under another session id: different keys too.
  auto other = Pake::start(PakeRole::sender, "654321", SecretString("0123456789"));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(internal::tags_equal(other->finish(r->message())->sender_tag, r->finish(other->message())->sender_tag));

  // Fresh randomness every run: the messages never repeat.
  auto again = Pake::start(PakeRole::receiver, "123456", SecretString("0123456789"));
  EXPECT_NE(again->message(), r->message());
}

TEST(PakeTest, InvalidOrIdentityElementsAreRefused) {
  auto r = Pake::start(PakeRole::receiver, "123456", SecretString("0123456789"));
  ASSERT_TRUE(r.ok());
  Bytes zero(32, 0);  // the identity's encoding
  auto z = r->finish(zero);
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.error().code, Errc::invalid_input);
  Bytes junk(32, 0xff);
  EXPECT_FALSE(r->finish(junk).ok());
  EXPECT_FALSE(r->finish(Bytes(31, 1)).ok());
}

TEST(CopyCodeTest, GroupsAndParses) {
  EXPECT_EQ(group_code("1234567890123456"), "1234 5678 9012 3456");
  auto ok = parse_code(" 1234-5678 9012 3456\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->view(), "1234567890123456");
  EXPECT_EQ(parse_code("12345").error().code, Errc::usage);
  EXPECT_EQ(parse_code("1234 5678 9012 345x").error().code, Errc::usage);
}

class CopyRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_text(tmp_ / "pass", "operator passphrase 1\n");
    ASSERT_FALSE(init_dojangd(tmp_ / "data", tmp_ / "pass").empty());
    server_ = std::make_unique<Background>(std::vector<std::string>{
        bin_path("dojangd").string(), "serve", "--data", (tmp_ / "data").string(), "--passphrase-file",
        (tmp_ / "pass").string(), "--listen", "127.0.0.1:0", "--threads", "2"});
    std::string line = server_->wait_for_line("listening on");
    ASSERT_FALSE(line.empty()) << server_->out();
    port_ = static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Plays the sender by hand: the right code, but `tamper` flips a ciphertext byte.
  void offer(const std::string& code, bool tamper) {
    const std::string sid = code.substr(0, 6);
    auto st = http_request(port_, "GET", "/api/v1/relay/sessions/" + sid);
    ASSERT_EQ(st.status, 200) << st.body;
    auto j = nlohmann::json::parse(st.body);
    auto pake = Pake::start(PakeRole::sender, sid, SecretString(code.substr(6)));
    ASSERT_TRUE(pake.ok());
    auto keys = pake->finish(unhex(j["message"].get<std::string>()));
    ASSERT_TRUE(keys.ok());
    std::string plain = R"({"v":1,"sign_cert":"00","sign_key":"00"})";
    std::string ad = "dojang copy bundle v1";
    Bytes adb(ad.begin(), ad.end());
    adb.insert(adb.end(), keys->transcript.begin(), keys->transcript.end());
    Bytes sealed(24 + plain.size() + 16);
    randombytes_buf(sealed.data(), 24);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data() + 24, &len,
                                               reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                                               adb.data(), adb.size(), nullptr, sealed.data(),
                                               keys->bundle_key.data());
    if (tamper) sealed[30] ^= 0x01;
    nlohmann::json body = {{"message", hex(pake->message())}, {"confirm", hex(keys->sender_tag)}, {"bundle", hex(sealed)}};
    auto up = http_request(port_, "POST", "/api/v1/relay/sessions/" + sid + "/offer", body.dump(),
                           {{"Content-Type", "application/json"}});
    ASSERT_EQ(up.status, 201) << up.body;
  }

  TempDir tmp_;
  std::unique_ptr<Background> server_;
  std::uint16_t port_ = 0;
};

TEST_F(CopyRelayTest, TamperedCiphertextIsRefusedAfterAConfirmedKey) {
  auto receiver = CopyReceiver::open({url(), "", 30});
  ASSERT_TRUE(receiver.ok()) << receiver.error().message;
  std::string code((*receiver)->code().view());
  auto pending = std::async(std::launch::async, [&] { return (*receiver)->receive(std::chrono::milliseconds(50)); });
  offer(code, /*tamper=*/true);
  auto got = pending.get();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::invalid_input);
  EXPECT_NE(got.error().message.find("integrity"), std::string::npos) << got.error().message;
}

TEST_F(CopyRelayTest, AnUntamperedHandMadeOfferIsReceived) {
  auto receiver = CopyReceiver::open({url(), "", 30});
  ASSERT_TRUE(receiver.ok()) << receiver.error().message;
  std::string code((*receiver)->code().view());
  EXPECT_EQ(code.size(), kCopyCodeDigits);
  auto pending = std::async(std::launch::async, [&] { return (*receiver)->receive(std::chrono::milliseconds(50)); });
  offer(code, /*tamper=*/false);
  auto got = pending.get();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->sign_cert, Bytes{0});
  // Picked up: the session is gone from the relay.
  EXPECT_EQ(http_request(port_, "GET", "/api/v1/relay/sessions/" + code.substr(0, 6)).status, 404);
}

}  // namespace
}  // namespace dojang::wallet
