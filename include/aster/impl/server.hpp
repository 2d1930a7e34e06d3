// SPDX-License-Identifier: MIT
// Bodies of server: compiled in every file that includes aster.hpp (header-only), or once in the
// file that includes aster/impl/src.hpp (ASTER_SEPARATE_COMPILATION).
#ifndef ASTER_IMPL_SERVER_HPP
#define ASTER_IMPL_SERVER_HPP

#include <aster/server.hpp>
#include <aster/detail/server_settings.hpp>
#include <aster/detail/tls_connection.hpp>
#include <aster/detail/redis_link.hpp>

#include <cerrno>

#include <unistd.h>

namespace aster {

namespace detail {

inline constexpr auto busy_linger_timeout = std::chrono::milliseconds(500);

ASTER_ENGINE void open_acceptor(net::ip::tcp::acceptor& acceptor,
                                const net::ip::tcp::endpoint& endpoint, const std::string& host,
                                bool reuse_port) {
    using net::ip::tcp;
    std::error_code ec;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true)); // restarts over TIME_WAIT
#ifdef SO_REUSEPORT
    if (reuse_port)
        acceptor.set_option(net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
#else
    if (reuse_port)
        throw std::invalid_argument("aster: reuse_port: this system has no SO_REUSEPORT");
#endif
    acceptor.bind(endpoint, ec);
    if (ec == net::error::address_in_use)
        throw std::system_error(ec, "aster: cannot listen on " + host + ":" +
                                        std::to_string(endpoint.port()) +
                                        ": another process listens there" +
                                        (reuse_port ? " without --reuse-port"
                                                    : " (--reuse-port shares the port with a "
                                                      "server started the same way)"));
    if (ec)
        throw std::system_error(ec, "aster: cannot listen on " + host + ":" +
                                        std::to_string(endpoint.port()));
    acceptor.listen(net::socket_base::max_listen_connections);
}

ASTER_ENGINE net::ip::tcp::endpoint resolve_listen_address(const server_config& config,
                                                           const net::any_io_executor& executor) {
    using net::ip::tcp;
    tcp::resolver resolver(executor);
    std::error_code ec;
    auto results = resolver.resolve(config.host, std::to_string(config.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
        throw std::system_error(ec, "aster: cannot resolve host '" + config.host + "'");
    return results.begin()->endpoint();
}

// The cap on connections: 503 without waiting on the client (not on a TLS port, where plain
// text means nothing), then a short lingering close so the answer is not lost to a reset.
ASTER_ENGINE task<> refuse_busy(net::ip::tcp::socket socket, bool answer_503,
                                loop_counters* counters) {
    tcp_transport counted(std::move(socket), counters, {});
    static constexpr std::string_view busy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 19\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
        "Service Unavailable";
    std::error_code ignored;
    counted.stream().non_blocking(true, ignored);
    if (answer_503) counted.stream().write_some(net::buffer(busy), ignored); // never wait
    co_await linger_close(counted.stream(), busy_linger_timeout);
}

// The loop's watchdog: once a second each connection checks the pace of its transfers
// (transfer_rate). One timer per loop, none per connection.
struct watchdog_state {
    explicit watchdog_state(const net::any_io_executor& ex, connection_registry& r)
        : timer(ex), registry(&r) {}
    net::steady_timer timer;
    connection_registry* registry; // null once stopped: a late wake-up touches nothing
};

ASTER_ENGINE task<> run_watchdog(std::shared_ptr<watchdog_state> state) {
    while (state->registry) {
        state->timer.expires_after(std::chrono::seconds(1));
        auto [ec] = co_await state->timer.async_wait(use_tuple);
        if (ec || !state->registry) co_return;
        state->registry->sweep(std::chrono::steady_clock::now());
    }
}

ASTER_ENGINE std::shared_ptr<watchdog_state> start_watchdog(const net::any_io_executor& ex,
                                                            connection_registry& registry) {
    auto state = std::make_shared<watchdog_state>(ex, registry);
    net::co_spawn(ex, run_watchdog(state), net::detached);
    return state;
}

ASTER_ENGINE void stop_watchdog(const std::shared_ptr<watchdog_state>& state) noexcept {
    if (!state) return;
    state->registry = nullptr;
    state->timer.cancel();
}

ASTER_ENGINE void log_connection_end(std::exception_ptr e) noexcept {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        log_limited(log_level::error, "connection failed",
                    std::string("aster: connection failed: ") + x.what());
    } catch (...) {
        log_limited(log_level::error, "connection failed", "aster: connection failed");
    }
}

ASTER_ENGINE void run_hook(net::io_context& ctx, task<> (*hook)()) {
    if (!hook) return;
    bool done = false;
    std::exception_ptr error;
    net::co_spawn(ctx, hook(), [&](std::exception_ptr e) {
        done = true;
        error = e;
    });
    // Only until the hook ends: work it spawned stays on the loop for later.
    while (!done) {
        if (ctx.stopped()) ctx.restart();
        if (ctx.run_one() == 0 && !done) // nothing left that could finish it
            throw std::runtime_error("aster: a lifespan hook waits on nothing and never ends");
    }
    if (ctx.stopped()) ctx.restart();
    if (error) std::rethrow_exception(error);
}

} // namespace detail

ASTER_ENGINE server::server(detail::app_ref app, server_config config)
    : app_(app), config_(std::move(config)), options_{config_.limits, config_.websocket, nullptr},
      budget_(config_.memory_budget),
      admission_(config_.max_connections, config_.max_connections_per_client) {
    options_.budget = &budget_;
    options_.access_log = config_.access_log;
    unsigned n = config_.threads == 0 ? std::max(1u, std::thread::hardware_concurrency())
                                      : config_.threads;
    for (unsigned i = 0; i < n; ++i) {
        loops_.push_back(std::make_unique<loop>());
        auto& l = *loops_.back();
        l.options = options_;
        l.options.registry = &l.connections;
        l.options.topics = &topics_.add_loop(l.ctx.get_executor());
        if (app_.has_metrics) {
            l.metrics = std::make_unique<detail::loop_metrics>();
            l.options.metrics = l.metrics.get();
            l.options.all_metrics = &metrics_;
            metrics_.loops.push_back(l.metrics.get());
        }
    }
    if (config_.broker) {
#ifdef ASTER_HAS_REDIS
        topics_.attach(std::make_unique<detail::redis_link>(topics_, loops_[0]->ctx.get_executor(),
                                                            *config_.broker));
#else
        throw std::invalid_argument("aster: server_config::broker needs a build with Redis "
                                    "(ASTER_HAS_REDIS: CMake -DASTER_REDIS=ON, meson "
                                    "-Dredis=enabled)");
#endif
    }
    if (app_.has_metrics)
        metrics_.gauges = [this] {
            const server_stats s = stats();
            return detail::metrics_gauges{s.connections,     s.sockets,
                                          s.websockets,      s.buffered_bytes,
                                          s.input_bytes,     s.budget_bytes,
                                          s.budget_refusals, s.refused_connections};
        };
}

ASTER_ENGINE void server::listen() {
    detail::ensure_descriptor_room(config_.max_connections);
    tls_ = detail::load_tls(config_);
    auto endpoint = detail::resolve_listen_address(config_, loops_[0]->ctx.get_executor());
    for (auto& l : loops_) {
        auto& acceptor = l->acceptor.emplace(l->ctx);
        if (config_.reuse_port || &l == &loops_.front()) {
            // Asked to share the port (SO_REUSEPORT): each loop binds its own socket and the
            // kernel spreads connections, also to other processes that asked the same.
            detail::open_acceptor(acceptor, endpoint, config_.host, config_.reuse_port);
            endpoint.port(acceptor.local_endpoint().port()); // port 0: the others take the same
        } else {
            // Otherwise the loops watch one listening socket, which nobody else can join: a
            // second server on a busy port fails instead of taking half its requests.
            int fd = ::dup(loops_.front()->acceptor->native_handle());
            if (fd < 0)
                throw std::system_error(errno, std::system_category(),
                                        "aster: dup of the listening socket");
            acceptor.assign(endpoint.protocol(), fd);
        }
    }
    port_ = endpoint.port();
}

ASTER_ENGINE void server::run() {
    detail::apply_logging(config_);
    if (!loops_[0]->acceptor) listen();
    detail::run_hook(loops_[0]->ctx, app_.startup);       // before any accept
    if (auto* broker = topics_.broker()) broker->start(); // on loop 0
    for (auto& l : loops_) {
        if (l->acceptor)
            net::co_spawn(l->ctx,
                          detail::accept_connections(*l->acceptor, l->accept_pause, admission_,
                                                     app_, l->options, tls_.get()),
                          net::detached);
        l->watchdog = detail::start_watchdog(l->ctx.get_executor(), l->connections);
    }
    if (config_.handle_signals) {
        signals_.emplace(loops_[0]->ctx, SIGINT, SIGTERM);
        signals_->async_wait([this](std::error_code ec, int signal) {
            if (ec) return;
            log(log_level::info, "aster: signal " + std::to_string(signal) + ", shutting down");
            stop();
        });
    }
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < loops_.size(); ++i)
        threads.emplace_back([l = loops_[i].get()] { l->ctx.run(); });
    loops_[0]->ctx.run();
    for (auto& t : threads) t.join();
    if (app_.shutdown) {
        // A fresh loop: after a shutdown timeout the old ones still hold the cut connections.
        net::io_context after{1};
        detail::run_hook(after, app_.shutdown);
    }
}

