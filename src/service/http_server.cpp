#include "dojang/service/http_server.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <exception>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pki/internal/ossl.hpp"
#include "service/internal/wire.hpp"

namespace dojang::service {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using TlsStream = net::ssl::stream<Socket>;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Executor>;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 8192;
// After a response that closes the connection: how long unread request bytes are drained
// so the peer sees our response and a FIN rather than a reset.
constexpr std::chrono::seconds kLinger{2};
// Buffers above these sizes are released after the request instead of kept for the next.
constexpr std::size_t kKeepBodyCapacity = 64 * 1024;
constexpr std::size_t kKeepArenaCapacity = 32 * 1024;
// Bodies up to this size are copied behind the header and written as one buffer.
constexpr std::size_t kCoalesceBody = 8 * 1024;

// Single-writer counter: only the owning I/O thread increments; stats() reads.
using Counter = std::atomic<std::uint64_t>;
inline void bump(Counter& c) noexcept {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

struct Counters {
  Counter requests{0};
  Counter responses_4xx{0};
  Counter responses_5xx{0};
  Counter handler_errors{0};
  Counter timeouts{0};
  Counter tls_handshake_failures{0};
};

class SessionBase;
struct Core;

// One I/O thread: its event loop, its connections and its counters.
struct Worker {
  Counters counters;
  SessionBase* sessions = nullptr;  // intrusive list, touched only on this worker's thread
  // Declared after the members its queued handlers touch, so it is destroyed first.
  net::io_context ioc{1};
  std::optional<Timer> sweeper;
  std::optional<net::executor_work_guard<Executor>> guard;
  std::thread thread;
};

// State shared by the server, its threads and its connections. Owned by a
// shared_ptr: an async Responder keeps it (and so the event loops it posts to)
// alive after the server is gone.
struct Core : std::enable_shared_from_this<Core> {
  Core(ServerConfig c, Router r) : config(std::move(c)), router(std::move(r)) {}
  ~Core() {
    acceptor.reset();
    accept_retry.reset();
    for (auto& w : workers) {
      w->guard.reset();
      w->sweeper.reset();
    }
    workers.clear();  // destroys the event loops and, with them, every connection
  }

  void log_error(std::string_view line) const {
    if (config.error_log) {
      try {
        config.error_log(line);
      } catch (...) {  // NOLINT(bugprone-empty-catch): a failing log sink must not stop the server
      }
      return;
    }
    std::string out = "dojangd http: ";
    out += line;
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stderr);
  }

  void release_connection() {
    if (active.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
        stopping.load(std::memory_order_acquire)) {
      { std::lock_guard<std::mutex> lock(mu); }
      drained.notify_all();
    }
  }

  ServerConfig config;
  Router router;
  // Runs the handlers of blocking routes; owned (and joined) by HttpServer::Impl,
  // which outlives every I/O thread that posts to it.
  net::thread_pool* handler_pool = nullptr;
  std::optional<net::ssl::context> tls;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<Acceptor> acceptor;  // on workers[0]
  std::optional<Timer> accept_retry;
  std::size_t next_worker = 0;
  SteadyClock::time_point last_accept_log{};
  std::chrono::milliseconds sweep_interval{250};

  std::atomic<std::size_t> active{0};
  std::atomic<bool> stopping{false};
  Counter accepted{0};
  Counter rejected{0};
  std::mutex mu;
  std::condition_variable drained;
};

// Counts one open connection; releases it when destroyed.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(Core* core) noexcept : core_(core) {}
  ConnectionSlot(ConnectionSlot&& o) noexcept : core_(std::exchange(o.core_, nullptr)) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() {
    if (core_ != nullptr) core_->release_connection();
  }

 private:
  Core* core_;
};

// ---------------------------------------------------------------------------
// One request being received: method, target, header fields and body, kept in
// per-connection storage that is reused (and wiped) from request to request.

struct Message {
  struct Span {
    std::uint32_t off = 0;
    std::uint32_t len = 0;
  };
  std::string arena;  // method, target and header fields, back to back
  Span method;
  Span target;
  std::vector<std::pair<Span, Span>> fields;
  std::vector<Header> headers;
  std::string body;
  std::string_view path;
  std::string_view query;
  int version = 11;
  int host_fields = 0;
  bool header_done = false;
  bool expect_continue = false;
  bool head = false;
  RouteMatch match;

  Span put(std::string_view s) {
    Span sp{static_cast<std::uint32_t>(arena.size()), static_cast<std::uint32_t>(s.size())};
    arena.append(s.data(), s.size());
    return sp;
  }
  std::string_view view(Span s) const noexcept { return {arena.data() + s.off, s.len}; }

