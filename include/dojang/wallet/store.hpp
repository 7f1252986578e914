// The NPKI store: certificates and keys on disk in the layout every Korean
// client shares, NPKI/<CA folder>/USER/<subject DN>/{signCert.der, signPri.key,
// kmCert.der, kmPri.key} (design.md §2).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::wallet {

// Wrong-password counter kept beside a key file (see unlock() in credential.hpp);
// part of the credential folder, so remove() deletes it too.
inline constexpr std::string_view kAttemptsFile = ".dojang-attempts";

// One credential folder, as found on disk. Keys are never decrypted here.
struct StoredCredential {
  std::filesystem::path root;                 // the NPKI root it was found under
  std::filesystem::path folder;               // .../NPKI/<CA>/USER/<dn>/
  std::filesystem::path cert_path, key_path;  // actual names found (case-insensitive match)
  std::optional<std::filesystem::path> km_cert_path, km_key_path;
  std::string ca_folder;                 // e.g. "yessign"
  std::optional<pki::Certificate> cert;  // parsed when loadable
  std::optional<pki::CertificateInfo> info;
  std::string broken_reason;  // non-empty: listed as broken (missing key, unreadable cert, ...)
  bool broken() const { return !broken_reason.empty(); }
};

class NpkiStore {
 public:
  // Roots: each is an NPKI folder (holding <CA>/USER/<dn>/). Non-existent roots
  // are simply empty. New credentials go into the first root.
  explicit NpkiStore(std::vector<std::filesystem::path> roots);

  // $DOJANG_NPKI_DIR when set and non-empty, else $HOME/NPKI (the password
  // database's home directory when $HOME is unset). The CLI's --npki-dir wins
  // over both and is handled by the caller.
  static std::filesystem::path default_root();

  const std::vector<std::filesystem::path>& roots() const { return roots_; }

  // Every credential folder under every root, in root order, then by CA folder
  // and folder name. Broken folders are included with their reason; a folder
  // that cannot be read is listed as broken, plain files and dangling links are
  // skipped; one bad entry never stops the listing. Names starting with "." are
  // skipped (our own temporary folders).
  Result<std::vector<StoredCredential>> list() const;

  // SEL: "0x<hex>" serial, decimal serial, or a case-insensitive substring of
  // the CN that matches exactly one certificate (an all-digit selector that is
  // no serial is tried as a CN substring). Errors: usage (empty or malformed
  // selector), not_found, ambiguous (message lists the candidates' CN, serial
  // and folder).
  Result<StoredCredential> select(std::string_view selector) const;

  // Stores a credential in <first root>/<CA folder>/USER/<folder name>/ (see
  // npki_ca_folder / npki_folder_name). The files are written into a temporary
  // folder inside USER/, fsync'd, then renamed into place, so a reader sees
  // either nothing or the complete credential. An existing folder gives
  // already_exists unless `overwrite`, which swaps the new folder in atomically
  // and only then deletes the old one. Key files are 0600, certificates 0644,
  // folders 0700. The key is not decrypted (only checked to be non-empty).
  // Errors: invalid_input (a certificate does not parse, an empty key),
  // already_exists, usage (no root), io.
  Result<StoredCredential> add(ByteView cert_der, ByteView key_file,
                               const std::optional<std::pair<Bytes, Bytes>>& km,
                               bool overwrite = false);

  // Deletes the credential's files it recognises (signCert.der, signPri.key,
  // kmCert.der, kmPri.key in any letter case) and the folder when that leaves it
  // empty. Returns what remains in the folder (empty when the folder is gone).
  // Errors: usage (the folder is not a credential folder of this store),
  // not_found (the folder no longer exists), io.
  Result<std::vector<std::filesystem::path>> remove(const StoredCredential& cred) const;

  // Moves the credential folder aside, files untouched, to
  // USER/.<label>-<serial hex>-<folder name> (".2", ".3", ... appended when
  // taken), where list() and select() no longer see it; returns the new path.
  // Renewal retires the superseded credential ("superseded"), revocation with
  // the key the revoked one ("revoked"). Errors: as remove, io.
  Result<std::filesystem::path> retire(const StoredCredential& cred, std::string_view label) const;

 private:
  Status check_own_folder(const std::filesystem::path& folder) const;
  std::vector<std::filesystem::path> roots_;
};

// The NPKI CA folder for a certificate subject's organisation (o=), as real
// clients name them: yessign → "yessign", signGATE or KICA → "KICA",
// SignKorea → "SignKorea", CrossCert → "CrossCert", TradeSign → "TradeSign"
// (matched case-insensitively). Any other organisation is used as it is, with
// characters a file name cannot hold replaced by '_'; an empty one gives "unknown".
std::string npki_ca_folder(std::string_view organization);

// The credential folder name for a certificate: its subject as one line, most
// specific RDN first, lowercase attribute types
// ("cn=홍길동()0012345678901234,ou=WOORI,ou=personal4IB,o=yessign,c=kr"),
// with '/' and control characters replaced by '_'. invalid_input for an empty subject.
Result<std::string> npki_folder_name(const pki::CertificateInfo& info);

// Atomically replaces a file: writes a temporary file in the same folder with
// `perms`, fsyncs it, renames it over `path`, fsyncs the folder. The old file
// stays in place until the rename; no temporary file is left behind. Errors: io.
Status atomic_write_file(const std::filesystem::path& path, ByteView data,
                         std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                        std::filesystem::perms::owner_write);

}  // namespace dojang::wallet
