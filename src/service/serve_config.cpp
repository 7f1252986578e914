#include "dojang/service/serve_config.hpp"

#include <toml++/toml.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace dojang::service {
namespace {

// "file:line:col: what".
Error bad(std::string_view source, const toml::source_region& where, std::string_view what) {
  std::string msg(source);
  if (where.begin.line > 0)
    msg += ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column);
  msg += ": ";
  msg += what;
  return Error{Errc::invalid_input, std::move(msg)};
}

struct Reader {
  std::string_view source;

  Status string(const toml::node& n, std::string_view key, std::string& out) const {
    const auto* v = n.as_string();
    if (v == nullptr) return bad(source, n.source(), std::string(key) + " must be a string");
    out = v->get();
    return ok_status();
  }
  // An integer in [lo, hi].
  Result<std::int64_t> integer(const toml::node& n, std::string_view key, std::int64_t lo,
                               std::int64_t hi) const {
    const auto* v = n.as_integer();
    if (v == nullptr) return bad(source, n.source(), std::string(key) + " must be an integer");
    std::int64_t x = v->get();
    if (x < lo || x > hi)
      return bad(source, n.source(),
                 std::string(key) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return x;
  }
  Status seconds(const toml::node& n, std::string_view key, std::chrono::seconds& out,
                 std::int64_t lo = 1, std::int64_t hi = 7 * 24 * 3600) const {
    auto x = integer(n, key, lo, hi);
    if (!x.ok()) return std::move(x).error();
    out = std::chrono::seconds(*x);
    return ok_status();
  }
  Status bytes(const toml::node& n, std::string_view key, std::size_t& out) const {
    auto x = integer(n, key, 1, std::int64_t{1} << 32);
    if (!x.ok()) return std::move(x).error();
    out = static_cast<std::size_t>(*x);
    return ok_status();
  }
  Error unknown(const toml::key& k, std::string_view name) const {
    return bad(source, k.source(), "unknown setting '" + std::string(name) + "'");
  }
  Result<const toml::table*> section(const toml::node& n, std::string_view key) const {
    const auto* t = n.as_table();
    if (t == nullptr) return bad(source, n.source(), "[" + std::string(key) + "] must be a table");
    return t;
  }
};

Status apply_tls(const Reader& r, const toml::table& t, ServeSettings& s) {
  std::string cert = s.http.tls ? s.http.tls->cert_file : std::string();
  std::string key = s.http.tls ? s.http.tls->key_file : std::string();
  for (auto&& [k, v] : t) {
    if (k == "cert") {
      DOJANG_TRY(r.string(v, "tls.cert", cert));
    } else if (k == "key") {
      DOJANG_TRY(r.string(v, "tls.key", key));
    } else {
      return r.unknown(k, "tls." + std::string(k.str()));
    }
  }
  if (cert.empty() != key.empty())
    return bad(r.source, t.source(), "[tls] needs both cert and key");
  if (!cert.empty()) s.http.tls = TlsFiles{cert, key};
  return ok_status();
}

Status apply_limits(const Reader& r, const toml::table& t, ServeSettings& s) {
  for (auto&& [k, v] : t) {
    if (k == "max_header_bytes") {
      DOJANG_TRY(r.bytes(v, "limits.max_header_bytes", s.http.max_header_bytes));
    } else if (k == "max_body_bytes") {
      DOJANG_TRY(r.bytes(v, "limits.max_body_bytes", s.http.max_body_bytes));
    } else if (k == "max_connections") {
      DOJANG_TRY(r.bytes(v, "limits.max_connections", s.http.max_connections));
    } else {
      return r.unknown(k, "limits." + std::string(k.str()));
    }
  }
  return ok_status();
}

Status apply_timeouts(const Reader& r, const toml::table& t, ServeSettings& s) {
  for (auto&& [k, v] : t) {
    if (k == "header") {
      DOJANG_TRY(r.seconds(v, "timeouts.header", s.http.header_timeout));
    } else if (k == "body") {
      DOJANG_TRY(r.seconds(v, "timeouts.body", s.http.body_timeout));
    } else if (k == "idle") {
      DOJANG_TRY(r.seconds(v, "timeouts.idle", s.http.idle_timeout));
    } else if (k == "write") {
      DOJANG_TRY(r.seconds(v, "timeouts.write", s.http.write_timeout));
    } else if (k == "confirm") {
      DOJANG_TRY(r.seconds(v, "timeouts.confirm", s.confirm_timeout));
    } else {
      return r.unknown(k, "timeouts." + std::string(k.str()));
    }
  }
  return ok_status();
}

// The ranges of dojangd serve's --crl-interval, --crl-validity, --ocsp-validity.
Status apply_revocation(const Reader& r, const toml::table& t, ServeSettings& s) {
  for (auto&& [k, v] : t) {
    if (k == "crl_interval") {
      DOJANG_TRY(r.seconds(v, "revocation.crl_interval", s.crl_interval, 1, 86400));
    } else if (k == "crl_validity") {
      DOJANG_TRY(r.seconds(v, "revocation.crl_validity", s.crl_validity, 60, 30 * 86400));
    } else if (k == "ocsp_validity") {
      DOJANG_TRY(r.seconds(v, "revocation.ocsp_validity", s.ocsp_validity, 60, 7 * 86400));
    } else {
      return r.unknown(k, "revocation." + std::string(k.str()));
    }
  }
  return ok_status();
}

Status apply_profile(const Reader& r, const toml::table& t, ServeSettings& s) {
  for (auto&& [k, v] : t) {
    if (k == "renewal_window_days") {
      auto n = r.integer(v, "profile.renewal_window_days", 1, 3650);
      if (!n.ok()) return std::move(n).error();
      s.renewal_window = std::chrono::days(*n);
    } else {
      return r.unknown(k, "profile." + std::string(k.str()));
    }
  }
  return ok_status();
}

}  // namespace

