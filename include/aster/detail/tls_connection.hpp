// SPDX-License-Identifier: MIT
// One server connection over TLS: handshake, the ordinary HTTP connection on the TLS stream,
// then close_notify. Only TLS builds compile it.
#ifndef ASTER_DETAIL_TLS_CONNECTION_HPP
#define ASTER_DETAIL_TLS_CONNECTION_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/tls_context.hpp>

#ifdef ASTER_HAS_TLS

#include <aster/detail/app_ref.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/stream.hpp>
#include <aster/detail/connection_registry.hpp>
#include <aster/detail/http_connection.hpp>
#include <aster/detail/serve_stream.hpp>
#include <aster/detail/tcp_transport.hpp>
#include <aster/detail/read_deadline.hpp>
#include <aster/log.hpp>
#include <aster/request.hpp>

#include <chrono>
#include <string>
#include <system_error>

namespace aster::detail {

// How long to wait for the client's close_notify (or its FIN) after sending ours.
inline constexpr auto tls_close_timeout = std::chrono::seconds(2);

/// A handshake in progress, known to the loop's registry so a graceful stop can cut it short.
class tls_handshake_guard final : public closable {
public:
    tls_handshake_guard(tls_stream& stream, connection_registry* registry)
        : stream_(stream), registry_(registry) {
        if (registry_) registry_->add(*this);
    }
    ~tls_handshake_guard() {
        if (registry_) registry_->remove(*this);
    }
    tls_handshake_guard(const tls_handshake_guard&) = delete;
    tls_handshake_guard& operator=(const tls_handshake_guard&) = delete;

    void begin_shutdown() override { cancel_stream(stream_); }
    void abort() noexcept override { close_stream(stream_); }

private:
    tls_stream& stream_;
    connection_registry* registry_;
};

/// The TLS stream over an accepted socket, for serve_stream. Its end sends close_notify and,
/// like a lingering close, lets OpenSSL read and discard what the client still sends until its
/// close_notify or FIN, so unread request bytes cannot reset the connection before the client
/// has read the last response.
class tls_transport {
public:
    tls_transport(tls_stream& stream, client_address peer)
        : stream_(&stream), peer_(std::move(peer)) {}
    tls_stream& stream() noexcept { return *stream_; }
    const client_address& peer() const noexcept { return peer_; }
    task<> finish() {
        {
            read_deadline<tls_stream> deadline(*stream_);
            deadline.expires_after(tls_close_timeout);
            auto [ignored] = co_await stream_->async_shutdown(use_tuple);
            (void)ignored; // the client may well close without close_notify; nothing to do then
        }
        std::error_code ec;
        stream_->lowest_layer().close(ec);
    }

private:
    tls_stream* stream_;
    client_address peer_;
};

/// Serves one accepted connection over TLS with the same lifecycle as plain TCP. The
/// handshake shares the request head's deadline (header_timeout), so a client that never
/// finishes it is bounded like a slow request.
ASTER_DECL task<> serve_tls(tcp_transport tcp, const app_ref& app,
                            const connection_options& options, tls_context& context) {
    tls_stream stream(std::move(tcp.stream()), context.native());
    std::error_code ec;
    {
        tls_handshake_guard guard(stream, options.registry);
        read_deadline<tls_stream> deadline(stream);
        deadline.expires_after(options.limits.header_timeout);
        auto [handshake_ec] = co_await stream.async_handshake(net::ssl::stream_base::server,
                                                              use_tuple);
        ec = handshake_ec;
        if (ec && deadline.expired()) ec = net::error::timed_out;
    }
    if (ec) {
        // A plain-HTTP client, a scanner or a client that distrusts the certificate: routine on
        // a public port and the client's to fix, so debug, where it cannot flood the log.
        log_limited(log_level::debug, "tls handshake",
                    "aster: TLS handshake with " + tcp.peer().host + ":" +
                        std::to_string(tcp.peer().port) + " failed: " + ec.message());
        stream.lowest_layer().close(ec);
        co_return;
    }
    connection_options secure = options; // outlives the connection, which refers to it
    secure.secure = true;
    tls_transport transport(stream, tcp.peer()); // named: g++ 12 and temporaries in co_await
    co_await serve_stream(std::move(transport), app, secure);
}

} // namespace aster::detail

#endif // ASTER_HAS_TLS

#endif // ASTER_DETAIL_TLS_CONNECTION_HPP
