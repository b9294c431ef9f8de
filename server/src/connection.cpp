#include "connection.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "body_budget.hpp"
#include "brigade/runtime/coop.hpp"
#include "brigade/runtime/detail/tick_clock.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/task_annotation.hpp"
#include "brigade/runtime/timeout.hpp"
#include "brigade/server/http.hpp"
#include "brigade/server/router.hpp"
#include "connection_registry.hpp"
#include "date_cache.hpp"
#include "plain_transport.hpp"
#include "request_parser.hpp"
#include "response_writer.hpp"
#include "server_core.hpp"
#include "socket_io.hpp"
#include "tls_context_state.hpp"
#include "tls_transport.hpp"
#include "working_set.hpp"

namespace brigade::server::detail {
namespace {

using runtime::Clock;
using runtime::net::TcpStream;

// Answers queued for pipelined requests are written once they reach this size even if more
// requests are buffered: a client that pipelines without reading cannot grow the buffer further.
constexpr std::size_t kFlushThreshold = 256 * 1024;
// Closing while the peer may still be sending (after an error, or with pipelined requests left
// unanswered): how long its bytes are read and dropped so that the close does not reset the
// connection before the peer has read our last answer.
constexpr std::chrono::seconds kLingerTime{1};

std::span<const std::byte> bytes_of(std::string_view text) noexcept {
  return std::as_bytes(std::span(text.data(), text.size()));
}

// Too many request bodies are held at once (max_buffered_body_bytes): this one is not read.
Response busy_with_bodies() {
  Response response = Response::error(503, "too many request bodies in progress, retry later");
  response.headers.add("Retry-After", "1");
  return response;
}

// What a connection's task remembers from one burst of requests to the next.
struct ConnectionHistory {
  // A request has been answered on this connection: between requests it waits up to
  // keep_alive_timeout (before the first, header_timeout), and at shutdown, while it waits, it
  // is closed at once (before the first, its client gets time to send it). Only an answer sets
  // it: a wake-up that brings no request (readiness left over from the TLS handshake, say) must
  // not make a new connection look served, or the shutdown closes it under its first request.
  bool served = false;
  // The client has sent a request before the answer to the previous one was complete, at some
  // point on this connection: from then on an end of stream is taken for a half-close.
  bool pipelining = false;
};

// Ends when the peer has gone while a handler works for it: the end of the stream or an error
// (a reset). Once the peer sends more bytes (a pipelined request) it notes that the client
// pipelines and only waits, to be cancelled with the select it is part of: a client that sends
// requests wants their answers, and a half-closed one (shutdown(SHUT_WR) after its requests) is
// answered.
runtime::Task<void> peer_gone(TcpStream& stream, bool& pipelining) {
  for (;;) {
    const auto ready = co_await stream.readable();
    if (!ready) co_return;
    const PeerInput input = peek_input(stream.native_handle());
    if (input == PeerInput::end || input == PeerInput::error) co_return;
    if (input == PeerInput::data) break;
  }
  pipelining = true;
  // Nobody resumes this: the select destroys it when the handler finishes.
  co_await std::suspend_always{};
}

Response routing_error(RouteMatch& match) {
  if (match.status == RouteMatch::Status::not_found) return Response::error(404, "not found");
  Response response = Response::error(405, "method not allowed");
  response.headers.add("Allow", match.allow);
  return response;
}

// The part of a connection that exists only while it has requests to work on: the leased
// working set (read buffer, output buffer, parser) and where the current request stands. It is
// made when bytes arrive and dropped once the connection is idle again, so the working set goes
// back to the pool between requests. Compiled once per transport (PlainTransport, TlsTransport):
// no indirect call on the way to the socket.
template <class Transport>
class BusyConnection {
 public:
  BusyConnection(ServerCore& core, TcpStream& stream, Transport& transport,
                 const runtime::net::SocketAddr& peer, ConnectionHistory& history)
      : core_(core),
        stream_(stream),
        peer_(peer),
        transport_(transport),
        fd_(stream.native_handle()),
        history_(history),
        body_share_(core.body_budget) {
    work_->parser.emplace(ParseLimits{.max_header_bytes = core.options.max_header_bytes,
                                      .max_body_bytes = core.options.max_body_bytes,
                                      .max_headers = core.options.max_headers});
  }
  BusyConnection(const BusyConnection&) = delete;
  BusyConnection& operator=(const BusyConnection&) = delete;

