#include "dojang/pki/vid.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "pki/certinfo_testdata.hpp"
#include "pki/internal/identify_data.hpp"
#include "testing/testing.hpp"

namespace dojang::pki {
namespace {

using dojang::testing::from_hex;
using dojang::testing::read_bytes;
using dojang::testing::TempDir;
using dojang::testing::to_hex;
using dojang::testing::write_text;
using test::cred_path;
using test::expected_for;
using test::run_openssl;

SecretString idn(const std::string& s) {
  return SecretString(s);
}
SecretBytes secret(const Bytes& b) {
  return SecretBytes(ByteView(b));
}

// ---------------------------------------------------------------------------
// normalize_idn

class NormalizeIdnTest : public ::testing::Test {
 protected:
  void expectAccepted(const std::string& in, const std::string& digits) {
    auto r = normalize_idn(in);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->view(), digits);
  }
  void expectRejected(const std::string& in) {
    auto r = normalize_idn(in);
    ASSERT_FALSE(r.ok()) << "accepted an invalid IDN";
    EXPECT_EQ(r.error().code, Errc::usage);
    EXPECT_FALSE(r.error().message.empty());
    // The message says what is wrong without echoing the number.
    for (size_t i = 0; i + 4 <= in.size(); ++i) {
      std::string part = in.substr(i, 4);
      if (part.find_first_not_of("0123456789") == std::string::npos) {
        EXPECT_EQ(r.error().message.find(part), std::string::npos) << r.error().message;
      }
    }
  }
};

TEST_F(NormalizeIdnTest, AcceptsThirteenDigitsWithOrWithoutDash) {
  expectAccepted("8001011234567", "8001011234567");
  expectAccepted("800101-1234567", "8001011234567");
  expectAccepted("  800101-1234567\n", "8001011234567");  // as read from an --idn-file
}

TEST_F(NormalizeIdnTest, RejectsMalformedNumbers) {
  expectRejected("");
  expectRejected("   \n");
  expectRejected("800101123456");    // 12 digits
  expectRejected("80010112345678");  // 14 digits
  expectRejected("800101-123456");
  expectRejected("80010A1234567");  // a letter
  expectRejected("800101_1234567");
  expectRejected("800101--1234567");  // two dashes
  expectRejected("800101-12345-67");
  expectRejected("8001011-234567");  // dash in the wrong place
  expectRejected("-8001011234567");
  expectRejected("８００１０１１２３４５６７");  // full-width digits
}

TEST_F(NormalizeIdnTest, MessagesSayWhatIsWrong) {
  EXPECT_NE(normalize_idn("800101123456").error().message.find("13 digits"), std::string::npos);
  EXPECT_NE(normalize_idn("800101--1234567").error().message.find("'-'"), std::string::npos);
  EXPECT_NE(normalize_idn("80010A1234567").error().message.find("only digits"), std::string::npos);
  EXPECT_NE(normalize_idn("").error().message.find("empty"), std::string::npos);
}

// ---------------------------------------------------------------------------
// compute_vid / verify_vid against the openssl-made credentials

class VidKnownAnswerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    want_ = expected_for(GetParam());
    ASSERT_FALSE(want_.at("randomnum").empty()) << GetParam() << " has no R";
    ASSERT_FALSE(want_.at("vid").empty()) << GetParam() << " has no VID";
  }
  std::map<std::string, std::string> want_;
};

TEST_P(VidKnownAnswerTest, ComputeVidMatchesOpenssl) {
  auto vid = compute_vid(idn(want_.at("idn")), secret(from_hex(want_.at("randomnum"))),
                         want_.at("vid_hash"));
  ASSERT_TRUE(vid.ok()) << vid.error().message;
  EXPECT_EQ(to_hex(*vid), want_.at("vid"));
}

