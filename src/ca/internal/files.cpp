#include "ca/internal/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dojang::ca::internal {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// Closes a file descriptor on scope exit.
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
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace

Result<Bytes> read_file(const fs::path& p, std::size_t max_size) {
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    int err = errno;
    if (err == ENOENT) return Error{Errc::not_found, p.string() + ": missing"};
    return Error{Errc::io, p.string() + ": " + errno_text(err)};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error{Errc::io, p.string() + ": " + errno_text(errno)};
  if (!S_ISREG(st.st_mode)) return Error{Errc::invalid_input, p.string() + ": not a regular file"};
  if (static_cast<std::size_t>(st.st_size) > max_size)
    return Error{Errc::invalid_input, p.string() + ": file too large"};
  Bytes data;
  data.reserve(static_cast<std::size_t>(st.st_size));
  std::uint8_t buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{Errc::io, p.string() + ": " + errno_text(errno)};
    }
    if (n == 0) break;
    if (data.size() + static_cast<std::size_t>(n) > max_size)
      return Error{Errc::invalid_input, p.string() + ": file too large"};
    data.insert(data.end(), buf, buf + n);
  }
  return data;
}

Status write_new_file(const fs::path& p, ByteView data, mode_t mode) {
  Fd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) {
    int err = errno;
    if (err == EEXIST) return Error{Errc::already_exists, p.string() + ": already exists"};
    return Error{Errc::io, p.string() + ": " + errno_text(err)};
  }
  auto fail = [&](int err) -> Status {
    ::close(fd.release());
    ::unlink(p.c_str());
    return Error{Errc::io, p.string() + ": " + errno_text(err)};
  };
  // The umask must not widen or narrow the mode we promise (keys 0600).
  if (::fchmod(fd.get(), mode) != 0) return fail(errno);
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail(errno);
  if (::close(fd.release()) != 0) {
    int err = errno;
    ::unlink(p.c_str());
    return Error{Errc::io, p.string() + ": " + errno_text(err)};
  }
  return {};
}

Status make_dir(const fs::path& p, mode_t mode, bool& created) {
  created = false;
  if (::mkdir(p.c_str(), mode) == 0) {
    created = true;
    if (::chmod(p.c_str(), mode) != 0)
      return Error{Errc::io, p.string() + ": " + errno_text(errno)};
    return {};
  }
  int err = errno;
  struct stat st {};
  if (err == EEXIST && ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
  if (err == EEXIST) return Error{Errc::io, p.string() + ": exists and is not a folder"};
  return Error{Errc::io, p.string() + ": " + errno_text(err)};
}

Status fsync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Error{Errc::io, dir.string() + ": " + errno_text(errno)};
  if (::fsync(fd.get()) != 0) return Error{Errc::io, dir.string() + ": " + errno_text(errno)};
  return {};
}

bool exists_nofollow(const fs::path& p) noexcept {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

}  // namespace dojang::ca::internal
