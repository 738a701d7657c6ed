// The server API key check, as Centrifugo's middleware applies it.
#include "server/api_routes.hpp"

#include <gtest/gtest.h>

namespace gyre::server {
namespace {

http_request with(std::vector<std::pair<std::string, std::string>> headers,
                  std::string query = {}) {
    http_request r;
    r.headers = std::move(headers);
    r.query = std::move(query);
    return r;
}

TEST(ApiKey, HeaderAuthorizationAndQuery) {
    EXPECT_TRUE(api_key_valid(with({{"X-API-Key", "k1"}}), "k1"));
    EXPECT_TRUE(api_key_valid(with({{"x-api-key", "k1"}}), "k1"));
    EXPECT_FALSE(api_key_valid(with({{"X-API-Key", "k2"}}), "k1"));
    EXPECT_TRUE(api_key_valid(with({{"Authorization", "apikey k1"}}), "k1"));
    EXPECT_TRUE(api_key_valid(with({{"Authorization", "APIKey k1"}}), "k1"));
    EXPECT_FALSE(api_key_valid(with({{"Authorization", "Bearer k1"}}), "k1"));
    EXPECT_FALSE(api_key_valid(with({{"Authorization", "apikey k1 extra"}}), "k1"));
    EXPECT_TRUE(api_key_valid(with({}, "api_key=k1"), "k1"));
    EXPECT_FALSE(api_key_valid(with({}, "api_key=k2"), "k1"));
    EXPECT_FALSE(api_key_valid(with({}), "k1"));
}

TEST(ApiKey, AWrongHeaderKeyStillFallsBackToTheQuery) {
    // Centrifugo checks the query parameter whenever header auth did not succeed.
    EXPECT_TRUE(api_key_valid(with({{"X-API-Key", "bad"}}, "api_key=k1"), "k1"));
    // Authorization is only consulted without X-API-Key.
    EXPECT_FALSE(api_key_valid(with({{"X-API-Key", "bad"}, {"Authorization", "apikey k1"}}), "k1"));
}

TEST(ApiKey, NoConfiguredKeyRefusesEverything) {
    EXPECT_FALSE(api_key_valid(with({{"X-API-Key", ""}}), ""));
    EXPECT_FALSE(api_key_valid(with({}, "api_key="), ""));
}

} // namespace
} // namespace gyre::server