  // Reads and answers until no partial request is left (true: wait for the next one) or the
  // connection must close (false). The busy connection lives in this coroutine's frame: one
  // frame per wake-up, not one for it and one for a member coroutine.
  static runtime::Task<bool> serve(ServerCore& core, TcpStream& stream, Transport& transport,
                                   const runtime::net::SocketAddr& peer,
                                   ConnectionHistory& history);

 private:
  enum class Read : std::uint8_t { data, nothing, closed, timed_out };

  RequestParser& parser() const noexcept { return *work_->parser; }
  std::string& out() const noexcept { return work_->out; }
  std::string_view input() const noexcept {
    return {reinterpret_cast<const char*>(work_->read_buffer().data()) + begin_, end_ - begin_};
  }

  Read try_read() noexcept;
  runtime::Task<Read> read_within(Clock::time_point deadline);
  bool try_flush() noexcept;
  runtime::Task<bool> flush();

  void start_message() noexcept;
  void start_body() noexcept;
  bool reserve_body() noexcept;
  bool reserve_chunked_body();
  runtime::Task<bool> write_body_apart(std::string_view body);
  runtime::Task<bool> answer_expect_continue();
  runtime::Task<bool> respond();
  runtime::Task<std::optional<std::size_t>> write_streamed_body(const BodyStream& next,
                                                                BodyFraming framing,
                                                                std::size_t& content_bytes);
  runtime::Task<void> finish();
  runtime::Task<void> refuse(Response response, const Request& request, bool patient);
  void observe(const Request& request, int status, std::size_t response_bytes,
               std::size_t body_bytes);

