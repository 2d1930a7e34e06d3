// SPDX-License-Identifier: MIT
// https_redirect: a 307 from http to https and ws to wss, as Starlette's HTTPSRedirectMiddleware.
#ifndef ASTER_MIDDLEWARE_HTTPS_REDIRECT_HPP
#define ASTER_MIDDLEWARE_HTTPS_REDIRECT_HPP

#include <aster/detail/config.hpp>
#include <aster/middleware.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace aster {

/// Requests that did not come over TLS get a 307 to the same URL with the scheme `https`
/// (`wss` for a WebSocket handshake, which is refused with that 307 before routing): the host
/// from the Host header, port 80 or 443 dropped and any other kept, the path and query as
/// sent. Requests already over TLS (`request::is_secure()`) pass through untouched. A request
/// without Host (only HTTP/1.0 may omit it) gets 400 "Missing Host header": there is no URL
/// to send it to.
/// @code
/// aster::application app{routes, aster::middleware(aster::https_redirect{})};
/// @endcode
struct https_redirect {
    task<response> operator()(request& req, call_next next) const {
        if (auto moved = check(req)) co_return std::move(*moved);
        co_return co_await next(req);
    }
    std::optional<response> on_websocket(request& req) const { return check(req); }

private:
    static std::optional<response> check(const request& req) {
        if (req.is_secure()) return std::nullopt;
        std::string_view host = req.header("host").value_or("");
        if (host.empty()) return plain_text("Missing Host header", status::bad_request);
        // The port follows the last ':' outside an IPv6 literal's brackets.
        auto colon = host.rfind(':');
        if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
            std::string_view port = host.substr(colon + 1);
            if (port == "80" || port == "443") host = host.substr(0, colon);
        }
        std::string location = req.is_websocket() ? "wss://" : "https://";
        location.append(host).append(req.raw_path());
        if (!req.query_string().empty()) location.append("?").append(req.query_string());
        return redirect(std::move(location), status::temporary_redirect);
    }
};

} // namespace aster

#endif // ASTER_MIDDLEWARE_HTTPS_REDIRECT_HPP
