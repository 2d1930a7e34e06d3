// SPDX-License-Identifier: MIT
// A WebSocket client connection over standalone Asio for the topic benchmarks' load generators:
// it does its own handshake, builds masked frames in place and hands every whole frame the
// server sent to a callback.
#pragma once

#include "load_support.hpp"

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#if ASIO_VERSION >= 102300
#include <asio/as_tuple.hpp>
#else
#include <asio/experimental/as_tuple.hpp>
#endif

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using asio::ip::tcp;

#if ASIO_VERSION >= 102300
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
#else
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
#endif

inline asio::awaitable<void> sleep_for(double seconds) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(
        std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds)));
    co_await timer.async_wait(use_tuple);
}

/// One client WebSocket: connect and handshake, masked binary frames appended to an output
/// buffer and written without waiting where the socket takes them, and a read loop that hands
/// each whole server frame's payload to `on_frame` (unfragmented binary only: anything else
/// fails the run).
class ws_client {
public:
    explicit ws_client(asio::io_context& ctx, std::uint64_t seed)
        : socket_(ctx), random_(seed | 1), in_(64 * 1024) {}

    asio::awaitable<void> open(const tcp::endpoint& server, const std::string& path) {
        auto [ec] = co_await socket_.async_connect(server, use_tuple);
        if (ec) fail("connect: " + ec.message());
        socket_.set_option(tcp::no_delay(true));
        const std::string request = "GET " + path +
                                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                    "Connection: Upgrade\r\n"
                                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                    "Sec-WebSocket-Version: 13\r\n\r\n";
        auto [write_ec, written] = co_await asio::async_write(socket_, asio::buffer(request),
                                                              use_tuple);
        if (write_ec) fail("handshake write: " + write_ec.message());
        std::string reply;
        auto [read_ec, head] = co_await asio::async_read_until(socket_, asio::dynamic_buffer(reply),
                                                               "\r\n\r\n", use_tuple);
        if (read_ec) fail("handshake read: " + read_ec.message());
        if (!reply.starts_with("HTTP/1.1 101 ") ||
            reply.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == std::string::npos) // RFC 6455 §1.3
            fail("handshake refused: " + reply.substr(0, reply.find("\r\n")));
        std::memcpy(in_.data(), reply.data() + head, reply.size() - head);
        in_end_ = reply.size() - head;
        socket_.non_blocking(true);
    }

    /// Appends one masked binary frame of `payload` to what `flush` sends.
    void append_frame(const void* payload, std::size_t size) {
        if (size > 125) fail("frames of the benchmark are at most 125 bytes");
        const std::size_t at = out_.size();
        out_.resize(at + 6 + size);
        char* frame = out_.data() + at;
        frame[0] = char(0x82); // FIN, binary
        frame[1] = char(0x80 | size);
        const std::uint32_t key = std::uint32_t(next_random());
        std::memcpy(frame + 2, &key, 4);
        const auto* k = reinterpret_cast<const unsigned char*>(&key);
        const auto* p = static_cast<const unsigned char*>(payload);
        for (std::size_t i = 0; i < size; ++i) frame[6 + i] = char(p[i] ^ k[i % 4]);
    }

    /// Writes what was appended: at once where the socket takes it all, else in the background.
    void flush() {
        if (writing_ || out_.empty()) return;
        std::error_code ec;
        const std::size_t n = socket_.write_some(asio::buffer(out_), ec);
        if (ec && ec != asio::error::would_block) fail("write: " + ec.message());
        out_.erase(out_.begin(), out_.begin() + std::ptrdiff_t(ec ? 0 : n));
        if (out_.empty()) return;
        writing_ = true;
        asio::co_spawn(socket_.get_executor(), write_rest(), asio::detached);
    }

    /// Reads until `stopping` is set, calling on_frame(payload, size) for each server frame.
    template <class OnFrame>
    asio::awaitable<void> read_frames(const bool& stopping, OnFrame on_frame) {
        for (;;) {
            consume(on_frame);
            auto [ec, n] = co_await socket_.async_read_some(
                asio::buffer(in_.data() + in_end_, in_.size() - in_end_), use_tuple);
            if (stopping) break;
            if (ec) fail("read: " + ec.message() + " (the server closed the connection?)");
            in_end_ += n;
        }
        std::error_code ignored;
        socket_.close(ignored);
    }

private:
    asio::awaitable<void> write_rest() {
        while (!out_.empty()) {
            std::string batch;
            batch.swap(out_);
            auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(batch), use_tuple);
            if (ec) fail("write: " + ec.message());
        }
        writing_ = false;
    }

    template <class OnFrame>
    void consume(OnFrame& on_frame) {
        const auto* data = reinterpret_cast<const unsigned char*>(in_.data());
        std::size_t at = 0;
        for (;;) {
            const std::size_t available = in_end_ - at;
            if (available < 2) break;
            const unsigned char b0 = data[at], b1 = data[at + 1];
            std::size_t h = 2, length = b1 & 0x7f;
            if (length == 126) {
                if (available < 4) break;
                length = (std::size_t(data[at + 2]) << 8) | data[at + 3];
                h = 4;
            } else if (length == 127) {
                fail("the server sent a frame over 64 KiB");
            }
            if (b1 & 0x80) fail("the server masked a frame (RFC 6455 §5.1 forbids it)");
            if (b0 != 0x82)
                fail("expected an unfragmented binary frame, got first byte " + std::to_string(b0));
            if (available < h + length) break;
            on_frame(data + at + h, length);
            at += h + length;
        }
        if (at > 0) {
            std::memmove(in_.data(), in_.data() + at, in_end_ - at);
            in_end_ -= at;
        }
    }

    std::uint64_t next_random() noexcept { // xorshift64: a fresh masking key per frame
        random_ ^= random_ << 13;
        random_ ^= random_ >> 7;
        random_ ^= random_ << 17;
        return random_;
    }

    tcp::socket socket_;
    std::uint64_t random_;
    std::vector<char> in_; // unparsed bytes from the server
    std::size_t in_end_ = 0;
    std::string out_; // frames not written yet
    bool writing_ = false;
};

} // namespace bench
