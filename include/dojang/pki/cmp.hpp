// CMP / CRMF pieces OpenSSL 3.0 leaves out: reading and adding a regInfo
// AttributeTypeAndValue (RFC 4211 section 7) of a certificate request, where
// Korean NPKI clients carry the EncryptedVID.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::pki {

// regInfo type of the EncryptedVID (KISA): 1.2.410.200004.10.1.1.2.
inline constexpr std::string_view kOidEncryptedVid = "1.2.410.200004.10.1.1.2";

// Finds the regInfo AttributeTypeAndValue of type oid (dotted) in the DER of
// one CRMF CertReqMsg (on a CMP server: i2d_OSSL_CRMF_MSG of the request)
// and returns the DER of its value; nullopt when there is none (the first one
// wins if several). invalid_input when the DER is not a CertReqMsg (trailing
// bytes included); usage when oid is not a dotted OID.
Result<std::optional<Bytes>> extract_reginfo(ByteView cert_req_msg_der, std::string_view oid);

// Returns the CertReqMsg with AttributeTypeAndValue{oid, value} appended to
// its regInfo. value_der must be exactly one DER value (invalid_input
// otherwise). The popo signature covers only certReq, so it stays valid.
Result<Bytes> add_reginfo_to_cert_req_msg(ByteView cert_req_msg_der, std::string_view oid,
                                          ByteView value_der);

// Returns the PKIMessage (an ir, cr or kur) with AttributeTypeAndValue{oid,
// value} appended to the regInfo of each of its CertReqMsgs; header,
// protection and extraCerts are copied unchanged, so the protection no longer
// verifies until the sender protects the message again. invalid_input when
// the DER is not a PKIMessage; usage when its body is not ir / cr / kur.
Result<Bytes> add_reginfo(ByteView pki_message_der, std::string_view oid, ByteView value_der);

// The regInfo values of type oid of every CertReqMsg of an ir / cr / kur
// PKIMessage, in order (nullopt for a CertReqMsg without one). Same errors as
// add_reginfo.
Result<std::vector<std::optional<Bytes>>> extract_reginfo_from_message(ByteView pki_message_der,
                                                                       std::string_view oid);

}  // namespace dojang::pki
