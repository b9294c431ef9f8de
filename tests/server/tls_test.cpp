// Integration tests of the server over TLS: a Server with a TlsContext runs in-process on a
// multi-thread runtime (two workers) bound to 127.0.0.1:0, with a self-signed certificate made
// at test start. The client is Boost.Beast over boost::asio::ssl (OpenSSL's client side, which
// shares no code with the server's transport), verifying the certificate; raw sockets play the
// clients that never handshake or send garbage. Covered: TLS 1.2 and 1.3, ALPN, keep-alive,
// pipelining, a body of several MiB each way, the handshake timeout, garbage instead of a
// ClientHello, peers that vanish, close_notify, the limits and timeouts, graceful shutdown, the
// loading errors of TlsContext, and the `brigade` binary with --tls-cert/--tls-key.
//
// Only lower bounds on time are asserted; upper bounds are generous deadlines that keep a broken
// server from hanging the suite.
#include "brigade/server/tls.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "brigade/server/http.hpp"
#include "brigade/server/router.hpp"
#include "brigade/server/server.hpp"
#include "child_process.hpp"
#include "server_under_test.hpp"

namespace rt = brigade::runtime;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using brigade::server::Request;
using brigade::server::Response;
using brigade::server::Router;
using brigade::server::Server;
using brigade::server::ServerOptions;
using brigade::server::ServerState;
using brigade::server::TlsContext;
using namespace std::chrono_literals;

namespace {

constexpr auto kClientTimeout = 20s;  // no client call may hang the suite

// ---- certificates -----------------------------------------------------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct FileClose {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::unique_ptr<std::FILE, FileClose> open_for_writing(const fs::path& path) {
  std::unique_ptr<std::FILE, FileClose> file(std::fopen(path.c_str(), "w"));
  if (!file) throw std::runtime_error("cannot write " + path.string());
  return file;
}

Pkey make_key() {
  Pkey key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("EVP_EC_gen failed");
  return key;
}

void write_key(const EVP_PKEY& key, const fs::path& path) {
  const auto file = open_for_writing(path);
  if (PEM_write_PrivateKey(file.get(), &key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw std::runtime_error("PEM_write_PrivateKey failed");
  }
}

// A self-signed certificate for "localhost", valid for a day.
void write_certificate(EVP_PKEY& key, const fs::path& path) {
  const std::unique_ptr<X509, X509Free> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), &key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), &key, EVP_sha256()) == 0) throw std::runtime_error("X509_sign");
  const auto file = open_for_writing(path);
  if (PEM_write_X509(file.get(), cert.get()) != 1) throw std::runtime_error("PEM_write_X509");
}

std::string der_of(X509* cert) {
  if (cert == nullptr) return {};
  unsigned char* der = nullptr;
  const int size = i2d_X509(cert, &der);
  if (size <= 0) return {};
  std::string bytes(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return bytes;
}

// The certificate in a PEM file, DER-encoded.
std::string der_of_file(const fs::path& path) {
  const std::unique_ptr<std::FILE, FileClose> file(std::fopen(path.c_str(), "rb"));
  if (!file) return {};
  const std::unique_ptr<X509, X509Free> cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr));
  return der_of(cert.get());
}

