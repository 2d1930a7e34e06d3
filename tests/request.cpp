// SPDX-License-Identifier: MIT
// What a handler sees of a request: method, target, query, headers, cookies, body, client.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace request_test {

using aster::request;
using aster::response;

std::string joined(const std::vector<std::string_view>& items) {
    std::string out;
    for (auto v : items) out += (out.empty() ? "" : ",") + std::string(v);
    return out;
}

response describe(request& r, std::string_view) {
    std::string out;
    out += "method=" + std::string(r.method()) + "\n";
    out += "target=" + std::string(r.target()) + "\n";
    out += "path=" + std::string(r.path()) + "\n";
    out += "raw_path=" + std::string(r.raw_path()) + "\n";
    out += "query=" + std::string(r.query_string()) + "\n";
    out += "a=" + std::string(r.query_params().get("a").value_or("-")) + "\n";
    out += "all_a=" + joined(r.query_params().get_all("a")) + "\n";
    out += "q=" + std::string(r.query_params().get("q", "-")) + "\n";
    out += "x_multi=" + joined(r.headers().get_all("X-Multi")) + "\n";
    out += "ua=" + std::string(r.header("USER-AGENT").value_or("-")) + "\n";
    out += "sid=" + std::string(r.cookie("sid").value_or("-")) + "\n";
    out += "client=" + r.client().host + ":" + std::to_string(r.client().port) + "\n";
    out += "version=" + std::to_string(r.version_major()) + "." + std::to_string(r.version_minor());
    return aster::plain_text(out);
}

aster::task<response> echo_body(request& r) {
    auto body = co_await r.body();
    co_return aster::plain_text(std::string(body));
}

response params(request& r, std::string_view, std::int64_t) {
    std::string out;
    for (const auto& p : r.path_params())
        out += std::string(p.name) + "=" + std::string(p.value) + ";";
    out += "lookup=" + std::string(r.path_param("n"));
    return aster::plain_text(out);
}

// A typo in a parameter's name: path_param throws, naming it and the route's pattern.
response typo(request& r, std::int64_t) {
    return aster::plain_text(std::string(r.path_param("idd")));
}

constexpr aster::application app{
    aster::routes(aster::route<"/describe/{rest:path}">(describe),
                  aster::route<"/echo", aster::method::post | aster::method::put>(echo_body),
                  aster::route<"/p/{word}/{n:int}">(params), aster::route<"/typo/{id:int}">(typo))};

TEST_CASE("request: method, target, path and raw query", "[request]") {
    aster::test_client client{app};
    auto text = client.get("/describe/a%20b?a=1&a=2&q=x+y&z").text();
    CHECK_THAT(text, Catch::Contains("method=GET\n"));
    CHECK_THAT(text, Catch::Contains("target=/describe/a%20b?a=1&a=2&q=x+y&z\n"));
    CHECK_THAT(text, Catch::Contains("path=/describe/a b\n"));
    CHECK_THAT(text, Catch::Contains("raw_path=/describe/a%20b\n"));
    CHECK_THAT(text, Catch::Contains("query=a=1&a=2&q=x+y&z\n"));
}

TEST_CASE("request: query parameters are decoded and multi-valued; the last wins", "[request]") {
    aster::test_client client{app};
    auto text = client.get("/describe/x?a=1&a=2&q=x+y%21").text();
    CHECK_THAT(text, Catch::Contains("a=2\n"));
    CHECK_THAT(text, Catch::Contains("all_a=1,2\n"));
    CHECK_THAT(text, Catch::Contains("q=x y!\n"));
    auto with_params = client.get("/describe/x", {.params = {{"q", "a&b=c"}, {"a", "ü"}}}).text();
    CHECK_THAT(with_params, Catch::Contains("q=a&b=c\n"));
    CHECK_THAT(with_params, Catch::Contains("a=\xC3\xBC\n"));
}

