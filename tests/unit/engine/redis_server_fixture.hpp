// File: tests/unit/engine/redis_server_fixture.hpp
// Starts real redis-server processes on free loopback ports for the Redis client tests, and
// runs an io_context until a condition holds or a deadline passes. Processes are stopped by pid.
#pragma once

#include "engine/redis/connection.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace gyre::test {

inline std::optional<std::string> find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        auto end = dirs.find(':', start);
        auto dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
        auto candidate = (dir.empty() ? "." : dir) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        if (end == std::string::npos) {
            break;
        }
        start = end + 1;
    }
    return std::nullopt;
}

/// 127.0.0.1:port as a socket address (port 0: let bind() pick one).
inline sockaddr_in loopback_address(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
}

inline std::uint16_t free_loopback_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback_address(0);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

/// True once something answers a RESP PING on the port (any reply, even -NOAUTH).
inline bool redis_answers(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback_address(port);
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        timeval tv{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        const char ping[] = "*1\r\n$4\r\nPING\r\n";
        char buf[64];
        ok = ::write(fd, ping, sizeof ping - 1) == sizeof ping - 1 &&
             ::read(fd, buf, sizeof buf) > 0;
    }
    ::close(fd);
    return ok;
}

/// True once something accepts a TCP connection on the port (a TLS listener gives no PING reply).
inline bool tcp_accepts(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback_address(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

/// posix_spawn()s `binary` with `args` (args[0] included) and stdout, plus stderr when
/// `quiet_stderr`, sent to /dev/null; the child's pid, or -1 when it could not be spawned.
inline pid_t
spawn_quiet(const std::string& binary, std::vector<std::string> args, bool quiet_stderr) {
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    if (quiet_stderr) {
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0 ? pid : -1;
}

struct redis_start_options {
    std::string config_file; ///< passed first (Sentinel needs a file it can rewrite)
    bool tls = false;        ///< `port` is the TLS port; the plain port is off
};

class redis_process {
public:
    redis_process() = default;
    redis_process(const redis_process&) = delete;
    redis_process& operator=(const redis_process&) = delete;

    ~redis_process() { stop(); }

    /// Starts redis-server on `port` and waits (at most 10 s) until it answers.
    bool start(const std::string& binary,
               std::uint16_t port,
               std::vector<std::string> extra = {},
               const redis_start_options& options = {}) {
        port_ = port;
        std::vector<std::string> args{binary};
        if (!options.config_file.empty()) {
            args.push_back(options.config_file);
        }
        args.insert(args.end(), {"--port", options.tls ? "0" : std::to_string(port)});
        if (options.tls) {
            args.insert(args.end(), {"--tls-port", std::to_string(port)});
        }
        args.insert(args.end(),
                    {"--bind",
                     "127.0.0.1",
                     "--save",
                     "",
                     "--appendonly",
                     "no",
                     "--daemonize",
                     "no",
                     "--loglevel",
                     "warning"});
        args.insert(args.end(), extra.begin(), extra.end());
        pid_ = spawn_quiet(binary, std::move(args), /*quiet_stderr=*/false);
        if (pid_ == -1) {
            return false;
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            if (options.tls ? tcp_accepts(port) : redis_answers(port)) {
                return true;
            }
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1; // exited early, e.g. port taken
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        stop();
        return false;
    }

    /// SIGKILL, as a crash would: no goodbye to clients.
    void kill_now() { signal_and_reap(SIGKILL, std::chrono::seconds(5)); }

    void stop() {
        if (!signal_and_reap(SIGTERM, std::chrono::seconds(5))) {
            kill_now();
        }
    }

    std::uint16_t port() const noexcept { return port_; }

private:
    bool signal_and_reap(int sig, std::chrono::seconds timeout) {
        if (pid_ <= 0) {
            return true;
        }
        ::kill(pid_, sig);
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

/// A fresh directory under $TMPDIR, removed with everything in it.
class temp_dir {
public:
    temp_dir() {
        auto pattern = (std::filesystem::temp_directory_path() / "gyre-redis-XXXXXX").string();
        if (::mkdtemp(pattern.data()) != nullptr) {
            path_ = pattern;
        }
    }

    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    ~temp_dir() {
        std::error_code ignored;
        if (!path_.empty()) {
            std::filesystem::remove_all(path_, ignored);
        }
    }

    bool ok() const noexcept { return !path_.empty(); }

    std::string file(const std::string& name) const { return (path_ / name).string(); }

    void write(const std::string& name, const std::string& content) const {
        std::ofstream(file(name)) << content;
    }

    std::string read(const std::string& name) const {
        std::ifstream in(file(name));
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

private:
    std::filesystem::path path_;
};

/// Runs a shell command (paths come from temp_dir, so no quoting issues); true on exit 0.
inline bool shell(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

/// Runs `context` until `done()` or the timeout; returns done().
inline bool run_until(boost::asio::io_context& context,
                      const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        context.restart();
        if (context.run_for(std::chrono::milliseconds(10)) == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    return true;
}

/// The io_context, link bookkeeping and one-command helper that the Redis client, Sentinel,
/// TLS and cluster fixtures all need; kept here once instead of copied into each fixture.
/// Fixtures inherit it next to ::testing::Test and call stop_links() from TearDown().
class redis_links {
protected:
    /// Starts `l` and keeps it, so stop_links() stops it when the test ends.
    template <typename Link>
    std::shared_ptr<Link> track(std::shared_ptr<Link> l) {
        links_.push_back(l);
        l->start();
        return l;
    }

    /// Runs one command to completion (at most 5 s).
    engine::redis::command_result run_command(engine::redis::connection& c,
                                              std::vector<std::string> args) {
        std::optional<engine::redis::command_result> result;
        c.command(std::move(args), [&](engine::redis::command_result r) { result = std::move(r); });
        EXPECT_TRUE(run_until(
            context_, [&] { return result.has_value(); }, std::chrono::seconds(5)));
        return result.value_or(
            engine::redis::command_result{engine::redis::reply::make_nil(), "test: timed out"});
    }

    void stop_links() {
        for (auto& l : links_) {
            l->stop();
        }
    }

    boost::asio::io_context context_{1};
    std::vector<std::shared_ptr<engine::redis::link>> links_;
};

} // namespace gyre::test
