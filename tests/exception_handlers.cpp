// SPDX-License-Identifier: MIT
// Exception handlers: by status (http_exception and routing's own 404/405) and by type.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

namespace exception_handlers_test {

using aster::request;
using aster::response;

struct out_of_stock : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct discontinued : out_of_stock {
    using out_of_stock::out_of_stock;
};

response item(request&, std::string_view name) {
    if (name == "gone") throw aster::http_exception{aster::status::not_found, "no such item"};
    if (name == "busy") throw aster::http_exception{aster::status::conflict, "try later"};
    if (name == "empty") throw out_of_stock("empty shelf");
    if (name == "old") throw discontinued("not made any more");
    if (name == "bug") throw std::logic_error("a bug");
    if (name == "missing")
        return aster::plain_text("a handler's own 404", aster::status::not_found);
    return aster::plain_text("item " + std::string(name));
}

response posted(request&) { return aster::plain_text("posted"); }

aster::task<response> later(request&) {
    co_await aster::net::post(co_await aster::net::this_coro::executor, aster::net::use_awaitable);
    throw out_of_stock("after a suspension");
}

response not_found(request& req, const aster::http_exception& e) {
    return aster::plain_text("custom 404 for " + std::string(req.path()) + ": " +
                                 std::string(e.detail()),
                             aster::status::not_found);
}

response not_allowed(request&, const aster::http_exception& e) {
    std::string allow;
    for (const auto& [k, v] : e.headers())
        if (k == "Allow") allow = v;
    response r = aster::plain_text("custom 405, allow " + allow, aster::status::method_not_allowed);
    r.header("Allow", allow);
    return r;
}

response stock(request&, const out_of_stock& e) {
    return aster::plain_text(std::string("stock: ") + e.what(), aster::status::service_unavailable);
}

constexpr auto table = aster::routes(aster::route<"/items/{name}">(item),
                                     aster::route<"/later">(later),
                                     aster::route<"/only-post", aster::method::post>(posted));

constexpr aster::application app{
    table,
    aster::exception_handlers(aster::on_status<404>(not_found), aster::on_status<405>(not_allowed),
                              aster::on_exception<out_of_stock>(stock))};

struct tag {
    aster::task<response> operator()(request& req, aster::call_next next) const {
        response r = co_await next(req);
        r.set_header("X-Tag", "outer");
        co_return r;
    }
};
constexpr aster::application with_middleware{table, aster::middleware(tag{}),
                                             aster::exception_handlers(
                                                 aster::on_exception<out_of_stock>(stock))};

TEST_CASE("exception_handlers: by status, for http_exception", "[exception_handlers]") {
    aster::test_client client{app};
    auto r = client.get("/items/gone");
    CHECK(r.status_code == 404);
    CHECK(r.text() == "custom 404 for /items/gone: no such item");
    // No handler for 409: the http_exception answers as without handlers.
    r = client.get("/items/busy");
    CHECK(r.status_code == 409);
    CHECK(r.text() == "try later");
}

TEST_CASE("exception_handlers: routing's own 404 and 405, not a handler's 404",
          "[exception_handlers]") {
    aster::test_client client{app};
    auto r = client.get("/nowhere");
    CHECK(r.status_code == 404);
    CHECK(r.text() == "custom 404 for /nowhere: Not Found");
    r = client.get("/only-post");
    CHECK(r.status_code == 405);
    CHECK(r.text() == "custom 405, allow POST");
    CHECK(r.header("allow") == "POST");
    r = client.get("/items/missing");
    CHECK(r.status_code == 404);
    CHECK(r.text() == "a handler's own 404");
    CHECK(client.get("/items/apple").text() == "item apple");
}

TEST_CASE("exception_handlers: by type, derived types too, after a suspension",
          "[exception_handlers]") {
    aster::test_client client{app};
    auto r = client.get("/items/empty");
    CHECK(r.status_code == 503);
    CHECK(r.text() == "stock: empty shelf");
    r = client.get("/items/old");
    CHECK(r.status_code == 503);
    CHECK(r.text() == "stock: not made any more");
    r = client.get("/later");
    CHECK(r.status_code == 503);
    CHECK(r.text() == "stock: after a suspension");
}

TEST_CASE("exception_handlers: an unhandled exception is still a 500", "[exception_handlers]") {
    aster::test_client client{app, {.raise_server_exceptions = false}};
    auto r = client.get("/items/bug");
    CHECK(r.status_code == 500);
    CHECK(r.text() == "Internal Server Error");
}

TEST_CASE("exception_handlers: inside the middleware, which sees the handled response",
          "[exception_handlers]") {
    aster::test_client client{with_middleware};
    auto r = client.get("/items/empty");
    CHECK(r.status_code == 503);
    CHECK(r.header("x-tag") == "outer");
    // No status handlers here: routing's 404 is the default one.
    r = client.get("/nowhere");
    CHECK(r.status_code == 404);
    CHECK(r.text() == "Not Found");
    CHECK(r.header("x-tag") == "outer");
}

response broken_handler(request&, const out_of_stock&) { throw std::logic_error("handler bug"); }

constexpr aster::application broken{table, aster::exception_handlers(
                                               aster::on_exception<out_of_stock>(broken_handler))};

TEST_CASE("exception_handlers: a handler that throws is answered with a 500",
          "[exception_handlers]") {
    aster::test_client client{broken, {.raise_server_exceptions = false}};
    auto r = client.get("/items/empty");
    CHECK(r.status_code == 500);
    aster::test_client raising{broken};
    CHECK_THROWS_WITH(raising.get("/items/empty"), "handler bug");
}

} // namespace exception_handlers_test
