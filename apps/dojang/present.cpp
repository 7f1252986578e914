#include "dojang/present.hpp"

#include <ctime>

namespace dojang::cli {

std::string format_time(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string hex(ByteView b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (auto c : b) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

namespace {
const char* purpose_korean(pki::Purpose p) {
  switch (p) {
    case pki::Purpose::general: return "범용";
    case pki::Purpose::unknown: return "unknown";
    default: return "용도제한";
  }
}
}  // namespace

std::string purpose_text(const pki::CertificateInfo& info) {
  for (const auto& p : info.policies) {
    if (p.purpose != pki::Purpose::unknown)
      return std::string(pki::purpose_name(p.purpose)) + " (" + purpose_korean(p.purpose) + ")";
  }
  if (info.policies.empty()) return "no policy";
  return "unknown policy " + info.policies.front().oid;
}

std::string validity_status(const pki::Certificate& cert, const Clock& clock) {
  long days = cert.days_left(clock);
  if (cert.expired(clock)) return "EXPIRED: get a new certificate (re-issue)";
  if (days <= 30) return "expires in " + std::to_string(days) + " days: renew it now";
  return "valid, " + std::to_string(days) + " days left";
}

nlohmann::json to_json(const pki::CertificateInfo& info, const pki::Certificate& cert, const Clock& clock) {
  nlohmann::json j{
      {"subject", info.subject},
      {"issuer", info.issuer},
      {"cn", info.cn},
      {"serial", "0x" + info.serial_hex},
      {"serial_decimal", info.serial_dec},
      {"not_before", format_time(info.not_before)},
      {"not_after", format_time(info.not_after)},
      {"days_left", cert.days_left(clock)},
      {"expired", cert.expired(clock)},
      {"key", info.key_algorithm},
      {"signature_algorithm", info.signature_algorithm},
  };
  j["real_name"] = info.real_name ? nlohmann::json(*info.real_name) : nlohmann::json(nullptr);
  if (info.vid) {
    j["vid"] = {{"hash", info.vid->hash_alg}, {"value", hex(info.vid->virtual_id)}};
  } else {
    j["vid"] = nullptr;
  }
  nlohmann::json pols = nlohmann::json::array();
  for (const auto& p : info.policies) {
    const char* holder = p.holder == pki::HolderKind::personal    ? "personal"
                         : p.holder == pki::HolderKind::corporate ? "corporate"
                                                                  : "unknown";
    pols.push_back({{"oid", p.oid},
                    {"ca", p.ca},
                    {"purpose", pki::purpose_name(p.purpose)},
                    {"holder", holder},
                    {"label", p.label}});
  }
  j["policies"] = pols;
  return j;
}

nlohmann::json to_json(const wallet::StoredCredential& cred, const Clock& clock) {
  nlohmann::json j{{"folder", cred.folder.string()}, {"ca_folder", cred.ca_folder}};
  if (cred.broken()) {
    j["broken"] = cred.broken_reason;
    return j;
  }
  j["broken"] = nullptr;
  if (cred.info && cred.cert) j["certificate"] = to_json(*cred.info, *cred.cert, clock);
  j["km"] = cred.km_cert_path.has_value();
  return j;
}

}  // namespace dojang::cli
