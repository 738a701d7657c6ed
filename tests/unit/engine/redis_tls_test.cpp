// File: tests/unit/engine/redis_tls_test.cpp
// The Redis client over TLS against a real redis-server with --tls-port, using a CA and server
// certificate made by the openssl CLI for each test run.
#include "engine/redis/connection.hpp"
#include "engine/redis/subscriber.hpp"
#include "redis_server_fixture.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace gyre::engine::redis;
using namespace std::chrono_literals;
using gyre::test::run_until;
using gyre::test::shell;

class RedisTls : public ::testing::Test, protected gyre::test::redis_links {
protected:
    void SetUp() override {
        auto binary = gyre::test::find_on_path("redis-server");
        if (!binary || !gyre::test::find_on_path("openssl")) {
            GTEST_SKIP() << "redis-server or openssl not on PATH";
        }
        binary_ = *binary;
        ASSERT_TRUE(dir_.ok());
        make_ca("ca");
        make_ca("other-ca");
        make_cert("server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost");
        make_cert("client", "ca", "extendedKeyUsage=clientAuth");
    }

    void TearDown() override {
        stop_links();
        server_.stop();
    }

    void make_ca(const std::string& name) {
        ASSERT_TRUE(shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                          "-nodes -days 2 -subj /CN=gyre-test-" +
                          name + " -keyout " + dir_.file(name + ".key") + " -out " +
                          dir_.file(name + ".crt")))
            << "openssl could not make " << name;
    }

    void make_cert(const std::string& name, const std::string& ca, const std::string& ext) {
        dir_.write(name + ".ext", ext + "\n");
        ASSERT_TRUE(shell("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                          "-subj /CN=" +
                          name + " -keyout " + dir_.file(name + ".key") + " -out " +
                          dir_.file(name + ".csr")));
        ASSERT_TRUE(shell("openssl x509 -req -days 2 -in " + dir_.file(name + ".csr") + " -CA " +
                          dir_.file(ca + ".crt") + " -CAkey " + dir_.file(ca + ".key") +
                          " -CAcreateserial -extfile " + dir_.file(name + ".ext") + " -out " +
                          dir_.file(name + ".crt")))
            << "openssl could not sign " << name;
    }

    void start_server(bool require_client_cert = false) {
        port_ = gyre::test::free_loopback_port();
        ASSERT_TRUE(server_.start(binary_,
                                  port_,
                                  {"--tls-cert-file",
                                   dir_.file("server.crt"),
                                   "--tls-key-file",
                                   dir_.file("server.key"),
                                   "--tls-ca-cert-file",
                                   dir_.file("ca.crt"),
                                   "--tls-auth-clients",
                                   require_client_cert ? "yes" : "no"},
                                  {.config_file = {}, .tls = true}))
            << "redis-server with TLS did not start";
    }

    address tls_address(const std::string& ca_file) {
        auto parsed = parse_address("rediss://127.0.0.1:" + std::to_string(port_));
        auto a = std::get<address>(parsed);
        a.connect_timeout = 2s;
        a.tls.server_ca_pem = ca_file;
        return a;
    }

    /// Waits for the first failure of a link that must not connect; returns its last_error().
    std::string first_failure(gyre::engine::redis::link& l) {
        EXPECT_TRUE(run_until(
            context_, [&] { return !l.last_error().empty(); }, 5s));
        EXPECT_EQ(l.connect_count(), 0u);
        return l.last_error();
    }

    std::string binary_;
    gyre::test::temp_dir dir_;
    std::uint16_t port_ = 0;
    gyre::test::redis_process server_;
};