  // Called once the header is complete (the arena no longer grows).
  void finish_header() {
    header_done = true;
    headers.clear();
    for (const auto& [n, v] : fields) headers.push_back(Header{view(n), view(v)});
    std::string_view t = view(target);
    auto q = t.find('?');
    path = t.substr(0, q);
    query = q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
  }

  void reset() {
    // Request bytes may carry passwords, codes or tokens.
    if (!arena.empty()) secure_wipe(arena.data(), arena.size());
    if (!body.empty()) secure_wipe(body.data(), body.size());
    arena.clear();
    body.clear();
    if (arena.capacity() > kKeepArenaCapacity) std::string().swap(arena);
    if (body.capacity() > kKeepBodyCapacity) std::string().swap(body);
    fields.clear();
    headers.clear();
    method = target = Span{};
    path = query = {};
    version = 11;
    host_fields = 0;
    header_done = false;
    expect_continue = false;
    head = false;
    match = RouteMatch{};
  }
};

bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view sv(beast::string_view s) noexcept {
  return {s.data(), s.size()};
}

// Beast's HTTP/1 parser feeding a Message. The route is chosen as soon as the
// request line is in, so that the route's body limit applies to Content-Length.
class RequestParser final : public http::basic_parser<true> {
 public:
  RequestParser(Message& m, const Router& router, std::size_t default_body_limit,
                std::size_t header_limit)
      : m_(m), router_(router), default_body_limit_(default_body_limit) {
    this->header_limit(static_cast<std::uint32_t>(header_limit));
    this->body_limit(default_body_limit);
  }

 private:
  void on_request_impl(http::verb, beast::string_view method, beast::string_view target,
                       int version, error_code& ec) override {
    std::string_view origin = internal::origin_form(sv(target));
    if (origin.empty()) {
      ec = http::error::bad_target;
      return;
    }
    m_.method = m_.put(sv(method));
    m_.target = m_.put(origin);
    m_.version = version;
    std::string_view path = origin.substr(0, origin.find('?'));
    m_.match = router_.match(sv(method), path);
    m_.head = sv(method) == "HEAD";
    std::size_t limit = default_body_limit_;
    if (m_.match.route != nullptr && m_.match.route->max_body_bytes) {
      limit = *m_.match.route->max_body_bytes;
    }
    this->body_limit(limit);
  }

  void on_response_impl(int, beast::string_view, int, error_code& ec) override {
    ec = http::error::bad_method;
  }

  void on_field_impl(http::field name, beast::string_view name_string, beast::string_view value,
                     error_code&) override {
    if (m_.header_done) return;  // a chunked body's trailer fields are discarded (RFC 9112 7.1.2)
    if (name == http::field::expect && iequals_ascii(sv(value), "100-continue")) {
      m_.expect_continue = true;
    }
    if (name == http::field::host) ++m_.host_fields;
    m_.fields.emplace_back(m_.put(sv(name_string)), m_.put(sv(value)));
  }

  void on_header_impl(error_code& ec) override {
    // RFC 9112 section 3.2: 400 for an HTTP/1.1 request without Host, and for any
    // request with more than one.
    if (m_.host_fields > 1 || (m_.version >= 11 && m_.host_fields == 0)) {
      ec = http::error::bad_field;
      return;
    }
    m_.finish_header();
  }

  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code&) override {
    // Already checked against the body limit by the parser.
    if (content_length) m_.body.reserve(static_cast<std::size_t>(*content_length));
  }

  std::size_t on_body_impl(beast::string_view body, error_code&) override {
    m_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    m_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(error_code&) override {}

  Message& m_;
  const Router& router_;
  std::size_t default_body_limit_;
};

// The first bytes of a request must look like `token SP`; anything else (a TLS
// ClientHello on the plain port, binary noise) is refused at once instead of
// waiting for a CRLF CRLF that may never come.
bool plausible_request_start(std::string_view data) noexcept {
  std::size_t n = std::min<std::size_t>(data.size(), 24);
  for (std::size_t i = 0; i < n; ++i) {
    if (data[i] == ' ') return i > 0;
    if (!internal::is_tchar(data[i])) return false;
  }
  return data.size() < 24;  // no SP within 24 bytes: not a method we could know
}

int status_for(const error_code& ec) noexcept {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  return 400;
}

Response error_response(int status) {
  std::string body(internal::reason_phrase(status));
  for (auto& c : body) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  body += '\n';
  return Response::text(status, std::move(body));
}

// ---------------------------------------------------------------------------
// A connection. Reads and writes are strictly alternating, so pipelined
// requests are answered in order. Every phase has a deadline that the worker's
// sweeper enforces by closing the socket.

