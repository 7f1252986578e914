// HTTP requests, responses and routing for dojangd's server (service::HttpServer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dojang/pki/secret.hpp"

namespace dojang::service {

struct Header {
  std::string_view name;
  std::string_view value;
};

// One request as the server parsed it. Every view points into the connection's
// buffers and stays valid until the response has been produced (the handler
// returns, or the Responder of an AsyncHandler is sent or destroyed).
struct Request {
  std::string_view method;  // as sent ("GET", "POST"); "HEAD" when a GET route answers a HEAD
  std::string_view target;  // request-target as sent (origin form; absolute form is reduced)
  std::string_view path;    // target up to '?', not percent-decoded
  std::string_view query;   // after '?', without it; empty when absent
  std::span<const Header> headers;  // in arrival order, names as sent
  std::string_view body;            // the complete body (chunked bodies are joined)
  std::string_view remote_address;  // peer IP ("127.0.0.1", "::1")
  std::uint16_t remote_port = 0;
  int version = 11;  // 10 for HTTP/1.0, 11 for HTTP/1.1
  bool tls = false;

  // The first value of a header (name compared case-insensitively), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  ByteView body_bytes() const noexcept {
    return {reinterpret_cast<const std::uint8_t*>(body.data()), body.size()};
  }
};

struct Response {
  int status = 200;          // 200..599
  std::string content_type;  // omitted when empty
  std::string body;          // not sent for HEAD, 204 and 304; Content-Length is set by the server
  // Extra header fields (Cache-Control, ETag, Last-Modified, Location, ...). Names must be
  // tokens and values must not contain CR, LF or NUL; Content-Length, Transfer-Encoding,
  // Connection and Date belong to the server. A violation turns the response into a 500.
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after this response

  static Response text(int status, std::string body);  // text/plain; charset=utf-8
  static Response bytes(int status, std::string content_type, ByteView body);
};

namespace internal {
class ResponseSink;
}

// Completes one request answered by an AsyncHandler. Move-only, single use,
// callable from any thread. Destroying it unsent answers the request with 500.
class Responder {
 public:
  Responder(Responder&&) noexcept = default;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  // Sends the response (once; later calls do nothing).
  void send(Response response);
  bool pending() const noexcept { return sink_ != nullptr; }

  // For the server (and tests): routes the response to `sink`.
  explicit Responder(std::shared_ptr<internal::ResponseSink> sink) noexcept
      : sink_(std::move(sink)) {}

 private:
  std::shared_ptr<internal::ResponseSink> sink_;
};

namespace internal {
// Where a Responder delivers; implemented by the server's connections.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void complete(Response response) = 0;
};
}  // namespace internal

// A handler runs on an I/O thread and must be short CPU work, unless its route
// is RouteOptions::blocking; an exception becomes a 500 (logged), never a crash.
using Handler = std::function<Response(const Request&)>;
// An asynchronous handler may hand the Responder to another thread and answer later
// (e.g. after database work). No time limit applies while a response is pending;
// stop() waits ServerConfig::stop_grace for it, then cuts the connection.
using AsyncHandler = std::function<void(const Request&, Responder)>;

enum class PathMatch {
  exact,   // the path equals the route's path
  prefix,  // the path starts with the route's path (the longest prefix wins; exact beats prefix)
};

struct RouteOptions {
  PathMatch match = PathMatch::exact;
  // Overrides ServerConfig::max_body_bytes for this route.
  std::optional<std::size_t> max_body_bytes;
  // The (synchronous) handler may block: database commits, key derivation,
  // signing. It runs on the server's handler pool (ServerConfig::handler_threads)
  // so that the I/O threads keep serving other connections, and so that many
  // such requests are in flight at once (their commits are grouped).
  bool blocking = false;
};

struct Route {
  std::string method;
  Handler handler;  // exactly one of handler / async_handler is set
  AsyncHandler async_handler;
  std::optional<std::size_t> max_body_bytes;
  bool blocking = false;  // handler runs on the handler pool
};

// What the router decided for a (method, path).
struct RouteMatch {
  const Route* route = nullptr;  // set when status == 200
  int status = 404;              // 200 found, 404 no such path, 405 path without that method
  std::string_view allow;        // for 405: the methods of the path ("GET, HEAD, POST")
};

// (method, path) -> handler. Methods are case-sensitive; a GET route also
// answers HEAD unless HEAD is registered. Registering the same method and path
// twice, or a path not starting with '/', throws std::invalid_argument.
class Router {
 public:
  Router& handle(std::string method, std::string path, Handler handler, RouteOptions options = {});
  Router& handle_async(std::string method, std::string path, AsyncHandler handler,
                       RouteOptions options = {});

  RouteMatch match(std::string_view method, std::string_view path) const noexcept;

 private:
  struct PathEntry {
    std::string path;
    PathMatch match;
    std::vector<Route> routes;
    std::string allow;
  };
  Router& add(std::string method, std::string path, Route route, RouteOptions options);
  const PathEntry* find_path(std::string_view path) const noexcept;

  std::vector<PathEntry> paths_;
};

}  // namespace dojang::service
