#include "dojang/wallet/password_policy.hpp"

#include <zxcvbn.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

namespace dojang::wallet {

namespace {

// ---------------------------------------------------------------------------
// Text handling. The password is decoded once into code points; every working
// copy is wiped when the check ends.

// Wipes a string-like buffer (size() elements) on scope exit.
template <class S>
class WipeOnExit {
 public:
  explicit WipeOnExit(S& s) : s_(s) {}
  ~WipeOnExit() { secure_wipe(s_.data(), s_.size() * sizeof(s_[0])); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  S& s_;
};

// Strict UTF-8 decoding (no overlongs, surrogates or code points past U+10FFFF).
bool decode_utf8(std::string_view s, std::u32string& out, std::vector<std::size_t>& byte_offsets) {
  out.reserve(s.size());
  byte_offsets.reserve(s.size() + 1);
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      len = 1, cp = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    byte_offsets.push_back(i);
    out.push_back(cp);
    i += len;
  }
  byte_offsets.push_back(s.size());
  return true;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

char32_t ascii_lower(char32_t c) {
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}
bool is_ascii_digit(char32_t c) {
  return c >= '0' && c <= '9';
}
bool is_ascii_letter(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Characters ignored when looking for personal data, so that "010-1234-5678",
// "1990.01.15" and "hong gildong" match their plain forms.
bool is_separator(char32_t c) {
  return c == '-' || c == '.' || c == '/' || c == ' ' || c == '_' || c == ':' || c == ',';
}

enum class CharClass { letter, digit, symbol, control };

// Non-ASCII characters are letters (Hangul, Latin with accents, CJK, ...) unless
// they fall in a block of punctuation, symbols or emoji.
CharClass classify(char32_t c) {
  if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) return CharClass::control;
  if (c < 0x80) {
    if (is_ascii_letter(c)) return CharClass::letter;
    if (is_ascii_digit(c)) return CharClass::digit;
    return CharClass::symbol;
  }
  if (c <= 0xBF || c == 0xD7 || c == 0xF7) return CharClass::symbol;  // Latin-1 punctuation, × ÷
  if (c >= 0xFF10 && c <= 0xFF19) return CharClass::digit;            // fullwidth digits
  const std::pair<char32_t, char32_t> symbol_blocks[] = {
      {0x2000, 0x2BFF},    // general punctuation, currency, arrows, maths, shapes, dingbats
      {0x3000, 0x303F},    // CJK symbols and punctuation
      {0xE000, 0xF8FF},    // private use
      {0xFE00, 0xFE6F},    // variation selectors, CJK compatibility and small forms
      {0xFEFF, 0xFEFF},    // zero-width no-break space
      {0xFF01, 0xFF0F},    // fullwidth punctuation
      {0xFF1A, 0xFF20},    //
      {0xFF3B, 0xFF40},    //
      {0xFF5B, 0xFF65},    //
      {0x1F000, 0x1FAFF},  // emoji and pictographs
  };
  for (auto [lo, hi] : symbol_blocks)
    if (c >= lo && c <= hi) return CharClass::symbol;
  return CharClass::letter;
}

// ---------------------------------------------------------------------------
// Keyboard geometry. Every character is mapped to the unshifted key that types
// it on a US QWERTY keyboard (Korean 2-set jamo map to the same keys), then
// runs along a row or a column are looked up in both directions.

char keyboard_key(char32_t c) {
  if (c < 0x80) {
    const char ch = static_cast<char>(ascii_lower(c));
    static constexpr std::string_view shifted = "~!@#$%^&*()_+{}|:\"<>?";
    static constexpr std::string_view unshifted = "`1234567890-=[]\\;',./";
    if (auto p = shifted.find(ch); p != std::string_view::npos) return unshifted[p];
    return ch;
  }
  // Hangul compatibility jamo on the standard 2-set (두벌식) layout.
  static const std::pair<char32_t, char> jamo[] = {
      {U'ㅂ', 'q'}, {U'ㅈ', 'w'}, {U'ㄷ', 'e'}, {U'ㄱ', 'r'}, {U'ㅅ', 't'}, {U'ㅛ', 'y'},
      {U'ㅕ', 'u'}, {U'ㅑ', 'i'}, {U'ㅐ', 'o'}, {U'ㅔ', 'p'}, {U'ㅁ', 'a'}, {U'ㄴ', 's'},
      {U'ㅇ', 'd'}, {U'ㄹ', 'f'}, {U'ㅎ', 'g'}, {U'ㅗ', 'h'}, {U'ㅓ', 'j'}, {U'ㅏ', 'k'},
      {U'ㅣ', 'l'}, {U'ㅋ', 'z'}, {U'ㅌ', 'x'}, {U'ㅊ', 'c'}, {U'ㅍ', 'v'}, {U'ㅠ', 'b'},
      {U'ㅜ', 'n'}, {U'ㅡ', 'm'}, {U'ㅃ', 'q'}, {U'ㅉ', 'w'}, {U'ㄸ', 'e'}, {U'ㄲ', 'r'},
      {U'ㅆ', 't'}, {U'ㅒ', 'o'}, {U'ㅖ', 'p'},
  };
  for (auto [j, k] : jamo)
    if (c == j) return k;
  return '\0';
}

const std::vector<std::string>& keyboard_lines() {
  static const std::vector<std::string> lines = [] {
    std::vector<std::string> base = {
        // rows
        "`1234567890-=",
        "qwertyuiop[]\\",
        "asdfghjkl;'",
        "zxcvbnm,./",
        // columns leaning left (1qaz) and right (zse4)
        "1qaz",
        "2wsx",
        "3edc",
        "4rfv",
        "5tgb",
        "6yhn",
        "7ujm",
        "8ik,",
        "9ol.",
        "0p;/",
        "-['",
        "zse4",
        "xdr5",
        "cft6",
        "vgy7",
        "bhu8",
        "nji9",
        "mko0",
        ",lp-",
        ".;[=",
    };
    std::vector<std::string> all = base;
    for (const auto& l : base) all.emplace_back(l.rbegin(), l.rend());
    return all;
  }();
  return lines;
}

// ---------------------------------------------------------------------------
// Collecting reasons.

constexpr std::size_t kMinRunLength = 4;    // sequences and keyboard runs
constexpr std::size_t kMinRepeat = 3;       // the same character in a row
constexpr std::size_t kMinPatternSpan = 6;  // a repeated unit covering at least this much

struct Span {
  std::size_t begin, len;
  bool covered_by(const Span& o) const {
    return begin >= o.begin && begin + len <= o.begin + o.len;
  }
};

class Checker {
 public:
  Checker(const std::u32string& pw, const std::u32string& lower) : pw_(pw), lower_(lower) {}

