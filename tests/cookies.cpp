// SPDX-License-Identifier: MIT
// Tests for aster/cookies.hpp: Cookie parsing, Set-Cookie formatting and Set-Cookie parsing.
#include <aster/cookies.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cookies_test {

using pair = std::pair<std::string_view, std::string_view>;

// A fixed clock reading, so expiry checks do not depend on when the tests run.
inline std::chrono::system_clock::time_point june_2024() {
    using namespace std::chrono;
    return sys_days(year(2024) / June / 1) + hours(12);
}

inline bool expired_at(std::string_view header, std::chrono::system_clock::time_point now) {
    auto c = aster::parse_set_cookie(header, now);
    REQUIRE(c);
    return c->expired;
}

} // namespace cookies_test

TEST_CASE("cookies: parse_cookie_header splits name=value pairs", "[cookies]") {
    using cookies_test::pair;
    CHECK(aster::parse_cookie_header("a=1; b=2") == std::vector<pair>{{"a", "1"}, {"b", "2"}});
    CHECK(aster::parse_cookie_header("a=1;b=2") == std::vector<pair>{{"a", "1"}, {"b", "2"}});
    CHECK(aster::parse_cookie_header("a=b=c") == std::vector<pair>{{"a", "b=c"}});
    CHECK(aster::parse_cookie_header("a=") == std::vector<pair>{{"a", ""}});
    CHECK(aster::parse_cookie_header("").empty());
}

TEST_CASE("cookies: parse_cookie_header is lenient like cookie_parser", "[cookies]") {
    using cookies_test::pair;
    CHECK(aster::parse_cookie_header("  a = 1 ;; ;\tb=2 ;") ==
          std::vector<pair>{{"a", "1"}, {"b", "2"}});
    // A piece without '=' is a value with an empty name (Mozilla bug 169091).
    CHECK(aster::parse_cookie_header("bare; a=1") == std::vector<pair>{{"", "bare"}, {"a", "1"}});
    CHECK(aster::parse_cookie_header("=v") == std::vector<pair>{{"", "v"}});
    // Repeated names are all kept, in order.
    CHECK(aster::parse_cookie_header("a=1; a=2") == std::vector<pair>{{"a", "1"}, {"a", "2"}});
}

TEST_CASE("cookies: parse_cookie_header strips one pair of quotes", "[cookies]") {
    using cookies_test::pair;
    CHECK(aster::parse_cookie_header("a=\"x y\"") == std::vector<pair>{{"a", "x y"}});
    CHECK(aster::parse_cookie_header("a=\"\"") == std::vector<pair>{{"a", ""}});
    CHECK(aster::parse_cookie_header("a=\"") == std::vector<pair>{{"a", "\""}});
    CHECK(aster::parse_cookie_header("a=\"x") == std::vector<pair>{{"a", "\"x"}});
}

TEST_CASE("cookies: parse_cookie_header returns views into the header", "[cookies]") {
    std::string header = "session=abc123; theme=dark";
    auto cookies = aster::parse_cookie_header(header);
    REQUIRE(cookies.size() == 2);
    CHECK(cookies[1].second == "dark");
    CHECK(cookies[1].second.data() == header.data() + header.find("dark"));
}

TEST_CASE("cookies: find_cookie returns the first match", "[cookies]") {
    std::string_view header = "a=1; b=\"two\"; a=3; empty=";
    CHECK(aster::find_cookie(header, "a") == std::optional<std::string_view>("1"));
    CHECK(aster::find_cookie(header, "b") == std::optional<std::string_view>("two"));
    REQUIRE(aster::find_cookie(header, "empty"));
    CHECK(aster::find_cookie(header, "empty")->empty());
    CHECK_FALSE(aster::find_cookie(header, "A"));
    CHECK_FALSE(aster::find_cookie(header, "missing"));
    CHECK_FALSE(aster::find_cookie("", "a"));
    CHECK_FALSE(aster::find_cookie("a=1;;", ""));
    CHECK(aster::find_cookie("a=1; bare", "") == std::optional<std::string_view>("bare"));
}

