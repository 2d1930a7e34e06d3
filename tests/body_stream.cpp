// SPDX-License-Identifier: MIT
// Streamed request bodies: read_some, form() on a multipart body as it arrives, unread bodies,
// 100-continue, pipelining, misuse, and bounded memory, in memory and over loopback.
#include <aster/aster.hpp>
#include <aster/forms.hpp>

#include <catch2/catch.hpp>
#include "support/wire.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

namespace body_stream_test {

using aster_test_support::responses_in;
using aster_test_support::wire;

using aster::request;
using aster::response;
using aster::task;

// FNV-1a, so a large body can be checked without echoing it.
std::uint64_t fnv(std::string_view bytes, std::uint64_t h = 14695981039346656037ull) {
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
    return h;
}

// Bytes that differ from position to position, so a lost or repeated piece shows.
std::string pattern(std::size_t n) {
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; ++i) out[i] = char('a' + (i * 7 + i / 251) % 26);
    return out;
}

// "<pieces>:<body>", read piece by piece.
task<response> echo(request& req) {
    std::size_t pieces = 0;
    std::string body;
    for (auto p = co_await req.read_some(); !p.empty(); p = co_await req.read_some()) {
        ++pieces;
        body.append(p);
    }
    co_return aster::plain_text(std::to_string(pieces) + ":" + body);
}

// "<bytes> <largest piece> <hash>" of a body read piece by piece.
task<response> measure(request& req) {
    std::size_t bytes = 0, largest = 0;
    std::uint64_t h = fnv({});
    for (auto p = co_await req.read_some(); !p.empty(); p = co_await req.read_some()) {
        bytes += p.size();
        largest = std::max(largest, p.size());
        h = fnv(p, h);
    }
    co_return aster::plain_text(std::to_string(bytes) + " " + std::to_string(largest) + " " +
                                std::to_string(h));
}

task<response> ignore(request&) { co_return aster::plain_text("ignored"); }

// One piece, then body(): the misuse the request refuses.
task<response> misuse(request& req) {
    auto first = co_await req.read_some();
    try {
        co_await req.body();
    } catch (const std::logic_error& e) {
        co_return aster::plain_text("logic_error after " + std::to_string(first.size()) + ": " +
                                    e.what());
    }
    co_return aster::plain_text("no error");
}

// body() first, then read_some() gives the whole body once, then the end.
task<response> body_then_pieces(request& req) {
    auto whole = co_await req.body();
    auto first = co_await req.read_some();
    auto second = co_await req.read_some();
    co_return aster::plain_text(std::to_string(whole.size()) + " " + std::to_string(first.size()) +
                                " " + std::to_string(second.size()));
}

response plain(request& req) {
    return aster::plain_text("plain " + std::to_string(req.buffered_body().size()) + " " +
                             std::to_string(fnv(req.buffered_body())));
}

response hello(request&) { return aster::plain_text("hello"); }

// A multipart form under tight limits: a file over 100 KiB is refused mid-upload.
task<response> small_form(request& req) {
    auto form = co_await req.form({.max_file_bytes = 100 * 1024});
    co_return aster::plain_text("fields " + std::to_string(form.size()));
}

// The upload test's file part, as the handler saw it.
struct upload_seen {
    std::size_t size = 0;
    bool on_disk = false;
    std::uint64_t hash = 0;
    std::string note;
};
upload_seen last_upload;
task<response> upload(request& req) {
    auto form = co_await req.form({.spool_bytes = 1024 * 1024});
    auto* file = form.file("data");
    if (!file) co_return aster::plain_text("no file", aster::status::bad_request);
    last_upload.size = file->size();
    last_upload.on_disk = file->on_disk();
    last_upload.hash = fnv(file->read_all());
    last_upload.note = std::string(form.get("note", "-"));
    co_return aster::plain_text("stored " + std::to_string(file->size()));
}

