#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

// OpenSSL's EVP_MD_CTX, declared here so that this header does not pull in OpenSSL's.
struct evp_md_ctx_st;

// SHA-256 through OpenSSL's EVP interface, for the hashing endpoints.
namespace brigade::handlers::detail {

using Sha256Digest = std::array<unsigned char, 32>;

// An incremental SHA-256: update() with the data in as many pieces as it comes, then finish().
// Throws std::runtime_error if OpenSSL fails (it only does when out of memory).
class Sha256 {
 public:
  Sha256();

  void update(const void* data, std::size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // The digest of everything given so far; the object is then spent.
  Sha256Digest finish();

 private:
  struct FreeContext {
    void operator()(evp_md_ctx_st* context) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, FreeContext> context_;
};

// The lowercase hex spelling of a digest: 64 characters.
std::string to_hex(const Sha256Digest& digest);

// The SHA-256 of `data` in one call, and its hex spelling.
Sha256Digest sha256(std::string_view data);
std::string sha256_hex(std::string_view data);

}  // namespace brigade::handlers::detail
