// SPDX-License-Identifier: MIT
// Tests for aster/url.hpp: percent-decoding and -encoding, query_params, encode_query.
#include <aster/url.hpp>

#include <catch2/catch.hpp>

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace url_test {

std::vector<std::pair<std::string, std::string>> items(const aster::query_params& q) {
    return {q.begin(), q.end()};
}

} // namespace url_test

TEST_CASE("url: percent_decode decodes escapes in either case", "[url]") {
    CHECK(aster::percent_decode("a%20b") == "a b");
    CHECK(aster::percent_decode("%2f%2F") == "//");
    CHECK(aster::percent_decode("%41%42c") == "ABc");
    CHECK(aster::percent_decode("") == "");
    CHECK(aster::percent_decode("plain/path") == "plain/path");
}

TEST_CASE("url: percent_decode yields UTF-8 bytes unchanged", "[url]") {
    CHECK(aster::percent_decode("caf%C3%A9") == "caf\xC3\xA9");
    CHECK(aster::percent_decode("%E2%82%AC") == "\xE2\x82\xAC");
    // Invalid UTF-8 is passed through as bytes rather than replaced.
    CHECK(aster::percent_decode("%FF%00x") == std::string("\xFF\0x", 3));
}

TEST_CASE("url: malformed escapes are kept literally", "[url]") {
    CHECK(aster::percent_decode("%") == "%");
    CHECK(aster::percent_decode("%2") == "%2");
    CHECK(aster::percent_decode("a%") == "a%");
    CHECK(aster::percent_decode("%zz") == "%zz");
    CHECK(aster::percent_decode("%2g%41") == "%2gA");
    CHECK(aster::percent_decode("%%41") == "%A");
    CHECK(aster::percent_decode("100%") == "100%");
}

TEST_CASE("url: plus is a space only when asked", "[url]") {
    CHECK(aster::percent_decode("a+b") == "a+b");
    CHECK(aster::percent_decode("a+b", true) == "a b");
    CHECK(aster::percent_decode("%2B+", true) == "+ ");
}

TEST_CASE("url: percent_decode_into appends and reports a change", "[url]") {
    std::string out = "x=";
    CHECK(aster::percent_decode_into("a%20b", out));
    CHECK(out == "x=a b");

    std::string same;
    CHECK_FALSE(aster::percent_decode_into("abc%zz", same));
    CHECK(same == "abc%zz");

    std::string plus;
    CHECK_FALSE(aster::percent_decode_into("a+b", plus));
    CHECK(aster::percent_decode_into("a+b", plus, true));
    CHECK(plus == "a+ba b");
}

