#include "dojang/wallet/store.hpp"

#include <gmock/gmock.h>
#include <cctype>
#include <signal.h>
#include <sys/resource.h>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "testing/testing.hpp"

namespace dojang::wallet {
namespace {

namespace fs = std::filesystem;
using dojang::testing::data_path;
using dojang::testing::read_bytes;
using dojang::testing::read_expected;
using dojang::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Bytes cred_file(const std::string& cred, const std::string& file) {
  return read_bytes(data_path("pki/cred/" + cred + "/" + file));
}

std::map<std::string, std::string> expected(const std::string& cred) {
  return read_expected(data_path("pki/cred/" + cred + "/expected.txt"));
}

// A throw-away self-signed certificate (P-256) with subject CN=cn, O=o, C=kr.
Bytes make_cert(const std::string& cn, const std::string& o, long serial) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_NAME* name = X509_get_subject_name(x);
  auto add = [&](const char* f, const std::string& v) {
    X509_NAME_add_entry_by_txt(name, f, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(v.data()),
                               static_cast<int>(v.size()), -1, 0);
  };
  add("C", "kr");
  if (!o.empty()) add("O", o);
  add("CN", cn);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, key);
  X509_sign(x, key, EVP_sha256());
  unsigned char* der = nullptr;
  int len = i2d_X509(x, &der);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class StoreTest : public ::testing::Test {
 protected:
  // Copies a test credential into root/<ca>/USER/<folder>/ with the given file names.
  fs::path install(const fs::path& root, const std::string& cred, const std::string& ca,
                   const std::string& folder, const std::string& cert_name = "signCert.der",
                   const std::string& key_name = "signPri.key") {
    const fs::path dir = root / ca / "USER" / folder;
    fs::create_directories(dir);
    if (!cert_name.empty())
      dojang::testing::write_bytes(dir / cert_name, cred_file(cred, "signCert.der"));
    if (!key_name.empty())
      dojang::testing::write_bytes(dir / key_name, cred_file(cred, "signPri.key"));
    return dir;
  }

  static const StoredCredential* find(const std::vector<StoredCredential>& all,
                                      const fs::path& folder) {
    for (const auto& c : all)
      if (c.folder == folder) return &c;
    return nullptr;
  }

  void expect_error(const Error& e, Errc code, const std::string& part = {}) {
    EXPECT_EQ(e.code, code) << errc_name(e.code) << ": " << e.message;
    if (!part.empty()) {
      EXPECT_THAT(e.message, HasSubstr(part));
    }
  }

  TempDir tmp_;
  fs::path root1_ = tmp_.path() / "NPKI";
  fs::path root2_ = tmp_.path() / "usb" / "NPKI";
};

// ---------------------------------------------------------------------------
// list()

TEST_F(StoreTest, MissingRootsAndFilesAreEmpty) {
  dojang::testing::write_text(tmp_.path() / "file", "not a folder");
  NpkiStore store({tmp_.path() / "nothing-here", tmp_.path() / "file"});
  auto all = store.list();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(StoreTest, ListsCredentialsOfEveryRoot) {
  const auto a = dojang::testing::install_credential(root1_, "yessign-general", "yessign");
  const auto b = install(root1_, "signgate-old", "KICA", "cn=lee,o=signGATE,c=kr");
  const auto c = install(root2_, "crosscert-pbes2", "CrossCert", "cn=choi,o=CrossCert,c=kr");
  NpkiStore store({root1_, root2_});
  auto all = store.list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  // Root order first, then CA folder.
  EXPECT_EQ((*all)[0].folder, b);
  EXPECT_EQ((*all)[1].folder, a);
  EXPECT_EQ((*all)[2].folder, c);
  EXPECT_EQ((*all)[2].root, root2_);
  for (const auto& [cred, folder] :
       {std::pair{"yessign-general", a}, {"signgate-old", b}, {"crosscert-pbes2", c}}) {
    const StoredCredential* s = find(*all, folder);
    ASSERT_NE(s, nullptr) << cred;
    EXPECT_FALSE(s->broken()) << s->broken_reason;
    ASSERT_TRUE(s->info.has_value());
    ASSERT_TRUE(s->cert.has_value());
    EXPECT_EQ(s->info->serial_hex, expected(cred)["serial_hex"]);
    EXPECT_EQ(s->info->cn, expected(cred)["cn"]);
    EXPECT_EQ(s->cert_path, folder / "signCert.der");
    EXPECT_EQ(s->key_path, folder / "signPri.key");
    EXPECT_FALSE(s->km_cert_path.has_value());
  }
  EXPECT_EQ(find(*all, b)->ca_folder, "KICA");
}

TEST_F(StoreTest, MatchesFileNamesInAnyCase) {
  const auto dir = install(root1_, "yessign-bank", "yessign", "cn=kim,o=yessign,c=kr",
                           "SignCert.der", "SIGNPRI.KEY");
  dojang::testing::write_bytes(dir / "KMCERT.DER", cred_file("yessign-bank", "signCert.der"));
  dojang::testing::write_bytes(dir / "kmpri.key", cred_file("yessign-bank", "signPri.key"));
  auto all = NpkiStore({root1_}).list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  const auto& c = all->front();
  EXPECT_FALSE(c.broken()) << c.broken_reason;
  EXPECT_EQ(c.cert_path, dir / "SignCert.der");
  EXPECT_EQ(c.key_path, dir / "SIGNPRI.KEY");
  EXPECT_EQ(c.km_cert_path, dir / "KMCERT.DER");
  EXPECT_EQ(c.km_key_path, dir / "kmpri.key");
  EXPECT_EQ(c.info->serial_hex, expected("yessign-bank")["serial_hex"]);
}

TEST_F(StoreTest, ListsBrokenFoldersWithTheirReasonAndGoesOn) {
  const auto good = install(root1_, "yessign-general", "yessign", "cn=good");
  const auto no_key = install(root1_, "yessign-bank", "yessign", "cn=nokey", "signCert.der", "");
  const auto no_cert = install(root1_, "yessign-bank", "yessign", "cn=nocert", "", "signPri.key");
  const auto garbage = root1_ / "yessign" / "USER" / "cn=garbage";
  dojang::testing::write_text(garbage / "signCert.der", "this is not DER");
  dojang::testing::write_bytes(garbage / "signPri.key", cred_file("yessign-bank", "signPri.key"));
  const auto empty_key = install(root1_, "aria", "yessign", "cn=emptykey", "signCert.der", "");
  dojang::testing::write_text(empty_key / "signPri.key", "");
  const auto empty = root1_ / "yessign" / "USER" / "cn=empty";
  fs::create_directories(empty);
  // Not credential folders: a plain file, a dangling link, our own temp folder.
  dojang::testing::write_text(root1_ / "yessign" / "USER" / "README.txt", "hello");
  fs::create_symlink(root1_ / "nowhere", root1_ / "yessign" / "USER" / "cn=dangling");
  fs::create_directories(root1_ / "yessign" / "USER" / ".dojang-new-abc123");
  // A link to itself.
  fs::create_symlink("cn=loop", root1_ / "yessign" / "USER" / "cn=loop");
  // A CA folder without USER/, and a file at the CA level.
  fs::create_directories(root1_ / "CA-without-user");
  dojang::testing::write_text(root1_ / "stray.txt", "x");

  auto all = NpkiStore({root1_}).list();
  ASSERT_TRUE(all.ok());
  std::vector<std::string> folders;
  for (const auto& c : *all) folders.push_back(c.folder.filename().string());
  EXPECT_THAT(folders,
              ::testing::UnorderedElementsAre("cn=good", "cn=nokey", "cn=nocert", "cn=garbage",
                                              "cn=emptykey", "cn=empty", "cn=loop"));
  EXPECT_FALSE(find(*all, good)->broken());
  EXPECT_EQ(find(*all, no_key)->broken_reason, "no signPri.key");
  EXPECT_TRUE(find(*all, no_key)->info.has_value());  // still selectable, e.g. to delete it
  EXPECT_EQ(find(*all, no_cert)->broken_reason, "no signCert.der");
  EXPECT_THAT(find(*all, garbage)->broken_reason,
              StartsWith("signCert.der is not a certificate: "));
  EXPECT_EQ(find(*all, empty_key)->broken_reason, "signPri.key is empty");
  EXPECT_THAT(find(*all, empty)->broken_reason, HasSubstr("no signCert.der"));
  EXPECT_THAT(find(*all, root1_ / "yessign" / "USER" / "cn=loop")->broken_reason,
              HasSubstr("symbolic links"));
}

TEST_F(StoreTest, UnreadableFolderIsBrokenNotFatal) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every folder";
  install(root1_, "yessign-general", "yessign", "cn=good");
  const auto locked = install(root1_, "yessign-bank", "yessign", "cn=locked");
  fs::permissions(locked, fs::perms::none);
  auto all = NpkiStore({root1_}).list();
  fs::permissions(locked, fs::perms::owner_all);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_FALSE(find(*all, root1_ / "yessign" / "USER" / "cn=good")->broken());
  EXPECT_THAT(find(*all, locked)->broken_reason, HasSubstr("Permission denied"));
}

TEST_F(StoreTest, UnreadableUserFolderIsReported) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every folder";
  install(root1_, "yessign-general", "yessign", "cn=good");
  install(root1_, "signgate-old", "KICA", "cn=lee");
  const auto user = root1_ / "KICA" / "USER";
  fs::permissions(user, fs::perms::none);
  auto all = NpkiStore({root1_}).list();
  fs::permissions(user, fs::perms::owner_all);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_THAT(find(*all, user)->broken_reason, HasSubstr("Permission denied"));
}

