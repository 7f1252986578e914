#include "dojang/wallet/status.hpp"

#include <openssl/x509.h>

namespace dojang::wallet {

namespace {

std::string serial_of(const pki::Certificate& cert) {
  auto info = cert.info();
  return info.ok() ? "0x" + info->serial_hex : std::string("<serial>");
}

}  // namespace

const char* expiry_state_name(ExpiryState s) noexcept {
  switch (s) {
    case ExpiryState::valid: return "valid";
    case ExpiryState::expiring: return "expiring";
    case ExpiryState::expired: return "expired";
  }
  return "?";
}

const char* online_state_name(OnlineState s) noexcept {
  switch (s) {
    case OnlineState::good: return "good";
    case OnlineState::revoked: return "revoked";
    case OnlineState::suspended: return "suspended";
    case OnlineState::unknown: return "unknown";
    case OnlineState::unreachable: return "unreachable";
  }
  return "?";
}

ExpiryMark expiry_mark(const pki::Certificate& cert, const Clock& clock) {
  ExpiryMark m;
  m.days_left = cert.days_left(clock);
  if (cert.expired(clock)) {
    m.state = ExpiryState::expired;
    m.advice = "expired: re-issue with: dojang reissue --serial " + serial_of(cert);
  } else if (m.days_left <= kRenewalWindowDays) {
    m.state = ExpiryState::expiring;
    m.advice = "expires in " + std::to_string(m.days_left) +
               " days: renew with: dojang renew " + serial_of(cert);
  }
  return m;
}

OnlineStatus check_online(const pki::Certificate& cert, const std::vector<pki::Certificate>& trust,
                          pki::Fetcher& fetcher, const Clock& clock) {
  OnlineStatus out;
  const std::string serial = serial_of(cert);
  auto unreachable = [&](std::string why) {
    out.state = OnlineState::unreachable;
    out.detail = std::move(why);
    out.advice = "status not known: check the network and try again (dojang list --check)";
    return out;
  };
  // The issuer: from caIssuers, chained to the trust anchors, and the
  // certificate's actual signer.
  std::optional<pki::Certificate> issuer;
  std::vector<std::string> tried;
  for (const std::string& url : pki::ca_issuer_urls(cert)) {
    auto body = fetcher.get(url);
    if (!body.ok()) {
      tried.push_back(url + ": " + body.error().message);
      continue;
    }
    auto c = pki::Certificate::from_der(*body);
    if (!c.ok()) c = pki::Certificate::from_pem(*body);
    if (!c.ok()) {
      tried.push_back(url + ": not a certificate");
      continue;
    }
    if (::X509_verify(cert.native(), ::X509_get0_pubkey(c->native())) != 1) {
      tried.push_back(url + ": not the certificate's issuer");
      continue;
    }
    auto path = pki::validate_path(*c, trust, {}, clock.now());
    if (!path.ok()) {
      tried.push_back(url + ": " + path.error().message);
      continue;
    }
    issuer = std::move(c).value();
    break;
  }
  if (!issuer) {
    std::string why = "the issuing CA certificate could not be fetched";
    for (const auto& t : tried) why += "; " + t;
    return unreachable(std::move(why));
  }
  auto answer = pki::query_ocsp(cert, *issuer, trust, fetcher, clock);
  if (!answer.ok()) return unreachable(answer.error().message);
  out.url = answer->url;
  const pki::RevocationStatus& st = answer->status;
  switch (st.status) {
    case pki::CertStatus::good:
      out.state = OnlineState::good;
      break;
    case pki::CertStatus::revoked:
      out.revoked_at = st.revoked_at;
      out.reason = st.reason;
      if (st.reason == "certificateHold") {
        out.state = OnlineState::suspended;
        out.advice = "suspended: resume it with: dojang resume --serial " + serial;
      } else {
        out.state = OnlineState::revoked;
        out.advice = "revoked: do not use it; delete it (dojang delete " + serial +
                     ") and get a new one (dojang reissue or dojang issue)";
      }
      break;
    case pki::CertStatus::unknown:
      out.state = OnlineState::unknown;
      out.detail = "the CA does not know this certificate";
      out.advice = "unknown to its CA: it cannot be used; ask the bank";
      break;
  }
  return out;
}

}  // namespace dojang::wallet
