#include <gtest/gtest.h>

#include <stdexcept>

#include "dojang/service/http.hpp"
#include "service/internal/wire.hpp"

namespace dojang::service {
namespace {

Handler say(std::string what) {
  return [what](const Request&) { return Response::text(200, what); };
}

std::string run(const RouteMatch& m) {
  if (m.route == nullptr || !m.route->handler) return "<none>";
  return m.route->handler(Request{}).body;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.handle("GET", "/ocsp", say("ocsp-exact"));
    router_.handle("POST", "/ocsp", say("ocsp-post"));
    router_.handle("GET", "/ocsp/", say("ocsp-get-prefix"), {PathMatch::prefix, std::nullopt});
    router_.handle("GET", "/crl/", say("crl"), {PathMatch::prefix, std::nullopt});
    router_.handle("GET", "/crl/special/", say("crl-special"), {PathMatch::prefix, std::nullopt});
    router_.handle("GET", "/crl/exact.crl", say("crl-exact"));
    router_.handle("HEAD", "/head-only", say("head"));
    router_.handle("POST", "/pkix/", say("cmp"), {PathMatch::exact, 2048});
  }

  void expect_route(std::string_view method, std::string_view path, const std::string& which) {
    auto m = router_.match(method, path);
    EXPECT_EQ(m.status, 200) << method << " " << path;
    EXPECT_EQ(run(m), which) << method << " " << path;
  }
  void expect_status(std::string_view method, std::string_view path, int status,
                     std::string_view allow = {}) {
    auto m = router_.match(method, path);
    EXPECT_EQ(m.status, status) << method << " " << path;
    EXPECT_EQ(m.route, nullptr);
    EXPECT_EQ(m.allow, allow);
  }

  Router router_;
};

TEST_F(RouterTest, ExactBeatsPrefixAndLongestPrefixWins) {
  expect_route("GET", "/ocsp", "ocsp-exact");
  expect_route("POST", "/ocsp", "ocsp-post");
  expect_route("GET", "/ocsp/MEIwQDA+", "ocsp-get-prefix");
  expect_route("GET", "/crl/1.crl", "crl");
  expect_route("GET", "/crl/special/x", "crl-special");
  expect_route("GET", "/crl/exact.crl", "crl-exact");
  expect_status("GET", "/crl", 404);
  expect_status("GET", "/", 404);
  expect_status("POST", "/pkix", 404);
}

TEST_F(RouterTest, HeadFallsBackToGet) {
  expect_route("HEAD", "/ocsp", "ocsp-exact");
  expect_route("HEAD", "/crl/1.crl", "crl");
  expect_route("HEAD", "/head-only", "head");
  expect_status("GET", "/head-only", 405, "HEAD");
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  expect_status("PUT", "/ocsp", 405, "GET, POST, HEAD");
  expect_status("POST", "/ocsp/abc", 405, "GET, HEAD");
  expect_status("GET", "/pkix/", 405, "POST");
  expect_status("get", "/ocsp", 405, "GET, POST, HEAD");  // methods are case-sensitive
}

TEST_F(RouterTest, RouteKeepsItsBodyLimit) {
  auto m = router_.match("POST", "/pkix/");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->max_body_bytes, 2048u);
  EXPECT_FALSE(router_.match("GET", "/ocsp").route->max_body_bytes.has_value());
}

TEST_F(RouterTest, RegistrationMistakesThrow) {
  EXPECT_THROW(router_.handle("GET", "/ocsp", say("again")), std::invalid_argument);
  EXPECT_THROW(router_.handle("GET", "relative", say("x")), std::invalid_argument);
  EXPECT_THROW(router_.handle("G T", "/x", say("x")), std::invalid_argument);
  EXPECT_THROW(router_.handle("GET", "/x", Handler{}), std::invalid_argument);
  // The same path as exact and as prefix are two routes.
  EXPECT_NO_THROW(
      router_.handle("GET", "/crl/exact.crl", say("p"), {PathMatch::prefix, std::nullopt}));
}

TEST(RequestTest, HeaderLookupIsCaseInsensitive) {
  std::vector<Header> headers{
      {"Content-Type", "application/ocsp-request"}, {"X-A", "1"}, {"x-a", "2"}};
  Request r;
  r.headers = headers;
  EXPECT_EQ(r.header("content-type"), "application/ocsp-request");
  EXPECT_EQ(r.header("X-a"), "1");
  EXPECT_FALSE(r.header("missing").has_value());
}

