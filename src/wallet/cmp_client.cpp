#include "dojang/wallet/cmp_client.hpp"

#include <openssl/cmp.h>
#include <openssl/objects.h>

#include <algorithm>
#include <memory>

#include "pki/internal/cmp_client.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::wallet {

namespace {

namespace ossl = pki::internal;

Result<std::unique_ptr<ossl::CmpClient>> client_for(const CmpEndpoint& endpoint,
                                                    std::string_view reference,
                                                    const SecretString& auth_code) {
  ossl::CmpClientOptions options;
  options.url = endpoint.url;
  options.trusted = &endpoint.trusted;
  options.timeout_seconds = endpoint.timeout_seconds;
  options.reference = reference;
  options.secret = &auth_code;
  return ossl::CmpClient::create(options);
}

Result<std::unique_ptr<ossl::CmpClient>> signed_client_for(const CmpEndpoint& endpoint,
                                                           const pki::Certificate& cert,
                                                           const pki::PrivateKey& key) {
  if (cert.native() == nullptr || key.native() == nullptr)
    return Error{Errc::usage, "no certificate or key to sign the CMP request with"};
  ossl::CmpClientOptions options;
  options.url = endpoint.url;
  options.trusted = &endpoint.trusted;
  options.timeout_seconds = endpoint.timeout_seconds;
  options.cert = &cert;
  options.key = &key;
  return ossl::CmpClient::create(options);
}

Status push_genm_request(OSSL_CMP_CTX* ctx, int nid) {
  // An InfoTypeAndValue without a value asks the server for that information.
  ossl::Ptr<OSSL_CMP_ITAV> itav = ossl::own(::OSSL_CMP_ITAV_create(::OBJ_nid2obj(nid), nullptr));
  DOJANG_TRY(ossl::check_ptr(itav.get(), "genm InfoTypeAndValue"));
  DOJANG_TRY(ossl::check(::OSSL_CMP_CTX_push0_genm_ITAV(ctx, itav.get()), "genm InfoTypeAndValue"));
  itav.release();
  return {};
}


// ir (MAC) or kur (signed): new_key, explicit certConf, the new certificate
// checked against endpoint.trusted.
Result<IssuedCertificate> certificate_request(
    const CmpEndpoint& endpoint, ossl::CmpClient& client, int body, const char* label,
    const pki::PrivateKey& new_key, const std::optional<std::pair<std::string, Bytes>>& reg_info) {
  if (new_key.native() == nullptr) return Error{Errc::usage, "no key for the certificate request"};
  DOJANG_ASSIGN(ossl::NewCertCheck check, ossl::NewCertCheck::create(endpoint.trusted));
  OSSL_CMP_CTX* ctx = client.ctx();
  ::EVP_PKEY_up_ref(new_key.native());
  if (::OSSL_CMP_CTX_set0_newPkey(ctx, 1, new_key.native()) != 1) {
    ::EVP_PKEY_free(new_key.native());
    return Error{Errc::crypto, ossl::drain_errors("OSSL_CMP_CTX_set0_newPkey")};
  }
  // The client confirms explicitly: certConf, then the CA's pkiConf.
  DOJANG_TRY(ossl::check(::OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_IMPLICIT_CONFIRM, 0),
                         "CMP implicitConfirm"));
  DOJANG_TRY(check.install(ctx));

  ossl::Ptr<OSSL_CRMF_MSG> crm;  // null: OSSL_CMP_CTX builds the CertReqMsg itself
  if (reg_info) {
    DOJANG_ASSIGN(crm, ossl::cert_req_msg_with_reginfo(ctx, reg_info->first, reg_info->second,
                                                       body == OSSL_CMP_KUR));
  }
  X509* cert = ::OSSL_CMP_exec_certreq(ctx, body, crm.get());
  if (cert == nullptr) {
    if (check.rejected()) {
      ossl::clear_errors();
      return Error{Errc::invalid_input, std::string(label) +
                                            ": the issued certificate was refused: " +
                                            check.reason()};
    }
    return ossl::exchange_error(ctx, label);
  }
  return IssuedCertificate{pki::Certificate::adopt(cert), check.chain()};  // adopt up-refs
}

