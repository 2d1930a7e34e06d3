// SPDX-License-Identifier: MIT
// Conditional requests (RFC 9110 §13): entity-tag lists, HTTP dates, and the 304 decision.
#ifndef ASTER_DETAIL_CONDITIONAL_HPP
#define ASTER_DETAIL_CONDITIONAL_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/http_grammar.hpp>
#include <aster/method.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace aster::detail {

/// IMF-fixdate (RFC 9110 §5.6.7) of `t`.
inline std::string http_date_of(std::time_t t) {
    std::tm parts{};
    gmtime_r(&t, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    return text;
}

/// IMF-fixdate only, which is what clients echo back.
inline std::optional<std::time_t> parse_http_date(std::string_view s) {
    if (s.size() != 29) return std::nullopt;
    std::tm parts{};
    char copy[30];
    s.copy(copy, s.size());
    copy[29] = '\0';
    const char* end = strptime(copy, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    if (!end || *end != '\0') return std::nullopt;
    return timegm(&parts);
}

/// RFC 9110 §8.8.3.2 weak comparison of `etag` against a list of entity tags, or `*`.
inline bool etag_matches(std::string_view list, std::string_view etag) noexcept {
    auto strip = [](std::string_view t) { return t.starts_with("W/") ? t.substr(2) : t; };
    return for_each_list_item(list, [&](std::string_view item) {
        return item == "*" || (!etag.empty() && strip(item) == strip(etag));
    });
}

/// RFC 9110 §13.2.2 for a response that is_conditional(): a GET or HEAD whose If-None-Match
/// matches its ETag, or that has no If-None-Match and an If-Modified-Since no older than its
/// Last-Modified, becomes 304 with no body. Run on the final response, after every
/// middleware, so the tags compared are those of the representation that would be sent.
inline void apply_preconditions(const request& req, response& res) {
    if (!res.is_conditional()) return;
    if (req.method_id() != method::get && req.method_id() != method::head) return;
    if (res.status() != status::ok && res.status() != status::partial_content) return;
    bool unchanged = false;
    if (auto inm = req.header("if-none-match")) {
        unchanged = etag_matches(*inm, res.header_value("etag"));
    } else if (auto ims = req.header("if-modified-since")) {
        auto since = parse_http_date(*ims);
        auto modified = parse_http_date(res.header_value("last-modified"));
        unchanged = since && modified && *modified <= *since;
    }
    if (!unchanged) return;
    res.set_status(status::not_modified);
    res.set_producer({});
    res.set_body({});
    res.remove_header("content-range");
}

} // namespace aster::detail

#endif // ASTER_DETAIL_CONDITIONAL_HPP
