// dojangd serve's settings: built-in defaults, then a TOML file, then flags.
//
// The file (DIR/dojangd.toml when present, or `dojangd serve --config FILE`);
// every key is optional, an unknown key or a value of the wrong type is an error:
//
//   listen  = "127.0.0.1:8080"      # address:port; plain HTTP only on loopback
//   threads = 2                     # I/O threads; 0 = one per core
//   handler_threads = 32            # threads for CMP, bank and relay requests (they block)
//
//   [tls]                           # HTTPS (required for a non-loopback listen)
//   cert = "/etc/dojang/tls.pem"
//   key  = "/etc/dojang/tls.key"
//
//   [limits]
//   max_header_bytes = 16384
//   max_body_bytes   = 1048576
//   max_connections  = 10000
//
//   [timeouts]                      # seconds
//   header  = 10                    # to receive a request's header
//   body    = 30                    # to receive its body
//   idle    = 30                    # between requests on a kept-alive connection
//   write   = 30                    # to send a response
//   confirm = 600                   # for a CMP certConf before the certificate is revoked
//
//   [revocation]                    # seconds
//   crl_interval  = 60              # a revocation reaches the CRLs at most this much later
//   crl_validity  = 86400           # thisUpdate..nextUpdate of every CRL
//   ocsp_validity = 3600            # thisUpdate..nextUpdate of OCSP responses
//
//   [profile]
//   renewal_window_days = 30        # CMP kur is accepted this many days before notAfter
#pragma once

#include <chrono>
#include <filesystem>
#include <string_view>

#include "dojang/pki/result.hpp"
#include "dojang/service/http_server.hpp"

namespace dojang::service {

struct ServeSettings {
  ServerConfig http;
  std::chrono::seconds confirm_timeout{600};
  std::chrono::seconds crl_interval{60};
  std::chrono::seconds crl_validity{86400};
  std::chrono::seconds ocsp_validity{3600};
  std::chrono::days renewal_window{30};
};

// Applies the TOML text to settings (keys absent from the text keep their
// value). source names the text in errors ("dojangd.toml:3:1: ..."). Errors:
// invalid_input (not TOML, unknown key, wrong type, out-of-range value).
Status apply_serve_toml(std::string_view text, std::string_view source, ServeSettings& settings);

// Reads file and applies it. Errors: not_found, io, and those of apply_serve_toml.
Status apply_serve_config_file(const std::filesystem::path& file, ServeSettings& settings);

// True for listen addresses on loopback (127.0.0.0/8, [::1], localhost).
bool is_loopback_listen(std::string_view listen) noexcept;

}  // namespace dojang::service
