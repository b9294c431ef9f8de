#include "brigade/runtime/net/io_error.hpp"

namespace brigade::runtime::net {
namespace {

class NetErrorCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "brigade.net"; }
  std::string message(int) const override { return "unexpected end of stream"; }
};

}  // namespace

std::error_code unexpected_eof() noexcept {
  static const NetErrorCategory category;
  return {1, category};
}

std::error_code IoError::code() const noexcept {
  if (value_ == kEndOfStream) return unexpected_eof();
  return {value_, std::generic_category()};
}

}  // namespace brigade::runtime::net
