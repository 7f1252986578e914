// Backup and restore of a credential as a PKCS#12 (.pfx) file whose password
// is the certificate password: signCert.der + signPri.key (with R), and the km
// pair when the folder has one.
#pragma once

#include <filesystem>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/pkcs12.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "dojang/wallet/store.hpp"

namespace dojang::wallet {

struct BackupOptions {
  bool legacy = false;  // 3DES/RC2-40 + SHA-1 MAC for old Windows readers
};

// Unlocks the credential with password (throttled like every unlock), opens
// kmPri.key with the same password when there is a km pair, builds the .pfx
// and reads it back to check it yields the same keys and R. Errors: unlock()'s
// (wrong_password, key_mismatch, policy when throttled, invalid_input), and
// wrong_password / key_mismatch for the km pair, crypto.
Result<Bytes> export_backup(const StoredCredential& cred, const SecretString& password,
                            const BackupOptions& options, const Clock& clock);

// Restores a .pfx into the store: reads it (read_pkcs12's errors), writes each
// key as an NPKI key file (seedCBCWithSHA1, R kept) under the same password,
// checks the new file decrypts to the same key and R, then adds the folder
// atomically. An existing credential gives already_exists unless overwrite.
Result<StoredCredential> import_backup(NpkiStore& store, ByteView pfx, const SecretString& password,
                                       bool overwrite);

// Whether path names a file that looks like a PKCS#12 file (a regular file,
// not a folder), so `dojang import PATH` can tell a .pfx from an NPKI folder.
bool is_backup_file(const std::filesystem::path& path);

}  // namespace dojang::wallet
