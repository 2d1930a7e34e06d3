// SPDX-License-Identifier: MIT
// The TCP server: acceptors, one event loop per thread, a coroutine per connection, signals.
#ifndef ASTER_SERVER_HPP
#define ASTER_SERVER_HPP

#include <aster/detail/config.hpp>
#include <aster/application.hpp>
#include <aster/detail/accept_backoff.hpp>
#include <aster/detail/app_ref.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/admission.hpp>
#include <aster/detail/connection_registry.hpp>
#include <aster/detail/serve_stream.hpp>
#include <aster/detail/tcp_transport.hpp>
#include <aster/detail/topic_hub.hpp>
#include <aster/log.hpp>
#include <aster/options.hpp>
#include <aster/topics.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace aster {

namespace detail {
class tls_context; // detail/tls_context.hpp, in TLS builds only
struct watchdog_state;
} // namespace detail

/// What a server holds right now, summed over its loops (each loop's count is exact; the sum is
/// a snapshot). Every count returns to zero once all clients are gone, however they left.
struct server_stats {
    std::size_t connections = 0; // connection coroutines alive (HTTP, WebSocket, TLS, 503)
    std::size_t sockets = 0;     // accepted sockets not yet closed
    std::size_t websockets = 0;  // WebSocket sessions alive
    // Output held for slow readers: HTTP responses being written plus WebSocket send queues.
    // Bounded per connection: see websocket_options::max_send_queue_bytes and the README.
    std::size_t buffered_bytes = 0;
    // Read buffers held: a block per connection with a request or frame half read (a body
    // streamed to its handler included, whatever its size); none for idle connections.
    std::size_t input_bytes = 0;
    // Of server_config::memory_budget: bytes reserved now, and bodies or messages refused
    // since the start because it was spent.
    std::size_t budget_bytes = 0;
    std::size_t budget_refusals = 0;
    // Connections refused since the start: over max_connections, or over
    // max_connections_per_client.
    std::size_t refused_connections = 0;
    // Topics, as topic_stats says.
    std::size_t topics = 0;
    std::size_t subscriptions = 0;
    std::size_t published = 0;
    std::size_t delivered = 0;
    std::size_t dropped = 0;
    std::size_t waiting = 0;
};

/// Serves an app over TCP. `listen()` binds (so `port()` is known, also for port 0), `run()`
/// blocks until `stop()` or, when enabled, SIGINT/SIGTERM. Stopping is graceful: no new
/// connections, idle ones close, requests in flight finish (with `Connection: close`),
/// WebSockets close with 1001; after `shutdown_timeout` the rest is cut.
/// With `config.tls` set it serves https and wss instead, through the same connection code.
/// Thread safety: `stop()` may be called from any thread; the rest from the owning thread.
/// @code
/// aster::server srv{app, {.port = 0}};
/// srv.listen();
/// std::thread t([&] { srv.run(); });
/// // ... connect to 127.0.0.1:srv.port() ...
/// srv.stop(); t.join();
/// @endcode
class server {
public:
    template <class Router, class Middleware>
    server(const application<Router, Middleware>& app, server_config config)
        : server(app.ref(), std::move(config)) {}
    /// Serves any route table behind an app_ref; the app must outlive the server.
    server(detail::app_ref app, server_config config);
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    ~server() {
        stop();
        // The broker's sockets and timers belong to loop 0's io_context, and sessions that
        // the loops destroy would still tell it of topics they leave: it goes first.
        topics_.detach_broker();
    }

