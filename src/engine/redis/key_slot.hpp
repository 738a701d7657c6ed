// File: engine/redis/key_slot.hpp
// Redis Cluster key → hash slot: CRC16 (XMODEM) of the key, or of its first non-empty `{…}`
// hash tag, modulo 16384. Channel keys wrap the channel in `{…}` so all of a channel's keys
// (stream, meta, presence, result cache) share one slot and one Lua script may touch them all.
#pragma once

#include <cstdint>
#include <string_view>

namespace gyre::engine::redis {

inline constexpr std::uint16_t cluster_slot_count = 16384;

/// CRC16/XMODEM (poly 0x1021, init 0, no reflection): the checksum Redis Cluster uses.
std::uint16_t crc16_xmodem(std::string_view data) noexcept;

/// The part of `key` that is hashed: the text between the first '{' and the next '}' when that
/// is non-empty, otherwise the whole key.
std::string_view hash_tag(std::string_view key) noexcept;

/// Slot in [0, 16384) that owns `key`, as CLUSTER KEYSLOT answers.
std::uint16_t key_slot(std::string_view key) noexcept;

} // namespace gyre::engine::redis
