#include "line_queue.hpp"

#include <utility>

namespace brigade::app {

LineQueue::LineQueue(std::size_t capacity, std::size_t max_bytes)
    : slots_(capacity == 0 ? 1 : capacity), max_bytes_(max_bytes) {}

LineQueue::Pushed LineQueue::push(std::string&& line) {
  const std::size_t size = line.size();
  bool wake = false;
  {
    const std::lock_guard lock(mutex_);
    if (closed_ || size_ == slots_.size() || size > max_bytes_ - bytes_) return Pushed::dropped;
    const bool under_half = bytes_ <= max_bytes_ / 2;
    bytes_ += size;
    // The slot was emptied by a move in take(): assigning frees nothing.
    slots_[(head_ + size_) % slots_.size()] = std::move(line);
    ++size_;
    // Once per filling, not once per line.
    wake = size_ == (slots_.size() + 1) / 2 || (under_half && bytes_ > max_bytes_ / 2);
  }
  if (wake) wake_.notify_one();
  return Pushed::queued;
}

bool LineQueue::take(std::vector<std::string>& into, std::chrono::milliseconds interval) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, interval, [this] {
    return closed_ || size_ >= (slots_.size() + 1) / 2 || bytes_ > max_bytes_ / 2;
  });
  bytes_ = 0;
  for (; size_ > 0; --size_) {
    into.push_back(std::move(slots_[head_]));
    head_ = (head_ + 1) % slots_.size();
  }
  return !closed_ || !into.empty();
}

void LineQueue::close() {
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
  }
  wake_.notify_one();
}

}  // namespace brigade::app
