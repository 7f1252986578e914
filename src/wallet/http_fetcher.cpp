#include "dojang/wallet/http_fetcher.hpp"

#include "wallet/internal/http.hpp"

namespace dojang::wallet {

Result<Bytes> HttpFetcher::fetch(const std::string& url, bool post, std::string_view content_type,
                                 ByteView body, std::size_t max) {
  if (!url.starts_with("http://") && !url.starts_with("https://"))
    return Error{Errc::usage, "not an http(s) URL: " + url};
  internal::HttpRequest req;
  req.url = url;
  req.post = post;
  req.body = body;
  req.ca_file = o_.ca_file;
  req.timeout_seconds = o_.timeout_seconds;
  req.max_response = max;
  if (post) req.headers.push_back("Content-Type: " + std::string(content_type));
  std::string out;
  DOJANG_ASSIGN(internal::HttpReply reply, internal::http_perform(req, out));
  if (reply.status < 200 || reply.status >= 300)
    return Error{Errc::io, "HTTP " + std::to_string(reply.status)};
  return Bytes(out.begin(), out.end());
}

Result<Bytes> HttpFetcher::post(const std::string& url, std::string_view content_type,
                                ByteView body) {
  return fetch(url, true, content_type, body, o_.max_ocsp_response);
}

Result<Bytes> HttpFetcher::get(const std::string& url) {
  return fetch(url, false, {}, {}, o_.max_crl);
}

}  // namespace dojang::wallet
