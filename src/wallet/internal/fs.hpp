// POSIX file-system plumbing for the wallet: bounded reads, durable writes
// (fsync of files and folders), temporary folders and atomic renames.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::wallet::internal {

namespace fs = std::filesystem;

// strerror(err) as a string.
std::string errno_text(int err);

enum class Kind { missing, directory, regular, other };

// What `p` is, following symbolic links (a dangling link is `missing`).
// Errors other than ENOENT/ENOTDIR (ELOOP, EACCES, ...) become io errors.
Result<Kind> kind_of(const fs::path& p);

// The names in a folder, without "." and "..", sorted.
Result<std::vector<std::string>> list_dir(const fs::path& dir);

// The contents of a regular file of at most max_size bytes.
Result<Bytes> read_file(const fs::path& p, std::size_t max_size);

// Creates `path` (which must not exist) with `mode`, writes `data` and fsyncs it.
Status write_new_file(const fs::path& path, ByteView data, mode_t mode);

// Creates a fresh file dir/prefixXXXXXX with `mode`, writes `data`, fsyncs and
// closes it; returns its path. Nothing is left behind on failure.
Result<fs::path> write_temp_file(const fs::path& dir, std::string_view prefix, ByteView data,
                                 mode_t mode);

// fsyncs a folder so that renames and new entries in it are durable.
Status fsync_dir(const fs::path& dir);

// Creates every missing folder of `dir` with `mode`.
Status make_dirs(const fs::path& dir, mode_t mode);

// mkdtemp(parent/prefixXXXXXX): a fresh 0700 folder.
Result<fs::path> make_temp_dir(const fs::path& parent, std::string_view prefix);

// Renames `from` to `to`, failing with already_exists when `to` exists.
Status rename_noreplace(const fs::path& from, const fs::path& to);

// Atomically swaps two existing paths (both stay present at every instant).
Status rename_exchange(const fs::path& a, const fs::path& b);

// Removes a folder tree, ignoring errors (cleanup on failure paths).
void remove_tree_quietly(const fs::path& p) noexcept;

// Removes `p` on destruction unless release()d.
class TreeGuard {
 public:
  explicit TreeGuard(fs::path p) : p_(std::move(p)) {}
  ~TreeGuard() {
    if (!p_.empty()) remove_tree_quietly(p_);
  }
  TreeGuard(const TreeGuard&) = delete;
  TreeGuard& operator=(const TreeGuard&) = delete;
  void release() { p_.clear(); }

 private:
  fs::path p_;
};

// ASCII lowercase.
std::string lower_ascii(std::string_view s);

}  // namespace dojang::wallet::internal