// A temporary directory with a certificate and its key, a second key that does not match, and
// a file that is no PEM at all. Made once for the whole suite.
class Credentials {
 public:
  Credentials() {
    std::string pattern = (fs::temp_directory_path() / "brigade-tls-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    const Pkey key = make_key();
    write_key(*key, key_path());
    write_certificate(*key, cert_path());
    write_key(*make_key(), other_key_path());
    std::ofstream(junk_path()) << "not a PEM file\n";
  }
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;
  ~Credentials() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  fs::path cert_path() const { return dir_ / "cert.pem"; }
  fs::path key_path() const { return dir_ / "key.pem"; }
  fs::path other_key_path() const { return dir_ / "other-key.pem"; }
  fs::path junk_path() const { return dir_ / "junk.pem"; }

 private:
  fs::path dir_;
};

const Credentials& credentials() {
  static const Credentials made;
  return made;
}

TlsContext tls_context() {
  auto loaded = TlsContext::load(credentials().cert_path(), credentials().key_path());
  if (!loaded) throw std::runtime_error(loaded.error().message);
  return std::move(*loaded);
}

// ---- handlers ---------------------------------------------------------------------------------

std::atomic<int> sleeping_handlers{0};

struct InFlight {
  InFlight() { sleeping_handlers.fetch_add(1); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  ~InFlight() { sleeping_handlers.fetch_sub(1); }
};

rt::Task<Response> hello(Request&) { co_return Response::text(200, "hello"); }

rt::Task<Response> echo(Request& request) {
  co_return Response::text(200, std::move(request.body));
}

rt::Task<Response> sleep_for(Request& request) {
  const InFlight in_flight;
  const auto ms = request.query_param("ms");
  co_await rt::sleep(std::chrono::milliseconds(ms ? std::stoi(*ms) : 100));
  co_return Response::text(200, "slept");
}

constexpr std::size_t kBigBody = 8 * 1024 * 1024;

rt::Task<Response> big(Request&) { co_return Response::text(200, std::string(kBigBody, 'b')); }

Router test_router() {
  Router router;
  router.add("GET", "/", hello);
  router.add("POST", "/echo", echo);
  router.add("GET", "/sleep", sleep_for);
  router.add("GET", "/big", big);
  return router;
}

ServerOptions tls_options() {
  ServerOptions options;
  options.tls = tls_context();
  options.max_body_bytes = 16 * 1024 * 1024;
  options.header_timeout = 5s;
  options.keep_alive_timeout = 10s;
  options.grace_period = 10s;
  options.tls_handshake_timeout = 5s;
  return options;
}

// ---- the server under test --------------------------------------------------------------------

// test_router() behind `options`, on its own runtime and a free loopback port.
class TestServer : public brigade::testing::ServerUnderTest {
 public:
  explicit TestServer(ServerOptions options = tls_options())
      : ServerUnderTest(std::move(options), test_router()) {}
};

using brigade::testing::eventually;

// ---- TLS client -------------------------------------------------------------------------------

using StringResponse = http::response<http::string_body>;

struct ClientOptions {
  int min_version = TLS1_2_VERSION;
  int max_version = 0;  // 0: the highest OpenSSL has (TLS 1.3)
  std::vector<std::string> alpn = {"http/1.1"};
  int security_level = -1;     // -1: OpenSSL's default
  fs::path trusted_cert = {};  // empty: the suite's certificate
};

// Boost.Beast over asio::ssl, verifying the server's certificate against the test's. Every
// operation is asynchronous with a deadline, run to completion on the calling thread.
class TlsClient {
 public:
  explicit TlsClient(std::uint16_t port, const ClientOptions& options = {})
      : context_(asio::ssl::context::tls_client), stream_(io_, make_context(options)) {
    std::string wire;
    for (const std::string& protocol : options.alpn) {
      wire += static_cast<char>(protocol.size());
      wire += protocol;
    }
    if (!wire.empty()) {
      SSL_set_alpn_protos(stream_.native_handle(),
                          reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned int>(wire.size()));
    }
    beast::error_code error;
    lowest().expires_after(kClientTimeout);
    lowest().async_connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port),
                           [&error](beast::error_code e) { error = e; });
    run();
    if (error) throw boost::system::system_error(error, "connect");
  }

  beast::error_code handshake() {
    beast::error_code error;
    lowest().expires_after(kClientTimeout);
    stream_.async_handshake(asio::ssl::stream_base::client,
                            [&error](beast::error_code e) { error = e; });
    run();
    return error;
  }

  // Connected and handshaken, or the test fails.
  static std::unique_ptr<TlsClient> open(std::uint16_t port, const ClientOptions& options = {}) {
    auto client = std::make_unique<TlsClient>(port, options);
    const beast::error_code error = client->handshake();
    if (error) throw boost::system::system_error(error, "handshake");
    return client;
  }

