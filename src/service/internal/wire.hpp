// Small pieces of HTTP/1.1 wire format used by the server (RFC 9110, RFC 9112).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <ctime>
#include <string>
#include <string_view>

#include "dojang/pki/result.hpp"
#include "dojang/service/http.hpp"

namespace dojang::service::internal {

// "a.b.c.d:port", "[v6]:port" or "localhost:port" -> endpoint; Errc::usage otherwise.
Result<boost::asio::ip::tcp::endpoint> parse_listen(std::string_view listen);

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
bool is_tchar(char c) noexcept;
// token = 1*tchar
bool is_token(std::string_view s) noexcept;
// A field value we are willing to emit: no CR, LF or NUL.
bool is_safe_field_value(std::string_view s) noexcept;

// The reason phrase of a status code ("Not Found"); "Unknown" for others.
std::string_view reason_phrase(int status) noexcept;

// The current time as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
// cached per thread and refreshed once a second.
std::string_view http_date_now() noexcept;
// A time as an IMF-fixdate (Last-Modified, Expires).
std::string http_date(std::time_t t);

// Whether a response with this status to this method carries no body
// (HEAD, 1xx, 204, 304).
bool bodyless(int status, bool head) noexcept;

// Checks a handler's response: status 200..599, token header names, safe values,
// no header the server owns. Returns the problem or an empty string.
std::string check_response(const Response& r);

// Appends the status line and header section of `r` to `out`.
// keep_alive=false adds "Connection: close"; http10_keep_alive adds "Connection: keep-alive".
void append_head(std::string& out, const Response& r, bool head_request, bool keep_alive,
                 bool http10_keep_alive);

// For a request-target in absolute form ("http://host/p?q"), the origin form ("/p?q");
// for origin form the target itself; empty when the target is neither.
std::string_view origin_form(std::string_view target) noexcept;

}  // namespace dojang::service::internal