TEST_CASE("request: headers are case-insensitive and multi-valued", "[request]") {
    aster::test_client client{app};
    auto text =
        client.get("/describe/x", {.headers = {{"x-multi", "one"}, {"X-MULTI", "two"}}}).text();
    CHECK_THAT(text, Catch::Contains("x_multi=one,two\n"));
    CHECK_THAT(text, Catch::Contains("ua=testclient\n"));
}

TEST_CASE("request: cookies, client address and version", "[request]") {
    aster::test_client client{app};
    auto text = client.get("/describe/x", {.cookies = {{"sid", "42"}, {"other", "1"}}}).text();
    CHECK_THAT(text, Catch::Contains("sid=42\n"));
    CHECK_THAT(text, Catch::Contains("client=testclient:50000\n"));
    CHECK_THAT(text, Catch::Contains("version=1.1"));
}

TEST_CASE("request: Content-Length and chunked bodies", "[request]") {
    aster::test_client client{app};
    CHECK(client.post("/echo", {.body = "hello body"}).text() == "hello body");
    CHECK(client.put("/echo", {.body = std::string(100000, 'x')}).text() ==
          std::string(100000, 'x'));
    auto chunked =
        client.exchange("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                        1);
    REQUIRE(chunked.size() == 1);
    CHECK(chunked[0].text() == "hello world");
}

TEST_CASE("request: path parameters by position and by name", "[request]") {
    aster::test_client client{app};
    CHECK(client.get("/p/abc/12").text() == "word=abc;n=12;lookup=12");
}

aster::response scheme_of(aster::request& r) {
    return aster::plain_text(std::string(r.scheme()) + (r.is_secure() ? " secure" : " plain") +
                             " host=" + std::string(r.header("host").value_or("")));
}
aster::task<> ws_scheme(aster::websocket& ws) {
    co_await ws.accept();
    co_await ws.send_text(std::string(ws.request().scheme()));
    co_await ws.close();
}
constexpr aster::application scheme_app{
    aster::routes(aster::route<"/scheme">(scheme_of), aster::websocket_route<"/ws">(ws_scheme))};

TEST_CASE("request: scheme is http, or https when test_client simulates TLS", "[request][scheme]") {
    aster::test_client plain{scheme_app};
    CHECK(plain.get("/scheme").text() == "http plain host=testserver");
    aster::test_client secure{scheme_app, {.https = true}};
    CHECK(secure.get("/scheme").text() == "https secure host=testserver");
    CHECK(secure.get("/scheme").text() == "https secure host=testserver"); // kept-alive connection
}

TEST_CASE("request: an absolute URL in test_client chooses scheme and Host per request",
          "[request][scheme]") {
    aster::test_client client{scheme_app};
    CHECK(client.get("https://example.com:8443/scheme").text() ==
          "https secure host=example.com:8443");
    CHECK(client.get("http://example.com/scheme").text() == "http plain host=example.com");
    CHECK(client.get("/scheme").text() == "http plain host=testserver");
}

TEST_CASE("request: a WebSocket handshake's scheme is ws or wss", "[request][scheme][websocket]") {
    aster::test_client plain{scheme_app};
    CHECK(plain.websocket_connect("/ws").receive_text() == "ws");
    CHECK(plain.websocket_connect("wss://testserver/ws").receive_text() == "wss");
    aster::test_client secure{scheme_app, {.https = true}};
    CHECK(secure.websocket_connect("/ws").receive_text() == "wss");
    CHECK(secure.websocket_connect("ws://testserver/ws").receive_text() == "ws");
}

TEST_CASE("request::path_param: a name the pattern lacks throws, naming it and the pattern",
          "[request]") {
    aster::test_client client{app};
    CHECK_THROWS_WITH(client.get("/typo/7"),
                      "aster::request::path_param: the route /typo/{id:int} has no parameter "
                      "'idd' (it has: id)");
    aster::test_client quiet{app, {.raise_server_exceptions = false}};
    CHECK(quiet.get("/typo/7").status_code == 500);
    CHECK(client.get("/p/x/3").text() == "word=x;n=3;lookup=3");
}

} // namespace request_test
