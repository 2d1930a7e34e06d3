// SPDX-License-Identifier: MIT
// The streams the engine runs on (a TCP socket, a TLS stream, test::stream), and the few
// things it asks of them beyond reading and writing: cancel, close, and reads and writes
// that never wait.
#ifndef ASTER_DETAIL_STREAM_HPP
#define ASTER_DETAIL_STREAM_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/asio.hpp>

#include <cstddef>
#include <system_error>

namespace aster::detail {

/// What every engine template runs on: reads and writes awaited on the stream's executor.
template <class S>
concept async_stream = requires(S& s, net::mutable_buffer in, net::const_buffer out) {
    s.get_executor();
    s.async_read_some(in, use_tuple);
    s.async_write_some(out, use_tuple);
};

/// Streams that read and write without waiting once made non-blocking (TCP sockets and
/// test::stream). The engine's fast paths need it: answering in place, the read after a
/// yield, waiting on a small scratch instead of a pooled block. A TLS stream is not one: its
/// records may need a write to read or a read to write.
template <class S>
concept waitable_stream = async_stream<S> && requires(S& s, std::error_code& ec) {
    s.non_blocking(true, ec);
    s.read_some(net::mutable_buffer(), ec);
    s.write_some(net::const_buffer(), ec);
};

/// The layer that owns the descriptor: a TLS stream's socket, else the stream itself.
template <async_stream S>
auto& lowest_layer_of(S& s) noexcept {
    if constexpr (requires { s.lowest_layer(); }) return s.lowest_layer();
    else return s;
}

/// Ends the stream's pending operations with operation_aborted; the stream stays open.
template <async_stream S>
void cancel_stream(S& s) noexcept {
    std::error_code ignored;
    lowest_layer_of(s).cancel(ignored);
}

/// Closes the stream for good, so pending and later operations fail: the cut at a shutdown
/// deadline when the loop itself must keep running.
template <async_stream S>
void close_stream(S& s) noexcept {
    std::error_code ignored;
    lowest_layer_of(s).close(ignored);
}

/// Puts a waitable stream in non-blocking mode, so try_read and try_write never wait; other
/// streams are left as they are.
template <async_stream S>
void make_non_blocking(S& s) noexcept {
    if constexpr (waitable_stream<S>) {
        std::error_code ignored;
        s.non_blocking(true, ignored);
    }
}

/// What a read or write that never waits did: `n` bytes, or an error, or nothing because the
/// stream would have had to wait (`blocked`, with `ec` clear).
struct immediate_io {
    std::error_code ec;
    std::size_t n = 0;
    bool blocked = false;
};

namespace stream_io {
inline immediate_io result(std::error_code ec, std::size_t n) noexcept {
    if (ec == net::error::would_block || ec == net::error::try_again) return {{}, 0, true};
    return {ec, ec ? 0 : n, false};
}
} // namespace stream_io

/// Reads what has arrived into `b`. A stream that cannot read without waiting is always
/// blocked, so a caller's fast path folds away for it.
template <async_stream S>
immediate_io try_read(S& s, net::mutable_buffer b) {
    if constexpr (waitable_stream<S>) {
        std::error_code ec;
        std::size_t n = s.read_some(b, ec);
        return stream_io::result(ec, n);
    } else {
        (void)s;
        (void)b;
        return {{}, 0, true};
    }
}

/// Writes what the stream takes now from `b`; blocked as try_read.
template <async_stream S>
immediate_io try_write(S& s, net::const_buffer b) {
    if constexpr (waitable_stream<S>) {
        std::error_code ec;
        std::size_t n = s.write_some(b, ec);
        return stream_io::result(ec, n);
    } else {
        (void)s;
        (void)b;
        return {{}, 0, true};
    }
}

} // namespace aster::detail

#endif // ASTER_DETAIL_STREAM_HPP
