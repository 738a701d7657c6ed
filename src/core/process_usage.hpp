// File: core/process_usage.hpp
// This process's resident memory and CPU use, read from /proc/self, for the server API `info`
// (each node's `process` object), the admin UI and the process_* metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace gyre {

struct process_usage {
    double cpu_percent = 0;      ///< since the previous sample; 100 = one core busy
    double cpu_seconds = 0;      ///< user + system time since start
    std::uint64_t rss_bytes = 0; ///< resident set size now
    std::uint64_t virtual_bytes = 0;
    std::uint64_t open_fds = 0; ///< only when asked for (a walk over /proc/self/fd)
    double start_time_unix = 0; ///< when the process started (seconds since the epoch)
};

/// Samples the process; thread-safe. CPU percent covers the time since the previous sample
/// (since start-up for the first one); calls less than a second apart repeat the last rate.
class process_sampler {
public:
    process_usage sample(bool count_fds = false);

private:
    std::mutex mutex_;
    double last_cpu_seconds_ = 0;
    double last_percent_ = 0;
    std::chrono::steady_clock::time_point last_at_{};
};

/// User + system CPU seconds, resident and virtual bytes and, with `count_fds`, open
/// descriptors (a directory walk as long as the descriptor table: scrapes only, not the node's
/// periodic announcement); no rate.
process_usage read_process_usage(bool count_fds = false);

} // namespace gyre
