#include "ca/internal/options.hpp"

#include <openssl/objects.h>

#include <charconv>
#include <map>

#include "ca/internal/x509_build.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::ca::internal {

namespace {

constexpr size_t kMaxCaNameChars = 48;  // "<name> Issuing CA" stays within ub-common-name (64)
constexpr size_t kMaxUrlLength = 200;
constexpr unsigned kMaxPartitions = 256;
constexpr unsigned kMaxValidityDays = 3650;
constexpr int kConfVersion = 1;

bool is_dotted_oid(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  size_t dots = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i + 1] == '.') return false;
      ++dots;
    } else if (s[i] < '0' || s[i] > '9') {
      return false;
    }
  }
  if (dots < 1) return false;
  pki::internal::Ptr<ASN1_OBJECT> obj =
      pki::internal::own(::OBJ_txt2obj(std::string(s).c_str(), 1));
  pki::internal::clear_errors();
  return obj != nullptr;
}

std::string check_url(std::string_view url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return "base_url must start with http:// or https://";
  size_t scheme = url.find("://") + 3;
  if (scheme >= url.size() || url[scheme] == '/') return "base_url has no host";
  if (url.size() > kMaxUrlLength) return "base_url is too long";
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
        c == '`' || c == '{' || c == '|' || c == '}' || c == '?' || c == '#')
      return "base_url may contain only printable ASCII URL characters (no query or fragment)";
  }
  return {};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool parse_unsigned(std::string_view s, unsigned& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

Result<InitOptions> normalize_options(const InitOptions& in) {
  InitOptions o = in;
  if (auto msg = check_text("ca_name", o.ca_name, kMaxCaNameChars); !msg.empty())
    return Error{Errc::usage, msg};
  if (o.ca_name.front() == ' ' || o.ca_name.back() == ' ')
    return Error{Errc::usage, "ca_name starts or ends with a space"};
  while (!o.base_url.empty() && o.base_url.back() == '/') o.base_url.pop_back();
  if (auto msg = check_url(o.base_url); !msg.empty()) return Error{Errc::usage, msg};
  if (!is_dotted_oid(o.policies.general))
    return Error{Errc::usage, "the general-purpose policy OID is not a dotted OID"};
  if (!is_dotted_oid(o.policies.bank_insurance))
    return Error{Errc::usage, "the bank/insurance policy OID is not a dotted OID"};
  if (o.crl_partitions < 1 || o.crl_partitions > kMaxPartitions)
    return Error{Errc::usage, "crl_partitions must be between 1 and 256"};
  if (o.user_validity_days < 1 || o.user_validity_days > kMaxValidityDays)
    return Error{Errc::usage, "user_validity_days must be between 1 and 3650"};
  return o;
}

std::string format_options(const InitOptions& o) {
  std::string s;
  s +=
      "# Dojang CA hierarchy, written by `dojangd init`. Do not edit: certificates depend on it.\n";
  s += "version = " + std::to_string(kConfVersion) + "\n";
  s += "ca_name = " + o.ca_name + "\n";
  s += std::string("issuing_key = ") + key_type_name(o.issuing_key) + "\n";
  s += "base_url = " + o.base_url + "\n";
  s += "policy_general = " + o.policies.general + "\n";
  s += "policy_bank_insurance = " + o.policies.bank_insurance + "\n";
  s += "crl_partitions = " + std::to_string(o.crl_partitions) + "\n";
  s += "user_validity_days = " + std::to_string(o.user_validity_days) + "\n";
  return s;
}

Result<InitOptions> parse_options(std::string_view text) {
  std::map<std::string, std::string, std::less<>> kv;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return Error{Errc::invalid_input, "line " + std::to_string(line_no) + " is not key = value"};
    std::string key(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (!kv.emplace(key, value).second)
      return Error{Errc::invalid_input, "'" + key + "' is set twice"};
  }
  static const char* const kKeys[] = {"version",        "ca_name",
                                      "issuing_key",    "base_url",
                                      "policy_general", "policy_bank_insurance",
                                      "crl_partitions", "user_validity_days"};
  for (const auto& [key, value] : kv) {
    bool known = false;
    for (const char* k : kKeys) known = known || key == k;
    if (!known) return Error{Errc::invalid_input, "unknown setting '" + key + "'"};
  }
  for (const char* k : kKeys)
    if (kv.find(k) == kv.end())
      return Error{Errc::invalid_input, std::string("'") + k + "' is missing"};

  unsigned version = 0;
  if (!parse_unsigned(kv["version"], version) || version != kConfVersion)
    return Error{Errc::invalid_input, "unsupported version '" + kv["version"] + "'"};
  InitOptions o;
  o.ca_name = kv["ca_name"];
  auto type = parse_key_type(kv["issuing_key"]);
  if (!type) return Error{Errc::invalid_input, type.error().message};
  o.issuing_key = *type;
  o.base_url = kv["base_url"];
  o.policies.general = kv["policy_general"];
  o.policies.bank_insurance = kv["policy_bank_insurance"];
  if (!parse_unsigned(kv["crl_partitions"], o.crl_partitions))
    return Error{Errc::invalid_input, "crl_partitions is not a number"};
  if (!parse_unsigned(kv["user_validity_days"], o.user_validity_days))
    return Error{Errc::invalid_input, "user_validity_days is not a number"};
  auto normalized = normalize_options(o);
  if (!normalized) return Error{Errc::invalid_input, normalized.error().message};
  return std::move(normalized).value();
}

}  // namespace dojang::ca::internal
