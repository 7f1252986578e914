#include "dojang/ca/ocsp.hpp"

#include <openssl/objects.h>

#include <array>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pki/internal/ossl.hpp"
#include "ca/internal/x509_build.hpp"

namespace dojang::ca {

using internal::asn1_time;
using pki::internal::check;
using pki::internal::clear_errors;
using pki::internal::drain_errors;
using pki::internal::libctx;
using pki::internal::own;
using pki::internal::Ptr;

namespace {

// CertID hash algorithms we answer for (RFC 5019 clients use SHA-1; RFC 6960 allows others).
constexpr std::array<const char*, 4> kHashNames = {"SHA1", "SHA256", "SHA384", "SHA512"};
constexpr std::array<int, 4> kHashNids = {NID_sha1, NID_sha256, NID_sha384, NID_sha512};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// A serial's bytes without leading zero octets: the key of the status index.
std::string serial_key(ByteView bytes) {
  std::size_t skip = 0;
  while (skip < bytes.size() && bytes[skip] == 0) ++skip;
  return std::string(reinterpret_cast<const char*>(bytes.data()) + skip, bytes.size() - skip);
}

std::string cache_key(const std::string& serial, std::size_t alg) {
  std::string k = serial;
  k.push_back(static_cast<char>('0' + alg));
  return k;
}

Result<std::shared_ptr<const std::string>> error_response(int status) {
  Ptr<OCSP_RESPONSE> r = own(::OCSP_response_create(status, nullptr));
  if (!r) return Error{Errc::crypto, drain_errors("OCSP_response_create")};
  DOJANG_ASSIGN(Bytes der,
                pki::internal::to_der(r.get(), ::i2d_OCSP_RESPONSE, "i2d_OCSP_RESPONSE"));
  return std::make_shared<const std::string>(der.begin(), der.end());
}

struct CertState {
  int status = V_OCSP_CERTSTATUS_UNKNOWN;
  int reason = OCSP_REVOKED_STATUS_NOSTATUS;
  TimePoint revoked_at{};
  bool known = false;                   // in the registry
  std::optional<TimePoint> good_until;  // notAfter of a good certificate
};

struct Cached {
  std::shared_ptr<const std::string> der;
  TimePoint this_update{}, next_update{}, refresh_at{};
  std::string etag;
  std::atomic<bool> dropped{false};
  std::string key;  // cache_key
  std::string serial;
  std::size_t alg = 0;
  bool known = false;
  Ptr<OCSP_CERTID> cid;
};

}  // namespace

struct OcspResponder::Impl {
  const Hierarchy* ca = nullptr;
  Registry* registry = nullptr;
  const Clock* clock = nullptr;
  OcspOptions options;
  std::array<Ptr<OCSP_CERTID>, kHashNames.size()> issuer_ids;
  std::shared_ptr<const std::string> malformed, unauthorized, internal_error;

  mutable std::shared_mutex mu;  // guards everything below
  StringMap<StatusEntry> index;
  StringMap<std::shared_ptr<Cached>> by_id;
  StringMap<std::shared_ptr<Cached>> by_request;
  std::size_t unknown_cached = 0;
  std::uint64_t generation = 0;  // bumped by every applied change
  std::atomic<std::int64_t> revision{0};
  std::mutex refresh_mu;
  bool loaded = false;  // under refresh_mu

  std::atomic<std::uint64_t> requests{0}, signatures{0}, cache_hits{0}, etag_seq{0};

  OcspAnswer error(const std::shared_ptr<const std::string>& der) const {
    OcspAnswer a;
    a.der = der;
    return a;
  }

  static OcspAnswer answer_of(const Cached& c) {
    OcspAnswer a;
    a.der = c.der;
    a.successful = true;
    a.cacheable = true;
    a.this_update = c.this_update;
    a.next_update = c.next_update;
    a.etag = c.etag;
    return a;
  }

  // Status of a serial at `now`; caller holds mu (shared).
  CertState state_of(const std::string& serial, TimePoint now) const {
    CertState s;
    auto it = index.find(serial);
    if (it == index.end()) return s;
    const StatusEntry& e = it->second;
    s.known = true;
    if (e.revoked()) {
      s.status = V_OCSP_CERTSTATUS_REVOKED;
      s.revoked_at = e.revocation_time();
      s.reason = e.reason ? static_cast<int>(*e.reason) : OCSP_REVOKED_STATUS_NOSTATUS;
    } else if (e.status == CertStatus::confirmed && now < e.not_after) {
      s.status = V_OCSP_CERTSTATUS_GOOD;
      s.good_until = e.not_after;
    }
    return s;
  }

  struct Single {
    const OCSP_CERTID* cid;
    CertState state;
  };

