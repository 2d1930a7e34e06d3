// SPDX-License-Identifier: MIT
// cors: Cross-Origin Resource Sharing headers and preflight answers, as Starlette's CORSMiddleware.
#ifndef ASTER_MIDDLEWARE_CORS_HPP
#define ASTER_MIDDLEWARE_CORS_HPP

#include <aster/detail/config.hpp>
#include <aster/headers.hpp>
#include <aster/middleware.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aster {

namespace detail {
/// A compiled `allow_origin_regex`. std::regex costs every file that includes <regex> about a
/// second, so it stays behind this class: header-only builds include it from
/// middleware/impl/cors.ipp; ASTER_SEPARATE_COMPILATION builds compile it once in src.hpp.
class origin_regex {
public:
    /// Throws std::invalid_argument naming the pattern when it is not a valid ECMAScript regex.
    explicit origin_regex(const std::string& pattern);
    /// True when the whole of `origin` matches (Starlette's `fullmatch`).
    bool full_match(std::string_view origin) const;

private:
    std::shared_ptr<const void> regex_; // a std::regex
};
} // namespace detail

/// Settings of `cors`, with Starlette's defaults. "*" in `allow_origins`, `allow_methods` or
/// `allow_headers` allows every value.
struct cors_options {
    std::vector<std::string> allow_origins{};
    // Origins that match it as a whole are allowed too (ECMAScript syntax, as std::regex), e.g.
    // R"(https://.*\.example\.org)". Empty: none.
    std::string allow_origin_regex{};
    std::vector<std::string> allow_methods{"GET"};
    std::vector<std::string> allow_headers{};
    bool allow_credentials = false;
    std::vector<std::string> expose_headers{};
    std::uint32_t max_age = 600;
};

