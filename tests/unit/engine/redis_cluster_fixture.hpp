// File: tests/unit/engine/redis_cluster_fixture.hpp
// Starts a real Redis Cluster (N masters, no replicas) in a temp dir for the cluster client
// tests: redis-server --cluster-enabled yes per node, `redis-cli --cluster create`, then a wait
// for cluster_state:ok on every node. Admin commands go through blocking hiredis, so they never
// touch the io_context under test. Processes are stopped by pid; the temp dir is removed.
#pragma once

#include "redis_server_fixture.hpp"

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace gyre::test {

/// A reply from a blocking admin command, flattened for assertions.
struct admin_reply {
    bool ok = false; ///< a reply arrived (it may still be a Redis error)
    bool error = false;
    std::string text; ///< status, error and bulk text
    long long integer = 0;
};

/// One command on a fresh blocking connection to 127.0.0.1:port (2 s timeouts).
inline admin_reply admin_command(std::uint16_t port, const std::vector<std::string>& args) {
    admin_reply out;
    timeval tv{2, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c == nullptr || c->err != 0) {
        out.text = c != nullptr ? c->errstr : "cannot allocate hiredis context";
        redisFree(c);
        return out;
    }
    redisSetTimeout(c, tv);
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data()));
    if (r == nullptr) {
        out.text = c->errstr;
    } else {
        out.ok = true;
        out.error = r->type == REDIS_REPLY_ERROR;
        if (r->str != nullptr) {
            out.text.assign(r->str, r->len);
        }
        out.integer = r->integer;
        freeReplyObject(r);
    }
    redisFree(c);
    return out;
}