TEST_P(VidKnownAnswerTest, VerifyVidAcceptsTheRightIdnOnly) {
  auto cert = Certificate::from_der(read_bytes(cred_path(GetParam(), "signCert.der")));
  ASSERT_TRUE(cert.ok());
  SecretBytes r = secret(from_hex(want_.at("randomnum")));

  auto ok = verify_vid(*cert, r, idn(want_.at("idn")));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_TRUE(*ok);

  std::string other = want_.at("idn");
  other.back() = other.back() == '9' ? '0' : static_cast<char>(other.back() + 1);
  auto bad = verify_vid(*cert, r, idn(other));
  ASSERT_TRUE(bad.ok()) << bad.error().message;
  EXPECT_FALSE(*bad);

  Bytes r2 = from_hex(want_.at("randomnum"));
  r2[0] ^= 1;
  auto wrong_r = verify_vid(*cert, secret(r2), idn(want_.at("idn")));
  ASSERT_TRUE(wrong_r.ok());
  EXPECT_FALSE(*wrong_r);
}

// Every credential with R in its key file and a VID in its certificate (all but
// aes-openssl, seed-openssl and norandom).
INSTANTIATE_TEST_SUITE_P(Credentials, VidKnownAnswerTest,
                         ::testing::Values("yessign-general", "yessign-bank", "signgate-old",
                                           "signkorea-pbkdf2", "crosscert-pbes2", "tradesign-pbes2",
                                           "aria", "corporate", "expired", "unknown-policy"),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(VidTest, SignGateOldUsesSha1) {
  auto want = expected_for("signgate-old");
  ASSERT_EQ(want.at("vid_hash"), "sha1");
  auto vid = compute_vid(idn(want.at("idn")), secret(from_hex(want.at("randomnum"))), "sha1");
  ASSERT_TRUE(vid.ok());
  EXPECT_EQ(vid->size(), 20u);
  EXPECT_EQ(to_hex(*vid), want.at("vid"));
}

TEST(VidTest, TrailingZeroOfRCounts) {
  auto want = expected_for("yessign-bank");  // gen.sh makes this R end in 0x00
  ASSERT_EQ(want.at("randomnum").substr(38), "00");
  auto vid = compute_vid(idn(want.at("idn")), secret(from_hex(want.at("randomnum"))), "sha256");
  ASSERT_TRUE(vid.ok());
  EXPECT_EQ(to_hex(*vid), want.at("vid"));
}

// The HashContent BIT STRING must say "0 unused bits" whatever R's last octet
// is; openssl asn1parse -genconf (as gen.sh uses it) is the reference.
TEST(VidTest, MatchesOpensslGenconfForAnyLastOctet) {
  TempDir dir;
  const std::string digits = "8001011234567";
  for (const char* last : {"00", "80", "02", "01", "ff"}) {
    std::string r_hex =
        std::string("a1b2c3d4e5f60718293a4b5c6d7e8f9001020300").substr(0, 38) + last;
    write_text(dir / "hc.cnf", "asn1 = SEQUENCE:hc\n[hc]\nidn = PRINTABLESTRING:" + digits +
                                   "\nrandomNum = FORMAT:HEX,BITSTRING:" + r_hex + "\n");
    auto g = run_openssl(dir, {"asn1parse", "-genconf", (dir / "hc.cnf").string(), "-noout", "-out",
                               (dir / "hc.der").string()});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    auto h1 = run_openssl(dir, {"dgst", "-sha256", "-binary", "-out", (dir / "h1").string(),
                                (dir / "hc.der").string()});
    ASSERT_EQ(h1.exit_code, 0) << h1.err;
    auto h2 = run_openssl(dir, {"dgst", "-sha256", "-r", (dir / "h1").string()});
    ASSERT_EQ(h2.exit_code, 0) << h2.err;
    std::string want = h2.out.substr(0, 64);

    auto vid = compute_vid(idn(digits), secret(from_hex(r_hex)), "sha256");
    ASSERT_TRUE(vid.ok()) << vid.error().message;
    EXPECT_EQ(to_hex(*vid), want) << "R ends in " << last;
  }
}

TEST(VidTest, ComputeVidErrors) {
  SecretBytes r = secret(Bytes(20, 0x5a));
  auto bad_hash = compute_vid(idn("8001011234567"), r, "sha512");
  ASSERT_FALSE(bad_hash.ok());
  EXPECT_EQ(bad_hash.error().code, Errc::foreign_format);

  auto no_r = compute_vid(idn("8001011234567"), SecretBytes(), "sha256");
  ASSERT_FALSE(no_r.ok());
  EXPECT_EQ(no_r.error().code, Errc::invalid_input);

  auto letters = compute_vid(idn("800101-1234567"), r, "sha256");
  ASSERT_FALSE(letters.ok());
  EXPECT_EQ(letters.error().code, Errc::usage);

  auto empty = compute_vid(idn(""), r, "sha256");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, Errc::usage);
}

