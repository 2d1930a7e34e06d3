// SPDX-License-Identifier: MIT
// `request`: what a handler sees of one HTTP request: method, path, query, headers, cookies, body,
// client.
#ifndef ASTER_REQUEST_HPP
#define ASTER_REQUEST_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/route_table.hpp>
#include <aster/cookies.hpp>
#include <aster/error.hpp>
#include <aster/headers.hpp>
#include <aster/method.hpp>
#include <aster/task.hpp>
#include <aster/topics.hpp>
#include <aster/url.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#ifdef ASTER_HAS_JSON
#include <nlohmann/json_fwd.hpp> // declarations only: JSON costs nothing until used
#endif

namespace aster {

namespace detail {
/// One address per type, without RTTI: what request::state<T>() checks its type against.
template <class T>
inline constexpr char type_tag = 0;

struct request_access;
struct metrics_registry;

/// Where a streamed body comes from: the connection, which reads it as the handler asks.
class body_source {
public:
    /// The next piece, valid until the next call; empty once the body has ended. Throws
    /// http_exception (400, 408, 413) when the body breaks a rule, client_disconnect when the
    /// client goes away.
    virtual task<std::string_view> read_some() = 0;

protected:
    ~body_source() = default;
};
} // namespace detail

class form_data;    // <aster/forms.hpp>
struct form_limits; // <aster/forms.hpp>

/// The peer's address: "127.0.0.1" and its port, or "testclient" and 50000 under test_client.
struct client_address {
    std::string host;
    std::uint16_t port = 0;
};

/// A path parameter as matched, before conversion: `{id:int}` on `/users/42` gives {"id", "42"}.
struct path_parameter {
    std::string_view name;
    std::string_view value;
};

/// One HTTP request. It lives in its connection and is reused for the next request, so keep no
/// reference to it, or to the views it hands out, after the handler returns.
/// Thread safety: used only by the connection's coroutine.
class request {
public:
    static constexpr std::size_t max_path_params = 16;

    std::string_view method() const noexcept { return method_name_; }
    aster::method method_id() const noexcept { return method_id_; }
    /// The request-target exactly as sent, e.g. `/search?q=a%20b`.
    std::string_view target() const noexcept { return target_; }
    /// The path, percent-decoded; routes match against this.
    std::string_view path() const noexcept { return path_; }
    /// The path as sent, before decoding.
    std::string_view raw_path() const noexcept { return raw_path_; }
    /// The raw query string, without `?`.
    std::string_view query_string() const noexcept { return query_; }
    /// Decoded, multi-valued query parameters, parsed on first use.
    const aster::query_params& query_params() const {
        if (!query_params_) query_params_.emplace(query_);
        return *query_params_;
    }

    const aster::headers& headers() const noexcept { return headers_; }
    std::optional<std::string_view> header(std::string_view name) const noexcept {
        return headers_.get(name);
    }
    /// Cookies from every `Cookie` header, in order.
    std::vector<std::pair<std::string_view, std::string_view>> cookies() const {
        std::vector<std::pair<std::string_view, std::string_view>> out;
        for (const auto& f : headers_)
            if (iequals(f.name, "cookie"))
                for (auto c : parse_cookie_header(f.value)) out.push_back(c);
        return out;
    }
    std::optional<std::string_view> cookie(std::string_view name) const {
        for (auto [n, v] : cookies())
            if (n == name) return v;
        return std::nullopt;
    }

    /// Sends `message` to every WebSocket subscribed to `topic`, on every event loop of the
    /// server or test_client serving this request (websocket::publish, from HTTP).
    task<> publish(std::string_view topic, std::string_view message,
                   const publish_options& options = {}) const {
        return publisher().publish(topic, message, options, nullptr);
    }
#ifdef ASTER_HAS_JSON
    /// publish() of `value` as compact JSON text.
    template <class Json = nlohmann::json>
    task<> publish_json(std::string_view topic, const Json& value,
                        publish_options options = {}) const {
        options.binary = false;
        std::string text = value.dump();
        co_await publisher().publish(topic, text, options, nullptr);
    }
#endif
    /// The server's topics, to keep and publish from a plain function or another thread.
    aster::topics topics() const { return aster::topics(&publisher().hub()); }

