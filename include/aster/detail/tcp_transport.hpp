// SPDX-License-Identifier: MIT
// tcp_transport: an accepted TCP socket as serve_stream owns it: counted while open, closed
// however the connection ends, and ended by a lingering close.
#ifndef ASTER_DETAIL_TCP_TRANSPORT_HPP
#define ASTER_DETAIL_TCP_TRANSPORT_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/connection_registry.hpp>
#include <aster/request.hpp>
#include <aster/task.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <system_error>
#include <utility>

namespace aster::detail {

inline constexpr auto linger_timeout = std::chrono::seconds(2);
inline constexpr std::size_t linger_max_bytes = 64 * 1024;

/// Lingering close (RFC 9112 §9.6): send FIN, then drain what the client still sends for a
/// moment, so closing with unread bytes does not reset the connection and destroy the last
/// response (a 400, 413 or 503 above all) before the client reads it.
ASTER_DECL task<> linger_close(net::ip::tcp::socket& socket,
                               std::chrono::steady_clock::duration limit) {
    std::error_code ec;
    socket.shutdown(net::ip::tcp::socket::shutdown_send, ec);
    net::steady_timer deadline(socket.get_executor());
    deadline.expires_after(limit);
    deadline.async_wait([&socket](std::error_code e) {
        if (!e) socket.cancel(e);
    });
    char sink[1024];
    for (std::size_t drained = 0; drained < linger_max_bytes;) {
        auto [read_ec, n] = co_await socket.async_read_some(net::buffer(sink), use_tuple);
        if (read_ec) break;
        drained += n;
    }
    deadline.cancel();
    socket.close(ec);
}

/// Counts the connection (connections) from its construction and the socket (sockets, which
/// the accept loop counted) until its destruction, when it closes the socket. Movable, so it
/// lives in the frame of the coroutine that serves the connection and costs no frame itself.
class tcp_transport {
public:
    tcp_transport(net::ip::tcp::socket socket, loop_counters* counters, client_address peer)
        : socket_(std::move(socket)), counters_(counters), peer_(std::move(peer)) {
        if (counters_) counters_->connections.add();
    }
    tcp_transport(tcp_transport&& other) noexcept
        : socket_(std::move(other.socket_)), counters_(std::exchange(other.counters_, nullptr)),
          peer_(std::move(other.peer_)) {}
    tcp_transport& operator=(tcp_transport&&) = delete;
    ~tcp_transport() {
        std::error_code ignored;
        socket_.close(ignored);
        if (!counters_) return;
        counters_->sockets.sub();
        counters_->connections.sub();
    }

    net::ip::tcp::socket& stream() noexcept { return socket_; }
    const client_address& peer() const noexcept { return peer_; }
    task<> finish() { return linger_close(socket_, linger_timeout); }

private:
    net::ip::tcp::socket socket_;
    loop_counters* counters_;
    client_address peer_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_TCP_TRANSPORT_HPP
