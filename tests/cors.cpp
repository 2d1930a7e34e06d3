// aster::cors, against Starlette's CORSMiddleware behaviour, through test_client.
#include <aster/aster.hpp>
#include <aster/middleware/cors.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace cors_test {

int calls = 0;

aster::task<aster::response> hello(aster::request&) {
    ++calls;
    co_return aster::plain_text("hello").header("Vary", "Accept-Language");
}

constexpr auto table = aster::routes(
    aster::route<"/hello", aster::method::get | aster::method::post>(hello));

using headers = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("cors: preflight for an allowed origin, method and headers", "[cors]") {
    const aster::application app{table, aster::middleware(
                                            aster::cors{{.allow_origins = {"https://example.org"},
                                                         .allow_methods = {"GET", "POST"},
                                                         .allow_headers = {"X-Token"},
                                                         .allow_credentials = true,
                                                         .max_age = 120}})};
    aster::test_client client{app};
    calls = 0;
    auto r = client.options(
        "/hello", {.headers = {{"Origin", "https://example.org"},
                               {"Access-Control-Request-Method", "POST"},
                               {"Access-Control-Request-Headers", "x-token, Content-Type"}}});
    CHECK(r.status_code == 200);
    CHECK(r.text() == "OK");
    CHECK(r.header("access-control-allow-origin") == "https://example.org");
    CHECK(r.header("access-control-allow-methods") == "GET, POST");
    CHECK(r.header("access-control-allow-headers") ==
          "Accept, Accept-Language, Content-Language, Content-Type, X-Token");
    CHECK(r.header("access-control-max-age") == "120");
    CHECK(r.header("access-control-allow-credentials") == "true");
    CHECK(r.header("vary") == "Origin");
    CHECK(calls == 0); // answered by the middleware, not the route
}

TEST_CASE("cors: preflight refusals name what failed", "[cors]") {
    const aster::application app{table, aster::middleware(
                                            aster::cors{{.allow_origins = {"https://example.org"},
                                                         .allow_headers = {"X-Token"}}})};
    aster::test_client client{app};
    auto bad_origin = client.options("/hello",
                                     {.headers = {{"Origin", "https://evil.com"},
                                                  {"Access-Control-Request-Method", "GET"}}});
    CHECK(bad_origin.status_code == 400);
    CHECK(bad_origin.text() == "Disallowed CORS origin");
    CHECK_FALSE(bad_origin.header("access-control-allow-origin"));

    auto bad_method = client.options("/hello",
                                     {.headers = {{"Origin", "https://example.org"},
                                                  {"Access-Control-Request-Method", "DELETE"}}});
    CHECK(bad_method.status_code == 400);
    CHECK(bad_method.text() == "Disallowed CORS method");
    CHECK(bad_method.header("access-control-allow-methods") == "GET");
    CHECK(bad_method.header("access-control-max-age") == "600");

    auto all_bad = client.options(
        "/hello", {.headers = {{"Origin", "https://evil.com"},
                               {"Access-Control-Request-Method", "PUT"},
                               {"Access-Control-Request-Headers", "X-Token, X-Other"}}});
    CHECK(all_bad.status_code == 400);
    CHECK(all_bad.text() == "Disallowed CORS origin, method, headers");
}

