// Middleware composed around the route table, driven through test_client.
#include <aster/aster.hpp>
#include <aster/middleware/trusted_host.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace middleware_tests {

std::vector<std::string> trace;

aster::task<aster::response> hello(aster::request&) {
    trace.push_back("handler");
    co_return aster::plain_text("hello");
}
aster::task<> ws_echo(aster::websocket& ws) {
    co_await ws.accept();
    co_await ws.send_text(co_await ws.receive_text());
    co_await ws.close();
}

// Runs code before and after the rest of the chain, and answers alone for /blocked.
struct recorder {
    std::string name;
    aster::task<aster::response> operator()(aster::request& req, aster::call_next next) const {
        trace.push_back(name + " before");
        if (req.path() == "/blocked")
            co_return aster::plain_text("blocked by " + name, aster::status::forbidden);
        auto res = co_await next(req);
        res.header("X-Seen-By", name);
        trace.push_back(name + " after");
        co_return res;
    }
};

constexpr auto table = aster::routes(aster::route<"/hello">(hello), aster::route<"/blocked">(hello),
                                     aster::websocket_route<"/ws">(ws_echo));

TEST_CASE("middleware: runs before and after the handler, outermost first", "[middleware]") {
    const aster::application app{table, aster::middleware(recorder{"outer"}, recorder{"inner"})};
    aster::test_client client{app};
    trace.clear();
    auto r = client.get("/hello");
    CHECK(r.text() == "hello");
    CHECK(r.header_values("x-seen-by") == std::vector<std::string>{"inner", "outer"});
    CHECK(trace == std::vector<std::string>{"outer before", "inner before", "handler",
                                            "inner after", "outer after"});
}

TEST_CASE("middleware: can answer without calling the rest", "[middleware]") {
    const aster::application app{table, aster::middleware(recorder{"outer"}, recorder{"inner"})};
    aster::test_client client{app};
    trace.clear();
    auto r = client.get("/blocked");
    CHECK(r.status_code == 403);
    CHECK(r.text() == "blocked by outer");
    CHECK(trace == std::vector<std::string>{"outer before"});
}

TEST_CASE("middleware: sees routing's own 404 and 405", "[middleware]") {
    const aster::application app{table, aster::middleware(recorder{"only"})};
    aster::test_client client{app};
    auto missing = client.get("/nowhere");
    CHECK(missing.status_code == 404);
    CHECK(missing.header("x-seen-by") == "only");
    auto wrong = client.post("/hello");
    CHECK(wrong.status_code == 405);
    CHECK(wrong.header("x-seen-by") == "only");
}

TEST_CASE("middleware: WebSockets pass through a middleware without a WebSocket hook",
          "[middleware]") {
    const aster::application app{table, aster::middleware(recorder{"only"})};
    aster::test_client client{app};
    auto ws = client.websocket_connect("/ws");
    ws.send_text("hi");
    CHECK(ws.receive_text() == "hi");
}

TEST_CASE("middleware: an exception in a middleware is a 500 and reaches the test",
          "[middleware]") {
    struct failing {
        aster::task<aster::response> operator()(aster::request&, aster::call_next) const {
            throw std::runtime_error("middleware broke");
            co_return aster::response{};
        }
    };
    const aster::application app{table, aster::middleware(failing{})};
    aster::test_client client{app};
    CHECK_THROWS_WITH(client.get("/hello"), "middleware broke");
    aster::test_client quiet{app, {.raise_server_exceptions = false}};
    CHECK(quiet.get("/hello").status_code == 500);
}

TEST_CASE("trusted_host: allowed names and wildcards pass, others get 400", "[middleware]") {
    const aster::application app{table, aster::middleware(
                                            aster::trusted_host{{"testserver", "*.example.com"}})};
    aster::test_client client{app};
    CHECK(client.get("/hello").text() == "hello");
    CHECK(client.get("/hello", {.headers = {}}).status_code == 200);
    aster::test_client sub{app, {.host = "api.example.com"}};
    CHECK(sub.get("/hello").status_code == 200);
    aster::test_client bad{app, {.host = "evil.com"}};
    auto r = bad.get("/hello");
    CHECK(r.status_code == 400);
    CHECK(r.text() == "Invalid host header");
    aster::test_client bare{app, {.host = "example.com"}}; // "*.example.com" is subdomains only
    CHECK(bare.get("/hello").status_code == 400);
}

TEST_CASE("trusted_host: the port is ignored", "[middleware]") {
    const aster::application app{table, aster::middleware(aster::trusted_host{{"testserver"}})};
    aster::test_client client{app, {.host = "testserver:8000"}};
    CHECK(client.get("/hello").status_code == 200);
}

TEST_CASE("trusted_host: www redirect", "[middleware]") {
    const aster::application app{table,
                                 aster::middleware(aster::trusted_host{{"www.example.com"}})};
    aster::test_client client{app, {.follow_redirects = false, .host = "example.com"}};
    auto r = client.get("/hello?x=1");
    CHECK(r.status_code == 307);
    CHECK(r.header("location") == "http://www.example.com/hello?x=1");
    // Over TLS the redirect stays on https.
    CHECK(client.get("https://example.com/hello").header("location") ==
          "https://www.example.com/hello");
    const aster::application no_redirect{
        table, aster::middleware(aster::trusted_host{{"www.example.com"}, false})};
    aster::test_client plain{no_redirect, {.host = "example.com"}};
    CHECK(plain.get("/hello").status_code == 400);
}

TEST_CASE("trusted_host: a WebSocket handshake with a bad host is refused with 400",
          "[middleware]") {
    const aster::application app{table, aster::middleware(aster::trusted_host{{"good.com"}})};
    aster::test_client bad{app};
    try {
        bad.websocket_connect("/ws");
        FAIL("the handshake was accepted");
    } catch (const aster::websocket_denial& d) {
        CHECK(d.response().status_code == 400);
        CHECK(d.response().text() == "Invalid host header");
    }
    aster::test_client good{app, {.host = "good.com"}};
    auto ws = good.websocket_connect("/ws");
    ws.send_text("ok");
    CHECK(ws.receive_text() == "ok");
}

TEST_CASE("trusted_host: a bad wildcard pattern is refused", "[middleware]") {
    CHECK_THROWS_AS(aster::trusted_host({"api.*.com"}), std::invalid_argument);
    CHECK_THROWS_AS(aster::trusted_host({"*example.com"}), std::invalid_argument);
}

} // namespace middleware_tests
