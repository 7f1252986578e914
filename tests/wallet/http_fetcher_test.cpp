#include "dojang/wallet/http_fetcher.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace dojang::wallet {
namespace {

TEST(HttpFetcherTest, RefusesOtherSchemes) {
  HttpFetcher f;
  auto r = f.get("ldap://ldap.example/cn=CA?certificateRevocationList");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::usage);
  auto p = f.post("file:///etc/passwd", "application/ocsp-request", {});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, Errc::usage);
}

TEST(HttpFetcherTest, ClosedPortIsAnIoError) {
  FetcherOptions o;
  o.timeout_seconds = 5;
  HttpFetcher f(o);
  // Port 9 (discard) on loopback: nothing listens in the test environment.
  auto r = f.get("http://127.0.0.1:9/crl/p1.crl");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::io);
}

// A one-shot HTTP server on loopback that answers every request with `reply`.
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, reply] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      std::string req;
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      request = req;
      (void)::write(c, reply.data(), reply.size());
      ::close(c);
    });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  // The request it received (after it has answered).
  std::string received() {
    if (thread_.joinable()) thread_.join();
    return request;
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string request;

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

TEST(HttpFetcherTest, NonSuccessStatusIsAnIoError) {
  HttpFetcher f;
  Result<Bytes> r = Error{Errc::crypto, ""};
  {
    OneShotServer s("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    r = f.get(s.url("/crl/p9.crl"));
    EXPECT_TRUE(s.received().starts_with("GET /crl/p9.crl HTTP/1.1"));
  }
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_NE(r.error().message.find("HTTP 404"), std::string::npos) << r.error().message;
}

TEST(HttpFetcherTest, PostsWithTheContentTypeAndReturnsTheBody) {
  HttpFetcher f;
  std::string request;
  Result<Bytes> r = Error{Errc::crypto, ""};
  {
    OneShotServer s("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
    Bytes body = {1, 2, 3};
    r = f.post(s.url("/ocsp"), "application/ocsp-request", body);
    request = s.received();
  }
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(std::string(r->begin(), r->end()), "abc");
  EXPECT_TRUE(request.starts_with("POST /ocsp HTTP/1.1")) << request;
  EXPECT_NE(request.find("Content-Type: application/ocsp-request"), std::string::npos) << request;
}

}  // namespace
}  // namespace dojang::wallet