// Counts what happens to handlers whose client vanishes.
std::atomic<int> disconnects{0};
task<response> watch(request& req) {
    try {
        while (!(co_await req.read_some()).empty()) {
        }
    } catch (const aster::client_disconnect&) {
        ++disconnects;
        throw;
    }
    co_return aster::plain_text("whole");
}

constexpr auto post = aster::method::post;
constexpr aster::application app{aster::routes(
    aster::route<"/echo", post>(echo), aster::route<"/measure", post>(measure),
    aster::route<"/ignore", post>(ignore), aster::route<"/misuse", post>(misuse),
    aster::route<"/again", post>(body_then_pieces), aster::route<"/plain", post>(plain),
    aster::route<"/small-form", post>(small_form), aster::route<"/upload", post>(upload),
    aster::route<"/watch", post>(watch), aster::route<"/hello">(hello))};

// A plain member of an endpoint, and a plain handler behind middleware: both still get the
// whole body, gathered before they run.
struct item : aster::http_endpoint {
    response post(request& req) { return plain(req); }
};
struct pass_through {
    task<response> operator()(request& req, aster::call_next next) const {
        co_return co_await next(req);
    }
};
constexpr aster::application layered{aster::routes(aster::route<"/plain", post>(plain),
                                                   aster::route<"/item", item>(),
                                                   aster::route<"/measure", post>(measure)),
                                     aster::middleware(pass_through{})};

const std::string boundary = "----asterStreamBoundary";

std::string multipart_head(std::string_view path, std::size_t length) {
    return "POST " + std::string(path) +
           " HTTP/1.1\r\nHost: t\r\n"
           "Content-Type: multipart/form-data; boundary=" +
           boundary +
           "\r\n"
           "Content-Length: " +
           std::to_string(length) + "\r\n\r\n";
}
std::string multipart_body(std::string_view file) {
    return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n" +
           "--" + boundary + "\r\nContent-Disposition: form-data; name=\"data\"; " +
           "filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
           std::string(file) + "\r\n--" + boundary + "--\r\n";
}

std::string chunked(std::string_view body, std::size_t chunk) {
    std::string out;
    char size[32];
    for (std::size_t at = 0; at < body.size(); at += chunk) {
        auto piece = body.substr(at, chunk);
        out += std::string(size,
                           std::size_t(std::snprintf(size, sizeof size, "%zx", piece.size())));
        out += "\r\n" + std::string(piece) + "\r\n";
    }
    return out + "0\r\n\r\n";
}

// One in-memory connection served the way serve_tcp serves it, with a registry so the loop's
// counters show what the connection holds. The test sends bytes when it likes and runs the
// server until it waits for more.
std::string header_of(const aster::detail::response_parser::message& m, std::string_view name) {
    for (const auto& [n, v] : m.headers)
        if (aster::iequals(n, name)) return v;
    return {};
}

} // namespace body_stream_test

using namespace body_stream_test;

TEST_CASE("body_stream: read_some hands a Content-Length body over piece by piece",
          "[body_stream]") {
    const std::string body = pattern(1000);
    for (std::size_t read_size : {std::size_t(7), std::size_t(100), std::size_t(0)}) {
        INFO("read size " << read_size);
        aster::test_client client{app, {.read_size = read_size}};
        auto r = client.post("/echo", {.body = body});
        REQUIRE(r.status_code == 200);
        auto colon = r.text().find(':');
        CHECK(r.text().substr(colon + 1) == body);
        const auto pieces = std::stoul(r.text().substr(0, colon));
        // Small reads: the head arrives first and each read becomes a piece; whole, it is one.
        if (read_size == 7) CHECK(pieces > 100);
        if (read_size == 0) CHECK(pieces == 1);
        CHECK(client.get("/hello").text() == "hello"); // the connection carries on
    }
}

