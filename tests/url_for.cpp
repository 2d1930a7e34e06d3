// Reverse routing at run time: request::url_path_for / url_for and websocket::url_for.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace url_for_test {

aster::response user(aster::request&, std::int64_t) { return aster::plain_text("user"); }
aster::response file(aster::request&, std::string_view) { return aster::plain_text("file"); }
aster::response item(aster::request&, std::string_view, double) { return aster::plain_text("i"); }
aster::response thing(aster::request&, aster::uuid) { return aster::plain_text("thing"); }
aster::response home(aster::request&) { return aster::plain_text("home"); }

// Answers with what the request's reverse lookups give, or the no_match_found message.
aster::response links(aster::request& r) {
    std::string out;
    auto add = [&](auto f) {
        try {
            out += f();
        } catch (const aster::no_match_found& e) {
            out += std::string("error: ") + e.what();
        }
        out += "\n";
    };
    add([&] { return r.url_path_for("home"); });
    add([&] { return r.url_path_for("user", 42); });
    add([&] { return r.url_for("user", std::int64_t(7)); });
    add([&] { return r.url_path_for("user", "12"); });
    add([&] { return r.url_path_for("file", "a b/c.txt"); });
    add([&] { return r.url_path_for("item", "x/y", 2.5); });
    add([&] { return r.url_path_for("thing", "123e4567-e89b-12d3-a456-426614174000"); });
    add([&] { return r.url_path_for("api_user", 3); });
    add([&] { return r.url_for("chat", "lobby"); });
    return aster::plain_text(out);
}

aster::response broken(aster::request& r) {
    std::string which(r.query_params().get("case").value_or(""));
    if (which == "name") return aster::plain_text(r.url_path_for("nope"));
    if (which == "count") return aster::plain_text(r.url_path_for("user"));
    if (which == "int") return aster::plain_text(r.url_path_for("user", "abc"));
    if (which == "negative") return aster::plain_text(r.url_path_for("user", -1));
    if (which == "empty") return aster::plain_text(r.url_path_for("item", "", 1.0));
    return aster::plain_text(r.url_path_for("thing", "not-a-uuid"));
}

aster::task<> chat(aster::websocket& ws, std::string_view) {
    co_await ws.accept();
    co_await ws.send_text(ws.url_for("chat", "other") + " " + ws.url_for("home") + " " +
                          ws.url_path_for("user", 1));
    co_await ws.close();
}

constexpr auto api = aster::routes(aster::route<"/users/{id:int}">(user).named<"api_user">());
constexpr auto table = aster::routes(
    aster::route<"/">(home).named<"home">(), aster::route<"/users/{id:int}">(user).named<"user">(),
    aster::route<"/files/{p:path}">(file).named<"file">(),
    aster::route<"/items/{name}/{price:float}">(item).named<"item">(),
    aster::route<"/things/{u:uuid}">(thing).named<"thing">(), aster::route<"/links">(links),
    aster::route<"/broken">(broken), aster::mount<"/api/v1">(api),
    aster::websocket_route<"/ws/{room}">(chat).named<"chat">());
constexpr aster::application app{table};

TEST_CASE("url_for: request.url_path_for builds paths by name at run time", "[routing][url_for]") {
    aster::test_client client{app};
    CHECK(client.get("/links").text() == "/\n"
                                         "/users/42\n"
                                         "http://testserver/users/7\n"
                                         "/users/12\n"
                                         "/files/a%20b/c.txt\n"
                                         "/items/x%2Fy/2.5\n"
                                         "/things/123e4567-e89b-12d3-a456-426614174000\n"
                                         "/api/v1/users/3\n"
                                         "ws://testserver/ws/lobby\n");
}

TEST_CASE("url_for: absolute URLs take the request's scheme and Host", "[routing][url_for]") {
    aster::test_client client{app, {.https = true}};
    auto text = client.get("/links").text();
    CHECK(text.find("\nhttps://testserver/users/7\n") != std::string::npos);
    CHECK(text.find("\nwss://testserver/ws/lobby\n") != std::string::npos);
    auto other = client.get("http://example.com:8080/links").text();
    CHECK(other.find("\nhttp://example.com:8080/users/7\n") != std::string::npos);
}

TEST_CASE("url_for: agrees with the compile-time url_path_for", "[routing][url_for]") {
    aster::test_client client{app};
    auto text = client.get("/links").text();
    CHECK(text.find("\n" + app.url_path_for<"user">(42) + "\n") != std::string::npos);
    CHECK(text.find("\n" + app.url_path_for<"item">(std::string_view("x/y"), 2.5) + "\n") !=
          std::string::npos);
}

TEST_CASE("url_for: a WebSocket handler's url_for gives ws:// for WebSocket routes",
          "[routing][url_for][websocket]") {
    aster::test_client client{app};
    CHECK(client.websocket_connect("/ws/lobby").receive_text() ==
          "ws://testserver/ws/other http://testserver/ /users/1");
    CHECK(client.websocket_connect("wss://testserver/ws/lobby").receive_text() ==
          "wss://testserver/ws/other https://testserver/ /users/1");
}

TEST_CASE("url_for: a name or parameters that fit no route throw no_match_found naming it",
          "[routing][url_for]") {
    aster::test_client client{app};
    auto fails_with = [&](std::string which, std::string message) {
        try {
            client.get("/broken?case=" + which);
            FAIL("no exception for " + which);
        } catch (const aster::no_match_found& e) {
            CHECK(std::string(e.what()) == message);
        }
    };
    fails_with("name", "aster: no route exists for name \"nope\"");
    fails_with("count", "aster: route \"user\" (/users/{id:int}) takes 1 path parameter(s), not 0");
    fails_with("int",
               "aster: route \"user\" (/users/{id:int}): parameter \"id\" cannot be \"abc\"");
    fails_with("negative",
               "aster: route \"user\" (/users/{id:int}): parameter \"id\" cannot be \"-1\"");
    fails_with(
        "empty",
        "aster: route \"item\" (/items/{name}/{price:float}): parameter \"name\" cannot be \"\"");
    fails_with(
        "uuid",
        "aster: route \"thing\" (/things/{u:uuid}): parameter \"u\" cannot be \"not-a-uuid\"");
}

TEST_CASE("url_for: without raise_server_exceptions the miss is a 500", "[routing][url_for]") {
    aster::test_client client{app, {.raise_server_exceptions = false}};
    CHECK(client.get("/broken?case=name").status_code == 500);
}

TEST_CASE("url_for: an HTTP/1.0 request without Host cannot have an absolute URL",
          "[routing][url_for]") {
    aster::test_client client{app, {.raise_server_exceptions = false}};
    auto r = client.exchange("GET /links HTTP/1.0\r\n\r\n", 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status_code == 500); // url_for threw std::runtime_error; links catches only misses
}

} // namespace url_for_test
