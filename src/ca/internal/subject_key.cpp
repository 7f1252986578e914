#include "ca/internal/subject_key.hpp"

#include <openssl/asn1t.h>
#include <openssl/ec.h>
#include <openssl/objects.h>

#include <string>

namespace dojang::pki::internal {
template <>
struct Free<EC_POINT> {
  void operator()(EC_POINT* p) const noexcept { ::EC_POINT_free(p); }
};
}  // namespace dojang::pki::internal

namespace dojang::ca::internal {

using pki::internal::drain_errors;
using pki::internal::own;
using pki::internal::Ptr;

namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
constexpr unsigned long kMinRsaExponent = 65537;
constexpr size_t kP256Uncompressed = 65;  // 04 || X || Y
constexpr size_t kP256Compressed = 33;    // 02/03 || X

Error malformed(const std::string& what) {
  pki::internal::clear_errors();
  return Error{Errc::invalid_input, "the public key is not a valid SubjectPublicKeyInfo: " + what};
}

// A positive INTEGER as a BIGNUM; nullptr for a negative one.
Result<Ptr<BIGNUM>> positive(const ASN1_INTEGER* i) {
  if (::ASN1_STRING_type(i) != V_ASN1_INTEGER) return Ptr<BIGNUM>();
  Ptr<BIGNUM> bn = own(::ASN1_INTEGER_to_BN(i, nullptr));
  if (!bn) return Error{Errc::crypto, drain_errors("ASN1_INTEGER_to_BN")};
  if (::BN_is_zero(bn.get())) return Ptr<BIGNUM>();
  return bn;
}

Status check_rsa(const X509_ALGOR* alg, ByteView bits) {
  int ptype = V_ASN1_UNDEF;
  ::X509_ALGOR_get0(nullptr, &ptype, nullptr, alg);
  if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF)
    return malformed("rsaEncryption parameters must be NULL");
  const unsigned char* p = bits.data();
  Ptr<DOJANG_RSA_PUBLIC_KEY> rsa =
      own(d2i_DOJANG_RSA_PUBLIC_KEY(nullptr, &p, static_cast<long>(bits.size())));
  if (!rsa || p != bits.data() + bits.size()) return malformed("bad RSAPublicKey");
  DOJANG_ASSIGN(Ptr<BIGNUM> n, positive(rsa->modulus));
  DOJANG_ASSIGN(Ptr<BIGNUM> e, positive(rsa->exponent));
  if (!n || !e) return malformed("RSA modulus and exponent must be positive");
  int n_bits = ::BN_num_bits(n.get());
  if (n_bits < kMinRsaBits)
    return Error{Errc::policy, "RSA-" + std::to_string(n_bits) +
                                   " subject keys are too weak (at least 2048 bits)"};
  if (n_bits > kMaxRsaBits)
    return Error{Errc::policy, "RSA-" + std::to_string(n_bits) +
                                   " subject keys are not accepted (at most 8192 bits)"};
  if (::BN_is_odd(n.get()) != 1) return malformed("the RSA modulus is even");
  Ptr<BIGNUM> min = own(::BN_new());
  if (!min || ::BN_set_word(min.get(), kMinRsaExponent) != 1)
    return Error{Errc::crypto, drain_errors("BN_set_word")};
  if (::BN_is_odd(e.get()) != 1 || ::BN_cmp(e.get(), min.get()) < 0)
    return Error{Errc::policy, "the RSA public exponent must be odd and at least 65537"};
  if (::BN_cmp(e.get(), n.get()) >= 0)
    return malformed("the RSA exponent is not below the modulus");
  return {};
}

Status check_ec(const X509_ALGOR* alg, ByteView point) {
  int ptype = V_ASN1_UNDEF;
  const void* pval = nullptr;
  ::X509_ALGOR_get0(nullptr, &ptype, &pval, alg);
  if (ptype != V_ASN1_OBJECT)
    return Error{Errc::policy, "EC subject keys must name their curve (P-256)"};
  int curve = ::OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(pval));
  if (curve != NID_X9_62_prime256v1) {
    const char* name = curve != NID_undef ? ::OBJ_nid2sn(curve) : "unknown";
    return Error{Errc::policy, std::string("EC curve ") + name +
                                   " is not accepted for subject keys (P-256 only)"};
  }
  bool uncompressed = point.size() == kP256Uncompressed && point[0] == 0x04;
  bool compressed = point.size() == kP256Compressed && (point[0] == 0x02 || point[0] == 0x03);
  if (!uncompressed && !compressed) return malformed("bad EC P-256 point");
  // On the curve: checked here, from the octets, since the certificate is
  // built from the encoding and never decoded into an EVP_PKEY.
  static const EC_GROUP* const p256 = ::EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  if (p256 == nullptr) return Error{Errc::crypto, drain_errors("EC_GROUP_new_by_curve_name")};
  Ptr<EC_POINT> pt = own(::EC_POINT_new(p256));
  if (!pt) return Error{Errc::crypto, drain_errors("EC_POINT_new")};
  if (::EC_POINT_oct2point(p256, pt.get(), point.data(), point.size(), nullptr) != 1 ||
      ::EC_POINT_is_on_curve(p256, pt.get(), nullptr) != 1)
    return malformed("the EC point is not on the P-256 curve");
  return {};
}

}  // namespace