TEST_CASE("body_stream: read_some dechunks a chunked body fed in small pieces", "[body_stream]") {
    const std::string body = pattern(300);
    const std::string wire_bytes =
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
        body_stream_test::chunked(body, 37) + "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n";
    for (std::size_t read_size :
         {std::size_t(1), std::size_t(5), std::size_t(64), std::size_t(0)}) {
        INFO("read size " << read_size);
        aster::test_client client{app, {.read_size = read_size}};
        auto rs = client.exchange(wire_bytes, 2);
        REQUIRE(rs.size() == 2);
        auto colon = rs[0].text().find(':');
        CHECK(rs[0].text().substr(colon + 1) == body);
        CHECK(std::stoul(rs[0].text().substr(0, colon)) >= 300 / 37);
        CHECK(rs[1].text() == "hello");
    }
    // Extensions and trailers on a streamed body; the trailer is not a header.
    aster::test_client client{app, {.read_size = 3}};
    auto rs = client.exchange("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3;a=b\r\nabc\r\n2;q=\"x y\"\r\nde\r\n0;end\r\nX-Trailer: 1\r\n\r\n",
                              1);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].text().ends_with(":abcde"));
}

TEST_CASE("body_stream: a body larger than a read block streams through one block",
          "[body_stream]") {
    const std::string body = pattern(3 * 1024 * 1024 + 17);
    const std::string expected = std::to_string(body.size());
    aster::test_client client{app, {.limits = {.max_body_bytes = 4 * 1024 * 1024}}};
    auto r = client.post("/measure", {.body = body});
    REQUIRE(r.status_code == 200);
    CHECK(r.text().starts_with(expected + " "));
    auto largest = std::stoul(r.text().substr(r.text().find(' ') + 1));
    CHECK(largest <= aster::detail::large_block_size);
    CHECK(r.text().ends_with(" " + std::to_string(fnv(body))));
    // The same through the engine's own counters: the read buffer is one large block.
    wire w(app.ref(), {.max_body_bytes = 4 * 1024 * 1024});
    w.send("POST /measure HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body);
    auto rs = responses_in(w.client.take());
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].body.ends_with(" " + std::to_string(fnv(body))));
    CHECK(w.peak_input <= aster::detail::large_block_size);
    CHECK(w.peak_input > 0);
    w.finish();
    CHECK(w.done);
    CHECK(w.all_released());
}

TEST_CASE("body_stream: a 20 MiB multipart upload goes to disk in bounded memory",
          "[body_stream][forms]") {
    const std::string file = pattern(20 * 1024 * 1024);
    const std::string body = multipart_body(file);
    wire w(app.ref(), {.max_body_bytes = 32 * 1024 * 1024});
    last_upload = {};
    w.send(multipart_head("/upload", body.size()) + body);
    auto rs = responses_in(w.client.take());
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == 200);
    CHECK(rs[0].body == "stored " + std::to_string(file.size()));
    CHECK(last_upload.size == file.size());
    CHECK(last_upload.on_disk);
    CHECK(last_upload.hash == fnv(file));
    CHECK(last_upload.note == "hi");
    // The connection held one read block throughout, not the 20 MiB.
    CHECK(w.peak_input > 0);
    CHECK(w.peak_input <= aster::detail::large_block_size);
    CHECK(header_of(rs[0], "connection") != "close");
    w.finish();
    CHECK(w.done);
    CHECK(w.all_released());
}

TEST_CASE("body_stream: a form limit refuses mid-upload with 413, the rest never read",
          "[body_stream][forms]") {
    const std::string body = multipart_body(pattern(4 * 1024 * 1024));
    const std::string bytes = multipart_head("/small-form", body.size()) + body;
    wire w(app.ref());
    std::size_t sent = 0;
    // Send until the server answers: it must do so long before the body's end.
    while (sent < bytes.size() && w.client.pending().empty()) {
        w.client.send(std::string_view(bytes).substr(sent, 16 * 1024));
        sent += 16 * 1024;
        w.pump();
    }
    auto rs = responses_in(w.client.take());
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == 413);
    CHECK(header_of(rs[0], "connection") == "close");
    CHECK(sent < 512 * 1024);      // refused once the file passed 100 KiB, not after 4 MiB
    CHECK(w.client.peer_closed()); // closed instead of reading megabytes nobody wants
    w.finish();
    CHECK(w.done);
    CHECK(w.all_released());
    // The same through test_client: the refusal reaches the test as the form_error it is.
    aster::test_client client{app, {.raise_server_exceptions = false}};
    auto r = client.post(
        "/small-form", {.body = body, .content_type = "multipart/form-data; boundary=" + boundary});
    CHECK(r.status_code == 413);
    CHECK(r.header("connection") == "close");
}

