#include "dojang/ra/sms.hpp"

#include <algorithm>

#include "dojang/pki/aead.hpp"
#include "ra/internal/keys.hpp"

namespace dojang::ra {

namespace {

constexpr std::size_t kMinPhoneDigits = 9;
constexpr std::size_t kMaxPhoneDigits = 15;

ByteView bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

Result<std::string> normalize_phone(std::string_view phone) {
  std::string out;
  bool seen_digit = false;
  for (std::size_t i = 0; i < phone.size(); ++i) {
    char c = phone[i];
    if (c >= '0' && c <= '9') {
      out.push_back(c);
      seen_digit = true;
    } else if (c == '+' && !seen_digit && out.empty()) {
      out.push_back(c);
    } else if (c != ' ' && c != '-') {
      return Error{Errc::usage,
                   "a phone number may contain only digits, spaces, dashes and a leading '+'"};
    }
  }
  const std::size_t digits = out.size() - (out.starts_with('+') ? 1 : 0);
  if (digits < kMinPhoneDigits || digits > kMaxPhoneDigits)
    return Error{Errc::usage,
                 "a phone number has 9 to 15 digits, this one has " + std::to_string(digits)};
  return out;
}

std::string mask_phone(std::string_view digits) {
  constexpr std::size_t kHead = 3;
  constexpr std::size_t kTail = 4;
  if (digits.size() <= kHead + kTail) return std::string(digits.size(), '*');
  return std::string(digits.substr(0, kHead)) + "-" +
         std::string(digits.size() - kHead - kTail, '*') + "-" +
         std::string(digits.substr(digits.size() - kTail));
}

Result<OutboxSmsGateway> OutboxSmsGateway::create(store::BankStore& store,
                                                  const SecretBytes& data_key, const Clock& clock) {
  DOJANG_ASSIGN(SecretBytes key, internal::derive_key(data_key, "sms-outbox-seal"));
  return OutboxSmsGateway(store, std::move(key), clock);
}

Status OutboxSmsGateway::send(std::string_view phone, const SecretString& text) {
  DOJANG_ASSIGN(Bytes sealed, pki::seal(key_.view(), text.bytes(), bytes_of(phone)));
  return store_->append_sms(
      store::SmsRecord{0, std::string(phone), std::move(sealed), clock_->now()});
}

Result<std::vector<OutboxMessage>> OutboxSmsGateway::outbox(
    std::optional<std::string_view> phone) const {
  std::optional<std::string> filter;
  if (phone) {
    DOJANG_ASSIGN(filter, normalize_phone(*phone));
  }
  DOJANG_ASSIGN(std::vector<store::SmsRecord> records,
                store_->list_sms(filter ? std::optional<std::string_view>(*filter) : std::nullopt));
  std::vector<OutboxMessage> out;
  out.reserve(records.size());
  for (const store::SmsRecord& r : records) {
    auto text = pki::open(key_.view(), r.body, bytes_of(r.phone));
    if (!text.ok())
      return Error{text.error().code, "outbox message " + std::to_string(r.id) +
                                          " does not decrypt with this data key"};
    std::string s;
    s.reserve(std::max<std::size_t>(64, text->size()));  // on the heap: moved, not copied, below
    s.assign(reinterpret_cast<const char*>(text->data()), text->size());
    out.push_back(OutboxMessage{r.phone, SecretString(std::move(s)), r.sent_at});
  }
  return out;
}

}  // namespace dojang::ra
