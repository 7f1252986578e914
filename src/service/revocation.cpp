#include "dojang/service/revocation.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "pki/internal/ossl.hpp"
#include "service/internal/wire.hpp"

namespace dojang::service {

namespace {

constexpr std::string_view kOcspResponseType = "application/ocsp-response";
constexpr std::string_view kOcspGetPrefix = "/ocsp/";
constexpr std::string_view kCrlPrefix = "/crl/";

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long long seconds_until(TimePoint t, TimePoint now) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(t - now).count();
  return std::max<long long>(0, s);
}

std::string http_date_of(TimePoint t) {
  return internal::http_date(std::chrono::system_clock::to_time_t(t));
}

}  // namespace

Result<Bytes> decode_ocsp_get_path(std::string_view encoded) {
  if (encoded.empty() || encoded.size() > 4 * kMaxOcspBodyBytes)
    return Error{Errc::invalid_input, "no OCSP request in the path"};
  std::string b64;
  b64.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '%') {
      int hi = i + 1 < encoded.size() ? hex_value(encoded[i + 1]) : -1;
      int lo = i + 2 < encoded.size() ? hex_value(encoded[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Error{Errc::invalid_input, "malformed percent escape"};
      c = static_cast<char>(hi << 4 | lo);
      i += 2;
    }
    if (c == '-') c = '+';  // base64url
    if (c == '_') c = '/';
    if (c == '\r' || c == '\n') continue;
    b64 += c;
  }
  while (b64.size() % 4 != 0) b64 += '=';
  Bytes out(b64.size() / 4 * 3 + 3);
  using pki::internal::Ptr;
  struct FreeCtx {
    void operator()(EVP_ENCODE_CTX* c) const noexcept { ::EVP_ENCODE_CTX_free(c); }
  };
  std::unique_ptr<EVP_ENCODE_CTX, FreeCtx> ctx(::EVP_ENCODE_CTX_new());
  if (!ctx) return Error{Errc::crypto, pki::internal::drain_errors("EVP_ENCODE_CTX_new")};
  ::EVP_DecodeInit(ctx.get());
  int len = 0, tail = 0;
  if (::EVP_DecodeUpdate(ctx.get(), out.data(), &len,
                         reinterpret_cast<const unsigned char*>(b64.data()),
                         static_cast<int>(b64.size())) < 0 ||
      ::EVP_DecodeFinal(ctx.get(), out.data() + len, &tail) != 1) {
    pki::internal::clear_errors();
    return Error{Errc::invalid_input, "the OCSP request in the path is not base64"};
  }
  out.resize(static_cast<std::size_t>(len + tail));
  if (out.empty()) return Error{Errc::invalid_input, "no OCSP request in the path"};
  return out;
}

Response ocsp_response(ca::OcspResponder& responder, const Request& request, const Clock& clock) {
  const bool get = request.method == "GET" || request.method == "HEAD";
  ca::OcspAnswer a;
  if (get) {
    auto der = decode_ocsp_get_path(
        request.path.substr(std::min(request.path.size(), kOcspGetPrefix.size())));
    // An undecodable path is a malformed request: answer with that OCSP status.
    a = responder.respond(der.ok() ? ByteView(*der) : ByteView{});
  } else {
    a = responder.respond(request.body_bytes());
  }
  Response r;
  r.content_type = std::string(kOcspResponseType);
  r.body = *a.der;
  if (get && a.successful) {
    if (a.cacheable) {
      const TimePoint now = clock.now();
      r.headers.emplace_back("Last-Modified", http_date_of(a.this_update));
      r.headers.emplace_back("Expires", http_date_of(a.next_update));
      r.headers.emplace_back("ETag", a.etag);
      r.headers.emplace_back("Cache-Control",
                             "max-age=" + std::to_string(seconds_until(a.next_update, now)) +
                                 ", public, no-transform, must-revalidate");
    } else {
      r.headers.emplace_back("Cache-Control", "no-store");
    }
  }
  return r;
}

