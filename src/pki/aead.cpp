#include "dojang/pki/aead.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <limits>

#include "dojang/pki/random.hpp"
#include "pki/internal/ossl.hpp"
#include "pki/internal/pbe.hpp"

namespace dojang::pki {

using internal::check;
using internal::drain_errors;
using internal::own;
using internal::Ptr;

namespace {

constexpr auto kMaxChunk = static_cast<std::size_t>(std::numeric_limits<int>::max());

Status check_key(ByteView key) {
  if (key.size() != kAeadKeySize)
    return Error{Errc::usage, "an AES-256-GCM key has 32 bytes, not " + std::to_string(key.size())};
  return {};
}

Status check_sizes(ByteView a, ByteView b) {
  if (a.size() > kMaxChunk || b.size() > kMaxChunk)
    return Error{Errc::usage, "AES-GCM input larger than 2 GiB"};
  return {};
}

Result<Ptr<EVP_CIPHER_CTX>> new_ctx() {
  Ptr<EVP_CIPHER_CTX> ctx = own(::EVP_CIPHER_CTX_new());
  if (!ctx) return Error{Errc::crypto, drain_errors("EVP_CIPHER_CTX_new")};
  return ctx;
}

}  // namespace

Result<Bytes> seal(ByteView key32, ByteView plaintext, ByteView aad) {
  DOJANG_TRY(check_key(key32));
  DOJANG_TRY(check_sizes(plaintext, aad));
  DOJANG_ASSIGN(Ptr<EVP_CIPHER> cipher, internal::fetch_cipher("AES-256-GCM"));
  DOJANG_ASSIGN(Ptr<EVP_CIPHER_CTX> ctx, new_ctx());

  Bytes out(kAeadNonceSize + plaintext.size() + kAeadTagSize);
  std::uint8_t* nonce = out.data();
  std::uint8_t* body = nonce + kAeadNonceSize;
  std::uint8_t* tag = body + plaintext.size();
  DOJANG_TRY(random_bytes(std::span<std::uint8_t>(nonce, kAeadNonceSize)));

  DOJANG_TRY(check(::EVP_EncryptInit_ex2(ctx.get(), cipher.get(), key32.data(), nonce, nullptr),
                   "AES-GCM encrypt init"));
  int len = 0;
  if (!aad.empty())
    DOJANG_TRY(check(
        ::EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())),
        "AES-GCM aad"));
  if (!plaintext.empty())
    DOJANG_TRY(check(::EVP_EncryptUpdate(ctx.get(), body, &len, plaintext.data(),
                                         static_cast<int>(plaintext.size())),
                     "AES-GCM encrypt"));
  DOJANG_TRY(check(::EVP_EncryptFinal_ex(ctx.get(), tag, &len), "AES-GCM encrypt final"));
  DOJANG_TRY(check(
      ::EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kAeadTagSize), tag),
      "AES-GCM tag"));
  return out;
}

Result<SecretBytes> open(ByteView key32, ByteView sealed, ByteView aad) {
  DOJANG_TRY(check_key(key32));
  DOJANG_TRY(check_sizes(sealed, aad));
  if (sealed.size() < kAeadOverhead) return Error{Errc::invalid_input, "sealed data is truncated"};
  DOJANG_ASSIGN(Ptr<EVP_CIPHER> cipher, internal::fetch_cipher("AES-256-GCM"));
  DOJANG_ASSIGN(Ptr<EVP_CIPHER_CTX> ctx, new_ctx());

  const std::size_t body_size = sealed.size() - kAeadOverhead;
  const std::uint8_t* nonce = sealed.data();
  const std::uint8_t* body = nonce + kAeadNonceSize;
  // EVP_CTRL_AEAD_SET_TAG takes a non-const pointer; copy the tag.
  std::uint8_t tag[kAeadTagSize];
  std::copy_n(body + body_size, kAeadTagSize, tag);

  SecretBytes out(body_size);
  DOJANG_TRY(check(::EVP_DecryptInit_ex2(ctx.get(), cipher.get(), key32.data(), nonce, nullptr),
                   "AES-GCM decrypt init"));
  int len = 0;
  if (!aad.empty())
    DOJANG_TRY(check(
        ::EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())),
        "AES-GCM aad"));
  if (body_size != 0)
    DOJANG_TRY(
        check(::EVP_DecryptUpdate(ctx.get(), out.data(), &len, body, static_cast<int>(body_size)),
              "AES-GCM decrypt"));
  DOJANG_TRY(check(
      ::EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kAeadTagSize), tag),
      "AES-GCM tag"));
  std::uint8_t final_block[16];
  if (::EVP_DecryptFinal_ex(ctx.get(), final_block, &len) != 1) {
    internal::clear_errors();
    return Error{Errc::invalid_input,
                 "sealed data does not authenticate (tampered, or another key)"};
  }
  return out;
}

Result<Bytes> hmac_sha256(ByteView key, ByteView data) {
  Bytes out(32);
  std::size_t out_len = 0;
  // EVP_Q_mac rejects a NULL key even when its length is 0.
  static const std::uint8_t kEmpty = 0;
  const std::uint8_t* k = key.empty() ? &kEmpty : key.data();
  if (::EVP_Q_mac(internal::libctx(), "HMAC", nullptr, "SHA256", nullptr, k, key.size(),
                  data.data(), data.size(), out.data(), out.size(), &out_len) == nullptr ||
      out_len != out.size())
    return Error{Errc::crypto, drain_errors("HMAC-SHA256")};
  return out;
}

Result<Bytes> sha256(ByteView data) {
  Bytes out(32);
  std::size_t out_len = 0;
  if (::EVP_Q_digest(internal::libctx(), "SHA256", nullptr, data.data(), data.size(), out.data(),
                     &out_len) != 1 ||
      out_len != out.size())
    return Error{Errc::crypto, drain_errors("SHA-256")};
  return out;
}

Result<SecretBytes> pbkdf2_sha256(const SecretString& passphrase, ByteView salt,
                                  std::uint32_t iterations, std::size_t length) {
  if (salt.empty() || iterations == 0 || length == 0)
    return Error{Errc::usage, "PBKDF2 needs a salt, an iteration count and a length"};
  return internal::pbkdf2(passphrase.bytes(), salt, iterations, "SHA256", length);
}

}  // namespace dojang::pki
