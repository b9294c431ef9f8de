#pragma once

#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>

// The system calls made for every request, without glibc's cancellation-point wrappers.
//
// In a process with more than one thread, glibc's recv, send, sendmsg and epoll_wait switch the
// calling thread to asynchronous cancellation and back around the call: two atomic
// compare-and-swaps each time (a recv on an empty socket took 165 ns through glibc and 138 ns
// through syscall(2) on this project's machine). The runtime never cancels threads, so its hot
// calls go straight to the kernel. Under ThreadSanitizer they keep glibc's names: its interceptors
// of these calls are where it learns the order that a socket or an epoll wait gives.
namespace brigade::runtime::detail::sys {

#if defined(__SANITIZE_THREAD__)

inline ssize_t recv(int fd, void* buffer, std::size_t size, int flags) noexcept {
  return ::recv(fd, buffer, size, flags);
}
inline ssize_t send(int fd, const void* data, std::size_t size, int flags) noexcept {
  return ::send(fd, data, size, flags);
}
inline ssize_t sendmsg(int fd, const msghdr* message, int flags) noexcept {
  return ::sendmsg(fd, message, flags);
}
inline int epoll_wait(int epoll, epoll_event* events, int capacity, int timeout_ms) noexcept {
  return ::epoll_wait(epoll, events, capacity, timeout_ms);
}

#else

inline ssize_t recv(int fd, void* buffer, std::size_t size, int flags) noexcept {
  return ::syscall(SYS_recvfrom, fd, buffer, size, flags, nullptr, nullptr);
}
inline ssize_t send(int fd, const void* data, std::size_t size, int flags) noexcept {
  return ::syscall(SYS_sendto, fd, data, size, flags, nullptr, 0);
}
inline ssize_t sendmsg(int fd, const msghdr* message, int flags) noexcept {
  return ::syscall(SYS_sendmsg, fd, message, flags);
}
// epoll_pwait with no signal mask is epoll_wait, and exists on every architecture.
inline int epoll_wait(int epoll, epoll_event* events, int capacity, int timeout_ms) noexcept {
  return static_cast<int>(
      ::syscall(SYS_epoll_pwait, epoll, events, capacity, timeout_ms, nullptr, _NSIG / 8));
}

#endif

}  // namespace brigade::runtime::detail::sys
