#include "dojang/pki/pkcs12.hpp"

#include <openssl/objects.h>

#include <climits>
#include <string>
#include <string_view>

#include "pki/internal/ossl.hpp"
#include "pki/internal/pkcs8.hpp"

namespace dojang::pki {

using internal::check;
using internal::clear_errors;
using internal::drain_errors;
using internal::libctx;
using internal::own;
using internal::Ptr;

namespace {

// RFC 7292 §4:
//   PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }
//   AuthenticatedSafe ::= SEQUENCE OF ContentInfo  -- data, encryptedData or envelopedData
//   SafeContents ::= SEQUENCE OF SafeBag
//   SafeBag ::= SEQUENCE { bagId, bagValue [0] EXPLICIT ANY, bagAttributes SET OF PKCS12Attribute OPTIONAL }
constexpr std::uint32_t kModernIterations = 10000;
constexpr std::uint32_t kLegacyIterations = 2048;  // PKCS12_DEFAULT_ITER, what openssl writes
constexpr std::string_view kWhat = ".pfx file";
constexpr char kWrongPassword[] = "wrong password (or the .pfx file is damaged)";

// Wipes the randomNum bag attributes of every bag of a stack before it is freed.
struct BagsWiper {
  const STACK_OF(PKCS12_SAFEBAG) * bags;
  ~BagsWiper() {
    for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i)
      internal::wipe_random_num(::PKCS12_SAFEBAG_get0_attrs(sk_PKCS12_SAFEBAG_value(bags, i)));
  }
};

Result<Bytes> local_key_id(const Certificate& cert) {
  DOJANG_ASSIGN(Ptr<EVP_MD> sha1, internal::fetch_md("SHA1"));
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  DOJANG_TRY(check(::X509_digest(cert.native(), sha1.get(), buf, &len), "X509_digest"));
  return Bytes(buf, buf + len);
}

Status label(PKCS12_SAFEBAG* bag, const std::string& name, const Bytes& key_id) {
  if (!name.empty())
    DOJANG_TRY(check(::PKCS12_add_friendlyname_utf8(bag, name.c_str(), -1), "PKCS12_add_friendlyname"));
  if (!key_id.empty())
    DOJANG_TRY(check(::PKCS12_add_localkeyid(bag, const_cast<unsigned char*>(key_id.data()),
                                             static_cast<int>(key_id.size())),
                     "PKCS12_add_localkeyid"));
  return {};
}

Status add_cert_bag(STACK_OF(PKCS12_SAFEBAG) * bags, const Certificate& cert,
                    const std::string& name, const Bytes& key_id) {
  Ptr<PKCS12_SAFEBAG> bag = own(::PKCS12_SAFEBAG_create_cert(cert.native()));
  if (!bag) return Error{Errc::crypto, drain_errors("PKCS12_SAFEBAG_create_cert")};
  DOJANG_TRY(label(bag.get(), name, key_id));
  if (sk_PKCS12_SAFEBAG_push(bags, bag.get()) <= 0)
    return Error{Errc::crypto, drain_errors("sk_PKCS12_SAFEBAG_push")};
  (void)bag.release();
  return {};
}

// A pkcs8ShroudedKeyBag holding the key's PrivateKeyInfo (with R as its
// randomNum attribute), plus R as a bag attribute when r_bag_attribute.
Status add_key_bag(STACK_OF(PKCS12_SAFEBAG) * bags, const Pkcs12Pair& pair,
                   const SecretString& password, int pbe_nid, int iterations,
                   bool r_bag_attribute, const std::string& name, const Bytes& key_id) {
  const SecretBytes* r = pair.random_num ? &*pair.random_num : nullptr;
  DOJANG_ASSIGN(Ptr<PKCS8_PRIV_KEY_INFO> p8, internal::make_private_key_info(pair.key, r));
  struct P8Wiper {
    PKCS8_PRIV_KEY_INFO* p;
    ~P8Wiper() { internal::wipe_random_num(::PKCS8_pkey_get0_attrs(p)); }
  } p8_wiper{p8.get()};
  Ptr<PKCS12_SAFEBAG> bag = own(::PKCS12_SAFEBAG_create_pkcs8_encrypt_ex(
      pbe_nid, password.data(), static_cast<int>(password.size()), nullptr, 0, iterations,
      p8.get(), libctx(), nullptr));
  if (!bag) return Error{Errc::crypto, drain_errors("encrypting the private key bag")};
  struct BagWiper {  // until the stack owns the bag (its owner wipes it then)
    PKCS12_SAFEBAG* b;
    ~BagWiper() {
      if (b != nullptr) internal::wipe_random_num(::PKCS12_SAFEBAG_get0_attrs(b));
    }
  } bag_wiper{bag.get()};
  DOJANG_TRY(label(bag.get(), name, key_id));
  if (r != nullptr && r_bag_attribute) {
    DOJANG_TRY(check(::PKCS12_add1_attr_by_txt(bag.get(), internal::kOidRandomNum, V_ASN1_BIT_STRING,
                                               r->data(), static_cast<int>(r->size())),
                     "adding the randomNum bag attribute"));
    // The attribute was made from raw bytes: say "0 unused bits" so R's
    // trailing zero bits survive encoding.
    const STACK_OF(X509_ATTRIBUTE)* attrs = ::PKCS12_SAFEBAG_get0_attrs(bag.get());
    for (int i = 0; i < sk_X509_ATTRIBUTE_num(attrs); ++i) {
      X509_ATTRIBUTE* a = sk_X509_ATTRIBUTE_value(attrs, i);
      if (internal::dotted_oid(::X509_ATTRIBUTE_get0_object(a)) != internal::kOidRandomNum) continue;
      ASN1_TYPE* t = ::X509_ATTRIBUTE_get0_type(a, 0);
      if (t != nullptr && t->type == V_ASN1_BIT_STRING) internal::mark_whole_bytes(t->value.bit_string);
    }
  }
  if (sk_PKCS12_SAFEBAG_push(bags, bag.get()) <= 0)
    return Error{Errc::crypto, drain_errors("sk_PKCS12_SAFEBAG_push")};
  bag_wiper.b = nullptr;
  (void)bag.release();
  return {};
}

// Refuses PBE parameters that would keep the reader busy for hours.
Status check_iterations(const ASN1_INTEGER* iter) {
  if (iter == nullptr) return {};  // DEFAULT 1
  std::uint64_t n = 0;
  if (::ASN1_STRING_type(iter) == V_ASN1_NEG_INTEGER || ::ASN1_INTEGER_get_uint64(&n, iter) != 1) {
    clear_errors();
    return Error{Errc::invalid_input, ".pfx file states an invalid iteration count"};
  }
  if (n > kMaxPkcs12Iterations)
    return Error{Errc::foreign_format, ".pfx file states " + std::to_string(n) +
                                           " iterations; more than " +
                                           std::to_string(kMaxPkcs12Iterations) + " are refused"};
  return {};
}

template <class T>
Ptr<T> unpack(const ASN1_ITEM* it, const ASN1_TYPE* param) {
  if (param == nullptr || param->type != V_ASN1_SEQUENCE) return nullptr;
  Ptr<T> v = own(static_cast<T*>(::ASN1_TYPE_unpack_sequence(it, param)));
  if (!v) clear_errors();
  return v;
}

Status check_pbe(const X509_ALGOR* alg) {
  if (alg == nullptr) return Error{Errc::invalid_input, ".pfx file is damaged (no encryption algorithm)"};
  if (::OBJ_obj2nid(alg->algorithm) == NID_pbes2) {
    Ptr<PBE2PARAM> pbe2 = unpack<PBE2PARAM>(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
    if (!pbe2 || pbe2->keyfunc == nullptr)
      return Error{Errc::invalid_input, ".pfx file has malformed PBES2 parameters"};
    if (::OBJ_obj2nid(pbe2->keyfunc->algorithm) != NID_id_pbkdf2)
      return Error{Errc::foreign_format, ".pfx file uses an unsupported key derivation " +
                                             internal::dotted_oid(pbe2->keyfunc->algorithm)};
    Ptr<PBKDF2PARAM> kdf = unpack<PBKDF2PARAM>(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter);
    if (!kdf) return Error{Errc::invalid_input, ".pfx file has malformed PBKDF2 parameters"};
    return check_iterations(kdf->iter);
  }
  Ptr<PBEPARAM> pbe = unpack<PBEPARAM>(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);
  if (!pbe) return Error{Errc::foreign_format, ".pfx file uses an unsupported encryption " +
                                                   internal::dotted_oid(alg->algorithm)};
  return check_iterations(pbe->iter);
}

// Whether a certificate is the key-management (encryption) one: keyUsage
// allows encipherment or key agreement but neither signatures nor nonRepudiation.
bool is_km_certificate(const Certificate& cert) {
  const std::uint32_t ku = ::X509_get_key_usage(cert.native());
  if (ku == UINT32_MAX) return false;  // no keyUsage
  const bool signs = (ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) != 0;
  const bool encrypts = (ku & (KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT | KU_KEY_AGREEMENT)) != 0;
  return encrypts && !signs;
}

bool same_bytes(const SecretBytes& a, const SecretBytes& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

struct FoundKey {
  PrivateKey key;
  std::optional<SecretBytes> random_num;
};

// A key bag's key and R (bag attribute, else PrivateKeyInfo attribute).
Result<FoundKey> read_key_bag(const PKCS12_SAFEBAG* bag, const SecretString& password,
                              bool mac_checked) {
  Ptr<PKCS8_PRIV_KEY_INFO> decrypted;
  const PKCS8_PRIV_KEY_INFO* p8 = nullptr;
  if (::PKCS12_SAFEBAG_get_nid(bag) == NID_keyBag) {
    p8 = ::PKCS12_SAFEBAG_get0_p8inf(bag);
  } else {
    const X509_ALGOR* alg = nullptr;
    const X509_SIG* sig = ::PKCS12_SAFEBAG_get0_pkcs8(bag);
    if (sig == nullptr) return Error{Errc::invalid_input, ".pfx file is damaged (empty key bag)"};
    ::X509_SIG_get0(sig, &alg, nullptr);
    DOJANG_TRY(check_pbe(alg));
    decrypted = own(::PKCS12_decrypt_skey_ex(bag, password.data(), static_cast<int>(password.size()),
                                            libctx(), nullptr));
    if (!decrypted) {
      std::string why = drain_errors("decrypting the private key");
      if (!mac_checked) return Error{Errc::wrong_password, kWrongPassword};
      return Error{Errc::invalid_input, ".pfx file is damaged or uses an unsupported cipher (" + why + ")"};
    }
    p8 = decrypted.get();
  }
  if (p8 == nullptr) return Error{Errc::invalid_input, ".pfx file is damaged (empty key bag)"};
  struct P8Wiper {
    const PKCS8_PRIV_KEY_INFO* p;
    ~P8Wiper() { internal::wipe_random_num(::PKCS8_pkey_get0_attrs(p)); }
  } p8_wiper{p8};
  DOJANG_ASSIGN(internal::OpenedKey opened, internal::open_private_key_info(p8, kWhat));
  DOJANG_ASSIGN(std::optional<SecretBytes> bag_r,
                internal::find_random_num(::PKCS12_SAFEBAG_get0_attrs(bag), kWhat));
  if (bag_r && opened.random_num && !same_bytes(*bag_r, *opened.random_num))
    return Error{Errc::invalid_input, ".pfx file is damaged (two different randomNum values)"};
  FoundKey k{std::move(opened.key), std::move(opened.random_num)};
  if (bag_r) k.random_num = std::move(bag_r);
  return k;
}

struct Found {
  std::vector<FoundKey> keys;
  std::vector<Certificate> certs;
};

Status read_bags(const STACK_OF(PKCS12_SAFEBAG) * bags, const SecretString& password,
                 bool mac_checked, Found& found) {
  for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
    const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    switch (::PKCS12_SAFEBAG_get_nid(bag)) {
      case NID_keyBag:
      case NID_pkcs8ShroudedKeyBag: {
        DOJANG_ASSIGN(FoundKey k, read_key_bag(bag, password, mac_checked));
        found.keys.push_back(std::move(k));
        break;
      }
      case NID_certBag: {
        if (::PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate) break;  // SDSI certificates
        Ptr<X509> x = own(::PKCS12_SAFEBAG_get1_cert(bag));
        if (!x)
          return Error{Errc::invalid_input, ".pfx file is damaged (" +
                                                drain_errors("a certificate does not decode") + ")"};
        found.certs.push_back(Certificate::adopt(x.get()));
        break;
      }
      default:
        break;  // CRL, secret and nested bags carry nothing the wallet keeps
    }
  }
  return {};
}

}  // namespace

Result<Bytes> write_pkcs12(const Pkcs12Contents& contents, const SecretString& password,
                           const Pkcs12Options& options) {
  if (password.empty()) return Error{Errc::usage, "refusing to write a .pfx file with an empty password"};
  if (!contents.sign.cert.matches(contents.sign.key))
    return Error{Errc::usage, "the private key does not belong to the certificate"};
  if (contents.km && !contents.km->cert.matches(contents.km->key))
    return Error{Errc::usage, "the km private key does not belong to the km certificate"};
  const bool modern = options.profile == Pkcs12Profile::modern;
  std::uint32_t iter = options.iterations != 0 ? options.iterations
                                               : (modern ? kModernIterations : kLegacyIterations);
  if (iter > kMaxPkcs12Iterations || iter > static_cast<std::uint32_t>(INT_MAX))
    return Error{Errc::usage, "too many iterations"};
  const int iterations = static_cast<int>(iter);
  const int key_nid = modern ? NID_aes_256_cbc : NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
  const int cert_nid = modern ? NID_aes_256_cbc : NID_pbe_WithSHA1And40BitRC2_CBC;

  std::string name = options.friendly_name;
  if (name.empty()) {
    DOJANG_ASSIGN(CertificateInfo info, contents.sign.cert.info());
    name = info.cn;
  }
  // modern: one encrypted SafeContents for everything, so that the key bags'
  // attributes (R) are under AES-256 as well. legacy: certificates under
  // RC2-40, the 3DES-shrouded keys in a plain SafeContents (openssl's layout).
  Ptr<STACK_OF(PKCS12_SAFEBAG)> cert_bags = own(sk_PKCS12_SAFEBAG_new_null());
  Ptr<STACK_OF(PKCS12_SAFEBAG)> key_bags = own(sk_PKCS12_SAFEBAG_new_null());
  if (!cert_bags || !key_bags) return Error{Errc::crypto, "out of memory"};
  BagsWiper wipe_certs{cert_bags.get()};
  BagsWiper wipe_keys{key_bags.get()};
  STACK_OF(PKCS12_SAFEBAG)* key_target = modern ? cert_bags.get() : key_bags.get();

  DOJANG_ASSIGN(Bytes sign_id, local_key_id(contents.sign.cert));
  DOJANG_TRY(add_cert_bag(cert_bags.get(), contents.sign.cert, name, sign_id));
  DOJANG_TRY(add_key_bag(key_target, contents.sign, password, key_nid, iterations, modern, name,
                         sign_id));
  if (contents.km) {
    DOJANG_ASSIGN(Bytes km_id, local_key_id(contents.km->cert));
    const std::string km_name = name + " (km)";
    DOJANG_TRY(add_cert_bag(cert_bags.get(), contents.km->cert, km_name, km_id));
    DOJANG_TRY(add_key_bag(key_target, *contents.km, password, key_nid, iterations, modern,
                           km_name, km_id));
  }
  for (const Certificate& c : contents.other_certs)
    DOJANG_TRY(add_cert_bag(cert_bags.get(), c, "", {}));

  STACK_OF(PKCS7)* raw_safes = nullptr;
  auto add_safe = [&](STACK_OF(PKCS12_SAFEBAG) * bags, int nid) -> Status {
    int rc = ::PKCS12_add_safe_ex(&raw_safes, bags, nid, iterations, password.data(), libctx(), nullptr);
    return check(rc, "building a PKCS#12 SafeContents");
  };
  Status built = add_safe(cert_bags.get(), cert_nid);
  if (built.ok() && !modern) built = add_safe(key_bags.get(), -1);
  Ptr<STACK_OF(PKCS7)> safes = own(raw_safes);
  DOJANG_TRY(built);

  Ptr<PKCS12> p12 = own(::PKCS12_add_safes_ex(safes.get(), NID_pkcs7_data, libctx(), nullptr));
  if (!p12) return Error{Errc::crypto, drain_errors("PKCS12_add_safes")};
  DOJANG_ASSIGN(Ptr<EVP_MD> mac_md, internal::fetch_md(modern ? "SHA2-256" : "SHA1"));
  DOJANG_TRY(check(::PKCS12_set_mac(p12.get(), password.data(), static_cast<int>(password.size()),
                                    nullptr, 0, iterations, mac_md.get()),
                   "PKCS12_set_mac"));
  return internal::to_der(p12.get(), ::i2d_PKCS12, "encoding the PKCS#12 file");
}

Result<Pkcs12Contents> read_pkcs12(ByteView der, const SecretString& password) {
  if (der.empty()) return Error{Errc::invalid_input, ".pfx file is empty"};
  if (der.size() > static_cast<std::size_t>(LONG_MAX))
    return Error{Errc::invalid_input, "not a PKCS#12 (.pfx) file"};
  const unsigned char* p = der.data();
  Ptr<PKCS12> p12 = own(::d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
  if (!p12 || p != der.data() + der.size()) {
    clear_errors();
    return Error{Errc::invalid_input, "not a PKCS#12 (.pfx) file, or it is truncated"};
  }
  const bool mac_present = ::PKCS12_mac_present(p12.get()) == 1;
  if (mac_present) {
    const ASN1_INTEGER* iter = nullptr;
    ::PKCS12_get0_mac(nullptr, nullptr, nullptr, &iter, p12.get());
    DOJANG_TRY(check_iterations(iter));
    if (::PKCS12_verify_mac(p12.get(), password.data(), static_cast<int>(password.size())) != 1) {
      clear_errors();
      return Error{Errc::wrong_password, kWrongPassword};
    }
  }
  Ptr<STACK_OF(PKCS7)> safes = own(::PKCS12_unpack_authsafes(p12.get()));
  if (!safes) {
    clear_errors();
    return Error{Errc::invalid_input, ".pfx file is damaged (its contents do not decode)"};
  }
  Found found;
  for (int i = 0; i < sk_PKCS7_num(safes.get()); ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes.get(), i);
    Ptr<STACK_OF(PKCS12_SAFEBAG)> bags;
    switch (::OBJ_obj2nid(p7->type)) {
      case NID_pkcs7_data:
        bags = own(::PKCS12_unpack_p7data(p7));
        break;
      case NID_pkcs7_encrypted: {
        if (p7->d.encrypted == nullptr || p7->d.encrypted->enc_data == nullptr ||
            p7->d.encrypted->enc_data->enc_data == nullptr)
          return Error{Errc::invalid_input, ".pfx file is damaged (empty encrypted contents)"};
        const X509_ALGOR* alg = p7->d.encrypted->enc_data->algorithm;
        DOJANG_TRY(check_pbe(alg));
        // With Dojang's library context (RC2-40 needs the legacy provider).
        bags = own(static_cast<STACK_OF(PKCS12_SAFEBAG)*>(::PKCS12_item_decrypt_d2i_ex(
            alg, ASN1_ITEM_rptr(PKCS12_SAFEBAGS), password.data(), static_cast<int>(password.size()),
            p7->d.encrypted->enc_data->enc_data, 1, libctx(), nullptr)));
        if (!bags) {
          std::string why = drain_errors("decrypting");
          if (!mac_present) return Error{Errc::wrong_password, kWrongPassword};
          return Error{Errc::invalid_input, ".pfx file is damaged or uses an unsupported cipher (" + why + ")"};
        }
        break;
      }
      default:
        return Error{Errc::foreign_format,
                     ".pfx file holds contents encrypted to a public key, which Dojang does not read"};
    }
    if (!bags) {
      clear_errors();
      return Error{Errc::invalid_input, ".pfx file is damaged (a SafeContents does not decode)"};
    }
    BagsWiper wiper{bags.get()};
    DOJANG_TRY(read_bags(bags.get(), password, mac_present, found));
  }
  if (found.keys.empty()) return Error{Errc::invalid_input, ".pfx file holds no private key"};

  std::vector<bool> used(found.certs.size(), false);
  std::optional<Pkcs12Pair> sign, km;
  for (FoundKey& k : found.keys) {
    std::size_t j = 0;
    while (j < found.certs.size() && (used[j] || !found.certs[j].matches(k.key))) ++j;
    if (j == found.certs.size())
      return Error{Errc::invalid_input, ".pfx file holds a private key without its certificate"};
    used[j] = true;
    Pkcs12Pair pair{found.certs[j], std::move(k.key), std::move(k.random_num)};
    std::optional<Pkcs12Pair>& slot = is_km_certificate(pair.cert) ? km : sign;
    if (slot)
      return Error{Errc::foreign_format,
                   ".pfx file holds more than one certificate with a private key; Dojang restores "
                   "one certificate (with its km pair) per file"};
    slot.emplace(std::move(pair));
  }
  if (!sign) return Error{Errc::invalid_input, ".pfx file holds no signing certificate with its key"};
  Pkcs12Contents out{std::move(*sign), std::move(km), {}};
  for (std::size_t j = 0; j < found.certs.size(); ++j)
    if (!used[j]) out.other_certs.push_back(found.certs[j]);
  return out;
}

}  // namespace dojang::pki
