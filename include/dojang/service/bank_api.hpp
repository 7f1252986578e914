// The bank's REST API under /api/v1/ (docs/api.md): what the phone app uses to
// log in, verify the holder and open an issuance application, and the admin
// endpoint that enrols customers.
#pragma once

#include <string>

#include "dojang/pki/secret.hpp"
#include "dojang/ra/bank.hpp"
#include "dojang/service/http.hpp"

namespace dojang::service {

struct BankApiOptions {
  // SHA-256 of the admin bearer token (hex); empty disables the admin endpoints.
  std::string admin_token_sha256;
};

// Registers the routes on router. bank must outlive the router.
void register_bank_api(Router& router, ra::Bank& bank, BankApiOptions options);

// Maps a library error to an HTTP status (400, 401, 403, 404, 409, 500, 503).
int http_status_for(Errc code) noexcept;

}  // namespace dojang::service