TEST_CASE("cookies: format_set_cookie with defaults", "[cookies]") {
    CHECK(aster::format_set_cookie("sid", "abc") == "sid=abc; Path=/; SameSite=lax");
    CHECK(aster::format_set_cookie("sid", "") == "sid=; Path=/; SameSite=lax");
    CHECK(aster::format_set_cookie("sid", "\"quoted\"") == "sid=\"quoted\"; Path=/; SameSite=lax");
}

TEST_CASE("cookies: format_set_cookie writes attributes in Starlette's order", "[cookies]") {
    aster::cookie_options all{.max_age = 60,
                              .expires = "Wed, 21 Oct 2015 07:28:00 GMT",
                              .path = "/app",
                              .domain = "example.com",
                              .secure = true,
                              .httponly = true,
                              .samesite = "strict",
                              .partitioned = true};
    CHECK(aster::format_set_cookie("id", "42", all) ==
          "id=42; Domain=example.com; expires=Wed, 21 Oct 2015 07:28:00 GMT; HttpOnly; "
          "Max-Age=60; Path=/app; SameSite=strict; Secure; Partitioned");
    CHECK(aster::format_set_cookie("id", "42", {.max_age = 60, .secure = true, .httponly = true}) ==
          "id=42; HttpOnly; Max-Age=60; Path=/; SameSite=lax; Secure");
}

TEST_CASE("cookies: format_set_cookie omits empty attributes", "[cookies]") {
    CHECK(aster::format_set_cookie("a", "b", {.path = "", .samesite = ""}) == "a=b");
    CHECK(aster::format_set_cookie("a", "b", {.max_age = 0}) ==
          "a=b; Max-Age=0; Path=/; SameSite=lax");
    CHECK(aster::format_set_cookie("a", "b", {.max_age = -1, .samesite = "None"}) ==
          "a=b; Max-Age=-1; Path=/; SameSite=None");
}

TEST_CASE("cookies: invalid cookie names throw", "[cookies]") {
    for (std::string_view bad : {"", "a b", "a;b", "a=b", "a,b", "(a)", "a\"", "a/b", "a\r\n",
                                 "a\tb", "caf\xC3\xA9", "a\x7F"}) {
        INFO("name: " << bad);
        CHECK_THROWS_AS(aster::format_set_cookie(bad, "v"), std::invalid_argument);
    }
    CHECK_THROWS_WITH(aster::format_set_cookie("a b", "v"), Catch::Contains("cookie name"));
    CHECK_NOTHROW(aster::format_set_cookie("__Host-sid_1.x!#$%&'*+^`|~", "v"));
}

TEST_CASE("cookies: invalid cookie values throw", "[cookies]") {
    for (std::string_view bad : {"a b", "a;b", "a,b", "a\"b", "a\\b", "\x01", "a\r\nX: y",
                                 "caf\xC3\xA9", "\"a b\"", "\"", "\"a\"b\""}) {
        INFO("value: " << bad);
        CHECK_THROWS_AS(aster::format_set_cookie("a", bad), std::invalid_argument);
    }
    CHECK_THROWS_WITH(aster::format_set_cookie("a", "x y"), Catch::Contains("percent-encode"));
    CHECK_NOTHROW(aster::format_set_cookie("a", "!#$%&'()*+-./0:<=>?@[]^_`{|}~"));
}

TEST_CASE("cookies: attributes cannot inject header text", "[cookies]") {
    CHECK_THROWS_AS(aster::format_set_cookie("a", "b", {.path = "/;Secure"}),
                    std::invalid_argument);
    CHECK_THROWS_AS(aster::format_set_cookie("a", "b", {.domain = "x\r\nSet-Cookie: y=z"}),
                    std::invalid_argument);
    CHECK_THROWS_AS(aster::format_set_cookie("a", "b", {.expires = "never;"}),
                    std::invalid_argument);
    CHECK_THROWS_AS(aster::format_set_cookie("a", "b", {.samesite = "sometimes"}),
                    std::invalid_argument);
}

