// Certificate management through the bank, without the certificate's key
// (design.md §1 flow 4: after the phone is lost): the bank REST endpoints that
// list a customer's certificates and revoke, suspend (효력정지), resume (회복)
// or re-issue (재발급) one of them, under /api/v1/bank/certificates (docs/api.md).
//
// Authentication: the bank session's bearer token after identity verification
// (IDN + SMS code), for ra::kManagementWindow after the code was confirmed.
// A verification authorises one change: revoke, suspend, resume and reissue
// end the session when they succeed (listing does not).
//
// Ownership: a customer acts only on certificates the CA issued to that
// customer; any other serial - unknown or another customer's - gets the same
// 404 ("no certificate with serial ... among yours"), so the endpoint tells
// nothing about other people's certificates.
//
// The changes go to the CA registry (ca::Registry): OCSP answers with them at
// once, the CRLs list them at their next publication (service::RevocationWatcher).
// This module is the glue between ra (the bank) and ca (the registry): ra
// never includes ca.
#pragma once

#include "dojang/ca/registry.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/ra/bank.hpp"
#include "dojang/service/http.hpp"

namespace dojang::service {

// Registers the routes on router. bank, registry and clock must outlive it.
void register_lifecycle_api(Router& router, ra::Bank& bank, ca::Registry& registry,
                            const Clock& clock);

}  // namespace dojang::service
