// Using a stored credential: unlocking its key, changing its password,
// importing an NPKI folder, checking the holder's VID.
#pragma once

#include <filesystem>
#include <optional>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/pki/keyfile.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "dojang/wallet/password_policy.hpp"
#include "dojang/wallet/store.hpp"

namespace dojang::wallet {

struct UnlockedCredential {
  StoredCredential stored;
  pki::Certificate cert;
  pki::DecryptedKey key;
};

// Decrypts the credential's key file and checks that the key belongs to its
// certificate. Wrong password → wrong_password; key of another certificate →
// key_mismatch; broken folder → invalid_input. Attempts are throttled: after
// five wrong passwords in a row, further attempts are refused (policy) for a
// growing delay; the counter lives beside the key file.
Result<UnlockedCredential> unlock(const StoredCredential& cred, const SecretString& password,
                                  const Clock& clock);

// What the password policy knows about the holder of a certificate: the real
// name (identifyData, else the CN without its "()digits" suffix), plus the
// birth date (from an IDN) and phone number when the caller has them.
PasswordContext password_context_for(const pki::CertificateInfo& info,
                                     const SecretString* idn_digits, std::string_view phone);

struct PasswordChange {
  pki::KeyFileOptions format;  // how to write the new file
};

// Changes the password of the credential's key file: decrypts with the old
// password, checks the new one against the policy (policy error listing every
// reason), re-encrypts the same key and R, checks that the new bytes decrypt
// to the same key and R, then atomically replaces the file. On any failure the
// old file is left untouched.
Status change_password(const StoredCredential& cred, const SecretString& old_password,
                       const SecretString& new_password, const PasswordContext& context,
                       const PasswordChange& change, const Clock& clock);

// Reads an NPKI credential folder (signCert.der + signPri.key, optional
// kmCert.der + kmPri.key; names matched case-insensitively) and adds it to the
// store. With a password, the key must decrypt and match the certificate first.
Result<StoredCredential> import_folder(NpkiStore& store, const std::filesystem::path& folder,
                                       const SecretString* password, bool overwrite);

// Checks the holder's IDN against the certificate's VID with R from the key.
// No VID in the certificate → not_found; no R in the key file → invalid_input.
Result<bool> check_vid(const UnlockedCredential& cred, const SecretString& idn);

}  // namespace dojang::wallet
