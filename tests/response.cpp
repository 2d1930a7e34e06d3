// SPDX-License-Identifier: MIT
// Responses: factories, headers, status codes, streaming bodies, exceptions turned into responses.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include <asio/steady_timer.hpp>

#include <stdexcept>
#include <string>

namespace response_test {

using aster::request;
using aster::response;
using aster::task;

response text(request&) { return aster::plain_text("plain text"); }
response page(request&) { return aster::html("<h1>hi</h1>"); }
response moved(request&) { return aster::redirect("/text", aster::status::moved_permanently); }
response custom(request&) {
    return response(aster::status::accepted, "{\"ok\":true}", "application/json")
        .header("X-One", "1")
        .header("X-One", "2");
}
response teapot(request&) {
    return aster::plain_text("short and stout", aster::status::im_a_teapot);
}
response not_modified(request&) {
    return response(aster::status::not_modified).header("ETag", "\"v1\"");
}

response missing(request&) {
    throw aster::http_exception{aster::status::not_found, "no such thing"};
}
response forbidden(request&) {
    throw aster::http_exception{aster::status::unauthorized, {}, {{"WWW-Authenticate", "Bearer"}}};
}
task<response> broken(request&) {
    throw std::runtime_error("the handler broke");
    co_return aster::plain_text("unreachable");
}

task<response> counting(request&) {
    co_return aster::streaming([](aster::body_writer& out) -> task<> {
        for (int i = 1; i <= 3; ++i) co_await out.write("line " + std::to_string(i) + "\n");
    });
}

task<response> slow_stream(request&) {
    co_return aster::streaming(
        [](aster::body_writer& out) -> task<> {
            aster::net::steady_timer timer(co_await aster::net::this_coro::executor);
            for (int i = 0; i < 3; ++i) {
                timer.expires_after(std::chrono::milliseconds(1));
                co_await timer.async_wait(aster::net::use_awaitable);
                co_await out.write(std::to_string(i));
            }
        },
        "text/event-stream");
}

task<response> waits(request&) {
    aster::net::steady_timer timer(co_await aster::net::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(aster::net::use_awaitable);
    co_return aster::plain_text("waited");
}

constexpr aster::application app{
    aster::routes(aster::route<"/text">(text), aster::route<"/html">(page),
                  aster::route<"/moved">(moved), aster::route<"/custom">(custom),
                  aster::route<"/teapot">(teapot), aster::route<"/not-modified">(not_modified),
                  aster::route<"/missing">(missing), aster::route<"/forbidden">(forbidden),
                  aster::route<"/broken">(broken), aster::route<"/stream">(counting),
                  aster::route<"/slow-stream">(slow_stream), aster::route<"/waits">(waits))};

TEST_CASE("response: plain text and HTML set type and length", "[response]") {
    aster::test_client client{app};
    auto t = client.get("/text");
    CHECK(t.header("content-type") == "text/plain; charset=utf-8");
    CHECK(t.header("content-length") == "10");
    CHECK(t.header("date").has_value());
    auto h = client.get("/html");
    CHECK(h.header("content-type") == "text/html; charset=utf-8");
    CHECK(h.text() == "<h1>hi</h1>");
}

TEST_CASE("response: redirect carries Location and an empty body", "[response]") {
    aster::test_client client{app, {.follow_redirects = false}};
    auto r = client.get("/moved");
    CHECK(r.status_code == 301);
    CHECK(r.header("location") == "/text");
    CHECK(r.header("content-length") == "0");
    aster::test_client following{app};
    CHECK(following.get("/moved").text() == "plain text");
}

TEST_CASE("response: custom status, type and repeated headers", "[response]") {
    aster::test_client client{app};
    auto r = client.get("/custom");
    CHECK(r.status_code == 202);
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.header_values("x-one") == std::vector<std::string>{"1", "2"});
    CHECK(client.get("/teapot").status_code == 418);
    auto nm = client.get("/not-modified");
    CHECK(nm.status_code == 304);
    CHECK_FALSE(nm.header("content-length").has_value());
    CHECK(nm.header("etag") == "\"v1\"");
}

TEST_CASE("response: http_exception becomes its status and detail", "[response]") {
    aster::test_client client{app};
    auto r = client.get("/missing");
    CHECK(r.status_code == 404);
    CHECK(r.text() == "no such thing");
    auto f = client.get("/forbidden");
    CHECK(f.status_code == 401);
    CHECK(f.text() == "Unauthorized"); // detail defaults to the reason phrase
    CHECK(f.header("www-authenticate") == "Bearer");
}

TEST_CASE("response: other exceptions propagate into the test by default", "[response]") {
    aster::test_client client{app};
    CHECK_THROWS_WITH(client.get("/broken"), "the handler broke");
    // The connection survives: the next request is answered.
    CHECK(client.get("/text").status_code == 200);
}

TEST_CASE("response: with raise_server_exceptions off, an exception is a logged 500",
          "[response]") {
    std::vector<std::string> lines;
    auto saved = aster::logger().sink;
    aster::logger().sink = [&](aster::log_level, std::string_view line) {
        lines.emplace_back(line);
    };
    aster::detail::log_limits::instance().reset(); // one request's lines, whatever came before
    aster::test_client client{app, {.raise_server_exceptions = false}};
    auto r = client.get("/broken");
    aster::logger().sink = saved;
    CHECK(r.status_code == 500);
    CHECK(r.text() == "Internal Server Error");
    REQUIRE(lines.size() == 1); // logged exactly once
    CHECK_THAT(lines[0], Catch::Contains("the handler broke") && Catch::Contains("GET /broken"));
}

TEST_CASE("response: streaming bodies go out chunked", "[response]") {
    aster::test_client client{app};
    auto r = client.get("/stream");
    CHECK(r.status_code == 200);
    CHECK(r.header("transfer-encoding") == "chunked");
    CHECK_FALSE(r.header("content-length").has_value());
    CHECK(r.text() == "line 1\nline 2\nline 3\n");
    auto raw = client.exchange("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n", 1);
    REQUIRE(raw.size() == 1);
    CHECK(raw[0].text() == "line 1\nline 2\nline 3\n");
    auto slow = client.get("/slow-stream");
    CHECK(slow.header("content-type") == "text/event-stream");
    CHECK(slow.text() == "012");
}

TEST_CASE("response: streaming to HTTP/1.0 ends with the connection", "[response]") {
    aster::test_client client{app};
    auto raw = client.exchange("GET /stream HTTP/1.0\r\n\r\n", 1);
    REQUIRE(raw.size() == 1);
    CHECK_FALSE(raw[0].header("transfer-encoding").has_value());
    CHECK(raw[0].header("connection") == "close");
    CHECK(raw[0].text() == "line 1\nline 2\nline 3\n");
}

TEST_CASE("response: handlers may co_await Asio timers", "[response]") {
    aster::test_client client{app};
    CHECK(client.get("/waits").text() == "waited");
}

TEST_CASE("status: constants carry Starlette's names and values", "[response][status]") {
    using namespace aster::status_codes;
    STATIC_REQUIRE(HTTP_404_NOT_FOUND == aster::status::not_found);
    STATIC_REQUIRE(aster::code(HTTP_418_IM_A_TEAPOT) == 418);
    CHECK(aster::reason(aster::status::method_not_allowed) == "Method Not Allowed");
}

TEST_CASE("response: header injection is refused", "[response]") {
    aster::response r;
    CHECK_THROWS_AS(r.header("X-Evil", "a\r\nSet-Cookie: x=1"), std::invalid_argument);
    CHECK_THROWS_AS(r.header("Bad Name", "v"), std::invalid_argument);
    CHECK_THROWS_AS(r.set_header("X", "line\nbreak"), std::invalid_argument);
    // Found by the http_request fuzzer: a NUL decoded from a query string went out as is.
    CHECK_THROWS_AS(r.header("X-Query", std::string("a\0b", 3)), std::invalid_argument);
    CHECK_THROWS_AS(r.header("X", "bell\a"), std::invalid_argument);
    CHECK_THROWS_AS(r.header("X", "del\x7f"), std::invalid_argument);
    CHECK_THROWS_AS(r.header("X:Y", "v"), std::invalid_argument);
    CHECK_THROWS_AS(r.header("X(", "v"), std::invalid_argument);
    CHECK_THROWS_AS(r.header("", "v"), std::invalid_argument);
    CHECK_THROWS_AS(r.header("N\xc3\xa4me", "v"), std::invalid_argument);
    CHECK(r.headers().empty());
    r.header("X-Tab", "a\tb");             // HTAB is allowed inside a value
    r.header("X-Utf8", "caf\xc3\xa9");     // so is obs-text
    r.header("X-Token!#$%&'*+.^_`|~", ""); // every tchar, and an empty value
    CHECK(r.headers().size() == 3);
    r = aster::response();
    r.set_header("X-Ok", "1");
    r.set_header("x-ok", "2");
    REQUIRE(r.headers().size() == 1);
    CHECK(r.header_value("X-OK") == "2");
}

TEST_CASE("log: the access log writes one line per request when turned on", "[response][log]") {
    std::vector<std::string> lines;
    auto saved = aster::logger();
    aster::logger().sink = [&](aster::log_level, std::string_view line) {
        lines.emplace_back(line);
    };
    aster::test_client client{app};
    client.get("/text");
    CHECK(lines.empty()); // off by default
    aster::logger().access_log = true;
    client.get("/text?x=1");
    client.get("/missing");
    aster::logger() = saved;
    REQUIRE(lines.size() == 2);
    CHECK_THAT(lines[0],
               Catch::StartsWith("testclient:50000 - \"GET /text?x=1 HTTP/1.1\" 200 10 "));
    CHECK_THAT(lines[0], Catch::EndsWith("ms"));
    CHECK_THAT(lines[1], Catch::Contains("\"GET /missing HTTP/1.1\" 404 13 "));
}

} // namespace response_test