// ---------------------------------------------------------------------------
// select()

class SelectTest : public StoreTest {
 protected:
  void SetUp() override {
    install(root1_, "yessign-general", "yessign", "cn=hong");
    install(root1_, "signgate-old", "KICA", "cn=lee");
    install(root2_, "crosscert-pbes2", "CrossCert", "cn=choi");
  }
  void expect_selects(const std::string& sel, const std::string& cred) {
    auto c = store_.select(sel);
    ASSERT_TRUE(c.ok()) << sel << ": " << c.error().message;
    EXPECT_EQ(c->info->serial_hex, expected(cred)["serial_hex"]) << sel;
  }
  NpkiStore store_{{root1_, root2_}};
};

TEST_F(SelectTest, ByHexSerial) {
  expect_selects("0x" + expected("yessign-general")["serial_hex"], "yessign-general");
  std::string upper = expected("yessign-general")["serial_hex"];
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  expect_selects("0X" + upper, "yessign-general");
  // Leading zeros do not matter.
  expect_selects("0x00" + expected("signgate-old")["serial_hex"], "signgate-old");
}

TEST_F(SelectTest, ByDecimalSerial) {
  expect_selects(expected("signgate-old")["serial_dec"], "signgate-old");
  expect_selects(expected("crosscert-pbes2")["serial_dec"], "crosscert-pbes2");
}