  std::string alpn() {
    const unsigned char* data = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(stream_.native_handle(), &data, &length);
    return {reinterpret_cast<const char*>(data), length};
  }
  int version() { return SSL_version(stream_.native_handle()); }
  // The certificate the server sent, DER-encoded.
  std::string peer_certificate() {
    const std::unique_ptr<X509, X509Free> cert(SSL_get1_peer_certificate(stream_.native_handle()));
    return der_of(cert.get());
  }

  void write(http::request<http::string_body> request) {
    request.set(http::field::host, "localhost");
    request.prepare_payload();
    beast::error_code error;
    lowest().expires_after(kClientTimeout);
    http::async_write(stream_, request, [&error](beast::error_code e, std::size_t) { error = e; });
    run();
    if (error) throw boost::system::system_error(error, "write");
  }

  void write_raw(std::string_view bytes) {
    beast::error_code error;
    lowest().expires_after(kClientTimeout);
    asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                      [&error](beast::error_code e, std::size_t) { error = e; });
    run();
    if (error) throw boost::system::system_error(error, "write");
  }

  StringResponse read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast::error_code error;
    lowest().expires_after(kClientTimeout);
    http::async_read(stream_, buffer_, parser,
                     [&error](beast::error_code e, std::size_t) { error = e; });
    run();
    if (error) throw boost::system::system_error(error, "read");
    return parser.release();
  }

  StringResponse get(std::string_view target) {
    write(http::request<http::string_body>(http::verb::get, target, 11));
    return read();
  }

  StringResponse post(std::string_view target, std::string body) {
    http::request<http::string_body> request(http::verb::post, target, 11);
    request.body() = std::move(body);
    write(std::move(request));
    return read();
  }

  // How the server ended the connection, within `wait`: asio::error::eof after its
  // close_notify, asio::ssl::error::stream_truncated when the TCP connection just closed,
  // timed_out if it is still open.
  beast::error_code read_end(std::chrono::milliseconds wait = kClientTimeout) {
    beast::error_code error;
    char byte = 0;
    lowest().expires_after(wait);
    stream_.async_read_some(asio::buffer(&byte, 1),
                            [&error](beast::error_code e, std::size_t) { error = e; });
    run();
    return error;
  }

  // Sends close_notify and waits for the server's.
  beast::error_code shutdown() {
    beast::error_code error;
    lowest().expires_after(kClientTimeout);
    stream_.async_shutdown([&error](beast::error_code e) { error = e; });
    run();
    return error;
  }

  // Drops the TCP connection without close_notify.
  void vanish() { lowest().socket().close(); }

 private:
  asio::ssl::context& make_context(const ClientOptions& options) {
    context_.set_verify_mode(asio::ssl::verify_peer);
    context_.load_verify_file(options.trusted_cert.empty() ? credentials().cert_path().string()
                                                           : options.trusted_cert.string());
    context_.set_verify_callback(asio::ssl::host_name_verification("localhost"));
    SSL_CTX_set_min_proto_version(context_.native_handle(), options.min_version);
    SSL_CTX_set_max_proto_version(context_.native_handle(), options.max_version);
    if (options.security_level >= 0) {
      SSL_CTX_set_security_level(context_.native_handle(), options.security_level);
    }
    return context_;
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  void run() {
    io_.restart();
    io_.run();
  }

  asio::io_context io_;
  asio::ssl::context context_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

// ---- raw socket client ------------------------------------------------------------------------

class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::system_error(errno, std::generic_category(), "connect");
    }
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  ~RawClient() { ::close(fd_); }

  void send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (sent < 0) throw std::system_error(errno, std::generic_category(), "send");
      data.remove_prefix(static_cast<std::size_t>(sent));
    }
  }

  // Everything until the server closes; nullopt if it is still open after `limit`.
  std::optional<std::string> read_until_closed(std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string all;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd entry{fd_, POLLIN, 0};
      if (left <= 0ms || ::poll(&entry, 1, static_cast<int>(left.count())) <= 0) {
        return std::nullopt;
      }
      char chunk[4096];
      const ssize_t received = ::recv(fd_, chunk, sizeof chunk, 0);
      if (received <= 0) return all;  // end of stream, or reset
      all.append(chunk, static_cast<std::size_t>(received));
    }
  }

 private:
  int fd_;
};

