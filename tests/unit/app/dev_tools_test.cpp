#include "app/dev_tools.hpp"
#include "auth/token_verifier.hpp"
#include "config/load.hpp"
#include "config/schema.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace gyre::app {
namespace {

TEST(dev_tools, generated_config_is_valid_and_random) {
    const auto a = generated_config();
    const auto b = generated_config();
    EXPECT_NE(a, b);
    const auto cfg = config::bind_and_validate([&] {
        boost::json::object tree = config::default_tree();
        std::vector<std::string> warnings;
        config::merge_checked(tree, a, warnings);
        EXPECT_TRUE(warnings.empty());
        return tree;
    }());
    EXPECT_GE(cfg.client.token.hmac_secret_key.size(), 64U);
    EXPECT_GE(cfg.http_api.key.size(), 64U);
    EXPECT_GE(cfg.admin.password.size(), 16U);
    EXPECT_FALSE(cfg.admin.enabled);
}

TEST(dev_tools, token_verifies_with_the_configured_secret) {
    config::config cfg;
    cfg.client.token.hmac_secret_key = "dev-secret";
    const auto token = make_connection_token(cfg, "42", 3600, 1'700'000'000);
    const auth::token_verifier verifier(cfg.client.token);
    const auto ok = verifier.verify(token, 1'700'000'100);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->user, "42");
    const auto claims = boost::json::parse(ok->claims_json).as_object();
    EXPECT_EQ(claims.at("exp").as_int64(), 1'700'003'600);
    EXPECT_FALSE(verifier.verify(token, 1'700'003'601)); // expired
    config::config no_secret;
    EXPECT_THROW((void)make_connection_token(no_secret, "42", 10, 0), std::runtime_error);
}

TEST(dev_tools, banner_matches_centrifugo_wording) {
    EXPECT_EQ(token_banner("42", 604800),
              "HMAC SHA-256 JWT for user \"42\" with expiration TTL 168h0m0s:");
    EXPECT_EQ(token_banner("", -1), "HMAC SHA-256 JWT for anonymous user without expiration:");
}

TEST(dev_tools, random_secret_is_url_safe) {
    const auto s = random_secret(64);
    EXPECT_EQ(s.size(), 86U);
    EXPECT_EQ(s.find_first_of("+/="), std::string::npos);
}

} // namespace
} // namespace gyre::app
