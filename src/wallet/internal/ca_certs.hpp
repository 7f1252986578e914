// What issuance and renewal share about the CA's certificates from a genm
// answer: checking them against the trusted root, finding the encryption
// (key-management) certificate for the EncryptedVID.
#pragma once

#include <optional>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/result.hpp"

namespace dojang::wallet::internal {

// Checks that cert chains to root with `others` as intermediates (current
// time). invalid_input naming the certificate when it does not.
Status verify_to_root(const pki::Certificate& cert, const pki::Certificate& root,
                      const std::vector<pki::Certificate>& others);

// The certificates of ca_certs other than root, each checked to chain to root
// (the others as intermediates). Errors: as verify_to_root.
Result<std::vector<pki::Certificate>> verified_ca_certs(const std::vector<pki::Certificate>& ca_certs,
                                                        const pki::Certificate& root);

// The CA's key-management (encryption) certificate among certs: an end-entity
// certificate whose key may encipher keys.
std::optional<pki::Certificate> find_km_cert(const std::vector<pki::Certificate>& certs);

}  // namespace dojang::wallet::internal
