// SPDX-License-Identifier: MIT
// Routing: patterns, convertors, first match, 404/405/redirect, mount, url_path_for.
#include <aster/aster.hpp>

#include "fuzz/support/route_reference.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace routing_test {

using aster::request;
using aster::response;

aster::task<response> hello(request&) { co_return aster::plain_text("hello"); }
response plain(request&) { return aster::plain_text("plain"); }
response user(request&, std::int64_t id) { return aster::plain_text("user " + std::to_string(id)); }
response small_int(request&, std::uint8_t n) {
    return aster::plain_text("u8 " + std::to_string(n));
}
response price(request&, double x) { return aster::plain_text("price " + std::to_string(x)); }
response thing(request&, aster::uuid u) { return aster::plain_text("uuid " + u.to_string()); }
response file(request&, std::string_view p) {
    return aster::plain_text("file [" + std::string(p) + "]");
}
response named(request&, std::string_view first, std::string last) {
    return aster::plain_text(std::string(first) + "|" + last);
}
response create(request&) { return aster::plain_text("created", aster::status::created); }
response with_ext(request&, std::string_view name, std::string_view ext) {
    return aster::plain_text(std::string(name) + " . " + std::string(ext));
}

constexpr auto api = aster::routes(aster::route<"/users/{id:int}">(user).named<"api_user">(),
                                   aster::route<"/">(plain).named<"api_root">());

constexpr auto table = aster::routes(
    aster::route<"/hello">(hello), aster::route<"/plain">(plain),
    aster::route<"/users/{id:int}">(user).named<"user">(), aster::route<"/u8/{n:int}">(small_int),
    aster::route<"/price/{x:float}">(price), aster::route<"/things/{u:uuid}">(thing),
    aster::route<"/files/{p:path}">(file).named<"file">(),
    aster::route<"/people/{first}/{last}">(named).named<"person">(),
    aster::route<"/items", aster::method::post | aster::method::put>(create),
    aster::route<"/items">(plain), aster::route<"/docs/{name}.{ext}">(with_ext),
    aster::route<"/slash/">(plain), aster::route<"/lambda">([](request& r) {
        return aster::plain_text(std::string("lambda ") + std::string(r.method()));
    }),
    aster::mount<"/api">(api));

constexpr aster::application app{table};

TEST_CASE("routing: coroutine, plain and lambda handlers", "[routing]") {
    aster::test_client client{app};
    CHECK(client.get("/hello").text() == "hello");
    CHECK(client.get("/plain").text() == "plain");
    CHECK(client.get("/lambda").text() == "lambda GET");
}

TEST_CASE("routing: int convertor", "[routing]") {
    aster::test_client client{app};
    CHECK(client.get("/users/42").text() == "user 42");
    CHECK(client.get("/users/007").text() == "user 7");
    // Starlette: a convertor mismatch is a 404, not a 400; int takes no sign.
    CHECK(client.get("/users/abc").status_code == 404);
    CHECK(client.get("/users/-1").status_code == 404);
    CHECK(client.get("/users/").status_code == 404);
    CHECK(client.get("/users/99999999999999999999999").status_code == 404); // overflows int64
    CHECK(client.get("/u8/255").text() == "u8 255");
    CHECK(client.get("/u8/256").status_code == 404); // does not fit the handler's uint8_t
}

TEST_CASE("routing: float, uuid and path convertors", "[routing]") {
    aster::test_client client{app};
    CHECK(client.get("/price/3.5").text() == "price 3.500000");
    CHECK(client.get("/price/3").text() == "price 3.000000");
    CHECK(client.get("/price/3.").status_code == 404);
    CHECK(client.get("/things/123e4567-e89b-12d3-a456-426614174000").text() ==
          "uuid 123e4567-e89b-12d3-a456-426614174000");
    CHECK(client.get("/things/123e4567-e89b-12d3-a456-42661417400").status_code == 404);
    CHECK(client.get("/things/123e4567-e89b-12d3-a456-42661417400z").status_code == 404);
    CHECK(client.get("/files/a/b/c.txt").text() == "file [a/b/c.txt]");
    CHECK(client.get("/files/").text() == "file []");
}

TEST_CASE("routing: str parameters and literals inside a segment", "[routing]") {
    aster::test_client client{app};
    CHECK(client.get("/people/ada/lovelace").text() == "ada|lovelace");
    CHECK(client.get("/people/ada").status_code == 404);
    CHECK(client.get("/docs/report.v2.pdf").text() == "report.v2 . pdf");
}

