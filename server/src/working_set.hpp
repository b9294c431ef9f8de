#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "request_parser.hpp"

namespace brigade::server::detail {

// What a connection needs only while it works on requests: the read buffer, the output buffer
// and the parser. A connection idle between requests holds none of it (that is what keeps an
// idle connection at a few hundred bytes); a busy one leases a set from its thread's pool, so a
// request cycle allocates none of it either.
struct WorkingSet {
  static constexpr std::size_t kReadBufferSize = 16 * 1024;

  WorkingSet();

  std::span<std::byte> read_buffer() const noexcept {
    return {read_buffer_.get(), kReadBufferSize};
  }

  std::string out;                      // responses waiting to be written, in order
  std::optional<RequestParser> parser;  // emplaced by the lease holder, reset on return

 private:
  std::unique_ptr<std::byte[]> read_buffer_;
};

// A WorkingSet taken from the calling thread's pool (or made), given back on destruction to the
// pool of the thread it ends on (a task may move between workers). Each pool keeps a few sets;
// more are freed, and so is an output buffer a large response grew.
class WorkingSetLease {
 public:
  WorkingSetLease();
  WorkingSetLease(const WorkingSetLease&) = delete;
  WorkingSetLease& operator=(const WorkingSetLease&) = delete;
  ~WorkingSetLease();

  WorkingSet& operator*() const noexcept { return *set_; }
  WorkingSet* operator->() const noexcept { return set_.get(); }

 private:
  std::unique_ptr<WorkingSet> set_;
};

}  // namespace brigade::server::detail
