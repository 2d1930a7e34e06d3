// SPDX-License-Identifier: MIT
// Class-based endpoints: `http_endpoint` with a member per method, found at compile time.
#ifndef ASTER_ENDPOINTS_HPP
#define ASTER_ENDPOINTS_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/handler_call.hpp>
#include <aster/method.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>
#include <aster/websocket.hpp>

namespace aster {

/// Base of class-based HTTP endpoints. Define any of `get`, `head`, `post`, `put`, `patch`,
/// `delete_`, `options`; each takes `request&` then the route's path parameters. HEAD is served by
/// `get` unless `head` exists; other methods get 405 with `Allow` listing the defined ones.
/// One instance is made per request, so members may hold per-request state.
/// @code
/// struct user : aster::http_endpoint {
///     aster::task<aster::response> get(aster::request&, std::int64_t id);
/// };
/// @endcode
struct http_endpoint {};

namespace detail {

// One detector per member, since a member name can't be a template argument.
#define ASTER_ENDPOINT_MEMBER(NAME)                             \
    template <class E>                                          \
    struct NAME##_member {                                      \
        static constexpr bool present = requires { &E::NAME; }; \
        static constexpr auto pointer() { return &E::NAME; }    \
    };
ASTER_ENDPOINT_MEMBER(get)
ASTER_ENDPOINT_MEMBER(head)
ASTER_ENDPOINT_MEMBER(post)
ASTER_ENDPOINT_MEMBER(put)
ASTER_ENDPOINT_MEMBER(patch)
ASTER_ENDPOINT_MEMBER(delete_)
ASTER_ENDPOINT_MEMBER(options)
#undef ASTER_ENDPOINT_MEMBER

template <class E>
constexpr method endpoint_methods() {
    method m = method::none;
    if (get_member<E>::present) m = m | method::get | method::head;
    if (head_member<E>::present) m = m | method::head;
    if (post_member<E>::present) m = m | method::post;
    if (put_member<E>::present) m = m | method::put;
    if (patch_member<E>::present) m = m | method::patch;
    if (delete__member<E>::present) m = m | method::delete_;
    if (options_member<E>::present) m = m | method::options;
    return m;
}

// The `Allow` header lists HEAD only when the endpoint defines it (Starlette does the same).
template <class E>
constexpr method endpoint_allow_list() {
    return head_member<E>::present
               ? endpoint_methods<E>()
               : method(std::uint16_t(endpoint_methods<E>()) & ~std::uint16_t(method::head));
}

template <fixed_string Pattern, class Member>
constexpr bool check_member() {
    if constexpr (Member::present) {
        using sig = callable_traits<decltype(Member::pointer())>;
        return check_signature<Pattern, sig>();
    } else {
        return true;
    }
}

template <fixed_string Pattern, class E>
constexpr bool check_endpoint() {
    static_assert(std::is_base_of_v<http_endpoint, E>,
                  "aster::route<Pattern, Endpoint>(): Endpoint must derive from "
                  "aster::http_endpoint");
    static_assert(std::is_default_constructible_v<E>,
                  "aster::http_endpoint: an endpoint must be default-constructible (one is made "
                  "per request)");
    static_assert(endpoint_methods<E>() != method::none,
                  "aster::http_endpoint: define at least one of get, head, post, put, patch, "
                  "delete_, options");
    return check_member<Pattern, get_member<E>>() && check_member<Pattern, head_member<E>>() &&
           check_member<Pattern, post_member<E>>() && check_member<Pattern, put_member<E>>() &&
           check_member<Pattern, patch_member<E>>() && check_member<Pattern, delete__member<E>>() &&
           check_member<Pattern, options_member<E>>();
}

template <class Member, class E>
task<response> call_member(E& endpoint, request& req) {
    using sig = callable_traits<decltype(Member::pointer())>;
    auto bound = [&endpoint](request& r, auto&&... params) {
        return (endpoint.*Member::pointer())(r, std::forward<decltype(params)>(params)...);
    };
    return call_handler<sig>(bound, req);
}

template <class E>
bool endpoint_values_convert(std::span<const std::string_view> values) {
    // Every member takes the same convertors; checking the first defined one is enough.
    auto check = [&]<class Member>() {
        if constexpr (Member::present)
            return values_convert<typename callable_traits<decltype(Member::pointer())>::args>(
                values);
        else return true;
    };
    return check.template operator()<get_member<E>>() &&
           check.template operator()<head_member<E>>() &&
           check.template operator()<post_member<E>>() &&
           check.template operator()<put_member<E>>() &&
           check.template operator()<patch_member<E>>() &&
           check.template operator()<delete__member<E>>() &&
           check.template operator()<options_member<E>>();
}

// The endpoint object must outlive the member's coroutine, so it lives in this frame.
template <class E>
task<response> run_endpoint(request& req) {
    E endpoint{};
    switch (req.method_id()) {
    case method::head:
        if constexpr (head_member<E>::present)
            co_return co_await call_member<head_member<E>>(endpoint, req);
        [[fallthrough]];
    case method::get:
        if constexpr (get_member<E>::present)
            co_return co_await call_member<get_member<E>>(endpoint, req);
        break;
    case method::post:
        if constexpr (post_member<E>::present)
            co_return co_await call_member<post_member<E>>(endpoint, req);
        break;
    case method::put:
        if constexpr (put_member<E>::present)
            co_return co_await call_member<put_member<E>>(endpoint, req);
        break;
    case method::patch:
        if constexpr (patch_member<E>::present)
            co_return co_await call_member<patch_member<E>>(endpoint, req);
        break;
    case method::delete_:
        if constexpr (delete__member<E>::present)
            co_return co_await call_member<delete__member<E>>(endpoint, req);
        break;
    case method::options:
        if constexpr (options_member<E>::present)
            co_return co_await call_member<options_member<E>>(endpoint, req);
        break;
    default:
        break;
    }
    // The router only sends methods the endpoint defines; this is a bug guard, not a path.
    co_return plain_text("Method Not Allowed", status::method_not_allowed);
}

} // namespace detail

