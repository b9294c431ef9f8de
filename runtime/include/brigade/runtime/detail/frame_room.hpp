#pragma once

#include <cstddef>

#include "brigade/runtime/detail/frame_allocator.hpp"

namespace brigade::runtime::detail {

// Memory set aside behind a task cell for the root coroutine frame of the task that
// spawn(fn, args...) is creating, so that the cell and the frame are one allocation.
//
// spawn points `pending_frame_room` at it just before it invokes `fn`: the first Task frame
// allocated on this thread takes the room (if it fits) and clears the pointer, whether it fits or
// not, so no later frame can take it. spawn then checks that the frame in the room is the one
// `fn` returned.
struct FrameRoom {
  void* memory = nullptr;
  std::size_t capacity = 0;
  std::size_t requested = 0;  // the size of the frame that came for the room, 0 if none came
  bool served = false;
};

inline constinit thread_local FrameRoom* pending_frame_room = nullptr;

// A frame that lives inside a task cell's allocation is destroyed by the cell, which frees the
// whole block later: for the duration of that destroy() this names the frame, and freeing it is
// skipped.
inline constinit thread_local void* frame_kept_by_cell = nullptr;

inline void* allocate_task_frame(std::size_t size) {
  if (FrameRoom* room = pending_frame_room) [[unlikely]] {
    pending_frame_room = nullptr;
    room->requested = size;
    if (size <= room->capacity) {
      room->served = true;
      return room->memory;
    }
  }
  return allocate_frame(size);
}

inline void deallocate_task_frame(void* frame, std::size_t size) noexcept {
  if (frame == frame_kept_by_cell) [[unlikely]] return;
  deallocate_frame(frame, size);
}

}  // namespace brigade::runtime::detail