TEST_CASE("routing: matching uses the percent-decoded path", "[routing]") {
    aster::test_client client{app};
    CHECK(client.get("/people/J%C3%BCrgen/x").text() == "J\xC3\xBCrgen|x");
    CHECK(client.get("/hell%6F").text() == "hello");
    // A decoded '/' is a separator, as in Starlette: /u8/1%2F2 is /u8/1/2, which no route has,
    // and /people/a%2Fb fills both of {first}/{last}.
    CHECK(client.get("/u8/1%2F2").status_code == 404);
    CHECK(client.get("/people/a%2Fb").text() == "a|b");
}

TEST_CASE("routing: method sets and 405 with Allow in fixed order", "[routing]") {
    aster::test_client client{app};
    CHECK(client.post("/items").status_code == 201);
    CHECK(client.put("/items").status_code == 201);
    CHECK(client.get("/items").text() == "plain");
    CHECK(client.head("/items").status_code == 200);
    auto r = client.delete_("/items");
    CHECK(r.status_code == 405);
    CHECK(r.header("allow") == "GET, HEAD, POST, PUT");
    CHECK(r.text() == "Method Not Allowed");
    auto p = client.post("/hello");
    CHECK(p.status_code == 405);
    CHECK(p.header("allow") == "GET, HEAD");
}

TEST_CASE("routing: unknown paths answer 404", "[routing]") {
    aster::test_client client{app};
    auto r = client.get("/nope");
    CHECK(r.status_code == 404);
    CHECK(r.text() == "Not Found");
    CHECK(r.header("content-type") == "text/plain; charset=utf-8");
    CHECK(client.post("/nope").status_code == 404);
    CHECK(client.get("/").status_code == 404);
}

TEST_CASE("routing: trailing slash redirects with 307 when only the other form exists",
          "[routing]") {
    aster::test_client client{app, {.follow_redirects = false}};
    auto r = client.get("/hello/?x=1");
    CHECK(r.status_code == 307);
    CHECK(r.header("location") == "http://testserver/hello?x=1");
    CHECK(r.text().empty());
    auto back = client.get("/slash");
    CHECK(back.status_code == 307);
    CHECK(back.header("location") == "http://testserver/slash/");
    // Over TLS the redirect stays on https.
    CHECK(client.get("https://testserver/slash").header("location") == "https://testserver/slash/");
    CHECK(client.get("/nope/").status_code == 404);
    // Followed by default, as Starlette's TestClient does.
    aster::test_client following{app};
    CHECK(following.get("/hello/").text() == "hello");
}

// Found by tests/fuzz/routing.cpp: each redirect went to a path that then answered 404.
TEST_CASE("routing: slash redirects only to paths that route, escaped ones too", "[routing]") {
    aster::test_client client{app, {.follow_redirects = false}};
    // /users/{id:int} does not convert 99999999999999999999: no redirect to a 404.
    CHECK(client.get("/users/99999999999999999999/").status_code == 404);
    // /hello%2F decodes to /hello/: the other spelling is /hello, not /hello%2F/.
    auto r = client.get("/hello%2F");
    CHECK(r.status_code == 307);
    CHECK(r.header("location") == "http://testserver/hello");
    auto s = client.get("/sl%61sh");
    CHECK(s.status_code == 307);
    CHECK(s.header("location") == "http://testserver/slash/");
    aster::test_client following{app};
    CHECK(following.get("/hello%2F").text() == "hello");
}

// Found by tests/fuzz/routing.cpp: 1e+23 was written in exponent form, which {x:float} refuses.
TEST_CASE("routing: url_path_for writes floats as digits a float convertor matches", "[routing]") {
    constexpr aster::application prices{
        aster::routes(aster::route<"/p/{x:float}">(price).named<"p">())};
    CHECK(prices.url_path_for<"p">(1e23) == "/p/99999999999999991611392"); // its exact value
    CHECK(prices.url_path_for<"p">(2.5) == "/p/2.5");
    CHECK(prices.url_path_for<"p">(1e-7) == "/p/0.0000001");
    CHECK(prices.url_path_for<"p">(100.0) == "/p/100");
    aster::test_client client{app};
    std::string path = prices.url_path_for<"p">(5e-324);
    CHECK(path.size() > 320);
    CHECK(client.get("/price/" + path.substr(3)).text().starts_with("price 0.0"));
}

TEST_CASE("routing: mount composes tables at compile time", "[routing]") {
    aster::test_client client{app, {.follow_redirects = false}};
    CHECK(client.get("/api/users/5").text() == "user 5");
    CHECK(client.get("/api/").text() == "plain");
    CHECK(client.get("/api").status_code == 307);
    CHECK(client.get("/users/5").text() == "user 5");
}

TEST_CASE("routing: url_path_for builds paths from names", "[routing]") {
    CHECK(app.url_path_for<"user">(42) == "/users/42");
    CHECK(app.url_path_for<"api_user">(7) == "/api/users/7");
    CHECK(app.url_path_for<"api_root">() == "/api/");
    CHECK(app.url_path_for<"person">("a b", "c/d") == "/people/a%20b/c%2Fd");
    CHECK(app.url_path_for<"file">(std::string("x/y z.txt")) == "/files/x/y%20z.txt");
}

