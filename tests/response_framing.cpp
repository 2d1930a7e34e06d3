// SPDX-License-Identifier: MIT
// Every response kind behind every middleware, pipelined on one kept-alive connection and parsed
// byte-exactly: a length that is not the length of the bytes sent would shift every response
// after it (the gzip response injection). Then gzip's ranges and entity tags.
#include <aster/aster.hpp>
#include <aster/event_source.hpp>
#include <aster/file_response.hpp>
#include <aster/middleware/cors.hpp>
#include <aster/middleware/gzip.hpp>
#include <aster/middleware/trusted_host.hpp>
#include <aster/static_files.hpp>

#include <catch2/catch.hpp>

#if ASTER_HAS_ZLIB
#include "support/gunzip.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace response_framing_test {

namespace fs = std::filesystem;
using aster::request;
using aster::response;
using aster::task;

// What an attacker who controls a file's tail (an upload) would put there: with the old
// framing, gzip's stored blocks carried it past the declared Content-Length verbatim.
constexpr std::string_view injected = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhacked";

std::string compressible(std::size_t n) {
    std::string s;
    while (s.size() < n) s += "line " + std::to_string(s.size()) + " of a compressible body\n";
    s.resize(n);
    return s;
}

// Bytes deflate cannot shrink (xorshift), ending with the injected response.
std::string incompressible(std::size_t n) {
    std::string s(n, '\0');
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    for (auto& c : s) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        c = char(x);
    }
    s.replace(n - injected.size(), injected.size(), injected);
    return s;
}

struct files {
    fs::path dir;
    // A child forked by another test (server_config::from_args exits) runs this destructor
    // too: only the process that made the directory removes it.
    pid_t owner = ::getpid();
    std::string text = compressible(100 * 1024), noise = incompressible(70 * 1024);
    files() {
        char tmpl[] = "/tmp/aster_framing_XXXXXX";
        dir = ::mkdtemp(tmpl);
        std::ofstream(dir / "text.txt", std::ios::binary) << text;
        std::ofstream(dir / "noise.bin", std::ios::binary) << noise;
    }
    ~files() {
        std::error_code ec;
        if (::getpid() == owner) fs::remove_all(dir, ec);
    }
};

files& data() {
    static files f;
    return f;
}
const std::string& dir() {
    static const std::string d = data().dir.string();
    return d;
}

response small(request&) { return aster::plain_text("small body"); }
response large(request&) { return aster::plain_text(compressible(40 * 1024)); }
response empty(request&) { return response(aster::status::no_content); }
task<response> stream(request&) {
    co_return aster::streaming([](aster::body_writer& out) -> task<> {
        for (int i = 0; i < 40; ++i) co_await out.write(compressible(1000));
    });
}
// A streamed body of known length: Content-Length, not chunked, when nothing wraps it.
task<response> sized(request&) {
    auto r = aster::streaming([](aster::body_writer& out) -> task<> {
        for (int i = 0; i < 40; ++i) co_await out.write(compressible(1000));
    });
    r.set_stream_length(40 * 1000);
    co_return r;
}
task<response> events(request&) {
    co_return aster::event_source_response([](aster::event_writer& out) -> task<> {
        co_await out.send_data("one");
        co_await out.send_data("two");
    });
}
response text_file(request& req) { return aster::file_response(req, dir() + "/text.txt"); }
response noise_file(request& req) { return aster::file_response(req, dir() + "/noise.bin"); }

// A user's middleware that wraps every streamed body (here: appends a line), as a compressor,
// a transcoder or a signer would. What it writes is not what the inner stream promised.
struct footer {
    task<response> operator()(request& req, aster::call_next next) const {
        auto res = co_await next(req);
        if (res.is_streaming()) {
            response::producer inner = res.body_producer();
            res.set_producer([inner](aster::body_writer& out) { return with_footer(inner, out); });
        }
        co_return res;
    }
    static task<> with_footer(response::producer inner, aster::body_writer& out) {
        co_await inner(out);
        co_await out.write("-- footer\n");
    }
};

// Not constexpr: the static files' directory is made when the tests start.
const auto table = aster::routes(aster::route<"/small">(small), aster::route<"/large">(large),
                                 aster::route<"/empty">(empty), aster::route<"/stream">(stream),
                                 aster::route<"/sized">(sized), aster::route<"/events">(events),
                                 aster::route<"/text">(text_file),
                                 aster::route<"/noise">(noise_file),
                                 aster::mount<"/static">(aster::static_files{dir()}));

