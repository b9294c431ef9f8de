#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <string>

namespace brigade::server {

namespace detail {
struct TlsContextState;
struct TlsContextAccess;
}  // namespace detail

// A server's TLS identity and policy, loaded once at start and shared by every connection:
// the certificate chain and its private key, TLS 1.2 and 1.3 only, ALPN "http/1.1" (or
// "http/1.0"; a client that offers ALPN without either is refused with no_application_protocol,
// as nginx does; one that offers none is served). Copies share the same context.
class TlsContext {
 public:
  enum class Part : std::uint8_t { certificate, private_key };
  struct Error {
    Part part;            // which file is at fault (a key that does not match: private_key)
    std::string message;  // what is wrong, with the path
  };

  // Reads PEM files. An encrypted private key is refused (there is nobody to ask for the
  // password) rather than prompted for.
  static std::expected<TlsContext, Error> load(const std::filesystem::path& certificate_chain,
                                               const std::filesystem::path& private_key);

 private:
  friend struct detail::TlsContextAccess;
  explicit TlsContext(std::shared_ptr<const detail::TlsContextState> state) noexcept
      : state_(std::move(state)) {}

  std::shared_ptr<const detail::TlsContextState> state_;
};

}  // namespace brigade::server
