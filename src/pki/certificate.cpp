#include "dojang/pki/certificate.hpp"

#include <openssl/objects.h>
#include <openssl/pem.h>

#include <cctype>
#include <ctime>
#include <limits>
#include <string_view>

#include "pki/internal/identify_data.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::pki {

using internal::drain_errors;
using internal::libctx;
using internal::own;
using internal::Ptr;

namespace {

std::shared_ptr<x509_st> share(X509* p) {
  return {p, ::X509_free};
}

// Owns a NUL-terminated string allocated by OpenSSL (BN_bn2hex, BN_bn2dec).
struct OsslStringFree {
  void operator()(char* p) const noexcept { ::OPENSSL_free(p); }
};
using OsslString = std::unique_ptr<char, OsslStringFree>;

// RFC 2253 section 2.4: a backslash before , + " \ < > ; and before a leading
// '#' or space or a trailing space; also before '=' (an escape RFC 4514 allows)
// so that a folder name splits unambiguously. Control characters become \XX;
// the UTF-8 bytes of non-ASCII characters stay as they are.
std::string escape_rfc2253(std::string_view v) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' ||
                   c == ';' || c == '=';
    bool edge = (i == 0 && (c == '#' || c == ' ')) || (i + 1 == v.size() && c == ' ');
    if (c < 0x20 || c == 0x7f) {
      out += '\\';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else if (special || edge) {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// One attribute value as RFC 2253 text: the string converted to UTF-8, or
// "#" and the hex of its DER when it is not a decodable string.
std::string ava_value(const X509_NAME_ENTRY* e) {
  const ASN1_STRING* data = ::X509_NAME_ENTRY_get_data(e);
  if (auto utf8 = internal::to_utf8(data)) return escape_rfc2253(*utf8);
  std::string out = "#";
  ASN1_TYPE t{};
  t.type = ::ASN1_STRING_type(data);
  t.value.asn1_string = const_cast<ASN1_STRING*>(data);
  unsigned char* der = nullptr;
  int n = ::i2d_ASN1_TYPE(&t, &der);
  if (n <= 0) {
    internal::clear_errors();
    return out;
  }
  Ptr<unsigned char> owner(der);
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < n; ++i) {
    out += hex[der[i] >> 4];
    out += hex[der[i] & 15];
  }
  return out;
}

// Lowercase short name of an attribute type ("cn", "ou", "o", "c"), or the
// dotted OID for types OpenSSL has no name for.
std::string ava_type(const X509_NAME_ENTRY* e) {
  const ASN1_OBJECT* obj = ::X509_NAME_ENTRY_get_object(e);
  int nid = ::OBJ_obj2nid(obj);
  if (nid == NID_undef) return internal::oid_text(obj);
  std::string sn = ::OBJ_nid2sn(nid);
  for (char& c : sn) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return sn;
}

// The name as one line, most specific RDN first (the reverse of the DER
// order), lowercase attribute types: the form NPKI folder names use,
// e.g. "cn=홍길동()0012345678901234,ou=WOORI,ou=personal4IB,o=yessign,c=kr".
std::string name_line(const X509_NAME* name) {
  std::string out;
  int n = ::X509_NAME_entry_count(name);
  for (int i = n - 1; i >= 0; --i) {
    const X509_NAME_ENTRY* e = ::X509_NAME_get_entry(name, i);
    if (i != n - 1) {
      const X509_NAME_ENTRY* prev = ::X509_NAME_get_entry(name, i + 1);
      out += ::X509_NAME_ENTRY_set(prev) == ::X509_NAME_ENTRY_set(e) ? "+" : ",";
    }
    out += ava_type(e);
    out += '=';
    out += ava_value(e);
  }
  return out;
}

// The subject's commonName (the last, most specific one), unescaped UTF-8.
std::string common_name(const X509_NAME* name) {
  int idx = -1;
  for (int i = ::X509_NAME_get_index_by_NID(name, NID_commonName, -1); i >= 0;
       i = ::X509_NAME_get_index_by_NID(name, NID_commonName, i))
    idx = i;
  if (idx < 0) return {};
  const ASN1_STRING* data = ::X509_NAME_ENTRY_get_data(::X509_NAME_get_entry(name, idx));
  return internal::to_utf8(data).value_or(std::string{});
}


// Lowercase hex without leading zeros ("-" first for a negative serial).
std::string serial_hex(const BIGNUM* bn) {
  OsslString hex(::BN_bn2hex(bn));
  if (!hex) {
    internal::clear_errors();
    return {};
  }
  std::string s(hex.get());
  std::string sign;
  if (!s.empty() && s[0] == '-') {
    sign = "-";
    s.erase(0, 1);
  }
  size_t nz = s.find_first_not_of('0');
  s = nz == std::string::npos ? "0" : s.substr(nz);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return sign + s;
}

std::string serial_dec(const BIGNUM* bn) {
  OsslString dec(::BN_bn2dec(bn));
  if (!dec) {
    internal::clear_errors();
    return {};
  }
  return dec.get();
}

}  // namespace

Result<Certificate> Certificate::from_der(ByteView der) {
  if (der.empty()) return Error{Errc::invalid_input, "certificate file is empty"};
  Ptr<X509> x = own(::X509_new_ex(libctx(), nullptr));
  if (!x) return Error{Errc::crypto, drain_errors("X509_new_ex")};
  const unsigned char* p = der.data();
  X509* raw = x.get();
  if (::d2i_X509(&raw, &p, static_cast<long>(der.size())) == nullptr) {
    x.release();  // d2i_X509 freed *raw on failure
    return Error{Errc::invalid_input, drain_errors("not a DER X.509 certificate")};
  }
  if (p != der.data() + der.size())
    return Error{Errc::invalid_input, "certificate has trailing bytes after the DER structure"};
  return Certificate(share(x.release()));
}

namespace {

// The CERTIFICATE blocks of a PEM text, each parsed; stops after the first when only_first.
Result<std::vector<Certificate>> pem_certificates(ByteView pem, bool only_first) {
  Ptr<BIO> bio = own(::BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error{Errc::crypto, drain_errors("BIO_new_mem_buf")};
  std::vector<Certificate> out;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (::PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      internal::clear_errors();
      if (out.empty()) return Error{Errc::invalid_input, "no PEM CERTIFICATE block found"};
      return out;
    }
    Ptr<unsigned char> owner(data);
    bool is_cert = std::string_view(name) == "CERTIFICATE";
    ::OPENSSL_free(name);
    ::OPENSSL_free(header);
    if (!is_cert) continue;
    DOJANG_ASSIGN(Certificate c, Certificate::from_der(ByteView(data, static_cast<size_t>(len))));
    out.push_back(std::move(c));
    if (only_first) return out;
  }
}

}  // namespace

Result<Certificate> Certificate::from_pem(ByteView pem) {
  DOJANG_ASSIGN(std::vector<Certificate> certs, pem_certificates(pem, true));
  return certs.front();
}

Result<std::vector<Certificate>> certificates_from(ByteView pem_or_der) {
  if (!pem_or_der.empty() && pem_or_der.front() == 0x30) {
    DOJANG_ASSIGN(Certificate c, Certificate::from_der(pem_or_der));
    return std::vector<Certificate>{std::move(c)};
  }
  return pem_certificates(pem_or_der, false);
}

Certificate Certificate::adopt(x509_st* cert) {
  ::X509_up_ref(cert);
  return Certificate(share(cert));
}

Result<Bytes> Certificate::der() const {
  return internal::to_der(c_.get(), ::i2d_X509, "encoding certificate");
}

Result<Bytes> Certificate::public_key_der() const {
  // The SubjectPublicKeyInfo as the certificate encodes it: no key decoding.
  return internal::to_der(::X509_get_X509_PUBKEY(c_.get()), ::i2d_X509_PUBKEY,
                          "encoding SubjectPublicKeyInfo");
}

std::string Certificate::subject() const {
  return name_line(::X509_get_subject_name(c_.get()));
}

Result<Validity> Certificate::validity() const {
  auto nb = internal::time_of(::X509_get0_notBefore(c_.get()));
  auto na = internal::time_of(::X509_get0_notAfter(c_.get()));
  if (!nb || !na) return Error{Errc::invalid_input, "certificate validity dates are malformed"};
  return Validity{*nb, *na};
}

namespace {
// The subject public key as an EVP_PKEY: the one OpenSSL decoded with the
// certificate or, for a certificate the CA has just built (which carries the
// key's encoding only), decoded now from that encoding.
struct SubjectPublicKey {
  const EVP_PKEY* key = nullptr;
  Ptr<EVP_PKEY> decoded;
};
SubjectPublicKey subject_public_key(const X509* x) {
  SubjectPublicKey out;
  out.key = ::X509_get0_pubkey(x);
  if (out.key != nullptr) return out;
  internal::clear_errors();
  unsigned char* der = nullptr;
  int n = ::i2d_X509_PUBKEY(::X509_get_X509_PUBKEY(x), &der);
  if (n <= 0) {
    internal::clear_errors();
    return out;
  }
  Ptr<unsigned char> owner(der);
  const unsigned char* p = der;
  out.decoded = own(::d2i_PUBKEY_ex(nullptr, &p, n, libctx(), nullptr));
  internal::clear_errors();
  out.key = out.decoded.get();
  return out;
}
}  // namespace

bool Certificate::matches(const PrivateKey& key) const {
  SubjectPublicKey spk = subject_public_key(c_.get());
  const EVP_PKEY* pub = spk.key;
  if (pub == nullptr || key.native() == nullptr) return false;
  int eq = ::EVP_PKEY_eq(pub, key.native());
  internal::clear_errors();
  return eq == 1;
}

Result<CertificateInfo> Certificate::info() const {
  const X509* x = c_.get();
  CertificateInfo info;
  info.subject = name_line(::X509_get_subject_name(x));
  info.issuer = name_line(::X509_get_issuer_name(x));
  info.cn = common_name(::X509_get_subject_name(x));

  Ptr<BIGNUM> serial = own(::ASN1_INTEGER_to_BN(::X509_get0_serialNumber(x), nullptr));
  if (!serial) return Error{Errc::invalid_input, drain_errors("certificate serial number")};
  info.serial_hex = serial_hex(serial.get());
  info.serial_dec = serial_dec(serial.get());

  auto nb = internal::time_of(::X509_get0_notBefore(x));
  auto na = internal::time_of(::X509_get0_notAfter(x));
  if (!nb || !na) return Error{Errc::invalid_input, "certificate validity dates are malformed"};
  info.not_before = *nb;
  info.not_after = *na;

  DOJANG_ASSIGN(auto identify, internal::read_identify_data(x));
  if (identify) {
    info.real_name = std::move(identify->real_name);
    info.vid = std::move(identify->vid);
  }

  int crit = 0;
  Ptr<CERTIFICATEPOLICIES> policies = own(static_cast<CERTIFICATEPOLICIES*>(
      ::X509_get_ext_d2i(x, NID_certificate_policies, &crit, nullptr)));
  if (policies) {
    for (int i = 0; i < sk_POLICYINFO_num(policies.get()); ++i)
      info.policies.push_back(
          lookup_policy(internal::oid_text(sk_POLICYINFO_value(policies.get(), i)->policyid)));
  } else if (crit == -2) {
    internal::clear_errors();
    return Error{Errc::invalid_input,
                 "certificate has more than one certificatePolicies extension"};
  } else if (crit != -1) {
    return Error{Errc::invalid_input, drain_errors("certificatePolicies extension is malformed")};
  } else {
    internal::clear_errors();
  }

  SubjectPublicKey spk = subject_public_key(x);
  if (const EVP_PKEY* pub = spk.key; pub != nullptr) {
    const char* type = ::EVP_PKEY_get0_type_name(pub);
    info.key_algorithm = std::string(type != nullptr ? type : "unknown") + "-" +
                         std::to_string(::EVP_PKEY_get_bits(pub));
  } else {
    internal::clear_errors();
    info.key_algorithm = "unknown";
  }
  int sig_nid = ::X509_get_signature_nid(x);
  if (sig_nid != NID_undef) {
    info.signature_algorithm = ::OBJ_nid2ln(sig_nid);
  } else {
    const X509_ALGOR* alg = nullptr;
    ::X509_get0_signature(nullptr, &alg, x);
    const ASN1_OBJECT* obj = nullptr;
    if (alg != nullptr) ::X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
    info.signature_algorithm = internal::oid_text(obj);
  }
  return info;
}

long Certificate::days_left(const Clock& clock) const {
  auto na = internal::time_of(::X509_get0_notAfter(c_.get()));
  if (!na) return std::numeric_limits<long>::min();  // unreadable: treat as long expired
  auto left = std::chrono::duration_cast<std::chrono::seconds>(*na - clock.now()).count();
  constexpr long long kDay = 24 * 60 * 60;
  long long days = left / kDay;
  if (left % kDay != 0 && left < 0) --days;  // floor: one second past notAfter is day -1
  return static_cast<long>(days);
}

bool Certificate::expired(const Clock& clock) const {
  auto na = internal::time_of(::X509_get0_notAfter(c_.get()));
  return !na || clock.now() > *na;
}

}  // namespace dojang::pki
