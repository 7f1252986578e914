// Getting a joint certificate onto the device (design.md §1 flow 2): bank
// login and identity verification (or a teller's reference number and
// authorization code), the CA's certificates by CMP genm, key pair and R made
// here, EncryptedVID, CMP ir + certConf, the certificate password, NPKI storage.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/key.hpp"
#include "dojang/pki/keyfile.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "dojang/wallet/bank_client.hpp"
#include "dojang/wallet/password_policy.hpp"
#include "dojang/wallet/store.hpp"

namespace dojang::wallet {

enum class IssueStep {
  bank_login,
  identity,      // IDN, then the SMS code
  application,   // reference number + authorization code
  ca_certificates,
  key_generation,
  certificate_request,  // ir, certConf, pkiConf
  certificate_check,    // VID
  password,
  storing,
};

// "bank login", "identity verification", ... (for messages and --json).
const char* issue_step_name(IssueStep step) noexcept;

// The bank path: internet-banking login, then identity verification.
struct BankLogin {
  std::string customer;
  SecretString password;
  BankPurpose purpose = BankPurpose::general;
  // Called once the bank has sent the SMS code, with the masked phone number it
  // went to; returns the code the user received.
  std::function<Result<SecretString>(std::string_view masked_phone)> sms_code;
};

// The teller path: what the branch printed for the customer.
struct TellerTicket {
  std::string reference;
  SecretString auth_code;
};

struct IssueParams {
  // Base URL of the server: the bank API under /api/v1/bank/, CMP at /pkix/.
  std::string server;
  std::string cmp_url;  // default: server + "/pkix/"
  std::string tls_ca_file;  // extra CA bundle for an https bank API
  int timeout_seconds = 30;

  // Trust: the root CA certificate, or the SHA-256 fingerprint (hex, colons
  // and case ignored) of the root the server returns in its genm answer.
  std::optional<pki::Certificate> trusted_root;
  std::string root_fingerprint;

  // Exactly one of the two.
  std::optional<BankLogin> bank;
  std::optional<TellerTicket> teller;

  // The holder's IDN (13 digits, normalised): required on the bank path,
  // optional on the teller path. When known it is sent to the CA as an
  // EncryptedVID, and the issued certificate's VID must match it.
  std::optional<SecretString> idn;
  std::string phone;  // the holder's phone, for the password policy (optional)

  // The new certificate password: either given up front (checked against the
  // policy before anything is sent to the CA, and again once the holder's name
  // is known), or asked for after the certificate is confirmed, at most
  // password_attempts times while the policy refuses it (refused_because holds
  // the previous answer's reasons; empty on the first call).
  std::optional<SecretString> password;
  std::function<Result<SecretString>(const PasswordContext& context,
                                     const std::vector<std::string>& refused_because)>
      ask_password;
  int password_attempts = 3;
  pki::KeyFileOptions key_format;

  NpkiStore* store = nullptr;
  // Called as each step starts (and with results worth showing, e.g. where
  // the SMS code went); messages never hold secrets.
  std::function<void(IssueStep step, std::string_view message)> progress;
  // The key pair made on the device; default RSA-2048. A seam for tests.
  std::function<Result<pki::PrivateKey>()> make_key;
  // Replace a credential already stored under the same subject DN (the CA
  // names the folder; a second certificate for the same holder lands there).
  // Without it such a collision fails at the storing step.
  bool replace_existing = false;
};

struct IssueOutcome {
  StoredCredential stored;
  pki::CertificateInfo info;
  std::vector<pki::Certificate> ca_chain;  // issuer first, up to the root
  std::string reference;                   // the application's reference number
  bool vid_sent = false;                   // EncryptedVID went to the CA
  bool vid_verified = false;               // the certificate's VID matches IDN + R
};

// Runs the whole issuance. Fails with the step named in the message
// ("identity verification: ...") and the Errc of the cause: usage (missing or
// contradictory parameters, bad URL), wrong_password / policy / not_found from
// the bank or the CA (bad login, wrong SMS code, refused application, CMP
// rejection, weak certificate password), io (network), invalid_input (a CA
// certificate that does not chain to the trusted root, no encryption
// certificate for the VID, an issued certificate that does not check out),
// already_exists / io from the store. Nothing is written to the store unless
// the whole flow succeeds.
Result<IssueOutcome> issue_certificate(IssueParams& params);

// Lower-case hex SHA-256 of a certificate's DER (for --trust-fingerprint).
Result<std::string> certificate_sha256(const pki::Certificate& cert);

}  // namespace dojang::wallet