// One request per response kind, with what its body must decode to (identity bytes).
struct exchange_case {
    std::string target, extra_headers, body;
    int status;
    bool streamed; // the wrapping footer applies
};

std::vector<exchange_case> cases() {
    const auto& f = data();
    std::string stream_body;
    for (int i = 0; i < 40; ++i) stream_body += compressible(1000);
    return {
        {"/small", "", "small body", 200, false},
        {"/large", "", compressible(40 * 1024), 200, false},
        {"/empty", "", "", 204, false},
        {"/stream", "", stream_body, 200, true},
        {"/sized", "", stream_body, 200, true},
        {"/events", "", "data: one\n\ndata: two\n\n", 200, true},
        {"/text", "", f.text, 200, true},
        {"/noise", "", f.noise, 200, true},
        {"/text", "Range: bytes=100-5099\r\n", f.text.substr(100, 5000), 206, true},
        {"/noise", "Range: bytes=-100\r\n", f.noise.substr(f.noise.size() - 100), 206, true},
        {"/text", "Range: bytes=999999-\r\n", "Range Not Satisfiable", 416, false},
        {"/static/noise.bin", "", f.noise, 200, true},
        {"/missing", "", "Not Found", 404, false},
    };
}

// Sends every case pipelined on one connection, then a closing request, and checks each
// response decodes to its case's bytes; a framing error misplaces everything after it.
template <class App>
void check_pipeline(const App& app, bool wraps_streams) {
    aster::test_client client{app};
    const auto all = cases();
    std::string bytes;
    for (const auto& c : all)
        bytes += "GET " + c.target +
                 " HTTP/1.1\r\nHost: testserver\r\nAccept-Encoding: gzip\r\n"
                 "Origin: https://example.org\r\n" +
                 c.extra_headers + "\r\n";
    bytes += "GET /small HTTP/1.1\r\nHost: testserver\r\nConnection: close\r\n\r\n";
    auto responses = client.exchange(bytes, all.size() + 1);
    REQUIRE(responses.size() == all.size() + 1);
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& c = all[i];
        const auto& r = responses[i];
        INFO(c.target << " " << c.extra_headers);
        CHECK(r.status_code == c.status);
        std::string body = r.header("content-encoding") == "gzip" ? test_support::gunzip(r.body)
                                                                  : r.body;
        std::string expected = c.body;
        if (wraps_streams && c.streamed) expected += "-- footer\n";
        CHECK(body.size() == expected.size());
        CHECK(body == expected);
        if (auto length = r.header("content-length"))
            CHECK(*length == std::to_string(r.body.size()));
    }
    CHECK(responses.back().body == "small body");
}

// Promises five bytes and writes more: the rest must never reach the client.
task<response> liar(request&) {
    auto r = aster::streaming([](aster::body_writer& out) -> task<> {
        co_await out.write("12345");
        co_await out.write(injected);
    });
    r.set_stream_length(5);
    co_return r;
}

} // namespace response_framing_test

TEST_CASE("response framing: every response kind behind every middleware parses byte-exactly "
          "on one kept-alive connection",
          "[framing][gzip]") {
    using namespace response_framing_test;
    SECTION("no middleware") { check_pipeline(aster::application{table}, false); }
    SECTION("gzip") {
        check_pipeline(aster::application{table, aster::middleware(aster::gzip{.minimum_size = 0})},
                       false);
    }
    SECTION("cors and trusted_host") {
        check_pipeline(aster::application{table,
                                          aster::middleware(aster::cors{{.allow_origins = {"*"}}},
                                                            aster::trusted_host{{"testserver"}})},
                       false);
    }
    SECTION("a user's middleware that wraps streamed bodies") {
        check_pipeline(aster::application{table, aster::middleware(footer{})}, true);
    }
    SECTION("the user's wrapper inside gzip") {
        check_pipeline(aster::application{table, aster::middleware(aster::gzip{}, footer{})}, true);
    }
}

TEST_CASE("response framing: HEAD answers pipelined behind every middleware", "[framing][gzip]") {
    using namespace response_framing_test;
    const aster::application app{table,
                                 aster::middleware(aster::gzip{.minimum_size = 0}, footer{})};
    aster::test_client client{app};
    std::string bytes;
    for (std::string_view t : {"/small", "/large", "/stream", "/sized", "/text", "/noise"})
        bytes += "HEAD " + std::string(t) +
                 " HTTP/1.1\r\nHost: testserver\r\nAccept-Encoding: gzip\r\n\r\n";
    auto responses = client.exchange(bytes, 6, true);
    REQUIRE(responses.size() == 6);
    for (const auto& r : responses) {
        CHECK(r.status_code == 200);
        CHECK(r.body.empty());
    }
}

