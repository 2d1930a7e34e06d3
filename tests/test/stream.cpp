// SPDX-License-Identifier: MIT
// The in-memory duplex stream: delivery, read size caps, EOF, injected failures.
#include <aster/test/stream.hpp>

// This file reaches Asio through aster before any standard header of its own: Asio must still have
// seen the standard library's configuration, or its frame allocation differs from other files'.
#if defined(_GLIBCXX_HAVE_ALIGNED_ALLOC) && !defined(ASIO_HAS_STD_ALIGNED_ALLOC)
#error "aster included Asio before the standard library's configuration (see detail/config.hpp)"
#endif

#include <catch2/catch.hpp>

#include <aster/detail/read_buffer.hpp>
#include <aster/detail/stream.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>

#include <string>

namespace stream_test {

using aster::net::io_context;

aster::task<std::string> read_all(aster::test::stream& s, std::size_t* reads) {
    std::string out;
    char buf[64];
    for (;;) {
        auto [ec, n] = co_await s.async_read_some(aster::net::buffer(buf),
                                                  aster::detail::use_tuple);
        if (ec) co_return out;
        ++*reads;
        out.append(buf, n);
    }
}

} // namespace stream_test

TEST_CASE("test::stream: bytes written to one end are read at the other", "[test_stream]") {
    aster::net::io_context ctx;
    aster::test::stream a(ctx), b(ctx);
    a.connect(b);
    std::string got;
    std::size_t reads = 0;
    aster::net::co_spawn(ctx, stream_test::read_all(b, &reads),
                         [&](std::exception_ptr, std::string s) { got = s; });
    aster::net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            co_await aster::net::async_write(a, aster::net::buffer(std::string_view("hello ")),
                                             aster::net::use_awaitable);
            co_await aster::net::async_write(a, aster::net::buffer(std::string_view("world")),
                                             aster::net::use_awaitable);
            a.close();
        },
        aster::net::detached);
    ctx.run();
    CHECK(got == "hello world");
    CHECK(reads >= 1);
}

TEST_CASE("test::stream: read_size caps each read", "[test_stream]") {
    aster::net::io_context ctx;
    aster::test::stream a(ctx), b(ctx);
    a.connect(b);
    b.read_size(1);
    std::string got;
    std::size_t reads = 0;
    aster::net::co_spawn(ctx, stream_test::read_all(b, &reads),
                         [&](std::exception_ptr, std::string s) { got = s; });
    a.send("abcdef");
    a.close();
    ctx.run();
    CHECK(got == "abcdef");
    CHECK(reads == 6);
}

TEST_CASE("test::stream: fail_after injects connection_reset", "[test_stream]") {
    aster::net::io_context ctx;
    aster::test::stream a(ctx), b(ctx);
    a.connect(b);
    a.fail_after(1);
    std::vector<std::error_code> results;
    aster::net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            for (int i = 0; i < 3; ++i) {
                auto [ec,
                      n] = co_await a.async_write_some(aster::net::buffer(std::string_view("x")),
                                                       aster::detail::use_tuple);
                results.push_back(ec);
            }
        },
        aster::net::detached);
    ctx.run();
    REQUIRE(results.size() == 3);
    CHECK_FALSE(results[0]);
    CHECK(results[1] == aster::net::error::connection_reset);
    CHECK(b.pending() == "x");
}

TEST_CASE("test::stream: writing to a closed peer fails, reading a closed peer gives EOF",
          "[test_stream]") {
    aster::net::io_context ctx;
    aster::test::stream a(ctx), b(ctx);
    a.connect(b);
    b.close();
    std::error_code write_ec, read_ec;
    aster::net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            auto [ec, n] = co_await a.async_write_some(aster::net::buffer(std::string_view("x")),
                                                       aster::detail::use_tuple);
            write_ec = ec;
            char buf[4];
            auto [ec2, n2] = co_await a.async_read_some(aster::net::buffer(buf),
                                                        aster::detail::use_tuple);
            read_ec = ec2;
        },
        aster::net::detached);
    ctx.run();
    CHECK(write_ec == aster::net::error::connection_reset);
    CHECK(read_ec == aster::net::error::eof);
}

