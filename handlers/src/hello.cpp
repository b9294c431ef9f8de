// GET / and GET /json: the fixed answers that plaintext and JSON benchmarks hit.
#include "brigade/server/http.hpp"
#include "endpoints.hpp"

namespace brigade::handlers::detail {
namespace {

using server::Request;
using server::Response;

// Handlers are plain coroutine functions, not capturing lambdas: a coroutine lambda's captures
// live in the lambda object, which may be gone by the time the task resumes.
runtime::Task<Response> hello(Request&) { co_return Response::text(200, "Hello, World!"); }

runtime::Task<Response> hello_json(Request&) {
  co_return Response::json(200, R"({"message":"Hello, World!"})");
}

}  // namespace

void add_hello_routes(server::Router& router) {
  router.add("GET", "/", hello);
  router.add("GET", "/json", hello_json);
}

}  // namespace brigade::handlers::detail
