// dojangd's HTTP/1.1 server (Boost.Beast parser over Asio, optional TLS).
//
// Threads: `threads` I/O threads, each with its own event loop; connections are
// spread over them and handlers run on the connection's thread, except those of
// blocking routes (RouteOptions::blocking), which run on a pool of
// `handler_threads`. Keep-alive and
// pipelining (answered in order); HTTP/1.0 closes unless it asks for keep-alive.
//
// Time limits (slowloris defence), each enforced per connection without ever
// blocking another: the first request header (and the TLS handshake) must be
// complete header_timeout after accept; a later header header_timeout after its
// first byte; an idle keep-alive connection is closed after idle_timeout; a
// request body must arrive within body_timeout after its header; writing a
// response may take write_timeout. Timed-out connections are closed silently.
//
// Protocol errors: malformed request -> 400 and close; header section larger
// than max_header_bytes -> 431 and close; body larger than the route's limit ->
// 413 and close; unknown path -> 404; known path, other method -> 405 with Allow;
// a handler that throws -> 500 (logged through error_log).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dojang/pki/result.hpp"
#include "dojang/service/http.hpp"

namespace dojang::service {

struct TlsFiles {
  std::string cert_file;  // PEM: the server certificate followed by its chain
  std::string key_file;   // PEM: the unencrypted private key
};

struct ServerConfig {
  // "a.b.c.d:port", "[v6]:port" or "localhost:port"; port 0 picks a free port.
  std::string listen = "127.0.0.1:8080";
  int threads = 0;  // I/O threads; 0 = the number of hardware threads
  // Threads for the handlers of blocking routes. Many more than cores: they
  // mostly wait (for a group commit, a lock), and requests waiting together
  // share one commit.
  int handler_threads = 32;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;  // default; RouteOptions::max_body_bytes overrides
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds body_timeout{30};
  std::chrono::seconds idle_timeout{30};
  std::chrono::seconds write_timeout{30};
  // How long stop() lets in-flight responses finish before cutting connections.
  std::chrono::milliseconds stop_grace{5000};
  std::size_t max_connections = 10000;  // further connections are accepted and closed at once
  std::optional<TlsFiles> tls;          // HTTPS when set (TLS 1.2 or later)
  // Receives one line per server-side problem (handler exceptions, accept failures).
  // Empty: the line goes to stderr.
  std::function<void(std::string_view)> error_log;
  // Receives one line per answered request ("GET /path 200 123 127.0.0.1"). Empty: off.
  std::function<void(std::string_view)> access_log;
};

struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_rejected = 0;  // over max_connections
  std::uint64_t connections_active = 0;
  std::uint64_t requests = 0;  // responses sent, whatever their status
  std::uint64_t responses_4xx = 0;
  std::uint64_t responses_5xx = 0;
  std::uint64_t handler_errors =
      0;  // handler threw, returned an invalid response, or dropped its Responder
  std::uint64_t timeouts = 0;  // connections closed by one of the time limits
  std::uint64_t tls_handshake_failures = 0;
};

class HttpServer {
 public:
  HttpServer(ServerConfig config, Router router);
  ~HttpServer();  // stop()
  HttpServer(HttpServer&&) noexcept;
  HttpServer& operator=(HttpServer&&) noexcept;

  // Binds, starts the I/O threads and returns the bound port. Fails with
  // Errc::usage for a bad configuration (listen address, threads, limits),
  // Errc::io when the address cannot be bound or a TLS file cannot be read,
  // Errc::invalid_input when the TLS certificate and key do not fit together.
  // A server starts at most once.
  Result<std::uint16_t> start();

  // Stops accepting, closes idle and reading connections, lets responses being
  // produced or written finish for up to stop_grace, then cuts the rest and
  // joins the threads. Idempotent. Must not be called from a handler.
  void stop();

  // Blocks the calling thread until SIGINT or SIGTERM arrives, then stop()s;
  // returns the signal number. For dojangd's main thread after start(). A
  // caller that blocks SIGINT and SIGTERM (pthread_sigmask) before starting any
  // thread loses no signal sent before this call: it is unblocked here, in this
  // thread only, once the handler is in place.
  int run_until_signal();

  std::uint16_t port() const noexcept;  // 0 before start()
  ServerStats stats() const noexcept;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace dojang::service
