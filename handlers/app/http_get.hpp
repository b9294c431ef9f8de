#pragma once

#include <expected>
#include <string>
#include <string_view>

#include "brigade/runtime/net/socket_addr.hpp"

namespace brigade::app {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// GET `target` over plain HTTP/1.1 (Connection: close) from a server on `address`, blocking,
// each send and receive bounded by a few seconds: the small client of the subcommands that
// talk to a running server. The error is a line for a human ("connect to 127.0.0.1:8080:
// Connection refused").
std::expected<HttpAnswer, std::string> http_get(const runtime::net::SocketAddr& address,
                                                std::string_view target,
                                                std::string_view user_agent);

}  // namespace brigade::app