TEST_CASE("cookies: format_delete_cookie expires the cookie now", "[cookies]") {
    CHECK(aster::format_delete_cookie("sid") ==
          "sid=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=lax");
    CHECK(aster::format_delete_cookie("sid", "/app", "example.com") ==
          "sid=\"\"; Domain=example.com; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; "
          "Path=/app; SameSite=lax");
    CHECK(aster::format_delete_cookie("__Secure-sid", {.max_age = 99, .secure = true}) ==
          "__Secure-sid=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; "
          "SameSite=lax; Secure");
    CHECK_THROWS_AS(aster::format_delete_cookie("bad name"), std::invalid_argument);
}

TEST_CASE("cookies: parse_set_cookie reads name, value and attributes", "[cookies]") {
    auto c = aster::parse_set_cookie(" sid = abc ; Max-Age=60; Path=/app; HttpOnly; Secure",
                                     cookies_test::june_2024());
    REQUIRE(c);
    CHECK(c->name == "sid");
    CHECK(c->value == "abc");
    CHECK(c->max_age == std::optional<std::int64_t>(60));
    CHECK(c->path == "/app");
    CHECK_FALSE(c->expired);

    auto bare = aster::parse_set_cookie("a=b", cookies_test::june_2024());
    REQUIRE(bare);
    CHECK_FALSE(bare->max_age);
    CHECK(bare->path.empty());
    CHECK_FALSE(bare->expired);
}

TEST_CASE("cookies: parse_set_cookie attribute names ignore case", "[cookies]") {
    auto c = aster::parse_set_cookie("a=b; MAX-AGE=5; pAtH=/x", cookies_test::june_2024());
    REQUIRE(c);
    CHECK(c->max_age == std::optional<std::int64_t>(5));
    CHECK(c->path == "/x");
    CHECK(cookies_test::expired_at("a=b; EXPIRES=Thu, 01 Jan 1970 00:00:00 GMT",
                                   cookies_test::june_2024()));
}

TEST_CASE("cookies: parse_set_cookie rejects a missing '=' or name", "[cookies]") {
    CHECK_FALSE(aster::parse_set_cookie("novalue"));
    CHECK_FALSE(aster::parse_set_cookie("=v; Path=/"));
    CHECK_FALSE(aster::parse_set_cookie(""));
    CHECK_FALSE(aster::parse_set_cookie("a; b=c"));
    auto empty = aster::parse_set_cookie("a=; Path=/");
    REQUIRE(empty);
    CHECK(empty->value.empty());
}

TEST_CASE("cookies: parse_set_cookie Max-Age", "[cookies]") {
    auto now = cookies_test::june_2024();
    CHECK(cookies_test::expired_at("a=b; Max-Age=0", now));
    CHECK(cookies_test::expired_at("a=b; Max-Age=-1", now));
    CHECK_FALSE(cookies_test::expired_at("a=b; Max-Age=1", now));
    // Malformed values are ignored, per RFC 6265 §5.2.2.
    for (std::string_view bad : {"a=b; Max-Age=abc", "a=b; Max-Age=+5", "a=b; Max-Age=",
                                 "a=b; Max-Age=1.5", "a=b; Max-Age=-", "a=b; Max-Age"}) {
        INFO(bad);
        auto c = aster::parse_set_cookie(bad, now);
        REQUIRE(c);
        CHECK_FALSE(c->max_age);
        CHECK_FALSE(c->expired);
    }
    auto huge = aster::parse_set_cookie("a=b; Max-Age=99999999999999999999999", now);
    REQUIRE(huge);
    CHECK(huge->max_age == std::numeric_limits<std::int64_t>::max());
    auto last = aster::parse_set_cookie("a=b; Max-Age=0; Max-Age=30", now);
    REQUIRE(last);
    CHECK(last->max_age == std::optional<std::int64_t>(30));
    CHECK_FALSE(last->expired);
}

