// Certificate policy OIDs of the Korean accredited CAs (공인인증기관).
#include <string>
#include <string_view>

#include "dojang/pki/certificate.hpp"

namespace dojang::pki {

namespace {

struct PolicyEntry {
  std::string_view oid;
  std::string_view ca;
  HolderKind holder;
  Purpose purpose;
  std::string_view what;  // label after "<ca> <holder> "
};

constexpr std::string_view kYessign = "yessign";
constexpr std::string_view kSignGate = "KICA signGATE";
constexpr std::string_view kSignKorea = "SignKorea";
constexpr std::string_view kCrossCert = "CrossCert";
constexpr std::string_view kTradeSign = "TradeSign";
constexpr std::string_view kNcaSign = "NCASign";

constexpr std::string_view kGeneral = "general-purpose (범용)";
constexpr std::string_view kBankInsurance = "banking/insurance (용도제한: 은행/보험용)";
constexpr std::string_view kSecuritiesInsurance = "securities/insurance (용도제한: 증권/보험용)";
constexpr std::string_view kSecurities = "securities (용도제한: 증권거래용)";
constexpr std::string_view kCreditCard = "credit card (용도제한: 신용카드용)";
constexpr std::string_view kCivilAffairs = "e-government (용도제한: 전자민원용)";

constexpr HolderKind P = HolderKind::personal;
constexpr HolderKind C = HolderKind::corporate;

// Only OIDs published in these sources are listed; anything else is reported
// as an unknown policy, never guessed.
//
// [A] bitcube4650/bitcube_bid_jsp, src/main/webapp/ccc-sample-wstd/verifySignData.jsp
//     (commit 972186df; CrossCert's verification sample): the tables
//     "개인상호연동용(범용)", "법인상호연동용(범용)" and "개인 용도제한용 인증서정책(OID)
//     용도 / 공인인증기관" (은행거래용/보험용, 증권거래용(/보험용), 신용카드용, 전자민원용).
// [B] letsgolee/jCastle, lib/oid-kr.js (commit c27c2538): names per OID, e.g.
//     200005.1.1.2 "금융결제원 금융기업", 200004.5.3.1.x "한국전산원(NCA)",
//     200012.1.1.x "한국무역정보통신(TradeSign)".
// [C] son99you/cloud_test, eGs_epro_sbdc/src/main/webapp/vestsign/library/policies.js:
//     the personal-general class lists 200004.5.3.1.9 with the other CAs'
//     personal general-purpose OIDs; the corporate class lists 200004.5.3.1.2.
//
// TradeSign's arc is 1.2.410.200012 [A][B]; 1.2.410.200004.5.3 belongs to the
// National Computerization Agency's NCASign CA (한국전산원, later NIA) [B][C].
// clang-format off
constexpr PolicyEntry kPolicies[] = {
    // yessign (금융결제원)
    {"1.2.410.200005.1.1.1",     kYessign,   P, Purpose::general,        kGeneral},  // [A]
    {"1.2.410.200005.1.1.5",     kYessign,   C, Purpose::general,        kGeneral},  // [A]
    {"1.2.410.200005.1.1.4",     kYessign,   P, Purpose::bank_insurance, kBankInsurance},  // [A]
    {"1.2.410.200005.1.1.2",     kYessign,   C, Purpose::bank_insurance, kBankInsurance},  // [B] 금융기업
    {"1.2.410.200005.1.1.6.2",   kYessign,   P, Purpose::credit_card,    kCreditCard},  // [A]
    // KICA signGATE (한국정보인증)
    {"1.2.410.200004.5.2.1.2",   kSignGate,  P, Purpose::general,        kGeneral},  // [A]
    {"1.2.410.200004.5.2.1.1",   kSignGate,  C, Purpose::general,        kGeneral},  // [A]
    {"1.2.410.200004.5.2.1.7.1", kSignGate,  P, Purpose::bank_insurance, kBankInsurance},  // [A]
    {"1.2.410.200004.5.2.1.7.2", kSignGate,  P, Purpose::securities,     kSecuritiesInsurance},  // [A]
    {"1.2.410.200004.5.2.1.7.3", kSignGate,  P, Purpose::credit_card,    kCreditCard},  // [A]
    // SignKorea (코스콤, formerly 한국증권전산)
    {"1.2.410.200004.5.1.1.5",   kSignKorea, P, Purpose::general,        kGeneral},  // [A]
    {"1.2.410.200004.5.1.1.7",   kSignKorea, C, Purpose::general,        kGeneral},  // [A]
    {"1.2.410.200004.5.1.1.9",   kSignKorea, P, Purpose::securities,     kSecuritiesInsurance},  // [A]
    {"1.2.410.200004.5.1.1.9.2", kSignKorea, P, Purpose::credit_card,    kCreditCard},  // [A]
    // CrossCert (한국전자인증)
    {"1.2.410.200004.5.4.1.1",   kCrossCert, P, Purpose::general,        kGeneral},  // [A]
    {"1.2.410.200004.5.4.1.2",   kCrossCert, C, Purpose::general,        kGeneral},  // [A]
    {"1.2.410.200004.5.4.1.101", kCrossCert, P, Purpose::bank_insurance, kBankInsurance},  // [A]
    {"1.2.410.200004.5.4.1.102", kCrossCert, P, Purpose::securities,     kSecurities},  // [A]
    {"1.2.410.200004.5.4.1.103", kCrossCert, P, Purpose::credit_card,    kCreditCard},  // [A]
    {"1.2.410.200004.5.4.1.104", kCrossCert, P, Purpose::other_limited,  kCivilAffairs},  // [A]
    // TradeSign (한국무역정보통신)
    {"1.2.410.200012.1.1.1",     kTradeSign, P, Purpose::general,        kGeneral},  // [A]
    {"1.2.410.200012.1.1.3",     kTradeSign, C, Purpose::general,        kGeneral},  // [A]
    {"1.2.410.200012.1.1.101",   kTradeSign, P, Purpose::bank_insurance, kBankInsurance},  // [A]
    {"1.2.410.200012.1.1.103",   kTradeSign, P, Purpose::securities,     kSecuritiesInsurance},  // [A]
    {"1.2.410.200012.1.1.105",   kTradeSign, P, Purpose::credit_card,    kCreditCard},  // [A]
    // NCASign (한국전산원)
    {"1.2.410.200004.5.3.1.9",   kNcaSign,   P, Purpose::general,        kGeneral},  // [B][C]
    {"1.2.410.200004.5.3.1.1",   kNcaSign,   C, Purpose::general,        kGeneral},  // [B] 기관/단체
    {"1.2.410.200004.5.3.1.2",   kNcaSign,   C, Purpose::general,        kGeneral},  // [B][C] 법인
};
// clang-format on

}  // namespace

PolicyInfo lookup_policy(const std::string& oid) {
  PolicyInfo info;
  info.oid = oid;
  for (const PolicyEntry& e : kPolicies) {
    if (e.oid != oid) continue;
    info.ca = e.ca;
    info.holder = e.holder;
    info.purpose = e.purpose;
    info.label = std::string(e.ca) +
                 (e.holder == HolderKind::corporate ? " corporate " : " personal ") +
                 std::string(e.what);
    return info;
  }
  info.label = "unknown policy " + oid;
  return info;
}

const char* purpose_name(Purpose p) noexcept {
  switch (p) {
    case Purpose::general:
      return "general";
    case Purpose::bank_insurance:
      return "bank_insurance";
    case Purpose::credit_card:
      return "credit_card";
    case Purpose::securities:
      return "securities";
    case Purpose::other_limited:
      return "other_limited";
    case Purpose::unknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace dojang::pki
