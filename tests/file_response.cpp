// SPDX-License-Identifier: MIT
// file_response (conditional GET, ranges), static_files (traversal refused), server-sent events,
// background tasks.
#include <aster/aster.hpp>
#include <aster/event_source.hpp>
#include <aster/file_response.hpp>
#include <aster/static_files.hpp>

#include <catch2/catch.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include <unistd.h>

namespace file_response_test {

namespace fs = std::filesystem;
using aster::request;
using aster::response;
using aster::task;

// A temp tree: root/{hello.txt, big.bin, page.html, sub/index.html, 404.html, link_out ->
// ../outside}
struct tree {
    fs::path base, root;
    std::string big;
    pid_t owner = ::getpid();
    tree() {
        char tmpl[] = "/tmp/aster_static_XXXXXX";
        base = ::mkdtemp(tmpl);
        root = base / "root";
        fs::create_directories(root / "sub");
        fs::create_directories(root / "empty_dir");
        write(root / "hello.txt", "Hello, file!");
        for (int i = 0; i < 200000; ++i) big += char('a' + i % 26);
        write(root / "big.bin", big);
        write(root / "page.html", "<p>page</p>");
        write(root / "sub" / "index.html", "<p>sub index</p>");
        write(root / "404.html", "<p>custom 404</p>");
        write(base / "secret.txt", "top secret");
        fs::create_symlink(base / "secret.txt", root / "link_out");
        fs::create_symlink(root / "hello.txt", root / "link_in");
    }
    ~tree() {
        // A child forked by another test (server_config::from_args exits) runs this too: only
        // the process that made the tree removes it.
        std::error_code ec;
        if (::getpid() == owner) fs::remove_all(base, ec);
    }
    static void write(const fs::path& p, const std::string& s) {
        std::ofstream(p, std::ios::binary) << s;
    }
};

tree& files() {
    static tree t;
    return t;
}
const std::string& root_dir() {
    static std::string s = files().root.string();
    return s;
}

response one_file(request& req) { return aster::file_response(req, root_dir() + "/hello.txt"); }
response big_file(request& req) {
    return aster::file_response(req, root_dir() + "/big.bin",
                                {.filename = "big file.bin", .chunk_size = 4096});
}
response plain_file(request&) { return aster::file_response(root_dir() + "/hello.txt"); }
response missing_file(request& req) { return aster::file_response(req, root_dir() + "/nope.txt"); }

task<response> events(request&) {
    co_return aster::event_source_response([](aster::event_writer& out) -> task<> {
        co_await out.send_data("hello");
        // Named events: GCC 12 mishandles braced temporaries in a co_await's arguments.
        const aster::server_sent_event update{
            .data = "a\nb\r\nc\rd", .event = "update", .id = "7", .retry = 1500};
        co_await out.send(update);
        co_await out.comment("keep-alive");
        const aster::server_sent_event reset{.data = "", .id = ""};
        co_await out.send(reset);
    });
}

std::atomic<bool> client_got{false}, task_saw_client{false}, task_done{false};
std::vector<std::string> order;

task<response> with_background(request&) {
    co_return aster::plain_text("sent first").background([]() -> task<> {
        // Waits, bounded, for the test to say it has the response: proves it was sent first.
        aster::net::steady_timer t(co_await aster::net::this_coro::executor);
        for (int i = 0; i < 2000 && !client_got; ++i) {
            t.expires_after(std::chrono::milliseconds(1));
            co_await t.async_wait(aster::net::use_awaitable);
        }
        task_saw_client = client_got.load();
        task_done = true;
    });
}

response failing_background(request&) {
    return aster::plain_text("fine")
        .background([]() -> task<> {
            order.push_back("first");
            throw std::runtime_error("task exploded");
            co_return;
        })
        .background([]() -> task<> {
            order.push_back("second");
            co_return;
        });
}

const auto& app() {
    static const aster::application a{
        aster::routes(aster::route<"/file">(one_file), aster::route<"/big">(big_file),
                      aster::route<"/plain">(plain_file), aster::route<"/missing">(missing_file),
                      aster::route<"/events">(events), aster::route<"/bg">(with_background),
                      aster::route<"/bg-fail">(failing_background),
                      aster::mount<"/static">(aster::static_files{root_dir()}),
                      aster::mount<"/site">(aster::static_files{root_dir(), {.html = true}}))};
    return a;
}

TEST_CASE("file_response: headers, whole body streamed, HEAD, Content-Disposition",
          "[file_response]") {
    aster::test_client client{app()};
    auto r = client.get("/file");
    CHECK(r.status_code == 200);
    CHECK(r.text() == "Hello, file!");
    CHECK(r.header("content-type") == "text/plain; charset=utf-8");
    CHECK(r.header("content-length") == "12");
    CHECK(r.header("transfer-encoding") == std::nullopt);
    CHECK(r.header("accept-ranges") == "bytes");
    REQUIRE(r.header("etag"));
    CHECK(r.header("etag")->front() == '"');
    CHECK(r.header("last-modified")->ends_with(" GMT"));

    auto big = client.get("/big");
    CHECK(big.text() == files().big);
    CHECK(big.header("content-type") == "application/octet-stream");
    CHECK(big.header("content-disposition") == "attachment; filename*=utf-8''big%20file.bin");

    auto head = client.head("/file");
    CHECK(head.status_code == 200);
    CHECK(head.header("content-length") == "12");
    CHECK(head.text().empty());
    CHECK(client.get("/file").text() == "Hello, file!"); // the connection stayed in step

    CHECK(client.get("/missing").status_code == 404);
    CHECK(aster::mime_type("a/b/Photo.JPG") == "image/jpeg");
    CHECK(aster::mime_type("x.css") == "text/css; charset=utf-8");
    CHECK(aster::mime_type("noext") == "application/octet-stream");
}

TEST_CASE("file_response: If-None-Match and If-Modified-Since give 304", "[file_response]") {
    aster::test_client client{app()};
    auto first = client.get("/file");
    auto etag = *first.header("etag");
    auto modified = *first.header("last-modified");
    auto r = client.get("/file", {.headers = {{"If-None-Match", "\"other\", " + etag}}});
    CHECK(r.status_code == 304);
    CHECK(r.text().empty());
    CHECK(r.header("etag") == etag);
    CHECK(client.get("/file", {.headers = {{"If-None-Match", "*"}}}).status_code == 304);
    CHECK(client.get("/file", {.headers = {{"If-None-Match", "W/" + etag}}}).status_code == 304);
    CHECK(client.get("/file", {.headers = {{"If-None-Match", "\"stale\""}}}).status_code == 200);
    CHECK(client.get("/file", {.headers = {{"If-Modified-Since", modified}}}).status_code == 304);
    CHECK(client.get("/file", {.headers = {{"If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}}})
              .status_code == 200);
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    CHECK(client
              .get("/file",
                   {.headers = {{"If-None-Match", "\"stale\""}, {"If-Modified-Since", modified}}})
              .status_code == 200);
    // Without the request, no conditionals.
    CHECK(client.get("/plain", {.headers = {{"If-None-Match", "*"}}}).status_code == 200);
}

TEST_CASE("file_response: single byte ranges give 206; bad ones 416 or 400; several 200",
          "[file_response]") {
    aster::test_client client{app()};
    const std::string& big = files().big;
    auto range = [&](std::string value) {
        return client.get("/big", {.headers = {{"Range", value}}});
    };
    auto r = range("bytes=10-19");
    CHECK(r.status_code == 206);
    CHECK(r.text() == big.substr(10, 10));
    CHECK(r.header("content-range") == "bytes 10-19/200000");
    CHECK(r.header("content-length") == "10");
    r = range("bytes=199990-");
    CHECK(r.status_code == 206);
    CHECK(r.text() == big.substr(199990));
    r = range("bytes=-5");
    CHECK(r.text() == big.substr(199995));
    CHECK(r.header("content-range") == "bytes 199995-199999/200000");
    r = range("bytes=199999-300000"); // the end is clamped
    CHECK(r.header("content-range") == "bytes 199999-199999/200000");
    r = range("bytes=200000-");
    CHECK(r.status_code == 416);
    CHECK(r.header("content-range") == "bytes */200000");
    CHECK(range("bytes=-0").status_code == 416);
    CHECK(range("bytes=5-2").status_code == 400);
    CHECK(range("bytes=x-2").status_code == 400);
    CHECK(range("bytes=12").status_code == 400);
    auto several = range("bytes=0-1, 5-6");
    CHECK(several.status_code == 200);
    CHECK(several.text().size() == big.size());
    CHECK(range("items=0-1").status_code == 200);
    auto etag = *client.get("/big").header("etag");
    CHECK(
        client.get("/big", {.headers = {{"Range", "bytes=0-0"}, {"If-Range", etag}}}).status_code ==
        206);
    CHECK(client.get("/big", {.headers = {{"Range", "bytes=0-0"}, {"If-Range", "\"old\""}}})
              .status_code == 200);
    auto head = client.head("/big", {.headers = {{"Range", "bytes=0-99"}}});
    CHECK(head.status_code == 206);
    CHECK(head.header("content-length") == "100");
}

TEST_CASE("static_files: serves files, 404 for misses, 405 for other methods", "[static_files]") {
    aster::test_client client{app()};
    auto r = client.get("/static/hello.txt");
    CHECK(r.status_code == 200);
    CHECK(r.text() == "Hello, file!");
    CHECK(client.get("/static/sub/index.html").text() == "<p>sub index</p>");
    CHECK(client.get("/static/link_in").text() == "Hello, file!"); // a symlink inside is fine
    CHECK(client.get("/static/nope.txt").status_code == 404);
    CHECK(client.get("/static/sub").status_code == 404); // no html: directories are not served
    CHECK(client.get("/static/").status_code == 404);
    CHECK(client.head("/static/hello.txt").header("content-length") == "12");
    auto post = client.post("/static/hello.txt");
    CHECK(post.status_code == 405);
    CHECK(post.header("allow") == "GET, HEAD");
    CHECK(client.get("/static/hello.txt", {.headers = {{"Range", "bytes=0-4"}}}).text() == "Hello");
    auto etag = *r.header("etag");
    CHECK(client.get("/static/hello.txt", {.headers = {{"If-None-Match", etag}}}).status_code ==
          304);
}

TEST_CASE("static_files: html mode serves index.html, redirects /dir to /dir/, 404.html",
          "[static_files]") {
    aster::test_client client{app(), {.follow_redirects = false}};
    auto r = client.get("/site/sub");
    CHECK(r.status_code == 307);
    CHECK(r.header("location") == "/site/sub/");
    CHECK(client.get("/site/sub/").text() == "<p>sub index</p>");
    auto root = client.get("/site");
    CHECK(root.status_code == 307);
    CHECK(root.header("location") == "http://testserver/site/");
    auto miss = client.get("/site/nope.html");
    CHECK(miss.status_code == 404);
    CHECK(miss.text() == "<p>custom 404</p>");
    CHECK(client.get("/site/empty_dir/").status_code == 404);
    CHECK(client.get("/site/page.html").text() == "<p>page</p>");
}

TEST_CASE("static_files: no way out of the directory", "[static_files]") {
    aster::test_client client{app(), {.raise_server_exceptions = false, .follow_redirects = false}};
    for (std::string target :
         {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/%2E%2E/secret.txt",
          "/static/sub/../../secret.txt", "/static/..%2fsecret.txt",
          "/static/sub%2f..%2f..%2fsecret.txt", "/static/..%5csecret.txt", "/static/..\\secret.txt",
          "/static//etc/passwd", "/static/%2fetc/passwd", "/static/link_out",
          "/static/hello.txt%00.png", "/static/./hello.txt", "/site/../secret.txt",
          "/site/link_out"}) {
        INFO(target);
        auto r = client.get(target);
        CHECK(r.status_code != 200);
        CHECK(r.text().find("top secret") == std::string::npos);
    }
    // A raw NUL in the request line never reaches the app.
    static constexpr char nul_request[] = "GET /static/hello.txt\0.png HTTP/1.1\r\nHost: x\r\n\r\n";
    auto raw = client.exchange(std::string(nul_request, sizeof nul_request - 1), 1);
    REQUIRE(raw.size() == 1);
    CHECK(raw[0].status_code == 400);
    CHECK(client.get("/static/link_out").status_code == 404);
    CHECK(client.get("/static/hello.txt%00.png").status_code == 404);
}

TEST_CASE("event_source_response: text/event-stream, fields, multi-line data split", "[sse]") {
    aster::test_client client{app()};
    auto r = client.get("/events");
    CHECK(r.status_code == 200);
    CHECK(r.header("content-type") == "text/event-stream");
    CHECK(r.header("cache-control") == "no-cache");
    CHECK(r.text() == "data: hello\n\n"
                      "event: update\ndata: a\ndata: b\ndata: c\ndata: d\nid: 7\nretry: 1500\n\n"
                      ": keep-alive\n\n"
                      "data: \nid: \n\n");
    CHECK_THROWS_AS(aster::format_event({.data = "x", .event = "a\nb"}), std::invalid_argument);
    CHECK_THROWS_AS(aster::format_event({.data = "x", .id = std::string("a\0b", 3)}),
                    std::invalid_argument);
}

TEST_CASE("response::background: the client has the response before the task finishes",
          "[background]") {
    using aster::net::ip::tcp;
    aster::server srv{app(), {.host = "127.0.0.1", .port = 0, .handle_signals = false}};
    srv.listen();
    auto running = std::async(std::launch::async, [&] { srv.run(); });
    {
        aster::net::io_context ctx;
        tcp::socket socket(ctx);
        socket.connect(tcp::endpoint(aster::net::ip::make_address("127.0.0.1"), srv.port()));
        aster::net::write(socket,
                          aster::net::buffer(std::string("GET /bg HTTP/1.1\r\nHost: x\r\n\r\n")));
        std::string got;
        char buf[1024];
        std::error_code ec;
        for (int i = 0; i < 100 && got.find("sent first") == std::string::npos && !ec; ++i)
            got.append(buf, socket.read_some(aster::net::buffer(buf), ec));
        CHECK(got.find("200 OK") != std::string::npos);
        CHECK(got.find("sent first") != std::string::npos);
        CHECK_FALSE(task_done); // the task is still waiting for us
        client_got = true;
        for (int i = 0; i < 2000 && !task_done; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        CHECK(task_done);
        CHECK(task_saw_client);
    }
    srv.stop();
    REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}

TEST_CASE("response::background: a task's exception is logged; later tasks and requests go on",
          "[background]") {
    std::vector<std::string> lines;
    auto saved = aster::logger().sink;
    aster::logger().sink = [&](aster::log_level, std::string_view line) {
        lines.emplace_back(line);
    };
    aster::detail::log_limits::instance().reset(); // one request's lines, whatever came before
    order.clear();
    {
        aster::test_client client{app()};
        auto r = client.get("/bg-fail");
        CHECK(r.status_code == 200);
        CHECK(r.text() == "fine");
        CHECK(client.get("/file").text() == "Hello, file!");
    }
    aster::logger().sink = saved;
    CHECK(order == std::vector<std::string>{"first", "second"});
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "background task after GET /bg-fail failed: task exploded");
}

} // namespace file_response_test