TEST_CASE("routing: patterns are parsed at compile time", "[routing][route_pattern]") {
    using namespace aster::detail;
    constexpr auto& p = pattern_of<"/users/{id:int}/posts/{slug}">;
    STATIC_REQUIRE(p.error == pattern_error::none);
    STATIC_REQUIRE(p.param_count == 2);
    STATIC_REQUIRE(p.param(0).text == "id");
    STATIC_REQUIRE(p.param(0).conv == aster::convertor::int_);
    STATIC_REQUIRE(p.param(1).conv == aster::convertor::str);
    STATIC_REQUIRE(pattern_of<"users">.error == pattern_error::not_absolute);
    STATIC_REQUIRE(pattern_of<"/a/{b">.error == pattern_error::unbalanced_brace);
    STATIC_REQUIRE(pattern_of<"/a/b}">.error == pattern_error::unbalanced_brace);
    STATIC_REQUIRE(pattern_of<"/a/{b:nope}">.error == pattern_error::unknown_convertor);
    STATIC_REQUIRE(pattern_of<"/a/{}">.error == pattern_error::bad_name);
    STATIC_REQUIRE(pattern_of<"/{a}/{a}">.error == pattern_error::duplicate_name);
    STATIC_REQUIRE(pattern_of<"/{a}{b}">.error == pattern_error::adjacent_params);
    STATIC_REQUIRE(same_shape(pattern_of<"/u/{a:int}">, pattern_of<"/u/{b:int}">));
    STATIC_REQUIRE(!same_shape(pattern_of<"/u/{a:int}">, pattern_of<"/u/{a}">));
    std::string_view values[2];
    CHECK(match_pattern(p, "/users/12/posts/hi", values));
    CHECK(values[0] == "12");
    CHECK(values[1] == "hi");
    CHECK_FALSE(match_pattern(p, "/users/12/posts/hi/", values));
}

struct xorshift {
    std::uint64_t state;
    std::size_t below(std::size_t n) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return static_cast<std::size_t>(state % n);
    }
};

TEST_CASE("routing: the matcher agrees with the backtracking reference",
          "[routing][route_pattern]") {
    using namespace aster::detail;
    xorshift rng{0x2545f4914f6cdd1dULL};
    const char* const convertors[] = {"", ":str", ":int", ":float", ":uuid", ":path"};
    const char* const literals[] = {"/", "-", ".", "/x", "a", "1", "-/", ".-", "..", "x.", "/1"};
    const std::string_view alphabet = "/-.a1x09.-/";
    const std::string_view uuid = "123e4567-e89b-12d3-a456-426614174000";
    // Text that a parameter of each convertor may or may not take, to make near misses.
    auto value = [&](std::size_t conv) {
        std::string v;
        if (conv == 4 && rng.below(3) > 0) return std::string(uuid.substr(0, 36 - rng.below(2)));
        std::size_t len = rng.below(5);
        for (std::size_t i = 0; i < len; ++i) v += alphabet[rng.below(alphabet.size())];
        if (conv == 2 || conv == 3) v = std::to_string(rng.below(300)) + v.substr(0, rng.below(3));
        return v;
    };
    std::size_t compared = 0, matched = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string pattern = "/";
        std::vector<std::size_t> convs;
        std::vector<std::string> seps;
        if (rng.below(3) == 0) pattern += literals[rng.below(std::size(literals))];
        const std::size_t params = 1 + rng.below(4);
        for (std::size_t p = 0; p < params; ++p) {
            convs.push_back(rng.below(std::size(convertors)));
            pattern += "{p" + std::to_string(p) + convertors[convs.back()] + "}";
            const bool literal = p + 1 < params || rng.below(2);
            seps.emplace_back(literal ? literals[rng.below(std::size(literals))] : "");
            pattern += seps.back();
        }
        const auto pp = parse_pattern<9>(pattern);
        REQUIRE(pp.error == pattern_error::none);
        for (int attempt = 0; attempt < 30; ++attempt) {
            std::string path;
            if (attempt % 2 == 0) {
                // The pattern filled in, then perhaps one byte changed.
                path = std::string(pp.tokens[0].text);
                for (std::size_t p = 0; p < params; ++p) path += value(convs[p]) + seps[p];
                if (rng.below(2) && !path.empty())
                    path[rng.below(path.size())] = alphabet[rng.below(alphabet.size())];
            } else {
                path = "/";
                for (std::size_t i = 0, len = rng.below(20); i < len; ++i)
                    path += rng.below(25) == 0 ? uuid
                                               : alphabet.substr(rng.below(alphabet.size()), 1);
            }
            std::string_view want[4], got[4];
            const bool expected = aster_reference::match(pp, path, want);
            const bool actual = match_pattern(pp, path, got);
            INFO(pattern << " against " << path);
            REQUIRE(actual == expected);
            ++compared;
            if (!expected) continue;
            ++matched;
            for (std::size_t p = 0; p < params; ++p) {
                REQUIRE(got[p] == want[p]);
                REQUIRE(got[p].data() == want[p].data());
            }
        }
    }
    CHECK(compared == 90000);
    // Both outcomes are common, so the comparison means something.
    CHECK(matched > compared / 10);
    CHECK(matched < compared * 9 / 10);
}

