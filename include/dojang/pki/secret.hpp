// Containers for secrets (passwords, IDNs, derived keys, R) that are wiped
// with OPENSSL_cleanse when they go away.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dojang {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Overwrites memory so the compiler cannot elide it.
void secure_wipe(void* p, std::size_t n) noexcept;

// Move-only byte buffer wiped on destruction.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t n) : b_(n) {}
  explicit SecretBytes(ByteView v) : b_(v.begin(), v.end()) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& o) noexcept : b_(std::move(o.b_)) {}
  SecretBytes& operator=(SecretBytes&& o) noexcept;
  ~SecretBytes() { clear(); }

  std::uint8_t* data() noexcept { return b_.data(); }
  const std::uint8_t* data() const noexcept { return b_.data(); }
  std::size_t size() const noexcept { return b_.size(); }
  bool empty() const noexcept { return b_.empty(); }
  ByteView view() const noexcept { return {b_.data(), b_.size()}; }
  std::uint8_t& operator[](std::size_t i) { return b_[i]; }
  const std::uint8_t& operator[](std::size_t i) const { return b_[i]; }
  // Shrinks the logical size (the wiped tail stays allocated).
  void resize_down(std::size_t n);
  void clear() noexcept;
  SecretBytes clone() const { return SecretBytes(view()); }

 private:
  std::vector<std::uint8_t> b_;
};

// Move-only UTF-8 string wiped on destruction (passwords, IDNs).
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string s) : s_(std::move(s)) {}
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  SecretString(SecretString&& o) noexcept : s_(std::move(o.s_)) {}
  SecretString& operator=(SecretString&& o) noexcept;
  ~SecretString() { clear(); }

  std::string_view view() const noexcept { return s_; }
  const char* data() const noexcept { return s_.data(); }
  std::size_t size() const noexcept { return s_.size(); }
  bool empty() const noexcept { return s_.empty(); }
  ByteView bytes() const noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s_.data()), s_.size()};
  }
  void clear() noexcept;
  SecretString clone() const { return SecretString(s_); }

 private:
  std::string s_;
};

}  // namespace dojang