  // Signs a response over `singles` (echoing the nonce of `nonce_from` when set).
  Result<std::shared_ptr<const std::string>> sign(const std::vector<Single>& singles,
                                                  OCSP_REQUEST* nonce_from, TimePoint now) {
    Ptr<OCSP_BASICRESP> bs = own(::OCSP_BASICRESP_new());
    if (!bs) return Error{Errc::crypto, drain_errors("OCSP_BASICRESP_new")};
    DOJANG_ASSIGN(Ptr<ASN1_TIME> this_update, asn1_time(now));
    DOJANG_ASSIGN(Ptr<ASN1_TIME> next_update, asn1_time(now + options.validity));
    for (const Single& s : singles) {
      Ptr<ASN1_TIME> revoked_at;
      if (s.state.status == V_OCSP_CERTSTATUS_REVOKED) {
        DOJANG_ASSIGN(revoked_at, asn1_time(s.state.revoked_at));
      }
      if (::OCSP_basic_add1_status(bs.get(), const_cast<OCSP_CERTID*>(s.cid), s.state.status,
                                   s.state.reason, revoked_at.get(), this_update.get(),
                                   next_update.get()) == nullptr)
        return Error{Errc::crypto, drain_errors("OCSP_basic_add1_status")};
    }
    if (nonce_from != nullptr)
      DOJANG_TRY(check(::OCSP_copy_nonce(bs.get(), nonce_from) == 1 ? 1 : 0, "OCSP_copy_nonce"));
    Ptr<EVP_MD_CTX> mctx = own(::EVP_MD_CTX_new());
    if (!mctx) return Error{Errc::crypto, drain_errors("EVP_MD_CTX_new")};
    DOJANG_TRY(check(::EVP_DigestSignInit_ex(mctx.get(), nullptr, "SHA256", libctx(), nullptr,
                                             ca->ocsp_key().native(), nullptr),
                     "EVP_DigestSignInit_ex"));
    // RFC 5019 section 2.2.3: ResponderID byKey; the signer's certificate is included.
    DOJANG_TRY(check(::OCSP_basic_sign_ctx(bs.get(), const_cast<X509*>(ca->ocsp_cert().native()),
                                           mctx.get(), nullptr, OCSP_RESPID_KEY),
                     "OCSP_basic_sign_ctx"));
    Ptr<OCSP_RESPONSE> resp =
        own(::OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs.get()));
    if (!resp) return Error{Errc::crypto, drain_errors("OCSP_response_create")};
    DOJANG_ASSIGN(Bytes der,
                  pki::internal::to_der(resp.get(), ::i2d_OCSP_RESPONSE, "i2d_OCSP_RESPONSE"));
    signatures.fetch_add(1, std::memory_order_relaxed);
    return std::make_shared<const std::string>(der.begin(), der.end());
  }

  // Signs and caches the pre-signed response for one CertID. Returns it even
  // when it could not be cached (a change raced with the signature).
  Result<std::shared_ptr<Cached>> presign(const OCSP_CERTID* cid, const std::string& serial,
                                          std::size_t alg) {
    const TimePoint now = std::chrono::time_point_cast<std::chrono::seconds>(clock->now());
    CertState state;
    std::uint64_t gen = 0;
    {
      std::shared_lock lock(mu);
      state = state_of(serial, now);
      gen = generation;
    }
    DOJANG_ASSIGN(auto der, sign({Single{cid, state}}, nullptr, now));
    auto c = std::make_shared<Cached>();
    c->der = std::move(der);
    c->this_update = now;
    c->next_update = now + options.validity;
    c->refresh_at = now + options.refresh_after;
    if (state.good_until && *state.good_until < c->refresh_at) c->refresh_at = *state.good_until;
    c->etag = "\"" + std::to_string(std::chrono::system_clock::to_time_t(now)) + "-" +
              std::to_string(etag_seq.fetch_add(1, std::memory_order_relaxed)) + "\"";
    c->key = cache_key(serial, alg);
    c->serial = serial;
    c->alg = alg;
    c->known = state.known;
    c->cid = own(::OCSP_CERTID_dup(cid));
    if (!c->cid) return Error{Errc::crypto, drain_errors("OCSP_CERTID_dup")};
    std::unique_lock lock(mu);
    // Answers that are not kept are marked dropped, so that nothing else keeps them either.
    if (gen != generation) {  // the status changed meanwhile: answer, but do not keep
      c->dropped.store(true, std::memory_order_release);
      return c;
    }
    auto it = by_id.find(c->key);
    if (it != by_id.end()) {
      it->second->dropped.store(true, std::memory_order_release);
      if (!it->second->known) --unknown_cached;
      by_id.erase(it);
    }
    if (!c->known) {
      if (unknown_cached >= options.max_cached_unknown) {
        c->dropped.store(true, std::memory_order_release);
        return c;
      }
      ++unknown_cached;
    }
    by_id.emplace(c->key, c);
    return c;
  }