  void add(std::string reason) {
    if (std::find(reasons_.begin(), reasons_.end(), reason) == reasons_.end())
      reasons_.push_back(std::move(reason));
  }
  // "contains <what> 'frag'", or `whole` when the fragment is the whole password
  // (a reason never repeats the full password).
  void add_fragment(const Span& s, const std::string& what, const std::string& whole) {
    if (s.len >= pw_.size())
      add(whole);
    else
      add("contains " + what + " '" + to_utf8(std::u32string_view(pw_).substr(s.begin, s.len)) +
          "'");
  }

  void check_classes() {
    bool letter = false, digit = false, symbol = false, control = false;
    for (char32_t c : pw_) {
      switch (classify(c)) {
        case CharClass::letter:
          letter = true;
          break;
        case CharClass::digit:
          digit = true;
          break;
        case CharClass::symbol:
          symbol = true;
          break;
        case CharClass::control:
          control = true;
          break;
      }
    }
    if (pw_.size() < kMinPasswordLength)
      add("must be at least " + std::to_string(kMinPasswordLength) + " characters long");
    if (!letter) add("must contain a letter");
    if (!digit) add("must contain a digit");
    if (!symbol) add("must contain a symbol (such as ! # % & or a space)");
    if (control) add("must not contain control characters");
  }

  // 1234, 4321, abcd, DCBA: consecutive code points among ASCII digits or letters.
  void check_sequences() {
    auto kind = [](char32_t c) { return is_ascii_digit(c) ? 1 : is_ascii_letter(c) ? 2 : 0; };
    auto step_at = [&](std::size_t i) {  // +1 / -1 from lower_[i] to lower_[i + 1], else 0
      const char32_t a = lower_[i], b = lower_[i + 1];
      if (kind(a) == 0 || kind(a) != kind(b)) return 0;
      const int step = static_cast<int>(b) - static_cast<int>(a);
      return (step == 1 || step == -1) ? step : 0;
    };
    const std::size_t n = lower_.size();
    std::size_t i = 0;
    while (i + 1 < n) {
      const int step = step_at(i);
      if (step == 0) {
        ++i;
        continue;
      }
      std::size_t j = i + 1;
      while (j + 1 < n && step_at(j) == step) ++j;
      const Span run{i, j - i + 1};
      if (run.len >= kMinRunLength) {
        sequences_.push_back(run);
        add_fragment(run, "the sequence", "is a simple sequence of characters");
      }
      i = j;
    }
  }

