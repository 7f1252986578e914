#include "dojang/wallet/issuance.hpp"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

#include "dojang/pki/aead.hpp"
#include "dojang/pki/cmp.hpp"
#include "dojang/pki/encrypted_vid.hpp"
#include "dojang/pki/random.hpp"
#include "dojang/pki/vid.hpp"
#include "dojang/wallet/cmp_client.hpp"
#include "dojang/wallet/credential.hpp"
#include "pki/internal/ossl.hpp"
#include "wallet/internal/ca_certs.hpp"
#include "wallet/internal/steps.hpp"

namespace dojang::wallet {

namespace {

namespace ossl = pki::internal;

constexpr std::size_t kRandomNumLength = 20;  // R, as every Korean CA issues it

Error at(IssueStep step, Error e) {
  return internal::at_step(issue_step_name(step), std::move(e));
}

#define ISSUE_TRY(step, expr) DOJANG_STEP_TRY(issue_step_name(step), expr)
#define ISSUE_ASSIGN(step, decl, expr) DOJANG_STEP_ASSIGN(issue_step_name(step), decl, expr)

std::string normalise_fingerprint(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool self_signed(const pki::Certificate& c) {
  return (::X509_get_extension_flags(c.native()) & EXFLAG_SS) != 0;
}

std::string last_digits(std::string_view masked, std::size_t n) {
  std::string d;
  for (char c : masked)
    if (c >= '0' && c <= '9') d += c;
  return d.size() > n ? d.substr(d.size() - n) : d;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
  return out;
}

}  // namespace

const char* issue_step_name(IssueStep step) noexcept {
  switch (step) {
    case IssueStep::bank_login: return "bank login";
    case IssueStep::identity: return "identity verification";
    case IssueStep::application: return "issuance application";
    case IssueStep::ca_certificates: return "CA certificates";
    case IssueStep::key_generation: return "key generation";
    case IssueStep::certificate_request: return "certificate request";
    case IssueStep::certificate_check: return "certificate check";
    case IssueStep::password: return "certificate password";
    case IssueStep::storing: return "storing";
  }
  return "issuance";
}

Result<std::string> certificate_sha256(const pki::Certificate& cert) {
  DOJANG_ASSIGN(Bytes der, cert.der());
  DOJANG_ASSIGN(Bytes digest, pki::sha256(der));
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (auto b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

Result<IssueOutcome> issue_certificate(IssueParams& p) {
  auto say = [&p](IssueStep step, std::string_view message) {
    if (p.progress) p.progress(step, message);
  };

  // --- Parameters.
  if (p.bank.has_value() == p.teller.has_value())
    return Error{Errc::usage, "give either a bank login or a teller reference number, not both"};
  if (p.store == nullptr) return Error{Errc::usage, "no NPKI store to put the certificate in"};
  if (!p.trusted_root && p.root_fingerprint.empty())
    return Error{Errc::usage, "no trust: give the root CA certificate or its SHA-256 fingerprint"};
  const std::string fingerprint = normalise_fingerprint(p.root_fingerprint);
  if (!p.trusted_root &&
      (fingerprint.size() != 64 ||
       !std::all_of(fingerprint.begin(), fingerprint.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })))
    return Error{Errc::usage, "the root fingerprint must be 64 hex digits (SHA-256)"};
  if (p.bank && !p.idn) return Error{Errc::usage, "the bank path needs the resident registration number"};
  if (p.bank && !p.bank->sms_code) return Error{Errc::usage, "no way to read the SMS code"};
  if (!p.password && !p.ask_password) return Error{Errc::usage, "no way to get the certificate password"};
  if (p.idn && p.idn->size() != 13)
    return Error{Errc::usage, "the resident registration number must be 13 digits"};
  std::string base = p.server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string cmp_url = p.cmp_url.empty() ? base + "/pkix/" : p.cmp_url;

  PasswordContext early;  // what the policy knows before the certificate exists
  if (p.idn) early.birth_date = birth_date_from_idn(p.idn->view());
  early.phone = p.phone;
  if (p.bank) early.extra.push_back(p.bank->customer);
  if (p.password) {
    PasswordVerdict v = check_password(*p.password, early);
    if (!v.ok) return at(IssueStep::password, {Errc::policy, "refused: " + join(v.reasons)});
  }

  // --- The bank: login, identity, application → reference number + code.
  std::string reference;
  SecretString auth_code;
  std::string masked_phone;
  if (p.bank) {
    say(IssueStep::bank_login, "Logging in to the bank…");
    ISSUE_ASSIGN(IssueStep::bank_login, auto bank,
                 BankClient::create({p.server, p.tls_ca_file, p.timeout_seconds}));
    ISSUE_TRY(IssueStep::bank_login, bank->login(p.bank->customer, p.bank->password));
    say(IssueStep::identity, "Verifying your identity: checking your resident registration number…");
    ISSUE_ASSIGN(IssueStep::identity, masked_phone, bank->identity(*p.idn));
    say(IssueStep::identity, "Verifying your identity: SMS code sent to " + masked_phone);
    ISSUE_ASSIGN(IssueStep::identity, SecretString code, p.bank->sms_code(masked_phone));
    ISSUE_TRY(IssueStep::identity, bank->otp(code));
    const char* purpose = p.bank->purpose == BankPurpose::general ? "general-purpose (범용)"
                                                                   : "banking/insurance (용도제한)";
    say(IssueStep::application, std::string("Opening the issuance application (") + purpose + ")…");
    ISSUE_ASSIGN(IssueStep::application, ApplicationTicket ticket,
                 bank->open_application(p.bank->purpose));
    reference = ticket.reference;
    auth_code = std::move(ticket.auth_code);
    say(IssueStep::application, "Reference number " + reference);
  } else {
    if (p.teller->reference.empty() || p.teller->auth_code.empty())
      return Error{Errc::usage, "the teller path needs the reference number and the authorization code"};
    reference = p.teller->reference;
    auth_code = p.teller->auth_code.clone();
  }
  if (p.phone.empty() && !masked_phone.empty()) early.phone = last_digits(masked_phone, 4);

  // --- The CA's certificates (genm), checked against the trusted root.
  say(IssueStep::ca_certificates, "Fetching the CA certificates (CMP genm)…");
  CmpEndpoint endpoint{cmp_url, {}, p.timeout_seconds};
  ISSUE_ASSIGN(IssueStep::ca_certificates, std::vector<pki::Certificate> ca_certs,
               request_ca_certs(endpoint, reference, auth_code));
  std::optional<pki::Certificate> root = p.trusted_root;
  if (!root) {
    for (const auto& c : ca_certs) {
      ISSUE_ASSIGN(IssueStep::ca_certificates, std::string fp, certificate_sha256(c));
      if (fp == fingerprint && self_signed(c)) root = c;
    }
    if (!root)
      return at(IssueStep::ca_certificates,
                {Errc::invalid_input, "the server sent no root CA certificate with the pinned fingerprint"});
  }
  endpoint.trusted = {*root};
  ISSUE_ASSIGN(IssueStep::ca_certificates, std::vector<pki::Certificate> verified,
               internal::verified_ca_certs(ca_certs, *root));

  // --- Key pair and R, made here; EncryptedVID when the IDN is known.
  say(IssueStep::key_generation, "Generating your key on this device (RSA-2048)…");
  ISSUE_ASSIGN(IssueStep::key_generation, pki::PrivateKey key,
               p.make_key ? p.make_key() : pki::PrivateKey::generate_rsa(2048));
  SecretBytes r(kRandomNumLength);
  ISSUE_TRY(IssueStep::key_generation, pki::random_bytes(std::span<std::uint8_t>(r.data(), r.size())));
  std::optional<std::pair<std::string, Bytes>> reg_info;
  if (p.idn) {
    std::optional<pki::Certificate> km = internal::find_km_cert(verified);
    if (!km)
      return at(IssueStep::ca_certificates,
                {Errc::invalid_input,
                 "the CA sent no encryption certificate (id-it-caProtEncCert) to protect the VID with"});
    ISSUE_ASSIGN(IssueStep::key_generation, Bytes evid, pki::make_encrypted_vid(*km, *p.idn, r));
    reg_info.emplace(pki::kOidEncryptedVid, std::move(evid));
  }

  // --- ir → ip → certConf → pkiConf.
  say(IssueStep::certificate_request, "Requesting the certificate from the CA (CMP ir)…");
  ISSUE_ASSIGN(IssueStep::certificate_request, IssuedCertificate issued,
               request_ir(endpoint, reference, auth_code, key, reg_info));
  say(IssueStep::certificate_request, "Confirming… the CA has recorded the certificate (certConf)");

  // --- The certificate: our key (request_ir checked the chain), our VID.
  if (!issued.cert.matches(key))
    return at(IssueStep::certificate_check,
              {Errc::invalid_input, "the issued certificate is not for the key made on this device"});
  ISSUE_ASSIGN(IssueStep::certificate_check, pki::CertificateInfo info, issued.cert.info());
  bool vid_verified = false;
  if (p.idn) {
    say(IssueStep::certificate_check, "Checking the VID in the certificate…");
    if (!info.vid)
      return at(IssueStep::certificate_check,
                {Errc::invalid_input, "the issued certificate carries no VID although one was sent"});
    ISSUE_ASSIGN(IssueStep::certificate_check, bool match, pki::verify_vid(issued.cert, r, *p.idn));
    if (!match)
      return at(IssueStep::certificate_check,
                {Errc::invalid_input,
                 "the VID in the issued certificate does not match your resident registration number"});
    vid_verified = true;
  }

  // --- The certificate password.
  PasswordContext context = password_context_for(info, p.idn ? &*p.idn : nullptr, early.phone);
  context.extra = early.extra;
  SecretString password;
  if (p.password) {
    PasswordVerdict v = check_password(*p.password, context);
    if (!v.ok)
      return at(IssueStep::password,
                {Errc::policy, "refused: " + join(v.reasons) + " (certificate serial 0x" + info.serial_hex +
                                   " was issued but not stored)"});
    password = p.password->clone();
  } else {
    say(IssueStep::password, "Choosing the certificate password…");
    std::vector<std::string> reasons;
    for (int attempt = 0;; ++attempt) {
      if (attempt >= std::max(1, p.password_attempts))
        return at(IssueStep::password,
                  {Errc::policy, "refused: " + join(reasons) + " (certificate serial 0x" +
                                     info.serial_hex + " was issued but not stored)"});
      ISSUE_ASSIGN(IssueStep::password, SecretString candidate, p.ask_password(context, reasons));
      PasswordVerdict v = check_password(candidate, context);
      if (v.ok) {
        password = std::move(candidate);
        break;
      }
      reasons = std::move(v.reasons);
    }
  }

  // --- Encrypt (seedCBCWithSHA1 with R by default), check, store.
  say(IssueStep::storing, "Encrypting your key with the password…");
  ISSUE_ASSIGN(IssueStep::storing, Bytes key_file, pki::encrypt_key_file(key, &r, password, p.key_format));
  {
    ISSUE_ASSIGN(IssueStep::storing, pki::DecryptedKey back, pki::decrypt_key_file(key_file, password));
    if (!issued.cert.matches(back.key) || !back.random_num || back.random_num->size() != r.size() ||
        !std::equal(r.view().begin(), r.view().end(), back.random_num->view().begin()))
      return at(IssueStep::storing, {Errc::crypto, "the encrypted key file does not read back"});
  }
  ISSUE_ASSIGN(IssueStep::storing, Bytes cert_der, issued.cert.der());
  ISSUE_ASSIGN(IssueStep::storing, StoredCredential stored, p.store->add(cert_der, key_file, std::nullopt, p.replace_existing));
  say(IssueStep::storing, "Stored in " + stored.folder.string());

  IssueOutcome out{std::move(stored), std::move(info), std::move(issued.ca_chain), reference,
                   reg_info.has_value(), vid_verified};
  return out;
}

}  // namespace dojang::wallet
