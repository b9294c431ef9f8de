#pragma once

#include <cstdint>
#include <deque>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <unordered_map>
#include <utility>

#include "brigade/runtime/abort_handle.hpp"
#include "brigade/runtime/join_error.hpp"
#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/sync/notify.hpp"
#include "brigade/runtime/task.hpp"

namespace brigade::runtime {

// A set of spawned tasks whose outcomes are taken in the order they finish, like Tokio's
// JoinSet:
//
//   JoinSet<Page> pages;
//   for (const auto& url : urls) pages.spawn(fetch(url));
//   while (auto page = co_await pages.join_next()) use(std::move(*page));  // each an expected
//
// Destroying the set aborts the tasks still in it (as Tokio does); abort_all() does it earlier,
// and join_next() then reports them as cancelled. Owned by one task at a time (not thread-safe
// itself); the tasks in it run anywhere.
template <class T>
class JoinSet {
  // Which tasks have finished, in order; written by the tasks as they end.
  struct Finished {
    std::mutex mutex;
    std::deque<std::uint64_t> keys;  // guarded by mutex
    Notify notify;
  };

  // Lives in a spawned task's frame: reports the task finished when the frame goes, whether it
  // returned, threw or was aborted.
  class Reporter {
   public:
    Reporter(std::shared_ptr<Finished> finished, std::uint64_t key) noexcept
        : finished_(std::move(finished)), key_(key) {}
    Reporter(Reporter&& other) noexcept : finished_(std::move(other.finished_)), key_(other.key_) {}
    Reporter(const Reporter&) = delete;
    Reporter& operator=(const Reporter&) = delete;
    Reporter& operator=(Reporter&&) = delete;
    ~Reporter() {
      if (!finished_) return;
      {
        std::lock_guard lock(finished_->mutex);
        finished_->keys.push_back(key_);
      }
      finished_->notify.notify_one();
    }

   private:
    std::shared_ptr<Finished> finished_;
    std::uint64_t key_;
  };

 public:
  JoinSet() : finished_(std::make_shared<Finished>()) {}
  JoinSet(JoinSet&&) noexcept = default;
  JoinSet& operator=(JoinSet&& other) noexcept {
    abort_all();
    finished_ = std::move(other.finished_);
    handles_ = std::move(other.handles_);
    next_key_ = other.next_key_;
    return *this;
  }
  ~JoinSet() { abort_all(); }

  // Spawns `task` on the current runtime into the set.
  AbortHandle spawn(Task<T> task, std::source_location where = std::source_location::current()) {
    const std::uint64_t key = next_key_++;
    JoinHandle<T> handle =
        runtime::spawn(reporting(std::move(task), Reporter(finished_, key)), where);
    AbortHandle abort = handle.abort_handle();
    handles_.emplace(key, std::move(handle));
    return abort;
  }

  // The outcome of the next task to finish, or nullopt when the set is empty.
  Task<std::optional<std::expected<T, JoinError>>> join_next() {
    for (;;) {
      if (handles_.empty()) co_return std::nullopt;
      std::optional<std::uint64_t> key;
      {
        std::lock_guard lock(finished_->mutex);
        if (!finished_->keys.empty()) {
          key = finished_->keys.front();
          finished_->keys.pop_front();
        }
      }
      if (key) {
        auto entry = handles_.extract(*key);
        // Its frame is gone; the task completes right after, if it has not yet.
        co_return co_await entry.mapped();
      }
      // A task finishing after the check above leaves a permit: this does not miss it.
      co_await finished_->notify.notified();
    }
  }

  // Aborts every task in the set; they stay in it until join_next() reports them.
  void abort_all() noexcept {
    for (auto& [key, handle] : handles_) handle.abort();
  }

  std::size_t len() const noexcept { return handles_.size(); }
  bool is_empty() const noexcept { return handles_.empty(); }

 private:
  static Task<T> reporting(Task<T> task, Reporter) { co_return co_await std::move(task); }

  std::shared_ptr<Finished> finished_;
  std::unordered_map<std::uint64_t, JoinHandle<T>> handles_;
  std::uint64_t next_key_ = 0;
};

}  // namespace brigade::runtime
