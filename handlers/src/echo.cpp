// POST /echo: the request body back, byte for byte.
#include <string>
#include <utility>

#include "brigade/server/http.hpp"
#include "endpoints.hpp"

namespace brigade::handlers::detail {
namespace {

using server::Request;
using server::Response;

runtime::Task<Response> echo(Request& request) {
  Response response;
  const auto content_type = request.headers.get("Content-Type");
  response.headers.add("Content-Type", content_type ? std::string(*content_type)
                                                    : std::string("application/octet-stream"));
  // The server is done with the body once the handler has it: move, do not copy.
  response.body = std::move(request.body);
  co_return response;
}

}  // namespace

void add_echo_routes(server::Router& router) { router.add("POST", "/echo", echo); }

}  // namespace brigade::handlers::detail