TEST_CASE("gzip: an incompressible file cannot smuggle a response past its length",
          "[framing][gzip]") {
    using namespace response_framing_test;
    const aster::application app{table, aster::middleware(aster::gzip{})};
    aster::test_client client{app};
    auto file = client.get("/noise", {.headers = {{"Accept-Encoding", "gzip"}}});
    CHECK(file.header("content-encoding") == "gzip");
    CHECK_FALSE(file.header("content-length")); // the compressed size is not known up front
    CHECK(file.header("transfer-encoding") == "chunked");
    CHECK(test_support::gunzip(file.body) == data().noise);
    auto next = client.get("/small"); // the same kept-alive connection
    CHECK(next.body == "small body");
}

TEST_CASE("gzip: ranges are served uncompressed from the file itself", "[framing][gzip]") {
    using namespace response_framing_test;
    const aster::application app{table, aster::middleware(aster::gzip{})};
    aster::test_client client{app};
    auto r = client.get("/text",
                        {.headers = {{"Accept-Encoding", "gzip"}, {"Range", "bytes=10-19"}}});
    CHECK(r.status_code == 206);
    CHECK_FALSE(r.header("content-encoding"));
    CHECK(r.header("content-range") == "bytes 10-19/" + std::to_string(data().text.size()));
    CHECK(r.body == data().text.substr(10, 10));
}

TEST_CASE("gzip: the compressed representation has its own ETag, and 304 compares against the "
          "one that would be sent",
          "[framing][gzip]") {
    using namespace response_framing_test;
    const aster::application app{table, aster::middleware(aster::gzip{})};
    aster::test_client client{app};
    auto identity = client.get("/text");
    auto compressed = client.get("/text", {.headers = {{"Accept-Encoding", "gzip"}}});
    const std::string tag = *identity.header("etag");
    REQUIRE(compressed.header("etag"));
    const std::string gz_tag = *compressed.header("etag");
    CHECK(gz_tag != tag);
    CHECK(gz_tag == tag.substr(0, tag.size() - 1) + "-gzip\"");

    // A gzip client holding the compressed bytes: 304, naming the compressed tag.
    auto fresh = client.get("/text",
                            {.headers = {{"Accept-Encoding", "gzip"}, {"If-None-Match", gz_tag}}});
    CHECK(fresh.status_code == 304);
    CHECK(fresh.body.empty());
    CHECK(fresh.header("etag") == gz_tag);
    CHECK(fresh.header("vary") == "Accept-Encoding");
    // A gzip client that holds the identity bytes would be sent gzip: not "not modified".
    auto other = client.get("/text",
                            {.headers = {{"Accept-Encoding", "gzip"}, {"If-None-Match", tag}}});
    CHECK(other.status_code == 200);
    CHECK(test_support::gunzip(other.body) == data().text);
    // Without gzip the identity tag matches and the compressed one does not.
    CHECK(client.get("/text", {.headers = {{"If-None-Match", tag}}}).status_code == 304);
    CHECK(client.get("/text", {.headers = {{"If-None-Match", gz_tag}}}).status_code == 200);
    // If-None-Match decides before Range (RFC 9110 §13.2.2).
    auto ranged = client.get("/text",
                             {.headers = {{"If-None-Match", tag}, {"Range", "bytes=0-9"}}});
    CHECK(ranged.status_code == 304);
    CHECK_FALSE(ranged.header("content-range"));
    // If-Modified-Since still works when there is no If-None-Match.
    auto since = client.get(
        "/text", {.headers = {{"Accept-Encoding", "gzip"},
                              {"If-Modified-Since", *identity.header("last-modified")}}});
    CHECK(since.status_code == 304);
}

TEST_CASE("response: a producer that writes past its Content-Length is cut before those bytes "
          "leave, and the connection closes",
          "[framing]") {
    using namespace response_framing_test;
    const aster::application app{aster::routes(
        aster::route<"/liar">(liar), aster::route<"/small">(response_framing_test::small))};
    aster::test_client client{app, {.raise_server_exceptions = false}};
    auto responses = client.exchange("GET /liar HTTP/1.1\r\nHost: t\r\n\r\n"
                                     "GET /small HTTP/1.1\r\nHost: t\r\n\r\n",
                                     2);
    REQUIRE(responses.size() == 1); // the connection closed after the declared five bytes
    CHECK(responses[0].body == "12345");
}

#endif // ASTER_HAS_ZLIB
