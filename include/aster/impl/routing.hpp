// SPDX-License-Identifier: MIT
// Router dispatch and reverse routing.
#ifndef ASTER_IMPL_ROUTING_HPP
#define ASTER_IMPL_ROUTING_HPP

#include <aster/error.hpp>

namespace aster {

namespace detail {

// What the WebSocket table holds for an HTTP route; never run (match_websocket skips them).
inline task<> no_websocket_route() { co_return; }

// A full match: the route's parameters become the request's path parameters.
template <class Route>
bool take_match(request& req, std::string_view path, std::span<std::string_view> values) {
    if (!Route::match_path(path, values.data()) || !Route::values_convert(values)) return false;
    request_access::clear_path_params(req);
    request_access::set_route(req, Route::pattern.view(), Route::label());
    for (std::size_t p = 0; p < Route::parsed.param_count; ++p)
        request_access::set_path_param(req, p, Route::parsed.param(p).text, values[p]);
    return true;
}

template <class Route>
bool path_matches(std::string_view path, std::span<std::string_view> values) {
    return Route::match_path(path, values.data()) && Route::values_convert(values);
}
} // namespace detail

template <class... Routes>
task<response> router<Routes...>::dispatch(request& req) const {
    response out;
    std::size_t index = match(req, out);
    if (index == size) co_return out;
    if (!runs_now(index)) co_return co_await invoke(index, req);
    // A plain handler reads buffered_body(): a body still streaming in is gathered first.
    if (detail::request_access::body_streaming(req)) co_await req.body();
    call_now(index, req, out);
    co_return out;
}

template <class... Routes>
bool router<Routes...>::runs_now(std::size_t index) noexcept {
    static constexpr std::array<bool, size> plain{[] {
        if constexpr (Routes::is_websocket) return false;
        else return Routes::runs_now;
    }()...};
    return plain[index];
}

template <class... Routes>
void router<Routes...>::call_now(std::size_t index, request& req, response& out) const {
    // A generated jump table: one call through a function pointer, whatever the route count.
    using runner = void (*)(const router&, request&, response&);
    static constexpr auto table = []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<runner, size>{+[](const router& self, request& r, response& o) {
            using route_type = std::tuple_element_t<I, std::tuple<Routes...>>;
            if constexpr (!route_type::is_websocket)
                if constexpr (route_type::runs_now) o = std::get<I>(self.routes_).call_now(r);
        }...};
    }
    (std::index_sequence_for<Routes...>{});
    table[index](*this, req, out);
}

template <class... Routes>
std::size_t router<Routes...>::route_now(request& req, response& out, bool* unmatched) const {
    std::size_t found = match(req, out, unmatched);
    if (found == size || !runs_now(found)) return found;
    call_now(found, req, out);
    return size;
}

template <class... Routes>
bool router<Routes...>::streams_body(request& req) const {
    response ignored;
    std::size_t found = match(req, ignored);
    return found != size && !runs_now(found);
}

template <class... Routes>
std::size_t router<Routes...>::match(request& req, response& out, bool* unmatched) const {
    const std::string_view path = req.path();
    const method wanted = req.method_id();
    std::array<std::string_view, request::max_path_params> values{};
    std::size_t found = size;
    method allowed_elsewhere = method::none;

    // First full match wins; a path match with the wrong method is remembered for the 405.
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (([&] {
             using route_type = std::tuple_element_t<I, std::tuple<Routes...>>;
             if constexpr (route_type::is_websocket) {
                 return false;
             } else {
                 if (!any(route_type::allowed & wanted)) {
                     if (detail::path_matches<route_type>(path, values))
                         allowed_elsewhere = allowed_elsewhere | route_type::allow_list;
                     return false;
                 }
                 if (!detail::take_match<route_type>(req, path, values)) return false;
                 found = I;
                 return true;
             }
         }()) ||
         ...);
    }
    (std::index_sequence_for<Routes...>{});

    if (found != size) return found;
    if (allowed_elsewhere != method::none) {
        out = plain_text("Method Not Allowed", status::method_not_allowed);
        out.header("Allow", allow_header(allowed_elsewhere));
        if (unmatched) *unmatched = true;
        return size;
    }
    // redirect_slashes, as Starlette: only when the other spelling would match some route.
    if (path != "/" && !path.empty()) {
        std::string other(path);
        if (other.ends_with('/')) other.pop_back();
        else other.push_back('/');
        bool other_matches = false;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            // Converting too: `/n/99999999999999999999/` must not redirect to a 404.
            ((other_matches = other_matches || (!Routes::is_websocket &&
                                                detail::path_matches<Routes>(other, values))),
             ...);
        }
        (std::index_sequence_for<Routes...>{});
        if (other_matches) {
            std::string location;
            std::string raw(req.raw_path());
            if (raw.find('%') == std::string::npos) {
                if (raw.ends_with('/')) raw.pop_back();
                else raw.push_back('/');
            } else {
                // `/x%2F` decodes to `/x/`: the other spelling is `/x`, which the raw path with a
                // slash changed (`/x%2F/`) is not. Encode the decoded path that matched instead.
                raw = percent_encode(other, "/!$&'()*+,;=:@");
            }
            if (auto host = req.header("host"); host && !host->empty())
                location.append(req.is_secure() ? "https://" : "http://").append(*host);
            location += raw;
            if (!req.query_string().empty()) location.append("?").append(req.query_string());
            out = redirect(std::move(location));
            return size;
        }
    }
    out = plain_text("Not Found", status::not_found);
    if (unmatched) *unmatched = true;
    return size;
}