std::string random_bytes(std::size_t size) {
  std::mt19937_64 generator(42);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(generator());
  return bytes;
}

bool is_eof(const beast::error_code& error) { return error == asio::error::eof; }

// ---- versions and ALPN ------------------------------------------------------------------------

TEST(Tls, ServesOverTls12) {
  TestServer server;
  const auto client = TlsClient::open(
      server.port(), {.min_version = TLS1_2_VERSION, .max_version = TLS1_2_VERSION});
  EXPECT_EQ(client->version(), TLS1_2_VERSION);
  EXPECT_EQ(client->alpn(), "http/1.1");
  const auto response = client->get("/");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "hello");
}

TEST(Tls, ServesOverTls13) {
  TestServer server;
  const auto client = TlsClient::open(
      server.port(), {.min_version = TLS1_3_VERSION, .max_version = TLS1_3_VERSION});
  EXPECT_EQ(client->version(), TLS1_3_VERSION);
  EXPECT_EQ(client->alpn(), "http/1.1");
  const auto response = client->get("/");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "hello");
}

TEST(Tls, RefusesTls11) {
  TestServer server;
  // Security level 0: the client side can offer TLS 1.1, so the refusal is the server's.
  TlsClient client(
      server.port(),
      {.min_version = TLS1_1_VERSION, .max_version = TLS1_1_VERSION, .security_level = 0});
  const beast::error_code error = client.handshake();
  ASSERT_TRUE(error);
  EXPECT_NE(error.message().find("protocol version"), std::string::npos) << error.message();
  // The server goes on.
  EXPECT_EQ(TlsClient::open(server.port())->get("/").result_int(), 200);
}

TEST(Tls, AlpnPicksHttp11AmongTheOffers) {
  TestServer server;
  const auto client = TlsClient::open(server.port(), {.alpn = {"h2", "http/1.1"}});
  EXPECT_EQ(client->alpn(), "http/1.1");
  EXPECT_EQ(client->get("/").result_int(), 200);
}

TEST(Tls, ClientWithoutAlpnIsServed) {
  TestServer server;
  const auto client = TlsClient::open(server.port(), {.alpn = {}});
  EXPECT_EQ(client->alpn(), "");
  EXPECT_EQ(client->get("/").result_int(), 200);
}

TEST(Tls, AlpnWithoutHttp11IsRefused) {
  TestServer server;
  TlsClient client(server.port(), {.alpn = {"h2"}});
  const beast::error_code error = client.handshake();
  ASSERT_TRUE(error);
  // The no_application_protocol alert (RFC 7301), as nginx sends it.
  EXPECT_NE(error.message().find("no application protocol"), std::string::npos) << error.message();
}

// ---- requests ---------------------------------------------------------------------------------

TEST(Tls, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestServer server;
  const auto client = TlsClient::open(server.port());
  for (int i = 0; i < 5; ++i) {
    const auto response = client->get("/");
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), "hello");
    EXPECT_TRUE(response.keep_alive());
  }
  EXPECT_EQ(client->post("/echo", "ping").body(), "ping");
  EXPECT_EQ(server.server().connections_total(), 1u);
}

TEST(Tls, PipelinedRequestsAreAnsweredInOrder) {
  TestServer server;
  const auto client = TlsClient::open(server.port());
  std::string requests;
  for (int i = 0; i < 20; ++i) {
    const std::string body = "request " + std::to_string(i);
    requests += "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n\r\n" + body;
  }
  client->write_raw(requests);  // one write: the requests share TLS records
  for (int i = 0; i < 20; ++i) {
    const auto response = client->read();
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), "request " + std::to_string(i));
  }
  EXPECT_EQ(client->get("/").body(), "hello");
}

