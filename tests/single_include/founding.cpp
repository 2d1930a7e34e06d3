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
