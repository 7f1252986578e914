#include "wallet/internal/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace dojang::wallet::internal {

namespace {

// Closes a file descriptor on scope exit (errors of close on a read-only fd are
// irrelevant; writers close explicitly and check).
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

struct DirClose {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};

Error io_error(std::string_view what, const fs::path& p, int err) {
  return Error{Errc::io, std::string(what) + " " + p.string() + ": " + errno_text(err)};
}

Status write_all(int fd, ByteView data, const fs::path& p) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("writing", p, errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns the message (possibly not in buf).
  return ::strerror_r(err, buf, sizeof buf);
}

Result<Kind> kind_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Kind::missing;
    return io_error("cannot examine", p, errno);
  }
  if (S_ISDIR(st.st_mode)) return Kind::directory;
  if (S_ISREG(st.st_mode)) return Kind::regular;
  return Kind::other;
}

Result<std::vector<std::string>> list_dir(const fs::path& dir) {
  std::unique_ptr<DIR, DirClose> d(::opendir(dir.c_str()));
  if (!d) return io_error("cannot read folder", dir, errno);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d.get());
    if (e == nullptr) {
      if (errno != 0) return io_error("cannot read folder", dir, errno);
      break;
    }
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<Bytes> read_file(const fs::path& p, std::size_t max_size) {
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return io_error("cannot open", p, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_error("cannot examine", p, errno);
  if (!S_ISREG(st.st_mode)) return Error{Errc::io, p.string() + " is not a regular file"};
  if (static_cast<std::uint64_t>(st.st_size) > max_size)
    return Error{Errc::invalid_input, p.filename().string() + " is too large (" +
                                          std::to_string(st.st_size) + " bytes)"};
  Bytes out;
  out.reserve(static_cast<std::size_t>(st.st_size));
  std::uint8_t buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot read", p, errno);
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_size)
      return Error{Errc::invalid_input, p.filename().string() + " is too large"};
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Status write_new_file(const fs::path& path, ByteView data, mode_t mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) return io_error("cannot create", path, errno);
  if (::fchmod(fd.get(), mode) != 0) return io_error("cannot set permissions of", path, errno);
  DOJANG_TRY(write_all(fd.get(), data, path));
  if (::fsync(fd.get()) != 0) return io_error("cannot sync", path, errno);
  if (::close(fd.release()) != 0) return io_error("cannot close", path, errno);
  return {};
}

Result<fs::path> write_temp_file(const fs::path& dir, std::string_view prefix, ByteView data,
                                 mode_t mode) {
  std::string tmpl = (dir / (std::string(prefix) + "XXXXXX")).string();
  Fd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (fd.get() < 0) return io_error("cannot create a file in", dir, errno);
  const fs::path path = tmpl;
  auto written = [&]() -> Status {
    if (::fchmod(fd.get(), mode) != 0) return io_error("cannot set permissions of", path, errno);
    DOJANG_TRY(write_all(fd.get(), data, path));
    if (::fsync(fd.get()) != 0) return io_error("cannot sync", path, errno);
    if (::close(fd.release()) != 0) return io_error("cannot close", path, errno);
    return {};
  }();
  if (!written.ok()) {
    ::unlink(path.c_str());
    return std::move(written).error();
  }
  return path;
}

Status fsync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return io_error("cannot open folder", dir, errno);
  // Some file systems do not support fsync on folders; that is not a failure.
  if (::fsync(fd.get()) != 0 && errno != EINVAL && errno != ENOTSUP)
    return io_error("cannot sync folder", dir, errno);
  return {};
}

Status make_dirs(const fs::path& dir, mode_t mode) {
  fs::path cur;
  for (const auto& part : dir) {
    cur /= part;
    if (::mkdir(cur.c_str(), mode) == 0) {
      // mkdir honours the umask; make the mode exact.
      if (::chmod(cur.c_str(), mode) != 0) return io_error("cannot set permissions of", cur, errno);
      if (cur.has_parent_path()) DOJANG_TRY(fsync_dir(cur.parent_path()));
      continue;
    }
    if (errno != EEXIST) return io_error("cannot create folder", cur, errno);
    DOJANG_ASSIGN(Kind k, kind_of(cur));
    if (k != Kind::directory) return Error{Errc::io, cur.string() + " exists and is not a folder"};
  }
  return {};
}

Result<fs::path> make_temp_dir(const fs::path& parent, std::string_view prefix) {
  std::string tmpl = (parent / (std::string(prefix) + "XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    return io_error("cannot create a folder in", parent, errno);
  return fs::path(tmpl);
}

Status rename_noreplace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return {};
  int err = errno;
  if (err == EINVAL || err == ENOSYS) {
    // The file system cannot do it atomically: check, then rename (a folder
    // only ever replaces an empty folder, so a racing credential is not lost).
    DOJANG_ASSIGN(Kind k, kind_of(to));
    if (k != Kind::missing) return Error{Errc::already_exists, to.string() + " already exists"};
    if (::rename(from.c_str(), to.c_str()) == 0) return {};
    err = errno;
  }
  if (err == EEXIST || err == ENOTEMPTY)
    return Error{Errc::already_exists, to.string() + " already exists"};
  return io_error("cannot rename into", to, err);
}

Status rename_exchange(const fs::path& a, const fs::path& b) {
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) return {};
  int err = errno;
  if (err != EINVAL && err != ENOSYS) return io_error("cannot swap in", b, err);
  // No atomic exchange on this file system: move b aside, move a to b, and move
  // the old b to a. At every step one complete version is in place or aside
  // (under a dot name, which list() skips).
  DOJANG_ASSIGN(fs::path aside, make_temp_dir(b.parent_path(), ".dojang-old-"));
  ::rmdir(aside.c_str());
  if (::rename(b.c_str(), aside.c_str()) != 0) return io_error("cannot move aside", b, errno);
  if (::rename(a.c_str(), b.c_str()) != 0) {
    err = errno;
    if (::rename(aside.c_str(), b.c_str()) != 0)
      return Error{Errc::io, "cannot rename into " + b.string() + ": " + errno_text(err) +
                                 "; the old version is kept in " + aside.string()};
    return io_error("cannot rename into", b, err);
  }
  if (::rename(aside.c_str(), a.c_str()) != 0) return io_error("cannot move", aside, errno);
  return {};
}

void remove_tree_quietly(const fs::path& p) noexcept {
  std::error_code ec;
  fs::remove_all(p, ec);
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace dojang::wallet::internal
