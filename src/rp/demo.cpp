#include "dojang/rp/demo.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "dojang/pki/hex.hpp"
#include "dojang/pki/random.hpp"
#include "dojang/pki/signing.hpp"

namespace dojang::rp {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t kChallengeBytes = 32;
constexpr std::size_t kMaxChallenges = 10000;  // outstanding, before the oldest are dropped
constexpr std::size_t kMaxBody = 256 * 1024;

int status_for(pki::Verdict v) {
  switch (v) {
    case pki::Verdict::valid:
      return 200;
    case pki::Verdict::invalid:
      return 401;
    case pki::Verdict::refused:
      return 403;
    case pki::Verdict::unavailable:
      return 503;
  }
  return 401;
}

LoginOutcome refuse(int status, const std::string& reason) {
  nlohmann::json j{{"ok", false}, {"verdict", "invalid"}, {"reason", reason}};
  return {status, j.dump()};
}

}  // namespace

Result<std::string> LoginService::new_challenge() {
  DOJANG_ASSIGN(Bytes raw, pki::random_bytes(kChallengeBytes));
  std::string c = pki::to_hex(raw);
  const TimePoint now = clock_.now();
  std::lock_guard lock(mu_);
  std::erase_if(challenges_, [now](const auto& kv) { return kv.second < now; });
  if (challenges_.size() >= kMaxChallenges) challenges_.erase(challenges_.begin());
  challenges_[c] = now + c_.challenge_ttl;
  return c;
}

LoginOutcome LoginService::login(ByteView cms_der) {
  // Which challenge does it sign? (The full check below verifies the signature again.)
  auto signed_data = pki::verify_cms(cms_der, std::nullopt);
  if (!signed_data.ok()) {
    const bool bad = signed_data.error().code == Errc::bad_signature;
    return refuse(bad ? 401 : 400,
                  "not a valid signature of a challenge: " + signed_data.error().message);
  }
  std::string challenge(signed_data->content.begin(), signed_data->content.end());
  {
    std::lock_guard lock(mu_);
    auto it = challenges_.find(challenge);
    if (it == challenges_.end()) return refuse(400, "unknown or already used challenge");
    const bool expired = it->second < clock_.now();
    challenges_.erase(it);  // single use, whatever the outcome
    if (expired) return refuse(400, "the challenge has expired; fetch a new one");
  }

  pki::VerifyOptions o;
  o.trust = c_.trust;
  o.untrusted = c_.untrusted;
  o.purpose = c_.purpose;
  o.revocation = c_.revocation;
  o.crls = c_.crls;
  o.fetcher = c_.fetcher;
  if (c_.account_idn) o.idn = c_.account_idn->clone();
  pki::VerifyReport r = pki::verify_signed(cms_der, std::nullopt, o, clock_);

  nlohmann::json j{{"ok", r.verdict == pki::Verdict::valid},
                   {"verdict", pki::verdict_name(r.verdict)},
                   {"reason", r.summary}};
  j["user"] = nullptr;
  if (r.signer) {
    if (auto info = r.signer->info(); info.ok()) {
      j["user"] = info->cn;
      j["serial"] = "0x" + info->serial_hex;
    }
  }
  auto check = [](const pki::Check& c) {
    return nlohmann::json{{"status", pki::check_state_name(c.state)}, {"detail", c.detail}};
  };
  j["checks"] = {{"signature", check(r.signature)}, {"chain", check(r.chain)},
                 {"validity", check(r.validity)},   {"revocation", check(r.revocation)},
                 {"purpose", check(r.purpose)},     {"vid", check(r.vid)}};
  return {status_for(r.verdict), j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

struct DemoServer::Impl {
  LoginService& service;
  std::chrono::seconds io_timeout;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};

  explicit Impl(LoginService& s, std::chrono::seconds t) : service(s), io_timeout(t) {}

  http::response<http::string_body> handle(const http::request<http::string_body>& req) {
    http::response<http::string_body> res;
    res.version(11);
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(false);
    auto reply = [&res](int status, std::string body) {
      res.result(static_cast<unsigned>(status));
      res.body() = std::move(body);
      res.prepare_payload();
      return res;
    };
    if (req.target() == "/challenge" && req.method() == http::verb::get) {
      auto c = service.new_challenge();
      if (!c.ok())
        return reply(500, nlohmann::json{{"ok", false}, {"reason", c.error().message}}.dump());
      return reply(200, nlohmann::json{{"challenge", *c}}.dump());
    }
    if (req.target() == "/login" && req.method() == http::verb::post) {
      const std::string& b = req.body();
      LoginOutcome out =
          service.login(ByteView(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()));
      return reply(out.http_status, std::move(out.body));
    }
    if (req.target() == "/challenge" || req.target() == "/login")
      return reply(405, nlohmann::json{{"ok", false}, {"reason", "method not allowed"}}.dump());
    return reply(404, nlohmann::json{{"ok", false}, {"reason", "no such path"}}.dump());
  }

  void one(tcp::socket& s) {
    // Idle or slow peers: every read and write gives up after io_timeout.
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(io_timeout.count());
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    beast::error_code ec;
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBody);
    parser.header_limit(16 * 1024);
    http::read(s, buffer, parser, ec);
    if (ec) {
      if (ec == http::error::body_limit) {
        http::response<http::string_body> res{http::status::payload_too_large, 11};
        res.body() = R"({"ok":false,"reason":"request too large"})";
        res.prepare_payload();
        http::write(s, res, ec);
      }
      return;
    }
    auto res = handle(parser.get());
    http::write(s, res, ec);
    s.shutdown(tcp::socket::shutdown_both, ec);
  }
};

DemoServer::DemoServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DemoServer::~DemoServer() = default;

Result<std::unique_ptr<DemoServer>> DemoServer::create(const std::string& listen,
                                                       LoginService& service,
                                                       std::chrono::seconds io_timeout) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Error{Errc::usage, "--listen wants HOST:PORT"};
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec || !addr.is_loopback())
    return Error{Errc::usage,
                 "the demo relying party listens on a loopback address only, not '" + host + "'"};
  unsigned long port = 0;
  try {
    port = std::stoul(listen.substr(colon + 1));
  } catch (...) {
    return Error{Errc::usage, "bad port in --listen " + listen};
  }
  if (port > 65535) return Error{Errc::usage, "bad port in --listen " + listen};
  auto impl = std::make_unique<Impl>(service, io_timeout);
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error{Errc::io, "cannot listen on " + listen + ": " + ec.message()};
  return std::unique_ptr<DemoServer>(new DemoServer(std::move(impl)));
}

std::uint16_t DemoServer::port() const noexcept {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void DemoServer::serve() {
  for (;;) {
    tcp::socket s(impl_->ioc);
    boost::system::error_code ec;
    impl_->acceptor.accept(s, ec);
    if (ec) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // e.g. out of descriptors
      continue;
    }
    impl_->one(s);
  }
}

}  // namespace dojang::rp