TEST(Tls, LargeBodiesCrossInBothDirections) {
  TestServer server;
  const auto client = TlsClient::open(server.port());
  const std::string body = random_bytes(6 * 1024 * 1024 + 123);
  const auto response = client->post("/echo", body);
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_TRUE(response.body() == body) << "the echoed body differs";
  EXPECT_EQ(client->get("/").body(), "hello");  // the connection is still in step
}

// ---- bad peers --------------------------------------------------------------------------------

TEST(Tls, SilentClientIsCutAtTheHandshakeTimeout) {
  ServerOptions options = tls_options();
  options.tls_handshake_timeout = 300ms;
  options.header_timeout = 10s;  // so that only the handshake's timeout can fire
  TestServer server(options);
  RawClient silent(server.port());
  const auto start = std::chrono::steady_clock::now();
  const auto answer = silent.read_until_closed();
  ASSERT_TRUE(answer.has_value()) << "still open";
  EXPECT_GE(std::chrono::steady_clock::now() - start, 290ms);
  EXPECT_TRUE(answer->empty());
  EXPECT_TRUE(eventually([&] { return server.server().active_connections() == 0; }));
}

TEST(Tls, StalledHandshakeIsCutAtTheHandshakeTimeout) {
  ServerOptions options = tls_options();
  options.tls_handshake_timeout = 300ms;
  TestServer server(options);
  RawClient stalled(server.port());
  // The first bytes of a ClientHello record, and then nothing.
  stalled.send(std::string_view("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(stalled.read_until_closed().has_value()) << "still open";
  EXPECT_GE(std::chrono::steady_clock::now() - start, 290ms);
}

TEST(Tls, GarbageInsteadOfAClientHelloClosesOnlyThatConnection) {
  ServerOptions options = tls_options();
  options.tls_handshake_timeout = 30s;  // the close must come from the garbage
  TestServer server(options);
  const auto before = TlsClient::open(server.port());
  {
    RawClient garbage(server.port());
    garbage.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");  // plain HTTP to a TLS port
    const auto answer = garbage.read_until_closed(10s);
    ASSERT_TRUE(answer.has_value()) << "still open";
    // At most a TLS alert record (content type 21), never an HTTP answer.
    if (!answer->empty()) {
      EXPECT_EQ(static_cast<unsigned char>((*answer)[0]), 21);
    }
  }
  EXPECT_EQ(TlsClient::open(server.port())->get("/").result_int(), 200);
  EXPECT_EQ(before->get("/").result_int(), 200);
}

TEST(Tls, PeersThatVanishLeaveNothingBehind) {
  TestServer server;
  {
    // Mid-handshake.
    RawClient hello_only(server.port());
    hello_only.send(std::string_view("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x03", 10));
  }
  {
    // Mid-request, without close_notify.
    const auto client = TlsClient::open(server.port());
    client->write_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
    client->vanish();
  }
  {
    // Between requests, without close_notify.
    const auto client = TlsClient::open(server.port());
    EXPECT_EQ(client->get("/").result_int(), 200);
    client->vanish();
  }
  EXPECT_TRUE(eventually([&] { return server.server().active_connections() == 0; }));
  EXPECT_EQ(TlsClient::open(server.port())->get("/").result_int(), 200);
}

// ---- closing ----------------------------------------------------------------------------------

TEST(Tls, ConnectionCloseEndsWithCloseNotify) {
  TestServer server;
  const auto client = TlsClient::open(server.port());
  http::request<http::string_body> request(http::verb::get, "/", 11);
  request.set(http::field::connection, "close");
  client->write(std::move(request));
  const auto response = client->read();
  EXPECT_EQ(response.body(), "hello");
  EXPECT_FALSE(response.keep_alive());
  const beast::error_code end = client->read_end();
  EXPECT_TRUE(is_eof(end)) << end.message();
}

TEST(Tls, ClientCloseNotifyIsAnswered) {
  TestServer server;
  const auto client = TlsClient::open(server.port());
  EXPECT_EQ(client->get("/").result_int(), 200);
  const beast::error_code error = client->shutdown();
  EXPECT_FALSE(error) << error.message();
  EXPECT_TRUE(eventually([&] { return server.server().active_connections() == 0; }));
}

TEST(Tls, IdleKeepAliveTimeoutEndsWithCloseNotify) {
  ServerOptions options = tls_options();
  options.keep_alive_timeout = 300ms;
  TestServer server(options);
  const auto client = TlsClient::open(server.port());
  EXPECT_EQ(client->get("/").result_int(), 200);
  const auto start = std::chrono::steady_clock::now();
  const beast::error_code end = client->read_end();
  EXPECT_TRUE(is_eof(end)) << end.message();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
}

TEST(Tls, HeaderTimeoutAnswers408) {
  ServerOptions options = tls_options();
  options.header_timeout = 300ms;
  TestServer server(options);
  const auto client = TlsClient::open(server.port());
  client->write_raw("GET / HTTP/1.1\r\nHost: x\r\n");  // and never the blank line
  const auto response = client->read();
  EXPECT_EQ(response.result_int(), 408);
  EXPECT_FALSE(response.keep_alive());
  const beast::error_code end = client->read_end();
  EXPECT_TRUE(is_eof(end)) << end.message();
}

TEST(Tls, BodyOverTheLimitGets413) {
  ServerOptions options = tls_options();
  options.max_body_bytes = 1024;
  TestServer server(options);
  const auto client = TlsClient::open(server.port());
  const auto response = client->post("/echo", std::string(4096, 'x'));
  EXPECT_EQ(response.result_int(), 413);
}

TEST(Tls, ClientThatDoesNotReadIsCutAtTheWriteTimeout) {
  ServerOptions options = tls_options();
  options.write_timeout = 300ms;
  TestServer server(options);
  const auto client = TlsClient::open(server.port());
  client->write(http::request<http::string_body>(http::verb::get, "/big", 11));
  // The 8 MiB answer fills the socket buffers; nobody reads it.
  EXPECT_TRUE(eventually([&] { return server.server().active_connections() == 0; }, 10s));
}

TEST(Tls, ConnectionsOverTheLimitAreClosedWithoutAnAnswer) {
  ServerOptions options = tls_options();
  options.max_connections = 1;
  TestServer server(options);
  const auto first = TlsClient::open(server.port());
  EXPECT_EQ(first->get("/").result_int(), 200);
  TlsClient second(server.port());
  EXPECT_TRUE(second.handshake());
  EXPECT_EQ(first->get("/").result_int(), 200);
}

// ---- graceful shutdown ------------------------------------------------------------------------

TEST(Tls, ShutdownAnswersInFlightRequestsAndClosesIdleOnesWithCloseNotify) {
  TestServer server;
  sleeping_handlers.store(0);
  const auto idle = TlsClient::open(server.port());
  EXPECT_EQ(idle->get("/").result_int(), 200);
  // Connected, never handshaken: idle too.
  RawClient handshaking(server.port());

  auto in_flight = std::async(std::launch::async, [port = server.port()] {
    return TlsClient::open(port)->get("/sleep?ms=400");
  });
  ASSERT_TRUE(eventually([] { return sleeping_handlers.load() == 1; }));
  server.server().shutdown();

  const beast::error_code end = idle->read_end(5s);
  EXPECT_TRUE(is_eof(end)) << end.message();
  EXPECT_TRUE(handshaking.read_until_closed(5s).has_value());

  const StringResponse response = in_flight.get();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "slept");
  EXPECT_EQ(response[http::field::connection], "close");
  server.join();
  EXPECT_EQ(server.server().state(), ServerState::stopped);
  EXPECT_EQ(server.server().active_connections(), 0u);
}

// ---- loading the certificate and key ----------------------------------------------------------

TEST(TlsContextLoad, NamesTheFileAtFault) {
  const Credentials& files = credentials();
  const auto missing = TlsContext::load(files.cert_path().string() + ".missing", files.key_path());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().part, TlsContext::Part::certificate);
  EXPECT_NE(missing.error().message.find("cert.pem.missing"), std::string::npos);

  const auto junk_cert = TlsContext::load(files.junk_path(), files.key_path());
  ASSERT_FALSE(junk_cert);
  EXPECT_EQ(junk_cert.error().part, TlsContext::Part::certificate);

  const auto junk_key = TlsContext::load(files.cert_path(), files.junk_path());
  ASSERT_FALSE(junk_key);
  EXPECT_EQ(junk_key.error().part, TlsContext::Part::private_key);

  const auto mismatched = TlsContext::load(files.cert_path(), files.other_key_path());
  ASSERT_FALSE(mismatched);
  EXPECT_EQ(mismatched.error().part, TlsContext::Part::private_key);
  EXPECT_NE(mismatched.error().message.find("other-key.pem"), std::string::npos)
      << mismatched.error().message;

  EXPECT_TRUE(TlsContext::load(files.cert_path(), files.key_path()));
}