TEST(VidTest, VerifyVidWithoutVidOrR) {
  auto norandom = Certificate::from_der(read_bytes(cred_path("norandom", "signCert.der")));
  ASSERT_TRUE(norandom.ok());
  auto r = verify_vid(*norandom, secret(Bytes(20, 1)), idn("7912122234564"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found);

  auto want = expected_for("yessign-general");
  auto cert = Certificate::from_der(read_bytes(cred_path("yessign-general", "signCert.der")));
  ASSERT_TRUE(cert.ok());
  auto no_r = verify_vid(*cert, SecretBytes(), idn(want.at("idn")));
  ASSERT_FALSE(no_r.ok());
  EXPECT_EQ(no_r.error().code, Errc::invalid_input);
}

// ---------------------------------------------------------------------------
// encode_identify_data / decode_identify_data

struct Asn1Line {
  size_t offset, header, length;
  int depth;
  std::string what;
};

// openssl asn1parse listing of a DER file.
std::vector<Asn1Line> asn1parse(const TempDir& dir, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"asn1parse", "-inform", "DER"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_openssl(dir, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<Asn1Line> out;
  std::regex re(R"(^\s*(\d+):d=(\d+)\s+hl=\s*(\d+)\s+l=\s*(\d+)\s+(?:prim|cons):\s*(.*)$)");
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, re))
      out.push_back({std::stoul(m[1]), std::stoul(m[3]), std::stoul(m[4]), std::stoi(m[2]), m[5]});
  }
  return out;
}

// The DER of the IdentifyData SEQUENCE inside a certificate's identifyData
// otherName, cut out with the openssl CLI.
Bytes san_identify_data(const std::string& cred) {
  TempDir dir;
  std::string cert = cred_path(cred, "signCert.der").string();
  auto lines = asn1parse(dir, {"-in", cert});
  size_t san_value = 0;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (lines[i].what.find("X509v3 Subject Alternative Name") == std::string::npos) continue;
    for (size_t j = i + 1; j < lines.size(); ++j)
      if (lines[j].what.rfind("OCTET STRING", 0) == 0) {
        san_value = lines[j].offset;
        break;
      }
    break;
  }
  EXPECT_NE(san_value, 0u) << "no subjectAltName";
  std::string san = (dir / "san.der").string();
  asn1parse(dir, {"-in", cert, "-strparse", std::to_string(san_value), "-noout", "-out", san});
  Bytes der = read_bytes(san);
  // GeneralNames SEQUENCE > otherName [0] > value [0] EXPLICIT > IdentifyData SEQUENCE
  for (const auto& l : asn1parse(dir, {"-in", san}))
    if (l.depth == 3 && l.what.rfind("SEQUENCE", 0) == 0)
      return Bytes(der.begin() + static_cast<long>(l.offset),
                   der.begin() + static_cast<long>(l.offset + l.header + l.length));
  ADD_FAILURE() << "no IdentifyData in the subjectAltName of " << cred;
  return {};
}

