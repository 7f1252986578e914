#include "dojang/wallet/renewal.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

#include "dojang/pki/cmp.hpp"
#include "dojang/pki/encrypted_vid.hpp"
#include "dojang/pki/random.hpp"
#include "dojang/pki/time_text.hpp"
#include "dojang/pki/vid.hpp"
#include "dojang/wallet/cmp_client.hpp"
#include "dojang/wallet/credential.hpp"
#include "wallet/internal/ca_certs.hpp"
#include "wallet/internal/steps.hpp"

namespace dojang::wallet {

namespace {

constexpr std::size_t kRandomNumLength = 20;  // R, as at issuance

#define STEP_TRY(step, expr) DOJANG_STEP_TRY(lifecycle_step_name(step), expr)
#define STEP_ASSIGN(step, decl, expr) DOJANG_STEP_ASSIGN(lifecycle_step_name(step), decl, expr)

Error at(LifecycleStep step, Error e) {
  return internal::at_step(lifecycle_step_name(step), std::move(e));
}

std::string date_text(TimePoint t) {
  return format_utc(t, "%Y-%m-%d");
}

std::string cmp_url_of(const LifecycleParams& p) {
  if (!p.cmp_url.empty()) return p.cmp_url;
  std::string base = p.server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/pkix/";
}

Status check_params(const LifecycleParams& p) {
  if (p.store == nullptr) return Error{Errc::usage, "no NPKI store"};
  if (p.clock == nullptr) return Error{Errc::usage, "no clock"};
  if (!p.trusted_root) return Error{Errc::usage, "no trusted root certificate"};
  if (p.server.empty() && p.cmp_url.empty()) return Error{Errc::usage, "no server URL"};
  return {};
}

// Selects and unlocks the credential.
Result<UnlockedCredential> open_credential(LifecycleParams& p) {
  auto say = [&p](std::string_view m) {
    if (p.progress) p.progress(LifecycleStep::credential, m);
  };
  say("Opening the certificate " + p.selector + "…");
  STEP_ASSIGN(LifecycleStep::credential, StoredCredential stored, p.store->select(p.selector));
  if (stored.broken())
    return at(LifecycleStep::credential, {Errc::invalid_input, stored.broken_reason});
  STEP_ASSIGN(LifecycleStep::credential, UnlockedCredential cred,
              unlock(stored, p.password, *p.clock));
  return cred;
}

}  // namespace

const char* lifecycle_step_name(LifecycleStep step) noexcept {
  switch (step) {
    case LifecycleStep::credential: return "credential";
    case LifecycleStep::window: return "renewal window";
    case LifecycleStep::ca_certificates: return "CA certificates";
    case LifecycleStep::key_generation: return "key generation";
    case LifecycleStep::certificate_request: return "certificate request";
    case LifecycleStep::certificate_check: return "certificate check";
    case LifecycleStep::storing: return "storing";
  }
  return "lifecycle";
}

TimePoint renewal_opens(const pki::CertificateInfo& info, std::chrono::days window) {
  return info.not_after - window;
}

Status check_renewal_window(const pki::CertificateInfo& info, const Clock& clock,
                            std::chrono::days window) {
  const TimePoint now = clock.now();
  if (now >= info.not_after)
    return Error{Errc::policy, "certificate 0x" + info.serial_hex + " expired on " +
                                   date_text(info.not_after) +
                                   ": it cannot be renewed; apply for a new certificate"};
  const TimePoint opens = renewal_opens(info, window);
  if (now < opens)
    return Error{Errc::policy, "certificate 0x" + info.serial_hex +
                                   " cannot be renewed yet: the renewal window opens on " +
                                   date_text(opens) + " (" + std::to_string(window.count()) +
                                   " days before it expires on " + date_text(info.not_after) + ")"};
  return {};
}

Result<RenewOutcome> renew_certificate(RenewParams& p) {
  auto say = [&p](LifecycleStep step, std::string_view message) {
    if (p.progress) p.progress(step, message);
  };
  DOJANG_TRY(check_params(p));
  if (p.idn && p.idn->size() != 13)
    return Error{Errc::usage, "the resident registration number must be 13 digits"};

  DOJANG_ASSIGN(UnlockedCredential cred, open_credential(p));
  STEP_ASSIGN(LifecycleStep::credential, pki::CertificateInfo old_info, cred.cert.info());

  // --- Local checks first: the window, the VID.
  say(LifecycleStep::window, "Checking the renewal window (certificate expires on " +
                                 date_text(old_info.not_after) + ")…");
  STEP_TRY(LifecycleStep::window, check_renewal_window(old_info, *p.clock, p.window));
  if (old_info.vid) {
    if (!p.idn)
      return at(LifecycleStep::window,
                {Errc::usage, "the certificate carries a VID: the renewal needs your resident "
                              "registration number (--idn-file)"});
    if (cred.key.random_num) {
      STEP_ASSIGN(LifecycleStep::window, bool match,
                  pki::verify_vid(cred.cert, *cred.key.random_num, *p.idn));
      if (!match)
        return at(LifecycleStep::window,
                  {Errc::invalid_input,
                   "the resident registration number does not match the certificate's VID"});
    }
  }

  // --- The CA's certificates (signed genm), checked against the trusted root.
  say(LifecycleStep::ca_certificates, "Fetching the CA certificates (CMP genm, signed)…");
  CmpEndpoint endpoint{cmp_url_of(p), {*p.trusted_root}, p.timeout_seconds};
  STEP_ASSIGN(LifecycleStep::ca_certificates, std::vector<pki::Certificate> ca_certs,
              request_ca_certs(endpoint, cred.cert, cred.key.key));
  STEP_ASSIGN(LifecycleStep::ca_certificates, std::vector<pki::Certificate> verified,
              internal::verified_ca_certs(ca_certs, *p.trusted_root));

  // --- New key pair and R, made here; EncryptedVID.
  say(LifecycleStep::key_generation, "Generating your new key on this device (RSA-2048)…");
  STEP_ASSIGN(LifecycleStep::key_generation, pki::PrivateKey key,
              p.make_key ? p.make_key() : pki::PrivateKey::generate_rsa(2048));
  SecretBytes r(kRandomNumLength);
  STEP_TRY(LifecycleStep::key_generation,
           pki::random_bytes(std::span<std::uint8_t>(r.data(), r.size())));
  std::optional<std::pair<std::string, Bytes>> reg_info;
  if (p.idn) {
    std::optional<pki::Certificate> km = internal::find_km_cert(verified);
    if (!km)
      return at(LifecycleStep::ca_certificates,
                {Errc::invalid_input, "the CA sent no encryption certificate "
                                      "(id-it-caProtEncCert) to protect the VID with"});
    STEP_ASSIGN(LifecycleStep::key_generation, Bytes evid, pki::make_encrypted_vid(*km, *p.idn, r));
    reg_info.emplace(pki::kOidEncryptedVid, std::move(evid));
  }

  // --- kur → ip → certConf → pkiConf.
  say(LifecycleStep::certificate_request,
      "Requesting the renewal from the CA (CMP kur, signed with your current key)…");
  STEP_ASSIGN(LifecycleStep::certificate_request, IssuedCertificate issued,
              request_kur(endpoint, cred.cert, cred.key.key, key, reg_info));
  say(LifecycleStep::certificate_request,
      "Confirmed (certConf): the CA has recorded the new certificate and revoked the old one "
      "(superseded)");

  // --- The new certificate: our key, our VID.
  if (!issued.cert.matches(key))
    return at(LifecycleStep::certificate_check,
              {Errc::invalid_input, "the new certificate is not for the key made on this device"});
  STEP_ASSIGN(LifecycleStep::certificate_check, pki::CertificateInfo info, issued.cert.info());
  bool vid_verified = false;
  if (p.idn) {
    say(LifecycleStep::certificate_check, "Checking the VID in the new certificate…");
    STEP_ASSIGN(LifecycleStep::certificate_check, bool match,
                pki::verify_vid(issued.cert, r, *p.idn));
    if (!info.vid || !match)
      return at(LifecycleStep::certificate_check,
                {Errc::invalid_input,
                 "the VID in the new certificate does not match your resident registration number"});
    vid_verified = true;
  }

  // --- Encrypt under the same password, check, retire the old, store the new.
  say(LifecycleStep::storing, "Encrypting the new key with your certificate password…");
  STEP_ASSIGN(LifecycleStep::storing, Bytes key_file,
              pki::encrypt_key_file(key, &r, p.password, p.key_format));
  {
    STEP_ASSIGN(LifecycleStep::storing, pki::DecryptedKey back,
                pki::decrypt_key_file(key_file, p.password));
    if (!issued.cert.matches(back.key))
      return at(LifecycleStep::storing, {Errc::crypto, "the encrypted key file does not read back"});
  }
  STEP_ASSIGN(LifecycleStep::storing, Bytes cert_der, issued.cert.der());
  STEP_ASSIGN(LifecycleStep::storing, std::filesystem::path archived,
              p.store->retire(cred.stored, "superseded"));
  auto stored = p.store->add(cert_der, key_file, std::nullopt, false);
  if (!stored.ok()) {
    std::error_code ec;  // put the old credential back where it was
    std::filesystem::rename(archived, cred.stored.folder, ec);
    return at(LifecycleStep::storing,
              {stored.error().code, stored.error().message + " (new certificate serial 0x" +
                                        info.serial_hex + " was issued but not stored)"});
  }
  say(LifecycleStep::storing, "Stored in " + stored->folder.string() + "; the old credential is in " +
                                  archived.string());
  return RenewOutcome{std::move(stored).value(), std::move(info), old_info.serial_hex,
                      std::move(archived), vid_verified};
}

namespace {
struct NamedReason {
  int code;
  const char* name;
};
constexpr NamedReason kHolderReasons[] = {{0, "unspecified"},
                                          {1, "keyCompromise"},
                                          {3, "affiliationChanged"},
                                          {4, "superseded"},
                                          {5, "cessationOfOperation"}};

std::string folded(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != '-' && c != '_' && c != ' ')
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

Result<int> parse_holder_revocation_reason(std::string_view text) {
  const std::string want = folded(text);
  for (const auto& r : kHolderReasons)
    if (want == folded(r.name) || want == std::to_string(r.code)) return r.code;
  return Error{Errc::usage, "unknown revocation reason '" + std::string(text) +
                                "': use unspecified, keyCompromise, affiliationChanged, "
                                "superseded or cessationOfOperation"};
}

const char* holder_revocation_reason_name(int reason) noexcept {
  for (const auto& r : kHolderReasons)
    if (r.code == reason) return r.name;
  return "unspecified";
}

Result<RevokeOutcome> revoke_with_key(RevokeParams& p) {
  auto say = [&p](LifecycleStep step, std::string_view message) {
    if (p.progress) p.progress(step, message);
  };
  DOJANG_TRY(check_params(p));
  DOJANG_ASSIGN(UnlockedCredential cred, open_credential(p));
  STEP_ASSIGN(LifecycleStep::credential, pki::CertificateInfo info, cred.cert.info());

  say(LifecycleStep::certificate_request,
      "Asking the CA to revoke certificate 0x" + info.serial_hex +
          " (CMP rr, signed with its key)…");
  CmpEndpoint endpoint{cmp_url_of(p), {*p.trusted_root}, p.timeout_seconds};
  STEP_TRY(LifecycleStep::certificate_request,
           request_rr(endpoint, cred.cert, cred.key.key, p.reason));
  say(LifecycleStep::certificate_request, "Revoked: OCSP reports it at once, CRLs at their next "
                                          "publication");

  say(LifecycleStep::storing, "Moving the revoked credential aside…");
  STEP_ASSIGN(LifecycleStep::storing, std::filesystem::path archived,
              p.store->retire(cred.stored, "revoked"));
  say(LifecycleStep::storing, "Moved to " + archived.string());
  return RevokeOutcome{std::move(info), std::move(archived)};
}

}  // namespace dojang::wallet