TEST_CASE("body_stream: an unread body up to 256 KiB is drained and the connection kept",
          "[body_stream]") {
    aster::test_client client{app};
    auto r = client.post("/ignore", {.body = pattern(200 * 1024)});
    CHECK(r.text() == "ignored");
    CHECK(r.header("connection") != "close");
    CHECK(client.connected());
    CHECK(client.get("/hello").text() == "hello");
    // Chunked, byte by byte, with a request pipelined behind it.
    aster::test_client slow{app, {.read_size = 1}};
    auto rs = slow.exchange(
        "POST /ignore HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
            body_stream_test::chunked(pattern(500), 100) + "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n",
        2);
    REQUIRE(rs.size() == 2);
    CHECK(rs[0].text() == "ignored");
    CHECK(rs[1].text() == "hello");
}

TEST_CASE("body_stream: an unread body over 256 KiB closes the connection", "[body_stream]") {
    aster::test_client client{app};
    auto r = client.post("/ignore", {.body = pattern(1024 * 1024)});
    CHECK(r.text() == "ignored");
    CHECK(r.header("connection") == "close");
    CHECK_FALSE(client.connected());
    CHECK(client.get("/hello").text() == "hello"); // on a new connection
    // Chunked: drained up to the bound, then given up.
    wire w(app.ref());
    w.send("POST /ignore HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
           body_stream_test::chunked(pattern(1024 * 1024), 4096));
    auto rs = responses_in(w.client.take());
    REQUIRE(rs.size() == 1);
    CHECK(header_of(rs[0], "connection") == "close");
    CHECK(w.client.peer_closed());
    w.finish();
    CHECK(w.all_released());
}

TEST_CASE("body_stream: an unread body is not drained when the connection closes anyway",
          "[body_stream]") {
    for (std::string_view head : {"POST /ignore HTTP/1.1\r\nHost: t\r\nConnection: close\r\n",
                                  "POST /ignore HTTP/1.0\r\n"}) {
        INFO(head);
        wire w(app.ref());
        // 100 KiB announced, 1 KiB sent: answered at once, without waiting for the rest.
        w.send(std::string(head) + "Content-Length: 102400\r\n\r\n" + pattern(1024));
        auto rs = responses_in(w.client.take());
        REQUIRE(rs.size() == 1);
        CHECK(rs[0].body == "ignored");
        CHECK(header_of(rs[0], "connection") == "close");
        CHECK(w.client.peer_closed());
        w.finish();
        CHECK(w.all_released());
    }
}