// ---- the brigade binary -----------------------------------------------------------------------

constexpr const char* kBinary = BRIGADE_BIN;

std::uint16_t port_of(const std::string& line) {
  const std::size_t at = line.find("address=");
  if (at == std::string::npos) return 0;
  const std::size_t end = line.find(' ', at);
  const std::string address = line.substr(at + 8, end - at - 8);
  return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

struct Exit {
  int code;
  std::string err;
};

Exit run_to_exit(std::vector<std::string> args) {
  brigade::testing::ChildProcess child(kBinary, std::move(args));
  const auto code = child.wait_exit_code(20s);
  EXPECT_TRUE(code.has_value()) << "brigade did not exit";
  return {code.value_or(-1), child.stderr_text()};
}

TEST(BrigadeTls, ServesHttpsWithCertAndKey) {
  const Credentials& files = credentials();
  brigade::testing::ChildProcess child(
      kBinary, {"--listen", "127.0.0.1:0", "--worker-threads", "2", "--tls-cert",
                files.cert_path().string(), "--tls-key", files.key_path().string()});
  const auto line = child.wait_for_stderr_line("brigade started", 20s);
  ASSERT_TRUE(line.has_value()) << child.stderr_text();
  const std::uint16_t port = port_of(*line);
  ASSERT_NE(port, 0) << *line;
  {
    const auto client = TlsClient::open(port);
    const auto response = client->get("/");
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), "Hello, World!");
    EXPECT_EQ(client->alpn(), "http/1.1");
  }
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait_exit_code(20s), 0) << child.stderr_text();
}

