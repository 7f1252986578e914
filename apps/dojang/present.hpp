// How certificates and credentials are shown (text and JSON).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/pki/verify.hpp"
#include "dojang/wallet/store.hpp"

namespace dojang::cli {

// "2027-11-27 03:31:46 UTC"
std::string format_time(TimePoint t);
// The purpose of the first known policy, e.g. "general (범용)".
std::string purpose_text(const pki::CertificateInfo& info);
// "valid, 120 days left" / "expires in 12 days: renew it" / "EXPIRED: re-issue it"
std::string validity_status(const pki::Certificate& cert, const Clock& clock);

nlohmann::json to_json(const pki::CertificateInfo& info, const pki::Certificate& cert, const Clock& clock);
nlohmann::json to_json(const wallet::StoredCredential& cred, const Clock& clock);

// A relying party's verdict: 0 valid, 3 invalid, 4 refused, 5 unavailable.
int exit_code_for(pki::Verdict v) noexcept;
// The verdict with every check and its reason, as text lines and as JSON.
std::string verify_text(const pki::VerifyReport& r);
nlohmann::json to_json(const pki::VerifyReport& r, const Clock& clock);

}  // namespace dojang::cli
