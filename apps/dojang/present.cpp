#include "dojang/present.hpp"

#include <cctype>
#include <ctime>
#include <sstream>

#include "dojang/cli.hpp"
#include "dojang/pki/hex.hpp"

namespace dojang::cli {

std::string format_time(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
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
    j["vid"] = {{"hash", info.vid->hash_alg}, {"value", pki::to_hex(info.vid->virtual_id)}};
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

int exit_code_for(pki::Verdict v) noexcept {
  switch (v) {
    case pki::Verdict::valid: return kOk;
    case pki::Verdict::invalid: return kInvalid;
    case pki::Verdict::refused: return kRefused;
    case pki::Verdict::unavailable: return kIoFailure;
  }
  return kInvalid;
}

namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

nlohmann::json check_json(const pki::Check& c) {
  return {{"status", pki::check_state_name(c.state)}, {"detail", c.detail}};
}

}  // namespace

std::string verify_text(const pki::VerifyReport& r) {
  std::ostringstream out;
  out << "Verdict:     " << upper(pki::verdict_name(r.verdict)) << ": " << r.summary << "\n";
  auto line = [&out](const char* label, const pki::Check& c) {
    out << label << pki::check_state_name(c.state) << " - " << c.detail << "\n";
  };
  line("Signature:   ", r.signature);
  if (r.signer) {
    auto info = r.signer->info();
    if (info.ok())
      out << "Signer:      " << info->cn << " (serial 0x" << info->serial_hex << ", "
          << purpose_text(*info) << ")\n";
  }
  if (r.signing_time) out << "Signed:      " << format_time(*r.signing_time) << "\n";
  line("Chain:       ", r.chain);
  line("Validity:    ", r.validity);
  line("Revocation:  ", r.revocation);
  line("Purpose:     ", r.purpose);
  line("VID:         ", r.vid);
  if (r.chain.state == pki::CheckState::skipped && r.signature.state == pki::CheckState::passed &&
      r.chain.detail.find("--trust") != std::string::npos)
    out << "Not checked here: certificate chain and revocation (give --trust ROOT.pem).\n";
  return out.str();
}

nlohmann::json to_json(const pki::VerifyReport& r, const Clock& clock) {
  nlohmann::json j{{"ok", r.verdict == pki::Verdict::valid},
                   {"verdict", pki::verdict_name(r.verdict)},
                   {"reason", r.summary},
                   {"format", r.format},
                   {"detached", r.detached},
                   {"signed_attributes", r.signed_attributes},
                   {"digest", r.digest_algorithm}};
  j["signing_time"] = r.signing_time ? nlohmann::json(format_time(*r.signing_time)) : nlohmann::json(nullptr);
  j["signer"] = nullptr;
  if (r.signer) {
    auto info = r.signer->info();
    if (info.ok()) j["signer"] = to_json(*info, *r.signer, clock);
  }
  j["checks"] = {{"signature", check_json(r.signature)}, {"chain", check_json(r.chain)},
                 {"validity", check_json(r.validity)},   {"revocation", check_json(r.revocation)},
                 {"purpose", check_json(r.purpose)},     {"vid", check_json(r.vid)}};
  nlohmann::json path = nlohmann::json::array();
  for (const auto& c : r.path) {
    auto info = c.info();
    path.push_back(info.ok() ? info->subject : std::string("?"));
  }
  j["chain"] = path;
  const auto& ri = r.revocation_info;
  nlohmann::json rev{{"source", ri.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(ri.source)},
                     {"url", ri.url.empty() ? nlohmann::json(nullptr) : nlohmann::json(ri.url)},
                     {"attempts", ri.attempts}};
  if (ri.status) {
    rev["status"] = pki::cert_status_name(ri.status->status);
    rev["revoked_at"] = ri.status->revoked_at ? nlohmann::json(format_time(*ri.status->revoked_at))
                                              : nlohmann::json(nullptr);
    rev["reason"] = ri.status->reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(ri.status->reason);
    rev["this_update"] = format_time(ri.status->this_update);
    rev["next_update"] = ri.status->next_update ? nlohmann::json(format_time(*ri.status->next_update))
                                                : nlohmann::json(nullptr);
  } else {
    rev["status"] = nullptr;
  }
  j["revocation"] = rev;
  j["vid_random_source"] = r.random_source.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.random_source);
  nlohmann::json not_done = nlohmann::json::array();
  if (r.chain.state == pki::CheckState::skipped) not_done.push_back("chain");
  if (r.revocation.state == pki::CheckState::skipped) not_done.push_back("revocation");
  j["checks_not_done"] = not_done;
  return j;
}

}  // namespace dojang::cli
