#pragma once

#include <cstddef>

#include "brigade/runtime/detail/frame_allocator.hpp"

namespace brigade::runtime::detail {

// Memory set aside in front of a task cell for the root coroutine frame of the task that
// spawn(fn, args...) is creating, so that the frame and the cell are one allocation.
//
// spawn points `pending_frame_room` at it while it invokes `fn`: the first Task frame allocated
// on this thread in that time takes the room if it fits, and every frame is counted, so that
// spawn can tell whether the one frame made was the one `fn` returned.
struct FrameRoom {
  void* memory = nullptr;
  std::size_t capacity = 0;
  std::size_t frames = 0;     // frames allocated during the call
  void* first = nullptr;      // the first of them, and its size
  std::size_t requested = 0;
  bool served = false;  // the first is in the room
};

inline constinit thread_local FrameRoom* pending_frame_room = nullptr;

// A frame that lives inside a task cell's allocation is destroyed by the cell, which frees the
// whole block later: for the duration of that destroy() this names the frame, and freeing it is
// skipped.
inline constinit thread_local void* frame_kept_by_cell = nullptr;

inline void* allocate_task_frame(std::size_t size) {
  if (FrameRoom* room = pending_frame_room) [[unlikely]] {
    if (room->frames++ == 0) {
      room->requested = size;
      room->served = size <= room->capacity;
      room->first = room->served ? room->memory : allocate_frame(size);
      return room->first;
    }
  }
  return allocate_frame(size);
}

inline void deallocate_task_frame(void* frame, std::size_t size) noexcept {
  if (frame == frame_kept_by_cell) [[unlikely]] return;
  deallocate_frame(frame, size);
}

}  // namespace brigade::runtime::detail