ASTER_ENGINE server_stats server::stats() const noexcept {
    server_stats total;
    for (const auto& l : loops_) {
        const auto& c = l->connections.counters;
        total.connections += c.connections.get();
        total.sockets += c.sockets.get();
        total.websockets += c.websockets.get();
        total.buffered_bytes += c.buffered_bytes.get();
        total.input_bytes += c.input_bytes.get();
    }
    total.budget_bytes = budget_.used();
    total.budget_refusals = budget_.refusals();
    total.refused_connections = admission_.refused();
    const topic_stats t = topics_.stats();
    total.topics = t.topics;
    total.subscriptions = t.subscriptions;
    total.published = t.published;
    total.delivered = t.delivered;
    total.dropped = t.dropped;
    total.waiting = t.waiting;
    return total;
}

ASTER_ENGINE void server::stop() noexcept {
    if (stopped_.exchange(true)) return;
    if (auto* broker = topics_.broker()) broker->stop();
    for (auto& l : loops_) net::post(l->ctx, [this, l = l.get()] { begin_shutdown(*l); });
}

// Runs on the loop's own thread: the registry and acceptor are that thread's alone.
ASTER_ENGINE void server::begin_shutdown(loop& l) {
    std::error_code ignored;
    if (l.acceptor) l.acceptor->close(ignored);
    l.accept_pause.cancel();
    detail::stop_watchdog(l.watchdog);
    if (&l == loops_[0].get() && signals_) signals_->cancel(ignored);
    if (l.connections.size() == 0) return; // nothing left: run() returns once work drains
    log(log_level::info,
        "aster: waiting for " + std::to_string(l.connections.size()) + " connection(s) to finish");
    l.shutdown_deadline.emplace(l.ctx);
    l.shutdown_deadline->expires_after(config_.shutdown_timeout);
    l.shutdown_deadline->async_wait([&l](std::error_code ec) {
        if (ec) return; // everything finished in time
        log(log_level::warning, "aster: shutdown timeout: cutting " +
                                    std::to_string(l.connections.size()) + " connection(s)");
        l.ctx.stop();
    });
    l.connections.on_empty = [&l] {
        if (l.shutdown_deadline) l.shutdown_deadline->cancel();
    };
    l.connections.shutdown_all();
}

