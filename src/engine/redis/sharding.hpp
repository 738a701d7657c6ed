// File: engine/redis/sharding.hpp
// Which of several independent Redis instances owns a channel: FNV-1a (64 bit) of the channel
// name fed to Jump Consistent Hash (Lamping & Veach, 2014), as Centrifugo maps channels, so
// Gyre and Centrifugo nodes given the same address list agree, and adding an instance moves
// only ~1/(n+1) of the channels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gyre::engine::redis {

constexpr std::size_t consistent_index(std::string_view key, std::size_t buckets) noexcept {
    std::uint64_t h = 14695981039346656037ULL; // FNV-1a offset basis
    for (const char c : key) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL; // FNV prime
    }
    std::int64_t b = -1;
    std::int64_t j = 0;
    while (j < static_cast<std::int64_t>(buckets)) {
        b = j;
        h = h * 2862933555777941757ULL + 1;
        j = static_cast<std::int64_t>(
            static_cast<double>(b + 1) *
            (static_cast<double>(std::int64_t{1} << 31) / static_cast<double>((h >> 33) + 1)));
    }
    return static_cast<std::size_t>(b < 0 ? 0 : b);
}

} // namespace gyre::engine::redis
