#include "dojang/service/http_server.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "service/http_test_helpers.hpp"
#include "testing/testing.hpp"

namespace dojang::service {
namespace {

using namespace std::chrono_literals;
using testing::get_request;
using testing::post_request;
using testing::RawClient;
using testing::RawResponse;
using Ms = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

Ms since(SteadyClock::time_point t) {
  return std::chrono::duration_cast<Ms>(SteadyClock::now() - t);
}

class HttpServerTest : public ::testing::Test {
 protected:
  ServerConfig config() {
    ServerConfig c;
    c.listen = "127.0.0.1:0";
    c.threads = 2;
    c.error_log = [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      errors_.emplace_back(line);
    };
    return c;
  }

  // The routes most tests use.
  Router routes() {
    Router r;
    r.handle("GET", "/hello", [](const Request&) { return Response::text(200, "hello"); });
    r.handle("POST", "/echo", [](const Request& req) {
      Response resp;
      resp.content_type = std::string(req.header("content-type").value_or("application/x-none"));
      resp.body = std::string(req.body);
      resp.headers.emplace_back("X-Body-Length", std::to_string(req.body.size()));
      return resp;
    });
    r.handle("GET", "/inspect", [](const Request& req) {
      std::string out;
      out += "method=" + std::string(req.method) + "\n";
      out += "path=" + std::string(req.path) + "\n";
      out += "query=" + std::string(req.query) + "\n";
      out += "x-test=" + std::string(req.header("X-TEST").value_or("<none>")) + "\n";
      out += "remote=" + std::string(req.remote_address) + "\n";
      out += "version=" + std::to_string(req.version) + "\n";
      out += "headers=" + std::to_string(req.headers.size()) + "\n";
      Response resp = Response::text(200, out);
      resp.headers.emplace_back("Cache-Control", "max-age=60");
      resp.headers.emplace_back("ETag", "\"abc\"");
      return resp;
    });
    r.handle("GET", "/item/",
             [](const Request& req) { return Response::text(200, std::string(req.path)); },
             {PathMatch::prefix, std::nullopt});
    r.handle(
        "POST", "/small",
        [](const Request& req) { return Response::text(200, std::to_string(req.body.size())); },
        {PathMatch::exact, 16});
    r.handle(
        "POST", "/large",
        [](const Request& req) { return Response::text(200, std::to_string(req.body.size())); },
        {PathMatch::exact, 4 * 1024 * 1024});
    r.handle("GET", "/throw",
             [](const Request&) -> Response { throw std::runtime_error("boom in handler"); });
    r.handle("GET", "/inject", [](const Request&) {
      Response resp = Response::text(200, "x");
      resp.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: y");
      return resp;
    });
    r.handle("GET", "/close", [](const Request&) {
      Response resp = Response::text(200, "bye");
      resp.close = true;
      return resp;
    });
    r.handle("GET", "/nocontent", [](const Request&) {
      Response resp;
      resp.status = 204;
      return resp;
    });
    return r;
  }

  void start(Router r, ServerConfig c) {
    server_ = std::make_unique<HttpServer>(std::move(c), std::move(r));
    auto port = server_->start();
    ASSERT_TRUE(port.ok()) << port.error().message;
    port_ = *port;
    ASSERT_NE(port_, 0);
  }
  void start() { start(routes(), config()); }

  void expect_response(const std::optional<RawResponse>& r, int status, const std::string& body) {
    ASSERT_TRUE(r.has_value()) << "no response";
    EXPECT_EQ(r->status, status);
    EXPECT_EQ(r->body, body);
  }

