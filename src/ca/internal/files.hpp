// POSIX file plumbing for the CA hierarchy folder: bounded reads and durable
// exclusive writes with explicit modes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::ca::internal {

namespace fs = std::filesystem;

// The contents of a regular file of at most max_size bytes. not_found when it
// does not exist, invalid_input when it is not a regular file or too large, io otherwise.
Result<Bytes> read_file(const fs::path& p, std::size_t max_size);

// Creates `p` (which must not exist) with exactly `mode`, writes `data` and fsyncs it.
// Nothing is left behind on failure.
Status write_new_file(const fs::path& p, ByteView data, mode_t mode);

// Creates the folder `p` with `mode`; created=false when it already was a folder.
Status make_dir(const fs::path& p, mode_t mode, bool& created);

// fsyncs a folder so that new entries in it are durable.
Status fsync_dir(const fs::path& dir);

// True when `p` exists (without following a final symbolic link).
bool exists_nofollow(const fs::path& p) noexcept;

}  // namespace dojang::ca::internal