  void remember_request(std::string_view request, const std::shared_ptr<Cached>& c) {
    std::unique_lock lock(mu);
    if (c->dropped.load(std::memory_order_acquire)) return;
    if (by_request.size() >= options.max_request_cache) by_request.clear();
    by_request.insert_or_assign(std::string(request), c);
  }

  // Drops the cached responses of a serial; caller holds mu (unique).
  // Drops the cached responses of a serial into `dropped`; caller holds mu (unique).
  void drop_serial(const std::string& serial, std::vector<std::shared_ptr<Cached>>& dropped) {
    for (std::size_t alg = 0; alg < kHashNames.size(); ++alg) {
      auto it = by_id.find(cache_key(serial, alg));
      if (it == by_id.end()) continue;
      it->second->dropped.store(true, std::memory_order_release);
      if (!it->second->known) --unknown_cached;
      dropped.push_back(std::move(it->second));
      by_id.erase(it);
    }
  }

  OcspAnswer respond(ByteView der);
};

OcspAnswer OcspResponder::Impl::respond(ByteView der) {
  requests.fetch_add(1, std::memory_order_relaxed);
  if (der.empty() || der.size() > options.max_request_bytes) return error(malformed);
  const std::string_view request(reinterpret_cast<const char*>(der.data()), der.size());
  const TimePoint now = clock->now();
  {  // the hot path: these exact request bytes were answered before
    std::shared_lock lock(mu);
    auto it = by_request.find(request);
    if (it != by_request.end()) {
      const Cached& c = *it->second;
      if (!c.dropped.load(std::memory_order_acquire) && now < c.refresh_at) {
        cache_hits.fetch_add(1, std::memory_order_relaxed);
        return answer_of(c);
      }
    }
  }

  const unsigned char* p = der.data();
  Ptr<OCSP_REQUEST> req = own(::d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
  if (!req || p != der.data() + der.size()) {
    clear_errors();
    return error(malformed);
  }
  const int n = ::OCSP_request_onereq_count(req.get());
  if (n <= 0 || static_cast<std::size_t>(n) > options.max_single_requests) return error(malformed);
  const bool nonce = ::OCSP_REQUEST_get_ext_by_NID(req.get(), NID_id_pkix_OCSP_Nonce, -1) >= 0;

  struct Parsed {
    const OCSP_CERTID* cid;
    std::string serial;
    std::size_t alg;
  };
  std::vector<Parsed> parsed;
  parsed.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    OCSP_CERTID* cid = ::OCSP_onereq_get0_id(::OCSP_request_onereq_get0(req.get(), i));
    ASN1_OBJECT* md = nullptr;
    ASN1_INTEGER* serial = nullptr;
    if (cid == nullptr || ::OCSP_id_get0_info(nullptr, &md, nullptr, &serial, cid) != 1 ||
        serial == nullptr) {
      clear_errors();
      return error(malformed);
    }
    const int nid = ::OBJ_obj2nid(md);
    std::size_t alg = kHashNames.size();
    for (std::size_t a = 0; a < kHashNids.size(); ++a)
      if (kHashNids[a] == nid) alg = a;
    // RFC 5019 section 2.2.3: unauthorized when the responder cannot answer for the CertID.
    if (alg == kHashNames.size() || ::OCSP_id_issuer_cmp(cid, issuer_ids[alg].get()) != 0)
      return error(unauthorized);
    std::string key;
    if (ASN1_STRING_type(serial) != V_ASN1_NEG_INTEGER)
      key = serial_key(ByteView(ASN1_STRING_get0_data(serial),
                                static_cast<std::size_t>(ASN1_STRING_length(serial))));
    else
      key = std::string(1, '\xff') + "negative";  // never in the index: unknown
    parsed.push_back(Parsed{cid, std::move(key), alg});
  }

  if (n == 1 && !nonce) {
    const Parsed& one = parsed.front();
    std::shared_ptr<Cached> c;
    {
      std::shared_lock lock(mu);
      auto it = by_id.find(cache_key(one.serial, one.alg));
      if (it != by_id.end() && now < it->second->refresh_at) c = it->second;
    }
    if (c) {
      cache_hits.fetch_add(1, std::memory_order_relaxed);
    } else {
      auto fresh = presign(one.cid, one.serial, one.alg);
      if (!fresh.ok()) return error(internal_error);
      c = *fresh;
    }
    remember_request(request, c);
    return answer_of(*c);
  }

  // A nonce or several CertIDs: a freshly signed response.
  const TimePoint signed_at = std::chrono::time_point_cast<std::chrono::seconds>(now);
  std::vector<Single> singles;
  {
    std::shared_lock lock(mu);
    for (const Parsed& one : parsed) singles.push_back(Single{one.cid, state_of(one.serial, now)});
  }
  auto signed_der = sign(singles, nonce ? req.get() : nullptr, signed_at);
  if (!signed_der.ok()) return error(internal_error);
  OcspAnswer a;
  a.der = std::move(*signed_der);
  a.successful = true;
  a.this_update = signed_at;
  a.next_update = signed_at + options.validity;
  return a;
}