ASTER_ENGINE std::shared_ptr<detail::tls_context> detail::load_tls(const server_config& config) {
    if (!config.tls) return nullptr;
#ifdef ASTER_HAS_TLS
    return std::make_shared<tls_context>(*config.tls);
#else
    throw std::invalid_argument("aster: server_config::tls is set, but this program was built "
                                "without TLS (define ASTER_HAS_TLS and link OpenSSL)");
#endif
}

ASTER_ENGINE task<> detail::accept_connections(net::ip::tcp::acceptor& acceptor,
                                               net::steady_timer& pause, admission& gate,
                                               const app_ref& app,
                                               const connection_options& options,
                                               tls_context* tls) {
    const auto executor = acceptor.get_executor();
    loop_counters& counters = options.registry->counters;
    accept_backoff backoff;
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
            if (auto wait = backoff.failed(ec); wait.count() > 0) {
                pause.expires_after(wait);
                auto [paused] = co_await pause.async_wait(use_tuple);
                if (paused == net::error::operation_aborted) co_return; // a stop
            }
            continue;
        }
        backoff.succeeded();
        counters.sockets.add(); // serve_tcp or refuse_busy closes and uncounts it
        net::ip::address client;
        if (gate.needs_address()) {
            std::error_code peer_ec;
            client = socket.remote_endpoint(peer_ec).address();
        }
        if (!gate.admit(client)) {
            net::co_spawn(executor, refuse_busy(std::move(socket), !tls, &counters), net::detached);
            continue;
        }
        net::co_spawn(executor, serve_tcp(std::move(socket), app, options, tls),
                      [&gate, client](std::exception_ptr e) {
                          gate.leave(client);
                          log_connection_end(e);
                      });
    }
}

