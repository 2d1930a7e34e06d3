// SPDX-License-Identifier: MIT
// trusted_host: refuses requests whose Host header is not allowed, as Starlette's
// TrustedHostMiddleware.
#ifndef ASTER_MIDDLEWARE_TRUSTED_HOST_HPP
#define ASTER_MIDDLEWARE_TRUSTED_HOST_HPP

#include <aster/detail/config.hpp>
#include <aster/middleware.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace aster {

/// Answers 400 "Invalid host header" unless the Host (port ignored) is in `allowed_hosts`:
/// exact names, "*.example.com" for any subdomain, or "*" for all. With `www_redirect`, a
/// request for "example.com" when only "www.example.com" is allowed gets a 307 there.
/// WebSocket handshakes with a bad host are refused the same way (HTTP 400, before routing).
/// Throws std::invalid_argument for a wildcard anywhere but a leading "*.".
/// @code
/// aster::application app{routes, aster::middleware(aster::trusted_host{{"example.com",
/// "*.example.com"}})};
/// @endcode
class trusted_host {
public:
    explicit trusted_host(std::vector<std::string> allowed_hosts = {"*"}, bool www_redirect = true)
        : allowed_(std::move(allowed_hosts)), www_redirect_(www_redirect) {
        for (const auto& p : allowed_) {
            std::string_view v = p;
            if (v == "*") allow_any_ = true;
            else if (v.find('*', v.starts_with("*.") ? 1 : 0) != std::string_view::npos)
                throw std::invalid_argument("aster::trusted_host: domain wildcard patterns must "
                                            "be like '*.example.com', not '" +
                                            p + "'");
        }
    }

    task<response> operator()(request& req, call_next next) const {
        if (auto refusal = check(req)) co_return std::move(*refusal);
        co_return co_await next(req);
    }
    std::optional<response> on_websocket(request& req) const { return check(req); }

private:
    std::optional<response> check(const request& req) const {
        if (allow_any_) return std::nullopt;
        std::string_view full = req.header("host").value_or("");
        std::string_view host = full.substr(0, full.find(':'));
        bool www = false;
        for (std::string_view p : allowed_) {
            if (host == p || (p.starts_with('*') && host.ends_with(p.substr(1))))
                return std::nullopt;
            if (p.size() == host.size() + 4 && p.starts_with("www.") && p.substr(4) == host)
                www = true;
        }
        if (www && www_redirect_) {
            // The request's own scheme, so https (or wss) stays so.
            std::string location = std::string(req.scheme()) + "://www." + std::string(full) +
                                   std::string(req.raw_path());
            if (!req.query_string().empty()) location += "?" + std::string(req.query_string());
            return redirect(std::move(location));
        }
        return plain_text("Invalid host header", status::bad_request);
    }

    std::vector<std::string> allowed_;
    bool www_redirect_;
    bool allow_any_ = false;
};

} // namespace aster

#endif // ASTER_MIDDLEWARE_TRUSTED_HOST_HPP