Result<SubjectKey> parse_subject_key(ByteView spki) {
  if (spki.empty()) return Error{Errc::usage, "the request carries no public key"};
  const unsigned char* p = spki.data();
  Ptr<DOJANG_SPKI> parsed = own(d2i_DOJANG_SPKI(nullptr, &p, static_cast<long>(spki.size())));
  if (!parsed) return malformed("not a SEQUENCE { AlgorithmIdentifier, BIT STRING }");
  if (p != spki.data() + spki.size()) return malformed("trailing bytes");
  const ASN1_BIT_STRING* bs = parsed->public_key;
  if ((bs->flags & ASN1_STRING_FLAG_BITS_LEFT) != 0 && (bs->flags & 0x07) != 0)
    return malformed("subjectPublicKey is not a whole number of octets");
  ByteView bits(::ASN1_STRING_get0_data(bs), static_cast<size_t>(::ASN1_STRING_length(bs)));

  const ASN1_OBJECT* obj = nullptr;
  ::X509_ALGOR_get0(&obj, nullptr, nullptr, parsed->algorithm);
  SubjectKey key;
  switch (::OBJ_obj2nid(obj)) {
    case NID_rsaEncryption:
      DOJANG_TRY(check_rsa(parsed->algorithm, bits));
      key.type = SubjectKeyType::rsa;
      break;
    case NID_X9_62_id_ecPublicKey:
      DOJANG_TRY(check_ec(parsed->algorithm, bits));
      key.type = SubjectKeyType::ec_p256;
      break;
    default: {
      int nid = ::OBJ_obj2nid(obj);
      std::string name = nid != NID_undef ? ::OBJ_nid2sn(nid) : "this";
      return Error{Errc::policy, name +
                                     " subject keys are not accepted (RSA-2048 or stronger, "
                                     "or EC P-256)"};
    }
  }
  key.key_bits.assign(bits.begin(), bits.end());
  return key;
}

Status set_subject_key(X509* x, const SubjectKey& key) {
  X509_PUBKEY* pub = ::X509_get_X509_PUBKEY(x);
  if (pub == nullptr) return Error{Errc::crypto, drain_errors("X509_get_X509_PUBKEY")};
  auto* enc =
      static_cast<unsigned char*>(::OPENSSL_memdup(key.key_bits.data(), key.key_bits.size()));
  if (enc == nullptr) return Error{Errc::crypto, drain_errors("OPENSSL_memdup")};
  Ptr<unsigned char> owner(enc);
  int ok = key.type == SubjectKeyType::rsa
               ? ::X509_PUBKEY_set0_param(pub, ::OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL,
                                          nullptr, enc, static_cast<int>(key.key_bits.size()))
               : ::X509_PUBKEY_set0_param(pub, ::OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                                          V_ASN1_OBJECT, ::OBJ_nid2obj(NID_X9_62_prime256v1), enc,
                                          static_cast<int>(key.key_bits.size()));
  if (ok != 1) return Error{Errc::crypto, drain_errors("X509_PUBKEY_set0_param")};
  owner.release();  // owned by pub
  return {};
}

// clang-format off
ASN1_SEQUENCE(DOJANG_SPKI) = {
    ASN1_SIMPLE(DOJANG_SPKI, algorithm, X509_ALGOR),
    ASN1_SIMPLE(DOJANG_SPKI, public_key, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(DOJANG_SPKI)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_SPKI)

ASN1_SEQUENCE(DOJANG_RSA_PUBLIC_KEY) = {
    ASN1_SIMPLE(DOJANG_RSA_PUBLIC_KEY, modulus, ASN1_INTEGER),
    ASN1_SIMPLE(DOJANG_RSA_PUBLIC_KEY, exponent, ASN1_INTEGER),
} ASN1_SEQUENCE_END(DOJANG_RSA_PUBLIC_KEY)
IMPLEMENT_ASN1_FUNCTIONS(DOJANG_RSA_PUBLIC_KEY)
// clang-format on

}  // namespace dojang::ca::internal
