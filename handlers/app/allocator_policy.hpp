#pragma once

namespace brigade::app {

// glibc malloc's policy for large blocks, set once before serving. By default glibc serves a block
// of 128 KiB or more with its own mmap, but raises that threshold to the size of every such block
// freed (up to 32 MiB), and the trim threshold with it: after the first large request body has
// come and gone, bodies up to its size are carved from the heaps instead, and what they leave
// free in the middle of a heap stays resident. A server whose body sizes vary ratchets up that
// way for hours. Fixing the threshold at glibc's own default keeps every large body in a mapping
// of its own, returned to the system when it is freed. An operator's MALLOC_MMAP_THRESHOLD_ or
// GLIBC_TUNABLES setting is left as it is.
void set_allocator_policy() noexcept;

}  // namespace brigade::app