  // qwer, asdf, zxcv, 1qaz, !@#$, ㅂㅈㄷㄱ, and the same reversed.
  void check_keyboard() {
    const std::size_t n = pw_.size();
    std::string keys(n, '\0');
    WipeOnExit wipe(keys);
    for (std::size_t i = 0; i < n; ++i) keys[i] = keyboard_key(pw_[i]);
    std::size_t i = 0;
    while (i < n) {
      std::size_t best = 0;
      if (keys[i] != '\0') {
        for (const auto& line : keyboard_lines()) {
          const auto pos = line.find(keys[i]);
          if (pos == std::string::npos) continue;
          std::size_t k = 1;
          while (i + k < n && pos + k < line.size() && line[pos + k] == keys[i + k]) ++k;
          best = std::max(best, k);
        }
      }
      if (best >= kMinRunLength) {
        const Span run{i, best};
        const bool already = std::any_of(sequences_.begin(), sequences_.end(),
                                         [&](const Span& s) { return run.covered_by(s); });
        if (!already) add_fragment(run, "the keyboard pattern", "is a keyboard pattern");
        i += best;
      } else {
        ++i;
      }
    }
  }

  // aaa, 111 (case-insensitive), and a unit repeated: abcabc, 121212.
  void check_repeats() {
    const std::size_t n = lower_.size();
    std::vector<Span> found;
    for (std::size_t i = 0; i < n;) {
      std::size_t j = i + 1;
      while (j < n && lower_[j] == lower_[i]) ++j;
      if (j - i >= kMinRepeat) {
        found.push_back({i, j - i});
        if (j - i >= n)
          add("is one character repeated");
        else
          add("repeats the character '" + to_utf8(std::u32string_view(pw_).substr(i, 1)) + "' " +
              std::to_string(j - i) + " times");
      }
      i = j;
    }
    for (std::size_t unit = 2; unit <= n / 2; ++unit) {
      std::size_t j = unit;
      while (j < n) {
        if (lower_[j] != lower_[j - unit]) {
          ++j;
          continue;
        }
        std::size_t m = 0;  // characters equal to the one `unit` before
        while (j + m < n && lower_[j + m] == lower_[j + m - unit]) ++m;
        const Span span{j - unit, unit + m};
        j += m;
        if (m < unit || span.len < kMinPatternSpan) continue;
        const auto u = std::u32string_view(lower_).substr(span.begin, unit);
        if (std::all_of(u.begin(), u.end(), [&](char32_t c) { return c == u[0]; })) continue;
        if (std::any_of(found.begin(), found.end(),
                        [&](const Span& s) { return span.covered_by(s); }))
          continue;
        found.push_back(span);
        add("repeats the pattern '" + to_utf8(std::u32string_view(pw_).substr(span.begin, unit)) +
            "'");
      }
    }
  }

  std::vector<std::string> take() { return std::move(reasons_); }