void register_ocsp(Router& router, ca::OcspResponder& responder, const Clock& clock) {
  auto handler = [&responder, &clock](const Request& req) {
    return ocsp_response(responder, req, clock);
  };
  RouteOptions post;
  post.max_body_bytes = kMaxOcspBodyBytes;
  router.handle("POST", "/ocsp", handler, post);
  router.handle("POST", "/ocsp/", handler, post);
  RouteOptions get;
  get.match = PathMatch::prefix;
  get.max_body_bytes = 0;
  router.handle("GET", std::string(kOcspGetPrefix), handler, get);
}

void register_crl(Router& router, ca::CrlPublisher& publisher, const Clock& clock) {
  RouteOptions opts;
  opts.match = PathMatch::prefix;
  opts.max_body_bytes = 0;
  router.handle(
      "GET", std::string(kCrlPrefix),
      [&publisher, &clock](const Request& req) {
        std::string_view name = req.path.substr(kCrlPrefix.size());
        if (!name.ends_with(".crl")) return Response::text(404, "no such CRL\n");
        name.remove_suffix(4);
        auto crl = publisher.get(name);
        if (!crl) {
          if (!publisher.last_published()) return Response::text(503, "CRLs not published yet\n");
          return Response::text(404, "no such CRL\n");
        }
        Response r;
        const TimePoint now = clock.now();
        r.headers.emplace_back("Last-Modified", http_date_of(crl->this_update));
        r.headers.emplace_back("Expires", http_date_of(crl->next_update));
        r.headers.emplace_back("ETag", crl->etag);
        r.headers.emplace_back("Cache-Control",
                               "max-age=" + std::to_string(seconds_until(crl->next_update, now)) +
                                   ", public, no-transform");
        if (auto inm = req.header("If-None-Match"); inm && *inm == crl->etag) {
          r.status = 304;
          return r;
        }
        r.content_type = "application/pkix-crl";
        r.body = crl->der;
        return r;
      },
      opts);
}

RevocationWatcher::RevocationWatcher(ca::Registry& registry, ca::OcspResponder& responder,
                                     ca::CrlPublisher& publisher, WatcherOptions options)
    : registry_(&registry),
      responder_(&responder),
      publisher_(&publisher),
      options_(std::move(options)) {
  // In-process changes (CMP certConf, a future rr): OCSP reflects them before
  // the writer returns.
  registry_->set_change_listener([this](std::int64_t revision) {
    auto r = responder_->refresh(revision);
    if (!r.ok()) log("OCSP refresh failed: " + r.error().message);
    publisher_->note_change();
  });
}

RevocationWatcher::~RevocationWatcher() {
  stop();
  registry_->set_change_listener(nullptr);
}

void RevocationWatcher::log(std::string_view line) const {
  if (options_.log) {
    options_.log(line);
    return;
  }
  std::string out = "dojangd revocation: " + std::string(line) + "\n";
  std::fwrite(out.data(), 1, out.size(), stderr);
}

void RevocationWatcher::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void RevocationWatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RevocationWatcher::run_once(bool tick) {
  auto rev = registry_->revision();
  if (!rev.ok()) {
    log("reading the registry revision failed: " + rev.error().message);
  } else if (*rev != responder_->revision()) {
    auto r = responder_->refresh();
    if (!r.ok()) log("OCSP refresh failed: " + r.error().message);
    publisher_->note_change();
  }
  if (!tick) return;
  auto published = publisher_->tick();
  if (!published.ok()) log("CRL publication failed: " + published.error().message);
  responder_->resign_due(options_.resign_ahead);
}

void RevocationWatcher::loop() {
  auto next_tick = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    const auto now = std::chrono::steady_clock::now();
    const bool tick = now >= next_tick;
    if (tick) next_tick = now + options_.tick_interval;
    run_once(tick);
    lock.lock();
    cv_.wait_for(lock, options_.poll_interval, [this] { return stop_; });
  }
}

}  // namespace dojang::service