TEST_CASE("cors: wildcards allow any origin, method and header", "[cors]") {
    const aster::application app{table, aster::middleware(aster::cors{{.allow_origins = {"*"},
                                                                       .allow_methods = {"*"},
                                                                       .allow_headers = {"*"}}})};
    aster::test_client client{app};
    auto r = client.options(
        "/hello", {.headers = {{"Origin", "https://anywhere.net"},
                               {"Access-Control-Request-Method", "PATCH"},
                               {"Access-Control-Request-Headers", "X-Whatever, X-More"}}});
    CHECK(r.status_code == 200);
    CHECK(r.header("access-control-allow-origin") == "*");
    CHECK_FALSE(r.header("vary"));
    CHECK(r.header("access-control-allow-methods") ==
          "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
    CHECK(r.header("access-control-allow-headers") == "X-Whatever, X-More");

    auto simple = client.get("/hello", {.headers = {{"Origin", "https://anywhere.net"}}});
    CHECK(simple.text() == "hello");
    CHECK(simple.header("access-control-allow-origin") == "*");
    CHECK(simple.header("vary") == "Accept-Language");

    // A request with cookies must get the origin itself, never "*".
    auto with_cookie = client.get("/hello", {.headers = {{"Origin", "https://anywhere.net"}},
                                             .cookies = {{"session", "1"}}});
    CHECK(with_cookie.header("access-control-allow-origin") == "https://anywhere.net");
    CHECK(with_cookie.header("vary") == "Accept-Language, Origin");
}

TEST_CASE("cors: simple requests echo an allowed origin and expose headers", "[cors]") {
    const aster::application app{table, aster::middleware(aster::cors{
                                            {.allow_origins = {"https://example.org"},
                                             .expose_headers = {"X-Total", "X-Page"}}})};
    aster::test_client client{app};
    calls = 0;
    auto r = client.post("/hello", {.headers = {{"Origin", "https://example.org"}}});
    CHECK(r.text() == "hello");
    CHECK(calls == 1);
    CHECK(r.header("access-control-allow-origin") == "https://example.org");
    CHECK(r.header_values("vary") == std::vector<std::string>{"Accept-Language, Origin"});
    CHECK(r.header("access-control-expose-headers") == "X-Total, X-Page");
    CHECK_FALSE(r.header("access-control-allow-credentials"));

    // An origin that is not allowed still gets its answer, but no permission for the browser.
    auto other = client.get("/hello", {.headers = {{"Origin", "https://evil.com"}}});
    CHECK(other.text() == "hello");
    CHECK_FALSE(other.header("access-control-allow-origin"));

    // OPTIONS without Access-Control-Request-Method is not a preflight: it goes to routing (405).
    auto not_preflight = client.options("/hello", {.headers = {{"Origin", "https://example.org"}}});
    CHECK(not_preflight.status_code == 405);
    CHECK(not_preflight.header("access-control-allow-origin") == "https://example.org");
}

TEST_CASE("cors: with credentials and any origin, the origin itself is sent", "[cors]") {
    const aster::application app{table, aster::middleware(aster::cors{
                                            {.allow_origins = {"*"}, .allow_credentials = true}})};
    aster::test_client client{app};
    auto r = client.get("/hello", {.headers = {{"Origin", "https://a.example"}}});
    CHECK(r.header("access-control-allow-origin") == "https://a.example");
    CHECK(r.header("access-control-allow-credentials") == "true");
    CHECK(r.header("vary") == "Accept-Language, Origin");
    auto pre = client.options("/hello", {.headers = {{"Origin", "https://a.example"},
                                                     {"Access-Control-Request-Method", "GET"}}});
    CHECK(pre.status_code == 200);
    CHECK(pre.header("access-control-allow-origin") == "https://a.example");
    CHECK(pre.header("vary") == "Origin");
}

TEST_CASE("cors: requests without Origin are untouched", "[cors]") {
    const aster::application app{table, aster::middleware(aster::cors{
                                            {.allow_origins = {"*"}, .expose_headers = {"X-A"}}})};
    aster::test_client client{app};
    auto r = client.get("/hello");
    CHECK(r.text() == "hello");
    for (const auto& [name, value] : r.headers)
        CHECK_FALSE(aster::iequals(name.substr(0, 7), "access-"));
    auto opt = client.options("/hello", {.headers = {{"Access-Control-Request-Method", "GET"}}});
    CHECK(opt.status_code == 405);
}

TEST_CASE("cors: odd Access-Control-Request-Headers lists", "[cors]") {
    const aster::application app{table, aster::middleware(
                                            aster::cors{{.allow_origins = {"https://example.org"},
                                                         .allow_headers = {"X-Token"}}})};
    aster::test_client client{app};
    auto ask = [&](std::string list) {
        return client.options("/hello", {.headers = {{"Origin", "https://example.org"},
                                                     {"Access-Control-Request-Method", "GET"},
                                                     {"Access-Control-Request-Headers", list}}});
    };
    // Empty entries name nothing (Starlette would refuse them; browsers never send them).
    CHECK(ask("").status_code == 200);
    CHECK(ask(" x-TOKEN ,,\taccept, ").status_code == 200);
    std::string many;
    for (int i = 0; i < 400; ++i) many += "x-token, "; // within the header size limit
    CHECK(ask(many).status_code == 200);
    auto refused = ask(many + "x-evil");
    CHECK(refused.status_code == 400);
    CHECK(refused.text() == "Disallowed CORS headers");
}

// Starlette's test_cors_allow_origin_regex, in aster's spelling.
const aster::application regex_app{table, aster::middleware(aster::cors{
                                              {.allow_origins = {"https://example.org"},
                                               .allow_origin_regex = R"(https://.*\.example\.org)",
                                               .allow_methods = {"GET", "POST"},
                                               .allow_headers = {"X-Example", "Content-Type"},
                                               .allow_credentials = true}})};

TEST_CASE("cors: allow_origin_regex allows matching origins on simple requests", "[cors][regex]") {
    aster::test_client client{regex_app};
    auto listed = client.get("/hello", {.headers = {{"Origin", "https://example.org"}}});
    CHECK(listed.header("access-control-allow-origin") == "https://example.org");
    auto matched = client.get("/hello", {.headers = {{"Origin", "https://another.example.org"}}});
    CHECK(matched.status_code == 200);
    CHECK(matched.text() == "hello");
    CHECK(matched.header("access-control-allow-origin") == "https://another.example.org");
    CHECK(matched.header("access-control-allow-credentials") == "true");
    CHECK(matched.header("vary") == "Accept-Language, Origin");
    // The request is still served when the origin does not match; it only gets no allow-origin.
    for (const char* origin :
         {"https://another.com", "http://a.example.org", "https://a.example.org.evil.com",
          "xhttps://a.example.org", "https://example.org.x"}) {
        auto r = client.get("/hello", {.headers = {{"Origin", origin}}});
        CHECK(r.status_code == 200);
        CHECK_FALSE(r.header("access-control-allow-origin"));
        CHECK(r.header("access-control-allow-credentials") == "true");
    }
    // With credentials Starlette sends these even to refused origins; so does aster.
    auto with_cookie = client.get("/hello", {.headers = {{"Origin", "https://x.example.org"}},
                                             .cookies = {{"session", "1"}}});
    CHECK(with_cookie.header("access-control-allow-origin") == "https://x.example.org");
}

TEST_CASE("cors: allow_origin_regex on preflights, with credentials", "[cors][regex]") {
    aster::test_client client{regex_app};
    calls = 0;
    auto ok = client.options("/hello",
                             {.headers = {{"Origin", "https://another.example.org"},
                                          {"Access-Control-Request-Method", "POST"},
                                          {"Access-Control-Request-Headers", "X-Example"}}});
    CHECK(ok.status_code == 200);
    CHECK(ok.text() == "OK");
    CHECK(ok.header("access-control-allow-origin") == "https://another.example.org");
    CHECK(ok.header("access-control-allow-credentials") == "true");
    CHECK(ok.header("access-control-allow-headers") ==
          "Accept, Accept-Language, Content-Language, Content-Type, X-Example");
    CHECK(ok.header("vary") == "Origin");
    auto bad = client.options("/hello", {.headers = {{"Origin", "https://another.com"},
                                                     {"Access-Control-Request-Method", "POST"}}});
    CHECK(bad.status_code == 400);
    CHECK(bad.text() == "Disallowed CORS origin");
    CHECK_FALSE(bad.header("access-control-allow-origin"));
    auto worse = client.options("/hello",
                                {.headers = {{"Origin", "https://another.com"},
                                             {"Access-Control-Request-Method", "PUT"},
                                             {"Access-Control-Request-Headers", "X-Other"}}});
    CHECK(worse.text() == "Disallowed CORS origin, method, headers");
    CHECK(calls == 0); // preflights never reach the route
}

TEST_CASE("cors: allow_origin_regex alone, without listed origins", "[cors][regex]") {
    const aster::application app{table,
                                 aster::middleware(aster::cors{
                                     {.allow_origin_regex = "https?://localhost(:[0-9]+)?"}})};
    aster::test_client client{app};
    CHECK(client.get("/hello", {.headers = {{"Origin", "http://localhost:3000"}}})
              .header("access-control-allow-origin") == "http://localhost:3000");
    CHECK(client.get("/hello", {.headers = {{"Origin", "https://localhost"}}})
              .header("access-control-allow-origin") == "https://localhost");
    CHECK_FALSE(client.get("/hello", {.headers = {{"Origin", "http://localhost:3000/x"}}})
                    .header("access-control-allow-origin"));
    // A hostile, huge Origin (which the regex would match) is refused without running the
    // regex over it.
    auto huge = client.get("/hello",
                           {.headers = {{"Origin", "http://localhost:" + std::string(8000, '0')}}});
    CHECK(huge.status_code == 200);
    CHECK_FALSE(huge.header("access-control-allow-origin"));
}

TEST_CASE("cors: an invalid allow_origin_regex throws naming it", "[cors][regex]") {
    try {
        aster::cors bad{{.allow_origin_regex = "https://(unclosed"}};
        FAIL("no exception");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).find("allow_origin_regex \"https://(unclosed\"") !=
              std::string::npos);
    }
}

} // namespace cors_test
