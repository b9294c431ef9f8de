#include "brigade/runtime/detail/misuse.hpp"

#include <cstdio>
#include <exception>

namespace brigade::runtime::detail {

void fail_misuse(const char* what) noexcept {
  std::fprintf(stderr, "brigade: %s\n", what);
  std::terminate();
}

}  // namespace brigade::runtime::detail
