// SPDX-License-Identifier: MIT
// Serialises status lines and headers into the connection's reused write buffer.
#ifndef ASTER_DETAIL_HTTP_WRITER_HPP
#define ASTER_DETAIL_HTTP_WRITER_HPP

#include <aster/detail/config.hpp>
#include <aster/headers.hpp>
#include <aster/response.hpp>
#include <aster/status.hpp>

#include <charconv>
#include <ctime>
#include <string>
#include <string_view>

namespace aster::detail {

/// The IMF-fixdate for now (RFC 9110 §5.6.7), recomputed at most once a second per thread.
inline std::string_view http_date() noexcept {
    thread_local std::time_t cached_second = 0;
    thread_local char text[32];
    std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        cached_second = now;
        std::tm parts{};
        gmtime_r(&now, &parts);
        std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    }
    return {text, 29};
}

inline void append_number(std::string& out, std::uint64_t n) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out.append(digits, end);
}

/// RFC 9110 §6.4.1: 1xx, 204 and 304 responses carry no body and no Content-Length.
constexpr bool status_allows_body(status code) noexcept {
    auto n = std::uint16_t(code);
    return n >= 200 && n != 204 && n != 304;
}

enum class connection_header { none, close, keep_alive };
enum class framing { length, chunked, until_close };

/// Appends the status line and headers, ending with the blank line.
inline void append_head(std::string& out, const response& res, framing body_framing,
                        std::uint64_t content_length, connection_header conn) {
    const status code = res.status();
    out.append("HTTP/1.1 ");
    append_number(out, std::uint16_t(code));
    out.push_back(' ');
    out.append(reason(code));
    out.append("\r\n");
    if (status_allows_body(code)) {
        if (body_framing == framing::length) {
            out.append("Content-Length: ");
            append_number(out, content_length);
            out.append("\r\n");
        } else if (body_framing == framing::chunked) {
            out.append("Transfer-Encoding: chunked\r\n");
        }
        if (auto type = res.content_type(); !type.empty())
            out.append("Content-Type: ").append(type).append("\r\n");
    }
    out.append("Date: ").append(http_date()).append("\r\n");
    for (const auto& [name, value] : res.headers()) {
        if (iequals(name, "content-length") || iequals(name, "transfer-encoding")) continue;
        out.append(name).append(": ").append(value).append("\r\n");
    }
    if (conn == connection_header::close) out.append("Connection: close\r\n");
    else if (conn == connection_header::keep_alive) out.append("Connection: keep-alive\r\n");
    out.append("\r\n");
}

} // namespace aster::detail

#endif // ASTER_DETAIL_HTTP_WRITER_HPP