TEST(ResponderTest, DroppedResponderAnswers500Once) {
  struct Sink : internal::ResponseSink {
    void complete(Response r) override { statuses.push_back(r.status); }
    std::vector<int> statuses;
  };
  auto sink = std::make_shared<Sink>();
  {
    Responder a(sink);
    a.send(Response::text(201, "x"));
    a.send(Response::text(202, "ignored"));
    EXPECT_FALSE(a.pending());
  }
  { Responder dropped(sink); }
  {
    Responder moved(sink);
    Responder target(std::move(moved));
    EXPECT_FALSE(moved.pending());  // NOLINT(bugprone-use-after-move)
    target.send(Response::text(203, "y"));
  }
  EXPECT_EQ(sink->statuses, (std::vector<int>{201, 500, 203}));
}

// ---------------------------------------------------------------------------

TEST(WireTest, ParseListen) {
  auto v4 = internal::parse_listen("127.0.0.1:8080");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->address().to_string(), "127.0.0.1");
  EXPECT_EQ(v4->port(), 8080);
  auto v6 = internal::parse_listen("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_EQ(v6->port(), 0);
  auto any6 = internal::parse_listen("[::]:443");
  ASSERT_TRUE(any6.ok());
  EXPECT_TRUE(any6->address().is_unspecified());
  auto local = internal::parse_listen("localhost:1");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->address().to_string(), "127.0.0.1");
  for (const char* bad : {"", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:80x",
                          "::1:80", "[::1]80", "[::1", "example.com:80", "1.2.3:80"}) {
    auto r = internal::parse_listen(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, Errc::usage) << bad;
  }
}

TEST(WireTest, OriginForm) {
  EXPECT_EQ(internal::origin_form("/a?b"), "/a?b");
  EXPECT_EQ(internal::origin_form("http://h:1/a?b"), "/a?b");
  EXPECT_EQ(internal::origin_form("HTTPS://h"), "/");
  EXPECT_EQ(internal::origin_form("http://h?q"), "");
  EXPECT_EQ(internal::origin_form("*"), "");
  EXPECT_EQ(internal::origin_form("a/b"), "");
  EXPECT_EQ(internal::origin_form("ftp://h/x"), "");
}

TEST(WireTest, CheckResponse) {
  Response ok = Response::text(200, "x");
  ok.headers.emplace_back("Cache-Control", "max-age=300, public");
  EXPECT_EQ(internal::check_response(ok), "");
  auto problem = [](auto mutate) {
    Response r = Response::text(200, "x");
    mutate(r);
    return internal::check_response(r);
  };
  EXPECT_NE(problem([](Response& r) { r.status = 99; }), "");
  EXPECT_NE(problem([](Response& r) { r.status = 600; }), "");
  EXPECT_NE(problem([](Response& r) { r.status = 101; }), "");
  EXPECT_NE(problem([](Response& r) { r.headers.emplace_back("Bad Name", "v"); }), "");
  EXPECT_NE(problem([](Response& r) { r.headers.emplace_back("X", "a\nb"); }), "");
  EXPECT_NE(problem([](Response& r) { r.headers.emplace_back("X", std::string("a\0b", 3)); }), "");
  EXPECT_NE(problem([](Response& r) { r.headers.emplace_back("content-length", "1"); }), "");
  EXPECT_NE(problem([](Response& r) { r.headers.emplace_back("Connection", "close"); }), "");
  EXPECT_NE(problem([](Response& r) { r.content_type = "text/plain\r\nX: y"; }), "");
}

TEST(WireTest, AppendHead) {
  Response r = Response::text(404, "gone");
  r.headers.emplace_back("ETag", "\"1\"");
  std::string out;
  internal::append_head(out, r, false, /*keep_alive=*/false, false);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 404 Not Found\r\nDate: ")) << out;
  EXPECT_NE(out.find("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n"
                     "ETag: \"1\"\r\nConnection: close\r\n\r\n"),
            std::string::npos)
      << out;
  std::string date(internal::http_date_now());
  EXPECT_EQ(date.size(), 29u);
  EXPECT_TRUE(date.ends_with(" GMT"));
  EXPECT_EQ(date[3], ',');
}

}  // namespace
}  // namespace dojang::service