 private:
  const std::u32string& pw_;
  const std::u32string& lower_;
  std::vector<Span> sequences_;
  std::vector<std::string> reasons_;
};

// ---------------------------------------------------------------------------
// Personal data: each form is lowercased with separators removed, and looked
// up in the password with separators removed.

std::u32string fold(std::u32string_view s) {
  std::u32string out;
  for (char32_t c : s)
    if (!is_separator(c)) out.push_back(ascii_lower(c));
  return out;
}

std::u32string fold(std::string_view utf8) {
  std::u32string cps;
  std::vector<std::size_t> offsets;
  if (!decode_utf8(utf8, cps, offsets)) return {};
  return fold(std::u32string_view(cps));
}

bool all_ascii(std::u32string_view s) {
  return std::all_of(s.begin(), s.end(), [](char32_t c) { return c < 0x80; });
}

std::string digits_of(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c >= '0' && c <= '9') out.push_back(c);
  return out;
}

// The name, its parts and (for a Hangul name without spaces) the given name.
std::vector<std::u32string> name_forms(const std::string& name) {
  std::vector<std::u32string> forms;
  std::u32string cps;
  std::vector<std::size_t> offsets;
  if (!decode_utf8(name, cps, offsets)) return forms;
  auto push = [&](std::u32string f) {
    // A short Latin fragment ("li") is too common to refuse; Hangul syllables carry more.
    const std::size_t min = all_ascii(f) ? 3 : 2;
    if (f.size() >= min && std::find(forms.begin(), forms.end(), f) == forms.end())
      forms.push_back(std::move(f));
  };
  push(fold(std::u32string_view(cps)));
  std::u32string part;
  std::size_t parts = 0;
  for (char32_t c : cps) {
    if (is_separator(c) || c == '\t') {
      if (!part.empty()) push(fold(std::u32string_view(part))), ++parts;
      part.clear();
    } else {
      part.push_back(c);
    }
  }
  if (!part.empty()) push(fold(std::u32string_view(part))), ++parts;
  const std::u32string whole = fold(std::u32string_view(cps));
  const bool hangul = !whole.empty() && std::all_of(whole.begin(), whole.end(), [](char32_t c) {
    return c >= 0xAC00 && c <= 0xD7A3;
  });
  if (parts == 1 && hangul && (whole.size() == 3 || whole.size() == 4)) {
    push(whole.substr(whole.size() - 2));          // 홍길동 → 길동, 남궁민수 → 민수
    if (whole.size() == 4) push(whole.substr(1));  // 1-syllable surname, 3-syllable name
  }
  return forms;
}

// YYYYMMDD, YYMMDD, MMDDYYYY, MMDDYY, DDMMYYYY, DDMMYY and MMDD.
std::vector<std::u32string> birth_forms(const std::string& birth_date) {
  const std::string d = digits_of(birth_date);
  std::vector<std::string> years;
  std::string mm, dd;
  if (d.size() == 8) {
    years = {d.substr(0, 4)};
    mm = d.substr(4, 2), dd = d.substr(6, 2);
  } else if (d.size() == 6) {
    years = {"19" + d.substr(0, 2), "20" + d.substr(0, 2)};
    mm = d.substr(2, 2), dd = d.substr(4, 2);
  } else {
    return {};
  }
  std::vector<std::string> forms;
  for (const auto& y4 : years) {
    const std::string y2 = y4.substr(2);
    for (const auto& f :
         {y4 + mm + dd, y2 + mm + dd, mm + dd + y4, mm + dd + y2, dd + mm + y4, dd + mm + y2})
      forms.push_back(f);
  }
  forms.push_back(mm + dd);
  std::vector<std::u32string> out;
  for (const auto& f : forms) {
    std::u32string u(f.begin(), f.end());
    if (std::find(out.begin(), out.end(), u) == out.end()) out.push_back(std::move(u));
  }
  return out;
}

// The whole number, its last 8 and last 4 digits (and the national form of a +82 number).
std::vector<std::u32string> phone_forms(const std::string& phone) {
  const std::string d = digits_of(phone);
  std::vector<std::string> forms;
  if (d.size() >= 4) forms.push_back(d);
  if (d.size() >= 11 && d.compare(0, 2, "82") == 0) forms.push_back("0" + d.substr(2));
  if (d.size() > 8) forms.push_back(d.substr(d.size() - 8));
  if (d.size() > 4) forms.push_back(d.substr(d.size() - 4));
  std::vector<std::u32string> out;
  for (const auto& f : forms) out.emplace_back(f.begin(), f.end());
  return out;
}

// Other personal words; an e-mail address also gives its local part.
std::vector<std::u32string> extra_forms(const std::vector<std::string>& extra) {
  std::vector<std::u32string> out;
  for (const auto& e : extra) {
    std::u32string f = fold(std::string_view(e));
    if (f.size() >= 3) out.push_back(f);
    if (auto at = f.find(U'@'); at != std::u32string::npos && at >= 3)
      out.push_back(f.substr(0, at));
  }
  return out;
}

bool contains_any(const std::u32string& hay, const std::vector<std::u32string>& forms) {
  return std::any_of(forms.begin(), forms.end(), [&](const std::u32string& f) {
    return !f.empty() && hay.find(f) != std::u32string::npos;
  });
}

// ---------------------------------------------------------------------------
// zxcvbn

struct ZxcvbnInfoFree {
  void operator()(ZxcMatch_t* p) const noexcept { ::ZxcvbnFreeInfo(p); }
};

bool is_dictionary(ZxcTypeMatch_t t) {
  const int base = static_cast<int>(t) & ~static_cast<int>(MULTIPLE_MATCH);
  return base == DICTIONARY_MATCH || base == DICT_LEET_MATCH;
}

}  // namespace

std::string birth_date_from_idn(std::string_view idn) {
  if (idn.size() != 13 ||
      !std::all_of(idn.begin(), idn.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return {};
  const char* century = nullptr;
  switch (idn[6]) {
    case '1':
    case '2':
    case '5':
    case '6':
      century = "19";
      break;
    case '3':
    case '4':
    case '7':
    case '8':
      century = "20";
      break;
    default:
      century = "18";
      break;  // 9, 0
  }
  std::string out = std::string(century) + std::string(idn.substr(0, 6));
  const int y = std::stoi(out.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(out.substr(4, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(out.substr(6, 2)));
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{d}};
  if (!ymd.ok()) return {};
  return out;
}

PasswordVerdict check_password(const SecretString& password, const PasswordContext& ctx) {
  PasswordVerdict verdict;
  std::u32string pw;
  std::vector<std::size_t> offsets;  // byte offset of each code point (zxcvbn reports bytes)
  WipeOnExit wipe_pw(pw);
  if (!decode_utf8(password.view(), pw, offsets)) {
    verdict.reasons.push_back("is not valid UTF-8 text");
    return verdict;
  }
  std::u32string lower;
  lower.reserve(pw.size());
  WipeOnExit wipe_lower(lower);
  for (char32_t c : pw) lower.push_back(ascii_lower(c));
  std::u32string folded;
  folded.reserve(pw.size());
  WipeOnExit wipe_folded(folded);
  for (char32_t c : lower)
    if (!is_separator(c)) folded.push_back(c);

  Checker checker(pw, lower);
  checker.check_classes();
  checker.check_sequences();
  checker.check_keyboard();
  checker.check_repeats();

  const auto names = name_forms(ctx.name);
  const auto births = birth_forms(ctx.birth_date);
  const auto phones = phone_forms(ctx.phone);
  const auto extras = extra_forms(ctx.extra);
  if (contains_any(folded, births)) checker.add("contains your birth date");
  if (contains_any(folded, phones)) checker.add("contains your phone number");
  if (contains_any(folded, names)) checker.add("contains your name");
  if (contains_any(folded, extras)) checker.add("contains one of your personal details");

  // zxcvbn, with the holder's details as its user dictionary.
  std::vector<std::string> user_words;
  for (const auto* forms : {&names, &births, &phones, &extras})
    for (const auto& f : *forms) user_words.push_back(to_utf8(f));
  std::vector<const char*> user_dict;
  for (const auto& w : user_words) user_dict.push_back(w.c_str());
  user_dict.push_back(nullptr);
  ZxcMatch_t* raw_info = nullptr;
  verdict.entropy_bits = ::ZxcvbnMatch(password.data(), user_dict.data(), &raw_info);
  std::unique_ptr<ZxcMatch_t, ZxcvbnInfoFree> info(raw_info);

  // Common passwords and words: one dictionary word (counting its repeats)
  // covering half of the password or more.
  struct Word {
    std::string text;  // lowercase
    std::size_t chars = 0;
    Span first{0, 0};
  };
  std::vector<Word> words;
  auto cp_index = [&](std::size_t byte) {
    return static_cast<std::size_t>(std::lower_bound(offsets.begin(), offsets.end(), byte) -
                                    offsets.begin());
  };
  for (const ZxcMatch_t* m = info.get(); m != nullptr; m = m->Next) {
    if (!is_dictionary(m->Type) || m->Begin < 0 || m->Length <= 0) continue;
    const std::size_t b = cp_index(static_cast<std::size_t>(m->Begin));
    const std::size_t e = cp_index(static_cast<std::size_t>(m->Begin + m->Length));
    if (e > pw.size() || e <= b) continue;
    const Span span{b, e - b};
    if (span.len < kMinRunLength) continue;
    std::string text = to_utf8(std::u32string_view(lower).substr(b, span.len));
    auto it =
        std::find_if(words.begin(), words.end(), [&](const Word& w) { return w.text == text; });
    if (it == words.end()) {
      words.push_back(Word{std::move(text), 0, span});
      it = words.end() - 1;
    } else {
      secure_wipe(text.data(), text.size());
    }
    it->chars += span.len;
  }
  for (auto& w : words) {
    if (2 * w.chars >= pw.size())
      checker.add_fragment(w.first, "the common password or word", "is a common password");
    secure_wipe(w.text.data(), w.text.size());
  }
  for (auto& w : user_words) secure_wipe(w.data(), w.size());

  if (verdict.entropy_bits < kMinEntropyBits) {
    char buf[128];
    std::snprintf(buf, sizeof buf,
                  "is too easy to guess (estimated strength %.0f bits, at least %.0f needed)",
                  verdict.entropy_bits, kMinEntropyBits);
    checker.add(buf);
  }
  verdict.reasons = checker.take();
  verdict.ok = verdict.reasons.empty();
  return verdict;
}

}  // namespace dojang::wallet
