// Debian's Boost 1.81 ships Boost.JSON header-only: its implementation is compiled here, once.
#include <boost/json/src.hpp>
