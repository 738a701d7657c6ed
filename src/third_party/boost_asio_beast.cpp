// Asio and Beast compiled once (separate compilation), so the TUs that use them stay quick.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