    /// The next piece of the body as it arrives (Starlette's `request.stream()`): a view valid
    /// until the next call, empty once the body has ended; chunked bodies come dechunked. A
    /// coroutine route whose body is large (over 64 KiB) or still arriving gets it this way
    /// straight from the connection's read buffer, so memory stays bounded whatever the size;
    /// otherwise the whole buffered body comes as one piece. `max_body_bytes` bounds either.
    /// Throws http_exception 413 past that limit (400 for broken chunked framing, 408 when the
    /// client stalls past `body_timeout`) and client_disconnect when the client goes away. A
    /// body the handler leaves unread is drained (up to 256 KiB) or the connection closes.
    /// Const like body(): reading changes what is left to read, not what the request says.
    /// @code
    /// std::size_t total = 0;
    /// for (auto p = co_await req.read_some(); !p.empty(); p = co_await req.read_some())
    ///     total += p.size(); // or write it to a file, hash it, forward it...
    /// @endcode
    task<std::string_view> read_some() const {
        if (body_done_) co_return std::string_view();
        std::string_view piece;
        if (source_) {
            piece = co_await source_->read_some();
        } else {
            body_done_ = true; // buffered: the whole body is the one piece
            piece = *body_;
        }
        if (piece.empty()) body_done_ = true;
        else body_taken_ = true;
        co_return piece;
    }
    /// The whole body, at most the server's `max_body_bytes` (413 beyond). Read a body one way:
    /// after read_some() has handed out part of it, body() (and json(), form()) throws
    /// std::logic_error; read_some() after body() gives the whole body once, as Starlette.
    task<std::string_view> body() const {
        if (body_taken_)
            throw std::logic_error(
                "aster::request::body(): read_some() already consumed part of the body; read it "
                "whole (body, json, form) or in pieces, not both");
        if (source_) {
            collected_->clear();
            for (auto piece = co_await source_->read_some(); !piece.empty();
                 piece = co_await source_->read_some())
                collected_->append(piece);
            source_ = nullptr;
            body_ = collected_;
            body_done_ = false; // read_some() now gives the gathered body once
        }
        co_return std::string_view(*body_);
    }
    /// The same bytes without a coroutine, for plain (non-coroutine) handlers, which always get
    /// the whole body. Empty while a coroutine route's body streams: use body() there.
    std::string_view buffered_body() const noexcept { return *body_; }

#ifdef ASTER_HAS_JSON
    /// The body parsed as JSON (include <aster/json.hpp> or <nlohmann/json.hpp> to use it).
    /// A body that is not JSON (empty included) throws http_exception 400 naming the error.
    template <class Json = nlohmann::json>
    task<Json> json() const {
        static_assert(
            requires { Json::parse(std::string_view{}); },
            "aster::request::json(): include <aster/json.hpp> (nlohmann/json)");
        auto text = co_await body();
        try {
            co_return Json::parse(text);
        } catch (const std::exception& e) {
            throw http_exception(status::bad_request,
                                 std::string("Malformed JSON body: ") + e.what());
        }
    }
#endif

    /// The body as a form, by its Content-Type: urlencoded or multipart/form-data (empty for
    /// any other type, as Starlette). Defined in <aster/forms.hpp>; see form_limits there.
    inline task<form_data> form() const;
    inline task<form_data> form(form_limits limits) const;

    const client_address& client() const noexcept { return *client_; }

    std::span<const path_parameter> path_params() const noexcept {
        return {path_params_.data(), path_param_count_};
    }
    /// The raw value of path parameter `name` of the matched route. A name the route's pattern
    /// does not have (a typo) throws std::invalid_argument naming it and the pattern.
    std::string_view path_param(std::string_view name) const {
        for (const auto& p : path_params())
            if (p.name == name) return p.value;
        throw_no_path_param(name);
    }
    /// The pattern of the route that matched (`/users/{id:int}`); empty before routing.
    std::string_view route_pattern() const noexcept { return route_pattern_; }

    /// The URL scheme, as Starlette's `request.url.scheme`: "https" when the connection came in
    /// over TLS, else "http"; for a WebSocket handshake (`ws.request()`, a middleware's
    /// `on_websocket`) "wss" or "ws".
    std::string_view scheme() const noexcept {
        if (websocket_) return secure_ ? "wss" : "ws";
        return secure_ ? "https" : "http";
    }
    /// True over TLS (https, wss), as Starlette's `url.is_secure`.
    bool is_secure() const noexcept { return secure_; }
    /// True for a WebSocket handshake (`Upgrade: websocket`).
    bool is_websocket() const noexcept { return websocket_; }