  ServerCore& core_;
  TcpStream& stream_;
  const runtime::net::SocketAddr& peer_;
  Transport& transport_;
  const int fd_;
  ConnectionHistory& history_;
  WorkingSetLease work_;
  // Input read but not parsed yet: read_buffer()[begin_, end_). The parser consumes everything
  // it is fed except at its stops, and is fed again after each, so the buffer is always empty
  // when the next read comes.
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t flushed_ = 0;       // bytes at the front of out() already written
  bool broken_ = false;           // a write failed: nothing more can be sent
  bool in_body_ = false;          // the current request's header section is complete
  Clock::time_point read_at_{};   // when the last read returned (coarse clock)
  Clock::time_point deadline_{};  // of the current phase: header section, then body
  // The current request's first byte, for the observer, in TickClock ticks: the cycle counter,
  // 17 to 23 ns a read on this project's machine against 40 to 55 ns for steady_clock.
  std::uint64_t started_ = 0;
  // When the last answer was queued, if nothing has waited since (0 otherwise): a request
  // pipelined behind it starts then, without a clock read of its own.
  std::uint64_t answered_at_ = 0;
  std::size_t request_bytes_ = 0;
  BodyReservation body_share_;  // the current request's share of the server's body budget
};

template <class Transport>
runtime::Task<bool> BusyConnection<Transport>::serve(ServerCore& core, TcpStream& stream,
                                                     Transport& transport,
                                                     const runtime::net::SocketAddr& peer,
                                                     ConnectionHistory& history) {
  BusyConnection busy(core, stream, transport, peer, history);
  for (;;) {
    // The first read of a burst finds bytes (the connection was woken for them); a later one
    // only happens mid-request, and then may wait, within the phase's deadline.
    Read got = busy.try_read();
    if (got == Read::nothing) {
      if (busy.parser().idle()) co_return true;  // a spurious wake-up: back to waiting, no buffer
      got = co_await busy.read_within(busy.deadline_);
    }
    if (got == Read::closed) co_return false;  // mid-request too: nobody left to answer
    if (got == Read::timed_out) {
      if (busy.core_.observer != nullptr) {
        busy.core_.observer->on_timeout(busy.in_body_ ? TimeoutPhase::body : TimeoutPhase::header);
      }
      auto answer =
          Response::error(408, busy.in_body_ ? "request body timeout" : "request header timeout");
      co_await busy.refuse(std::move(answer), busy.parser().request(), false);
      co_return false;
    }
    co_await runtime::consume_budget();

    // Answer every request completed by what was read; the answers queue up in out().
    for (;;) {
      if (busy.parser().idle()) {
        if (busy.begin_ == busy.end_) break;
        busy.start_message();
      }
      if (busy.in_body_ && busy.parser().chunked() && !busy.reserve_chunked_body()) {
        co_await busy.refuse(busy_with_bodies(), busy.parser().request(), true);
        co_return false;
      }
      const RequestParser::Result result = busy.parser().feed(busy.input());
      busy.begin_ += result.consumed;
      busy.request_bytes_ += result.consumed;
      if (result.state == RequestParser::State::need_more) break;
      if (result.state == RequestParser::State::error) {
        const ParseError& error = busy.parser().error();
        co_await busy.refuse(Response::error(error.status, error.message), busy.parser().request(),
                             true);
        co_return false;
      }
      if (result.state == RequestParser::State::headers_done) {
        busy.start_body();
        if (!busy.reserve_body()) {
          co_await busy.refuse(busy_with_bodies(), busy.parser().request(), true);
          co_return false;
        }
        if (busy.parser().expects_continue() && busy.begin_ == busy.end_) {
          const bool go_on = co_await busy.answer_expect_continue();
          if (!go_on) co_return false;
        }
        continue;
      }
      const bool go_on = co_await busy.respond();
      if (!go_on) co_return false;
    }
    busy.begin_ = busy.end_ = 0;

    // One write for all the answers to this read (pipelining).
    if (!busy.try_flush()) {
      const bool flushed = co_await busy.flush();
      if (!flushed) co_return false;
    }
    if (busy.parser().idle()) co_return true;
  }
}

template <class Transport>
typename BusyConnection<Transport>::Read BusyConnection<Transport>::try_read() noexcept {
  const IoResult got = transport_.try_read(stream_, work_->read_buffer().subspan(end_));
  switch (got.status) {
    case IoStatus::done:
      end_ += got.bytes;
      read_at_ = coarse_now();
      return Read::data;
    case IoStatus::would_block:
      return Read::nothing;
    case IoStatus::closed:
    case IoStatus::failed:
      break;
  }
  return Read::closed;
}

template <class Transport>
runtime::Task<typename BusyConnection<Transport>::Read> BusyConnection<Transport>::read_within(
    Clock::time_point deadline) {
  for (;;) {
    // Wait for readiness, then read outside the race with the timer: a read that lost the race
    // after reading would lose its bytes.
    const auto ready = co_await runtime::timeout_at(deadline, wait_readable(stream_));
    if (!ready) co_return Read::timed_out;
    if (!*ready) co_return Read::closed;
    const Read got = try_read();
    if (got == Read::nothing) continue;
    // A client that trickles bytes just fast enough still runs out of time.
    if (got == Read::data && read_at_ > deadline) co_return Read::timed_out;
    co_return got;
  }
}

template <class Transport>
bool BusyConnection<Transport>::try_flush() noexcept {
  std::string& out = this->out();
  while (flushed_ < out.size()) {
    const IoResult sent = transport_.try_write(stream_, bytes_of(out).subspan(flushed_));
    flushed_ += sent.bytes;  // TLS may take bytes and still have to wait to send them
    if (sent.status != IoStatus::done) {
      broken_ = sent.status != IoStatus::would_block;
      return false;
    }
  }
  out.clear();
  flushed_ = 0;
  return true;
}

template <class Transport>
runtime::Task<bool> BusyConnection<Transport>::flush() {
  if (broken_) co_return false;
  answered_at_ = 0;  // the next request starts after this wait, not before it
  std::string& out = this->out();
  // The socket buffer is full: the peer reads slowly. It gets write_timeout for the rest.
  const auto written = co_await runtime::timeout(
      core_.options.write_timeout, transport_.write_all(stream_, bytes_of(out).subspan(flushed_)));
  if (!written || !*written) {
    if (!written && core_.observer != nullptr) core_.observer->on_timeout(TimeoutPhase::write);
    broken_ = true;
    co_return false;
  }
  out.clear();
  flushed_ = 0;
  co_return true;
}

// A phase's deadline counts from when the server starts on it, not from the last read: a request
// pipelined behind a slow handler was read long before its turn came. Its first byte is always
// here already (it is in the buffer), so "now" is the later of the two.
template <class Transport>
void BusyConnection<Transport>::start_message() noexcept {
  request_bytes_ = 0;
  in_body_ = false;
  deadline_ = coarse_now() + core_.options.header_timeout;
  if (core_.observer != nullptr) {
    started_ = answered_at_ != 0 ? answered_at_ : runtime::detail::TickClock::get().now();
  }
}

template <class Transport>
void BusyConnection<Transport>::start_body() noexcept {
  in_body_ = true;
  deadline_ = coarse_now() + core_.options.body_timeout;
}

// The client waits for a word before it sends the body: 100 Continue when the request will be
// served, else the final answer at once (the body is then never read, so the connection closes).
// The body's size was checked by the parser already (413).
template <class Transport>
runtime::Task<bool> BusyConnection<Transport>::answer_expect_continue() {
  Request probe = parser().request();  // a copy: routing moves the path parameters into it
  RouteMatch match = core_.router.route(probe);
  if (match.status != RouteMatch::Status::found) {
    co_await refuse(routing_error(match), probe, true);
    co_return false;
  }
  write_continue(out());
  if (try_flush()) co_return true;
  co_return co_await flush();
}

// A body framed by Content-Length takes its whole share at once, before any of it is read;
// a chunked one grows its share as it arrives (reserve_chunked_body).
template <class Transport>
bool BusyConnection<Transport>::reserve_body() noexcept {
  const std::optional<std::uint64_t> length = parser().content_length();
  if (!length || *length == 0) return true;
  if (!body_share_.grow_to(*length)) return false;
  parser().reserve_body(*length);  // what is accounted is what is allocated
  return true;
}

// Before the parser is fed input of a chunked body: room for all of it, taken from the budget.
// The room grows geometrically (no copy per read), up to max_body_bytes (the parser refuses
// beyond it).
template <class Transport>
bool BusyConnection<Transport>::reserve_chunked_body() {
  RequestParser& parser = this->parser();
  const std::size_t needed = parser.body_size() + input().size();
  if (needed <= parser.body_capacity()) return true;
  const std::size_t room =
      std::min(std::max(needed, 2 * parser.body_capacity()), core_.options.max_body_bytes);
  if (!body_share_.grow_to(std::max(room, parser.body_capacity()))) return false;
  parser.reserve_body(room);
  return true;
}

// A large body goes out from the response itself, after the head and what was queued before it,
// instead of being copied into the output buffer first (POST /echo would hold it twice).
template <class Transport>
runtime::Task<bool> BusyConnection<Transport>::write_body_apart(std::string_view body) {
  if (!try_flush()) {
    const bool flushed = co_await flush();
    if (!flushed) co_return false;
  }
  std::span<const std::byte> rest = bytes_of(body);
  while (!rest.empty()) {
    const IoResult sent = transport_.try_write(stream_, rest);
    rest = rest.subspan(sent.bytes);
    if (sent.status == IoStatus::done) continue;
    if (sent.status != IoStatus::would_block) break;
    const auto written =
        co_await runtime::timeout(core_.options.write_timeout, transport_.write_all(stream_, rest));
    if (written && *written) co_return true;
    break;
  }
  broken_ = !rest.empty();
  co_return rest.empty();
}

template <class Transport>
runtime::Task<bool> BusyConnection<Transport>::respond() {
  RequestParser& parser = this->parser();
  const bool head = parser.is_head();
  bool keep_alive = parser.keep_alive();
  Request& request = parser.request();

  Response response;
  RouteMatch match = core_.router.route(request);
  if (match.status == RouteMatch::Status::found) {
    // The handler runs in this frame, not a coroutine of its own: one frame fewer per request.
    // While it waits, the socket is watched: if the client goes (end of stream or a reset) first,
    // the handler is cancelled (its frame destroyed: the tasks it spawned and holds are aborted, a
    // blocking job it waits for runs on but its result is dropped). A client that pipelines is
    // not watched: the end of its stream is taken for a half-close (shutdown(SHUT_WR) after its
    // last request), and every request it sent is answered. A handler that throws is answered
    // 500; the connection survives it, and the observer hears why it failed.
    if (begin_ < end_ || transport_.has_buffered_input()) history_.pipelining = true;
    const bool watch = !history_.pipelining;
    bool client_gone = false;
    std::optional<std::string> failure;
    {
      // A stall report names the route: the task's spawn site is the accept loop's. The pattern
      // is a whole std::string of the router's, so its view ends at a NUL and outlives the handler.
      const runtime::TaskAnnotation serving(request.route.data());
      try {
        runtime::Task<Response> work = (*match.handler)(request);
        // Most handlers answer without waiting: the client is watched only once one waits.
        if (watch && !work.start()) {
          auto first =
              co_await runtime::select(std::move(work), peer_gone(stream_, history_.pipelining));
          client_gone = first.index() != 0;
          if (!client_gone) response = std::get<0>(std::move(first));
        } else {
          response = co_await std::move(work);
        }
      } catch (const std::exception& error) {
        failure = error.what();
      } catch (...) {
        failure = "an exception that is not a std::exception";
      }
    }
    if (failure) {
      if (core_.observer != nullptr) core_.observer->on_handler_failed(request, *failure);
      response = Response::error(500, "internal server error");
    } else if (client_gone) {
      if (core_.observer != nullptr) core_.observer->on_request_cancelled(request);
      co_return false;  // nobody to answer
    }
  } else {
    response = routing_error(match);
  }

  // Read after the handler ran: from the shutdown signal on (the drain delay included), every
  // answer says "Connection: close", so pooled clients move to other instances while this one
  // still serves.
  keep_alive = keep_alive && core_.state.load(std::memory_order_seq_cst) == ServerState::serving;
  std::string& out = this->out();
  const std::size_t before = out.size();
  const ResponseContext context{.date = http_date(),
                                .version_minor = request.version_minor,
                                .head = head,
                                .keep_alive = keep_alive,
                                .body_apart = response.body.size() >= kFlushThreshold};
  const BodyFraming framing = write_response(out, response, context);
  history_.served = true;
  std::size_t response_bytes = out.size() - before;
  const std::size_t body_bytes = fixed_body_size(response, context);
  if (framing == BodyFraming::apart) {
    const bool written = co_await write_body_apart(response.body);
    observe(request, response.status, response_bytes + body_bytes, body_bytes);
    if (!written) co_return false;
  } else if (framing != BodyFraming::complete) {
    std::size_t content_bytes = 0;
    const auto streamed = co_await write_streamed_body(response.stream, framing, content_bytes);
    if (!streamed) {
      observe(request, response.status, response_bytes, content_bytes);
      co_return false;
    }
    response_bytes += *streamed;
    keep_alive = keep_alive && framing == BodyFraming::chunked;  // else the close ends the body
    observe(request, response.status, response_bytes, content_bytes);
  } else {
    observe(request, response.status, response_bytes, body_bytes);
  }
  // The request is answered: its body is no longer held (a slow reader may keep this connection
  // in flush() with its share of the budget given back).
  body_share_.release();
  std::string().swap(request.body);  // frees it (assigning an empty string keeps the capacity)
  if (!keep_alive) {
    co_await finish();
    co_return false;
  }
  if (out.size() < kFlushThreshold || try_flush()) co_return true;
  co_return co_await flush();
}

// The head is in out(); writes it, then each chunk as the producer makes it. Returns the body's
// bytes on the wire, or nullopt when the connection must close (a write failed or the producer
// threw: closing is how the client learns that the body is incomplete). `content_bytes` adds up
// the chunks' contents as they are queued, framing aside.
template <class Transport>
runtime::Task<std::optional<std::size_t>> BusyConnection<Transport>::write_streamed_body(
    const BodyStream& next, BodyFraming framing, std::size_t& content_bytes) {
  std::string& out = this->out();
  std::size_t bytes = 0;
  for (;;) {
    // What is queued leaves before the producer is awaited: it may take its time.
    if (!try_flush()) {
      const bool flushed = co_await flush();
      if (!flushed) co_return std::nullopt;
    }
    std::optional<std::string> chunk;
    bool threw = false;
    try {
      chunk = co_await next();
    } catch (...) {
      threw = true;
    }
    if (threw) co_return std::nullopt;
    const std::size_t before = out.size();
    if (!chunk) {
      if (framing == BodyFraming::chunked) write_last_chunk(out);
      bytes += out.size() - before;
      if (!try_flush()) {
        const bool flushed = co_await flush();
        if (!flushed) co_return std::nullopt;
      }
      co_return bytes;
    }
    content_bytes += chunk->size();
    if (framing == BodyFraming::chunked) {
      write_chunk(out, *chunk);
    } else {
      out += *chunk;
    }
    bytes += out.size() - before;
  }
}

// After the last answer (it said "Connection: close"): writes what is queued, then closes
// without resetting the connection if the peer sent more than we read. While draining it always
// lingers: a client may have pipelined more requests that are still on their way; they are
// dropped unanswered (RFC 9112 9.6), which the close after "Connection: close" tells it.
template <class Transport>
runtime::Task<void> BusyConnection<Transport>::finish() {
  if (!try_flush()) {
    const bool flushed = co_await flush();
    if (!flushed) co_return;
  }
  transport_.close_notify(stream_);
  const bool draining = core_.state.load(std::memory_order_relaxed) != ServerState::serving;
  if (draining || begin_ < end_ || has_pending_input(fd_)) {
    co_await linger_close(stream_, work_->read_buffer(), kLingerTime);
  }
}

// Answers `response` and closes: after a malformed request, a refused 100-continue or a
// timeout. A patient refusal waits for the write and lingers; an impatient one (the peer timed
// out) gets one non-blocking try.
template <class Transport>
runtime::Task<void> BusyConnection<Transport>::refuse(Response response, const Request& request,
                                                      bool patient) {
  std::string& out = this->out();
  const std::size_t before = out.size();
  const ResponseContext context{.date = http_date(),
                                .version_minor = request.version_minor,
                                .head = false,
                                .keep_alive = false};
  write_response(out, response, context);
  observe(request, response.status, out.size() - before, fixed_body_size(response, context));
  if (!patient) {
    if (try_flush()) transport_.close_notify(stream_);
    co_return;
  }
  if (!try_flush()) {
    const bool flushed = co_await flush();
    if (!flushed) co_return;
  }
  transport_.close_notify(stream_);
  co_await linger_close(stream_, work_->read_buffer(), kLingerTime);
}

template <class Transport>
void BusyConnection<Transport>::observe(const Request& request, int status,
                                        std::size_t response_bytes, std::size_t body_bytes) {
  if (core_.observer == nullptr) return;
  const runtime::detail::TickClock& clock = runtime::detail::TickClock::get();
  answered_at_ = clock.now();
  core_.observer->on_request(
      request, {.status = status,
                .request_bytes = request_bytes_,
                .response_bytes = response_bytes,
                .response_body_bytes = body_bytes,
                .duration = std::chrono::nanoseconds(clock.elapsed_ns(started_, answered_at_)),
                .peer = &peer_});
}

// Deduces the transport; not a coroutine, so no frame of its own.
template <class Transport>
runtime::Task<bool> serve_requests(ServerCore& core, TcpStream& stream, Transport& transport,
                                   const runtime::net::SocketAddr& peer,
                                   ConnectionHistory& history) {
  return BusyConnection<Transport>::serve(core, stream, transport, peer, history);
}

}  // namespace

RegisteredConnection::RegisteredConnection(std::shared_ptr<ServerCore> core, ConnectionSlot& slot,
                                           TcpStream stream) noexcept
    : core_(std::move(core)), slot_(&slot), stream_(std::move(stream)) {
  if (core_->observer != nullptr) core_->observer->on_connection_opened();
}

RegisteredConnection::~RegisteredConnection() {
  if (slot_ == nullptr) return;  // moved from
  core_->connections.remove(*slot_);
  if (core_->observer != nullptr) core_->observer->on_connection_closed();
}

namespace {

std::chrono::milliseconds idle_timeout(const ServerOptions& options, bool served) noexcept {
  return served ? options.keep_alive_timeout : options.header_timeout;
}

// An accepted TLS connection: the registration, and the session as a member of the derived
// class, so that it is destroyed before the base's stream (its destructor may still write
// close_notify to it). It holds the TLS context it started with: a reload may replace the
// server's before the handshake creates the session.
class TlsConnection : public RegisteredConnection {
 public:
  TlsConnection(RegisteredConnection connection, TlsContext context) noexcept
      : RegisteredConnection(std::move(connection)),
        context_(std::move(context)),
        transport_(TlsContextAccess::native(context_)) {}