Status apply_serve_toml(std::string_view text, std::string_view source, ServeSettings& settings) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return bad(source, e.source(), e.description());
  }
  Reader r{source};
  ServeSettings s = settings;  // applied only when the whole file is good
  for (auto&& [k, v] : root) {
    if (k == "listen") {
      DOJANG_TRY(r.string(v, "listen", s.http.listen));
    } else if (k == "threads") {
      auto n = r.integer(v, "threads", 0, 256);
      if (!n.ok()) return std::move(n).error();
      s.http.threads = static_cast<int>(*n);
    } else if (k == "handler_threads") {
      auto n = r.integer(v, "handler_threads", 1, 1024);
      if (!n.ok()) return std::move(n).error();
      s.http.handler_threads = static_cast<int>(*n);
    } else if (k == "tls" || k == "limits" || k == "timeouts" || k == "revocation" ||
               k == "profile") {
      DOJANG_ASSIGN(const toml::table* t, r.section(v, k.str()));
      if (k == "tls") {
        DOJANG_TRY(apply_tls(r, *t, s));
      } else if (k == "limits") {
        DOJANG_TRY(apply_limits(r, *t, s));
      } else if (k == "timeouts") {
        DOJANG_TRY(apply_timeouts(r, *t, s));
      } else if (k == "profile") {
        DOJANG_TRY(apply_profile(r, *t, s));
      } else {
        DOJANG_TRY(apply_revocation(r, *t, s));
      }
    } else {
      return r.unknown(k, k.str());
    }
  }
  settings = std::move(s);
  return ok_status();
}

Status apply_serve_config_file(const std::filesystem::path& file, ServeSettings& settings) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    return Error{Errc::not_found, file.string() + ": no such configuration file"};
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{Errc::io, file.string() + ": cannot read"};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{Errc::io, file.string() + ": cannot read"};
  return apply_serve_toml(text.str(), file.string(), settings);
}

bool is_loopback_listen(std::string_view listen) noexcept {
  return listen.starts_with("127.") || listen.starts_with("[::1]:") || listen.starts_with("localhost:");
}

}  // namespace dojang::service