// `app` and `options` are the server's (or serve_in_place's), alive until every connection
// has ended: held by reference, they cost no room in the frame each connection keeps. Not a
// coroutine: the connection's one frame is serve_stream's (serve_tls's with TLS).
ASTER_ENGINE task<> detail::serve_tcp(net::ip::tcp::socket socket, const app_ref& app,
                                      const connection_options& options, tls_context* tls) {
    std::error_code ec;
    socket.set_option(net::ip::tcp::no_delay(true), ec);
    auto peer = socket.remote_endpoint(ec);
    tcp_transport transport(std::move(socket),
                            options.registry ? &options.registry->counters : nullptr,
                            client_address{ec ? std::string() : peer.address().to_string(),
                                           ec ? std::uint16_t(0) : peer.port()});
#ifdef ASTER_HAS_TLS
    if (tls) return serve_tls(std::move(transport), app, options, *tls);
#else
    (void)tls; // listen() refuses TLS in a build without it
#endif
    return serve_stream(std::move(transport), app, options);
}

ASTER_ENGINE void detail::serve_app(app_ref app, server_config config) {
    apply_logging(config);
    server srv(app, std::move(config));
    srv.listen();
    log(log_level::info,
        listening_line(srv.config(), srv.port(), srv.threads()) + " (press Ctrl+C to quit)");
    srv.run();
}

ASTER_ENGINE task<> detail::serve_in_place(app_ref app, server_config config,
                                           std::function<void(std::uint16_t)> on_listening) {
    using net::ip::tcp;
    // The stop arrives as a cancellation; the waits after it must still complete normally.
    co_await net::this_coro::throw_if_cancelled(false);
    if (config.broker)
        throw std::invalid_argument("aster: a Redis broker needs aster::server (app.run), not "
                                    "app.serve()");
    auto executor = co_await net::this_coro::executor;
    tcp::acceptor acceptor(executor);
    std::shared_ptr<tls_context> tls = load_tls(config);
    ensure_descriptor_room(config.max_connections);
    apply_logging(config);
    auto endpoint = resolve_listen_address(config, executor);
    open_acceptor(acceptor, endpoint, config.host, config.reuse_port);
    const std::uint16_t port = acceptor.local_endpoint().port();
    log(log_level::info, listening_line(config, port, 1));
    if (app.startup) co_await app.startup(); // before the first accept; a throw ends serve()
    if (on_listening) on_listening(port);

    connection_registry registry;
    memory_budget budget(config.memory_budget);
    admission gate(config.max_connections, config.max_connections_per_client);
    topic_hub topics; // before the connections, which leave their topics as they end
    connection_options options{config.limits, config.websocket, nullptr, &registry};
    options.budget = &budget;
    options.topics = &topics.add_loop(executor);
    options.access_log = config.access_log;
    std::unique_ptr<loop_metrics> metrics;
    metrics_registry all_metrics;
    if (app.has_metrics) {
        metrics = std::make_unique<loop_metrics>();
        all_metrics.loops.push_back(metrics.get());
        all_metrics.gauges = [&registry, &budget, &gate] {
            const auto& c = registry.counters;
            return metrics_gauges{c.connections.get(),    c.sockets.get(),     c.websockets.get(),
                                  c.buffered_bytes.get(), c.input_bytes.get(), budget.used(),
                                  budget.refusals(),      gate.refused()};
        };
        options.metrics = metrics.get();
        options.all_metrics = &all_metrics;
    }
    bool stopping = false;
    net::steady_timer drained(executor); // pauses accepts; cancelled at the last connection's end
    gate.on_empty = [&stopping, &drained] {
        if (stopping) drained.cancel();
    };
    auto watchdog = start_watchdog(executor, registry);
    co_await accept_connections(acceptor, drained, gate, app, options, tls.get()); // until a stop

    // Graceful stop, as server::stop(), but the caller's loop keeps running: connections that
    // outlive shutdown_timeout are closed rather than abandoned. The connections use this
    // frame's registry and options, so it returns only once every one has ended.
    std::error_code ignored;
    acceptor.close(ignored);
    stop_watchdog(watchdog);
    stopping = true;
    if (gate.open() != 0) co_await drain(registry, drained, gate, config.shutdown_timeout);
    if (app.shutdown) co_await app.shutdown();
}

ASTER_ENGINE task<> detail::drain(connection_registry& registry, net::steady_timer& drained,
                                  const admission& gate,
                                  std::chrono::steady_clock::duration timeout) {
    log(log_level::info,
        "aster: waiting for " + std::to_string(gate.open()) + " connection(s) to finish");
    registry.shutdown_all();
    drained.expires_after(timeout);
    co_await drained.async_wait(use_tuple); // a second cancellation ends the wait: cut now
    if (gate.open() == 0) co_return;
    log(log_level::warning,
        "aster: shutdown timeout: cutting " + std::to_string(gate.open()) + " connection(s)");
    registry.abort_all();
    while (gate.open() >
           0) { // cut streams fail at once; a lingering close ends within linger_timeout
        drained.expires_after(linger_timeout);
        co_await drained.async_wait(use_tuple);
    }
}

} // namespace aster

#endif // ASTER_IMPL_SERVER_HPP
