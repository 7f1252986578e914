#include "dojang/pki/vid.hpp"

#include <openssl/objects.h>

#include <string>

#include "pki/internal/identify_data.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::pki {

using internal::drain_errors;
using internal::own;
using internal::Ptr;

namespace {

constexpr size_t kIdnDigits = 13;
constexpr size_t kIdnDashPosition = 6;
constexpr size_t kHeapReserve = 64;  // > any small-string buffer

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Borrows caller-owned secret bytes into an ASN1_STRING without copying them
// into OpenSSL's heap, and detaches them again before the structure is freed.
class Borrowed {
 public:
  Borrowed(ASN1_STRING* s, const std::uint8_t* data, size_t len) : s_(s) {
    ::ASN1_STRING_set0(s_, const_cast<std::uint8_t*>(data),
                       static_cast<int>(len));  // s had no data
  }
  // ASN1_STRING_set0 would free the borrowed bytes: detach them by hand.
  ~Borrowed() {
    s_->data = nullptr;
    s_->length = 0;
  }
  Borrowed(const Borrowed&) = delete;
  Borrowed& operator=(const Borrowed&) = delete;

 private:
  ASN1_STRING* s_;
};

Result<Ptr<EVP_MD>> vid_md(std::string_view hash_alg) {
  if (internal::vid_hash_nid(hash_alg) == NID_undef)
    return Error{Errc::foreign_format, "unsupported VID hash algorithm '" + std::string(hash_alg) +
                                           "' (want sha256 or sha1)"};
  return internal::fetch_md(hash_alg == "sha256" ? "SHA256" : "SHA1");
}

}  // namespace

Result<SecretString> normalize_idn(std::string_view idn) {
  while (!idn.empty() && is_space(idn.front())) idn.remove_prefix(1);
  while (!idn.empty() && is_space(idn.back())) idn.remove_suffix(1);
  if (idn.empty()) return Error{Errc::usage, "the IDN is empty"};

  size_t count = 0;
  size_t dashes = 0;
  bool bad_char = false;
  bool bad_dash = false;
  for (char c : idn) {
    if (is_digit(c)) {
      ++count;
    } else if (c == '-') {
      ++dashes;
      if (count != kIdnDashPosition) bad_dash = true;
    } else {
      bad_char = true;
    }
  }

  if (bad_char) return Error{Errc::usage, "the IDN may contain only digits and one '-'"};
  if (dashes > 1) return Error{Errc::usage, "the IDN has more than one '-'"};
  if (count != kIdnDigits)
    return Error{Errc::usage, "the IDN must have 13 digits, it has " + std::to_string(count)};
  if (bad_dash) return Error{Errc::usage, "the '-' in an IDN goes after the first 6 digits"};

  // Reserve past the small-string buffer so the digits live on the heap and
  // are moved, never copied, into the SecretString.
  std::string out;
  out.reserve(kHeapReserve);
  for (char c : idn)
    if (is_digit(c)) out.push_back(c);
  return SecretString(std::move(out));
}

Result<Bytes> compute_vid(const SecretString& idn_digits, const SecretBytes& random_num,
                          std::string_view hash_alg) {
  if (idn_digits.empty()) return Error{Errc::usage, "the IDN is empty"};
  for (char c : idn_digits.view())
    if (!is_digit(c)) return Error{Errc::usage, "the IDN for a VID must be digits only"};
  if (random_num.empty()) return Error{Errc::invalid_input, "randomNum (R) is empty"};
  DOJANG_ASSIGN(Ptr<EVP_MD> md, vid_md(hash_alg));

  Ptr<internal::DOJANG_HASH_CONTENT> hc = own(internal::DOJANG_HASH_CONTENT_new());
  if (!hc) return Error{Errc::crypto, drain_errors("HashContent_new")};
  Borrowed idn(hc->idn, idn_digits.bytes().data(), idn_digits.size());
  Borrowed r(hc->random_num, random_num.data(), random_num.size());
  // All of R's bits count, trailing zero bits included: encode "0 unused bits"
  // explicitly (otherwise OpenSSL trims trailing zero octets of a BIT STRING).
  hc->random_num->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  hc->random_num->flags |= ASN1_STRING_FLAG_BITS_LEFT;

  int len = internal::i2d_DOJANG_HASH_CONTENT(hc.get(), nullptr);
  if (len <= 0) return Error{Errc::crypto, drain_errors("encoding HashContent")};
  SecretBytes der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  if (internal::i2d_DOJANG_HASH_CONTENT(hc.get(), &p) != len)
    return Error{Errc::crypto, drain_errors("encoding HashContent")};

  SecretBytes inner(EVP_MAX_MD_SIZE);
  unsigned int inner_len = 0;
  DOJANG_TRY(internal::check(
      ::EVP_Digest(der.data(), der.size(), inner.data(), &inner_len, md.get(), nullptr),
      "hashing HashContent"));
  Bytes vid(EVP_MAX_MD_SIZE);
  unsigned int vid_len = 0;
  DOJANG_TRY(internal::check(
      ::EVP_Digest(inner.data(), inner_len, vid.data(), &vid_len, md.get(), nullptr),
      "hashing HashContent digest"));
  vid.resize(vid_len);
  return vid;
}

