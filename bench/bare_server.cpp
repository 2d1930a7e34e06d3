// SPDX-License-Identifier: MIT
// The floor of aster's stack: standalone Asio C++20 coroutines and llhttp answering every request
// with one precomputed response, the same bytes aster sends for GET /plaintext. No framework.
// ./bare_server [--port 8001]; listens on 127.0.0.1 with one thread.
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#if ASIO_VERSION >= 102300
#include <asio/as_tuple.hpp>
#else
#include <asio/experimental/as_tuple.hpp>
#endif

#include <llhttp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using asio::ip::tcp;

#if ASIO_VERSION >= 102300
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
#else
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
#endif

// What aster writes for GET /plaintext on an HTTP/1.1 keep-alive connection, header for header.
// The Date is rebuilt once a second by a timer, so a request costs only a copy of these bytes.
class fixed_response {
public:
    void refresh() {
        std::time_t now = std::time(nullptr);
        if (now == second_) return;
        second_ = now;
        std::tm parts{};
        gmtime_r(&now, &parts);
        char date[32];
        std::size_t n = std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &parts);
        bytes_.assign("HTTP/1.1 200 OK\r\n"
                      "Content-Length: 13\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n"
                      "Date: ");
        bytes_.append(date, n).append("\r\n\r\nHello, World!");
    }
    std::string_view bytes() const noexcept { return bytes_; }

private:
    std::time_t second_ = 0;
    std::string bytes_;
};

// Per-connection state the llhttp callback reaches through parser.data.
struct connection_state {
    const fixed_response& response;
    std::string out; // one response per complete request of this read, sent in one write
    bool close = false;
};

int on_message_complete(llhttp_t* parser) {
    auto& state = *static_cast<connection_state*>(parser->data);
    state.out.append(state.response.bytes());
    if (llhttp_should_keep_alive(parser)) return 0;
    // RFC 9112 §9.6: nothing after a request that asked to close is answered.
    state.close = true;
    return HPE_PAUSED;
}

const llhttp_settings_t& parser_settings() {
    static const llhttp_settings_t settings = [] {
        llhttp_settings_t s;
        llhttp_settings_init(&s);
        s.on_message_complete = &on_message_complete;
        return s;
    }();
    return settings;
}

asio::awaitable<void> serve(tcp::socket socket, const fixed_response& response) {
    std::error_code ec;
    socket.set_option(tcp::no_delay(true), ec); // as aster: replies must not wait for Nagle
    llhttp_t parser;
    llhttp_init(&parser, HTTP_REQUEST, &parser_settings());
    connection_state state{response, {}, false};
    parser.data = &state;
    char in[4096]; // llhttp keeps its own state, so a request split across reads needs no copy
    for (;;) {
        auto [read_ec, n] = co_await socket.async_read_some(asio::buffer(in), use_tuple);
        if (read_ec) break;
        // Every request this read brought in is parsed and answered before the one write.
        llhttp_errno_t err = llhttp_execute(&parser, in, n);
        bool failed = err != HPE_OK && !(err == HPE_PAUSED && state.close);
        if (!state.out.empty()) {
            auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(state.out),
                                                                  use_tuple);
            state.out.clear();
            if (write_ec) break;
        }
        if (failed || state.close) break; // malformed input or Connection: close
    }
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const fixed_response& response) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
        if (ec) continue;
        asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), response), asio::detached);
    }
}

asio::awaitable<void> refresh_date(fixed_response& response) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
        timer.expires_after(std::chrono::seconds(1));
        co_await timer.async_wait(use_tuple);
        response.refresh();
    }
}

unsigned short port_from_args(int argc, char** argv) {
    unsigned long port = 8001;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        const char* text = nullptr;
        if (arg == "--port" && i + 1 < argc) text = argv[++i];
        else if (arg.starts_with("--port=")) text = argv[i] + 7;
        else throw std::invalid_argument("unknown option: " + std::string(arg) + " (use --port)");
        char* end = nullptr;
        port = std::strtoul(text, &end, 10);
        if (*text == '\0' || *end != '\0' || port > 65535)
            throw std::invalid_argument("--port: not a port number: " + std::string(text));
    }
    return static_cast<unsigned short>(port);
}

} // namespace

int main(int argc, char** argv) {
    try {
        asio::io_context ctx{1}; // one thread: Asio may skip its locks, as aster's loops do
        tcp::acceptor acceptor(ctx);
        tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port_from_args(argc, argv));
        acceptor.open(endpoint.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(asio::socket_base::max_listen_connections);
        fixed_response response;
        response.refresh();
        asio::co_spawn(ctx, accept_loop(acceptor, response), asio::detached);
        asio::co_spawn(ctx, refresh_date(response), asio::detached);
        ctx.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bare_server: %s\n", e.what());
        return 1;
    }
}
