#pragma once

namespace brigade::runtime::detail {

// A programming error the runtime cannot recover from (Tokio panics in the same places): prints
// "brigade: <what>" to stderr and terminates, rather than hang or go on undefined.
[[noreturn]] void fail_misuse(const char* what) noexcept;

}  // namespace brigade::runtime::detail