TEST_F(SelectTest, ByCnSubstring) {
  expect_selects("홍길동", "yessign-general");
  expect_selects("이영희()", "signgate-old");
  // Digits that are no serial are a CN substring.
  expect_selects("001104220080401001", "signgate-old");
}

TEST_F(SelectTest, CnSubstringIgnoresCase) {
  const Bytes cert = make_cert("Hong Gildong()0012345", "yessign", 4242);
  ASSERT_TRUE(store_.add(cert, Bytes{1, 2, 3}, std::nullopt).ok());
  auto c = store_.select("HONG GIL");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->info->serial_dec, "4242");
}

TEST_F(SelectTest, AmbiguousListsTheCandidates) {
  auto c = store_.select("()");
  ASSERT_FALSE(c.ok());
  expect_error(c.error(), Errc::ambiguous, "matches 3 certificates");
  EXPECT_THAT(c.error().message, HasSubstr("홍길동()0012345678901234"));
  EXPECT_THAT(c.error().message, HasSubstr("0x" + expected("signgate-old")["serial_hex"]));
  // The same certificate in two roots is ambiguous too.
  install(root2_, "yessign-general", "yessign", "cn=hong-copy");
  expect_error(store_.select("홍길동").error(), Errc::ambiguous, "cn=hong-copy");
}