/// Runs `argv` to completion (stdout/stderr to /dev/null), killing it after `timeout`.
inline bool run_tool(std::vector<std::string> args, std::chrono::milliseconds timeout) {
    const pid_t pid = spawn_quiet(args[0], args, /*quiet_stderr=*/true);
    if (pid == -1) {
        return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return false;
}

class redis_cluster {
public:
    redis_cluster() = default;
    redis_cluster(const redis_cluster&) = delete;
    redis_cluster& operator=(const redis_cluster&) = delete;

    ~redis_cluster() { stop(); }

    /// Starts `masters` nodes and forms the cluster; false (with `error()`) when anything fails
    /// or cluster_state:ok is not reached within the timeout.
    bool start(std::size_t masters = 3,
               bool require_full_coverage = true,
               std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
        auto server = find_on_path("redis-server");
        auto cli = find_on_path("redis-cli");
        if (!server || !cli) {
            error_ = "redis-server or redis-cli not on PATH";
            return false;
        }
        char pattern[] = "/tmp/gyre-cluster-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) {
            error_ = "mkdtemp failed";
            return false;
        }
        dir_ = pattern;
        std::vector<std::string> create{*cli, "--cluster", "create"};
        for (std::size_t i = 0; i < masters; ++i) {
            auto process = std::make_unique<redis_process>();
            const auto port = free_loopback_port();
            // Own bus port: the default port+10000 may be taken or above 65535.
            auto bus_port = free_loopback_port();
            while (bus_port == port) {
                bus_port = free_loopback_port();
            }
            const bool started = process->start(*server,
                                                port,
                                                {"--dir",
                                                 dir_,
                                                 "--cluster-enabled",
                                                 "yes",
                                                 "--cluster-config-file",
                                                 dir_ + "/nodes-" + std::to_string(port) + ".conf",
                                                 "--cluster-port",
                                                 std::to_string(bus_port),
                                                 "--cluster-node-timeout",
                                                 "2000",
                                                 "--cluster-require-full-coverage",
                                                 require_full_coverage ? "yes" : "no"});
            if (!started) {
                error_ = "redis-server did not start on port " + std::to_string(port);
                return false;
            }
            ports_.push_back(port);
            nodes_.push_back(std::move(process));
            create.push_back("127.0.0.1:" + std::to_string(port));
        }
        create.insert(create.end(), {"--cluster-replicas", "0", "--cluster-yes"});
        if (!run_tool(create, timeout)) {
            error_ = "redis-cli --cluster create failed or timed out";
            return false;
        }
        if (!wait_for_state_ok(timeout)) {
            error_ = "cluster_state:ok not reached";
            return false;
        }
        return true;
    }

    /// Every live node reports cluster_state:ok and sees all masters.
    bool wait_for_state_ok(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            bool all = true;
            for (std::size_t i = 0; i < ports_.size() && all; ++i) {
                if (!alive(i)) {
                    continue;
                }
                auto info = admin_command(ports_[i], {"CLUSTER", "INFO"});
                all = info.ok && info.text.find("cluster_state:ok") != std::string::npos &&
                      info.text.find("cluster_known_nodes:" + std::to_string(ports_.size())) !=
                          std::string::npos;
            }
            if (all) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }

    /// SIGKILL one node, as a crash would.
    void kill_node(std::size_t index) {
        nodes_.at(index)->kill_now();
        killed_.resize(ports_.size(), false);
        killed_[index] = true;
    }

    bool alive(std::size_t index) const { return killed_.size() <= index || !killed_[index]; }

    void stop() {
        nodes_.clear(); // each redis_process stops its pid
        if (!dir_.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(dir_, ignored);
            dir_.clear();
        }
    }

    const std::vector<std::uint16_t>& ports() const noexcept { return ports_; }

    const std::string& error() const noexcept { return error_; }

    std::string node_id(std::size_t index) const {
        return admin_command(ports_.at(index), {"CLUSTER", "MYID"}).text;
    }

    /// Index of the node owning `slot`, as a live node's CLUSTER NODES says.
    std::optional<std::size_t> owner_index(std::uint16_t slot) const {
        auto owners = owner_map();
        return owners[slot] >= 0 ? std::optional<std::size_t>(owners[slot]) : std::nullopt;
    }

    /// slot -> node index from one live node's CLUSTER NODES; -1 when unassigned.
    std::vector<int> owner_map() const {
        std::vector<int> owners(16384, -1);
        for (std::size_t j = 0; j < ports_.size(); ++j) {
            if (!alive(j)) {
                continue;
            }
            auto nodes = admin_command(ports_[j], {"CLUSTER", "NODES"});
            if (!nodes.ok || nodes.error) {
                continue;
            }
            std::istringstream lines(nodes.text);
            std::string line;
            while (std::getline(lines, line)) {
                // <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>...
                std::istringstream fields(line);
                std::vector<std::string> f;
                for (std::string token; fields >> token;) {
                    f.push_back(token);
                }
                if (f.size() < 8) {
                    continue;
                }
                const auto colon = f[1].rfind(':');
                const auto port = std::atoi(f[1].c_str() + colon + 1); // atoi stops at '@'
                int index = -1;
                for (std::size_t i = 0; i < ports_.size(); ++i) {
                    index = ports_[i] == port ? static_cast<int>(i) : index;
                }
                for (std::size_t k = 8; k < f.size() && index >= 0; ++k) {
                    if (f[k][0] == '[') {
                        continue; // migration marker
                    }
                    const auto dash = f[k].find('-');
                    const int first = std::atoi(f[k].c_str());
                    const int last =
                        dash == std::string::npos ? first : std::atoi(f[k].c_str() + dash + 1);
                    for (int s = first; s <= last && s < 16384; ++s) {
                        owners[static_cast<std::size_t>(s)] = index;
                    }
                }
            }
            break; // one live node's view is enough
        }
        return owners;
    }

private:
    std::string dir_;
    std::string error_;
    std::vector<std::unique_ptr<redis_process>> nodes_;
    std::vector<std::uint16_t> ports_;
    std::vector<bool> killed_;
};

} // namespace gyre::test
