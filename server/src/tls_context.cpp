#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "brigade/server/tls.hpp"
#include "tls_context_state.hpp"

namespace brigade::server {
namespace {

using detail::TlsContextState;

// TLS 1.2 suites as Mozilla's "intermediate" configuration has them, less the finite-field DHE
// ones: forward-secret key exchange (ECDHE) and authenticated encryption (GCM, ChaCha20-Poly1305)
// only; no static-RSA key exchange, no CBC. TLS 1.3 keeps OpenSSL's suites, all of that kind.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The protocols this server speaks, in its order of preference, as ALPN names them.
constexpr std::array<std::string_view, 2> kAlpnProtocols = {"http/1.1", "http/1.0"};

// What OpenSSL's error queue says about the last failure (its first entry is the root cause),
// and the queue emptied for the next call.
std::string openssl_error() {
  const unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(first);
  const char* library = ERR_lib_error_string(first);
  std::string text = reason != nullptr ? reason : "error " + std::to_string(first);
  if (library != nullptr) text += std::string(" (") + library + ")";
  return text;
}

// Picks the server's preferred protocol among the client's. A client that offers ALPN but none
// of ours gets the fatal no_application_protocol alert (RFC 7301 §3.2), as nginx does; one that
// offers no ALPN at all never gets here and is served HTTP/1.1.
int select_alpn(SSL* /*ssl*/, const unsigned char** selected, unsigned char* selected_length,
                const unsigned char* offered, unsigned int offered_length, void* /*arg*/) {
  for (const std::string_view wanted : kAlpnProtocols) {
    unsigned int at = 0;
    while (at < offered_length) {
      const unsigned int length = offered[at];
      const unsigned char* name = offered + at + 1;
      if (at + 1 + length > offered_length) break;  // malformed: OpenSSL checks it too
      if (length == wanted.size() && std::memcmp(name, wanted.data(), length) == 0) {
        *selected = name;
        *selected_length = static_cast<unsigned char>(length);
        return SSL_TLSEXT_ERR_OK;
      }
      at += 1 + length;
    }
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

// Called when a PEM file is encrypted: no password, so loading fails instead of prompting.
int no_password(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*arg*/) { return 0; }

std::unexpected<TlsContext::Error> refuse(TlsContext::Part part, const std::filesystem::path& path,
                                          std::string_view what) {
  // Appended piece by piece: GCC 12 warns (-Wrestrict, wrongly) about "literal" + string here.
  std::string message = "\"";
  message += path.string();
  message += "\": ";
  message += what;
  return std::unexpected(TlsContext::Error{.part = part, .message = std::move(message)});
}

}  // namespace

std::expected<TlsContext, TlsContext::Error> TlsContext::load(
    const std::filesystem::path& certificate_chain, const std::filesystem::path& private_key) {
  ERR_clear_error();
  auto state = std::make_shared<TlsContextState>();
  state->context.reset(SSL_CTX_new(TLS_server_method()));
  SSL_CTX* context = state->context.get();
  if (context == nullptr) return refuse(Part::certificate, certificate_chain, openssl_error());

  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  if (SSL_CTX_set_cipher_list(context, kTls12Ciphers) != 1) {
    return refuse(Part::certificate, certificate_chain, "cipher suites: " + openssl_error());
  }
  // Client-initiated renegotiation costs the server a handshake per request of the client's.
  SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION);
  // An idle connection gives its record buffers back (nginx does the same).
  SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
  // No server-side session cache to grow with the clients: resumption goes through stateless
  // tickets, which need none.
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_default_passwd_cb(context, no_password);
  SSL_CTX_set_alpn_select_cb(context, select_alpn, nullptr);

  if (SSL_CTX_use_certificate_chain_file(context, certificate_chain.c_str()) != 1) {
    return refuse(Part::certificate, certificate_chain,
                  "cannot load a PEM certificate chain: " + openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(context, private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return refuse(Part::private_key, private_key,
                  "cannot load a PEM private key matching the certificate: " + openssl_error());
  }
  if (SSL_CTX_check_private_key(context) != 1) {
    return refuse(Part::private_key, private_key,
                  "does not match the certificate: " + openssl_error());
  }
  return TlsContext(std::move(state));
}

}  // namespace brigade::server