class IdentifyDataTest : public ::testing::Test {
 protected:
  void expectEncodingMatchesCertificate(const std::string& cred) {
    auto want = expected_for(cred);
    auto der =
        encode_identify_data(want.at("real_name"), want.at("vid_hash"), from_hex(want.at("vid")));
    ASSERT_TRUE(der.ok()) << der.error().message;
    EXPECT_EQ(to_hex(*der), to_hex(san_identify_data(cred)));

    auto back = internal::decode_identify_data(*der);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->real_name, want.at("real_name"));
    ASSERT_TRUE(back->vid.has_value());
    EXPECT_EQ(back->vid->hash_alg, want.at("vid_hash"));
    EXPECT_EQ(to_hex(back->vid->virtual_id), want.at("vid"));
  }
};

TEST_F(IdentifyDataTest, EncodingEqualsTheOpensslMadeSanValue) {
  expectEncodingMatchesCertificate("yessign-general");
  expectEncodingMatchesCertificate("signgate-old");  // SHA-1 VID
}

TEST_F(IdentifyDataTest, DecodesBmpStringRealName) {
  TempDir dir;
  write_text(dir / "id.cnf",
             "asn1 = SEQUENCE:id\n[id]\nrealName = FORMAT:UTF8,BMPSTRING:홍길동\n"
             "userInfos = SEQUENCE:uis\n[uis]\nui = SEQUENCE:ui\n[ui]\n"
             "idType = OID:1.2.410.200004.10.1.1.1\nvid = SEQUENCE:vid\n[vid]\n"
             "hashAlg = SEQUENCE:alg\nvirtualID = EXPLICIT:0,FORMAT:HEX,OCTETSTRING:0102030405\n"
             "[alg]\nalgorithm = OID:sha1\n");
  auto g = run_openssl(dir, {"asn1parse", "-genconf", (dir / "id.cnf").string(), "-noout", "-out",
                             (dir / "id.der").string()});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  auto info = internal::decode_identify_data(read_bytes(dir / "id.der"));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->real_name, "홍길동");
  ASSERT_TRUE(info->vid.has_value());
  EXPECT_EQ(info->vid->hash_alg, "sha1");
  EXPECT_EQ(info->vid->hash_alg_oid, "1.3.14.3.2.26");
  EXPECT_EQ(to_hex(info->vid->virtual_id), "0102030405");
}

TEST_F(IdentifyDataTest, MalformedDerIsInvalidInput) {
  auto good = encode_identify_data("홍길동", "sha256", Bytes(32, 7));
  ASSERT_TRUE(good.ok());
  Bytes trailing = *good;
  trailing.push_back(0);
  Bytes truncated(good->begin(), good->end() - 3);
  for (const Bytes& der :
       {trailing, truncated, Bytes{0x30, 0x00}, Bytes{0x0c, 0x01, 'x'}, Bytes{}}) {
    auto r = internal::decode_identify_data(der);
    ASSERT_FALSE(r.ok()) << to_hex(der);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
  }
}

TEST_F(IdentifyDataTest, EncoderRejectsBadArguments) {
  auto empty_name = encode_identify_data("", "sha256", Bytes(32, 1));
  ASSERT_FALSE(empty_name.ok());
  EXPECT_EQ(empty_name.error().code, Errc::usage);

  auto not_utf8 = encode_identify_data("\xff\xfe", "sha256", Bytes(32, 1));
  ASSERT_FALSE(not_utf8.ok());
  EXPECT_EQ(not_utf8.error().code, Errc::usage);

  auto no_vid = encode_identify_data("홍길동", "sha256", Bytes{});
  ASSERT_FALSE(no_vid.ok());
  EXPECT_EQ(no_vid.error().code, Errc::usage);

  auto bad_hash = encode_identify_data("홍길동", "md5", Bytes(16, 1));
  ASSERT_FALSE(bad_hash.ok());
  EXPECT_EQ(bad_hash.error().code, Errc::foreign_format);
}

}  // namespace
}  // namespace dojang::pki
