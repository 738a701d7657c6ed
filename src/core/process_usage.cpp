#include "core/process_usage.hpp"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace gyre {

namespace {

/// Seconds since boot when this process started, from field 22 of /proc/self/stat, and the
/// CPU fields 14 and 15 (in clock ticks).
struct stat_fields {
    double utime_ticks = 0;
    double stime_ticks = 0;
    double start_ticks = 0;
    double vsize = 0;
};

stat_fields read_stat() {
    stat_fields f;
    std::ifstream in("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The command name (field 2) may hold spaces; fields are counted after its closing ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos) {
        return f;
    }
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    for (int index = 3; rest >> field; ++index) {
        if (index == 14) {
            f.utime_ticks = std::stod(field);
        } else if (index == 15) {
            f.stime_ticks = std::stod(field);
        } else if (index == 22) {
            f.start_ticks = std::stod(field);
        } else if (index == 23) {
            f.vsize = std::stod(field);
            break;
        }
    }
    return f;
}

double boot_time_unix() {
    std::ifstream in("/proc/stat");
    std::string key;
    double value = 0;
    while (in >> key) {
        if (key == "btime") {
            in >> value;
            return value;
        }
        in.ignore(1 << 16, '\n');
    }
    return 0;
}

} // namespace

process_usage read_process_usage(bool count_fds) {
    process_usage u;
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    try {
        const auto f = read_stat();
        u.cpu_seconds = (f.utime_ticks + f.stime_ticks) / ticks;
        u.virtual_bytes = static_cast<std::uint64_t>(f.vsize);
        u.start_time_unix = boot_time_unix() + f.start_ticks / ticks;
    } catch (const std::exception&) {
        // A /proc we cannot parse leaves the fields at zero rather than failing a request.
    }
    std::ifstream statm("/proc/self/statm");
    std::uint64_t pages_total = 0;
    std::uint64_t pages_resident = 0;
    if (statm >> pages_total >> pages_resident) {
        u.rss_bytes = pages_resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    }
    if (count_fds) {
        std::error_code ec;
        for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
             !ec && it != std::filesystem::directory_iterator();
             it.increment(ec)) {
            ++u.open_fds;
        }
    }
    return u;
}

process_usage process_sampler::sample(bool count_fds) {
    auto u = read_process_usage(count_fds);
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    if (last_at_ != std::chrono::steady_clock::time_point{} &&
        now - last_at_ < std::chrono::seconds(1)) {
        u.cpu_percent = last_percent_; // too short a window to say anything new
        return u;
    }
    double wall = 0;
    double used = u.cpu_seconds - last_cpu_seconds_;
    if (last_at_ == std::chrono::steady_clock::time_point{}) {
        wall = static_cast<double>(std::time(nullptr)) - u.start_time_unix;
        used = u.cpu_seconds;
    } else {
        wall = std::chrono::duration<double>(now - last_at_).count();
    }
    u.cpu_percent = wall > 0 ? 100.0 * used / wall : 0;
    last_percent_ = u.cpu_percent;
    last_cpu_seconds_ = u.cpu_seconds;
    last_at_ = now;
    return u;
}

} // namespace gyre