TEST_CASE("body_stream: 100 Continue is sent when the handler first reads, never otherwise",
          "[body_stream]") {
    const std::string body = pattern(5000);
    {
        wire w(app.ref());
        w.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n"
               "Expect: 100-continue\r\n\r\n");
        CHECK(w.client.take() == "HTTP/1.1 100 Continue\r\n\r\n");
        w.send(body);
        auto rs = responses_in(w.client.take());
        REQUIRE(rs.size() == 1);
        CHECK(rs[0].body == "1:" + body);
        CHECK(header_of(rs[0], "connection") != "close");
        w.finish();
        CHECK(w.all_released());
    }
    {
        // Answered without reading: no 100, and the connection closes, since the client may
        // yet send the body it was never invited to send (RFC 9110 §10.1.1).
        wire w(app.ref());
        w.send("POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n"
               "Expect: 100-continue\r\n\r\n");
        std::string out = w.client.take();
        CHECK(out.find("100 Continue") == std::string::npos);
        auto rs = responses_in(out);
        REQUIRE(rs.size() == 1);
        CHECK(rs[0].body == "ignored");
        CHECK(header_of(rs[0], "connection") == "close");
        CHECK(w.client.peer_closed());
        w.finish();
        CHECK(w.all_released());
    }
    // test_client sends the body only once invited.
    aster::test_client client{app};
    CHECK(client.post("/echo", {.body = body, .expect_continue = true}).text() == "1:" + body);
    auto refused = client.post("/ignore", {.body = body, .expect_continue = true});
    CHECK(refused.text() == "ignored");
    CHECK_FALSE(client.connected());
}

TEST_CASE("body_stream: requests pipelined after a streamed body are answered in order",
          "[body_stream]") {
    const std::string big = pattern(100 * 1024);
    const std::string batch =
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
        body_stream_test::chunked("abcdefgh", 3) + "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n" +
        "POST /measure HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(big.size()) +
        "\r\n\r\n" + big + "POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n" +
        std::string(70000, 'x') + "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n";
    for (std::size_t read_size : {std::size_t(0), std::size_t(1000), std::size_t(3)}) {
        INFO("read size " << read_size);
        aster::test_client client{app, {.read_size = read_size}};
        auto rs = client.exchange(batch, 5);
        REQUIRE(rs.size() == 5);
        CHECK(rs[0].text().ends_with(":abcdefgh"));
        CHECK(rs[1].text() == "hello");
        CHECK(rs[2].text().starts_with(std::to_string(big.size()) + " "));
        CHECK(rs[2].text().ends_with(" " + std::to_string(fnv(big))));
        CHECK(rs[3].text() == "ignored");
        CHECK(rs[4].text() == "hello");
    }
}

TEST_CASE("body_stream: body() after read_some is a logic error; read_some after body() gives "
          "the body once",
          "[body_stream]") {
    for (std::size_t size : {std::size_t(10), std::size_t(100 * 1024)}) { // buffered, streamed
        INFO("body size " << size);
        aster::test_client client{app};
        auto r = client.post("/misuse", {.body = pattern(size)});
        CHECK(r.text().starts_with("logic_error after "));
        CHECK(r.text().find("read_some() already consumed part of the body") != std::string::npos);
        auto again = client.post("/again", {.body = pattern(size)});
        CHECK(again.text() == std::to_string(size) + " " + std::to_string(size) + " 0");
    }
}

TEST_CASE("body_stream: plain handlers still get the whole body", "[body_stream]") {
    const std::string body = pattern(1024 * 1024);
    const std::string expected = "plain " + std::to_string(body.size()) + " " +
                                 std::to_string(fnv(body));
    const aster::http_limits limits{.max_body_bytes = 2 * 1024 * 1024};
    aster::test_client client{app, {.limits = limits}};
    CHECK(client.post("/plain", {.body = body}).text() == expected);
    aster::test_client slow{app, {.read_size = 11}};
    auto rs =
        slow.exchange("POST /plain HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                          body_stream_test::chunked("hello world", 4),
                      1);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].text() == "plain 11 " + std::to_string(fnv("hello world")));
    // Behind middleware, and as an endpoint's plain member.
    aster::test_client layers{layered, {.limits = limits}};
    CHECK(layers.post("/plain", {.body = body}).text() == expected);
    CHECK(layers.post("/item", {.body = body}).text() == expected);
    CHECK(
        layers.post("/measure", {.body = body}).text().ends_with(" " + std::to_string(fnv(body))));
}