// SIGHUP: new handshakes get the certificate now in the files, open connections keep theirs; a
// file that cannot be used is refused with a line naming it, and the certificate in use stays.
TEST(BrigadeTls, SighupReloadsTheCertificateAndKeepsItWhenTheNewOneIsBad) {
  std::string pattern = (fs::temp_directory_path() / "brigade-reload-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const fs::path dir = pattern;
  const fs::path cert = dir / "cert.pem";
  const fs::path key = dir / "key.pem";
  const fs::path first = dir / "first.pem";
  const fs::path second = dir / "second.pem";
  fs::copy_file(credentials().cert_path(), cert);
  fs::copy_file(credentials().key_path(), key);
  fs::copy_file(credentials().cert_path(), first);
  const Pkey next_key = make_key();
  write_certificate(*next_key, second);

  brigade::testing::ChildProcess child(
      kBinary, {"--listen", "127.0.0.1:0", "--worker-threads", "2", "--tls-cert", cert.string(),
                "--tls-key", key.string()});
  const auto line = child.wait_for_stderr_line("brigade started", 20s);
  ASSERT_TRUE(line.has_value()) << child.stderr_text();
  const std::uint16_t port = port_of(*line);
  {
    const auto before = TlsClient::open(port, {.trusted_cert = first});
    EXPECT_EQ(before->peer_certificate(), der_of_file(first));
    EXPECT_EQ(before->get("/").result_int(), 200);

    // The new pair replaces the files, key first (a reload never comes between the two here).
    write_key(*next_key, dir / "key.next");
    fs::rename(dir / "key.next", key);
    fs::copy_file(second, dir / "cert.next");
    fs::rename(dir / "cert.next", cert);
    child.signal(SIGHUP);
    ASSERT_TRUE(child.wait_for_stderr_line("reloaded the TLS certificate", 20s))
        << child.stderr_text();
    const auto after = TlsClient::open(port, {.trusted_cert = second});
    EXPECT_EQ(after->peer_certificate(), der_of_file(second));
    EXPECT_EQ(after->get("/").result_int(), 200);
    EXPECT_EQ(before->get("/").result_int(), 200);  // the open connection was not dropped

    std::ofstream(cert, std::ios::trunc) << "not a certificate\n";
    child.signal(SIGHUP);
    const auto refused = child.wait_for_stderr_line("cannot use tls_cert", 20s);
    ASSERT_TRUE(refused) << child.stderr_text();
    EXPECT_NE(refused->find(cert.string()), std::string::npos) << *refused;
    ASSERT_TRUE(child.wait_for_stderr_line("kept the certificate in use", 20s));
    const auto still = TlsClient::open(port, {.trusted_cert = second});
    EXPECT_EQ(still->peer_certificate(), der_of_file(second));
  }
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait_exit_code(20s), 0) << child.stderr_text();
  fs::remove_all(dir);
}

