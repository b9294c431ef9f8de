// POST /hash: the SHA-256 of the request body, {"sha256":"<hex>","bytes":N}. Large bodies are
// hashed on the blocking pool, small ones on the worker that holds the request.
#include <cstddef>
#include <string>
#include <utility>

#include "brigade/runtime/spawn.hpp"
#include "brigade/server/http.hpp"
#include "endpoints.hpp"
#include "offload.hpp"
#include "sha256.hpp"

namespace brigade::handlers::detail {
namespace {

using server::Request;
using server::Response;

Response digest_answer(const std::string& hex, std::size_t bytes) {
  return Response::json(200,
                        R"({"sha256":")" + hex + R"(","bytes":)" + std::to_string(bytes) + "}");
}

runtime::Task<Response> hash_body(Request& request, std::size_t offload_threshold) {
  const std::size_t bytes = request.body.size();
  // A small body is hashed here, inline: the hop to the pool (queueing the job, waking a pool
  // thread, then waking this task again on a worker) has a fixed cost of thread wake-ups that
  // is as large as hashing a few KiB, and it adds latency while freeing the worker for very
  // little time. SHA-256 takes about 1.5 us per KiB here, so at the 64 KiB default a body holds
  // the worker for about 0.1 ms at most; bodies above the threshold would hold it for
  // milliseconds and go to the pool.
  if (bytes <= offload_threshold) co_return digest_answer(sha256_hex(request.body), bytes);

  // The job owns the body: if this task is aborted (shutdown), the request is destroyed while
  // the job may still run.
  auto job = runtime::spawn_blocking([body = std::move(request.body)] { return sha256_hex(body); });
  auto digest = co_await job;
  if (!digest) co_return offload_failed(digest.error());
  co_return digest_answer(*digest, bytes);
}

}  // namespace

void add_hash_routes(server::Router& router, std::size_t offload_threshold) {
  // Not a coroutine lambda: it only hands the threshold to the coroutine by value.
  router.add("POST", "/hash", [offload_threshold](Request& request) {
    return hash_body(request, offload_threshold);
  });
}

}  // namespace brigade::handlers::detail
