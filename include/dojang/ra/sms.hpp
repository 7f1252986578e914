// Sending text messages to customers' phones: the gateway interface and the
// development gateway that keeps every message in the bank store's outbox.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "dojang/store/bank_store.hpp"

namespace dojang::ra {

class SmsGateway {
 public:
  virtual ~SmsGateway() = default;
  // Sends text to phone (normalised digits, see normalize_phone). Errors: io.
  virtual Status send(std::string_view phone, const SecretString& text) = 0;
};

struct OutboxMessage {
  std::string phone;
  SecretString text;
  TimePoint sent_at;
};

// The development gateway: every message goes to the store's outbox table,
// which `dojangd bank outbox` prints and tests read. Message texts hold
// one-time codes, so they are stored AES-GCM-sealed under a subkey of the
// bank's data key (aad = phone); reading the outbox needs the same key.
class OutboxSmsGateway final : public SmsGateway {
 public:
  // data_key: the bank's 32-byte data key. Errors: usage (key size), crypto.
  static Result<OutboxSmsGateway> create(store::BankStore& store, const SecretBytes& data_key,
                                         const Clock& clock);

  Status send(std::string_view phone, const SecretString& text) override;

  // Messages in sending order; with a phone, only those sent to it (the
  // filter is normalised like an enrolled phone). Errors: usage (bad phone
  // filter), invalid_input (a message does not decrypt: another data key),
  // io.
  Result<std::vector<OutboxMessage>> outbox(
      std::optional<std::string_view> phone = std::nullopt) const;

 private:
  OutboxSmsGateway(store::BankStore& store, SecretBytes key, const Clock& clock)
      : store_(&store), key_(std::move(key)), clock_(&clock) {}
  store::BankStore* store_;
  SecretBytes key_;
  const Clock* clock_;
};

// Normalises a phone number to its digits: "010-1234-5678" -> "01012345678".
// Accepts digits with optional spaces and dashes and one leading '+'; 9 to 15
// digits. Errors: usage.
Result<std::string> normalize_phone(std::string_view phone);

// "01012345678" -> "010-****-5678": what the bank shows to say where a code went.
std::string mask_phone(std::string_view digits);

}  // namespace dojang::ra