TEST_F(SelectTest, NotFoundAndMalformed) {
  expect_error(store_.select("nobody").error(), Errc::not_found, "no certificate matches 'nobody'");
  expect_error(store_.select("0xdeadbeef").error(), Errc::not_found);
  expect_error(store_.select("0xnothex").error(), Errc::usage);
  expect_error(store_.select("  ").error(), Errc::usage);
}

// ---------------------------------------------------------------------------
// add()

TEST_F(StoreTest, AddNamesTheFolderAfterTheSubject) {
  NpkiStore store({root1_, root2_});
  const Bytes cert = cred_file("yessign-general", "signCert.der");
  const Bytes key = cred_file("yessign-general", "signPri.key");
  auto c = store.add(cert, key, std::nullopt);
  ASSERT_TRUE(c.ok()) << c.error().message;
  const fs::path folder = root1_ / "yessign" / "USER" /
                          "cn=홍길동()0012345678901234,ou=WOORI,ou=personal4IB,o=yessign,c=kr";
  EXPECT_EQ(c->folder, folder);
  EXPECT_EQ(c->ca_folder, "yessign");
  EXPECT_FALSE(c->broken()) << c->broken_reason;
  EXPECT_EQ(read_bytes(folder / "signCert.der"), cert);
  EXPECT_EQ(read_bytes(folder / "signPri.key"), key);
  EXPECT_EQ(mode_of(folder / "signPri.key"), 0600u);
  EXPECT_EQ(mode_of(folder / "signCert.der"), 0644u);
  EXPECT_EQ(mode_of(folder), 0700u);
  EXPECT_EQ(mode_of(root1_ / "yessign" / "USER"), 0700u);
  EXPECT_EQ(mode_of(root1_ / "yessign"), 0700u);
  // No temporary folder is left behind; the new credential is listed.
  EXPECT_THAT(names_in(root1_ / "yessign" / "USER"),
              ::testing::ElementsAre(folder.filename().string()));
  auto all = store.list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().folder, folder);
}

TEST_F(StoreTest, AddMapsTheOrganisationToTheNpkiCaFolder) {
  NpkiStore store({root1_});
  for (const auto& [cred, ca] : {std::pair{"signgate-old", "KICA"},
                                 {"signkorea-pbkdf2", "SignKorea"},
                                 {"crosscert-pbes2", "CrossCert"},
                                 {"tradesign-pbes2", "TradeSign"}}) {
    auto c =
        store.add(cred_file(cred, "signCert.der"), cred_file(cred, "signPri.key"), std::nullopt);
    ASSERT_TRUE(c.ok()) << cred << ": " << c.error().message;
    EXPECT_EQ(c->ca_folder, ca);
    EXPECT_EQ(c->folder.parent_path(), root1_ / ca / "USER");
  }
  EXPECT_EQ(npki_ca_folder("SIGNGATE"), "KICA");
  EXPECT_EQ(npki_ca_folder("yessign"), "yessign");
  EXPECT_EQ(npki_ca_folder("Some/Bank"), "Some_Bank");
  EXPECT_EQ(npki_ca_folder(""), "unknown");
  EXPECT_EQ(npki_ca_folder(".."), "_");
}

TEST_F(StoreTest, AddWritesTheKmPair) {
  NpkiStore store({root1_});
  const Bytes km_cert = cred_file("yessign-bank", "signCert.der");
  const Bytes km_key = cred_file("yessign-bank", "signPri.key");
  auto c = store.add(cred_file("yessign-general", "signCert.der"),
                     cred_file("yessign-general", "signPri.key"), std::pair{km_cert, km_key});
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->km_cert_path && c->km_key_path);
  EXPECT_EQ(read_bytes(*c->km_cert_path), km_cert);
  EXPECT_EQ(read_bytes(*c->km_key_path), km_key);
  EXPECT_EQ(mode_of(*c->km_key_path), 0600u);
}

