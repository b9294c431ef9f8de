#include "sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace brigade::handlers::detail {
namespace {

void check(int ok, const char* what) {
  if (ok != 1) throw std::runtime_error(what);
}

}  // namespace

void Sha256::FreeContext::operator()(evp_md_ctx_st* context) const noexcept {
  EVP_MD_CTX_free(context);
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (!context_) throw std::runtime_error("EVP_MD_CTX_new failed");
  check(EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr),
        "EVP_DigestInit_ex(sha256) failed");
}

void Sha256::update(const void* data, std::size_t size) {
  check(EVP_DigestUpdate(context_.get(), data, size), "EVP_DigestUpdate failed");
}

Sha256Digest Sha256::finish() {
  Sha256Digest digest{};
  unsigned int length = 0;
  check(EVP_DigestFinal_ex(context_.get(), digest.data(), &length), "EVP_DigestFinal_ex failed");
  return digest;
}

std::string to_hex(const Sha256Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(digest.size() * 2);
  for (const unsigned char byte : digest) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

Sha256Digest sha256(std::string_view data) {
  Sha256Digest digest{};
  check(EVP_Digest(data.data(), data.size(), digest.data(), nullptr, EVP_sha256(), nullptr),
        "EVP_Digest(sha256) failed");
  return digest;
}

std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

}  // namespace brigade::handlers::detail
