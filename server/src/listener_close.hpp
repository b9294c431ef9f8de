#pragma once

#include <cstddef>
#include <optional>

// What closing a listener without resetting anyone takes from the kernel.
//
// close() on a listener resets every connection it holds that was not accepted yet: those in
// its accept queue, and those whose handshake is still in flight (the client has its SYN-ACK,
// believes it is connected and may already be sending a request). The server first stops new
// handshakes, then accepts what completes, and closes only when nothing is in flight.
namespace brigade::server::detail {

// Attaches a socket filter to a listener that drops a client's opening SYN and lets every other
// segment through: no new handshake starts (the client retries and then finds the port closed:
// connection refused, nothing sent), while those under way complete and reach the accept queue.
bool refuse_new_handshakes(int listener) noexcept;

// How many handshakes to the listener's port are in flight (SYN received, final ACK not yet),
// asked of the kernel through sock_diag; nullopt if it cannot say.
std::optional<std::size_t> handshakes_in_progress(int listener) noexcept;

}  // namespace brigade::server::detail
