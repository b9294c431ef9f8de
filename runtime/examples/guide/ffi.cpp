// A blocking C library on the pool. OpenSSL's PKCS5_PBKDF2_HMAC (password hashing) runs for a
// good fraction of a second and cannot yield: called from a task it holds the worker, and no
// tick of a 10 ms ticker runs until it returns; called through spawn_blocking it does not. The
// key is the same either way.
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <string>
#include <string_view>

#include "brigade/runtime/runtime.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

// The derived key's first bytes, in hex; written by the call, read after its handle is awaited.
std::string key_prefix;

Window derive_key() {
  constexpr std::string_view kPassword = "correct horse battery staple";
  constexpr std::string_view kSalt = "brigade-guide";
  Window window{Clock::now(), {}};
  std::array<unsigned char, 32> key{};
  PKCS5_PBKDF2_HMAC(kPassword.data(), static_cast<int>(kPassword.size()),
                    reinterpret_cast<const unsigned char*>(kSalt.data()),
                    static_cast<int>(kSalt.size()), 200'000, EVP_sha256(),
                    static_cast<int>(key.size()), key.data());
  window.end = Clock::now();
  key_prefix.clear();
  for (int i = 0; i < 4; ++i) {
    constexpr char kDigits[] = "0123456789abcdef";
    key_prefix += kDigits[key[i] >> 4];
    key_prefix += kDigits[key[i] & 15];
  }
  return window;
}

rt::Task<Window> derive_in_task() { co_return derive_key(); }

rt::Task<void> run() {
  auto in_task = ticker_beside([] { return rt::spawn(derive_in_task()); });
  const TickerEvidence in_task_evidence = co_await std::move(in_task);
  std::printf("  in a task:         PBKDF2 (200,000 rounds), key %s...; %s\n", key_prefix.c_str(),
              in_task_evidence.describe().c_str());
  auto on_pool = ticker_beside([] { return rt::spawn_blocking(derive_key); });
  const TickerEvidence on_pool_evidence = co_await std::move(on_pool);
  std::printf("  in spawn_blocking: PBKDF2 (200,000 rounds), key %s...; %s\n", key_prefix.c_str(),
              on_pool_evidence.describe().c_str());
}

}  // namespace

int blocking_library() {
  auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