  void expect_error_close(RawClient& c, const std::string& request, int status) {
    c.send(request);
    auto r = c.read_response();
    ASSERT_TRUE(r.has_value()) << "no response";
    EXPECT_EQ(r->status, status);
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_TRUE(c.wait_closed(3000ms)) << "connection stays open after " << status;
  }

  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return errors_;
  }

  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::mutex log_mu_;
  std::vector<std::string> errors_;
};

TEST_F(HttpServerTest, GetAndPost) {
  start();
  RawClient c(port_);
  auto r = c.roundtrip(get_request("/hello"));
  expect_response(r, 200, "hello");
  EXPECT_EQ(r->header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r->header("content-length"), "5");
  EXPECT_TRUE(r->header("date").ends_with(" GMT")) << r->header("date");
  EXPECT_EQ(r->header("connection"), "");

  std::string body("\x00\x01binary\xff", 9);
  r = c.roundtrip(post_request("/echo", body));
  expect_response(r, 200, body);
  EXPECT_EQ(r->header("content-type"), "application/octet-stream");
  EXPECT_EQ(r->header("x-body-length"), "9");
}

TEST_F(HttpServerTest, RequestFieldsReachTheHandler) {
  start();
  RawClient c(port_);
  auto r = c.roundtrip(get_request("/inspect?a=1&b=%2F", "X-Test: yes\r\n"));
  expect_response(r, 200,
                  "method=GET\npath=/inspect\nquery=a=1&b=%2F\nx-test=yes\nremote=127.0.0.1\n"
                  "version=11\nheaders=2\n");
  EXPECT_EQ(r->header("cache-control"), "max-age=60");
  EXPECT_EQ(r->header("etag"), "\"abc\"");
  // Absolute form is reduced to the path.
  r = c.roundtrip("GET http://127.0.0.1/inspect?z HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->body.find("path=/inspect\nquery=z\n"), std::string::npos) << r->body;
}

TEST_F(HttpServerTest, PrefixRoute) {
  start();
  RawClient c(port_);
  expect_response(c.roundtrip(get_request("/item/abc/def")), 200, "/item/abc/def");
  expect_response(c.roundtrip(get_request("/item/")), 200, "/item/");
  auto r = c.roundtrip(get_request("/item"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
}

TEST_F(HttpServerTest, NotFoundAndMethodNotAllowed) {
  start();
  RawClient c(port_);
  auto r = c.roundtrip(get_request("/nope"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->header("connection"), "");  // the connection stays usable

  r = c.roundtrip("DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("allow"), "POST");
  expect_response(c.roundtrip(get_request("/hello")), 200, "hello");

  // With a body, the error comes before the body is read, and the connection closes.
  RawClient c2(port_);
  expect_error_close(c2, post_request("/hello", "x"), 405);
  RawClient c3(port_);
  r = c3.roundtrip("HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n", /*head=*/true);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("allow"), "POST");
  r = c3.roundtrip(post_request("/nothing/here", "x"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_EQ(server_->stats().responses_4xx, 5u);
}

TEST_F(HttpServerTest, HeadUsesGetRouteWithoutBody) {
  start();
  RawClient c(port_);
  auto r = c.roundtrip("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n", /*head=*/true);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-length"), "5");
  EXPECT_EQ(r->body, "");
  // Had a body been sent, it would now be read as the next status line.
  expect_response(c.roundtrip(get_request("/hello")), 200, "hello");
}

TEST_F(HttpServerTest, NoContentHasNoLength) {
  start();
  RawClient c(port_);
  auto r = c.roundtrip(get_request("/nocontent"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->header("content-length"), "");
  expect_response(c.roundtrip(get_request("/hello")), 200, "hello");
}

TEST_F(HttpServerTest, BodyTooLargeIs413AndCloses) {
  ServerConfig cfg = config();
  cfg.max_body_bytes = 1024;
  start(routes(), cfg);
  {
    // Announced length over the default limit: refused before the body is sent.
    RawClient c(port_);
    expect_error_close(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413);
  }
  {
    // Route override below the default.
    RawClient c(port_);
    expect_error_close(c, post_request("/small", std::string(17, 'a')), 413);
  }
  {
    RawClient c(port_);
    expect_response(c.roundtrip(post_request("/small", std::string(16, 'a'))), 200, "16");
  }
  {
    // Route override above the default.
    RawClient c(port_);
    expect_response(c.roundtrip(post_request("/large", std::string(100000, 'b'))), 200, "100000");
  }
  {
    // Chunked body growing past the limit.
    RawClient c(port_);
    std::string chunk(600, 'c');
    std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    req += "258\r\n" + chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n";
    expect_error_close(c, req, 413);
  }
}

TEST_F(HttpServerTest, ChunkedBodyIsJoined) {
  start();
  RawClient c(port_);
  auto r = c.roundtrip(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
      "\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  expect_response(r, 200, "hello world");
  // Trailer fields are accepted and discarded.
  r = c.roundtrip(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "\r\n3\r\nabc\r\n0\r\nX-Trailer: " +
      std::string(300, 't') + "\r\n\r\n");
  expect_response(r, 200, "abc");
}

TEST_F(HttpServerTest, ExpectContinue) {
  start();
  RawClient c(port_);
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  auto interim = c.read_response();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  c.send("ping");
  expect_response(c.read_response(), 200, "ping");
}

TEST_F(HttpServerTest, MalformedRequestsAre400AndClose) {
  start();
  for (std::string bad :
       {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
        std::string("GARBAGE\x01\x02\r\n\r\n"), std::string("GET / HTTP/9.9\r\nHost: x\r\n\r\n"),
        std::string("GET nopath HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
        std::string("GET /hello HTTP/1.1\r\n\r\n"),  // no Host
        std::string("GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        std::string("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                    "Content-Length: 2\r\n\r\nab")}) {
    RawClient c(port_);
    SCOPED_TRACE(bad);
    expect_error_close(c, bad, 400);
  }
  // The server is fine.
  RawClient c(port_);
  expect_response(c.roundtrip(get_request("/hello")), 200, "hello");
}

TEST_F(HttpServerTest, HeaderTooLargeIs431) {
  start();
  RawClient c(port_);
  expect_error_close(c, get_request("/hello", "X-Big: " + std::string(20000, 'x') + "\r\n"), 431);
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  RawClient c(port_);
  for (int i = 0; i < 20; ++i) {
    auto r = c.roundtrip(get_request("/item/" + std::to_string(i)));
    expect_response(r, 200, "/item/" + std::to_string(i));
  }
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
  EXPECT_EQ(server_->stats().requests, 20u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  RawClient c(port_);
  std::string batch;
  for (int i = 0; i < 10; ++i) batch += get_request("/item/" + std::to_string(i));
  batch += post_request("/echo", "last one");
  c.send(batch);
  for (int i = 0; i < 10; ++i) {
    expect_response(c.read_response(), 200, "/item/" + std::to_string(i));
  }
  expect_response(c.read_response(), 200, "last one");
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  start();
  {
    RawClient c(port_);
    auto r = c.roundtrip(get_request("/hello", "Connection: close\r\n"));
    expect_response(r, 200, "hello");
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_TRUE(c.wait_closed(2000ms));
  }
  {
    // Requests pipelined after a close are not answered.
    RawClient c(port_);
    c.send(get_request("/hello", "Connection: close\r\n") + get_request("/hello"));
    expect_response(c.read_response(), 200, "hello");
    EXPECT_FALSE(c.read_response(false, 1000ms).has_value());
  }
  {
    // The handler asks to close.
    RawClient c(port_);
    auto r = c.roundtrip(get_request("/close"));
    expect_response(r, 200, "bye");
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_TRUE(c.wait_closed(2000ms));
  }
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAlive) {
  start();
  {
    RawClient c(port_);
    auto r = c.roundtrip("GET /hello HTTP/1.0\r\n\r\n");
    expect_response(r, 200, "hello");
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_TRUE(c.wait_closed(2000ms));
  }
  {
    RawClient c(port_);
    auto r = c.roundtrip("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    expect_response(r, 200, "hello");
    EXPECT_EQ(r->header("connection"), "keep-alive");
    expect_response(c.roundtrip("GET /hello HTTP/1.0\r\n\r\n"), 200, "hello");
  }
}

TEST_F(HttpServerTest, TwoHundredConcurrentClients) {
  start();
  constexpr int kClients = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      try {
        RawClient c(port_);
        for (int j = 0; j < 3; ++j) {
          std::string body = "client " + std::to_string(i) + " request " + std::to_string(j);
          auto r = c.roundtrip(post_request("/echo", body));
          if (!r || r->status != 200 || r->body != body) return;
        }
        ++ok;
      } catch (const std::exception&) {
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients);
  EXPECT_EQ(server_->stats().requests, 3u * kClients);
}

TEST_F(HttpServerTest, SlowlorisDoesNotStallOthersAndIsCutAfterHeaderTimeout) {
  ServerConfig cfg = config();
  cfg.header_timeout = 1s;
  start(routes(), cfg);
  auto t0 = SteadyClock::now();

  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 50; ++i) idle.push_back(std::make_unique<RawClient>(port_));
  // Five clients trickle a header one byte every 100 ms.
  std::atomic<int> trickle_closed{0};
  std::vector<std::thread> tricklers;
  for (int i = 0; i < 5; ++i) {
    tricklers.emplace_back([&] {
      RawClient c(port_);
      std::string header = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 's');
      auto start = SteadyClock::now();
      for (char ch : header) {
        if (!c.send(std::string_view(&ch, 1)) || c.closed_now()) {
          ++trickle_closed;
          return;
        }
        if (since(start) > 5000ms) return;
        std::this_thread::sleep_for(100ms);
      }
    });
  }

  // A normal client is served at once.
  auto t1 = SteadyClock::now();
  RawClient normal(port_);
  expect_response(normal.roundtrip(get_request("/hello")), 200, "hello");
  EXPECT_LT(since(t1), 1000ms);

  // The idle ones are closed after about a second.
  for (auto& c : idle) EXPECT_TRUE(c->wait_closed(4000ms - since(t0)));
  auto elapsed = since(t0);
  EXPECT_GE(elapsed, 700ms);
  EXPECT_LT(elapsed, 4000ms);
  for (auto& t : tricklers) t.join();
  EXPECT_EQ(trickle_closed.load(), 5);
  EXPECT_GE(server_->stats().timeouts, 55u);

  // The keep-alive client is still served (its idle timeout is 30 s).
  expect_response(normal.roundtrip(get_request("/hello")), 200, "hello");
}

TEST_F(HttpServerTest, IdleKeepAliveIsClosedAfterIdleTimeout) {
  ServerConfig cfg = config();
  cfg.idle_timeout = 1s;
  start(routes(), cfg);
  RawClient c(port_);
  expect_response(c.roundtrip(get_request("/hello")), 200, "hello");
  auto t0 = SteadyClock::now();
  EXPECT_TRUE(c.wait_closed(3000ms));
  EXPECT_GE(since(t0), 700ms);
}

TEST_F(HttpServerTest, SlowBodyIsCutAfterBodyTimeout) {
  ServerConfig cfg = config();
  cfg.body_timeout = 1s;
  start(routes(), cfg);
  RawClient c(port_);
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
  auto t0 = SteadyClock::now();
  EXPECT_TRUE(c.wait_closed(3000ms));
  EXPECT_GE(since(t0), 700ms);
  EXPECT_EQ(server_->stats().timeouts, 1u);
}

TEST_F(HttpServerTest, WriteTimeoutCutsAClientThatDoesNotRead) {
  ServerConfig cfg = config();
  cfg.write_timeout = 1s;
  Router r;
  r.handle("GET", "/big",
           [](const Request&) { return Response::text(200, std::string(32 << 20, 'z')); });
  start(std::move(r), cfg);
  RawClient c(port_);
  int small = 4096;
  ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  c.send(get_request("/big"));
  auto t0 = SteadyClock::now();
  // Never read: the server's write stalls and is cut.
  for (;;) {
    if (server_->stats().timeouts >= 1 || since(t0) > 5000ms) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(server_->stats().timeouts, 1u);
  EXPECT_LT(since(t0), 3000ms);
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndServerKeepsServing) {
  start();
  RawClient c(port_);
  auto r = c.roundtrip(get_request("/throw"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 500);
  // Same connection, and a fresh one, keep working.
  expect_response(c.roundtrip(get_request("/hello")), 200, "hello");
  RawClient c2(port_);
  expect_response(c2.roundtrip(get_request("/hello")), 200, "hello");
  auto errs = errors();
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("GET /throw"), std::string::npos) << errs[0];
  EXPECT_NE(errs[0].find("boom in handler"), std::string::npos) << errs[0];
  EXPECT_EQ(server_->stats().handler_errors, 1u);
  EXPECT_EQ(server_->stats().responses_5xx, 1u);
}

TEST_F(HttpServerTest, HeaderInjectionFromAHandlerIs500) {
  start();
  RawClient c(port_);
  auto r = c.roundtrip(get_request("/inject"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->header("set-cookie"), "");
  EXPECT_EQ(server_->stats().handler_errors, 1u);
}

TEST_F(HttpServerTest, AsyncHandlerAnswersFromAnotherThread) {
  std::vector<std::thread> workers;
  std::mutex mu;
  Router r;
  r.handle_async("POST", "/later", [&](const Request& req, Responder done) {
    std::string body(req.body);  // copy: the request's views end with the response
    std::lock_guard<std::mutex> lock(mu);
    workers.emplace_back([body, done = std::move(done)]() mutable {
      std::this_thread::sleep_for(20ms);
      done.send(Response::text(202, "later:" + body));
    });
  });
  r.handle_async("GET", "/dropped", [](const Request&, Responder) {});
  start(std::move(r), config());
  RawClient c(port_);
  expect_response(c.roundtrip(post_request("/later", "abc")), 202, "later:abc");
  expect_response(c.roundtrip(post_request("/later", "def")), 202, "later:def");
  auto dropped = c.roundtrip(get_request("/dropped"));
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(dropped->status, 500);
  std::lock_guard<std::mutex> lock(mu);
  for (auto& t : workers) t.join();
}

// A blocking route's handlers run on the handler pool: eight requests that can
// only finish together (each waits for all eight to arrive) complete on a
// server with one I/O thread, and a non-blocking route keeps answering while
// they wait. An exception there is a 500 like anywhere else.
TEST_F(HttpServerTest, BlockingRoutesRunTogetherOnTheHandlerPool) {
  constexpr int kClients = 8;
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  std::string handler_body;
  Router r = routes();
  RouteOptions blocking;
  blocking.blocking = true;
  r.handle(
      "POST", "/together",
      [&](const Request& req) {
        std::unique_lock<std::mutex> lock(mu);
        ++arrived;
        cv.notify_all();
        bool all = cv.wait_for(lock, 10s, [&] { return arrived >= kClients; });
        return Response::text(all ? 200 : 504, std::string(req.body));
      },
      blocking);
  r.handle(
      "GET", "/blocking-throws",
      [](const Request&) -> Response { throw std::runtime_error("boom"); }, blocking);
  ServerConfig cfg = config();
  cfg.threads = 1;
  cfg.handler_threads = kClients;
  start(std::move(r), cfg);

  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(clients.back()->send(post_request("/together", "n" + std::to_string(i))));
  }
  {  // while all but the last wait, the I/O thread still answers
    RawClient other(port_);
    expect_response(other.roundtrip(get_request("/hello")), 200, "hello");
  }
  for (int i = 0; i < kClients; ++i) {
    auto resp = clients[static_cast<size_t>(i)]->read_response(false, 15000ms);
    ASSERT_TRUE(resp.has_value()) << "client " << i;
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "n" + std::to_string(i));
  }
  RawClient c(port_);
  auto thrown = c.roundtrip(get_request("/blocking-throws"));
  ASSERT_TRUE(thrown.has_value());
  EXPECT_EQ(thrown->status, 500);
  expect_response(c.roundtrip(get_request("/hello")), 200, "hello");  // still serving
  EXPECT_EQ(server_->stats().handler_errors, 1u);
}

TEST_F(HttpServerTest, ResponderOutlivingTheServerIsHarmless) {
  std::optional<Responder> kept;
  std::atomic<bool> got{false};
  Router r;
  r.handle_async("GET", "/hold", [&](const Request&, Responder done) {
    kept.emplace(std::move(done));
    got = true;
  });
  ServerConfig cfg = config();
  cfg.stop_grace = 200ms;
  start(std::move(r), cfg);
  RawClient c(port_);
  c.send(get_request("/hold"));
  while (!got) std::this_thread::sleep_for(5ms);
  auto t0 = SteadyClock::now();
  server_.reset();  // stop() waits stop_grace for the held request, then cuts it
  EXPECT_LT(since(t0), 2000ms);
  kept->send(Response::text(200, "too late"));
  kept.reset();
  EXPECT_TRUE(c.wait_closed(1000ms));
}

TEST_F(HttpServerTest, StopWithOpenConnectionsReturnsPromptly) {
  start();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 20; ++i) clients.push_back(std::make_unique<RawClient>(port_));
  RawClient keep(port_);
  expect_response(keep.roundtrip(get_request("/hello")), 200, "hello");
  RawClient partial(port_);
  partial.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc");
  std::this_thread::sleep_for(50ms);
  auto t0 = SteadyClock::now();
  server_->stop();
  EXPECT_LT(since(t0), 1000ms);
  for (auto& c : clients) EXPECT_TRUE(c->wait_closed(1000ms));
  EXPECT_TRUE(keep.wait_closed(1000ms));
  EXPECT_TRUE(partial.wait_closed(1000ms));
  server_->stop();  // idempotent
  EXPECT_THROW(RawClient late(port_), std::runtime_error);
}

TEST_F(HttpServerTest, MaxConnectionsRejectsTheSurplus) {
  ServerConfig cfg = config();
  cfg.max_connections = 5;
  start(routes(), cfg);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<RawClient>(port_));
    expect_response(clients.back()->roundtrip(get_request("/hello")), 200, "hello");
  }
  RawClient extra(port_);
  EXPECT_TRUE(extra.wait_closed(2000ms));
  EXPECT_EQ(server_->stats().connections_rejected, 1u);
  EXPECT_EQ(server_->stats().connections_active, 5u);
  clients.pop_back();
  // Once a slot is free, a new client gets in.
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (server_->stats().connections_active < 5) break;
    std::this_thread::sleep_for(20ms);
  }
  RawClient next(port_);
  expect_response(next.roundtrip(get_request("/hello")), 200, "hello");
}

TEST_F(HttpServerTest, ListensOnIpv6Loopback) {
  ServerConfig cfg = config();
  cfg.listen = "[::1]:0";
  HttpServer server(cfg, routes());
  auto port = server.start();
  if (!port.ok()) GTEST_SKIP() << "no IPv6 loopback: " << port.error().message;
  RawClient c(*port, /*ipv6=*/true);
  auto r = c.roundtrip(get_request("/inspect"));
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->body.find("remote=::1\n"), std::string::npos) << r->body;
}

TEST_F(HttpServerTest, BadConfigurationIsRefused) {
  auto expect_start_error = [&](ServerConfig c, Errc code) {
    HttpServer s(std::move(c), routes());
    auto port = s.start();
    ASSERT_FALSE(port.ok());
    EXPECT_EQ(port.error().code, code) << port.error().message;
  };
  ServerConfig c = config();
  c.listen = "nonsense";
  expect_start_error(c, Errc::usage);
  c.listen = "127.0.0.1:99999";
  expect_start_error(c, Errc::usage);
  c = config();
  c.header_timeout = 0s;
  expect_start_error(c, Errc::usage);
  c = config();
  c.threads = -1;
  expect_start_error(c, Errc::usage);
  c = config();
  c.handler_threads = 0;
  expect_start_error(c, Errc::usage);

  start();
  c = config();
  c.listen = "127.0.0.1:" + std::to_string(port_);
  expect_start_error(c, Errc::io);  // already in use

  c = config();
  c.tls = TlsFiles{"/nonexistent/cert.pem", "/nonexistent/key.pem"};
  expect_start_error(c, Errc::io);

  HttpServer twice(config(), routes());
  ASSERT_TRUE(twice.start().ok());
  auto again = twice.start();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::usage);
}

void ignore_signal(int) {}

TEST_F(HttpServerTest, RunUntilSignalReturnsTheSignal) {
  start();
  // One SIGTERM, sent once run_until_signal has installed its handler (until then
  // our own no-op handler is in place, so nothing can kill the test binary).
  struct sigaction ignore {};
  ignore.sa_handler = ignore_signal;
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGTERM, &ignore, &previous), 0);
  std::thread killer([] {
    for (int i = 0; i < 1000; ++i) {
      struct sigaction now {};
      ::sigaction(SIGTERM, nullptr, &now);
      if (now.sa_handler != ignore_signal) {
        ::kill(::getpid(), SIGTERM);
        return;
      }
      std::this_thread::sleep_for(5ms);
    }
  });
  int sig = server_->run_until_signal();
  killer.join();
  ::sigaction(SIGTERM, &previous, nullptr);
  EXPECT_EQ(sig, SIGTERM);
  EXPECT_THROW(RawClient late(port_), std::runtime_error);  // stopped
}

// ---------------------------------------------------------------------------

class HttpsServerTest : public HttpServerTest {
 protected:
  void SetUp() override {
    auto r = dojang::testing::run({testing::find_program("openssl"), "req", "-x509", "-newkey",
                                   "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                                   (dir_ / "key.pem").string(), "-out",
                                   (dir_ / "cert.pem").string(), "-days", "1", "-subj",
                                   "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ServerConfig tls_config() {
    ServerConfig c = config();
    c.tls = TlsFiles{(dir_ / "cert.pem").string(), (dir_ / "key.pem").string()};
    return c;
  }
  dojang::testing::TempDir dir_;
};

TEST_F(HttpsServerTest, RoundTripOverTls) {
  start(routes(), tls_config());
  std::string out = testing::tls_exchange(
      port_, dir_ / "cert.pem",
      get_request("/hello") + post_request("/echo", "over tls", "Connection: close\r\n"));
  auto first = testing::parse_one(out);
  expect_response(first, 200, "hello");
  auto second = testing::parse_one(out);
  expect_response(second, 200, "over tls");
  EXPECT_EQ(second->header("connection"), "close");
}

TEST_F(HttpsServerTest, PlainHttpOnTheTlsPortIsDropped) {
  start(routes(), tls_config());
  RawClient c(port_);
  c.send(get_request("/hello"));
  EXPECT_TRUE(c.wait_closed(3000ms));
  EXPECT_EQ(server_->stats().tls_handshake_failures, 1u);
}

TEST_F(HttpsServerTest, SilentClientIsCutDuringHandshake) {
  ServerConfig cfg = tls_config();
  cfg.header_timeout = 1s;
  start(routes(), cfg);
  RawClient c(port_);
  auto t0 = SteadyClock::now();
  EXPECT_TRUE(c.wait_closed(3000ms));
  EXPECT_GE(since(t0), 700ms);
}

TEST_F(HttpsServerTest, CurlAcceptsTheServer) {
  std::string curl = testing::find_program("curl");
  if (curl.empty()) GTEST_SKIP() << "curl not installed";
  start(routes(), tls_config());
  std::string url = "https://127.0.0.1:" + std::to_string(port_) + "/hello";
  auto r = dojang::testing::run({curl, "-sS", "--cacert", (dir_ / "cert.pem").string(), url});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello");
}

TEST_F(HttpsServerTest, MismatchedKeyIsRefused) {
  auto r = dojang::testing::run({testing::find_program("openssl"), "genpkey", "-algorithm", "EC",
                                 "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                                 (dir_ / "other.pem").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ServerConfig cfg = tls_config();
  cfg.tls->key_file = (dir_ / "other.pem").string();
  HttpServer s(cfg, routes());
  auto port = s.start();
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.error().code, Errc::invalid_input) << port.error().message;
}

}  // namespace
}  // namespace dojang::service