/// Requests without an Origin pass untouched. An origin is allowed when it is listed in
/// `allow_origins` or matches `allow_origin_regex` whole (an invalid regex throws
/// std::invalid_argument here; origins over 1024 bytes never match it). A preflight (OPTIONS with
/// Origin and Access-Control-Request-Method) is answered here, without calling the route: 200 "OK",
/// or 400 "Disallowed CORS origin, method, headers" (the failing parts). Other requests with an
/// Origin run normally and get Access-Control-Allow-Origin ("*", or the origin itself with `Vary:
/// Origin` when specific origins are listed, or credentials/cookies are involved),
/// Access-Control-Allow-Credentials and Access-Control-Expose-Headers. The CORS-safelisted
/// headers (Accept, Accept-Language, Content-Language, Content-Type) are always allowed.
/// WebSockets are not affected (browsers do not apply CORS to them), as in Starlette. Unlike
/// Starlette, empty entries in Access-Control-Request-Headers are ignored, not refused.
/// @code
/// aster::application app{routes, aster::middleware(aster::cors{{
///     .allow_origins = {"https://example.org"}, .allow_methods = {"GET", "POST"}}})};
/// @endcode
class cors {
public:
    explicit cors(cors_options o = {}) : opt_(std::move(o)) {
        auto has_star = [](const std::vector<std::string>& v) {
            return std::find(v.begin(), v.end(), "*") != v.end();
        };
        allow_all_origins_ = has_star(opt_.allow_origins);
        allow_all_headers_ = has_star(opt_.allow_headers);
        if (has_star(opt_.allow_methods))
            opt_.allow_methods = {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"};
        explicit_origin_ = !allow_all_origins_ || opt_.allow_credentials;
        if (!opt_.allow_origin_regex.empty())
            origin_regex_ = std::make_shared<detail::origin_regex>(opt_.allow_origin_regex);

        // Precomputed once: the per-request work is comparisons and a few header appends.
        std::vector<std::string> listed{"Accept", "Accept-Language", "Content-Language",
                                        "Content-Type"};
        for (const auto& h : opt_.allow_headers)
            if (std::find(listed.begin(), listed.end(), h) == listed.end()) listed.push_back(h);
        std::sort(listed.begin(), listed.end());
        if (!allow_all_headers_) allow_headers_text_ = join(listed);
        for (auto& h : listed) {
            for (auto& c : h) c = detail::ascii_lower(c);
            lower_headers_.push_back(std::move(h));
        }
        methods_text_ = join(opt_.allow_methods);
        expose_text_ = join(opt_.expose_headers);
    }

    task<response> operator()(request& req, call_next next) const {
        auto origin = req.header("origin");
        if (!origin) co_return co_await next(req);
        if (req.method() == "OPTIONS" && req.header("access-control-request-method"))
            co_return preflight(req, *origin);
        // Copied now: the request's views may not outlive the rest of the chain's changes.
        std::string from(*origin);
        bool has_cookie = req.header("cookie").has_value();
        auto res = co_await next(req);
        if (allow_all_origins_) {
            if (has_cookie || opt_.allow_credentials) allow_origin(res, from);
            else res.set_header("Access-Control-Allow-Origin", "*");
        } else if (is_allowed_origin(from)) {
            allow_origin(res, from);
        }
        if (opt_.allow_credentials) res.set_header("Access-Control-Allow-Credentials", "true");
        if (!expose_text_.empty()) res.set_header("Access-Control-Expose-Headers", expose_text_);
        co_return res;
    }

private:
    static std::string join(const std::vector<std::string>& v) {
        std::string out;
        for (const auto& s : v) out.append(out.empty() ? "" : ", ").append(s);
        return out;
    }
    // Adds "Origin" to Vary, keeping what the route already varies on.
    static void allow_origin(response& res, std::string origin) {
        res.set_header("Access-Control-Allow-Origin", std::move(origin));
        std::string_view vary = res.header_value("vary");
        if (vary.empty()) res.header("Vary", "Origin");
        else res.set_header("Vary", std::string(vary) + ", Origin");
    }

    bool is_allowed_origin(std::string_view origin) const {
        if (allow_all_origins_) return true;
        for (std::string_view o : opt_.allow_origins)
            if (o == origin) return true;
        // A real origin is a scheme, a host of at most 253 bytes and a port. The cap also keeps
        // libstdc++'s recursive matcher from deep recursion on a hostile 16 KiB header.
        return origin_regex_ && origin.size() <= 1024 && origin_regex_->full_match(origin);
    }

    response preflight(const request& req, std::string_view origin) const {
        std::string_view method = *req.header("access-control-request-method");
        auto requested = req.header("access-control-request-headers");
        response res = plain_text("OK");
        std::string failures;
        auto fail = [&](std::string_view what) {
            failures.append(failures.empty() ? "" : ", ").append(what);
        };

        if (is_allowed_origin(origin)) {
            res.header("Access-Control-Allow-Origin", explicit_origin_ ? std::string(origin) : "*");
        } else {
            fail("origin");
            if (!explicit_origin_) res.header("Access-Control-Allow-Origin", "*");
        }
        if (explicit_origin_) res.header("Vary", "Origin");
        res.header("Access-Control-Allow-Methods", methods_text_);
        res.header("Access-Control-Max-Age", std::to_string(opt_.max_age));
        if (std::find(opt_.allow_methods.begin(), opt_.allow_methods.end(), method) ==
            opt_.allow_methods.end())
            fail("method");

        if (allow_all_headers_) {
            if (requested) res.header("Access-Control-Allow-Headers", std::string(*requested));
        } else {
            res.header("Access-Control-Allow-Headers", allow_headers_text_);
            if (requested) {
                // An empty entry ("a, , b" or a blank header) names nothing to refuse.
                const bool unknown =
                    detail::for_each_list_item(*requested, [&](std::string_view one) {
                        return std::none_of(lower_headers_.begin(), lower_headers_.end(),
                                            [&](const std::string& h) { return iequals(h, one); });
                    });
                if (unknown) fail("headers");
            }
        }
        if (opt_.allow_credentials) res.header("Access-Control-Allow-Credentials", "true");
        if (!failures.empty()) {
            res.set_status(status::bad_request);
            res.set_body("Disallowed CORS " + failures);
        }
        return res;
    }

    cors_options opt_;
    std::shared_ptr<const detail::origin_regex> origin_regex_; // shared: middleware are copied
    bool allow_all_origins_ = false;
    bool allow_all_headers_ = false;
    bool explicit_origin_ = true;
    std::string allow_headers_text_;
    std::vector<std::string> lower_headers_;
    std::string methods_text_;
    std::string expose_text_;
};

} // namespace aster

#if ASTER_HEADER_ONLY
#include <aster/middleware/impl/cors.ipp>
#endif

#endif // ASTER_MIDDLEWARE_CORS_HPP