OcspResponder::OcspResponder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OcspResponder::~OcspResponder() = default;

Result<std::unique_ptr<OcspResponder>> OcspResponder::create(const Hierarchy& ca,
                                                             Registry& registry, const Clock& clock,
                                                             OcspOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->ca = &ca;
  impl->registry = &registry;
  impl->clock = &clock;
  impl->options = options;
  for (std::size_t a = 0; a < kHashNames.size(); ++a) {
    DOJANG_ASSIGN(Ptr<EVP_MD> md, pki::internal::fetch_md(kHashNames[a]));
    impl->issuer_ids[a] = own(::OCSP_cert_to_id(md.get(), nullptr, ca.issuing_cert().native()));
    if (!impl->issuer_ids[a]) return Error{Errc::crypto, drain_errors("OCSP_cert_to_id")};
  }
  DOJANG_ASSIGN(impl->malformed, error_response(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST));
  DOJANG_ASSIGN(impl->unauthorized, error_response(OCSP_RESPONSE_STATUS_UNAUTHORIZED));
  DOJANG_ASSIGN(impl->internal_error, error_response(OCSP_RESPONSE_STATUS_INTERNALERROR));
  std::unique_ptr<OcspResponder> r(new OcspResponder(std::move(impl)));
  DOJANG_TRY(r->refresh());
  return r;
}

OcspAnswer OcspResponder::respond(ByteView request_der) {
  return impl_->respond(request_der);
}

Result<std::int64_t> OcspResponder::refresh(std::int64_t at_least) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> one(m.refresh_mu);
  // A refresh that ran while this one waited for the lock may have read our change.
  if (at_least >= 0 && m.loaded && m.revision.load() >= at_least) return m.revision.load();
  // The first load reads every record (those from before schema version 2
  // carry change_seq 0) and starts from the revision read before it.
  std::int64_t latest = m.revision.load();
  if (!m.loaded) {
    DOJANG_ASSIGN(latest, m.registry->revision());
  }
  const std::int64_t since = m.loaded ? m.revision.load() : -1;
  DOJANG_ASSIGN(std::vector<StatusEntry> changes, m.registry->changes_since(since));
  m.loaded = true;
  if (changes.empty()) {
    m.revision.store(latest);
    return latest;
  }
  std::vector<std::shared_ptr<Cached>> dropped;
  {
    std::unique_lock lock(m.mu);
    ++m.generation;
    for (StatusEntry& e : changes) {
      auto bytes = serial_from_hex(e.serial_hex);
      if (!bytes.ok()) continue;
      std::string key = serial_key(*bytes);
      if (e.change_seq > latest) latest = e.change_seq;
      m.drop_serial(key, dropped);
      m.index.insert_or_assign(std::move(key), std::move(e));
    }
  }
  m.revision.store(latest);
  // Re-sign at once what was being served, so the next request is a cache hit
  // again (a failure only means the next request signs).
  for (const auto& c : dropped) (void)m.presign(c->cid.get(), c->serial, c->alg);
  return latest;
}

std::size_t OcspResponder::resign_due(std::chrono::seconds ahead) {
  Impl& m = *impl_;
  const TimePoint limit = m.clock->now() + ahead;
  std::vector<std::shared_ptr<Cached>> due;
  {
    std::shared_lock lock(m.mu);
    for (const auto& [key, c] : m.by_id)
      if (c->refresh_at <= limit) due.push_back(c);
  }
  std::size_t n = 0;
  for (const auto& c : due) {
    auto fresh = m.presign(c->cid.get(), c->serial, c->alg);
    if (fresh.ok()) ++n;
  }
  return n;
}

std::int64_t OcspResponder::revision() const noexcept {
  return impl_->revision.load();
}

OcspResponder::Stats OcspResponder::stats() const noexcept {
  return Stats{impl_->requests.load(), impl_->signatures.load(), impl_->cache_hits.load()};
}

}  // namespace dojang::ca
