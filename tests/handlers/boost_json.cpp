// Boost.JSON, header-only: its implementation compiled once for the tests that parse JSON.
#include <boost/json/src.hpp>
