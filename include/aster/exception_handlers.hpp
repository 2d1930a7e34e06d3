// SPDX-License-Identifier: MIT
// Exception handlers: responses for an http_exception's status (and routing's own 404/405) and
// for exceptions of the app's own types, as Starlette's `exception_handlers`.
#ifndef ASTER_EXCEPTION_HANDLERS_HPP
#define ASTER_EXCEPTION_HANDLERS_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/request_access.hpp>
#include <aster/error.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>
#include <aster/status.hpp>
#include <aster/task.hpp>

#include <concepts>
#include <exception>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>

namespace aster {

/// Answers an `http_exception` with status `S`, and routing's own 404 or 405 when `S` is that
/// (passed as an http_exception carrying the status and, for 405, the `Allow` header).
template <status S, class F>
struct status_handler {
    F fn;
};

/// Answers an exception of type `E` (or derived from it) that a handler or middleware threw.
template <class E, class F>
struct exception_handler {
    F fn;
};

/// `fn`: `aster::response fn(aster::request&, const aster::http_exception&)`.
template <auto S, class F>
constexpr status_handler<static_cast<status>(S), F> on_status(F fn) {
    static_assert(std::is_invocable_r_v<response, const F&, request&, const http_exception&>,
                  "aster::on_status: the handler needs "
                  "`aster::response (aster::request&, const aster::http_exception&)`");
    return {fn};
}

/// `fn`: `aster::response fn(aster::request&, const E&)`.
template <class E, class F>
constexpr exception_handler<E, F> on_exception(F fn) {
    static_assert(
        std::is_invocable_r_v<response, const F&, request&, const E&>,
        "aster::on_exception<E>: the handler needs `aster::response (aster::request&, const E&)`");
    return {fn};
}

/// The handlers of an app, given to its constructor after the optional middleware:
/// status handlers are looked up first, then exception types in the order given. An
/// exception none of them takes is answered as without handlers (500, or the http_exception's
/// own status). A handler that throws is answered as an unhandled exception.
/// @code
/// aster::application app{routes, aster::exception_handlers(
///     aster::on_status<404>([](aster::request&, const aster::http_exception&) {
///         return aster::html("<h1>Nothing here</h1>", aster::status::not_found); }),
///     aster::on_exception<out_of_stock>([](aster::request&, const out_of_stock& e) {
///         return aster::plain_text(e.what(), aster::status::conflict); }))};
/// @endcode
template <class... H>
struct exception_handler_list {
    std::tuple<H...> items;
};

template <class... H>
constexpr exception_handler_list<H...> exception_handlers(H... h) {
    return {std::tuple<H...>(std::move(h)...)};
}

namespace detail {

template <class T>
inline constexpr bool is_status_handler = false;
template <status S, class F>
inline constexpr bool is_status_handler<status_handler<S, F>> = true;

/// The innermost layer of an app with exception handlers: runs the router itself, so it can
/// tell routing's own 404/405 from a handler's response.
template <class... H>
struct exception_guard {
    std::tuple<H...> handlers;

    template <class Router>
    task<response> run(const Router& router, request& req) const {
        response out;
        bool unmatched = false;
        std::exception_ptr error;
        try {
            std::size_t i = router.match(req, out, &unmatched);
            if (i != Router::size && !Router::runs_now(i)) {
                out = co_await router.invoke(i, req);
            } else if (i != Router::size) {
                // A plain handler reads buffered_body(): gather a body still streaming in.
                if (request_access::body_streaming(req)) co_await req.body();
                router.call_now(i, req, out);
            }
        } catch (...) {
            error = std::current_exception();
        }
        if (error) co_return handle(req, error); // rethrows what no handler takes
        if (unmatched) {
            http_exception::header_list headers;
            if (auto allow = out.header_value("allow"); !allow.empty())
                headers.emplace_back("Allow", std::string(allow));
            http_exception e(out.status(), {}, std::move(headers));
            if (auto r = by_status(req, e)) co_return std::move(*r);
        }
        co_return out;
    }

    std::optional<response> by_status(request& req, const http_exception& e) const {
        std::optional<response> r;
        std::apply(
            [&](const auto&... h) {
                auto one = [&](const auto& item) {
                    using item_type = std::remove_cvref_t<decltype(item)>;
                    if constexpr (is_status_handler<item_type>) {
                        if (e.status() == status_of(item)) {
                            r.emplace(item.fn(req, e));
                            return true;
                        }
                    }
                    return false;
                };
                (one(h) || ...);
            },
            handlers);
        return r;
    }

    response handle(request& req, std::exception_ptr error) const {
        try {
            std::rethrow_exception(error);
        } catch (const http_exception& e) {
            if (auto r = by_status(req, e)) return std::move(*r);
        } catch (...) {
        }
        std::optional<response> r;
        std::apply([&](const auto&... h) { (by_type(req, error, h, r) || ...); }, handlers);
        if (r) return std::move(*r);
        std::rethrow_exception(error);
    }

private:
    template <status S, class F>
    static constexpr status status_of(const status_handler<S, F>&) noexcept {
        return S;
    }

    template <class T>
    static bool by_type(request&, std::exception_ptr, const T&, std::optional<response>&) {
        return false; // a status handler
    }
    template <class E, class F>
    static bool by_type(request& req, std::exception_ptr error, const exception_handler<E, F>& h,
                        std::optional<response>& r) {
        try {
            std::rethrow_exception(error);
        } catch (const E& e) {
            r.emplace(h.fn(req, e));
            return true;
        } catch (...) {
        }
        return false;
    }
};

template <class T>
inline constexpr bool is_exception_guard = false;
template <class... H>
inline constexpr bool is_exception_guard<exception_guard<H...>> = true;

} // namespace detail

} // namespace aster

#endif // ASTER_EXCEPTION_HANDLERS_HPP
