// Boost.JSON, header-only: its implementation compiled once for the binary (the console parses
// the server's JSON snapshots with it).
#include <boost/json/src.hpp>
