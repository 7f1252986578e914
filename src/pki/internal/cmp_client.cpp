#include "pki/internal/cmp_client.hpp"

#include <openssl/cmperr.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/httperr.h>
#include <openssl/objects.h>

#include <algorithm>
#include <array>
#include <climits>
#include <ctime>
#include <system_error>

#include "dojang/pki/cmp.hpp"
#include "pki/internal/cmp_asn1.hpp"

namespace dojang::pki::internal {

namespace {

// OSSL_CMP_CERTREQID (cmp_local.h): the certReqId OSSL_CMP_CTX uses for ir/cr/kur.
constexpr int kCertReqId = 0;

// OSSL_CMP_CTX logs to stdout/stderr unless given a callback; what matters
// ends up in the error queue anyway.
int quiet_log(const char*, const char*, int, OSSL_CMP_severity, const char*) {
  return 1;
}

Result<Ptr<X509_STORE>> store_of(const std::vector<Certificate>& certs) {
  Ptr<X509_STORE> store = own(::X509_STORE_new());
  DOJANG_TRY(check_ptr(store.get(), "X509_STORE_new"));
  for (const Certificate& c : certs)
    DOJANG_TRY(check(::X509_STORE_add_cert(store.get(), c.native()), "X509_STORE_add_cert"));
  return store;
}

// Server text goes into our messages: keep it on one line.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  return out;
}

struct QueuedError {
  int lib;
  int reason;
  std::string text;
};

std::vector<QueuedError> take_errors() {
  std::vector<QueuedError> out;
  unsigned long e;
  const char* data = nullptr;
  int flags = 0;
  while ((e = ::ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    QueuedError q{ERR_GET_LIB(e), ERR_GET_REASON(e), {}};
    const char* reason = ::ERR_reason_error_string(e);
    if (q.lib == ERR_LIB_SYS) {  // the reason is an errno value
      q.text = std::generic_category().message(q.reason);
    } else if (reason != nullptr) {
      q.text = reason;
    } else {
      char buf[256];
      ::ERR_error_string_n(e, buf, sizeof buf);
      q.text = buf;
    }
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0')
      q.text += std::string(" (") + printable(data) + ")";
    out.push_back(std::move(q));
  }
  return out;
}

// HTTP errors that mean the server answered, with something that is not a
// well-formed HTTP response carrying one DER message.
bool answer_malformed(int http_reason) {
  switch (http_reason) {
    case HTTP_R_ASN1_LEN_EXCEEDS_MAX_RESP_LEN:
    case HTTP_R_ERROR_PARSING_ASN1_LENGTH:
    case HTTP_R_ERROR_PARSING_CONTENT_LENGTH:
    case HTTP_R_HEADER_PARSE_ERROR:
    case HTTP_R_INCONSISTENT_CONTENT_LENGTH:
    case HTTP_R_MAX_RESP_LEN_EXCEEDED:
    case HTTP_R_MISSING_ASN1_ENCODING:
    case HTTP_R_MISSING_CONTENT_TYPE:
    case HTTP_R_RECEIVED_WRONG_HTTP_VERSION:
    case HTTP_R_RESPONSE_LINE_TOO_LONG:
    case HTTP_R_RESPONSE_PARSE_ERROR:
    case HTTP_R_UNEXPECTED_CONTENT_TYPE:
      return true;
    default:
      return false;
  }
}

bool has(const std::vector<QueuedError>& errors, int lib, int reason) {
  return std::any_of(errors.begin(), errors.end(),
                     [&](const QueuedError& q) { return q.lib == lib && q.reason == reason; });
}

std::string join(const std::vector<QueuedError>& errors) {
  std::string out;
  for (const QueuedError& q : errors) {
    if (!out.empty()) out += "; ";
    out += q.text;
  }
  return out.empty() ? "failed" : out;
}

// "rejected: badMessageCheck (text)" from the status the server sent.
std::string server_status(const OSSL_CMP_CTX* ctx) {
  int status = ::OSSL_CMP_CTX_get_status(ctx);
  std::string out = status == OSSL_CMP_PKISTATUS_rejection ? std::string("rejected")
                                                           : std::string(pkistatus_name(status));
  if (out.empty()) out = "status " + std::to_string(status);
  int bits = ::OSSL_CMP_CTX_get_failInfoCode(ctx);
  if (bits > 0) out += ": " + failinfo_names(bits);
  const OSSL_CMP_PKIFREETEXT* texts = ::OSSL_CMP_CTX_get0_statusString(ctx);
  std::string text;
  for (int i = 0; i < sk_ASN1_UTF8STRING_num(texts); ++i) {
    const ASN1_UTF8STRING* t = sk_ASN1_UTF8STRING_value(texts, i);
    if (!text.empty()) text += "; ";
    text += printable(std::string_view(reinterpret_cast<const char*>(::ASN1_STRING_get0_data(t)),
                                       static_cast<size_t>(::ASN1_STRING_length(t))));
  }
  if (!text.empty()) out += " (" + text + ")";
  return out;
}

}  // namespace

Result<CmpHttpTarget> parse_cmp_url(std::string_view url) {
  std::string text(url);
  // The URL is not echoed: it might carry credentials.
  if (!url.starts_with("http://"))
    return Error{Errc::usage,
                 "CMP server URL must start with http:// (https is not supported yet)"};
  int ssl = 0;
  int port = 0;
  char *user = nullptr, *host = nullptr, *port_text = nullptr, *path = nullptr, *query = nullptr,
       *frag = nullptr;
  int rc = ::OSSL_HTTP_parse_url(text.c_str(), &ssl, &user, &host, &port_text, &port, &path, &query,
                                 &frag);
  Ptr<char> owners[] = {own(user), own(host), own(port_text), own(path), own(query), own(frag)};
  if (rc != 1) return Error{Errc::usage, drain_errors("not a valid CMP server URL")};
  if (user != nullptr && *user != '\0')
    return Error{Errc::usage, "CMP server URL must not contain user information"};
  if ((query != nullptr && *query != '\0') || (frag != nullptr && *frag != '\0'))
    return Error{Errc::usage, "CMP server URL must not have a query or fragment"};
  if (host == nullptr || *host == '\0') return Error{Errc::usage, "CMP server URL has no host"};
  CmpHttpTarget t;
  t.host = host;
  t.port = port;
  t.path = path != nullptr && *path != '\0' ? path : "/";
  return t;
}

Result<std::unique_ptr<CmpClient>> CmpClient::create(const CmpClientOptions& options) {
  DOJANG_ASSIGN(CmpHttpTarget target, parse_cmp_url(options.url));
  const bool signed_requests = options.cert != nullptr && options.key != nullptr;
  if (!signed_requests && options.reference.empty())
    return Error{Errc::usage, "the reference number (senderKID) is empty"};
  if (!signed_requests && (options.secret == nullptr || options.secret->empty()))
    return Error{Errc::usage, "the authorization code (shared secret) is empty"};
  if (options.timeout_seconds < 0) return Error{Errc::usage, "negative CMP timeout"};

  std::unique_ptr<CmpClient> client(new CmpClient());
  client->target_ = std::move(target);
  client->timeout_seconds_ = options.timeout_seconds;
  client->ctx_ = own(::OSSL_CMP_CTX_new(libctx(), nullptr));
  DOJANG_TRY(check_ptr(client->ctx_.get(), "OSSL_CMP_CTX_new"));
  OSSL_CMP_CTX* c = client->ctx_.get();
  DOJANG_TRY(check(::OSSL_CMP_CTX_set_log_cb(c, quiet_log), "OSSL_CMP_CTX_set_log_cb"));
  DOJANG_TRY(check(::OSSL_CMP_CTX_set_transfer_cb(c, &CmpClient::transfer), "CMP transfer"));
  DOJANG_TRY(check(::OSSL_CMP_CTX_set_transfer_cb_arg(c, client.get()), "CMP transfer"));
  if (signed_requests) {
    DOJANG_TRY(check(::OSSL_CMP_CTX_set1_cert(c, options.cert->native()), "CMP signer certificate"));
    DOJANG_TRY(check(::OSSL_CMP_CTX_set1_pkey(c, options.key->native()), "CMP signer key"));
    DOJANG_TRY(check(::OSSL_CMP_CTX_set1_oldCert(c, options.cert->native()), "CMP old certificate"));
  } else {
    DOJANG_TRY(check(::OSSL_CMP_CTX_set1_referenceValue(
                         c, reinterpret_cast<const unsigned char*>(options.reference.data()),
                         static_cast<int>(options.reference.size())),
                     "CMP reference value"));
    DOJANG_TRY(check(::OSSL_CMP_CTX_set1_secretValue(c, options.secret->bytes().data(),
                                                     static_cast<int>(options.secret->size())),
                     "CMP secret value"));
  }
  DOJANG_TRY(check(::OSSL_CMP_CTX_set_option(c, OSSL_CMP_OPT_UNPROTECTED_ERRORS, 1),
                   "CMP unprotected errors"));
  static const std::vector<Certificate> none;
  DOJANG_ASSIGN(Ptr<X509_STORE> store,
                store_of(options.trusted != nullptr ? *options.trusted : none));
  DOJANG_TRY(check(::OSSL_CMP_CTX_set0_trustedStore(c, store.get()), "CMP trusted store"));
  store.release();
  return client;
}

OSSL_CMP_MSG* CmpClient::transfer(OSSL_CMP_CTX* ctx, const OSSL_CMP_MSG* req) {
  return static_cast<CmpClient*>(::OSSL_CMP_CTX_get_transfer_cb_arg(ctx))->send(req);
}

// RFC 6712: POST the DER PKIMessage as application/pkixcmp, read one back.
// Errors stay on the queue; OpenSSL adds its transfer error on top.
OSSL_CMP_MSG* CmpClient::send(const OSSL_CMP_MSG* req) {
  auto der = to_der(req, ::i2d_OSSL_CMP_MSG, "CMP request");
  if (!der.ok()) return nullptr;
  requests_.push_back(der.value());

  const std::string port = std::to_string(target_.port);
  const std::time_t deadline =
      timeout_seconds_ > 0 ? std::time(nullptr) + timeout_seconds_ : 0;  // 0: none
  Ptr<BIO> conn = own(::BIO_new_connect(target_.host.c_str()));
  if (!conn || ::BIO_set_conn_port(conn.get(), port.c_str()) != 1) return nullptr;
  if (deadline != 0) {
    // Non-blocking connect, waited for with the deadline, tried once.
    if (::BIO_set_nbio(conn.get(), 1) != 1) return nullptr;
    for (;;) {
      if (::BIO_do_connect(conn.get()) > 0) break;
      if (!::BIO_should_retry(conn.get())) return nullptr;             // refused, unreachable, ...
      if (::BIO_wait(conn.get(), deadline, 100) <= 0) return nullptr;  // timed out
    }
  } else if (::BIO_do_connect(conn.get()) <= 0) {
    return nullptr;
  }

  Ptr<BIO> body = own(::BIO_new_mem_buf(der->data(), static_cast<int>(der->size())));
  if (!body) return nullptr;
  int left = 0;
  if (deadline != 0) left = std::max(1, static_cast<int>(deadline - std::time(nullptr)));
  static constexpr char kContentType[] = "application/pkixcmp";
  Ptr<BIO> rsp = own(::OSSL_HTTP_transfer(
      nullptr, target_.host.c_str(), port.c_str(), target_.path.c_str(), 0 /* no TLS */,
      nullptr /* proxy */, nullptr /* no_proxy */, conn.get(), conn.get(), nullptr, nullptr,
      0 /* buf_size */, nullptr /* headers */, kContentType, body.get(), kContentType,
      1 /* expect_asn1 */, OSSL_HTTP_DEFAULT_MAX_RESP_LEN, left, 0 /* keep_alive */));
  if (!rsp) return nullptr;
  OSSL_CMP_MSG* msg = ::d2i_OSSL_CMP_MSG_bio(rsp.get(), nullptr);
  if (msg != nullptr) {
    auto rsp_der = to_der(msg, ::i2d_OSSL_CMP_MSG, "CMP response");
    if (rsp_der.ok()) responses_.push_back(std::move(rsp_der).value());
  }
  return msg;
}

Result<Ptr<OSSL_CRMF_MSG>> cert_req_msg_with_reginfo(OSSL_CMP_CTX* ctx, std::string_view oid,
                                                     ByteView value_der, bool for_kur) {
  EVP_PKEY* key = ::OSSL_CMP_CTX_get0_newPkey(ctx, 1);
  if (key == nullptr)
    return Error{Errc::usage, "no new private key set for the certificate request"};
  Ptr<OSSL_CRMF_MSG> crm = own(::OSSL_CMP_CTX_setup_CRM(ctx, for_kur ? 1 : 0, kCertReqId));
  DOJANG_TRY(check_ptr(crm.get(), "OSSL_CMP_CTX_setup_CRM"));
  DOJANG_ASSIGN(Bytes der, to_der(crm.get(), ::i2d_OSSL_CRMF_MSG, "CertReqMsg"));
  DOJANG_ASSIGN(Bytes with_reginfo, add_reginfo_to_cert_req_msg(der, oid, value_der));

  const unsigned char* p = with_reginfo.data();
  Ptr<OSSL_CRMF_MSG> out =
      own(::d2i_OSSL_CRMF_MSG(nullptr, &p, static_cast<long>(with_reginfo.size())));
  DOJANG_TRY(check_ptr(out.get(), "CertReqMsg with regInfo"));

  int method = ::OSSL_CMP_CTX_get_option(ctx, OSSL_CMP_OPT_POPO_METHOD);
  int digest_nid = ::OSSL_CMP_CTX_get_option(ctx, OSSL_CMP_OPT_DIGEST_ALGNID);
  DOJANG_ASSIGN(Ptr<EVP_MD> md, fetch_md(::OBJ_nid2sn(digest_nid)));
  DOJANG_TRY(check(::OSSL_CRMF_MSG_create_popo(method, out.get(), key, md.get(), libctx(), nullptr),
                   "CRMF proof of possession"));
  return out;
}

Result<NewCertCheck> NewCertCheck::create(const std::vector<Certificate>& trusted) {
  if (trusted.empty())
    return Error{Errc::usage, "no trust anchor to verify the issued certificate against"};
  NewCertCheck check;
  DOJANG_ASSIGN(check.store_, store_of(trusted));
  return check;
}

Status NewCertCheck::install(OSSL_CMP_CTX* ctx) {
  DOJANG_TRY(internal::check(::OSSL_CMP_CTX_set_certConf_cb(ctx, &NewCertCheck::callback),
                             "certConf callback"));
  return internal::check(::OSSL_CMP_CTX_set_certConf_cb_arg(ctx, this), "certConf callback arg");
}

int NewCertCheck::callback(OSSL_CMP_CTX* ctx, X509* cert, int fail_info, const char** text) {
  auto* self = static_cast<NewCertCheck*>(::OSSL_CMP_CTX_get_certConf_cb_arg(ctx));
  return self->check(ctx, cert, fail_info, text);
}

int NewCertCheck::check(OSSL_CMP_CTX* ctx, X509* cert, int fail_info, const char** text) {
  constexpr int kIncorrectData = 1 << OSSL_CMP_PKIFAILUREINFO_incorrectData;
  if (fail_info != 0) {  // OpenSSL already refuses it (e.g. not our public key)
    rejected_ = true;
    reason_ = text != nullptr && *text != nullptr ? *text : "refused by the CMP client";
    return fail_info;
  }
  ::ERR_set_mark();
  auto reject = [&](std::string why) {
    ::ERR_pop_to_mark();
    rejected_ = true;
    reason_ = std::move(why);
    if (text != nullptr) *text = reason_.c_str();
    return kIncorrectData;
  };
  // Intermediates: what the exchange brought (extraCerts are already in
  // untrusted; add them again in case) and the caPubs of the response.
  Ptr<STACK_OF(X509)> untrusted = own(sk_X509_new_null());
  Ptr<STACK_OF(X509)> extra = own(::OSSL_CMP_CTX_get1_extraCertsIn(ctx));
  Ptr<STACK_OF(X509)> ca_pubs = own(::OSSL_CMP_CTX_get1_caPubs(ctx));
  constexpr int flags = X509_ADD_FLAG_UP_REF | X509_ADD_FLAG_NO_DUP;
  if (!untrusted ||
      ::X509_add_certs(untrusted.get(), ::OSSL_CMP_CTX_get0_untrusted(ctx), flags) != 1 ||
      ::X509_add_certs(untrusted.get(), extra.get(), flags) != 1 ||
      ::X509_add_certs(untrusted.get(), ca_pubs.get(), flags) != 1)
    return reject("out of memory collecting the issuer certificates");

  Ptr<X509_STORE_CTX> vctx = own(::X509_STORE_CTX_new_ex(libctx(), nullptr));
  if (!vctx || ::X509_STORE_CTX_init(vctx.get(), store_.get(), cert, untrusted.get()) != 1)
    return reject("cannot set up verification of the issued certificate");
  if (::X509_verify_cert(vctx.get()) != 1)
    return reject(std::string("the issued certificate does not chain to a trusted root: ") +
                  ::X509_verify_cert_error_string(::X509_STORE_CTX_get_error(vctx.get())));
  ::ERR_pop_to_mark();
  STACK_OF(X509)* chain = ::X509_STORE_CTX_get0_chain(vctx.get());
  chain_.clear();
  for (int i = 1; i < sk_X509_num(chain); ++i)
    chain_.push_back(Certificate::adopt(sk_X509_value(chain, i)));
  return 0;
}

std::string failinfo_names(int bits) {
  // PKIFailureInfo ::= BIT STRING (RFC 4210 section 5.2.3 and RFC 9480)
  static constexpr std::array<const char*, OSSL_CMP_PKIFAILUREINFO_MAX + 1> names = {
      "badAlg",
      "badMessageCheck",
      "badRequest",
      "badTime",
      "badCertId",
      "badDataFormat",
      "wrongAuthority",
      "incorrectData",
      "missingTimeStamp",
      "badPOP",
      "certRevoked",
      "certConfirmed",
      "wrongIntegrity",
      "badRecipientNonce",
      "timeNotAvailable",
      "unacceptedPolicy",
      "unacceptedExtension",
      "addInfoNotAvailable",
      "badSenderNonce",
      "badCertTemplate",
      "signerNotTrusted",
      "transactionIdInUse",
      "unsupportedVersion",
      "notAuthorized",
      "systemUnavail",
      "systemFailure",
      "duplicateCertReq"};
  std::string out;
  for (int i = 0; i <= OSSL_CMP_PKIFAILUREINFO_MAX; ++i) {
    if ((bits & (1 << i)) == 0) continue;
    if (!out.empty()) out += ", ";
    out += names[static_cast<size_t>(i)];
  }
  return out;
}

std::string_view pkistatus_name(int status) {
  switch (status) {
    case OSSL_CMP_PKISTATUS_accepted:
      return "accepted";
    case OSSL_CMP_PKISTATUS_grantedWithMods:
      return "grantedWithMods";
    case OSSL_CMP_PKISTATUS_rejection:
      return "rejection";
    case OSSL_CMP_PKISTATUS_waiting:
      return "waiting";
    case OSSL_CMP_PKISTATUS_revocationWarning:
      return "revocationWarning";
    case OSSL_CMP_PKISTATUS_revocationNotification:
      return "revocationNotification";
    case OSSL_CMP_PKISTATUS_keyUpdateWarning:
      return "keyUpdateWarning";
    default:
      return "";
  }
}

Error exchange_error(const OSSL_CMP_CTX* ctx, std::string_view what) {
  std::vector<QueuedError> errors = take_errors();
  std::string label(what);
  int status = ::OSSL_CMP_CTX_get_status(ctx);

  // The client refused the certificate it got (cert_response marks the
  // status "rejection" itself then).
  if (has(errors, ERR_LIB_CMP, CMP_R_CERTIFICATE_NOT_ACCEPTED))
    return Error{Errc::invalid_input,
                 label + ": the issued certificate was not accepted: " + join(errors)};
  if (has(errors, ERR_LIB_CMP, CMP_R_RECEIVED_ERROR) ||
      has(errors, ERR_LIB_CMP, CMP_R_REQUEST_REJECTED_BY_SERVER) ||
      status == OSSL_CMP_PKISTATUS_rejection) {
    std::string out = label + " refused by the CMP server: " + server_status(ctx);
    // An error message's errorDetails (OpenSSL adds them to its RECEIVED_ERROR).
    constexpr std::string_view kDetails = "errorDetails: ";
    for (const QueuedError& q : errors) {
      auto at = q.text.find(kDetails);
      if (q.lib != ERR_LIB_CMP || q.reason != CMP_R_RECEIVED_ERROR || at == std::string::npos) continue;
      std::string details = q.text.substr(at + kDetails.size());
      if (!details.empty() && details.back() == ')') details.pop_back();
      out += " [" + details + "]";
    }
    return Error{Errc::policy, out};
  }
  bool malformed = std::any_of(errors.begin(), errors.end(), [](const QueuedError& q) {
    return q.lib == ERR_LIB_ASN1 || (q.lib == ERR_LIB_HTTP && answer_malformed(q.reason));
  });
  if (malformed)
    return Error{Errc::invalid_input,
                 label + ": the CMP server's answer is not a CMP message: " + join(errors)};
  bool transport = has(errors, ERR_LIB_CMP, CMP_R_TRANSFER_ERROR) ||
                   has(errors, ERR_LIB_CMP, CMP_R_TOTAL_TIMEOUT) ||
                   std::any_of(errors.begin(), errors.end(), [](const QueuedError& q) {
                     return q.lib == ERR_LIB_HTTP || q.lib == ERR_LIB_BIO || q.lib == ERR_LIB_SYS;
                   });
  if (transport) return Error{Errc::io, label + ": no answer from the CMP server: " + join(errors)};
  if (status == OSSL_CMP_PKISTATUS_request)  // failed before anything was sent
    return Error{Errc::crypto, label + ": cannot build the CMP request: " + join(errors)};
  return Error{Errc::invalid_input,
               label + ": the CMP server's answer is not acceptable: " + join(errors)};
}

Result<std::vector<Certificate>> certificates_in_genp(ByteView genp_der) {
  DOJANG_ASSIGN(Ptr<DOJANG_CMP_MESSAGE> msg, decode_cmp_message(genp_der));
  if (msg->body->type != kBodyGenp) return Error{Errc::invalid_input, "PKIMessage is not a genp"};
  STACK_OF(DOJANG_CMP_ITAV)* itavs = info_type_and_values(msg->body);

  std::vector<Certificate> out;
  std::vector<Bytes> seen;
  auto take = [&](ByteView der) {
    auto cert = Certificate::from_der(der);
    if (!cert.ok()) return false;
    Bytes copy(der.begin(), der.end());
    if (std::find(seen.begin(), seen.end(), copy) == seen.end()) {
      seen.push_back(std::move(copy));
      out.push_back(std::move(cert).value());
    }
    return true;
  };
  for (int i = 0; i < sk_DOJANG_CMP_ITAV_num(itavs); ++i) {
    const ASN1_TYPE* value = sk_DOJANG_CMP_ITAV_value(itavs, i)->value;
    if (value == nullptr || value->type != V_ASN1_SEQUENCE) continue;
    DOJANG_ASSIGN(Bytes der, to_der(value, ::i2d_ASN1_TYPE, "InfoTypeAndValue value"));
    if (take(der)) continue;  // a Certificate
    const unsigned char* p = der.data();
    Ptr<ASN1_SEQUENCE_ANY> seq =
        own(::d2i_ASN1_SEQUENCE_ANY(nullptr, &p, static_cast<long>(der.size())));
    if (!seq) continue;  // some other SEQUENCE
    for (int j = 0; j < sk_ASN1_TYPE_num(seq.get()); ++j) {
      const ASN1_TYPE* item = sk_ASN1_TYPE_value(seq.get(), j);
      if (item->type != V_ASN1_SEQUENCE) continue;
      DOJANG_ASSIGN(Bytes item_der, to_der(item, ::i2d_ASN1_TYPE, "InfoTypeAndValue item"));
      take(item_der);
    }
  }
  clear_errors();  // from the values that were not certificates
  return out;
}

}  // namespace dojang::pki::internal
