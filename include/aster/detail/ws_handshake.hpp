// SPDX-License-Identifier: MIT
// Pure pieces of the WebSocket opening handshake (RFC 6455 §4): accept key, key check, token lists.
#ifndef ASTER_DETAIL_WS_HANDSHAKE_HPP
#define ASTER_DETAIL_WS_HANDSHAKE_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/base64.hpp>
#include <aster/detail/http_grammar.hpp>
#include <aster/detail/sha1.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace aster::detail {

/// RFC 6455 §1.3: the GUID appended to the client's key before hashing.
inline constexpr std::string_view websocket_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 §4.2.2 item 5.4):
/// base64(sha1(key + GUID)), always 28 characters.
ASTER_DECL std::array<char, 28> websocket_accept_key(std::string_view sec_websocket_key) noexcept;

/// True when the key is base64 of exactly 16 bytes (RFC 6455 §4.1 item 7, §4.2.1 item 5).
ASTER_DECL bool is_valid_websocket_key(std::string_view key) noexcept;

/// True when the comma-separated list (e.g. `Connection: keep-alive, Upgrade`) holds `token`,
/// compared ASCII case-insensitively (RFC 9110 §7.6.1, §7.8).
ASTER_DECL bool header_has_token(std::string_view header_value, std::string_view token) noexcept;

/// The items of a comma-separated header value, trimmed of spaces and tabs, empty items dropped
/// (RFC 9110 §5.6.1), e.g. `Sec-WebSocket-Protocol: chat, superchat`. Views into the input.
ASTER_DECL std::vector<std::string_view> split_header_tokens(std::string_view header_value);

/// Checks a WebSocket upgrade request (RFC 6455 §4.2.1). Returns the HTTP response that refuses
/// it, or nullopt when it is acceptable.
ASTER_DECL std::optional<response> check_websocket_handshake(const request& req);

ASTER_DECL std::array<char, 28> websocket_accept_key(std::string_view sec_websocket_key) noexcept {
    sha1_hasher h;
    h.update(sec_websocket_key);
    h.update(websocket_guid);
    sha1_digest digest = h.finish();
    std::array<char, 28> out; // base64_encoded_size(20) == 28
    base64_encode_into(digest, out.data());
    return out;
}

ASTER_DECL bool is_valid_websocket_key(std::string_view key) noexcept {
    // 16 bytes encode to exactly 24 characters; the strict decoder rejects the other spellings.
    if (key.size() != base64_encoded_size(16)) return false;
    std::uint8_t bytes[base64_decoded_size_max(base64_encoded_size(16))];
    auto n = base64_decode_into(key, bytes);
    return n && *n == 16;
}

ASTER_DECL bool header_has_token(std::string_view header_value, std::string_view token) noexcept {
    return for_each_list_item(header_value,
                              [token](std::string_view item) { return iequals(item, token); });
}

ASTER_DECL std::vector<std::string_view> split_header_tokens(std::string_view header_value) {
    std::vector<std::string_view> items;
    for_each_list_item(header_value, [&items](std::string_view item) {
        items.push_back(item);
        return false;
    });
    return items;
}

ASTER_DECL std::optional<response> check_websocket_handshake(const request& req) {
    // RFC 6455 §4.2.1: a GET over HTTP/1.1 with Connection: Upgrade, version 13 and a key.
    if (req.method_id() != method::get)
        return plain_text("WebSocket handshake must use GET", status::bad_request);
    if (req.version_major() != 1 || req.version_minor() < 1)
        return plain_text("WebSocket handshake needs HTTP/1.1", status::bad_request);
    auto connection = req.header("connection");
    if (!connection || !header_has_token(*connection, "upgrade"))
        return plain_text("WebSocket handshake needs Connection: Upgrade", status::bad_request);
    auto version = req.header("sec-websocket-version");
    if (!version || *version != "13") {
        // §4.4: tell the client which version we speak.
        auto r = plain_text("Unsupported WebSocket version; use 13", status::upgrade_required);
        r.header("Sec-WebSocket-Version", "13");
        return r;
    }
    auto key = req.header("sec-websocket-key");
    if (!key || !is_valid_websocket_key(*key))
        return plain_text("Sec-WebSocket-Key must be 16 bytes in base64", status::bad_request);
    return std::nullopt;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_WS_HANDSHAKE_HPP
