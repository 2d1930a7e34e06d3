// https_redirect: plain-HTTP and ws:// requests get a 307 to https/wss; TLS requests pass.
#include <aster/aster.hpp>
#include <aster/middleware/https_redirect.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace https_redirect_test {

aster::response where(aster::request& r) {
    return aster::plain_text(std::string(r.scheme()) + " " + std::string(r.target()));
}
aster::task<> ws_hello(aster::websocket& ws) {
    co_await ws.accept();
    co_await ws.send_text(std::string(ws.request().scheme()));
    co_await ws.close();
}

aster::response item(aster::request& r, std::string_view) { return where(r); }

constexpr auto table = aster::routes(aster::route<"/">(where), aster::route<"/items/{name}">(item),
                                     aster::websocket_route<"/ws">(ws_hello));
const aster::application app{table, aster::middleware(aster::https_redirect{})};

TEST_CASE("https_redirect: http gets a 307 to the same URL on https",
          "[middleware][https_redirect]") {
    aster::test_client client{app, {.follow_redirects = false}};
    auto r = client.get("/items/a%20b?x=1&y=2");
    CHECK(r.status_code == 307);
    CHECK(r.header("location") == "https://testserver/items/a%20b?x=1&y=2");
    auto post = client.post("/", {.body = "data"});
    CHECK(post.status_code == 307); // 307: the client repeats the POST with its body
    CHECK(post.header("location") == "https://testserver/");
}

TEST_CASE("https_redirect: ports 80 and 443 are dropped, others kept",
          "[middleware][https_redirect]") {
    aster::test_client client{app, {.follow_redirects = false}};
    CHECK(client.get("http://example.com:80/").header("location") == "https://example.com/");
    CHECK(client.get("http://example.com:443/").header("location") == "https://example.com/");
    CHECK(client.get("http://example.com:8080/").header("location") == "https://example.com:8080/");
    CHECK(client.get("http://[::1]:80/").header("location") == "https://[::1]/");
    CHECK(client.get("http://[::1]:8080/").header("location") == "https://[::1]:8080/");
    CHECK(client.get("http://[::1]/").header("location") == "https://[::1]/");
}

TEST_CASE("https_redirect: requests over TLS pass through", "[middleware][https_redirect]") {
    aster::test_client client{app, {.follow_redirects = false, .https = true}};
    auto r = client.get("/items/x?q=1");
    CHECK(r.status_code == 200);
    CHECK(r.text() == "https /items/x?q=1");
}

TEST_CASE("https_redirect: test_client follows the redirect onto https",
          "[middleware][https_redirect]") {
    aster::test_client client{app};
    auto r = client.get("/items/x?q=1");
    CHECK(r.status_code == 200);
    CHECK(r.text() == "https /items/x?q=1");
    CHECK(client.get("http://testserver:8080/").text() == "https /");
}

TEST_CASE("https_redirect: a ws:// handshake is refused with a 307 to wss",
          "[middleware][https_redirect][websocket]") {
    aster::test_client client{app};
    try {
        client.websocket_connect("/ws?room=1");
        FAIL("the handshake was accepted");
    } catch (const aster::websocket_denial& e) {
        CHECK(e.response().status_code == 307);
        CHECK(e.response().header("location") == "wss://testserver/ws?room=1");
    }
    CHECK(client.websocket_connect("wss://testserver/ws").receive_text() == "wss");
}

TEST_CASE("https_redirect: an HTTP/1.0 request without Host gets 400",
          "[middleware][https_redirect]") {
    aster::test_client client{app};
    auto r = client.exchange("GET / HTTP/1.0\r\n\r\n", 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status_code == 400);
    CHECK(r[0].text() == "Missing Host header");
}

} // namespace https_redirect_test