// The engine's fast paths (reads of what is there, answers written in place) are taken for
// streams with these; test::stream has them, so test_client runs those paths as TCP does.
static_assert(aster::detail::waitable_stream<aster::test::stream>);

TEST_CASE("test::stream: synchronous reads would block, writes go out at once", "[test_stream]") {
    aster::net::io_context ctx;
    aster::test::stream a(ctx), b(ctx);
    a.connect(b);
    std::error_code ec;
    b.non_blocking(true, ec);
    CHECK_FALSE(ec);
    CHECK(b.non_blocking());
    char buf[8];
    CHECK(b.read_some(aster::net::buffer(buf), ec) == 0);
    CHECK(ec == aster::net::error::would_block);

    a.write_size(3);
    CHECK(a.write_some(aster::net::buffer(std::string_view("hello")), ec) == 3);
    CHECK_FALSE(ec);
    b.read_size(2);
    CHECK(b.read_some(aster::net::buffer(buf), ec) == 2);
    CHECK(std::string_view(buf, 2) == "he");
    CHECK(b.read_some(aster::net::buffer(buf), ec) == 1);
    CHECK(b.read_some(aster::net::buffer(buf), ec) == 0);
    CHECK(ec == aster::net::error::would_block);

    a.close();
    CHECK(b.read_some(aster::net::buffer(buf), ec) == 0);
    CHECK(ec == aster::net::error::eof);
    CHECK(b.write_some(aster::net::buffer(std::string_view("x")), ec) == 0);
    CHECK(ec == aster::net::error::connection_reset);
}

// Every engine template takes its stream through these: a type that misses one is rejected where
// it is named, not deep inside the session.
static_assert(aster::detail::waitable_stream<aster::test::stream>);
static_assert(aster::detail::waitable_stream<aster::net::ip::tcp::socket>);
static_assert(!aster::detail::async_stream<int>);
static_assert(!aster::detail::async_stream<std::string>);

TEST_CASE("stream customisation points: reads and writes that never wait, cancel, close",
          "[test_stream]") {
    using namespace aster::detail;
    aster::net::io_context ctx;
    aster::test::stream a(ctx), b(ctx);
    a.connect(b);
    make_non_blocking(b);
    CHECK(b.non_blocking());
    char buf[8];
    immediate_io got = try_read(b, aster::net::buffer(buf));
    CHECK(got.blocked);
    CHECK_FALSE(got.ec);
    CHECK(got.n == 0);

    a.write_size(4);
    immediate_io put = try_write(a, aster::net::buffer(std::string_view("hello")));
    CHECK_FALSE(put.blocked);
    CHECK(put.n == 4);
    got = try_read(b, aster::net::buffer(buf));
    CHECK(std::string_view(buf, got.n) == "hell");

    // cancel ends a pending read and leaves the stream open; close ends it for good.
    std::error_code pending;
    b.async_read_some(aster::net::buffer(buf),
                      [&](std::error_code ec, std::size_t) { pending = ec; });
    ctx.poll();
    cancel_stream(b);
    ctx.restart();
    ctx.poll();
    CHECK(pending == aster::net::error::operation_aborted);
    CHECK(b.is_open());
    close_stream(b);
    CHECK_FALSE(b.is_open());
    put = try_write(a, aster::net::buffer(std::string_view("x")));
    CHECK_FALSE(put.blocked);
    CHECK(put.ec == aster::net::error::connection_reset);
}

TEST_CASE("test::stream: fail_after counts synchronous reads and writes too", "[test_stream]") {
    aster::net::io_context ctx;
    aster::test::stream a(ctx), b(ctx);
    a.connect(b);
    std::error_code ec;
    a.fail_after(1);
    CHECK(a.write_some(aster::net::buffer(std::string_view("x")), ec) == 1);
    CHECK_FALSE(a.failure_injected());
    char buf[4];
    CHECK(a.read_some(aster::net::buffer(buf), ec) == 0);
    CHECK(ec == aster::net::error::connection_reset);
    CHECK(a.failure_injected());
}
