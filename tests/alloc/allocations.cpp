// SPDX-License-Identifier: MIT
// Counts heap allocations (replaced global operator new) across 1,000 keep-alive requests and
// 1,000 WebSocket echoes after warm-up: the steady state must allocate nothing.
// Its own executable, since replacing operator new affects the whole program.
#include <aster/aster.hpp>

#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

namespace allocations_test {
std::atomic<long> count{0};
}

void* operator new(std::size_t n) {
    allocations_test::count.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
    allocations_test::count.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::aligned_alloc(std::size_t(a),
                                     (n + std::size_t(a) - 1) / std::size_t(a) * std::size_t(a)))
        return p;
    throw std::bad_alloc();
}
// The nothrow forms too (Catch allocates with them): otherwise they come from the C++ runtime
// (or ASan) and meet the free() below, a mismatch ASan reports.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    allocations_test::count.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace allocations_test {

using aster::net::io_context;

aster::response plaintext(aster::request&) { return aster::plain_text("Hello, World!"); }
aster::response greeting(aster::request&, std::string_view, std::string_view, std::string_view) {
    return aster::plain_text("Hello, World!");
}

// Small bodies: buffered for a plain handler; read piece by piece by a coroutine (a chunked body
// streams from the read buffer).
aster::response submit(aster::request& r) {
    return aster::plain_text(r.buffered_body().size() == 5 ? "Hello, World!" : "wrong body");
}
aster::task<aster::response> upload(aster::request& r) {
    std::size_t size = 0;
    for (auto piece = co_await r.read_some(); !piece.empty(); piece = co_await r.read_some())
        size += piece.size();
    co_return aster::plain_text(size == 5 ? "Hello, World!" : "wrong body");
}

struct echo : aster::websocket_endpoint {
    aster::task<> on_receive(aster::websocket& ws, const aster::websocket_message& m) {
        if (m.text) co_await ws.send_text(m.data);
        else co_await ws.send_bytes(m.data);
    }
};

// "/plaintext" is tried against the three-parameter route first: matching uses stack bitsets.
constexpr aster::application app{aster::routes(aster::route<"/{a}-{b}/{c}">(greeting),
                                               aster::route<"/plaintext">(plaintext),
                                               aster::route<"/submit", aster::method::post>(submit),
                                               aster::route<"/upload", aster::method::post>(upload),
                                               aster::websocket_route<"/ws", echo>())};

struct result {
    long warm_allocations = 0;
    long steady_allocations = 0;
    int answers = 0;
};

// The client side works on fixed buffers so that only the server's allocations are counted.
template <std::size_t N>
aster::task<> http_requests(aster::test::stream& s, const std::string_view (&requests)[N],
                            int warmup, int rounds, result& out) {
    char buffer[4096];
    long before = 0;
    for (int i = 0; i < warmup + rounds; ++i) {
        if (i == warmup) before = count.load();
        co_await aster::net::async_write(s, aster::net::buffer(requests[i % N]),
                                         aster::net::use_awaitable);
        std::size_t have = 0;
        for (;;) {
            have += co_await s.async_read_some(
                aster::net::buffer(buffer + have, sizeof buffer - have), aster::net::use_awaitable);
            std::string_view seen(buffer, have);
            if (seen.size() >= 13 && seen.substr(seen.size() - 13) == "Hello, World!") break;
        }
        ++out.answers;
    }
    out.steady_allocations = count.load() - before;
    s.close();
}

aster::task<> http_client(aster::test::stream& s, int warmup, int rounds, result& out) {
    static constexpr std::string_view requests[] = {
        "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /hello-big/world HTTP/1.1\r\nHost: t\r\n\r\n"};
    return http_requests(s, requests, warmup, rounds, out);
}

aster::task<> body_client(aster::test::stream& s, int warmup, int rounds, result& out) {
    static constexpr std::string_view requests[] = {
        "POST /submit HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
        "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
        "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"};
    return http_requests(s, requests, warmup, rounds, out);
}

aster::task<> ws_client(aster::test::stream& s, int warmup, int rounds, result& out) {
    static constexpr std::string_view handshake =
        "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    char buffer[4096];
    co_await aster::net::async_write(s, aster::net::buffer(handshake), aster::net::use_awaitable);
    std::size_t have = 0;
    while (std::string_view(buffer, have).find("\r\n\r\n") == std::string_view::npos)
        have += co_await s.async_read_some(aster::net::buffer(buffer + have, sizeof buffer - have),
                                           aster::net::use_awaitable);
    // A masked 32-byte text frame; the key is zero, so the payload is sent as is.
    std::uint8_t frame[2 + 4 + 32] = {0x81, 0x80 | 32, 0, 0, 0, 0};
    for (int i = 0; i < 32; ++i) frame[6 + i] = std::uint8_t('a' + i % 26);
    long before = 0;
    for (int i = 0; i < warmup + rounds; ++i) {
        if (i == warmup) before = count.load();
        co_await aster::net::async_write(s, aster::net::buffer(frame), aster::net::use_awaitable);
        std::size_t got = 0;
        while (got < 2 + 32)
            got += co_await s.async_read_some(aster::net::buffer(buffer + got, sizeof buffer - got),
                                              aster::net::use_awaitable);
        ++out.answers;
    }
    out.steady_allocations = count.load() - before;
    s.close();
}

template <class Client>
result drive(Client client) {
    io_context ctx;
    aster::test::stream client_end(ctx), server_end(ctx);
    client_end.connect(server_end);
    aster::detail::connection_options options;
    result out;
    aster::net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            const auto ref = app.ref();
            aster::client_address client{"test", 1}; // named: g++ 12 and temporaries in co_await
            co_await aster::detail::serve_stream(server_end, ref, options, std::move(client));
        },
        aster::net::detached);
    aster::net::co_spawn(ctx, client(client_end, 100, 1000, out), aster::net::detached);
    ctx.run();
    return out;
}

TEST_CASE("allocations: 1,000 keep-alive requests after warm-up allocate nothing", "[alloc]") {
    auto r = drive(http_client);
    CHECK(r.answers == 1100);
    CHECK(r.steady_allocations == 0);
}

TEST_CASE("allocations: 1,000 requests with small bodies (buffered and streamed) allocate nothing",
          "[alloc]") {
    auto r = drive(body_client);
    CHECK(r.answers == 1100);
    CHECK(r.steady_allocations == 0);
}

TEST_CASE("allocations: 1,000 WebSocket echoes after warm-up allocate nothing", "[alloc]") {
    auto r = drive(ws_client);
    CHECK(r.answers == 1100);
    CHECK(r.steady_allocations == 0);
}

TEST_CASE("allocations: the counter sees allocations at all", "[alloc]") {
    long before = count.load();
    auto* p = new std::string(100, 'x');
    delete p;
    CHECK(count.load() - before >= 1);
}

} // namespace allocations_test