// Every TLS file a user gave and the server cannot use is a setting to fix: exit status 2.
TEST(BrigadeTls, CertWithoutKeyExitsNamingIt) {
  const Exit result =
      run_to_exit({"--listen", "127.0.0.1:0", "--tls-cert", credentials().cert_path().string()});
  EXPECT_EQ(result.code, 2);
  EXPECT_NE(result.err.find("tls_cert"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("tls_key"), std::string::npos) << result.err;
}

TEST(BrigadeTls, MissingKeyFileExitsNamingIt) {
  const Exit result =
      run_to_exit({"--listen", "127.0.0.1:0", "--tls-cert", credentials().cert_path().string(),
                   "--tls-key", "/nonexistent/key.pem"});
  EXPECT_EQ(result.code, 2);
  EXPECT_NE(result.err.find("tls_key"), std::string::npos) << result.err;
}

TEST(BrigadeTls, MismatchedKeyExitsNamingIt) {
  const Exit result =
      run_to_exit({"--listen", "127.0.0.1:0", "--tls-cert", credentials().cert_path().string(),
                   "--tls-key", credentials().other_key_path().string()});
  EXPECT_EQ(result.code, 2);
  // The same form as every other bad setting: the key, where it was set, the file and why.
  EXPECT_NE(result.err.find("config error: key \"tls_key\" (from --tls-key): \"" +
                            credentials().other_key_path().string() + "\": "),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("mismatch"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("brigade started"), std::string::npos) << result.err;
}

// Set in a file, the refusal names the file and the line, as for any setting in a file.
TEST(BrigadeTls, MismatchedKeyInAFileNamesItsLine) {
  std::string pattern = (fs::temp_directory_path() / "brigade-tls-config-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const fs::path dir(pattern);
  const fs::path file = dir / "brigade.toml";
  std::ofstream(file) << "tls_cert = \"" << credentials().cert_path().string() << "\"\n"
                      << "tls_key = \"" << credentials().other_key_path().string() << "\"\n";
  const Exit result = run_to_exit({"--listen", "127.0.0.1:0", "--config", file.string()});
  EXPECT_EQ(result.code, 2);
  EXPECT_NE(result.err.find("config error: key \"tls_key\" (from " + file.string() + ":2): "),
            std::string::npos)
      << result.err;
  fs::remove_all(dir);
}

TEST(BrigadeTls, UnreadableCertificateExitsNamingIt) {
  const Exit result =
      run_to_exit({"--listen", "127.0.0.1:0", "--tls-cert", credentials().junk_path().string(),
                   "--tls-key", credentials().key_path().string()});
  EXPECT_EQ(result.code, 2);
  EXPECT_NE(result.err.find("config error: key \"tls_cert\" (from --tls-cert): \"" +
                            credentials().junk_path().string() + "\": "),
            std::string::npos)
      << result.err;
}

}  // namespace
