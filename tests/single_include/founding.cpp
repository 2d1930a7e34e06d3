// SPDX-License-Identifier: MIT
// The founding example built against single_include/aster.hpp alone (no include/ on the path).
#include <aster.hpp>

#include <catch2/catch.hpp>

#ifdef ASTER_DETAIL_ROUTE_PATTERN_HPP
static_assert(true, "the single header carries the route pattern parser");
#else
#error "single_include/aster.hpp did not define the detail headers it should inline"
#endif

namespace single_include_test {

struct HelloEndpoint : aster::http_endpoint {
    aster::task<aster::response> get(aster::request&) {
        co_return aster::plain_text("Hello, World!");
    }
};

constexpr aster::application app{aster::routes(aster::route<"/hello", HelloEndpoint>())};

} // namespace single_include_test

TEST_CASE("single header: the founding example builds and answers", "[single_include]") {
    aster::test_client client{single_include_test::app};
    CHECK(client.get("/hello").text() == "Hello, World!");
    CHECK(client.post("/hello").header("allow") == "GET");
}

// Everything else a user can include, from the single header and aster_test.hpp alone.
#include <aster_test.hpp>

namespace single_include_test {

aster::task<aster::response> form(aster::request& req) {
    auto fields = co_await req.form();
    co_return aster::plain_text(std::string(fields.get("name", "")));
}
aster::response file(aster::request& req) {
    return aster::file_response(req, "/proc/self/cmdline", {.content_type = "text/plain"});
}
aster::task<aster::response> events(aster::request&) {
    co_return aster::event_source_response(
        [](aster::event_writer& out) -> aster::task<> { co_await out.send_data("tick"); });
}

const aster::application everything{
    aster::routes(aster::route<"/form", aster::method::post>(form), aster::route<"/file">(file),
                  aster::route<"/events">(events),
                  aster::mount<"/static">(aster::static_files{"/proc/self"}),
                  aster::metrics_route<"/metrics">()),
    aster::middleware(aster::cors{{.allow_origins = {"*"}}}, aster::trusted_host{{"testserver"}},
#ifdef ASTER_HAS_ZLIB
                      aster::gzip{},
#endif
                      aster::https_redirect{})};

} // namespace single_include_test

TEST_CASE("single header: forms, files, static files, events, middleware, metrics, matchers",
          "[single_include]") {
    using namespace aster::test;
    aster::test_client client{single_include_test::everything, {.https = true}};
    CHECK_THAT(client.post("/form", {.body = "name=aster",
                                     .content_type = "application/x-www-form-urlencoded"}),
               has_status(200));
    CHECK(client
              .post("/form",
                    {.body = "name=aster", .content_type = "application/x-www-form-urlencoded"})
              .text() == "aster");
    CHECK_THAT(client.get("/file"), has_status(200));
    CHECK(client.get("/events").text() == "data: tick\n\n");
    CHECK_THAT(client.get("/static/cmdline"), has_status(200));
    CHECK_THAT(client.get("/metrics"), has_header("content-type"));
    CHECK_THAT(client.get("/file", {.headers = {{"Origin", "https://x.example"}}}),
               has_header("access-control-allow-origin", "*"));
    aster::test_client plain{single_include_test::everything, {.follow_redirects = false}};
    CHECK_THAT(plain.get("/file"), has_status(307)); // https_redirect
}