TEST_CASE("body_stream: max_body_bytes bounds a streamed body; a stalled one gets 408",
          "[body_stream]") {
    aster::test_client client{
        app, {.raise_server_exceptions = false, .limits = {.max_body_bytes = 100 * 1024}}};
    auto r =
        client.exchange("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                            body_stream_test::chunked(pattern(200 * 1024), 8192),
                        1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status_code == 413);
    CHECK(r[0].header("connection") == "close");
    using namespace std::chrono_literals;
    aster::test_client stalled{app, {.limits = {.body_timeout = 30ms}, .detect_stalls = false}};
    auto s = stalled.exchange("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nabc",
                              1);
    REQUIRE(s.size() == 1);
    CHECK(s[0].status_code == 408);
    CHECK(s[0].header("connection") == "close");
    // A chunk line longer than the room behind the head is refused, not buffered.
    aster::test_client flood{app};
    auto f =
        flood.exchange("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;" +
                           std::string(200 * 1024, 'e') + "\r\nhello\r\n0\r\n\r\n",
                       1);
    REQUIRE(f.size() == 1);
    CHECK(f[0].status_code == 400);
}

TEST_CASE("body_stream: a client vanishing mid-body leaves nothing behind", "[body_stream]") {
    disconnects = 0;
    const std::string body = pattern(300 * 1024);
    const std::string bytes = "POST /watch HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
    {
        wire w(app.ref());
        w.send(std::string_view(bytes).substr(0, bytes.size() / 2));
        CHECK_FALSE(w.done);
        w.finish();
        REQUIRE(w.done);
        CHECK_FALSE(w.failure);
        CHECK(disconnects == 1);
        CHECK(w.all_released());
    }
    // Every read and write failing in turn (beast's fail loop): no crash, no hang, no leak.
    for (std::size_t n = 0; n < 40; ++n) {
        INFO("failing operation " << n);
        wire w(app.ref());
        w.server.fail_after(n);
        w.send(bytes, 8 * 1024);
        w.finish();
        REQUIRE(w.done);
        CHECK_FALSE(w.failure);
        CHECK(w.all_released());
    }
}

TEST_CASE("body_stream: a multi-MiB upload streams over loopback", "[body_stream][server][mt]") {
    aster::server srv{app,
                      {.host = "127.0.0.1",
                       .port = 0,
                       .limits = {.max_body_bytes = 16 * 1024 * 1024},
                       .handle_signals = false}};
    srv.listen();
    auto running = std::async(std::launch::async, [&] { srv.run(); });
    struct stop_guard {
        aster::server& srv;
        ~stop_guard() { srv.stop(); }
    } guard{srv};

    const std::string body = pattern(8 * 1024 * 1024);
    aster::net::io_context ctx;
    aster::net::ip::tcp::socket socket(ctx);
    socket.connect({aster::net::ip::make_address("127.0.0.1"), srv.port()});
    const std::string head = "POST /measure HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n";
    aster::net::write(socket, aster::net::buffer(head));
    std::size_t peak_input = 0;
    for (std::size_t at = 0; at < body.size(); at += 256 * 1024) {
        aster::net::write(socket,
                          aster::net::buffer(body.data() + at,
                                             std::min<std::size_t>(256 * 1024, body.size() - at)));
        peak_input = std::max(peak_input, srv.stats().input_bytes);
    }
    aster::detail::response_parser parser;
    char buffer[4096];
    for (int i = 0; i < 1000 && !parser.done(); ++i) {
        std::error_code ec;
        std::size_t n = socket.read_some(aster::net::buffer(buffer), ec);
        if (ec) break;
        parser.feed(std::string_view(buffer, n));
    }
    REQUIRE(parser.done());
    auto m = parser.take();
    CHECK(m.status == 200);
    CHECK(m.body.starts_with(std::to_string(body.size()) + " "));
    CHECK(m.body.ends_with(" " + std::to_string(fnv(body))));
    CHECK(peak_input <= aster::detail::large_block_size);
    socket.close();
    srv.stop();
    REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(srv.stats().input_bytes == 0);
}