enum class Phase {
  handshake,  // TLS handshake (counts against the first header's deadline)
  idle,       // keep-alive, waiting for the first byte of the next request
  header,     // receiving a request header
  body,       // receiving a request body
  handling,   // a handler is producing the response (no deadline)
  writing,    // writing a response (or 100 Continue)
  closing,    // response sent; draining / TLS shutdown before close
  closed,
};

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  SessionBase(Core& core, Worker& worker, ConnectionSlot slot, const tcp::endpoint& remote,
              bool tls)
      : core_(core), worker_(worker), slot_(std::move(slot)) {
    remote_address_ = remote.address().to_string();
    remote_port_ = remote.port();
    tls_ = tls;
    // Link into the worker's list (we are on its thread).
    next_ = worker_.sessions;
    if (next_ != nullptr) next_->prev_ = this;
    worker_.sessions = this;
    in_.max_size(core_.config.max_header_bytes + 2 * kReadChunk);
  }

  virtual ~SessionBase() {
    if (prev_ != nullptr) {
      prev_->next_ = next_;
    } else if (worker_.sessions == this) {
      worker_.sessions = next_;
    }
    if (next_ != nullptr) next_->prev_ = prev_;
    msg_.reset();
    try {
      in_.consume(in_.size());
      auto all = in_.prepare(std::min(in_.capacity(), in_.max_size()));
      secure_wipe(all.data(), all.size());
    } catch (const std::length_error&) {  // NOLINT(bugprone-empty-catch): cannot happen
    }
  }

  SessionBase(const SessionBase&) = delete;
  SessionBase& operator=(const SessionBase&) = delete;

  virtual void start() = 0;

  // Worker thread, from the sweeper.
  void sweep(SteadyClock::time_point now) {
    if (phase_ != Phase::closed && deadline_ <= now) {
      bump(worker_.counters.timeouts);
      close_now();
    }
  }

  // Worker thread, from stop(): connections waiting for input go now; a
  // response being produced or written is finished (then the connection closes).
  void on_stop() {
    switch (phase_) {
      case Phase::handling:
      case Phase::writing:
        if (!continue_write_) break;
        [[fallthrough]];
      default:
        close_now();
    }
  }

  SessionBase* next() const noexcept { return next_; }

  // Closes the socket now (for stop(), once the threads are gone).
  void close() { close_now(); }

  // Any thread: hands an async handler's response to this connection's thread.
  void post_response(Response response) {
    net::post(worker_.ioc, [self = shared_from_this(), r = std::move(response)]() mutable {
      self->on_async_response(std::move(r));
    });
  }

 protected:
  virtual void async_read(net::mutable_buffer buf) = 0;
  virtual void async_write_response(std::array<net::const_buffer, 2> bufs) = 0;
  virtual void async_write_continue() = 0;
  virtual void graceful_close() = 0;
  virtual void close_now() = 0;

  void set_deadline(std::chrono::steady_clock::duration d) { deadline_ = SteadyClock::now() + d; }

  void begin_message() {
    msg_.reset();
    parser_.emplace(msg_, core_.router, core_.config.max_body_bytes, core_.config.max_header_bytes);
    header_seen_ = false;
    keep_alive_ = true;
    continue_write_ = false;
  }

  void read_more() {
    net::mutable_buffer buf;
    try {
      buf = in_.prepare(kReadChunk);
    } catch (const std::length_error&) {
      return protocol_error(431);
    }
    async_read(buf);
  }

  void on_read(const error_code& ec, std::size_t n) {
    if (phase_ == Phase::closed) return;
    if (ec) return finish();
    in_.commit(n);
    if (phase_ == Phase::idle) {
      phase_ = Phase::header;
      set_deadline(core_.config.header_timeout);
    }
    parse();
  }

  // Feeds the buffered bytes to the parser; reads more, or dispatches.
  void parse() {
    for (;;) {
      if (!parser_->got_some()) {
        // RFC 9112 section 2.2: ignore empty lines before a request-line.
        auto data = static_cast<const char*>(in_.data().data());
        std::size_t skip = 0;
        while (skip < in_.size() && (data[skip] == '\r' || data[skip] == '\n')) ++skip;
        in_.consume(skip);
        if (in_.size() == 0) return read_more();
        if (!plausible_request_start({static_cast<const char*>(in_.data().data()), in_.size()})) {
          return protocol_error(400);
        }
      }
      if (in_.size() == 0) return read_more();
      error_code ec;
      std::size_t used = parser_->put(in_.data(), ec);
      in_.consume(used);
      if (ec == http::error::need_more) return read_more();
      if (ec) return protocol_error(status_for(ec));
      if (!header_seen_ && parser_->is_header_done()) {
        header_seen_ = true;
        if (!on_header()) return;
      } else if (used == 0 && !parser_->is_done()) {
        return read_more();
      }
      if (parser_->is_done()) return dispatch();
    }
  }

  // The header is complete. Returns false when it started a write instead.
  bool on_header() {
    if (parser_->is_done()) return true;
    // A body follows.
    if (msg_.match.status != 200) {
      // Not worth receiving: answer now and close.
      keep_alive_ = false;
      respond_error(msg_.match.status);
      return false;
    }
    phase_ = Phase::body;
    set_deadline(core_.config.body_timeout);
    if (msg_.expect_continue && msg_.version >= 11 && in_.size() == 0) {
      continue_write_ = true;
      phase_ = Phase::writing;
      set_deadline(core_.config.write_timeout);
      async_write_continue();
      return false;
    }
    return true;
  }

  void on_continue_written(const error_code& ec) {
    if (phase_ == Phase::closed) return;
    if (ec) return finish();
    continue_write_ = false;
    phase_ = Phase::body;
    set_deadline(core_.config.body_timeout);
    parse();
  }

  void fill_request() {
    req_.method = msg_.view(msg_.method);
    req_.target = msg_.view(msg_.target);
    req_.path = msg_.path;
    req_.query = msg_.query;
    req_.headers = msg_.headers;
    req_.body = msg_.body;
    req_.remote_address = remote_address_;
    req_.remote_port = remote_port_;
    req_.version = msg_.version;
    req_.tls = tls_;
  }

  void handler_failed(std::string_view what) {
    bump(worker_.counters.handler_errors);
    std::string line = "handler for ";
    line += msg_.view(msg_.method);
    line += ' ';
    line += msg_.path;
    line += ": ";
    line += what;
    core_.log_error(line);
  }

  void dispatch() {
    phase_ = Phase::handling;
    deadline_ = SteadyClock::time_point::max();
    if (msg_.match.status != 200) return respond_error(msg_.match.status);
    fill_request();
    const Route& route = *msg_.match.route;
    if (route.blocking) {
      // The handler pool answers through a Responder, as an async handler
      // would; the Responder keeps this session (and req_) alive meanwhile.
      awaiting_async_ = true;
      net::post(*core_.handler_pool,
                [self = shared_from_this(), &route, responder = make_responder()]() mutable {
                  responder.send(self->run_handler(route));
                });
      return;
    }
    if (route.async_handler) {
      awaiting_async_ = true;
      try {
        route.async_handler(req_, make_responder());
      } catch (const std::exception& e) {
        handler_failed(std::string("threw: ") + e.what());
      } catch (...) {
        handler_failed("threw a non-standard exception");
      }
      return;  // the Responder (sent or destroyed) completes the request
    }
    resp_ = run_handler(route);
    write_response();
  }

  // The I/O thread, or a handler pool thread for a blocking route (the session
  // is then parked in Phase::handling: nothing else touches req_ or msg_).
  Response run_handler(const Route& route) {
    try {
      return route.handler(req_);
    } catch (const std::exception& e) {
      handler_failed(std::string("threw: ") + e.what());
    } catch (...) {
      handler_failed("threw a non-standard exception");
    }
    return error_response(500);
  }

  Responder make_responder();

  void on_async_response(Response r) {
    if (phase_ != Phase::handling || !awaiting_async_) return;
    awaiting_async_ = false;
    resp_ = std::move(r);
    write_response();
  }

  void respond_error(int status) {
    resp_ = error_response(status);
    if (status == 405) resp_.headers.emplace_back("Allow", std::string(msg_.match.allow));
    if (status == 400 || status == 413 || status == 431) keep_alive_ = false;
    write_response();
  }

  void protocol_error(int status) {
    keep_alive_ = false;
    phase_ = Phase::handling;
    respond_error(status);
  }

  void write_response() {
    if (std::string problem = internal::check_response(resp_); !problem.empty()) {
      handler_failed("invalid response: " + problem);
      resp_ = error_response(500);
    }
    Counters& c = worker_.counters;
    bump(c.requests);
    if (resp_.status >= 500) {
      bump(c.responses_5xx);
    } else if (resp_.status >= 400) {
      bump(c.responses_4xx);
    }
    bool parsed = parser_ && parser_->is_header_done();
    keep_alive_ = keep_alive_ && parsed && parser_->keep_alive() && !resp_.close &&
                  !core_.stopping.load(std::memory_order_relaxed);
    if (core_.config.access_log) access_log();
    bool http10_keep_alive = keep_alive_ && msg_.version == 10;
    head_.clear();
    internal::append_head(head_, resp_, msg_.head, keep_alive_, http10_keep_alive);
    bool send_body = !internal::bodyless(resp_.status, msg_.head) && !resp_.body.empty();
    net::const_buffer body;
    if (send_body && resp_.body.size() <= kCoalesceBody) {
      head_ += resp_.body;  // one buffer: one TLS record, one segment
    } else if (send_body) {
      body = net::buffer(resp_.body);
    }
    phase_ = Phase::writing;
    set_deadline(core_.config.write_timeout);
    async_write_response({net::buffer(head_), body});
  }

  void access_log() {
    std::string line;
    line += msg_.method.len ? msg_.view(msg_.method) : std::string_view("-");
    line += ' ';
    line += msg_.target.len ? msg_.view(msg_.target) : std::string_view("-");
    line += ' ';
    line += std::to_string(resp_.status);
    line += ' ';
    line += std::to_string(resp_.body.size());
    line += ' ';
    line += remote_address_;
    try {
      core_.config.access_log(line);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a failing log sink must not stop the server
    }
  }

  void on_response_written(const error_code& ec) {
    if (phase_ == Phase::closed) return;
    if (ec) return finish();
    resp_ = Response{};
    if (!keep_alive_ || core_.stopping.load(std::memory_order_relaxed)) return graceful_close();
    begin_message();
    if (in_.size() > 0) {  // pipelined: the next request is already here
      phase_ = Phase::header;
      set_deadline(core_.config.header_timeout);
      parse();
    } else {
      phase_ = Phase::idle;
      set_deadline(core_.config.idle_timeout);
      read_more();
    }
  }

  // The socket is (being) closed; queued completions see Phase::closed.
  void finish() {
    if (phase_ == Phase::closed) return;
    close_now();
  }

  Core& core_;
  Worker& worker_;
  ConnectionSlot slot_;
  SessionBase* prev_ = nullptr;
  SessionBase* next_ = nullptr;
  std::string remote_address_;
  std::uint16_t remote_port_ = 0;
  bool tls_ = false;

  Phase phase_ = Phase::header;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  beast::flat_buffer in_;
  Message msg_;
  std::optional<RequestParser> parser_;
  bool header_seen_ = false;
  bool keep_alive_ = true;
  bool continue_write_ = false;
  bool awaiting_async_ = false;
  Request req_;
  Response resp_;
  std::string head_;
};

