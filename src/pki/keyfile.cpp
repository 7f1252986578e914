#include "dojang/pki/keyfile.hpp"

#include <openssl/objects.h>

#include <array>
#include <climits>
#include <string>
#include <string_view>

#include "dojang/pki/random.hpp"
#include "pki/internal/ossl.hpp"
#include "pki/internal/pbe.hpp"
#include "pki/internal/pkcs8.hpp"

namespace dojang::pki {

using internal::check;
using internal::clear_errors;
using internal::drain_errors;
using internal::libctx;
using internal::own;
using internal::Ptr;

namespace {

// EncryptedPrivateKeyInfo ::= SEQUENCE {
//   encryptionAlgorithm  AlgorithmIdentifier,
//   encryptedData        OCTET STRING }                   -- X509_SIG
//
// KISA seedCBCWithSHA1 / seedCBC parameters (PBEParameter, RFC 8018 A.3):
//   SEQUENCE { salt OCTET STRING, iterationCount INTEGER } -- PBEPARAM
constexpr char kOidSeedCbcWithSha1[] = "1.2.410.200004.1.15";
constexpr char kOidSeedCbc[] = "1.2.410.200004.1.4";
constexpr char kOidPbes2[] = "1.2.840.113549.1.5.13";
constexpr char kOidPbkdf2[] = "1.2.840.113549.1.5.12";
// PrivateKeyInfo attributes [0] holds
//   Attribute { randomNum 1.2.410.200004.10.1.1.3, SET { BIT STRING } }
using internal::kOidRandomNum;
using internal::OpenedKey;

constexpr std::uint64_t kDefaultSeedIterations = 2048;
constexpr std::uint64_t kDefaultPbes2Iterations = 10000;
constexpr std::size_t kSeedSaltLength = 8;
constexpr std::size_t kPbes2SaltLength = 16;
constexpr std::size_t kSeedKeyLength = 16;
constexpr std::size_t kCbcIvLength = 16;  // every supported cipher has 128-bit blocks

// The fixed IV of the old seedCBC outer algorithm.
constexpr std::string_view kLegacyIv = "0123456789012345";

constexpr char kWrongPassword[] = "wrong password (or the key file is damaged)";
constexpr char kNotDer[] = "key file is truncated or not DER";

struct CipherSpec {
  const char* oid;
  const char* name;  // OpenSSL name, also shown to the user
  std::size_t key_length;
};
constexpr std::array<CipherSpec, 7> kCiphers{{
    {"1.2.410.200004.1.4", "SEED-CBC", 16},
    {"1.2.410.200046.1.1.2", "ARIA-128-CBC", 16},
    {"1.2.410.200046.1.1.7", "ARIA-192-CBC", 24},
    {"1.2.410.200046.1.1.12", "ARIA-256-CBC", 32},
    {"2.16.840.1.101.3.4.1.2", "AES-128-CBC", 16},
    {"2.16.840.1.101.3.4.1.22", "AES-192-CBC", 24},
    {"2.16.840.1.101.3.4.1.42", "AES-256-CBC", 32},
}};

struct PrfSpec {
  const char* oid;
  const char* digest;  // OpenSSL digest name
  const char* kdf;     // shown to the user
};
constexpr PrfSpec kHmacSha1{"1.2.840.113549.2.7", "SHA1", "PBKDF2-HMAC-SHA1"};
constexpr std::array<PrfSpec, 7> kPrfs{{
    kHmacSha1,
    {"1.2.840.113549.2.8", "SHA2-224", "PBKDF2-HMAC-SHA224"},
    {"1.2.840.113549.2.9", "SHA2-256", "PBKDF2-HMAC-SHA256"},
    {"1.2.840.113549.2.10", "SHA2-384", "PBKDF2-HMAC-SHA384"},
    {"1.2.840.113549.2.11", "SHA2-512", "PBKDF2-HMAC-SHA512"},
    {"1.2.840.113549.2.12", "SHA2-512/224", "PBKDF2-HMAC-SHA512/224"},
    {"1.2.840.113549.2.13", "SHA2-512/256", "PBKDF2-HMAC-SHA512/256"},
}};
constexpr char kPbkdf1Sha1[] = "PBKDF1-SHA1";

// Everything a key file says, decoded.
struct ParsedKeyFile {
  KeyFileInfo info;
  Bytes salt;
  const char* cipher = "SEED-CBC";
  std::size_t key_length = kSeedKeyLength;
  const char* prf_digest = "SHA1";  // PBES2 only
  Bytes iv;                         // PBES2 only; the SEED schemes derive or fix theirs
  Bytes ciphertext;
};

std::string dotted(const ASN1_OBJECT* obj) { return internal::dotted_oid(obj); }

bool oid_is(const ASN1_OBJECT* obj, const char* oid) {
  return dotted(obj) == oid;
}

// "1.2.840.113549.1.12.1.3 (pbeWithSHA1And3-KeyTripleDES-CBC)" or just the dotted form.
std::string describe_oid(const ASN1_OBJECT* obj) {
  std::string s = dotted(obj);
  int nid = ::OBJ_obj2nid(obj);
  if (nid != NID_undef) {
    const char* ln = ::OBJ_nid2ln(nid);
    if (ln != nullptr) s += std::string(" (") + ln + ")";
  }
  return s;
}

ByteView view_of(const ASN1_STRING* s) {
  return {::ASN1_STRING_get0_data(s), static_cast<std::size_t>(::ASN1_STRING_length(s))};
}

Result<std::uint64_t> parse_iterations(const ASN1_INTEGER* iter) {
  if (iter == nullptr || ::ASN1_STRING_type(iter) == V_ASN1_NEG_INTEGER)
    return Error{Errc::invalid_input, "key file states a negative iteration count"};
  std::uint64_t n = 0;
  if (::ASN1_INTEGER_get_uint64(&n, iter) != 1) {
    clear_errors();  // beyond 64 bits
    return Error{Errc::foreign_format, "key file states an absurd iteration count (more than " +
                                           std::to_string(kMaxKeyFileIterations) + " refused)"};
  }
  if (n == 0) return Error{Errc::invalid_input, "key file states an iteration count of 0"};
  if (n > kMaxKeyFileIterations)
    return Error{Errc::foreign_format, "key file states " + std::to_string(n) +
                                           " iterations; more than " +
                                           std::to_string(kMaxKeyFileIterations) + " are refused"};
  return n;
}

template <class T>
Ptr<T> unpack_sequence(const ASN1_ITEM* it, const ASN1_TYPE* param) {
  if (param == nullptr) return nullptr;
  Ptr<T> v = own(static_cast<T*>(::ASN1_TYPE_unpack_sequence(it, param)));
  if (!v) clear_errors();
  return v;
}

// seedCBCWithSHA1 and seedCBC: PBEParameter.
Status parse_seed_params(const X509_ALGOR* alg, ParsedKeyFile& out) {
  Ptr<PBEPARAM> pbe = unpack_sequence<PBEPARAM>(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);
  if (!pbe) return Error{Errc::invalid_input, "key file parameters are malformed"};
  ByteView salt = view_of(pbe->salt);
  out.salt.assign(salt.begin(), salt.end());
  DOJANG_ASSIGN(out.info.iterations, parse_iterations(pbe->iter));
  out.info.kdf = kPbkdf1Sha1;
  out.info.cipher = "SEED-CBC";
  out.cipher = "SEED-CBC";
  out.key_length = kSeedKeyLength;
  return {};
}

// PBES2-params ::= SEQUENCE {
//   keyDerivationFunc AlgorithmIdentifier {{PBES2-KDFs}},
//   encryptionScheme  AlgorithmIdentifier {{PBES2-Encs}} }
// PBKDF2-params ::= SEQUENCE {
//   salt CHOICE { specified OCTET STRING, otherSource AlgorithmIdentifier {{PBKDF2-SaltSources}} },
//   iterationCount INTEGER (1..MAX),
//   keyLength INTEGER (1..MAX) OPTIONAL,
//   prf AlgorithmIdentifier {{PBKDF2-PRFs}} DEFAULT algid-hmacWithSHA1 }
Status parse_pbes2_params(const X509_ALGOR* alg, ParsedKeyFile& out) {
  Ptr<PBE2PARAM> pbe2 = unpack_sequence<PBE2PARAM>(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
  if (!pbe2) return Error{Errc::invalid_input, "key file PBES2 parameters are malformed"};
  if (!oid_is(pbe2->keyfunc->algorithm, kOidPbkdf2))
    return Error{Errc::foreign_format, "key file uses an unsupported key derivation function " +
                                           describe_oid(pbe2->keyfunc->algorithm)};
  Ptr<PBKDF2PARAM> kdf =
      unpack_sequence<PBKDF2PARAM>(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter);
  if (!kdf) return Error{Errc::invalid_input, "key file PBKDF2 parameters are malformed"};
  if (kdf->salt == nullptr || kdf->salt->type != V_ASN1_OCTET_STRING)
    return Error{Errc::foreign_format, "key file takes its PBKDF2 salt from another source"};
  ByteView salt = view_of(kdf->salt->value.octet_string);
  out.salt.assign(salt.begin(), salt.end());
  DOJANG_ASSIGN(out.info.iterations, parse_iterations(kdf->iter));

  const PrfSpec* prf = &kHmacSha1;
  if (kdf->prf != nullptr) {
    prf = nullptr;
    for (const PrfSpec& p : kPrfs)
      if (oid_is(kdf->prf->algorithm, p.oid)) prf = &p;
    if (prf == nullptr)
      return Error{Errc::foreign_format,
                   "key file uses an unsupported PBKDF2 PRF " + describe_oid(kdf->prf->algorithm)};
  }
  out.prf_digest = prf->digest;
  out.info.kdf = prf->kdf;

  const CipherSpec* cipher = nullptr;
  for (const CipherSpec& c : kCiphers)
    if (oid_is(pbe2->encryption->algorithm, c.oid)) cipher = &c;
  if (cipher == nullptr)
    return Error{Errc::foreign_format, "key file uses an unsupported cipher " +
                                           describe_oid(pbe2->encryption->algorithm)};
  out.cipher = cipher->name;
  out.info.cipher = cipher->name;
  out.key_length = cipher->key_length;

  if (kdf->keylength != nullptr) {
    std::uint64_t n = 0;
    if (::ASN1_INTEGER_get_uint64(&n, kdf->keylength) != 1 || n != cipher->key_length) {
      clear_errors();
      return Error{Errc::invalid_input,
                   std::string("key file PBKDF2 keyLength does not fit ") + cipher->name};
    }
  }
  // The CBC schemes' parameter is the IV: OCTET STRING (SIZE(16)).
  const ASN1_TYPE* iv = pbe2->encryption->parameter;
  if (iv == nullptr || iv->type != V_ASN1_OCTET_STRING ||
      static_cast<std::size_t>(::ASN1_STRING_length(iv->value.octet_string)) != kCbcIvLength)
    return Error{Errc::invalid_input, std::string("key file ") + cipher->name + " IV is malformed"};
  ByteView ivb = view_of(iv->value.octet_string);
  out.iv.assign(ivb.begin(), ivb.end());
  return {};
}

void describe(KeyFileInfo& info) {
  std::string its = std::to_string(info.iterations) + " iterations";
  switch (info.scheme) {
    case KeyFileScheme::seed_cbc_with_sha1:
      info.description = "seedCBCWithSHA1 (" + info.kdf + ", " + its + ")";
      break;
    case KeyFileScheme::seed_cbc_legacy:
      info.description = "seedCBC (" + info.kdf + ", " + its + ", fixed IV)";
      break;
    case KeyFileScheme::pbes2:
      info.description = "PBES2 (" + info.kdf + ", " + its + ", " + info.cipher + ")";
      break;
  }
}

Result<ParsedKeyFile> parse_key_file(ByteView der) {
  if (der.empty()) return Error{Errc::invalid_input, "key file is empty"};
  if (der.size() > static_cast<std::size_t>(LONG_MAX)) return Error{Errc::invalid_input, kNotDer};
  const unsigned char* p = der.data();
  Ptr<X509_SIG> sig = own(::d2i_X509_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) {
    clear_errors();
    return Error{Errc::invalid_input, kNotDer};
  }
  const X509_ALGOR* alg = nullptr;
  const ASN1_OCTET_STRING* data = nullptr;
  ::X509_SIG_get0(sig.get(), &alg, &data);

  ParsedKeyFile out;
  if (oid_is(alg->algorithm, kOidSeedCbcWithSha1)) {
    out.info.scheme = KeyFileScheme::seed_cbc_with_sha1;
    DOJANG_TRY(parse_seed_params(alg, out));
  } else if (oid_is(alg->algorithm, kOidSeedCbc)) {
    out.info.scheme = KeyFileScheme::seed_cbc_legacy;
    DOJANG_TRY(parse_seed_params(alg, out));
  } else if (oid_is(alg->algorithm, kOidPbes2)) {
    out.info.scheme = KeyFileScheme::pbes2;
    DOJANG_TRY(parse_pbes2_params(alg, out));
  } else {
    return Error{Errc::foreign_format, "key file is encrypted with an unsupported algorithm " +
                                           describe_oid(alg->algorithm)};
  }
  out.info.salt_length = out.salt.size();
  describe(out.info);
  ByteView ct = view_of(data);
  out.ciphertext.assign(ct.begin(), ct.end());
  return out;
}

// Wipes the values of every randomNum attribute of a PrivateKeyInfo when it
// goes out of scope (PKCS8_PRIV_KEY_INFO_free only cleanses the key itself).
class RandomNumWiper {
 public:
  explicit RandomNumWiper(PKCS8_PRIV_KEY_INFO* p8) : p8_(p8) {}
  RandomNumWiper(const RandomNumWiper&) = delete;
  RandomNumWiper& operator=(const RandomNumWiper&) = delete;
  ~RandomNumWiper() { internal::wipe_random_num(::PKCS8_pkey_get0_attrs(p8_)); }

 private:
  PKCS8_PRIV_KEY_INFO* p8_;
};

// Turns the decrypted bytes into a key. Garbage (what a wrong password gives)
// is wrong_password; a PrivateKeyInfo that parses but holds an inconsistent key
// can only be a damaged file.
Result<OpenedKey> open_decrypted(const SecretBytes& plain) {
  const unsigned char* p = plain.data();
  Ptr<PKCS8_PRIV_KEY_INFO> p8 =
      own(::d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(plain.size())));
  if (!p8) {
    clear_errors();
    return Error{Errc::wrong_password, kWrongPassword};
  }
  RandomNumWiper wiper(p8.get());
  if (p != plain.data() + plain.size())
    return Error{Errc::invalid_input, "key file is damaged (bytes after the private key)"};
  return internal::open_private_key_info(p8.get(), "key file");
}

Result<OpenedKey> decrypt_with(const char* cipher, ByteView key, ByteView iv, ByteView ciphertext) {
  DOJANG_ASSIGN(SecretBytes plain, internal::cbc_decrypt(cipher, key, iv, ciphertext));
  return open_decrypted(plain);
}

// seedCBCWithSHA1: DK = PBKDF1-SHA1(password, salt, c); key = DK[0..16];
// IV = SHA1(DK[16..20])[0..16].
Result<SecretBytes> seed_with_sha1_iv(const SecretBytes& dk) {
  DOJANG_ASSIGN(Ptr<EVP_MD> md, internal::fetch_md("SHA1"));
  SecretBytes h(static_cast<std::size_t>(::EVP_MD_get_size(md.get())));
  DOJANG_TRY(check(::EVP_Digest(dk.data() + kSeedKeyLength, dk.size() - kSeedKeyLength, h.data(),
                                nullptr, md.get(), nullptr),
                   "SHA1"));
  h.resize_down(kCbcIvLength);
  return h;
}

Result<OpenedKey> decrypt_parsed(ParsedKeyFile& f, const SecretString& password) {
  ByteView pw = password.bytes();
  switch (f.info.scheme) {
    case KeyFileScheme::seed_cbc_with_sha1: {
      DOJANG_ASSIGN(SecretBytes dk, internal::pbkdf1_sha1(pw, f.salt, f.info.iterations));
      DOJANG_ASSIGN(SecretBytes iv, seed_with_sha1_iv(dk));
      return decrypt_with(f.cipher, dk.view().first(kSeedKeyLength), iv.view(), f.ciphertext);
    }
    case KeyFileScheme::seed_cbc_legacy: {
      ByteView iv(reinterpret_cast<const std::uint8_t*>(kLegacyIv.data()), kLegacyIv.size());
      DOJANG_ASSIGN(SecretBytes dk, internal::pbkdf1_sha1(pw, f.salt, f.info.iterations));
      auto opened = decrypt_with(f.cipher, dk.view().first(kSeedKeyLength), iv, f.ciphertext);
      if (opened.ok() || opened.error().code != Errc::wrong_password) return opened;
      // Some writers derived this key with PBKDF2-HMAC-SHA1 instead.
      DOJANG_ASSIGN(SecretBytes key,
                    internal::pbkdf2(pw, f.salt, f.info.iterations, "SHA1", kSeedKeyLength));
      DOJANG_ASSIGN(OpenedKey k, decrypt_with(f.cipher, key.view(), iv, f.ciphertext));
      f.info.kdf = kHmacSha1.kdf;
      describe(f.info);
      return k;
    }
    case KeyFileScheme::pbes2: {
      DOJANG_ASSIGN(SecretBytes key,
                    internal::pbkdf2(pw, f.salt, f.info.iterations, f.prf_digest, f.key_length));
      return decrypt_with(f.cipher, key.view(), f.iv, f.ciphertext);
    }
  }
  return Error{Errc::crypto, "unknown key file scheme"};
}

// The unencrypted PrivateKeyInfo DER, with R as its randomNum attribute.
Result<SecretBytes> private_key_info(const PrivateKey& key, const SecretBytes* random_num) {
  DOJANG_ASSIGN(Ptr<PKCS8_PRIV_KEY_INFO> p8, internal::make_private_key_info(key, random_num));
  RandomNumWiper wiper(p8.get());
  unsigned char* out = nullptr;
  int len = ::i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &out);
  if (len <= 0) return Error{Errc::crypto, drain_errors("encoding PrivateKeyInfo")};
  SecretBytes der(ByteView(out, static_cast<std::size_t>(len)));
  ::OPENSSL_clear_free(out, static_cast<std::size_t>(len));
  return der;
}

Result<Bytes> encode_encrypted(X509_ALGOR* alg, ByteView ciphertext) {
  Ptr<X509_SIG> sig = own(::X509_SIG_new());
  if (!sig) return Error{Errc::crypto, drain_errors("X509_SIG_new")};
  X509_ALGOR* sig_alg = nullptr;
  ASN1_OCTET_STRING* data = nullptr;
  ::X509_SIG_getm(sig.get(), &sig_alg, &data);
  DOJANG_TRY(check(::X509_ALGOR_copy(sig_alg, alg), "X509_ALGOR_copy"));
  DOJANG_TRY(
      check(::ASN1_OCTET_STRING_set(data, ciphertext.data(), static_cast<int>(ciphertext.size())),
            "ASN1_OCTET_STRING_set"));
  return internal::to_der(sig.get(), ::i2d_X509_SIG, "encoding EncryptedPrivateKeyInfo");
}

Result<Bytes> encrypt_seed_cbc_with_sha1(const SecretBytes& plain, const SecretString& password,
                                         std::uint64_t iterations) {
  DOJANG_ASSIGN(Bytes salt, random_bytes(kSeedSaltLength));
  DOJANG_ASSIGN(SecretBytes dk, internal::pbkdf1_sha1(password.bytes(), salt, iterations));
  DOJANG_ASSIGN(SecretBytes iv, seed_with_sha1_iv(dk));
  DOJANG_ASSIGN(Bytes ct, internal::cbc_encrypt("SEED-CBC", dk.view().first(kSeedKeyLength),
                                                iv.view(), plain.view()));

  Ptr<PBEPARAM> pbe = own(::PBEPARAM_new());
  if (!pbe) return Error{Errc::crypto, drain_errors("PBEPARAM_new")};
  DOJANG_TRY(check(::ASN1_OCTET_STRING_set(pbe->salt, salt.data(), static_cast<int>(salt.size())),
                   "ASN1_OCTET_STRING_set"));
  DOJANG_TRY(check(::ASN1_INTEGER_set_uint64(pbe->iter, iterations), "ASN1_INTEGER_set_uint64"));
  Ptr<ASN1_STRING> params = own(::ASN1_item_pack(pbe.get(), ASN1_ITEM_rptr(PBEPARAM), nullptr));
  if (!params) return Error{Errc::crypto, drain_errors("encoding PBEParameter")};
  Ptr<ASN1_OBJECT> oid = own(::OBJ_txt2obj(kOidSeedCbcWithSha1, 1));
  if (!oid) return Error{Errc::crypto, drain_errors("OBJ_txt2obj")};
  Ptr<X509_ALGOR> alg = own(::X509_ALGOR_new());
  if (!alg) return Error{Errc::crypto, drain_errors("X509_ALGOR_new")};
  DOJANG_TRY(check(::X509_ALGOR_set0(alg.get(), oid.get(), V_ASN1_SEQUENCE, params.get()),
                   "X509_ALGOR_set0"));
  oid.release();  // now owned by alg
  params.release();
  return encode_encrypted(alg.get(), ct);
}

Result<Bytes> encrypt_pbes2(const SecretBytes& plain, const SecretString& password,
                            std::uint64_t iterations, const char* cipher_name) {
  DOJANG_ASSIGN(Ptr<EVP_CIPHER> cipher, internal::fetch_cipher(cipher_name));
  const auto key_length = static_cast<std::size_t>(::EVP_CIPHER_get_key_length(cipher.get()));
  DOJANG_ASSIGN(Bytes salt, random_bytes(kPbes2SaltLength));
  DOJANG_ASSIGN(Bytes iv, random_bytes(kCbcIvLength));
  DOJANG_ASSIGN(SecretBytes key,
                internal::pbkdf2(password.bytes(), salt, iterations, "SHA2-256", key_length));
  DOJANG_ASSIGN(Bytes ct, internal::cbc_encrypt(cipher_name, key.view(), iv, plain.view()));
  // PBES2 { PBKDF2 { salt, iterations, prf hmacWithSHA256 }, <cipher OID> { IV } }
  Ptr<X509_ALGOR> alg = own(::PKCS5_pbe2_set_iv_ex(cipher.get(), static_cast<int>(iterations),
                                                   salt.data(), static_cast<int>(salt.size()),
                                                   iv.data(), NID_hmacWithSHA256, libctx()));
  if (!alg) return Error{Errc::crypto, drain_errors("building the PBES2 parameters")};
  return encode_encrypted(alg.get(), ct);
}

}  // namespace

