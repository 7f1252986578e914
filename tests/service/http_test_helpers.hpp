// A tiny blocking HTTP/1.1 client over POSIX sockets (and one over TLS), for
// driving service::HttpServer byte by byte in tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dojang::service::testing {

using namespace std::chrono_literals;

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class RawClient {
 public:
  // Connects to 127.0.0.1:port (or [::1]:port); throws on failure.
  explicit RawClient(std::uint16_t port, bool ipv6 = false);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Sends all bytes; false when the peer has gone.
  bool send(std::string_view bytes);
  // Reads one response (Content-Length framing; no body for HEAD or 1xx/204/304).
  // nullopt on EOF, reset or timeout.
  std::optional<RawResponse> read_response(bool head = false,
                                           std::chrono::milliseconds timeout = 5000ms);
  // Waits until the server closes the connection (EOF or reset); bytes that
  // arrive meanwhile are discarded. False when still open after `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout);
  // True when the connection is closed right now (non-blocking check).
  bool closed_now();
  // Sends a request and reads its response.
  std::optional<RawResponse> roundtrip(std::string_view request, bool head = false);

  int fd() const { return fd_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buf_;
};

// "GET path HTTP/1.1" with Host and optional extra header lines ("Name: value\r\n...").
std::string get_request(std::string_view path, std::string_view extra = {});
std::string post_request(std::string_view path, std::string_view body, std::string_view extra = {});

// Parses every response in `bytes` (used for a TLS stream read to EOF).
std::optional<RawResponse> parse_one(std::string& bytes, bool head = false);

// The absolute path of a program found on $PATH, or "" when there is none.
std::string find_program(const std::string& name);

// Sends `request` over TLS to 127.0.0.1:port, trusting `ca_file`, and returns
// what the server sent until it closed. Throws on handshake failure.
std::string tls_exchange(std::uint16_t port, const std::filesystem::path& ca_file,
                         const std::string& request);

}  // namespace dojang::service::testing