// What an AsyncHandler's Responder talks to. It keeps the Core (and so the
// event loop it posts to) alive, even past the server's destruction.
class AsyncSink final : public internal::ResponseSink {
 public:
  AsyncSink(std::shared_ptr<Core> core, std::shared_ptr<SessionBase> session)
      : core_(std::move(core)), session_(std::move(session)) {}
  void complete(Response response) override {
    if (auto s = std::move(session_)) s->post_response(std::move(response));
  }

 private:
  std::shared_ptr<Core> core_;  // released last
  std::shared_ptr<SessionBase> session_;
};

Responder SessionBase::make_responder() {
  return Responder(std::make_shared<AsyncSink>(core_.shared_from_this(), shared_from_this()));
}

template <bool Tls>
class Session final : public SessionBase {
 public:
  using Stream = std::conditional_t<Tls, TlsStream, Socket>;

  Session(Core& core, Worker& worker, ConnectionSlot slot, const tcp::endpoint& remote,
          Socket socket)
      : SessionBase(core, worker, std::move(slot), remote, Tls),
        stream_(make_stream(core, std::move(socket))) {}

  void start() override {
    // The first request (and the TLS handshake) must be in within header_timeout.
    set_deadline(core_.config.header_timeout);
    begin_message();
    if constexpr (Tls) {
      phase_ = Phase::handshake;
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = shared(), this](const error_code& ec) {
                                if (phase_ == Phase::closed) return;
                                if (ec) {
                                  bump(worker_.counters.tls_handshake_failures);
                                  return finish();
                                }
                                phase_ = Phase::header;
                                read_more();
                              });
    } else {
      phase_ = Phase::header;
      read_more();
    }
  }

 private:
  static Stream make_stream(Core& core, Socket socket) {
    if constexpr (Tls) {
      return Stream(std::move(socket), *core.tls);
    } else {
      (void)core;
      return socket;
    }
  }

  std::shared_ptr<Session> shared() {
    return std::static_pointer_cast<Session>(shared_from_this());
  }

  Socket& socket() {
    if constexpr (Tls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  void async_read(net::mutable_buffer buf) override {
    stream_.async_read_some(
        buf, [self = shared(), this](const error_code& ec, std::size_t n) { on_read(ec, n); });
  }

  void async_write_response(std::array<net::const_buffer, 2> bufs) override {
    net::async_write(stream_, bufs, [self = shared(), this](const error_code& ec, std::size_t) {
      on_response_written(ec);
    });
  }

  void async_write_continue() override {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(
        stream_, net::buffer(kContinue.data(), kContinue.size()),
        [self = shared(), this](const error_code& ec, std::size_t) { on_continue_written(ec); });
  }

  void graceful_close() override {
    phase_ = Phase::closing;
    set_deadline(kLinger);
    if (core_.stopping.load(std::memory_order_relaxed)) {
      error_code ec;
      socket().shutdown(tcp::socket::shutdown_send, ec);
      return close_now();
    }
    if constexpr (Tls) {
      stream_.async_shutdown([self = shared(), this](const error_code&) { finish(); });
    } else {
      error_code ec;
      socket().shutdown(tcp::socket::shutdown_send, ec);
      if (ec) return close_now();
      drain();
    }
  }

  // Reads and discards until the peer closes or the linger deadline passes.
  void drain() {
    in_.consume(in_.size());
    stream_.async_read_some(in_.prepare(kReadChunk),
                            [self = shared(), this](const error_code& ec, std::size_t) {
                              if (phase_ == Phase::closed) return;
                              if (ec) return finish();
                              drain();
                            });
  }

  void close_now() override {
    phase_ = Phase::closed;
    error_code ec;
    socket().close(ec);
  }

  Stream stream_;
};

// ---------------------------------------------------------------------------

void run_worker(Core& core, Worker& w) {
  for (;;) {
    try {
      w.ioc.run();
      return;
    } catch (const std::exception& e) {
      core.log_error(std::string("I/O thread: ") + e.what());
    } catch (...) {
      core.log_error("I/O thread: non-standard exception");
    }
  }
}

void arm_sweeper(Core& core, Worker& w) {
  w.sweeper->expires_after(core.sweep_interval);
  w.sweeper->async_wait([&core, &w](const error_code& ec) {
    if (ec) return;
    auto now = SteadyClock::now();
    for (SessionBase* s = w.sessions; s != nullptr; s = s->next()) s->sweep(now);
    arm_sweeper(core, w);
  });
}

void start_session(Core& core, Worker& w, ConnectionSlot slot, Socket socket) {
  error_code ec;
  tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec || core.stopping.load(std::memory_order_relaxed)) return;  // socket and slot released
  socket.set_option(tcp::no_delay(true), ec);
  std::shared_ptr<SessionBase> s;
  if (core.tls) {
    s = std::make_shared<Session<true>>(core, w, std::move(slot), remote, std::move(socket));
  } else {
    s = std::make_shared<Session<false>>(core, w, std::move(slot), remote, std::move(socket));
  }
  s->start();
}

