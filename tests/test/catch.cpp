// SPDX-License-Identifier: MIT
// Tests for aster/test/catch.hpp: how failures print, and the matchers' verdicts and descriptions.
#include <aster/aster.hpp>
#include <aster/test/catch.hpp>

#include <catch2/catch.hpp>

#include <sstream>
#include <stdexcept>
#include <string>

namespace catch_helpers_test {

aster::response hello(aster::request&) { return aster::plain_text("Hello, World!"); }

aster::response teapot(aster::request&) {
    return aster::response(aster::status::im_a_teapot, R"({"b": [1, 2], "a": 1})",
                           "application/json")
        .header("X-Tag", "one")
        .header("X-Tag", "two");
}

aster::task<> close_4001(aster::websocket& ws) {
    co_await ws.accept();
    co_await ws.close(4001, "custom");
}

constexpr aster::application app{aster::routes(aster::route<"/hello">(hello),
                                               aster::route<"/teapot">(teapot),
                                               aster::websocket_route<"/ws">(close_4001))};

aster::test_response make_response(int status, std::string body) {
    aster::test_response r;
    r.status_code = status;
    r.headers = {{"content-type", "text/plain; charset=utf-8"}, {"X-Tag", "a"}};
    r.body = std::move(body);
    return r;
}

// What Catch prints after "with expansion:" when CHECK_THAT(arg, matcher) fails.
template <class Arg, class Matcher>
std::string expansion(const Arg& arg, const Matcher& matcher) {
    auto expr = Catch::makeMatchExpr(arg, matcher, "");
    std::ostringstream os;
    expr.streamReconstructedExpression(os);
    return os.str();
}

} // namespace catch_helpers_test

TEST_CASE("test/catch: a response prints as status line, headers and body", "[catch]") {
    using namespace aster::test;
    using namespace catch_helpers_test;
    CHECK(Catch::Detail::stringify(make_response(404, "Not Found")) ==
          "404 Not Found\ncontent-type: text/plain; charset=utf-8\nX-Tag: a\n \nNot Found\n");
    CHECK(Catch::Detail::stringify(make_response(204, "")) ==
          "204 No Content\ncontent-type: text/plain; charset=utf-8\nX-Tag: a\n \n(no body)\n");

    aster::test_client client{app};
    auto printed = Catch::Detail::stringify(client.get("/hello"));
    CHECK(printed.starts_with("200 OK\n"));
    CHECK_THAT(printed, Catch::Contains("\nContent-Length: 13\n"));
    CHECK(printed.ends_with("\n \nHello, World!\n"));
}

TEST_CASE("test/catch: a long body is cut, at a character boundary", "[catch]") {
    using namespace aster::test;
    using namespace catch_helpers_test;
    auto printed = Catch::Detail::stringify(make_response(200, std::string(2000, 'a')));
    CHECK(printed.ends_with("\n \n" + std::string(512, 'a') +
                            "... (1488 more bytes, 2000 in all)\n"));

    // "é" is two bytes, at 511 and 512: cut before it rather than in the middle.
    auto body = std::string(511, 'a') + "\xC3\xA9" + std::string(100, 'b');
    printed = Catch::Detail::stringify(make_response(200, body));
    CHECK(
        printed.ends_with("\n \n" + std::string(511, 'a') + "... (102 more bytes, 613 in all)\n"));

    CHECK(Catch::Detail::stringify(make_response(200, std::string(512, 'x')))
              .ends_with("\n \n" + std::string(512, 'x') + "\n"));
}

TEST_CASE("test/catch: control bytes and bytes that are not UTF-8 print escaped", "[catch]") {
    using namespace aster::test;
    using namespace catch_helpers_test;
    auto printed = Catch::Detail::stringify(make_response(200, "a\x01z\xFF\r\n\tu\xC3\xBC\x7F"));
    CHECK(printed.ends_with("\n \na\\x01z\\xFF\\x0D\n\tu\xC3\xBC\\x7F\n"));
}

