#include "pki/internal/pbe.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <climits>
#include <string>

#include "pki/internal/ossl.hpp"

namespace dojang::pki::internal {

namespace {

// OSSL_PARAM wants a non-null pointer even for an empty buffer.
unsigned char* param_buf(ByteView v) {
  static unsigned char empty = 0;
  return v.empty() ? &empty : const_cast<unsigned char*>(v.data());
}

Result<Ptr<EVP_CIPHER_CTX>> cbc_init(const char* name, ByteView key, ByteView iv, bool encrypt,
                                     std::size_t input_size) {
  DOJANG_ASSIGN(Ptr<EVP_CIPHER> cipher, fetch_cipher(name));
  if (static_cast<std::size_t>(::EVP_CIPHER_get_key_length(cipher.get())) != key.size() ||
      static_cast<std::size_t>(::EVP_CIPHER_get_iv_length(cipher.get())) != iv.size())
    return Error{Errc::crypto, std::string(name) + ": key or IV of the wrong length"};
  if (input_size > static_cast<std::size_t>(INT_MAX) - 64)
    return Error{Errc::invalid_input, std::string(name) + ": input too large"};
  Ptr<EVP_CIPHER_CTX> ctx = own(::EVP_CIPHER_CTX_new());
  if (!ctx) return Error{Errc::crypto, drain_errors("EVP_CIPHER_CTX_new")};
  DOJANG_TRY(check(::EVP_CipherInit_ex2(ctx.get(), cipher.get(), key.data(), iv.data(),
                                        encrypt ? 1 : 0, nullptr),
                   "EVP_CipherInit_ex2"));
  DOJANG_TRY(check(::EVP_CIPHER_CTX_set_padding(ctx.get(), 1), "EVP_CIPHER_CTX_set_padding"));
  return ctx;
}

}  // namespace

Result<SecretBytes> pbkdf1_sha1(ByteView password, ByteView salt, std::uint64_t iterations) {
  if (iterations == 0) return Error{Errc::invalid_input, "PBKDF1 needs at least one iteration"};
  DOJANG_ASSIGN(Ptr<EVP_MD> md, fetch_md("SHA1"));
  Ptr<EVP_MD_CTX> ctx = own(::EVP_MD_CTX_new());
  if (!ctx) return Error{Errc::crypto, drain_errors("EVP_MD_CTX_new")};
  SecretBytes t(static_cast<std::size_t>(::EVP_MD_get_size(md.get())));
  unsigned int len = 0;
  DOJANG_TRY(check(::EVP_DigestInit_ex2(ctx.get(), md.get(), nullptr), "PBKDF1 init"));
  DOJANG_TRY(
      check(::EVP_DigestUpdate(ctx.get(), password.data(), password.size()), "PBKDF1 update"));
  DOJANG_TRY(check(::EVP_DigestUpdate(ctx.get(), salt.data(), salt.size()), "PBKDF1 update"));
  DOJANG_TRY(check(::EVP_DigestFinal_ex(ctx.get(), t.data(), &len), "PBKDF1 final"));
  for (std::uint64_t i = 1; i < iterations; ++i) {
    // The update copies T_{i-1} into the hash state before final overwrites it.
    if (::EVP_DigestInit_ex2(ctx.get(), nullptr, nullptr) != 1 ||
        ::EVP_DigestUpdate(ctx.get(), t.data(), t.size()) != 1 ||
        ::EVP_DigestFinal_ex(ctx.get(), t.data(), &len) != 1)
      return Error{Errc::crypto, drain_errors("PBKDF1 iteration")};
  }
  return t;
}

Result<SecretBytes> pbkdf2(ByteView password, ByteView salt, std::uint64_t iterations,
                           const char* digest, std::size_t key_length) {
  if (iterations == 0) return Error{Errc::invalid_input, "PBKDF2 needs at least one iteration"};
  Ptr<EVP_KDF> kdf = own(::EVP_KDF_fetch(libctx(), OSSL_KDF_NAME_PBKDF2, nullptr));
  if (!kdf) return Error{Errc::crypto, drain_errors("fetching PBKDF2")};
  Ptr<EVP_KDF_CTX> ctx = own(::EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return Error{Errc::crypto, drain_errors("EVP_KDF_CTX_new")};
  std::uint64_t iter = iterations;
  int pkcs5 = 1;  // RFC 8018 semantics: no SP 800-132 lower bounds on salt and key length
  OSSL_PARAM params[] = {
      ::OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, param_buf(password),
                                          password.size()),
      ::OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, param_buf(salt), salt.size()),
      ::OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter),
      ::OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0),
      ::OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &pkcs5),
      ::OSSL_PARAM_construct_end(),
  };
  SecretBytes out(key_length);
  DOJANG_TRY(check(::EVP_KDF_derive(ctx.get(), out.data(), out.size(), params), "PBKDF2"));
  return out;
}

Result<Bytes> cbc_encrypt(const char* cipher, ByteView key, ByteView iv, ByteView plaintext) {
  DOJANG_ASSIGN(Ptr<EVP_CIPHER_CTX> ctx, cbc_init(cipher, key, iv, true, plaintext.size()));
  Bytes out(plaintext.size() +
            static_cast<std::size_t>(::EVP_CIPHER_CTX_get_block_size(ctx.get())));
  int n = 0;
  int tail = 0;
  DOJANG_TRY(check(::EVP_CipherUpdate(ctx.get(), out.data(), &n, plaintext.data(),
                                      static_cast<int>(plaintext.size())),
                   "encrypting the key"));
  DOJANG_TRY(check(::EVP_CipherFinal_ex(ctx.get(), out.data() + n, &tail), "encrypting the key"));
  out.resize(static_cast<std::size_t>(n + tail));
  return out;
}

Result<SecretBytes> cbc_decrypt(const char* cipher, ByteView key, ByteView iv,
                                ByteView ciphertext) {
  DOJANG_ASSIGN(Ptr<EVP_CIPHER_CTX> ctx, cbc_init(cipher, key, iv, false, ciphertext.size()));
  SecretBytes out(ciphertext.size() +
                  static_cast<std::size_t>(::EVP_CIPHER_CTX_get_block_size(ctx.get())));
  int n = 0;
  int tail = 0;
  DOJANG_TRY(check(::EVP_CipherUpdate(ctx.get(), out.data(), &n, ciphertext.data(),
                                      static_cast<int>(ciphertext.size())),
                   "decrypting the key"));
  if (::EVP_CipherFinal_ex(ctx.get(), out.data() + n, &tail) != 1) {
    clear_errors();  // "bad decrypt": the padding did not check out
    return Error{Errc::wrong_password, "wrong password (or the key file is damaged)"};
  }
  out.resize_down(static_cast<std::size_t>(n + tail));
  return out;
}

}  // namespace dojang::pki::internal