namespace internal {

std::string dotted_oid(const ASN1_OBJECT* obj) {
  char buf[128];
  int n = ::OBJ_obj2txt(buf, sizeof buf, obj, 1);
  if (n <= 0) return "?";
  return std::string(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

Result<std::optional<SecretBytes>> find_random_num(const STACK_OF(X509_ATTRIBUTE) * attrs,
                                                   std::string_view what) {
  const Error malformed{Errc::invalid_input,
                        std::string(what) + " is damaged (malformed randomNum attribute)"};
  std::optional<SecretBytes> r;
  for (int i = 0; i < sk_X509_ATTRIBUTE_num(attrs); ++i) {
    X509_ATTRIBUTE* a = sk_X509_ATTRIBUTE_value(attrs, i);
    if (!oid_is(::X509_ATTRIBUTE_get0_object(a), kOidRandomNum)) continue;
    if (r.has_value() || ::X509_ATTRIBUTE_count(a) != 1) return malformed;
    const ASN1_TYPE* t = ::X509_ATTRIBUTE_get0_type(a, 0);
    if (t == nullptr || t->type != V_ASN1_BIT_STRING) return malformed;
    const ASN1_BIT_STRING* bits = t->value.bit_string;
    if (bits->length <= 0) return malformed;
    if ((bits->flags & ASN1_STRING_FLAG_BITS_LEFT) != 0 && (bits->flags & 0x07) != 0)
      return malformed;
    r.emplace(view_of(bits));
  }
  return r;
}

void wipe_random_num(const STACK_OF(X509_ATTRIBUTE) * attrs) noexcept {
  for (int i = 0; i < sk_X509_ATTRIBUTE_num(attrs); ++i) {
    X509_ATTRIBUTE* a = sk_X509_ATTRIBUTE_value(attrs, i);
    if (!oid_is(::X509_ATTRIBUTE_get0_object(a), kOidRandomNum)) continue;
    for (int j = 0; j < ::X509_ATTRIBUTE_count(a); ++j) {
      ASN1_TYPE* t = ::X509_ATTRIBUTE_get0_type(a, j);
      if (t != nullptr && t->type != V_ASN1_BOOLEAN && t->type != V_ASN1_NULL &&
          t->type != V_ASN1_OBJECT && t->value.asn1_string != nullptr)
        secure_wipe(t->value.asn1_string->data,
                    static_cast<std::size_t>(t->value.asn1_string->length));
    }
  }
}

void mark_whole_bytes(ASN1_STRING* bits) noexcept {
  bits->flags &= ~0x07L;
  bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
}

Result<Ptr<PKCS8_PRIV_KEY_INFO>> make_private_key_info(const PrivateKey& key,
                                                       const SecretBytes* random_num) {
  Ptr<PKCS8_PRIV_KEY_INFO> p8 = own(::EVP_PKEY2PKCS8(key.native()));
  if (!p8) return Error{Errc::crypto, drain_errors("EVP_PKEY2PKCS8")};
  if (random_num == nullptr) return p8;
  Ptr<ASN1_OBJECT> oid = own(::OBJ_txt2obj(kOidRandomNum, 1));
  if (!oid) return Error{Errc::crypto, drain_errors("OBJ_txt2obj")};
  Ptr<ASN1_STRING> bits = own(::ASN1_BIT_STRING_new());
  if (!bits) return Error{Errc::crypto, drain_errors("ASN1_BIT_STRING_new")};
  struct Wipe {
    ASN1_STRING* s;
    ~Wipe() { secure_wipe(s->data, static_cast<std::size_t>(s->length)); }
  } wipe_bits{bits.get()};
  DOJANG_TRY(check(::ASN1_BIT_STRING_set(bits.get(), const_cast<std::uint8_t*>(random_num->data()),
                                         static_cast<int>(random_num->size())),
                   "ASN1_BIT_STRING_set"));
  // R is a whole number of bytes: say "0 unused bits" explicitly, or the
  // encoder would drop R's trailing zero bits.
  mark_whole_bytes(bits.get());
  Ptr<X509_ATTRIBUTE> attr =
      own(::X509_ATTRIBUTE_create_by_OBJ(nullptr, oid.get(), V_ASN1_BIT_STRING, bits.get(), -1));
  if (!attr) return Error{Errc::crypto, drain_errors("X509_ATTRIBUTE_create_by_OBJ")};
  struct WipeAttr {
    X509_ATTRIBUTE* a;
    ~WipeAttr() {
      for (int j = 0; j < ::X509_ATTRIBUTE_count(a); ++j) {
        ASN1_TYPE* t = ::X509_ATTRIBUTE_get0_type(a, j);
        if (t != nullptr && t->type == V_ASN1_BIT_STRING)
          secure_wipe(t->value.bit_string->data,
                      static_cast<std::size_t>(t->value.bit_string->length));
      }
    }
  } wipe_attr{attr.get()};
  Status added = check(::PKCS8_pkey_add1_attr(p8.get(), attr.get()), "PKCS8_pkey_add1_attr");
  if (!added.ok()) {
    wipe_random_num(::PKCS8_pkey_get0_attrs(p8.get()));
    return std::move(added).error();
  }
  return p8;
}

Result<OpenedKey> open_private_key_info(const PKCS8_PRIV_KEY_INFO* p8, std::string_view what) {
  const std::string damaged = std::string(what) + " is damaged";
  Ptr<EVP_PKEY> pkey = own(::EVP_PKCS82PKEY_ex(p8, libctx(), nullptr));
  if (!pkey) {
    clear_errors();
    return Error{Errc::invalid_input, damaged + " (the private key does not decode)"};
  }
  PrivateKey key = PrivateKey::adopt(pkey.get());
  if (!key.consistent()) {
    clear_errors();
    return Error{Errc::invalid_input, damaged + " (the private key is inconsistent)"};
  }
  clear_errors();
  DOJANG_ASSIGN(std::optional<SecretBytes> r, find_random_num(::PKCS8_pkey_get0_attrs(p8), what));
  return OpenedKey{std::move(key), std::move(r)};
}

}  // namespace internal

const char* key_file_scheme_name(KeyFileScheme scheme) noexcept {
  switch (scheme) {
    case KeyFileScheme::seed_cbc_with_sha1:
      return "seed_cbc_with_sha1";
    case KeyFileScheme::seed_cbc_legacy:
      return "seed_cbc_legacy";
    case KeyFileScheme::pbes2:
      return "pbes2";
  }
  return "unknown";
}

Result<KeyFileInfo> inspect_key_file(ByteView der) {
  DOJANG_ASSIGN(ParsedKeyFile f, parse_key_file(der));
  return std::move(f.info);
}

Result<DecryptedKey> decrypt_key_file(ByteView der, const SecretString& password) {
  DOJANG_ASSIGN(ParsedKeyFile f, parse_key_file(der));
  if (f.ciphertext.empty() || f.ciphertext.size() % kCbcIvLength != 0)
    return Error{Errc::invalid_input,
                 "key file is damaged (the encrypted key is not a whole number of blocks)"};
  DOJANG_ASSIGN(OpenedKey k, decrypt_parsed(f, password));
  return DecryptedKey{std::move(k.key), std::move(k.random_num), std::move(f.info)};
}

Result<Bytes> encrypt_key_file(const PrivateKey& key, const SecretBytes* random_num,
                               const SecretString& password, const KeyFileOptions& options) {
  using Format = KeyFileOptions::Format;
  if (password.empty())
    return Error{Errc::usage, "refusing to encrypt a key with an empty password"};
  if (random_num != nullptr && random_num->empty())
    return Error{Errc::usage, "randomNum must not be empty"};
  if (options.iterations > kMaxKeyFileIterations)
    return Error{Errc::usage, "more than " + std::to_string(kMaxKeyFileIterations) +
                                  " iterations would make the key file unreadable"};
  const bool pbes2 = options.format != Format::seed_cbc_with_sha1;
  std::uint64_t iterations = options.iterations;
  if (iterations == 0) iterations = pbes2 ? kDefaultPbes2Iterations : kDefaultSeedIterations;
  if (pbes2 && iterations < kDefaultPbes2Iterations)
    return Error{Errc::policy, "PBES2 key files need at least " +
                                   std::to_string(kDefaultPbes2Iterations) + " iterations"};

  DOJANG_ASSIGN(SecretBytes plain, private_key_info(key, random_num));
  switch (options.format) {
    case Format::seed_cbc_with_sha1:
      return encrypt_seed_cbc_with_sha1(plain, password, iterations);
    case Format::pbes2_seed:
      return encrypt_pbes2(plain, password, iterations, "SEED-CBC");
    case Format::pbes2_aria:
      return encrypt_pbes2(plain, password, iterations, "ARIA-128-CBC");
  }
  return Error{Errc::usage, "unknown key file format"};
}

}  // namespace dojang::pki
