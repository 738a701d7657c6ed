#include "core/uuid.hpp"

#include <cstdint>
#include <cstdio>
#include <random>

namespace gyre {

std::string random_uuid() {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    const std::uint64_t hi = (gen() & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
    const std::uint64_t lo = (gen() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
    char buf[37];
    std::snprintf(buf,
                  sizeof(buf),
                  "%08x-%04x-%04x-%04x-%012llx",
                  static_cast<unsigned>(hi >> 32U),
                  static_cast<unsigned>((hi >> 16U) & 0xFFFFU),
                  static_cast<unsigned>(hi & 0xFFFFU),
                  static_cast<unsigned>(lo >> 48U),
                  static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
    return buf;
}

} // namespace gyre