TEST_F(StoreTest, AddRefusesToOverwriteUnlessAsked) {
  NpkiStore store({root1_});
  const Bytes cert = cred_file("yessign-general", "signCert.der");
  const Bytes key = cred_file("yessign-general", "signPri.key");
  auto first = store.add(cert, key, std::nullopt);
  ASSERT_TRUE(first.ok());
  const Bytes other_key = cred_file("yessign-bank", "signPri.key");
  auto again = store.add(cert, other_key, std::nullopt);
  ASSERT_FALSE(again.ok());
  expect_error(again.error(), Errc::already_exists, "already exists");
  EXPECT_EQ(read_bytes(first->key_path), key);

  // Overwrite swaps in the new folder; an unknown file of the old one goes with it.
  dojang::testing::write_text(first->folder / "old-notes.txt", "old");
  auto replaced = store.add(cert, other_key, std::nullopt, /*overwrite=*/true);
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  EXPECT_EQ(replaced->folder, first->folder);
  EXPECT_EQ(read_bytes(replaced->key_path), other_key);
  EXPECT_THAT(names_in(first->folder), ::testing::ElementsAre("signCert.der", "signPri.key"));
  EXPECT_THAT(names_in(root1_ / "yessign" / "USER"),
              ::testing::ElementsAre(first->folder.filename().string()));
}

TEST_F(StoreTest, AddRejectsBadInput) {
  NpkiStore store({root1_});
  const Bytes cert = cred_file("yessign-general", "signCert.der");
  const Bytes key = cred_file("yessign-general", "signPri.key");
  expect_error(store.add(Bytes{1, 2, 3}, key, std::nullopt).error(), Errc::invalid_input);
  expect_error(store.add(cert, Bytes{}, std::nullopt).error(), Errc::invalid_input, "empty");
  expect_error(store.add(cert, key, std::pair{Bytes{9, 9}, key}).error(), Errc::invalid_input,
               "kmCert.der");
  expect_error(NpkiStore({}).add(cert, key, std::nullopt).error(), Errc::usage);
  EXPECT_FALSE(fs::exists(root1_ / "yessign" / "USER" /
                          "cn=홍길동()0012345678901234,ou=WOORI,ou=personal4IB,o=yessign,c=kr"));
}

TEST_F(StoreTest, FolderNameReplacesSlashes) {
  NpkiStore store({root1_});
  auto c = store.add(make_cert("a/b", "Bank/Two", 7), Bytes{1}, std::nullopt);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->folder.parent_path(), root1_ / "Bank_Two" / "USER");
  EXPECT_EQ(c->folder.filename().string().find('/'), std::string::npos);
  EXPECT_THAT(c->folder.filename().string(), StartsWith("cn=a_b,"));
}

// ---------------------------------------------------------------------------
// remove()

TEST_F(StoreTest, RemoveDeletesTheFolder) {
  NpkiStore store({root1_});
  auto c = store.add(cred_file("yessign-general", "signCert.der"),
                     cred_file("yessign-general", "signPri.key"),
                     std::pair{cred_file("yessign-bank", "signCert.der"), Bytes{1, 2}});
  ASSERT_TRUE(c.ok());
  auto left = store.remove(*c);
  ASSERT_TRUE(left.ok()) << left.error().message;
  EXPECT_TRUE(left->empty());
  EXPECT_FALSE(fs::exists(c->folder));
  EXPECT_TRUE(store.list()->empty());
  expect_error(store.remove(*c).error(), Errc::not_found);
}

TEST_F(StoreTest, RemoveKeepsUnknownFilesAndReportsThem) {
  const auto dir =
      install(root1_, "yessign-general", "yessign", "cn=hong", "SignCert.DER", "signpri.KEY");
  dojang::testing::write_text(dir / "memo.txt", "mine");
  NpkiStore store({root1_});
  auto c = store.select("홍길동");
  ASSERT_TRUE(c.ok());
  auto left = store.remove(*c);
  ASSERT_TRUE(left.ok()) << left.error().message;
  EXPECT_THAT(*left, ::testing::ElementsAre(dir / "memo.txt"));
  EXPECT_THAT(names_in(dir), ::testing::ElementsAre("memo.txt"));
}

TEST_F(StoreTest, RemoveRefusesFoldersOutsideTheStore) {
  const auto dir = install(root2_, "yessign-general", "yessign", "cn=hong");
  NpkiStore other({root1_});
  auto c = NpkiStore({root2_}).select("홍길동");
  ASSERT_TRUE(c.ok());
  expect_error(other.remove(*c).error(), Errc::usage);
  StoredCredential fake;
  fake.folder = tmp_.path();
  expect_error(NpkiStore({tmp_.path()}).remove(fake).error(), Errc::usage);
  EXPECT_TRUE(fs::exists(dir / "signPri.key"));
}