// Asks for the CA certificates over clients made by make_client.
template <class MakeClient>
Result<std::vector<pki::Certificate>> ca_certs_over(MakeClient make_client) {
  // One genm per InfoTypeAndValue: servers may answer only one at a time
  // (OpenSSL 3.0's mock server refuses a genm with more than one).
  std::vector<pki::Certificate> out;
  std::vector<Bytes> seen;
  for (int nid : {NID_id_it_caCerts, NID_id_it_caProtEncCert}) {
    DOJANG_ASSIGN(auto client, make_client());
    DOJANG_TRY(push_genm_request(client->ctx(), nid));
    ossl::Ptr<STACK_OF(OSSL_CMP_ITAV)> itavs = ossl::own(::OSSL_CMP_exec_GENM_ses(client->ctx()));
    if (!itavs)
      return ossl::exchange_error(
          client->ctx(), std::string("CA certificate request (genm ") + ::OBJ_nid2sn(nid) + ")");
    // OpenSSL 3.0 hands back the genp's InfoTypeAndValues as C types that
    // depend on the infoType; the recorded genp is read with our template.
    if (client->responses().empty())
      return Error{Errc::crypto, "CA certificate request (genm): the genp was not recorded"};
    DOJANG_ASSIGN(auto certs, ossl::certificates_in_genp(client->responses().back()));
    for (auto& c : certs) {
      DOJANG_ASSIGN(Bytes der, c.der());
      if (std::find(seen.begin(), seen.end(), der) != seen.end()) continue;
      seen.push_back(std::move(der));
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace

Result<IssuedCertificate> request_ir(const CmpEndpoint& endpoint, std::string_view reference,
                                     const SecretString& auth_code, const pki::PrivateKey& new_key,
                                     const std::optional<std::pair<std::string, Bytes>>& reg_info) {
  if (new_key.native() == nullptr) return Error{Errc::usage, "no key for the certificate request"};
  DOJANG_ASSIGN(auto client, client_for(endpoint, reference, auth_code));
  // The CA chooses the subject, but without one in the template RFC 4211
  // section 4.1 wants the popo signed over a POPOSigningKeyInput, which
  // OpenSSL 3.0 can neither make nor verify (it refuses: "popo missing
  // subject"): send CN=<reference number> as a placeholder.
  ossl::Ptr<X509_NAME> subject = ossl::own(::X509_NAME_new());
  DOJANG_TRY(ossl::check_ptr(subject.get(), "X509_NAME_new"));
  DOJANG_TRY(ossl::check(
      ::X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(reference.data()),
                                   static_cast<int>(reference.size()), -1, 0),
      "placeholder subject", Errc::usage));
  DOJANG_TRY(ossl::check(::OSSL_CMP_CTX_set1_subjectName(client->ctx(), subject.get()), "subject"));
  return certificate_request(endpoint, *client, OSSL_CMP_IR, "certificate request (ir)", new_key,
                             reg_info);
}

Result<IssuedCertificate> request_kur(const CmpEndpoint& endpoint, const pki::Certificate& cert,
                                      const pki::PrivateKey& key, const pki::PrivateKey& new_key,
                                      const std::optional<std::pair<std::string, Bytes>>& reg_info) {
  DOJANG_ASSIGN(auto client, signed_client_for(endpoint, cert, key));
  return certificate_request(endpoint, *client, OSSL_CMP_KUR, "renewal request (kur)", new_key,
                             reg_info);
}

Status request_rr(const CmpEndpoint& endpoint, const pki::Certificate& cert,
                  const pki::PrivateKey& key, int reason) {
  DOJANG_ASSIGN(auto client, signed_client_for(endpoint, cert, key));
  OSSL_CMP_CTX* ctx = client->ctx();
  // OSSL_CMP_OPT_REVOCATION_REASON: -1 (the default) sends no reasonCode.
  DOJANG_TRY(ossl::check(
      ::OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_REVOCATION_REASON, reason == 0 ? -1 : reason),
      "CMP revocation reason", Errc::usage));
  if (::OSSL_CMP_exec_RR_ses(ctx) != 1) return ossl::exchange_error(ctx, "revocation request (rr)");
  return {};
}

Result<std::vector<pki::Certificate>> request_ca_certs(const CmpEndpoint& endpoint,
                                                       std::string_view reference,
                                                       const SecretString& auth_code) {
  return ca_certs_over([&] { return client_for(endpoint, reference, auth_code); });
}

Result<std::vector<pki::Certificate>> request_ca_certs(const CmpEndpoint& endpoint,
                                                       const pki::Certificate& cert,
                                                       const pki::PrivateKey& key) {
  return ca_certs_over([&] { return signed_client_for(endpoint, cert, key); });
}

}  // namespace dojang::wallet