Result<bool> verify_vid(const Certificate& cert, const SecretBytes& random_num,
                        const SecretString& idn_digits) {
  DOJANG_ASSIGN(auto identify, internal::read_identify_data(cert.native()));
  if (!identify || !identify->vid) return Error{Errc::not_found, "the certificate carries no VID"};
  if (random_num.empty())
    return Error{Errc::invalid_input,
                 "the private key file holds no randomNum (R) to check the VID with"};
  const CertVid& want = *identify->vid;
  DOJANG_ASSIGN(Bytes got, compute_vid(idn_digits, random_num, want.hash_alg));
  return got.size() == want.virtual_id.size() &&
         ::CRYPTO_memcmp(got.data(), want.virtual_id.data(), got.size()) == 0;
}

Result<Bytes> encode_identify_data(std::string_view real_name, std::string_view hash_alg,
                                   const Bytes& vid) {
  if (real_name.empty()) return Error{Errc::usage, "identifyData needs a real name"};
  if (vid.empty()) return Error{Errc::usage, "identifyData needs a VID"};
  int nid = internal::vid_hash_nid(hash_alg);
  if (nid == NID_undef)
    return Error{Errc::foreign_format, "unsupported VID hash algorithm '" + std::string(hash_alg) +
                                           "' (want sha256 or sha1)"};

  Ptr<internal::DOJANG_IDENTIFY_DATA> id = own(internal::DOJANG_IDENTIFY_DATA_new());
  Ptr<internal::DOJANG_USER_INFO> ui = own(internal::DOJANG_USER_INFO_new());
  if (!id || !ui) return Error{Errc::crypto, drain_errors("IdentifyData_new")};

  if (::ASN1_mbstring_copy(&id->real_name, reinterpret_cast<const unsigned char*>(real_name.data()),
                           static_cast<int>(real_name.size()), MBSTRING_UTF8,
                           B_ASN1_UTF8STRING) < 0)
    return Error{Errc::usage, drain_errors("real name is not valid UTF-8")};

  Ptr<ASN1_OBJECT> id_type = own(::OBJ_txt2obj(internal::kOidVid, 1));
  if (!id_type) return Error{Errc::crypto, drain_errors("OBJ_txt2obj")};
  Ptr<ASN1_OBJECT> previous(ui->id_type);
  ui->id_type = id_type.release();

  // AlgorithmIdentifier with the parameters absent (not NULL).
  DOJANG_TRY(internal::check(
      ::X509_ALGOR_set0(ui->vid->hash_alg, ::OBJ_nid2obj(nid), V_ASN1_UNDEF, nullptr),
      "X509_ALGOR_set0"));
  DOJANG_TRY(internal::check(
      ::ASN1_OCTET_STRING_set(ui->vid->virtual_id, vid.data(), static_cast<int>(vid.size())),
      "ASN1_OCTET_STRING_set"));
  if (internal::sk_DOJANG_USER_INFO_push(id->user_infos, ui.get()) <= 0)
    return Error{Errc::crypto, drain_errors("adding UserInfo")};
  ui.release();  // owned by id->user_infos now

  return internal::to_der(id.get(), internal::i2d_DOJANG_IDENTIFY_DATA, "encoding IdentifyData");
}

}  // namespace dojang::pki