/// Base of class-based WebSocket endpoints (Starlette's `WebSocketEndpoint`). One instance per
/// connection. Hooks, all optional but `on_receive`, all coroutines (or plain functions):
/// - `on_connect(websocket&)`: accept or refuse; when missing, the connection is accepted.
/// - `on_receive(websocket&, M)`: each whole message, as `encoding` says: `std::string_view` for
///   text and bytes, `const websocket_message&` (or `std::string_view`) for any. A message of the
///   wrong kind closes with 1003.
/// - `on_disconnect(websocket&, close_code)`: exactly once per accepted connection, with the
///   peer's code, 1005 (none given), 1006 (dropped), or the code aster sent (1002, 1003, 1007,
///   1009, and 1011 when a hook threw).
/// @code
/// struct echo : aster::websocket_endpoint {
///     static constexpr auto encoding = aster::encoding::text;
///     aster::task<> on_receive(aster::websocket& ws, std::string_view m) { co_await
///     ws.send_text(m); }
/// };
/// @endcode
struct websocket_endpoint {};

namespace detail {

template <class E>
constexpr encoding endpoint_encoding() {
    if constexpr (requires { E::encoding; }) return E::encoding;
    else return encoding::any;
}

// Runs a hook that may be a coroutine or a plain function: `co_await call_hook([&] { ... })`.
template <class F>
task<> call_hook(F&& hook) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) hook();
    else co_await hook();
}

// The JSON type an endpoint receives; dependent on E, so nothing is needed until it is used.
template <class E>
struct json_of {
#ifdef ASTER_HAS_JSON
    using type = nlohmann::json;
#else
    using type = void;
#endif
};

// Whether E has any member called on_connect (or on_disconnect), whatever its signature:
// deriving from E and from a type with a member of that name makes the name ambiguous exactly
// when E has one too. A hook aster would not call must not compile silently.
struct on_connect_probe {
    int on_connect;
};
struct on_disconnect_probe {
    int on_disconnect;
};
template <class E>
struct find_on_connect : E, on_connect_probe {};
template <class E>
struct find_on_disconnect : E, on_disconnect_probe {};
template <class E>
concept names_on_connect = !std::is_final_v<E> && !requires {
    &find_on_connect<E>::on_connect;
};
template <class E>
concept names_on_disconnect = !std::is_final_v<E> && !requires {
    &find_on_disconnect<E>::on_disconnect;
};