TEST_CASE("test/catch: received messages print with their kind", "[catch]") {
    using namespace aster::test;
    using namespace catch_helpers_test;
    CHECK(Catch::Detail::stringify(aster::received_message{true, "OK!"}) ==
          "text message of 3 bytes: \"OK!\"");
    CHECK(Catch::Detail::stringify(aster::received_message{false, std::string("\x00\x01", 2)}) ==
          "binary message of 2 bytes: \"\\x00\\x01\"");
}

TEST_CASE("test/catch: has_status", "[catch]") {
    using namespace aster::test;
    using namespace catch_helpers_test;
    CHECK(has_status(404).describe() == "has status 404 Not Found");
    CHECK(has_status(aster::status::created).describe() == "has status 201 Created");
    CHECK(has_status(404).match(make_response(404, "")));
    CHECK_FALSE(has_status(404).match(make_response(200, "")));
    CHECK_FALSE(has_status(aster::status::ok).match(make_response(201, "")));

    // The whole text of a failure: the response, then what was expected.
    CHECK(expansion(make_response(200, "hi"), has_status(404)) ==
          "200 OK\ncontent-type: text/plain; charset=utf-8\nX-Tag: a\n \nhi\n has status 404 Not "
          "Found");

    aster::test_client client{app};
    CHECK_THAT(client.get("/missing"), has_status(aster::status::not_found));
    CHECK_THAT(client.get("/teapot"), has_status(418) && !has_status(200));
}

TEST_CASE("test/catch: has_header", "[catch]") {
    using namespace aster::test;
    using namespace catch_helpers_test;
    aster::test_client client{app};
    auto r = client.get("/teapot");
    CHECK(has_header("x-tag").match(r));              // any case
    CHECK(has_header("X-TAG", "two").match(r));       // any of its values
    CHECK_FALSE(has_header("x-tag", "TWO").match(r)); // values exactly
    CHECK_FALSE(has_header("x-missing").match(r));
    CHECK(has_header("x-missing").describe() == "has header x-missing");
    CHECK(has_header("Content-Type", "text/plain").describe() ==
          "has header Content-Type: text/plain");
    CHECK_THAT(r, has_status(418) && has_header("content-type", "application/json"));
}

#ifdef ASTER_HAS_JSON
TEST_CASE("test/catch: is_json compares parsed values", "[catch]") {
    using namespace aster::test;
    using namespace catch_helpers_test;
    aster::test_client client{app};
    auto r = client.get("/teapot"); // {"b": [1, 2], "a": 1}
    CHECK(is_json(R"({ "a": 1, "b": [1, 2] })").match(r));
    CHECK_FALSE(is_json(R"({"a": 1, "b": [2, 1]})").match(r));
    CHECK_FALSE(is_json(R"({"a": 1})").match(r));
    CHECK_FALSE(is_json("1").match(make_response(200, "1 and more")));
    CHECK_FALSE(is_json("null").match(make_response(200, "")));
    CHECK(is_json(R"({ "b": [1, 2], "a": 1 })").describe() ==
          R"(is JSON equal to {"a":1,"b":[1,2]})");
    CHECK_THROWS_AS(is_json("{oops"), std::invalid_argument);
    CHECK_THAT(r, is_json(R"({"a": 1, "b": [1, 2]})"));
}
#endif

TEST_CASE("test/catch: closed_with and how a disconnect prints", "[catch]") {
    using namespace aster::test;
    using namespace catch_helpers_test;
    CHECK(closed_with(aster::close_code::internal_error).describe() ==
          "closed with 1011 internal_error");
    CHECK(closed_with(4001).describe() == "closed with 4001");
    CHECK(closed_with(1000).match(aster::websocket_disconnect(1000)));
    CHECK_FALSE(closed_with(1000).match(aster::websocket_disconnect(1001)));
    CHECK(expansion(aster::websocket_disconnect(1011, "boom"), closed_with(1000)) ==
          "websocket closed with code 1011 (internal_error): boom closed with 1000 normal_closure");

    aster::test_client client{app};
    auto ws = client.websocket_connect("/ws");
    CHECK_THROWS_MATCHES(ws.receive_text(), aster::websocket_disconnect, closed_with(4001));
}
