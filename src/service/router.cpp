#include <algorithm>
#include <stdexcept>

#include "dojang/service/http.hpp"

namespace dojang::service {

namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

Response internal_error() {
  return Response::text(500, "internal server error\n");
}

}  // namespace

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response Response::bytes(int status, std::string content_type, ByteView body) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body.assign(reinterpret_cast<const char*>(body.data()), body.size());
  return r;
}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (sink_) {
      try {
        sink_->complete(internal_error());
      } catch (...) {  // NOLINT(bugprone-empty-catch): nothing sensible left to do
      }
    }
    sink_ = std::move(other.sink_);
  }
  return *this;
}

Responder::~Responder() {
  if (sink_) {
    try {
      sink_->complete(internal_error());
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
  }
}

void Responder::send(Response response) {
  if (!sink_) return;
  auto sink = std::move(sink_);
  sink->complete(std::move(response));
}

Router& Router::handle(std::string method, std::string path, Handler handler,
                       RouteOptions options) {
  if (!handler) throw std::invalid_argument("Router::handle: empty handler");
  Route r;
  r.handler = std::move(handler);
  return add(std::move(method), std::move(path), std::move(r), options);
}

Router& Router::handle_async(std::string method, std::string path, AsyncHandler handler,
                             RouteOptions options) {
  if (!handler) throw std::invalid_argument("Router::handle_async: empty handler");
  Route r;
  r.async_handler = std::move(handler);
  return add(std::move(method), std::move(path), std::move(r), options);
}

Router& Router::add(std::string method, std::string path, Route route, RouteOptions options) {
  if (path.empty() || path.front() != '/') {
    throw std::invalid_argument("Router: path must start with '/': " + path);
  }
  if (method.empty() || method.find_first_of(" \t\r\n") != std::string::npos) {
    throw std::invalid_argument("Router: bad method '" + method + "'");
  }
  auto it = std::find_if(paths_.begin(), paths_.end(), [&](const PathEntry& e) {
    return e.path == path && e.match == options.match;
  });
  if (it == paths_.end()) {
    paths_.push_back(PathEntry{path, options.match, {}, {}});
    it = std::prev(paths_.end());
  }
  for (const Route& r : it->routes) {
    if (r.method == method) {
      throw std::invalid_argument("Router: " + method + " " + path + " registered twice");
    }
  }
  route.method = std::move(method);
  route.max_body_bytes = options.max_body_bytes;
  route.blocking = options.blocking && route.handler != nullptr;
  it->routes.push_back(std::move(route));

  // Allow: the registered methods, plus HEAD where GET answers it.
  bool has_get = false;
  bool has_head = false;
  it->allow.clear();
  for (const Route& r : it->routes) {
    has_get = has_get || r.method == "GET";
    has_head = has_head || r.method == "HEAD";
    if (!it->allow.empty()) it->allow += ", ";
    it->allow += r.method;
  }
  if (has_get && !has_head) it->allow += ", HEAD";
  return *this;
}

const Router::PathEntry* Router::find_path(std::string_view path) const noexcept {
  const PathEntry* best = nullptr;
  for (const PathEntry& e : paths_) {
    if (e.match == PathMatch::exact) {
      if (e.path == path) return &e;
    } else if (path.starts_with(e.path) && (best == nullptr || e.path.size() > best->path.size())) {
      best = &e;
    }
  }
  return best;
}

RouteMatch Router::match(std::string_view method, std::string_view path) const noexcept {
  RouteMatch m;
  const PathEntry* e = find_path(path);
  if (e == nullptr) return m;
  const Route* get = nullptr;
  for (const Route& r : e->routes) {
    if (r.method == method) {
      m.route = &r;
      m.status = 200;
      return m;
    }
    if (r.method == "GET") get = &r;
  }
  if (method == "HEAD" && get != nullptr) {
    m.route = get;
    m.status = 200;
    return m;
  }
  m.status = 405;
  m.allow = e->allow;
  return m;
}

}  // namespace dojang::service
