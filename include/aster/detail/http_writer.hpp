// SPDX-License-Identifier: MIT
// Serialises status lines and headers into the connection's reused write buffer.
#ifndef ASTER_DETAIL_HTTP_WRITER_HPP
#define ASTER_DETAIL_HTTP_WRITER_HPP

#include <aster/detail/config.hpp>
#include <aster/headers.hpp>
#include <aster/response.hpp>
#include <aster/status.hpp>

#include <array>
#include <charconv>
#include <cstring>
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

/// "HTTP/1.1 200 OK\r\n" for any code, built once per process.
inline std::string_view status_line(status code) {
    static const auto lines = [] {
        std::array<std::string, 600> out;
        for (std::size_t n = 100; n < out.size(); ++n) {
            out[n] = "HTTP/1.1 " + std::to_string(n) + " ";
            out[n] += reason(std::uint16_t(n));
            out[n] += "\r\n";
        }
        return out;
    }();
    auto n = std::size_t(code);
    return n < lines.size() && n >= 100 ? std::string_view(lines[n]) : std::string_view(lines[500]);
}

/// Appends the status line and headers, ending with the blank line. The head is assembled on
/// the stack and appended once: the usual head is a few hundred bytes.
inline void append_head(std::string& out, const response& res, framing body_framing,
                        std::uint64_t content_length, connection_header conn) {
    char buffer[512];
    char* p = buffer;
    char* const end = buffer + sizeof buffer;
    auto put = [&](std::string_view piece) {
        if (std::size_t(end - p) < piece.size()) {
            out.append(buffer, p);
            p = buffer;
            if (piece.size() > sizeof buffer) {
                out.append(piece);
                return;
            }
        }
        std::memcpy(p, piece.data(), piece.size());
        p += piece.size();
    };
    const status code = res.status();
    put(status_line(code));
    if (status_allows_body(code)) {
        if (body_framing == framing::length) {
            char digits[24];
            auto last = std::to_chars(digits, digits + sizeof digits, content_length).ptr;
            put("Content-Length: ");
            put(std::string_view(digits, std::size_t(last - digits)));
            put("\r\n");
        } else if (body_framing == framing::chunked) {
            put("Transfer-Encoding: chunked\r\n");
        }
        if (auto type = res.content_type(); !type.empty()) {
            put("Content-Type: ");
            put(type);
            put("\r\n");
        }
    }
    put("Date: ");
    put(http_date());
    put("\r\n");
    for (const auto& [name, value] : res.headers()) {
        if (iequals(name, "content-length") || iequals(name, "transfer-encoding")) continue;
        put(name);
        put(": ");
        put(value);
        put("\r\n");
    }
    if (conn == connection_header::close) put("Connection: close\r\n");
    else if (conn == connection_header::keep_alive) put("Connection: keep-alive\r\n");
    put("\r\n");
    out.append(buffer, p);
}

} // namespace aster::detail

#endif // ASTER_DETAIL_HTTP_WRITER_HPP