bool resource_exhausted(const error_code& ec) {
  return ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
         ec == net::error::no_memory || ec.value() == ENFILE;
}

void accept_next(Core& core) {
  Worker& w = *core.workers[core.next_worker++ % core.workers.size()];
  core.acceptor->async_accept(w.ioc.get_executor(), [&core, &w](const error_code& ec,
                                                                Socket socket) {
    if (core.stopping.load(std::memory_order_relaxed) || !core.acceptor->is_open()) return;
    if (ec) {
      if (ec == net::error::operation_aborted) return;
      if (resource_exhausted(ec)) {
        auto now = SteadyClock::now();
        if (now - core.last_accept_log >= std::chrono::seconds(10)) {  // no log flood
          core.last_accept_log = now;
          core.log_error("accept: " + ec.message() + "; pausing accepts for 100 ms");
        }
        core.accept_retry->expires_after(std::chrono::milliseconds(100));
        core.accept_retry->async_wait([&core](const error_code& e) {
          if (!e && !core.stopping.load(std::memory_order_relaxed)) accept_next(core);
        });
        return;
      }
      return accept_next(core);  // e.g. the peer reset before we accepted
    }
    if (core.active.load(std::memory_order_relaxed) >= core.config.max_connections) {
      bump(core.rejected);
      error_code ignored;
      socket.close(ignored);
      return accept_next(core);
    }
    core.active.fetch_add(1, std::memory_order_relaxed);
    bump(core.accepted);
    net::post(w.ioc, [&core, &w, slot = ConnectionSlot(&core), s = std::move(socket)]() mutable {
      start_session(core, w, std::move(slot), std::move(s));
    });
    accept_next(core);
  });
}