  TlsTransport& transport() noexcept { return transport_; }

 private:
  TlsContext context_;
  TlsTransport transport_;
};

// A plain connection's transport has no state: one object serves them all, and an idle
// connection's frame holds none.
constinit PlainTransport plain_transport;

PlainTransport& transport_of(RegisteredConnection& /*connection*/) noexcept {
  return plain_transport;
}
TlsTransport& transport_of(TlsConnection& connection) noexcept { return connection.transport(); }

// Closes a connection idle after a request at shutdown: FIN (close_notify first over TLS), then
// what the peer still sends is read and dropped until it closes, so that a request it sent
// before the FIN reached it ends without a reset. `half_closed`: the FIN is sent already.
template <class Transport>
runtime::Task<void> close_lingering(TcpStream& stream, Transport& transport, bool half_closed) {
  if (!half_closed) transport.close_notify(stream);
  std::array<std::byte, 512> scratch;
  co_await linger_close(stream, scratch, kLingerTime);
}

enum class IdleWake : std::uint8_t { readable, failed, closing };

// An idle TLS connection waits for its peer's next bytes or for the shutdown, whichever comes
// first: at shutdown it must say close_notify before its FIN, and only its own task can write
// to the session (see ConnectionRegistry::close_idle_at_shutdown).
runtime::Task<IdleWake> readable_or_closing(ServerCore& core, TcpStream& stream) {
  auto closing = core.closing_notice.notified();  // before the check: no notice is missed
  if (core.closing.load(std::memory_order_seq_cst)) co_return IdleWake::closing;
  auto readable = stream.readable();
  const auto first = co_await runtime::select(std::move(readable), std::move(closing));
  if (first.index() == 1) co_return IdleWake::closing;
  co_return std::get<0>(first) ? IdleWake::readable : IdleWake::failed;
}

// The TLS handshake, before the first request. The connection counts as idle meanwhile (it has
// no request yet): shutdown closes it at once, like any idle one.
runtime::Task<bool> accept_tls(TlsConnection& connection) {
  const std::chrono::milliseconds limit = connection.core().options.tls_handshake_timeout;
  // A new connection: at shutdown it still gets its handshake and first request (see
  // ConnectionRegistry::close_idle_at_shutdown).
  connection.slot().enter_idle(coarse_now() + limit, false);
  const auto done =
      co_await runtime::timeout(limit, connection.transport().handshake(connection.stream()));
  if (!done || !*done) {
    if (RequestObserver* const observer = connection.core().observer; observer != nullptr) {
      observer->on_connection_rejected(!done ? RejectReason::tls_handshake_timeout
                                             : RejectReason::tls_handshake_failed);
    }
    co_return false;
  }
  co_return connection.slot().try_activate();
}

// The task of a connection, RegisteredConnection (plain TCP) or TlsConnection.
template <class Connection>
runtime::Task<void> serve_over(Connection connection) {
  constexpr bool kTls = std::is_same_v<Connection, TlsConnection>;
  if constexpr (kTls) {
    const bool accepted = co_await accept_tls(connection);
    if (!accepted) co_return;
  }
  // No references to the connection's parts as locals: each would take a slot in this frame,
  // which is most of what an idle connection costs.
  ConnectionHistory history;
  for (;;) {
    // Bytes the TLS layer holds already are served without waiting for the socket (a plain
    // connection never has any: this is compiled out).
    if (!transport_of(connection).has_buffered_input()) {
      // Idle: this frame, the stream and its readiness wait are all the connection holds now. A
      // new connection has header_timeout to start its first request (as in nginx); between
      // requests it has keep_alive_timeout.
      connection.slot().enter_idle(
          coarse_now() + idle_timeout(connection.core().options, history.served), history.served);
      transport_of(connection).set_idle(true);
      // After enter_idle, both sequentially consistent: either this sees `closing`, or
      // shutdown's sweep sees this connection idle and closes it. A request already sent is
      // still answered, and so is a new connection's first request.
      if (connection.core().closing.load(std::memory_order_seq_cst)) {
        if (history.served && !has_pending_input(connection.stream().native_handle())) {
          co_await close_lingering(connection.stream(), transport_of(connection), false);
          co_return;
        }
        if (!history.served) connection.slot().enter_idle(coarse_now() + kLingerTime, false);
      }
      // On failure the read that would follow sees the error, so only success matters here.
      bool closing = false;
      if constexpr (kTls) {
        if (history.served) {
          const IdleWake wake =
              co_await readable_or_closing(connection.core(), connection.stream());
          if (wake == IdleWake::failed) co_return;
          closing = wake == IdleWake::closing;
        }
      }
      if (!kTls || !history.served) {
        const auto readable = co_await connection.stream().readable();
        if (!readable) co_return;
      }
      if (!connection.slot().try_activate()) {
        // Half-closed by the shutdown's sweep: the peer answers the FIN, or sent a request
        // before it arrived, which is dropped without a reset.
        if (connection.slot().lingering()) {
          co_await close_lingering(connection.stream(), transport_of(connection), true);
        }
        co_return;
      }
      // A TLS connection woken by the shutdown: closed like a plain one, unless a request has
      // come meanwhile (it is answered, with "Connection: close").
      if (closing && !has_pending_input(connection.stream().native_handle())) {
        co_await close_lingering(connection.stream(), transport_of(connection), false);
        co_return;
      }
      transport_of(connection).set_idle(false);
    }
    const bool go_on =
        co_await serve_requests(connection.core(), connection.stream(), transport_of(connection),
                                connection.slot().peer(), history);
    if (!go_on) co_return;
  }
}

}  // namespace

runtime::Task<void> serve_connection(RegisteredConnection connection) {
  return serve_over(std::move(connection));
}

runtime::Task<void> serve_tls_connection(RegisteredConnection connection) {
  TlsContext context = connection.core().current_tls();
  return serve_over(TlsConnection(std::move(connection), std::move(context)));
}

}  // namespace brigade::server::detail