struct hostile_match {
    std::size_t steps = 0;
    std::vector<std::string> values; // copies: the paths below are temporaries
};

template <std::size_t N>
hostile_match steps_for(const aster::detail::parsed_pattern<N>& pp, const std::string& path,
                        bool expected) {
    std::string_view values[16];
    hostile_match out;
    CHECK(aster::detail::match_pattern(pp, path, values, &out.steps) == expected);
    // Linear in the path: a few steps per byte and token (measured: under one).
    CHECK(out.steps <= 3 * (path.size() + 64) * pp.token_count);
    if (expected) out.values.assign(values, values + pp.param_count);
    return out;
}

TEST_CASE("routing: hostile paths take steps linear in their length", "[routing][route_pattern]") {
    using aster::detail::pattern_of;
    using strings = std::vector<std::string>;
    const std::string dashes(8000, '-');
    // The old matcher tried every split of 8,000 dashes in three: about 10^11 attempts.
    constexpr auto& four = pattern_of<"/{a}-{b}-{c}-{d}/x">;
    CHECK(steps_for(four, "/" + dashes + "/y", false).steps < 10); // the suffix fails first
    CHECK(steps_for(four, "/" + dashes + "/x", true).values ==
          strings{dashes.substr(0, 7994), "-", "-", "-"});
    steps_for(four, "/" + dashes + "/" + dashes + "/x", false); // str does not span '/'
    auto ten = steps_for(pattern_of<"/{a}-{b}-{c}-{d}-{e}-{f}-{g}-{h}-{i}-{j}">, "/" + dashes,
                         true);
    CHECK(ten.values.at(0).size() == 7982);
    CHECK(ten.values.at(9) == "-");
    steps_for(pattern_of<"/{a:path}-{b:path}-{c:path}-{d:path}/x">, "/" + dashes + "/x", true);
    steps_for(pattern_of<"/{a:path}-{b:path}-{c:path}-{d}">, "/" + dashes + "/x", false);
    std::string numbers;
    for (int i = 0; i < 4000; ++i) numbers += "1.";
    steps_for(pattern_of<"/{a:float}.{b:float}.{c:float}.{d:float}/x">, "/" + numbers + "/x",
              false);
    auto mixed = steps_for(pattern_of<"/{a:int}.{b:float}.{c:int}.{d}">, "/" + numbers + "1", true);
    CHECK(mixed.values == strings{"1", "1.1", "1", numbers.substr(0, 7992) + "1"});
    std::string uuids;
    for (int i = 0; i < 200; ++i) uuids += "123e4567-e89b-12d3-a456-426614174000-";
    auto ids = steps_for(pattern_of<"/{a:path}-{b:uuid}-{c:uuid}-{d:path}">, "/" + uuids + "x",
                         true);
    CHECK(ids.values.at(3) == "x");
    // Longer than the stack bitsets hold (16 KiB, seven parameters): the heap takes over.
    const std::string slashes(20000, '/');
    constexpr auto& seven =
        pattern_of<"/{a:path}/{b:path}/{c:path}/{d:path}/{e:path}/{f:path}/{g:path}">;
    auto deep = steps_for(seven, slashes, true);
    CHECK(deep.values.at(0).size() == 20000 - 12);
    // A path parameter at the end may be empty.
    CHECK((deep.values.at(5) == "/" && deep.values.at(6).empty()));
}

TEST_CASE("routing: matching works in constant evaluation", "[routing][route_pattern]") {
    using aster::detail::pattern_of;
    STATIC_REQUIRE([] {
        std::string_view v[2];
        constexpr auto& docs = pattern_of<"/docs/{name}.{ext}">;
        return aster::detail::match_pattern(docs, "/docs/a.v2.pdf", v) && v[0].size() == 4 &&
               v[1].size() == 3;
    }());
    STATIC_REQUIRE(![] {
        std::string_view v[2];
        return aster::detail::match_pattern(pattern_of<"/p/{x:float}/{n:int}">, "/p/3./4", v);
    }());
}

} // namespace routing_test
