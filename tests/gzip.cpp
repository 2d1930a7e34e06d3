// aster::gzip, through test_client; bodies are inflated back with zlib here.
#include <aster/aster.hpp>
#include <aster/middleware/gzip.hpp>

#include <catch2/catch.hpp>

#if ASTER_HAS_ZLIB
#include "support/gunzip.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace gzip_test {

using test_support::gunzip;

std::string big_text() {
    std::string s;
    for (int i = 0; i < 200; ++i) s += "line " + std::to_string(i) + " of a compressible body\n";
    return s;
}

aster::task<aster::response> big(aster::request&) {
    co_return aster::plain_text(big_text()).header("Vary", "Cookie");
}
aster::task<aster::response> small(aster::request&) { co_return aster::plain_text("tiny"); }
aster::task<aster::response> encoded(aster::request&) {
    co_return aster::plain_text(big_text()).header("Content-Encoding", "br");
}
aster::task<aster::response> nothing(aster::request&) {
    co_return aster::response(aster::status::no_content);
}
aster::task<aster::response> stream(aster::request&) {
    co_return aster::streaming([](aster::body_writer& out) -> aster::task<> {
        for (int i = 0; i < 50; ++i) co_await out.write("chunk " + std::to_string(i) + "\n");
        co_await out.write(""); // skipped, not an early end
    });
}
aster::task<aster::response> events(aster::request&) {
    co_return aster::streaming(
        [](aster::body_writer& out) -> aster::task<> { co_await out.write("data: 1\n\n"); },
        "text/event-stream");
}

constexpr auto table = aster::routes(aster::route<"/big">(big), aster::route<"/small">(small),
                                     aster::route<"/encoded">(encoded),
                                     aster::route<"/stream">(stream),
                                     aster::route<"/events">(events),
                                     aster::route<"/nothing">(nothing));

const aster::request_options gzip_ok{.headers = {{"Accept-Encoding", "deflate, GZIP;q=0.8"}}};

TEST_CASE("gzip: a large body is compressed when the client accepts gzip", "[gzip]") {
    const aster::application app{table,
                                 aster::middleware(aster::gzip{.minimum_size = 500, .level = 6})};
    aster::test_client client{app};
    auto r = client.get("/big", gzip_ok);
    CHECK(r.status_code == 200);
    CHECK(r.header("content-encoding") == "gzip");
    CHECK(r.header("vary") == "Cookie, Accept-Encoding");
    CHECK(r.header("content-length") == std::to_string(r.body.size()));
    CHECK(r.body.size() < big_text().size());
    CHECK(gunzip(r.body) == big_text());
    CHECK(r.header("content-type") == "text/plain; charset=utf-8");
    auto head = client.head("/big", gzip_ok); // the same headers, without the body
    CHECK(head.body.empty());
    CHECK(head.header("content-encoding") == "gzip");
    CHECK(head.header("content-length") == r.header("content-length"));
}

TEST_CASE("gzip: left alone without Accept-Encoding gzip, when small, or already encoded",
          "[gzip]") {
    const aster::application app{table, aster::middleware(aster::gzip{})};
    aster::test_client client{app};
    auto plain = client.get("/big", {.headers = {{"Accept-Encoding", "identity"}}});
    CHECK(plain.body == big_text());
    CHECK_FALSE(plain.header("content-encoding"));
    CHECK(plain.header("vary") == "Cookie");
    auto small = client.get("/small", gzip_ok);
    CHECK(small.body == "tiny");
    CHECK_FALSE(small.header("content-encoding"));
    CHECK_FALSE(small.header("vary"));
    auto br = client.get("/encoded", gzip_ok);
    CHECK(br.header_values("content-encoding") == std::vector<std::string>{"br"});
    CHECK(br.body == big_text());
    auto sse = client.get("/events", gzip_ok);
    CHECK(sse.body == "data: 1\n\n");
    CHECK_FALSE(sse.header("content-encoding"));
}

TEST_CASE("gzip: minimum_size is the threshold", "[gzip]") {
    const aster::application app{table, aster::middleware(aster::gzip{.minimum_size = 4})};
    aster::test_client client{app};
    auto r = client.get("/small", gzip_ok);
    CHECK(r.header("content-encoding") == "gzip");
    CHECK(gunzip(r.body) == "tiny");
    const aster::application zero{table, aster::middleware(aster::gzip{.minimum_size = 0})};
    aster::test_client zero_client{zero};
    auto empty = zero_client.get("/nothing", gzip_ok);
    CHECK(empty.status_code == 204);
    CHECK(empty.body.empty());
    CHECK_FALSE(empty.header("content-encoding"));
}

TEST_CASE("gzip: streaming responses are compressed chunk by chunk", "[gzip]") {
    const aster::application app{table, aster::middleware(aster::gzip{})};
    aster::test_client client{app};
    auto r = client.get("/stream", gzip_ok);
    CHECK(r.header("content-encoding") == "gzip");
    CHECK(r.header("vary") == "Accept-Encoding");
    std::string expected;
    for (int i = 0; i < 50; ++i) expected += "chunk " + std::to_string(i) + "\n";
    CHECK(gunzip(r.body) == expected);
    auto plain = client.get("/stream");
    CHECK(plain.body == expected);
}

TEST_CASE("gzip: each chunk is flushed, so it can be inflated before the stream ends", "[gzip]") {
    const aster::application app{table, aster::middleware(aster::gzip{})};
    aster::test_client client{app};
    auto r = client.get("/stream", gzip_ok);
    // Z_SYNC_FLUSH ends each chunk's output with an empty stored block, 00 00 FF FF: one per
    // chunk written, and the bytes up to the first inflate to the first chunk exactly.
    const std::string marker("\x00\x00\xff\xff", 4);
    std::size_t count = 0, first = std::string::npos;
    for (auto at = r.body.find(marker); at != std::string::npos; at = r.body.find(marker, at + 4)) {
        if (first == std::string::npos) first = at;
        ++count;
    }
    CHECK(count >= 50);
    REQUIRE(first != std::string::npos);
    std::string head = r.body.substr(0, first + 4);
    z_stream z{};
    REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(head.data());
    z.avail_in = static_cast<uInt>(head.size());
    char buf[256];
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    CHECK(inflate(&z, Z_SYNC_FLUSH) == Z_OK);
    std::string got(buf, sizeof buf - z.avail_out);
    inflateEnd(&z);
    CHECK(got == "chunk 0\n");
}

TEST_CASE("gzip: a bad level is a clear error", "[gzip]") {
    CHECK_THROWS_WITH(aster::gzip::compress("x", 42),
                      "aster::gzip: level must be 0..9 (or -1), not 42");
    CHECK(gunzip(aster::gzip::compress("", 9)).empty());
}

} // namespace gzip_test

#endif // ASTER_HAS_ZLIB