int no_password(char*, int, int, void*) {
  return 0;  // encrypted TLS keys are not supported: never prompt
}

Status load_tls(Core& core, const TlsFiles& files) {
  using pki::internal::check;
  for (const std::string& f : {files.cert_file, files.key_file}) {
    std::ifstream probe(f);
    if (!probe) return Error{Errc::io, "cannot read TLS file " + f};
  }
  SSL_CTX* raw = ::SSL_CTX_new_ex(pki::internal::libctx(), nullptr, ::TLS_server_method());
  if (raw == nullptr) return Error{Errc::crypto, pki::internal::drain_errors("SSL_CTX_new_ex")};
  core.tls.emplace(raw);  // takes ownership
  DOJANG_TRY(check(::SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION), "TLS minimum version"));
  ::SSL_CTX_set_options(
      raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  ::SSL_CTX_set_default_passwd_cb(raw, no_password);
  DOJANG_TRY(check(::SSL_CTX_use_certificate_chain_file(raw, files.cert_file.c_str()),
                   "TLS certificate " + files.cert_file, Errc::invalid_input));
  DOJANG_TRY(check(::SSL_CTX_use_PrivateKey_file(raw, files.key_file.c_str(), SSL_FILETYPE_PEM),
                   "TLS key " + files.key_file + " (PEM, unencrypted)", Errc::invalid_input));
  DOJANG_TRY(check(::SSL_CTX_check_private_key(raw), "TLS key does not match the certificate",
                   Errc::invalid_input));
  return ok_status();
}

