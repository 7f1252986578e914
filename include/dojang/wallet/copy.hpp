// Copying a certificate between two devices through dojangd's relay with a
// one-time code (docs/backup-and-copy.md).
//
// The receiving device opens a session and shows a 16-digit code: 6 digits of
// session id (the relay sees them) and 10 secret digits (it never does). The
// sending device enters the code; both run CPace over ristretto255 with the
// secret digits, so only they get the bundle key; the relay holds the PAKE
// transcript and XChaCha20-Poly1305 ciphertext only, and cannot test guesses
// of the code offline. The key inside the bundle is signPri.key exactly as on
// disk, still encrypted under the certificate password; the receiver checks
// the password opens it and fits the certificate before storing anything.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "dojang/wallet/store.hpp"

namespace dojang::wallet {

struct RelayEndpoint {
  std::string url;      // "http://127.0.0.1:8080" (plain HTTP only to loopback) or https://...
  std::string ca_file;  // extra CA bundle (PEM) for https
  int timeout_seconds = 30;
};

inline constexpr std::size_t kCopySessionDigits = 6;
inline constexpr std::size_t kCopySecretDigits = 10;
inline constexpr std::size_t kCopyCodeDigits = kCopySessionDigits + kCopySecretDigits;
// Failed key confirmations after which the receiver gives up (the relay locks too).
inline constexpr int kCopyMaxFailures = 5;

// "1234 5678 9012 3456": the code in groups of four for reading aloud.
std::string group_code(std::string_view digits);
// The digits of a code as typed (spaces and dashes ignored). usage unless 16 digits.
Result<SecretString> parse_code(std::string_view typed);

// What travels: the certificate files as they are on the sending device.
struct CopyBundle {
  Bytes sign_cert;
  Bytes sign_key;  // signPri.key, encrypted under the certificate password
  std::optional<std::pair<Bytes, Bytes>> km;  // kmCert.der, kmPri.key
};

class CopyReceiver {
 public:
  // Opens a session on the relay under a fresh random code.
  // Errors: usage (bad URL), io (relay unreachable), policy (relay refused).
  static Result<std::unique_ptr<CopyReceiver>> open(const RelayEndpoint& relay);
  ~CopyReceiver();
  CopyReceiver(const CopyReceiver&) = delete;
  CopyReceiver& operator=(const CopyReceiver&) = delete;

  const SecretString& code() const noexcept;  // 16 digits
  TimePoint expires_at() const noexcept;

  // Waits for a sender's upload, polling every `poll`. An upload whose key
  // confirmation fails (wrong code) is reported to the relay and waiting goes
  // on; after kCopyMaxFailures the session is locked (policy). A confirmed
  // upload whose ciphertext does not authenticate is invalid_input (tampered
  // on the way). On success the session is deleted from the relay.
  // Errors also: policy "expired" when nobody sent in time, io.
  Result<CopyBundle> receive(std::chrono::milliseconds poll = std::chrono::milliseconds(500));

  struct Impl;

 private:
  explicit CopyReceiver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Checks that password opens the bundle's key (and the km key, when present)
// and that each fits its certificate, then stores the credential atomically.
// Errors: wrong_password, key_mismatch, invalid_input (damaged files),
// already_exists unless overwrite, io.
Result<StoredCredential> store_bundle(NpkiStore& store, const CopyBundle& bundle,
                                      const SecretString& password, bool overwrite);

// Sends a stored credential to the device showing `code`: runs the PAKE,
// uploads the encrypted bundle and waits (polling) until the receiver picks it
// up. Errors: not_found (no session for this code: expired, used or
// mistyped), invalid_input (the receiver rejected the code: wrong secret
// digits), policy (session locked after too many wrong codes, or another
// upload is pending), io.
Status send_credential(const RelayEndpoint& relay, const StoredCredential& cred, const SecretString& code,
                       std::chrono::milliseconds poll = std::chrono::milliseconds(500));

}  // namespace dojang::wallet
