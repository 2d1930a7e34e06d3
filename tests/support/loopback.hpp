// SPDX-License-Identifier: MIT
// Test helpers for the real server over 127.0.0.1: a server on its own thread, and a raw
// WebSocket client (handshake, masked frames of any size, frames read back). Every wait is
// bounded by the caller's io_context run or by the server's own behaviour.
#ifndef ASTER_TESTS_SUPPORT_LOOPBACK_HPP
#define ASTER_TESTS_SUPPORT_LOOPBACK_HPP

#include <aster/aster.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <cstdint>
#include <future>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace test_support {

namespace net = aster::net;
using net::ip::tcp;

/// An app's server on its own thread (port 0, no signal handling), stopped and joined on scope
/// exit.
struct running_server {
    aster::server srv;
    std::future<void> done;
    template <class App>
    running_server(const App& app, aster::server_config config)
        : srv(app, [&] {
              config.port = 0;
              config.handle_signals = false;
              return config;
          }()) {
        srv.listen();
        done = std::async(std::launch::async, [this] { srv.run(); });
    }
    ~running_server() {
        srv.stop();
        done.wait_for(std::chrono::seconds(20));
    }
    running_server(const running_server&) = delete;
    running_server& operator=(const running_server&) = delete;

    tcp::endpoint endpoint() const { return {net::ip::make_address("127.0.0.1"), srv.port()}; }
    /// Waits (bounded) until `ok(stats)` holds; returns the last stats seen.
    template <class Predicate>
    aster::server_stats wait_for(Predicate ok,
                                 std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        auto until = std::chrono::steady_clock::now() + limit;
        auto s = srv.stats();
        while (!ok(s) && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            s = srv.stats();
        }
        return s;
    }
};

inline bool all_zero(const aster::server_stats& s) {
    return s.connections == 0 && s.sockets == 0 && s.websockets == 0 && s.buffered_bytes == 0 &&
           s.input_bytes == 0;
}

inline constexpr std::string_view upgrade_head =
    " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// A masked client frame (RFC 6455 §5.2, §5.3) of any size; `rsv1` marks it compressed.
inline std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true,
                                bool rsv1 = false) {
    std::string f;
    f += char((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
    if (payload.size() < 126) {
        f += char(0x80 | payload.size());
    } else if (payload.size() <= 0xffff) {
        f += char(0x80 | 126);
        f += char(payload.size() >> 8);
        f += char(payload.size() & 0xff);
    } else {
        f += char(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            f += char((std::uint64_t(payload.size()) >> shift) & 0xff);
    }
    const char mask[4] = {0x12, 0x34, 0x56, 0x78};
    f.append(mask, 4);
    const std::size_t start = f.size();
    f.append(payload);
    for (std::size_t i = 0; i < payload.size(); ++i) f[start + i] ^= mask[i % 4];
    return f;
}

/// Connects and completes the handshake (with `extra_headers`, each ending in CRLF); returns
/// the bytes read past the 101 head (frames).
inline aster::task<std::string> ws_open(tcp::socket& s, tcp::endpoint ep, std::string_view path,
                                        std::string_view extra_headers = {}) {
    co_await s.async_connect(ep, net::use_awaitable);
    std::string req = "GET " + std::string(path) + std::string(upgrade_head) +
                      std::string(extra_headers) + "\r\n";
    co_await net::async_write(s, net::buffer(req), net::use_awaitable);
    std::string in;
    co_await net::async_read_until(s, net::dynamic_buffer(in), "\r\n\r\n", net::use_awaitable);
    if (in.rfind("HTTP/1.1 101", 0) != 0) throw std::runtime_error("no 101: " + in);
    co_return in.substr(in.find("\r\n\r\n") + 4);
}

// The readers take any Asio stream: a TCP socket, or a TLS stream over one.
template <class Stream>
aster::task<> read_at_least(Stream& s, std::string& in, std::size_t n) {
    if (in.size() < n)
        co_await net::async_read(s, net::dynamic_buffer(in), net::transfer_at_least(n - in.size()),
                                 net::use_awaitable);
}

/// Reads one unmasked server frame; `in` carries bytes between calls.
struct server_frame {
    std::uint8_t opcode = 0;
    std::string payload;
    /// The close code of a close frame (1005 when it has none).
    std::uint16_t close_code() const {
        return payload.size() < 2
                   ? 1005
                   : std::uint16_t(std::uint8_t(payload[0]) << 8 | std::uint8_t(payload[1]));
    }
};

template <class Stream>
aster::task<server_frame> read_server_frame(Stream& s, std::string& in) {
    co_await read_at_least(s, in, 2);
    std::size_t len = std::uint8_t(in[1]) & 0x7f, head = 2;
    if (len == 126) {
        co_await read_at_least(s, in, 4);
        len = std::size_t(std::uint8_t(in[2])) << 8 | std::uint8_t(in[3]);
        head = 4;
    } else if (len == 127) {
        co_await read_at_least(s, in, 10);
        len = 0;
        for (int i = 2; i < 10; ++i) len = len << 8 | std::uint8_t(in[i]);
        head = 10;
    }
    co_await read_at_least(s, in, head + len);
    server_frame f{std::uint8_t(in[0] & 0x0f), in.substr(head, len)};
    in.erase(0, head + len);
    co_return f;
}

/// The payload of the next server frame.
template <class Stream>
aster::task<std::string> read_frame(Stream& s, std::string& in) {
    server_frame f = co_await read_server_frame(s, in); // (g++ 12: not inside parentheses)
    co_return std::move(f.payload);
}

} // namespace test_support

#endif // ASTER_TESTS_SUPPORT_LOOPBACK_HPP