Status validate(const ServerConfig& c) {
  auto bad = [](std::string why) { return Error{Errc::usage, std::move(why)}; };
  if (c.threads < 0) return bad("threads must be >= 0");
  if (c.handler_threads < 1 || c.handler_threads > 1024) {
    return bad("handler_threads must be between 1 and 1024");
  }
  if (c.max_header_bytes < 256 || c.max_header_bytes > 1024 * 1024) {
    return bad("max_header_bytes must be between 256 and 1 MiB");
  }
  if (c.header_timeout.count() <= 0 || c.body_timeout.count() <= 0 || c.idle_timeout.count() <= 0 ||
      c.write_timeout.count() <= 0) {
    return bad("timeouts must be positive");
  }
  if (c.max_connections == 0) return bad("max_connections must be positive");
  return ok_status();
}

}  // namespace

// ---------------------------------------------------------------------------

class HttpServer::Impl {
 public:
  Impl(ServerConfig config, Router router)
      : core_(std::make_shared<Core>(std::move(config), std::move(router))) {}
  ~Impl() { stop(); }

  Result<std::uint16_t> start() {
    if (started_) return Error{Errc::usage, "the server was already started"};
    Core& core = *core_;
    const ServerConfig& c = core.config;
    DOJANG_TRY(validate(c));
    DOJANG_ASSIGN(tcp::endpoint endpoint, internal::parse_listen(c.listen));
    if (c.tls) DOJANG_TRY(load_tls(core, *c.tls));

    int threads = c.threads;
    if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < threads; ++i) core.workers.push_back(std::make_unique<Worker>());

