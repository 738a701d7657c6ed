#include "app/cli.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace gyre::app {
namespace {

struct cli_result {
    int code;
    std::string out;
};

cli_result run(std::vector<std::string> args) {
    args.insert(args.begin(), "gyre");
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    testing::internal::CaptureStdout();
    const int code = run_cli(static_cast<int>(argv.size()), argv.data());
    return {code, testing::internal::GetCapturedStdout()};
}

class cli : public testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("gyre_cli_" + std::to_string(::getpid()) + "_" +
                testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }

    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    std::filesystem::path dir_;
};

TEST_F(cli, version) {
    const auto r = run({"version"});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out.rfind("Gyre v", 0), 0U);
}

TEST_F(cli, genconfig_gentoken_checktoken_round_trip) {
    const auto file = path("config.json");
    EXPECT_EQ(run({"genconfig", "-c", file}).code, 0);
    EXPECT_EQ(run({"genconfig", "-c", file}).code, 1);
    const auto token = run({"gentoken", "-c", file, "-u", "alice", "-q"});
    ASSERT_EQ(token.code, 0);
    EXPECT_EQ(token.out.find('\n'), std::string::npos);
    const auto check = run({"checktoken", "-c", file, token.out});
    EXPECT_EQ(check.code, 0);
    EXPECT_EQ(check.out.rfind("valid token for user alice\npayload: {", 0), 0U) << check.out;
    const auto bad = run({"checktoken", "-c", file, token.out + "x"});
    EXPECT_EQ(bad.code, 1);
    EXPECT_EQ(bad.out.rfind("error: ", 0), 0U);
}

TEST_F(cli, gentoken_without_secret_fails) {
    const auto file = path("empty.json");
    std::ofstream(file) << "{}";
    const auto r = run({"gentoken", "-c", file, "-u", "x"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("hmac_secret_key"), std::string::npos);
}

TEST_F(cli, checkconfig_reports_errors_and_strict_unknown_keys) {
    const auto bad = path("bad.json");
    std::ofstream(bad) << R"({"http_server":{"port":"x"}})";
    auto r = run({"checkconfig", "-c", bad});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("http_server.port"), std::string::npos);
    const auto unknown = path("unknown.json");
    std::ofstream(unknown) << R"({"weird":1})";
    EXPECT_EQ(run({"checkconfig", "-c", unknown}).code, 0);
    r = run({"checkconfig", "--strict", "-c", unknown});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("unknown keys in config: weird"), std::string::npos);
    EXPECT_EQ(run({"checkconfig", "-c", path("missing.json")}).code, 1);
}

TEST_F(cli, defaultconfig_prints_and_writes_by_extension) {
    const auto printed = run({"defaultconfig"});
    ASSERT_EQ(printed.code, 0);
    const auto tree = boost::json::parse(printed.out).as_object();
    EXPECT_EQ(tree.at("http_server").at("port"), 8000);
    const auto yaml = path("d.yaml");
    EXPECT_EQ(run({"defaultconfig", "-c", yaml}).code, 0);
    EXPECT_TRUE(std::filesystem::exists(yaml));
    EXPECT_EQ(run({"defaultconfig", "-c", yaml}).code, 1); // never overwrites
    EXPECT_EQ(run({"checkconfig", "-c", yaml}).code, 0);
}

TEST_F(cli, unknown_flag_is_an_error) {
    EXPECT_NE(run({"--no-such-flag"}).code, 0);
    EXPECT_NE(run({"gentoken", "--ttl", "soon"}).code, 0);
}

} // namespace
} // namespace gyre::app