template <class E>
constexpr bool check_websocket_endpoint() {
    static_assert(std::is_base_of_v<websocket_endpoint, E>,
                  "aster::websocket_route<Pattern, Endpoint>(): Endpoint must derive from "
                  "aster::websocket_endpoint");
    static_assert(std::is_default_constructible_v<E>,
                  "aster::websocket_endpoint: an endpoint must be default-constructible (one is "
                  "made per connection)");
    if constexpr (names_on_connect<E>)
        static_assert(
            requires(E & e, websocket & ws) { e.on_connect(ws); },
            "aster::websocket_endpoint: on_connect must take (aster::websocket&) and "
            "nothing else: aster::task<> on_connect(aster::websocket& ws) (or a plain "
            "void function); read path parameters with ws.request().path_param(name)");
    if constexpr (names_on_disconnect<E>)
        static_assert(
            requires(E & e, websocket & ws, close_code c) { e.on_disconnect(ws, c); },
            "aster::websocket_endpoint: on_disconnect must take (aster::websocket&, "
            "aster::close_code): aster::task<> on_disconnect(aster::websocket& ws, "
            "aster::close_code code) (or a plain void function)");
    constexpr encoding enc = endpoint_encoding<E>();
#ifndef ASTER_HAS_JSON
    static_assert(enc != encoding::json,
                  "aster::websocket_endpoint: encoding::json needs nlohmann/json "
                  "(<nlohmann/json.hpp> on the include path)");
#endif
    if constexpr (enc == encoding::json) {
        static_assert(
            requires(E & e, websocket & ws, const typename json_of<E>::type& m) {
                e.on_receive(ws, m);
            },
            "aster::websocket_endpoint: define on_receive(aster::websocket&, const "
            "nlohmann::json&) for encoding json");
    } else if constexpr (enc == encoding::any) {
        static_assert(
            requires(E & e, websocket & ws, const websocket_message& m) { e.on_receive(ws, m); } ||
                requires(E & e, websocket & ws, std::string_view m) { e.on_receive(ws, m); },
            "aster::websocket_endpoint: define on_receive(aster::websocket&, const "
            "aster::websocket_message&) or on_receive(aster::websocket&, "
            "std::string_view) (encoding any)");
    } else {
        static_assert(
            requires(E & e, websocket & ws, std::string_view m) { e.on_receive(ws, m); },
            "aster::websocket_endpoint: define on_receive(aster::websocket&, "
            "std::string_view) for encoding text or bytes");
    }
    return true;
}

template <class E>
task<> run_websocket_endpoint(websocket& ws) {
    E endpoint{};
    if constexpr (requires { endpoint.on_connect(ws); })
        co_await call_hook([&] { return endpoint.on_connect(ws); });
    else co_await ws.accept();
    if (!ws.accepted()) co_return; // refused: on_disconnect is for accepted connections only

    constexpr encoding enc = endpoint_encoding<E>();
    std::uint16_t code = 1000;
    std::exception_ptr error;
    try {
        while (ws.state() == websocket_state::connected) {
            websocket_message message = co_await ws.receive();
            if constexpr (enc == encoding::json) {
                // Text or binary holding UTF-8 JSON, as Starlette accepts; malformed: 1003.
                auto value = json_of<E>::type::parse(message.data, nullptr, false);
                if (value.is_discarded()) {
                    co_await ws.close(close_code::unsupported_data);
                    break;
                }
                co_await call_hook([&] { return endpoint.on_receive(ws, value); });
            } else if constexpr (enc == encoding::any) {
                if constexpr (requires { endpoint.on_receive(ws, message); })
                    co_await call_hook([&] { return endpoint.on_receive(ws, message); });
                else co_await call_hook([&] { return endpoint.on_receive(ws, message.data); });
            } else {
                if (message.text != (enc == encoding::text)) {
                    co_await ws.close(close_code::unsupported_data); // on_disconnect sees 1003
                    break;
                }
                co_await call_hook([&] { return endpoint.on_receive(ws, message.data); });
            }
        }
        code = ws.close_code();
    } catch (const websocket_disconnect& closed) {
        code = closed.code();
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        websocket_access::report(ws, error);
        if (ws.state() == websocket_state::connected) co_await ws.close(close_code::internal_error);
        code = std::uint16_t(close_code::internal_error);
    }
    if constexpr (requires { endpoint.on_disconnect(ws, close_code::normal_closure); }) {
        try {
            co_await call_hook([&] { return endpoint.on_disconnect(ws, close_code(code)); });
        } catch (...) {
            websocket_access::report(ws, std::current_exception());
        }
    }
}

} // namespace detail
} // namespace aster

#endif // ASTER_ENDPOINTS_HPP
