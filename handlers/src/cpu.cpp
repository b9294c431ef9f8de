// GET /cpu?work=N: N units of CPU-bound work on the blocking pool, so the async workers keep
// serving while it runs. One unit is a SHA-256 round over a 1 KiB block; the rounds are chained
// (each hashes a block that starts with the previous digest), so none can be skipped or
// reordered, and the answer {"work":N,"sha256":"<hex>"} proves they all ran.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "brigade/runtime/spawn.hpp"
#include "brigade/server/http.hpp"
#include "endpoints.hpp"
#include "offload.hpp"
#include "query.hpp"
#include "sha256.hpp"

namespace brigade::handlers::detail {
namespace {

using server::Request;
using server::Response;

constexpr std::size_t kBlockBytes = 1024;
// Runs on the blocking pool. The block starts as zeros; each round hashes it and writes the
// digest over its first 32 bytes.
Sha256Digest chained_rounds(std::int64_t rounds) {
  std::array<char, kBlockBytes> block{};
  Sha256Digest digest{};
  for (std::int64_t i = 0; i < rounds; ++i) {
    digest = sha256(std::string_view(block.data(), block.size()));
    std::copy(digest.begin(), digest.end(), block.begin());
  }
  return digest;
}

runtime::Task<Response> cpu(Request& request, std::int64_t max_work) {
  const auto work = integer_param(request, "work", 1, max_work);
  if (!work) co_return work.error();
  const std::int64_t rounds = *work;
  auto job = runtime::spawn_blocking([rounds] { return chained_rounds(rounds); });
  auto digest = co_await job;
  if (!digest) co_return offload_failed(digest.error());
  co_return Response::json(
      200, R"({"work":)" + std::to_string(rounds) + R"(,"sha256":")" + to_hex(*digest) + R"("})");
}

}  // namespace

void add_cpu_routes(server::Router& router, std::size_t max_work) {
  // Not a coroutine lambda: it only hands the bound to the coroutine by value.
  router.add("GET", "/cpu", [max_work = static_cast<std::int64_t>(max_work)](Request& request) {
    return cpu(request, max_work);
  });
}

}  // namespace brigade::handlers::detail
