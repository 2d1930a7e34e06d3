// SPDX-License-Identifier: MIT
// test_client: cookies, redirects, parameters, timeouts and server exceptions.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include <asio/steady_timer.hpp>

#include <string>

namespace test_client_test {

using aster::request;
using aster::response;
using aster::task;

response login(request&) {
    return aster::plain_text("welcome")
        .header("Set-Cookie", aster::format_set_cookie("session", "abc123", {.httponly = true}))
        .header("Set-Cookie", aster::format_set_cookie("theme", "dark"));
}
response logout(request&) {
    return aster::plain_text("bye").header("Set-Cookie", aster::format_delete_cookie("session"));
}
response whoami(request& r) {
    return aster::plain_text(std::string(r.cookie("session").value_or("anonymous")) + "/" +
                             std::string(r.cookie("theme").value_or("-")));
}
response query(request& r) { return aster::plain_text(std::string(r.query_string())); }
response hop(request&, std::int64_t n) {
    return n == 0 ? aster::plain_text("landed") : aster::redirect("/hop/" + std::to_string(n - 1));
}
response see_other(request& r) {
    return r.method() == "POST" ? aster::redirect("/method", aster::status::see_other)
                                : aster::plain_text("unused");
}
response method_name(request& r) { return aster::plain_text(std::string(r.method())); }
response loop(request&) { return aster::redirect("/loop"); }

// Waits on a timer that is far longer than the client's timeout.
task<response> sleepy(request&) {
    aster::net::steady_timer timer(co_await aster::net::this_coro::executor);
    timer.expires_after(std::chrono::hours(1));
    co_await timer.async_wait(aster::net::use_awaitable);
    co_return aster::plain_text("too late");
}

constexpr aster::application app{
    aster::routes(aster::route<"/login", aster::method::post>(login),
                  aster::route<"/logout">(logout), aster::route<"/whoami">(whoami),
                  aster::route<"/query">(query), aster::route<"/hop/{n:int}">(hop),
                  aster::route<"/see-other", aster::method::post>(see_other),
                  aster::route<"/method", aster::method::get | aster::method::post>(method_name),
                  aster::route<"/loop">(loop), aster::route<"/sleepy">(sleepy))};

TEST_CASE("test_client: cookies set by the app are kept and sent back", "[test_client]") {
    aster::test_client client{app};
    CHECK(client.get("/whoami").text() == "anonymous/-");
    CHECK(client.post("/login").text() == "welcome");
    CHECK(client.cookies().at("session") == "abc123");
    CHECK(client.get("/whoami").text() == "abc123/dark");
    CHECK(client.get("/logout").text() == "bye");
    CHECK(client.cookies().count("session") == 0);
    CHECK(client.get("/whoami").text() == "anonymous/dark");
    client.set_cookie("session", "manual");
    CHECK(client.get("/whoami").text() == "manual/dark");
}

TEST_CASE("test_client: params are encoded into the query string", "[test_client]") {
    aster::test_client client{app};
    CHECK(client.get("/query", {.params = {{"a", "1"}, {"b", "x y&z"}}}).text() ==
          "a=1&b=x%20y%26z");
    CHECK(client.get("/query?k=v", {.params = {{"a", "1"}}}).text() == "k=v&a=1");
}

TEST_CASE("test_client: redirects are followed, 303 turns POST into GET", "[test_client]") {
    aster::test_client client{app};
    CHECK(client.get("/hop/3").text() == "landed");
    CHECK(client.post("/see-other").text() == "GET");
    CHECK(client.get("/hop/2", {.follow_redirects = false}).status_code == 307);
    CHECK_THROWS_WITH(client.get("/loop"), Catch::Contains("more than 20 redirects"));
}

TEST_CASE("test_client: a handler that never answers fails the test after the timeout",
          "[test_client]") {
    aster::test_client client{app, {.timeout = std::chrono::milliseconds(50)}};
    auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(client.get("/sleepy"), aster::test_timeout);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
    // The client is usable afterwards on a fresh connection.
    CHECK(client.exchange("GET /method HTTP/1.1\r\nHost: t\r\n\r\n", 1).at(0).text() == "GET");
}

TEST_CASE("test_client: an incomplete request fails fast instead of hanging", "[test_client]") {
    aster::test_client client{app, {.timeout = std::chrono::seconds(5)}};
    auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(client.exchange("GET /method HTTP/1.1\r\nHost: t\r\n", 1),
                      Catch::Contains("waiting for more request bytes"));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
}

} // namespace test_client_test
