#pragma once

// A minimal HTTP/1.1 client for end-to-end tests, on Boost.Beast: an implementation that shares
// nothing with the server's codec. One Client is one connection (kept alive between requests);
// every operation has a deadline, so a server that never answers fails the test instead of
// hanging it. A Client belongs to one thread.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace brigade::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

using Response = http::response<http::string_body>;

class Client {
 public:
  // Connects to 127.0.0.1:port; throws boost::system::system_error on failure.
  explicit Client(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(15))
      : timeout_(timeout) {
    stream_.expires_after(timeout_);
    beast::error_code error;
    stream_.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [&error](beast::error_code e) { error = e; });
    run();
    if (error) throw boost::system::system_error(error, "connect");
  }

  // Sends one request and reads its response; throws boost::system::system_error on failure.
  Response request(http::verb method, std::string_view target, std::string body = {},
                   std::string_view content_type = {}) {
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, "127.0.0.1");
    if (!content_type.empty()) request.set(http::field::content_type, content_type);
    if (!body.empty() || method == http::verb::post) {
      request.body() = std::move(body);
      request.prepare_payload();
    }
    send(request);
    return receive();
  }

  Response get(std::string_view target) { return request(http::verb::get, target); }

  template <class Body>
  void send(http::request<Body>& request) {
    beast::error_code error;
    stream_.expires_after(timeout_);
    http::async_write(stream_, request, [&error](beast::error_code e, std::size_t) { error = e; });
    run();
    if (error) throw boost::system::system_error(error, "write");
  }

  Response receive() {
    beast::error_code error;
    Response response;
    stream_.expires_after(timeout_);
    http::async_read(stream_, buffer_, response,
                     [&error](beast::error_code e, std::size_t) { error = e; });
    run();
    if (error) throw boost::system::system_error(error, "read");
    return response;
  }

  // Whether the server has closed the connection (reads end of stream within `wait`).
  bool closed_by_peer(std::chrono::milliseconds wait) {
    beast::error_code error;
    char byte;
    stream_.expires_after(wait);
    stream_.async_read_some(asio::buffer(&byte, 1),
                            [&error](beast::error_code e, std::size_t) { error = e; });
    run();
    return error == asio::error::eof || error == asio::error::connection_reset;
  }

 private:
  void run() {
    io_.restart();
    io_.run();
  }

  std::chrono::milliseconds timeout_;
  asio::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
};

}  // namespace brigade::testing