// ---------------------------------------------------------------------------
// atomic_write_file() and default_root()

TEST_F(StoreTest, AtomicWriteReplacesAndLeavesNoTemporaryFile) {
  const fs::path dir = tmp_.path() / "w";
  fs::create_directories(dir);
  const fs::path p = dir / "signPri.key";
  ASSERT_TRUE(atomic_write_file(p, Bytes{1, 2, 3}).ok());
  EXPECT_EQ(read_bytes(p), (Bytes{1, 2, 3}));
  EXPECT_EQ(mode_of(p), 0600u);
  ASSERT_TRUE(
      atomic_write_file(p, Bytes{4, 5}, fs::perms::owner_read | fs::perms::group_read).ok());
  EXPECT_EQ(read_bytes(p), (Bytes{4, 5}));
  EXPECT_EQ(mode_of(p), 0440u);
  EXPECT_THAT(names_in(dir), ::testing::ElementsAre("signPri.key"));
  expect_error(atomic_write_file(tmp_.path() / "no" / "such" / "dir", Bytes{1}).error(), Errc::io);
}

TEST_F(StoreTest, AtomicWriteFailureKeepsTheOldFile) {
  const fs::path dir = tmp_.path() / "ro";
  fs::create_directories(dir);
  const fs::path p = dir / "signPri.key";
  ASSERT_TRUE(atomic_write_file(p, Bytes{1, 2, 3}).ok());
  Status st;
  {
    // A file-size limit makes the write fail even for root (EFBIG instead of SIGXFSZ).
    struct sigaction ignore {}, old_action {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGXFSZ, &ignore, &old_action);
    rlimit old_limit{};
    ::getrlimit(RLIMIT_FSIZE, &old_limit);
    rlimit tiny = old_limit;
    tiny.rlim_cur = 2;
    ::setrlimit(RLIMIT_FSIZE, &tiny);
    st = atomic_write_file(p, Bytes(4096, 9));
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    ::sigaction(SIGXFSZ, &old_action, nullptr);
  }
  ASSERT_FALSE(st.ok());
  expect_error(st.error(), Errc::io);
  EXPECT_EQ(read_bytes(p), (Bytes{1, 2, 3}));
  EXPECT_THAT(names_in(dir), ::testing::ElementsAre("signPri.key"));
}

TEST_F(StoreTest, AtomicWriteIntoReadOnlyFolderFails) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only folders";
  const fs::path dir = tmp_.path() / "ro";
  fs::create_directories(dir);
  const fs::path p = dir / "signPri.key";
  ASSERT_TRUE(atomic_write_file(p, Bytes{1, 2, 3}).ok());
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
  auto st = atomic_write_file(p, Bytes{9});
  fs::permissions(dir, fs::perms::owner_all);
  expect_error(st.error(), Errc::io);
  EXPECT_EQ(read_bytes(p), (Bytes{1, 2, 3}));
  EXPECT_THAT(names_in(dir), ::testing::ElementsAre("signPri.key"));
}

class EnvVar {
 public:
  explicit EnvVar(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
  }
  ~EnvVar() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(DefaultRoot, EnvironmentThenHome) {
  EnvVar dir("DOJANG_NPKI_DIR");
  EnvVar home("HOME");
  ::setenv("HOME", "/home/tester", 1);
  ::setenv("DOJANG_NPKI_DIR", "/media/usb/NPKI", 1);
  EXPECT_EQ(NpkiStore::default_root(), fs::path("/media/usb/NPKI"));
  ::setenv("DOJANG_NPKI_DIR", "", 1);
  EXPECT_EQ(NpkiStore::default_root(), fs::path("/home/tester/NPKI"));
  ::unsetenv("DOJANG_NPKI_DIR");
  EXPECT_EQ(NpkiStore::default_root(), fs::path("/home/tester/NPKI"));
}

}  // namespace
}  // namespace dojang::wallet
