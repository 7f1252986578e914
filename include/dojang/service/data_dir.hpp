// dojangd's data directory: the CA hierarchy (ca/), the bank's data key and the
// database, opened together under the operator passphrase.
//
//   DIR/root.pem, chain.pem, certs/, keys/, hierarchy.conf   the CA (ca::init_hierarchy)
//   DIR/keys/data.key                                         the bank's 32-byte data key, sealed
//   DIR/dojang.db (+ -wal, -shm)                              SQLite (WAL)
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "dojang/ca/hierarchy.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "dojang/ra/bank.hpp"
#include "dojang/ra/sms.hpp"
#include "dojang/store/bank_store.hpp"
#include "dojang/store/database.hpp"

namespace dojang::service {

// PBKDF2-HMAC-SHA256 iterations sealing the data key under the passphrase.
inline constexpr std::uint32_t kDataKeyIterations = 310000;

class DataDir {
 public:
  // Creates a new data directory: CA hierarchy, sealed data key, database with
  // every migration applied. Returns the opened directory. Errors: usage (empty
  // passphrase, bad options), already_exists (DIR already holds a CA), io, crypto.
  static Result<std::unique_ptr<DataDir>> init(const std::filesystem::path& dir,
                                               const SecretString& passphrase,
                                               const ca::InitOptions& options, const Clock& clock);

  // Opens an existing data directory. Errors: not_found (no data directory at
  // DIR: run `dojangd init`), wrong_password (passphrase does not open the keys),
  // invalid_input (a file is missing or corrupt; the message names it), io.
  static Result<std::unique_ptr<DataDir>> open(const std::filesystem::path& dir,
                                               const SecretString& passphrase, const Clock& clock);

  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::filesystem::path& dir() const noexcept { return dir_; }
  const ca::Hierarchy& ca() const noexcept { return hierarchy_; }
  store::Database& database() noexcept { return *db_; }
  std::shared_ptr<store::Database> database_handle() const noexcept { return db_; }
  store::BankStore& bank_store() noexcept { return *bank_store_; }
  ra::Bank& bank() noexcept { return *bank_; }
  ra::OutboxSmsGateway& sms() noexcept { return *sms_; }
  const Clock& clock() const noexcept { return *clock_; }

 private:
  DataDir(std::filesystem::path dir, ca::Hierarchy hierarchy, const Clock& clock)
      : dir_(std::move(dir)), hierarchy_(std::move(hierarchy)), clock_(&clock) {}
  static Result<std::unique_ptr<DataDir>> assemble(std::filesystem::path dir, ca::Hierarchy h,
                                                   SecretBytes data_key, const Clock& clock);

  std::filesystem::path dir_;
  ca::Hierarchy hierarchy_;
  const Clock* clock_;
  std::shared_ptr<store::Database> db_;
  std::unique_ptr<store::BankStore> bank_store_;
  std::unique_ptr<ra::OutboxSmsGateway> sms_;
  std::unique_ptr<ra::Bank> bank_;
};

// Seals a 32-byte data key under a passphrase (PBKDF2-HMAC-SHA256 + AES-256-GCM):
// "DJDATAK1" || salt(16) || iterations (4, big-endian) || sealed key.
Result<Bytes> seal_data_key(const SecretBytes& key, const SecretString& passphrase,
                            std::uint32_t iterations = kDataKeyIterations);
// Errors: invalid_input (not a sealed data key), wrong_password.
Result<SecretBytes> open_data_key(ByteView sealed, const SecretString& passphrase);

}  // namespace dojang::service
