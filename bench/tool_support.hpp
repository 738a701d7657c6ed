// File: bench/tool_support.hpp
// Small pieces shared by the load generators (http_load, ws_fanout): standard library and
// POSIX only, header-only, so each tool still builds from one source file in seconds.
#pragma once

#include <cerrno>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <system_error>
#include <unistd.h>

namespace gyre::bench {

inline std::string errno_text(int e = errno) {
    return std::error_code(e, std::system_category()).message();
}

/// `s` as a T (the whole string), or std::nullopt.
template <typename T>
std::optional<T> parse_number(std::string_view s) {
    T v{};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

/// "scheme://host[:port][/path]" split up; std::nullopt when the scheme differs or there is
/// no host. `port` is empty when the URL names none.
struct url_parts {
    std::string host;
    std::string port;
    std::string path;
};

inline std::optional<url_parts> split_url(std::string_view url, std::string_view scheme) {
    if (!url.starts_with(scheme)) {
        return std::nullopt;
    }
    url.remove_prefix(scheme.size());
    const auto slash = url.find('/');
    const std::string_view authority = url.substr(0, slash);
    url_parts out;
    out.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
        out.port = std::string(authority.substr(colon + 1));
    }
    if (out.host.empty()) {
        return std::nullopt;
    }
    return out;
}

/// utime + stime of a whole process (all threads) in seconds, from /proc/PID/stat.
inline std::optional<double> proc_cpu_seconds(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(f, line)) {
        return std::nullopt;
    }
    const auto paren = line.rfind(')'); // the command name may contain spaces
    if (paren == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream in(line.substr(paren + 1));
    std::string skip;
    for (int field = 3; field < 14; ++field) { // state .. cmajflt
        in >> skip;
    }
    unsigned long long user = 0;
    unsigned long long system = 0;
    if (!(in >> user >> system)) {
        return std::nullopt;
    }
    return static_cast<double>(user + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// This process's own CPU time (user + system), in seconds.
inline double self_cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const auto sec = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return sec(ru.ru_utime) + sec(ru.ru_stime);
}

} // namespace gyre::bench