    /// The path of the app's route named `name`, with one value per path parameter in the
    /// pattern's order (numbers, strings or aster::uuid), as Starlette's `url_path_for`; the
    /// name is looked up at run time. Mounted routes keep their own names. Throws
    /// aster::no_match_found naming the route when the name, the count or a value does not fit.
    /// (`app.url_path_for<"name">(...)` checks the same when the file compiles.)
    /// @code
    /// req.url_path_for("user", 7);    // "/users/7"
    /// req.url_for("user", 7);         // "http://testserver/users/7"
    /// @endcode
    template <class... Params>
    std::string url_path_for(std::string_view name, const Params&... params) const {
        return reverse(name, nullptr, params...);
    }
    /// The absolute URL of the route named `name`: this request's scheme and Host, with `ws` or
    /// `wss` for a WebSocket route. Throws no_match_found as url_path_for, and std::runtime_error
    /// for a request without Host (HTTP/1.0 may omit it).
    template <class... Params>
    std::string url_for(std::string_view name, const Params&... params) const {
        bool websocket = false;
        std::string path = reverse(name, &websocket, params...);
        return absolute_url(path, websocket);
    }

    int version_major() const noexcept { return version_major_; }
    int version_minor() const noexcept { return version_minor_; }
    bool keep_alive() const noexcept { return keep_alive_; }

    /// The app's state (`aster::lifespan{.state = aster::state_of(object)}`, see lifespan.hpp),
    /// shared by every request; throws std::logic_error when the app has no state of type T.
    template <class T>
    T& state() const {
        if (state_ == nullptr || state_type_ != &detail::type_tag<T>)
            throw std::logic_error(
                "aster: request::state<T>(): the app has no state of this type "
                "(give it as aster::lifespan{.state = aster::state_of(object)})");
        return *static_cast<T*>(state_);
    }

private:
    friend struct detail::request_access;

    template <class... Params>
    std::string reverse(std::string_view name, bool* websocket, const Params&... params) const {
        std::array<std::string, sizeof...(Params)> values;
        std::size_t i = 0;
        (detail::append_path_text(values[i++], params), ...);
        (void)i;
        if (!routes_.reverse) // a request made outside an app (a unit test of a handler)
            throw no_match_found("aster: no route exists for name \"" + std::string(name) + "\"");
        return routes_.reverse(routes_, name, values, websocket);
    }
    std::string absolute_url(std::string_view path, bool websocket) const {
        auto host = header("host");
        if (!host || host->empty())
            throw std::runtime_error("aster::request::url_for: the request has no Host header "
                                     "to build an absolute URL from");
        std::string out(websocket ? (secure_ ? "wss" : "ws") : (secure_ ? "https" : "http"));
        out.append("://").append(*host).append(path);
        return out;
    }

    std::string_view method_name_;
    aster::method method_id_ = aster::method::get;
    std::string_view target_, raw_path_, path_, query_;
    aster::headers headers_;
    mutable std::optional<aster::query_params> query_params_;
    mutable const std::string* body_ = nullptr;     // the whole body, once buffered
    mutable detail::body_source* source_ = nullptr; // set while the body is still streaming in
    std::string* collected_ = nullptr;              // where body() gathers a streamed body
    mutable bool body_taken_ = false, body_done_ = false; // what read_some() has handed out
    const client_address* client_ = nullptr;
    void* state_ = nullptr;
    const void* state_type_ = nullptr;
    detail::route_table routes_{}; // the app's, for url_path_for
    std::array<path_parameter, max_path_params> path_params_{};
    std::size_t path_param_count_ = 0;
    std::string_view route_pattern_, route_label_;
    const detail::metrics_registry* metrics_ = nullptr; // metrics_route reads it
    detail::topic_publisher* topics_ = nullptr;         // its connection's loop's topics

    detail::topic_publisher& publisher() const {
        if (!topics_)
            throw std::logic_error("aster::request: topics need a request served by a server or "
                                   "test_client");
        return *topics_;
    }

    [[noreturn]] void throw_no_path_param(std::string_view name) const {
        std::string known;
        for (const auto& p : path_params()) known.append(known.empty() ? "" : ", ").append(p.name);
        throw std::invalid_argument(
            "aster::request::path_param: " +
            (route_pattern_.empty()
                 ? std::string("no route has matched yet, so there is no '") + std::string(name) +
                       "'"
                 : "the route " + std::string(route_pattern_) + " has no parameter '" +
                       std::string(name) + "' (" +
                       (known.empty() ? std::string("it has none") : "it has: " + known) + ")"));
    }
    int version_major_ = 1, version_minor_ = 1;
    bool keep_alive_ = true;
    bool secure_ = false;    // per connection: set once when it starts
    bool websocket_ = false; // per request
};

} // namespace aster

#endif // ASTER_REQUEST_HPP
