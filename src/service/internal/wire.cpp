#include "service/internal/wire.hpp"

#include <charconv>
#include <ctime>

namespace dojang::service::internal {

namespace net = boost::asio;

Result<net::ip::tcp::endpoint> parse_listen(std::string_view listen) {
  auto bad = [&](std::string_view why) {
    return Error{Errc::usage, "listen address '" + std::string(listen) + "': " + std::string(why)};
  };
  std::string_view host;
  std::string_view port;
  if (listen.starts_with('[')) {
    auto close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return bad("expected [IPv6]:port");
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) return bad("expected host:port");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return bad("write an IPv6 address as [addr]:port");
  }
  unsigned port_value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || port_value > 65535) {
    return bad("bad port");
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code aec;
  auto address = net::ip::make_address(std::string(host), aec);
  if (aec) return bad("not an IP address");
  return net::ip::tcp::endpoint(address, static_cast<unsigned short>(port_value));
}

bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

bool is_safe_field_value(std::string_view s) noexcept {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 423:
      return "Locked";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace {

void put2(char* p, int v) noexcept {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT   (RFC 9110 section 5.6.7)
void format_imf_fixdate(std::time_t t, char (&out)[29]) noexcept {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char* p = out;
  for (int i = 0; i < 3; ++i) *p++ = kDays[tm.tm_wday][i];
  *p++ = ',';
  *p++ = ' ';
  put2(p, tm.tm_mday);
  p += 2;
  *p++ = ' ';
  for (int i = 0; i < 3; ++i) *p++ = kMonths[tm.tm_mon][i];
  *p++ = ' ';
  int year = tm.tm_year + 1900;
  put2(p, year / 100);
  put2(p + 2, year % 100);
  p += 4;
  *p++ = ' ';
  put2(p, tm.tm_hour);
  p[2] = ':';
  put2(p + 3, tm.tm_min);
  p[5] = ':';
  put2(p + 6, tm.tm_sec);
  p += 8;
  *p++ = ' ';
  *p++ = 'G';
  *p++ = 'M';
  *p++ = 'T';
}

}  // namespace

std::string http_date(std::time_t t) {
  char buf[29];
  format_imf_fixdate(t, buf);
  return std::string(buf, sizeof buf);
}

namespace {

void append_number(std::string& out, std::size_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

bool owned_by_server(std::string_view name) noexcept {
  auto eq = [&](std::string_view want) {
    if (name.size() != want.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != want[i]) return false;
    }
    return true;
  };
  return eq("content-length") || eq("transfer-encoding") || eq("connection") || eq("date") ||
         eq("content-type") || eq("keep-alive") || eq("upgrade");
}

}  // namespace

std::string_view http_date_now() noexcept {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[29];
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    format_imf_fixdate(now, cached);
    cached_second = now;
  }
  return {cached, sizeof cached};
}

bool bodyless(int status, bool head) noexcept {
  return head || status < 200 || status == 204 || status == 304;
}

std::string check_response(const Response& r) {
  if (r.status < 200 || r.status > 599)
    return "status " + std::to_string(r.status) + " out of range";
  if (!is_safe_field_value(r.content_type)) return "content type contains CR, LF or NUL";
  for (const auto& [name, value] : r.headers) {
    if (!is_token(name)) return "header name '" + name + "' is not a token";
    if (!is_safe_field_value(value)) return "header " + name + " contains CR, LF or NUL";
    if (owned_by_server(name)) return "header " + name + " is set by the server";
  }
  return {};
}

void append_head(std::string& out, const Response& r, bool head_request, bool keep_alive,
                 bool http10_keep_alive) {
  out += "HTTP/1.1 ";
  append_number(out, static_cast<std::size_t>(r.status));
  out += ' ';
  out += reason_phrase(r.status);
  out += "\r\nDate: ";
  out += http_date_now();
  out += "\r\n";
  bool no_content = r.status == 204 || r.status == 304;
  if (!no_content) {
    if (!r.content_type.empty()) {
      out += "Content-Type: ";
      out += r.content_type;
      out += "\r\n";
    }
    // For HEAD, the length a GET would have sent (RFC 9110 section 8.6).
    out += "Content-Length: ";
    append_number(out, r.body.size());
    out += "\r\n";
  }
  (void)head_request;
  for (const auto& [name, value] : r.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (http10_keep_alive) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
}

std::string_view origin_form(std::string_view target) noexcept {
  if (target.starts_with('/')) return target;
  // absolute-form = absolute-URI (RFC 9112 section 3.2.2): drop scheme and authority.
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (target.size() >= scheme.size()) {
      bool match = true;
      for (std::size_t i = 0; i < scheme.size(); ++i) {
        char c = target[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != scheme[i]) {
          match = false;
          break;
        }
      }
      if (match) {
        std::string_view rest = target.substr(scheme.size());
        auto slash = rest.find_first_of("/?");
        if (slash == std::string_view::npos) return "/";
        if (rest[slash] == '?') return {};  // "/?q" would need a copy; refuse instead
        return rest.substr(slash);
      }
    }
  }
  return {};
}

}  // namespace dojang::service::internal
