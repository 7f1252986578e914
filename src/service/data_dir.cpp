#include "dojang/service/data_dir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "dojang/pki/aead.hpp"
#include "dojang/pki/random.hpp"

namespace dojang::service {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'D', 'J', 'D', 'A', 'T', 'A', 'K', '1'};
constexpr std::size_t kSaltSize = 16;
constexpr std::size_t kHeaderSize = sizeof kMagic + kSaltSize + 4;
constexpr std::string_view kAad = "dojang data key v1";

fs::path data_key_path(const fs::path& dir) { return dir / "keys" / "data.key"; }
fs::path database_path(const fs::path& dir) { return dir / "dojang.db"; }

ByteView aad() { return {reinterpret_cast<const std::uint8_t*>(kAad.data()), kAad.size()}; }

// Writes a new 0600 file: temp in the same folder, fsync, rename.
Status write_private_file(const fs::path& path, ByteView data) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error{Errc::io, tmp.string() + ": " + std::strerror(errno)};
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error{Errc::io, tmp.string() + ": " + std::strerror(e)};
    }
    off += static_cast<std::size_t>(n);
  }
  bool ok = ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Error{Errc::io, path.string() + ": " + std::strerror(e)};
  }
  return {};
}

}  // namespace

Result<Bytes> seal_data_key(const SecretBytes& key, const SecretString& passphrase,
                            std::uint32_t iterations) {
  if (passphrase.empty()) return Error{Errc::usage, "the passphrase is empty"};
  DOJANG_ASSIGN(Bytes salt, pki::random_bytes(kSaltSize));
  DOJANG_ASSIGN(SecretBytes kek, pki::pbkdf2_sha256(passphrase, salt, iterations, 32));
  DOJANG_ASSIGN(Bytes sealed, pki::seal(kek.view(), key.view(), aad()));
  Bytes out(kMagic, kMagic + sizeof kMagic);
  out.insert(out.end(), salt.begin(), salt.end());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(iterations >> shift));
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

Result<SecretBytes> open_data_key(ByteView sealed, const SecretString& passphrase) {
  if (sealed.size() <= kHeaderSize || std::memcmp(sealed.data(), kMagic, sizeof kMagic) != 0)
    return Error{Errc::invalid_input, "keys/data.key is not a sealed Dojang data key"};
  ByteView salt = sealed.subspan(sizeof kMagic, kSaltSize);
  std::uint32_t iterations = 0;
  for (std::size_t i = 0; i < 4; ++i) iterations = (iterations << 8) | sealed[sizeof kMagic + kSaltSize + i];
  if (iterations == 0 || iterations > 10'000'000)
    return Error{Errc::invalid_input, "keys/data.key has an implausible iteration count"};
  DOJANG_ASSIGN(SecretBytes kek, pki::pbkdf2_sha256(passphrase, salt, iterations, 32));
  auto key = pki::open(kek.view(), sealed.subspan(kHeaderSize), aad());
  if (!key.ok()) return Error{Errc::wrong_password, "the passphrase does not open keys/data.key"};
  if (key->size() != ra::kDataKeySize) return Error{Errc::invalid_input, "keys/data.key holds a key of the wrong size"};
  return std::move(key).value();
}

Result<std::unique_ptr<DataDir>> DataDir::assemble(fs::path dir, ca::Hierarchy h, SecretBytes data_key,
                                                   const Clock& clock) {
  std::unique_ptr<DataDir> d(new DataDir(std::move(dir), std::move(h), clock));
  DOJANG_ASSIGN(d->db_, store::Database::open(database_path(d->dir_)));
  DOJANG_ASSIGN(d->bank_store_, store::sqlite_bank_store(d->db_));
  DOJANG_ASSIGN(ra::OutboxSmsGateway sms, ra::OutboxSmsGateway::create(*d->bank_store_, data_key, clock));
  d->sms_ = std::make_unique<ra::OutboxSmsGateway>(std::move(sms));
  DOJANG_ASSIGN(ra::Bank bank, ra::Bank::create(*d->bank_store_, std::move(data_key), *d->sms_, clock));
  d->bank_ = std::make_unique<ra::Bank>(std::move(bank));
  return d;
}

Result<std::unique_ptr<DataDir>> DataDir::init(const fs::path& dir, const SecretString& passphrase,
                                               const ca::InitOptions& options, const Clock& clock) {
  if (passphrase.empty()) return Error{Errc::usage, "the passphrase is empty"};
  std::error_code ec;
  if (fs::exists(data_key_path(dir), ec) || fs::exists(database_path(dir), ec))
    return Error{Errc::already_exists, dir.string() + " already holds a Dojang data directory"};
  DOJANG_ASSIGN(ca::Hierarchy h, ca::init_hierarchy(dir, passphrase, options, clock));
  DOJANG_ASSIGN(Bytes raw_key, pki::random_bytes(ra::kDataKeySize));
  SecretBytes data_key{ByteView(raw_key)};
  secure_wipe(raw_key.data(), raw_key.size());
  DOJANG_ASSIGN(Bytes sealed, seal_data_key(data_key, passphrase));
  DOJANG_TRY(write_private_file(data_key_path(dir), sealed));
  return assemble(dir, std::move(h), std::move(data_key), clock);
}

Result<std::unique_ptr<DataDir>> DataDir::open(const fs::path& dir, const SecretString& passphrase,
                                               const Clock& clock) {
  std::error_code ec;
  if (!fs::exists(data_key_path(dir), ec))
    return Error{Errc::not_found, dir.string() + " is not a Dojang data directory (run `dojangd init --data " +
                                      dir.string() + "` first)"};
  std::ifstream in(data_key_path(dir), std::ios::binary);
  Bytes sealed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error{Errc::io, data_key_path(dir).string() + ": read error"};
  DOJANG_ASSIGN(SecretBytes data_key, open_data_key(sealed, passphrase));
  DOJANG_ASSIGN(ca::Hierarchy h, ca::load_hierarchy(dir, passphrase));
  return assemble(dir, std::move(h), std::move(data_key), clock);
}

}  // namespace dojang::service
