#include "parker.hpp"

#include "driver.hpp"

namespace brigade::runtime::detail {

template class BasicParker<Driver>;

}  // namespace brigade::runtime::detail
