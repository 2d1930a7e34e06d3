// SPDX-License-Identifier: MIT
// Tests for detail/ws_handshake.hpp: accept key (RFC 6455 §4.2.2), key check, header token lists.
#include <aster/detail/ws_handshake.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace ws_handshake_test {

using namespace aster::detail;

std::string accepted_by(std::string_view key) {
    auto a = aster::detail::websocket_accept_key(key);
    return std::string(a.data(), a.size());
}

TEST_CASE("ws_handshake: accept key of the RFC 6455 §1.3 example", "[ws_handshake]") {
    CHECK(accepted_by("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("ws_handshake: accept key of other keys", "[ws_handshake]") {
    // Expected values computed independently (Python hashlib + base64).
    CHECK(accepted_by("x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
    CHECK(accepted_by("") == "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w=");
    // The key is hashed as sent, not decoded, so even a non-canonical key has an answer.
    CHECK(accepted_by("AQIDBAUGBwgJCgsMDQ4PEC==") == "OfS0wDaT5NoxF2gqm7Zj2YtetzM=");
}

TEST_CASE("ws_handshake: a key must be base64 of exactly 16 bytes", "[ws_handshake]") {
    CHECK(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
    CHECK(is_valid_websocket_key("x3JJHMbDL1EzLkh9GBhXDw=="));
    CHECK(is_valid_websocket_key("AAAAAAAAAAAAAAAAAAAAAA=="));

    CHECK_FALSE(is_valid_websocket_key(""));
    CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25j"));         // 15 bytes
    CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ"));       // padding dropped
    CHECK_FALSE(is_valid_websocket_key("AAAAAAAAAAAAAAAAAAAAAAAAAAA=")); // 20 bytes
    CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZR=="));     // non-canonical bits
    CHECK_FALSE(is_valid_websocket_key(" dGhlIHNhbXBsZSBub25jZQ="));     // space
    CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=\n"));
    CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZ-_=")); // base64url
    CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZmZm")); // 18 bytes, 24 chars
    CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZm8=")); // 17 bytes, 24 chars
    CHECK_FALSE(is_valid_websocket_key("the sample nonce"));         // raw 16 bytes
}

TEST_CASE("ws_handshake: random 16-byte nonces are valid keys", "[ws_handshake]") {
    std::mt19937 rng(6455);
    for (int i = 0; i < 200; ++i) {
        std::uint8_t nonce[16];
        for (auto& b : nonce) b = std::uint8_t(rng());
        std::string key = base64_encode(std::span<const std::uint8_t>(nonce));
        INFO(key);
        CHECK(is_valid_websocket_key(key));
    }
}

TEST_CASE("ws_handshake: header_has_token finds a token case-insensitively", "[ws_handshake]") {
    CHECK(header_has_token("keep-alive, Upgrade", "upgrade"));
    CHECK(header_has_token("Upgrade", "upgrade"));
    CHECK(header_has_token("UPGRADE", "Upgrade"));
    CHECK(header_has_token("keep-alive,upgrade", "upgrade"));
    CHECK(header_has_token("upgrade,keep-alive", "upgrade"));
    CHECK(header_has_token("  upgrade\t, ", "upgrade"));
    CHECK(header_has_token(",,Upgrade,,", "upgrade"));
    CHECK(header_has_token("WebSocket", "websocket"));
    CHECK(header_has_token("keep-alive, Upgrade", "KEEP-ALIVE"));
}

TEST_CASE("ws_handshake: header_has_token matches whole items only", "[ws_handshake]") {
    CHECK_FALSE(header_has_token("", "upgrade"));
    CHECK_FALSE(header_has_token("keep-alive", "upgrade"));
    CHECK_FALSE(header_has_token("upgrade2", "upgrade"));
    CHECK_FALSE(header_has_token("Upgrades, close", "upgrade"));
    CHECK_FALSE(header_has_token("x-upgrade", "upgrade"));
    CHECK_FALSE(header_has_token("up grade", "upgrade"));
    CHECK_FALSE(header_has_token("upgrade", "upgrad"));
    CHECK_FALSE(header_has_token("keep-alive; upgrade", "upgrade")); // ';' does not separate
    CHECK_FALSE(header_has_token(" , ,", "upgrade"));
}

TEST_CASE("ws_handshake: split_header_tokens trims and drops empty items", "[ws_handshake]") {
    using v = std::vector<std::string_view>;
    CHECK(split_header_tokens("chat, superchat") == v{"chat", "superchat"});
    CHECK(split_header_tokens("chat") == v{"chat"});
    CHECK(split_header_tokens(" chat ,, \tsuperchat\t ,  ") == v{"chat", "superchat"});
    CHECK(split_header_tokens("").empty());
    CHECK(split_header_tokens(" , ,,\t").empty());
    CHECK(split_header_tokens("a,b,c") == v{"a", "b", "c"});
    CHECK(split_header_tokens("v1.chat.example, v2 chat") == v{"v1.chat.example", "v2 chat"});
}

TEST_CASE("ws_handshake: split_header_tokens returns views into its input", "[ws_handshake]") {
    std::string value = "chat, superchat";
    auto items = split_header_tokens(value);
    REQUIRE(items.size() == 2);
    CHECK(items[0].data() == value.data());
    CHECK(items[1].data() == value.data() + 6);
}

} // namespace ws_handshake_test
