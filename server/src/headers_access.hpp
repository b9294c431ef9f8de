#pragma once

#include "brigade/server/http.hpp"

namespace brigade::server::detail {

// What the response writer may know of a Headers field beyond its name and value.
struct HeadersAccess {
  // The field was added as well-formed (Response's factories add their constant Content-Type
  // so): a token for a name, a valid value, and not a field the writer sets itself. The writer
  // sends it without looking at its bytes.
  static bool is_well_formed(Headers::Iterator field) noexcept;
};

}  // namespace brigade::server::detail