    auto shortest = std::min({c.header_timeout, c.body_timeout, c.idle_timeout, c.write_timeout});
    core.sweep_interval = std::clamp<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(shortest) / 4,
        std::chrono::milliseconds(50), std::chrono::milliseconds(1000));

    Worker& first = *core.workers.front();
    core.acceptor.emplace(first.ioc.get_executor());
    core.accept_retry.emplace(first.ioc.get_executor());
    error_code ec;
    auto fail = [&](std::string_view what) -> Error {
      std::string msg = std::string(what) + " " + c.listen + ": " + ec.message();
      core.acceptor.reset();
      core.accept_retry.reset();
      core.workers.clear();
      core.tls.reset();
      return Error{Errc::io, std::move(msg)};
    };
    core.acceptor->open(endpoint.protocol(), ec);
    if (ec) return fail("open");
    core.acceptor->set_option(net::socket_base::reuse_address(true), ec);
    if (ec) return fail("set SO_REUSEADDR on");
    if (endpoint.address().is_v6()) {
      core.acceptor->set_option(net::ip::v6_only(true), ec);
      if (ec) return fail("set IPV6_V6ONLY on");
    }
    core.acceptor->bind(endpoint, ec);
    if (ec) return fail("bind");
    core.acceptor->listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen on");
    port_ = core.acceptor->local_endpoint(ec).port();
    if (ec) return fail("query");

    started_ = true;
    handler_pool_ = std::make_unique<net::thread_pool>(static_cast<std::size_t>(c.handler_threads));
    core.handler_pool = handler_pool_.get();
    for (auto& w : core.workers) {
      w->guard.emplace(w->ioc.get_executor());
      w->sweeper.emplace(w->ioc.get_executor());
      arm_sweeper(core, *w);
    }
    accept_next(core);
    for (auto& w : core.workers) {
      Worker* wp = w.get();
      w->thread = std::thread([&core, wp] { run_worker(core, *wp); });
    }
    return port_;
  }

  void stop() {
    if (!started_ || stopped_) return;
    Core& core = *core_;
    for (auto& w : core.workers) {
      if (w->thread.get_id() == std::this_thread::get_id()) {
        throw std::logic_error("HttpServer::stop() called from a handler");
      }
    }
    stopped_ = true;
    core.stopping.store(true, std::memory_order_release);
    net::post(core.workers.front()->ioc, [&core] {
      error_code ec;
      core.acceptor->close(ec);
      core.accept_retry->cancel();
    });
    for (auto& w : core.workers) {
      Worker* wp = w.get();
      net::post(wp->ioc, [wp] {
        for (SessionBase* s = wp->sessions; s != nullptr;) {
          SessionBase* next = s->next();
          s->on_stop();
          s = next;
        }
      });
    }
    {
      std::unique_lock<std::mutex> lock(core.mu);
      core.drained.wait_for(lock, core.config.stop_grace,
                            [&] { return core.active.load(std::memory_order_acquire) == 0; });
    }
    for (auto& w : core.workers) w->ioc.stop();
    for (auto& w : core.workers) {
      if (w->thread.joinable()) w->thread.join();
    }
    // The threads are gone; finish on this thread. Close the listener and what
    // is left (connections cut after stop_grace, or held by an async Responder),
    // then run the completions already queued so that every socket is released.
    error_code ec;
    core.acceptor->close(ec);
    core.accept_retry->cancel();
    for (auto& w : core.workers) {
      for (SessionBase* s = w->sessions; s != nullptr; s = s->next()) s->close();
      w->sweeper->cancel();
      w->guard.reset();
    }
    for (auto& w : core.workers) {
      w->ioc.restart();
      w->ioc.poll();
    }
    // Handlers still running (past stop_grace) finish; their answers go to
    // event loops that no longer run and are dropped with them.
    handler_pool_->join();
  }

  int run_until_signal() {
    net::io_context ioc(1);
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    // A caller may have blocked the two signals until now (see run_until_signal's
    // doc): one that came in meanwhile is pending and is delivered here, to the handler.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    ::pthread_sigmask(SIG_UNBLOCK, &mask, nullptr);
    int received = 0;
    signals.async_wait([&](const error_code& ec, int sig) {
      if (!ec) received = sig;
    });
    ioc.run();
    stop();
    return received;
  }

  std::uint16_t port() const noexcept { return port_; }

  ServerStats stats() const noexcept {
    const Core& core = *core_;
    ServerStats s;
    s.connections_accepted = core.accepted.load(std::memory_order_relaxed);
    s.connections_rejected = core.rejected.load(std::memory_order_relaxed);
    s.connections_active = core.active.load(std::memory_order_relaxed);
    for (const auto& w : core.workers) {
      const Counters& c = w->counters;
      s.requests += c.requests.load(std::memory_order_relaxed);
      s.responses_4xx += c.responses_4xx.load(std::memory_order_relaxed);
      s.responses_5xx += c.responses_5xx.load(std::memory_order_relaxed);
      s.handler_errors += c.handler_errors.load(std::memory_order_relaxed);
      s.timeouts += c.timeouts.load(std::memory_order_relaxed);
      s.tls_handshake_failures += c.tls_handshake_failures.load(std::memory_order_relaxed);
    }
    return s;
  }

 private:
  std::shared_ptr<Core> core_;
  std::unique_ptr<net::thread_pool> handler_pool_;
  bool started_ = false;
  bool stopped_ = false;
  std::uint16_t port_ = 0;
};

HttpServer::HttpServer(ServerConfig config, Router router)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(router))) {}
HttpServer::~HttpServer() = default;
HttpServer::HttpServer(HttpServer&&) noexcept = default;
HttpServer& HttpServer::operator=(HttpServer&&) noexcept = default;

Result<std::uint16_t> HttpServer::start() {
  return impl_->start();
}
void HttpServer::stop() {
  impl_->stop();
}
int HttpServer::run_until_signal() {
  return impl_->run_until_signal();
}
std::uint16_t HttpServer::port() const noexcept {
  return impl_->port();
}
ServerStats HttpServer::stats() const noexcept {
  return impl_->stats();
}

}  // namespace dojang::service