template <class... Routes>
task<response> router<Routes...>::invoke(std::size_t index, request& req) const {
    using invoker = task<response> (*)(const router&, request&);
    static constexpr auto table = []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<invoker, size>{+[](const router& self, request& r) {
            using route_type = std::tuple_element_t<I, std::tuple<Routes...>>;
            if constexpr (route_type::is_websocket) return detail::ready_response({});
            else return std::get<I>(self.routes_).invoke(r);
        }...};
    }
    (std::index_sequence_for<Routes...>{});
    return table[index](*this, req);
}

template <class... Routes>
std::size_t router<Routes...>::match_websocket(request& req) const {
    std::array<std::string_view, request::max_path_params> values{};
    std::size_t found = size;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (([&] {
             using route_type = std::tuple_element_t<I, std::tuple<Routes...>>;
             if constexpr (!route_type::is_websocket) {
                 return false;
             } else {
                 if (!detail::take_match<route_type>(req, req.path(), values)) return false;
                 found = I;
                 return true;
             }
         }()) ||
         ...);
    }
    (std::index_sequence_for<Routes...>{});
    return found;
}

template <class... Routes>
task<> router<Routes...>::run_websocket(std::size_t index, request& req, websocket& ws) const {
    using invoker = task<> (*)(const router&, request&, websocket&);
    // Plain functions handing back the handler's own task: no coroutine frame of their own
    // stays alive under a WebSocket for the connection's life.
    static constexpr auto table = []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<invoker, size>{
            +[](const router& self, request& r, websocket& w) -> task<> {
                using route_type = std::tuple_element_t<I, std::tuple<Routes...>>;
                if constexpr (route_type::is_websocket) return std::get<I>(self.routes_).run(r, w);
                else return detail::no_websocket_route();
            }...};
    }
    (std::index_sequence_for<Routes...>{});
    return table[index](*this, req, ws);
}

template <class... Routes>
template <fixed_string Name, class... Params>
std::string router<Routes...>::url_path_for(const Params&... params) const {
    constexpr std::size_t index = detail::index_of_name<Name, Routes...>();
    if constexpr (index == size)
        static_assert(detail::url_path_for_unknown_name<
                          Name>::name_a_route_so_with_named_or_correct_the_spelling(),
                      "aster::url_path_for: no route has this name (the first error names it)");
    if constexpr (index < size) {
        using route_type = std::tuple_element_t<index, std::tuple<Routes...>>;
        constexpr auto& pp = route_type::parsed;
        static_assert(sizeof...(Params) == pp.param_count,
                      "aster::url_path_for: give exactly one value per path parameter of the "
                      "named route, in the pattern's order");
        std::string out;
        auto append_param = [&](std::size_t wanted_index) {
            std::size_t i = 0;
            ((i++ == wanted_index
                  ? detail::append_path_value(out, pp.param(wanted_index).conv, params)
                  : void()),
             ...);
        };
        for (std::size_t t = 0; t < pp.token_count; ++t) {
            if (pp.tokens[t].is_param) append_param(pp.tokens[t].param_index);
            else out += pp.tokens[t].text;
        }
        return out;
    } else {
        return {};
    }
}

} // namespace aster

#endif // ASTER_IMPL_ROUTING_HPP
