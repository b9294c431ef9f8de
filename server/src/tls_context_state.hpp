#pragma once

#include <openssl/ssl.h>

#include <memory>

#include "brigade/server/tls.hpp"

namespace brigade::server::detail {

struct SslContextFree {
  void operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
};

struct TlsContextState {
  std::unique_ptr<SSL_CTX, SslContextFree> context;
};

// The OpenSSL context behind a TlsContext, for the connections.
struct TlsContextAccess {
  static SSL_CTX* native(const TlsContext& tls) noexcept { return tls.state_->context.get(); }
};

}  // namespace brigade::server::detail
