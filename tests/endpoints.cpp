// SPDX-License-Identifier: MIT
// Class-based HTTP endpoints: members found at compile time, HEAD from GET, 405 + Allow.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace endpoints_test {

using aster::request;
using aster::response;
using aster::task;

int instances_made = 0;

struct everything : aster::http_endpoint {
    everything() { ++instances_made; }
    int calls = 0; // per-request state: a fresh instance each time, so always 1 below
    task<response> get(request&, std::int64_t id) {
        co_return aster::plain_text("get " + std::to_string(id) + " " + std::to_string(++calls));
    }
    task<response> post(request& r, std::int64_t id) {
        auto body = co_await r.body();
        co_return aster::plain_text("post " + std::to_string(id) + " " + std::string(body),
                                    aster::status::created);
    }
    response put(request&, std::int64_t) { return aster::plain_text("put"); }
    task<response> patch(request&, std::int64_t) { co_return aster::plain_text("patch"); }
    task<response> delete_(request&, std::int64_t) {
        co_return response(aster::status::no_content);
    }
    task<response> options(request&, std::int64_t) {
        co_return response(aster::status::no_content).header("Allow", "GET, POST");
    }
};

struct read_only : aster::http_endpoint {
    task<response> get(request&) { co_return aster::plain_text("read only"); }
};

struct with_head : aster::http_endpoint {
    task<response> get(request&) { co_return aster::plain_text("from get"); }
    task<response> head(request&) {
        co_return aster::plain_text("from head!").header("X-Head", "1");
    }
};

struct post_only : aster::http_endpoint {
    response post(request&) { return aster::plain_text("posted"); }
};

constexpr aster::application app{
    aster::routes(aster::route<"/things/{id:int}", everything>(), aster::route<"/ro", read_only>(),
                  aster::route<"/head", with_head>(), aster::route<"/post", post_only>())};

TEST_CASE("endpoints: each method reaches its member, with path parameters", "[endpoints]") {
    aster::test_client client{app};
    CHECK(client.get("/things/3").text() == "get 3 1");
    CHECK(client.get("/things/3").text() == "get 3 1"); // a new instance per request
    auto created = client.post("/things/4", {.body = "payload"});
    CHECK(created.status_code == 201);
    CHECK(created.text() == "post 4 payload");
    CHECK(client.put("/things/4").text() == "put");
    CHECK(client.patch("/things/4").text() == "patch");
    auto deleted = client.delete_("/things/4");
    CHECK(deleted.status_code == 204);
    CHECK_FALSE(deleted.header("content-length").has_value());
    CHECK(client.options("/things/4").header("allow") == "GET, POST");
}

TEST_CASE("endpoints: one instance per request", "[endpoints]") {
    aster::test_client client{app};
    int before = endpoints_test::instances_made;
    client.get("/things/1");
    client.get("/things/2");
    CHECK(endpoints_test::instances_made - before == 2);
}

TEST_CASE("endpoints: HEAD is served by get without a body", "[endpoints]") {
    aster::test_client client{app};
    auto r = client.head("/ro");
    CHECK(r.status_code == 200);
    CHECK(r.header("content-length") == "9");
    CHECK(r.text().empty());
    auto h = client.head("/head");
    CHECK(h.header("x-head") == "1");
    CHECK(h.header("content-length") == "10");
}

TEST_CASE("endpoints: a missing method answers 405 with the defined methods", "[endpoints]") {
    aster::test_client client{app};
    auto r = client.post("/ro");
    CHECK(r.status_code == 405);
    CHECK(r.header("allow") == "GET"); // HEAD is served but listed only when defined
    CHECK(client.delete_("/head").header("allow") == "GET, HEAD");
    CHECK(client.get("/post").header("allow") == "POST");
    CHECK(client.request("PROPFIND", "/ro").status_code == 405);
}

} // namespace endpoints_test
