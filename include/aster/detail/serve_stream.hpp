// SPDX-License-Identifier: MIT
// serve_stream: the one lifecycle of a connection over any transport (TCP, TLS, the test
// client's in-memory stream): HTTP until it ends or upgrades, then the WebSocket, then the
// transport's graceful end.
#ifndef ASTER_DETAIL_SERVE_STREAM_HPP
#define ASTER_DETAIL_SERVE_STREAM_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/app_ref.hpp>
#include <aster/detail/http_connection.hpp>
#include <aster/detail/stream.hpp>
#include <aster/task.hpp>

#include <concepts>
#include <memory>
#include <type_traits>
#include <utility>

namespace aster::detail {

/// What owns a connection's stream: the stream, who is on the other end, and how the
/// connection ends (a lingering close for TCP, close_notify for TLS, nothing for a stream
/// that its owner closes). serve_stream takes it by value, so an owning transport lives in
/// the one coroutine frame a connection keeps.
template <class T>
concept transport = std::move_constructible<T> && requires(T& t) {
    requires async_stream<std::remove_reference_t<decltype(t.stream())>>;
    { t.peer() } -> std::convertible_to<client_address>;
    { t.finish() } -> std::same_as<task<>>;
};

/// Serves the transport's stream until the connection ends. HTTP's state and then the
/// WebSocket's live on the heap, so an upgraded connection frees the parser and buffers
/// before the WebSocket runs. `app` and `options` must outlive it.
template <transport Transport>
task<> serve_stream(Transport transport, const app_ref& app, const connection_options& options) {
    using Stream = std::remove_reference_t<decltype(transport.stream())>;
    {
        std::unique_ptr<upgraded_websocket<Stream>> websocket;
        {
            auto connection = std::make_unique<http_connection<Stream>>(
                transport.stream(), app, options, client_address(transport.peer()));
            co_await connection->run();
            websocket = connection->take_websocket();
        }
        if (websocket) co_await websocket->run(app);
    }
    co_await transport.finish();
}

/// A stream its owner closes: the test client's end, a test's or a fuzzer's.
template <async_stream Stream>
class borrowed_stream {
public:
    borrowed_stream(Stream& stream, client_address peer)
        : stream_(&stream), peer_(std::move(peer)) {}
    Stream& stream() noexcept { return *stream_; }
    const client_address& peer() const noexcept { return peer_; }
    task<> finish() { co_return; }

private:
    Stream* stream_;
    client_address peer_;
};

/// serve_stream over a borrowed stream.
template <async_stream Stream>
task<> serve_stream(Stream& stream, const app_ref& app, const connection_options& options,
                    client_address peer) {
    return serve_stream(borrowed_stream<Stream>(stream, std::move(peer)), app, options);
}

} // namespace aster::detail

#endif // ASTER_DETAIL_SERVE_STREAM_HPP
