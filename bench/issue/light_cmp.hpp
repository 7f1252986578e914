// bench/issue light client: the device's side of one CMP issuance (RFC 4210)
// with the ir built ahead of time by OpenSSL exactly as the wallet builds it,
// and the answers read and the certConf written with small ASN.1 templates
// that keep every certificate opaque. Neither the ip nor the certificate in
// it goes through OpenSSL's CMP or X509 decoders: in OpenSSL 3.0 those run the
// provider key decoders, the cost the load generator must not add.
//
// What the light client does not do, and the wallet does: verify the ip's
// MAC and the issued certificate's chain, check that the certificate is for
// the device key.
#pragma once

#include <string>

#include "dojang/pki/key.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::bench {

// The password-based MAC parameters the wallet's OpenSSL chose for its ir
// (OSSL_CMP_CTX defaults); the certConf uses the same, with a fresh salt.
struct PbmChoice {
  int owf_nid = 0;
  int mac_nid = 0;
  long iterations = 0;
  int salt_length = 0;
};

// One issuance prepared before the clock starts: a teller application and the
// ir the device sends for it.
struct PreparedIr {
  std::string reference;   // senderKID
  SecretString auth_code;  // the PBM shared secret
  Bytes ir;                // DER PKIMessage: MAC-protected, popo signed by the device key
  Bytes transaction_id;
  Bytes sender;     // DER GeneralName of the ir's header, repeated in the certConf
  Bytes recipient;  // DER GeneralName
  PbmChoice pbm;
};

// Builds the ir with an OSSL_CMP_CTX set up as wallet::request_ir sets it up
// (pki::internal::CmpClient with reference and code, placeholder subject
// CN=<reference>, new_key, explicit confirmation), whose transfer callback
// keeps the DER instead of sending it. url is only parsed.
// Errors: crypto when OpenSSL cannot build it, invalid_input when it is not
// the PKIMessage expected.
Result<PreparedIr> prepare_ir(const std::string& url, std::string reference, SecretString auth_code,
                              const pki::PrivateKey& new_key);

// What the certConf needs from an ip.
struct IpFields {
  Bytes transaction_id;
  Bytes sender_nonce;
  long cert_req_id = 0;
  Bytes cert;  // DER Certificate of the first CertResponse
};

// Reads an ip: its first CertResponse must be accepted (0) or grantedWithMods
// (1) and carry a certificate. Errors: policy with the server's status, fail
// info and text (also for an error message in place of the ip),
// invalid_input for anything else.
Result<IpFields> read_ip(ByteView der);

// The serial number (lower-case hex of the INTEGER's content octets) and the
// certHash of a DER certificate: its digest with the hash of its own signature
// algorithm, as X509_digest_sig computes it. Errors: invalid_input (not a
// certificate), foreign_format (a signature algorithm without a hash).
struct CertFacts {
  std::string serial_hex;
  Bytes cert_hash;
};
Result<CertFacts> read_certificate(ByteView cert_der);

// The certConf for ip (RFC 4210 section 5.3.18), accepting the certificate
// with cert_hash, MAC-protected with ir's code: header as OpenSSL writes it
// (pvno 2, the ir's sender and recipient, messageTime now, PBM with a fresh
// salt, senderKID, the ip's transactionID, a fresh senderNonce, recipNonce =
// the ip's senderNonce). Errors: crypto.
Result<Bytes> make_cert_conf(const PreparedIr& ir, const IpFields& ip, ByteView cert_hash);

// Checks that the answer to the certConf is a pkiConf. Errors: policy for an
// error message (its status and text), invalid_input for anything else.
Status read_pki_conf(ByteView der);

}  // namespace dojang::bench