TEST_CASE("cookies: parse_set_cookie Expires against the clock", "[cookies]") {
    auto now = cookies_test::june_2024();
    CHECK(cookies_test::expired_at("a=b; expires=Thu, 01 Jan 1970 00:00:00 GMT", now));
    CHECK(cookies_test::expired_at("a=b; expires=Sat, 01 Jun 2024 11:59:59 GMT", now));
    CHECK(cookies_test::expired_at("a=b; expires=Sat, 01 Jun 2024 12:00:00 GMT", now));
    CHECK_FALSE(cookies_test::expired_at("a=b; expires=Sat, 01 Jun 2024 12:00:01 GMT", now));
    CHECK_FALSE(cookies_test::expired_at("a=b; expires=Fri, 31 Dec 9999 23:59:59 GMT", now));
    // Other date shapes browsers accept: RFC 850 and asctime.
    CHECK(cookies_test::expired_at("a=b; expires=Thursday, 01-Jan-70 00:00:00 GMT", now));
    CHECK(cookies_test::expired_at("a=b; expires=Thu Jan  1 00:00:00 1970", now));
    CHECK_FALSE(cookies_test::expired_at("a=b; expires=Sun, 01-Jan-69 00:00:00 GMT", now));
    // Dates the algorithm rejects are ignored rather than treated as past.
    CHECK_FALSE(cookies_test::expired_at("a=b; expires=Thu, 31 Feb 2000 00:00:00 GMT", now));
    CHECK_FALSE(cookies_test::expired_at("a=b; expires=01 Jan 1970", now));
    CHECK_FALSE(cookies_test::expired_at("a=b; expires=Thu, 01 Jan 1970 24:00:00 GMT", now));
    CHECK_FALSE(cookies_test::expired_at("a=b; expires=Thu, 01 Jan 1600 00:00:00 GMT", now));
    CHECK_FALSE(cookies_test::expired_at("a=b; expires=yesterday", now));
}

// Found by tests/fuzz/cookies.cpp: a long digit run overflowed an int (undefined behaviour,
// reported by -fsanitize=undefined) while the date algorithm read it.
TEST_CASE("cookies: parse_set_cookie Expires with very long digit runs", "[cookies]") {
    auto now = cookies_test::june_2024();
    CHECK_FALSE(cookies_test::expired_at("a=b; expires=999999999999999999999 12:00:00 jan", now));
    CHECK(cookies_test::expired_at(
        "a=b; expires=Thu, 01 Jan 1970 00:00:00 GMT 99999999999999999999999", now));
    CHECK_FALSE(cookies_test::expired_at(
        "a=b; expires=Thu, 99999999999999999999 Jan 1970 00:00:00 GMT", now));
}

TEST_CASE("cookies: parse_set_cookie Max-Age wins over Expires", "[cookies]") {
    auto now = cookies_test::june_2024();
    CHECK_FALSE(
        cookies_test::expired_at("a=b; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=100", now));
    CHECK(cookies_test::expired_at("a=b; Max-Age=0; expires=Fri, 31 Dec 9999 23:59:59 GMT", now));
}

TEST_CASE("cookies: parse_set_cookie keeps only absolute paths", "[cookies]") {
    auto rel = aster::parse_set_cookie("a=b; Path=app");
    REQUIRE(rel);
    CHECK(rel->path.empty());
    auto empty = aster::parse_set_cookie("a=b; Path=");
    REQUIRE(empty);
    CHECK(empty->path.empty());
}

TEST_CASE("cookies: set, read back and delete round-trip", "[cookies]") {
    auto now = cookies_test::june_2024();
    auto header = aster::format_set_cookie("token", "x%20y", {.max_age = 3600, .httponly = true});
    auto jar = aster::parse_set_cookie(header, now);
    REQUIRE(jar);
    CHECK(jar->name == "token");
    CHECK(jar->value == "x%20y");
    CHECK(jar->max_age == std::optional<std::int64_t>(3600));
    CHECK(jar->path == "/");
    CHECK_FALSE(jar->expired);

    auto cookie_header = jar->name + "=" + jar->value + "; other=1";
    CHECK(aster::find_cookie(cookie_header, "token") == std::optional<std::string_view>("x%20y"));

    auto gone = aster::parse_set_cookie(aster::format_delete_cookie("token"), now);
    REQUIRE(gone);
    CHECK(gone->name == "token");
    CHECK(gone->value == "\"\"");
    CHECK(gone->max_age == std::optional<std::int64_t>(0));
    CHECK(gone->expired);
    // Even with the system clock (the default), a deletion is expired.
    CHECK(cookies_test::expired_at(aster::format_delete_cookie("token"),
                                   std::chrono::system_clock::now()));
}
