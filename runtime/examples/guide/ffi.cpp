// A blocking C library on the pool. OpenSSL's PKCS5_PBKDF2_HMAC (password hashing) runs for tens
// of milliseconds and cannot yield: called from a task it holds the worker, and a 10 ms ticker
// goes late by the whole call; called through spawn_blocking it does not. Same key either way.
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <string>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

using Key = std::array<unsigned char, 32>;

Key derive_key(const std::string& password) {
  constexpr std::string_view kSalt = "brigade-guide";
  Key key{};
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(kSalt.data()),
                    static_cast<int>(kSalt.size()), 200'000, EVP_sha256(),
                    static_cast<int>(key.size()), key.data());
  return key;
}

rt::Task<Key> derive_in_task(std::string password) { co_return derive_key(password); }

std::string hex_prefix(const Key& key) {
  std::string text;
  for (int i = 0; i < 4; ++i) {
    constexpr char kDigits[] = "0123456789abcdef";
    text += kDigits[key[i] >> 4];
    text += kDigits[key[i] & 15];
  }
  return text;
}

rt::Task<void> run() {
  for (const bool offloaded : {false, true}) {
    auto ticker = rt::spawn(worst_lateness(10ms, 15));
    co_await rt::sleep(20ms);
    const auto start = Clock::now();
    std::string password = "correct horse battery staple";
    auto derived = offloaded ? rt::spawn_blocking([password] { return derive_key(password); })
                             : rt::spawn(derive_in_task(password));
    const Key key = *co_await derived;
    const double call_ms = ms_since(start);
    std::printf("  %s PBKDF2 (200,000 rounds) took %.0f ms, key %s...; ticker late by %.1f ms\n",
                offloaded ? "in spawn_blocking:" : "in a task:        ", call_ms,
                hex_prefix(key).c_str(), to_ms(*co_await ticker));
  }
}

}  // namespace

int blocking_library() {
  auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
