// The password policy for signPri.key passwords (design.md §2): long enough,
// mixed character classes, and nothing an attacker who knows the holder would
// try first (birth date, phone number, name, sequences, keyboard runs,
// repeats, common passwords), with a zxcvbn strength floor.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dojang/pki/secret.hpp"

namespace dojang::wallet {

// Minimum number of characters (Unicode code points, so a Hangul syllable is one).
inline constexpr std::size_t kMinPasswordLength = 10;

// Minimum zxcvbn entropy estimate. 40 bits is about 10^12 guesses: zxcvbn's own
// top score ("very unguessable", protection against an offline slow-hash
// attack) starts near 10^10 (33 bits), and a stolen signPri.key is protected by
// only 1024-2048 SHA-1 iterations, so we ask for two orders of magnitude more.
// A random 10-character password over letters, digits and symbols scores about
// 60 bits; ordinary word-plus-decoration passwords ("Seoul#River92") about 45.
inline constexpr double kMinEntropyBits = 40.0;

// What the policy knows about the holder. Every field may be empty.
struct PasswordContext {
  std::string name;                // as on the certificate, e.g. "홍길동" or "Hong Gildong"
  std::string birth_date;          // YYMMDD or YYYYMMDD (see birth_date_from_idn)
  std::string phone;               // any format, e.g. "010-1234-5678"
  std::vector<std::string> extra;  // other personal words: user ID, e-mail, ...
};

// Derives the birth date as YYYYMMDD from a normalised 13-digit IDN
// (주민등록번호): YYMMDD from the first six digits, the century from the 7th
// (1,2,5,6 → 19xx; 3,4,7,8 → 20xx; 9,0 → 18xx). Returns "" when the input is not
// 13 digits or the month/day are out of range.
std::string birth_date_from_idn(std::string_view idn_digits);

struct PasswordVerdict {
  bool ok = false;
  // Every rule the password breaks, in plain English ("contains the sequence
  // '1234'", "contains your birth date", "must contain a symbol"). A reason may
  // quote a part of the password, never all of it.
  std::vector<std::string> reasons;
  double entropy_bits = 0;  // zxcvbn's estimate, with the holder's details as user dictionary
};

// Checks a new password (UTF-8) against every rule and collects all reasons.
// Letters are ASCII letters and non-ASCII letters (Hangul counts); digits are
// 0-9; symbols are other printable characters, including the space.
PasswordVerdict check_password(const SecretString& password, const PasswordContext& ctx);

}  // namespace dojang::wallet
