// SPDX-License-Identifier: MIT
// message_buffer: appends keep every byte across growth (heap, then a mapping of its own), and
// growth stops at the cap it is given.
#include <aster/detail/message_buffer.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("message_buffer: bytes survive every growth, from the heap to a mapping",
          "[message_buffer]") {
    aster::detail::message_buffer b;
    CHECK(b.empty());
    std::string expected;
    for (int i = 0; expected.size() < 3 * 1024 * 1024; ++i) {
        std::string piece = "piece " + std::to_string(i) + std::string(std::size_t(i % 5000), 'x');
        b.append(piece);
        expected += piece;
    }
    CHECK(b.view() == expected);
    b.truncate(10);
    CHECK(b.view() == expected.substr(0, 10));
    b.clear();
    CHECK(b.empty());
    b.release();
    CHECK(b.capacity() == 0);
}

TEST_CASE("message_buffer: growth doubles but never passes the cap", "[message_buffer]") {
    aster::detail::message_buffer b;
    const std::size_t cap = 16 * 1024 * 1024 + 1;
    while (b.size() < cap) {
        b.reserve(64 * 1024, cap);
        REQUIRE(b.spare_size() > 0);
        // A mapping rounds up to a page: within one of the cap, never the doubling's 32 MiB.
        CHECK(b.capacity() <= cap + 4096);
        std::size_t n = std::min(b.spare_size(), cap - b.size());
        b.spare()[0] = 'a';
        b.spare()[n - 1] = 'z';
        b.commit(n);
    }
    CHECK(b.size() == cap);
    CHECK(b.data()[cap - 1] == 'z');
    CHECK_THROWS_AS(b.append(std::string(8192, 'q'), cap), std::length_error);
}
