// "Log in with a certificate" at a relying party (the demo in dojang::rp):
// fetch a challenge, sign it, send the signature, read the verdict.
#pragma once

#include <string>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/wallet/credential.hpp"

namespace dojang::wallet {

struct RpLoginOptions {
  std::string server;           // base URL: http:// only to loopback, else https://
  std::string ca_file;          // extra CA bundle for https
  bool include_random = false;  // send R (randomNum attribute) so the RP can check the VID
  long timeout_seconds = 30;
};

struct RpLoginResult {
  std::string user;    // the CN the relying party saw
  std::string reason;  // its one-line verdict reason
};

// GET <server>/challenge → {"challenge"}; signs it as CMS SignedData (content
// attached, signed attributes, R as an unsigned attribute when asked);
// POST <server>/login. Accepted (200) → the result; refused → an error whose
// code follows the relying party's verdict: bad_signature (401 invalid),
// policy (403 refused), io (503 unavailable, no connection), invalid_input
// (400: challenge unknown or expired, or an answer that is not JSON); usage
// for a bad URL or include_random without R in the key file.
Result<RpLoginResult> rp_login(const RpLoginOptions& options, const UnlockedCredential& cred,
                               const Clock& clock);

}  // namespace dojang::wallet