TEST_F(RedisTls, CommandsAndPubSubOverTls) {
    start_server();
    auto c = track(connection::create(context_, tls_address(dir_.file("ca.crt"))));
    auto set = run_command(*c, {"SET", "tls-key", "over-tls"});
    ASSERT_TRUE(set.ok()) << set.failure;
    auto get = run_command(*c, {"GET", "tls-key"});
    ASSERT_TRUE(get.ok()) << get.failure;
    EXPECT_EQ(get.value.text, "over-tls");

    auto sub = track(subscriber::create(context_, tls_address(dir_.file("ca.crt"))));
    std::vector<std::string> messages;
    sub->on_message([&](std::string_view, std::string_view data) { messages.emplace_back(data); });
    ASSERT_TRUE(run_until(
        context_, [&] { return sub->state() == link_state::connected; }, 5s))
        << sub->last_error();
    std::optional<bool> subscribed;
    sub->subscribe("tls-news", [&](bool ok) { subscribed = ok; });
    ASSERT_TRUE(run_until(
        context_, [&] { return subscribed.has_value(); }, 5s));
    ASSERT_TRUE(*subscribed);
    // A large message crosses several TLS records.
    const std::string big(200 * 1024, 'x');
    for (const auto& payload : {std::string("hello"), big}) {
        auto published = run_command(*c, {"PUBLISH", "tls-news", payload});
        ASSERT_TRUE(published.ok()) << published.failure;
        EXPECT_EQ(published.value.integer, 1);
    }
    ASSERT_TRUE(run_until(
        context_, [&] { return messages.size() == 2; }, 5s));
    EXPECT_EQ(messages[0], "hello");
    EXPECT_EQ(messages[1], big);
}

TEST_F(RedisTls, CaGivenAsPemTextOrBase64AndServerNameChecked) {
    start_server();
    const std::string pem = dir_.read("ca.crt");
    ASSERT_NE(pem.find("BEGIN CERTIFICATE"), std::string::npos);
    ASSERT_TRUE(
        shell("openssl base64 -A -in " + dir_.file("ca.crt") + " -out " + dir_.file("ca.b64")));
    const std::string base64 = dir_.read("ca.b64");

    for (const auto& ca : {pem, base64}) {
        auto a = tls_address(ca);
        a.tls.server_name = "localhost"; // a DNS name in the certificate, also sent as SNI
        auto c = track(connection::create(context_, a));
        auto ping = run_command(*c, {"PING"});
        EXPECT_TRUE(ping.ok()) << ping.failure;
        EXPECT_EQ(ping.value.text, "PONG");
    }

    auto a = tls_address(pem);
    a.tls.server_name = "not-in-the-certificate.example";
    auto wrong_name = track(connection::create(context_, a));
    auto error = first_failure(*wrong_name);
    EXPECT_NE(error.find("TLS handshake failed"), std::string::npos) << error;
    EXPECT_NE(error.find("hostname mismatch"), std::string::npos) << error;
}

TEST_F(RedisTls, WrongCaFailsWithAClearErrorUnlessVerificationIsOff) {
    start_server();
    auto c = track(connection::create(context_, tls_address(dir_.file("other-ca.crt"))));
    auto error = first_failure(*c);
    EXPECT_NE(error.find("127.0.0.1:" + std::to_string(port_)), std::string::npos) << error;
    EXPECT_NE(error.find("TLS handshake failed: certificate verify failed"), std::string::npos)
        << error;
    auto failed = run_command(*c, {"PING"});
    EXPECT_FALSE(failed.ok());

    auto a = tls_address(dir_.file("other-ca.crt"));
    a.tls.insecure_skip_verify = true;
    auto insecure = track(connection::create(context_, a));
    auto ping = run_command(*insecure, {"PING"});
    EXPECT_TRUE(ping.ok()) << ping.failure;

    auto bad = tls_address(dir_.file("no-such-ca.crt"));
    auto unreadable = track(connection::create(context_, bad));
    error = first_failure(*unreadable);
    EXPECT_NE(error.find("TLS setup failed: server_ca_pem"), std::string::npos) << error;
}

TEST_F(RedisTls, ClientCertificateForMutualTls) {
    start_server(/*require_client_cert=*/true);
    auto without = track(connection::create(context_, tls_address(dir_.file("ca.crt"))));
    auto refused = run_command(*without, {"PING"});
    EXPECT_FALSE(refused.ok()) << "the server requires a client certificate";

    auto a = tls_address(dir_.file("ca.crt"));
    a.tls.cert_pem = dir_.file("client.crt");
    a.tls.key_pem = dir_.file("client.key");
    auto with = track(connection::create(context_, a));
    auto ping = run_command(*with, {"PING"});
    EXPECT_TRUE(ping.ok()) << ping.failure;
}

} // namespace