    /// Binds every loop's acceptor and loads the TLS certificate and key, if any. Throws
    /// std::system_error naming the address or file on failure, std::invalid_argument when TLS
    /// is asked of a build without it.
    void listen();
    std::uint16_t port() const noexcept { return port_; }
    /// Event loops (threads) it runs.
    unsigned threads() const noexcept { return unsigned(loops_.size()); }
    const server_config& config() const noexcept { return config_; }
    /// Runs the app's lifespan startup (its exception propagates, and nothing is served), then
    /// the loops, one on this thread and the rest on new threads, until stopped; then, once
    /// every connection has ended, the lifespan shutdown.
    void run();
    void stop() noexcept;
    /// Live counts; callable from any thread, costs nothing until called.
    server_stats stats() const noexcept;
    /// Publishes to the subscribers of `topic` on every loop; from any thread, returns at once.
    void publish(std::string_view topic, std::string_view message,
                 const publish_options& options = {}) {
        topics_.publish_anywhere(topic, message, options);
    }
    /// The server's topics as a value to keep (for a thread of your own, say).
    aster::topics topics() noexcept { return aster::topics(&topics_); }

private:
    struct loop {
        // Before ctx: connections cut at the shutdown deadline are destroyed with ctx, and
        // unregister themselves as they go.
        detail::connection_registry connections;
        detail::connection_options options;
        net::io_context ctx{1}; // one thread per loop: Asio may skip its locks
        std::optional<net::ip::tcp::acceptor> acceptor;
        std::optional<net::steady_timer> shutdown_deadline;
        net::steady_timer accept_pause{ctx}; // accepts pause on it after a failure
        std::shared_ptr<detail::watchdog_state> watchdog;
        std::unique_ptr<detail::loop_metrics> metrics; // when the app serves metrics_route
        loop() = default;
        loop(const loop&) = delete;
        loop& operator=(const loop&) = delete;
        ~loop() {
            watchdog.reset();
            connections.on_empty = nullptr; // it names shutdown_deadline, which goes first
            shutdown_deadline.reset();
            acceptor.reset();
        }
    };

    void begin_shutdown(loop& l);

    detail::app_ref app_;
    server_config config_;
    detail::connection_options options_;
    // Before loops_: the connections that loops_ destroys give their shares back to it.
    detail::memory_budget budget_;
    detail::admission admission_;
    detail::metrics_registry metrics_;
    // Before loops_: sessions leave their topics as the loops' contexts destroy them.
    detail::topic_hub topics_;
    std::vector<std::unique_ptr<loop>> loops_;
    // After loops_, so it is destroyed first: it lives on loop 0's io_context.
    std::optional<net::signal_set> signals_;
    std::shared_ptr<detail::tls_context> tls_; // set by listen() when config_.tls is
    std::uint16_t port_ = 0;
    std::atomic<bool> stopped_{false};
};

namespace detail {
void open_acceptor(net::ip::tcp::acceptor& acceptor, const net::ip::tcp::endpoint& endpoint,
                   const std::string& host, bool reuse_port);
net::ip::tcp::endpoint resolve_listen_address(const server_config& config,
                                              const net::any_io_executor& executor);
/// The certificate and key of config.tls, or null without; throws when TLS is asked of a
/// build without it.
std::shared_ptr<tls_context> load_tls(const server_config& config);
/// Accepts until the acceptor closes or the wait is cancelled: each connection admitted is
/// served on the acceptor's executor, the others refused with 503; failures back off on `pause`.
task<> accept_connections(net::ip::tcp::acceptor& acceptor, net::steady_timer& pause,
                          admission& gate, const app_ref& app, const connection_options& options,
                          tls_context* tls);
task<> refuse_busy(net::ip::tcp::socket socket, bool answer_503, loop_counters* counters);
void log_connection_end(std::exception_ptr e) noexcept;
/// Runs one lifespan hook (if not null) to its end on `ctx`, rethrowing what it throws.
void run_hook(net::io_context& ctx, task<> (*hook)());
/// One accepted TCP connection: HTTP (and WebSocket) until it ends, then a lingering close.
/// With `tls`, the connection is TLS (https/wss) on the same connection code.
task<> serve_tcp(net::ip::tcp::socket socket, const app_ref& app, const connection_options& options,
                 tls_context* tls);
/// Listens, logs the address and serves until stopped: the body of application::run.
void serve_app(app_ref app, server_config config);
/// serve()'s graceful end: closes the connections of `registry`, cut after `timeout`.
task<> drain(connection_registry& registry, net::steady_timer& drained, const admission& gate,
             std::chrono::steady_clock::duration timeout);
/// The body of application::serve.
task<> serve_in_place(app_ref app, server_config config,
                      std::function<void(std::uint16_t)> on_listening);
} // namespace detail

template <class Router, class... M>
void application<Router, middleware_list<M...>>::run(server_config config) const {
    detail::serve_app(ref(), std::move(config));
}

template <class Router, class... M>
task<> application<Router, middleware_list<M...>>::serve(
    server_config config, std::function<void(std::uint16_t)> on_listening) const {
    return detail::serve_in_place(ref(), std::move(config), std::move(on_listening));
}

} // namespace aster

#if ASTER_HEADER_ONLY
#include <aster/impl/server.hpp>
#endif

#endif // ASTER_SERVER_HPP