TEST_CASE("url: percent_encode keeps unreserved and safe bytes", "[url]") {
    CHECK(aster::percent_encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(aster::percent_encode("/a b/") == "/a%20b/");
    CHECK(aster::percent_encode("/a b/", "") == "%2Fa%20b%2F");
    CHECK(aster::percent_encode("a&b=c?", "&=") == "a&b=c%3F");
    CHECK(aster::percent_encode("caf\xC3\xA9") == "caf%C3%A9");
    CHECK(aster::percent_encode(std::string_view("\0\x7F", 2)) == "%00%7F");
    CHECK(aster::percent_encode("100%+") == "100%25%2B");
}

TEST_CASE("url: percent_encode and percent_decode round-trip every byte", "[url]") {
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    auto encoded = aster::percent_encode(all, "");
    CHECK(encoded.size() == 66 + 190 * 3);
    CHECK(aster::percent_decode(encoded) == all);
}

TEST_CASE("url: query_params keeps repeated keys in order", "[url]") {
    aster::query_params q("a=1&a=2&b=x&flag&c=%20+");
    using item = std::pair<std::string, std::string>;
    CHECK(url_test::items(q) ==
          std::vector<item>{{"a", "1"}, {"a", "2"}, {"b", "x"}, {"flag", ""}, {"c", "  "}});
    CHECK(q.size() == 5);
    CHECK_FALSE(q.empty());
}

TEST_CASE("url: query_params get returns the last value", "[url]") {
    aster::query_params q("a=1&b=x&a=2");
    REQUIRE(q.get("a"));
    CHECK(*q.get("a") == "2");
    CHECK(q.get("b") == std::optional<std::string_view>("x"));
    CHECK_FALSE(q.get("z"));
    CHECK(q.get("z", "dflt") == "dflt");
    CHECK(q.get("a", "dflt") == "2");
}

TEST_CASE("url: query_params get_all and contains", "[url]") {
    aster::query_params q("tag=red&x=1&tag=blue&tag=");
    CHECK(q.get_all("tag") == std::vector<std::string_view>{"red", "blue", ""});
    CHECK(q.get_all("none").empty());
    CHECK(q.contains("x"));
    CHECK(q.contains("tag"));
    CHECK_FALSE(q.contains("X"));
}

TEST_CASE("url: query_params decodes keys and values", "[url]") {
    aster::query_params q("na%6De=caf%C3%A9&sp+ace=a+b%2Bc&eq=a=b");
    CHECK(q.get("name", "") == "caf\xC3\xA9");
    CHECK(q.get("sp ace", "") == "a b+c");
    CHECK(q.get("eq", "") == "a=b"); // only the first '=' separates
}

TEST_CASE("url: query_params skips empty pieces and keeps blank values", "[url]") {
    aster::query_params q("&&a=&&=v&flag&");
    using item = std::pair<std::string, std::string>;
    CHECK(url_test::items(q) == std::vector<item>{{"a", ""}, {"", "v"}, {"flag", ""}});
    REQUIRE(q.get("flag"));
    CHECK(q.get("flag")->empty());
}

TEST_CASE("url: empty query_params", "[url]") {
    aster::query_params none;
    aster::query_params blank("");
    aster::query_params amps("&&&");
    CHECK(none.empty());
    CHECK(blank.size() == 0);
    CHECK(amps.empty());
    CHECK(none == blank);
    CHECK(none.begin() == none.end());
    CHECK_FALSE(none.get("a"));
}

TEST_CASE("url: query_params compare by content and order", "[url]") {
    CHECK(aster::query_params("a=1&b=2") == aster::query_params("a=%31&b=2"));
    CHECK(aster::query_params("a=1&b=2") != aster::query_params("b=2&a=1"));
}

TEST_CASE("url: encode_query uses form encoding", "[url]") {
    CHECK(aster::encode_query({{"a", "1"}, {"b", "x y"}}) == "a=1&b=x+y");
    CHECK(aster::encode_query({{"q", "a&b=c/d?"}}) == "q=a%26b%3Dc%2Fd%3F");
    CHECK(aster::encode_query({{"k", "caf\xC3\xA9+"}}) == "k=caf%C3%A9%2B");
    CHECK(aster::encode_query({{"flag", ""}, {"", "v"}}) == "flag=&=v");
    using list = std::initializer_list<std::pair<std::string_view, std::string_view>>;
    CHECK(aster::encode_query(list{}).empty());
}

TEST_CASE("url: encode_query accepts vectors, spans and query_params", "[url]") {
    std::vector<std::pair<std::string, std::string>> owned{{"a", "1"}, {"a", "2 3"}};
    CHECK(aster::encode_query(owned) == "a=1&a=2+3");

    std::pair<std::string_view, std::string_view> raw[] = {{"x", "~"}, {"y", "%"}};
    using view = std::span<const std::pair<std::string_view, std::string_view>>;
    CHECK(aster::encode_query(view(raw)) == "x=~&y=%25");

    aster::query_params q("a=1&a=2&b=x&flag&c=%20+");
    CHECK(aster::encode_query(q) == "a=1&a=2&b=x&flag=&c=++");
    CHECK(aster::query_params(aster::encode_query(q)) == q);
}
