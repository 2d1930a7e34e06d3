// SPDX-License-Identifier: MIT
// `response`: status, headers and body (or a coroutine producing the body), plus the usual
// factories.
#ifndef ASTER_RESPONSE_HPP
#define ASTER_RESPONSE_HPP

#include <aster/detail/config.hpp>
#include <aster/cookies.hpp>
#include <aster/headers.hpp>
#include <aster/status.hpp>
#include <aster/task.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

/// What a streaming response's producer writes its body through. Each `write` is one chunk on the
/// wire; an empty chunk is skipped (it would end a chunked body early).
class body_writer {
public:
    virtual task<> write(std::string_view chunk) = 0;

protected:
    ~body_writer() = default;
};

/// An HTTP response. Content-Length, Date and Connection are added when it is written.
/// @code
/// co_return aster::plain_text("created", aster::status::created).header("Location", "/items/7");
/// @endcode
class response {
public:
    using header_list = aster::header_list;
    using producer = std::function<task<>(body_writer&)>;
    using background_task = std::function<task<>()>;

    response() = default;
    explicit response(aster::status code) noexcept : status_(code) {}
    response(aster::status code, std::string body, std::string content_type = {})
        : status_(code), body_(std::move(body)), owned_type_(std::move(content_type)) {}

    aster::status status() const noexcept { return status_; }
    response& set_status(aster::status code) & noexcept { return status_ = code, *this; }
    response&& set_status(aster::status code) && noexcept { return std::move(set_status(code)); }

    const std::string& body() const noexcept { return body_; }
    response& set_body(std::string body) & { return body_ = std::move(body), *this; }
    response&& set_body(std::string body) && { return std::move(set_body(std::move(body))); }

    std::string_view content_type() const noexcept {
        return static_type_.empty() ? std::string_view(owned_type_) : static_type_;
    }
    response& set_content_type(std::string type) & {
        static_type_ = {};
        owned_type_ = std::move(type);
        return *this;
    }

    /// Appends a header. Names are kept as given; Content-Length and Date are the server's.
    /// Throws std::invalid_argument for a line break in either, which would split the response.
    response& header(std::string name, std::string value) & {
        check_header(name, value);
        headers_.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    response&& header(std::string name, std::string value) && {
        return std::move(header(std::move(name), std::move(value)));
    }
    /// Replaces every header called `name` (case-insensitively) with one value.
    response& set_header(std::string_view name, std::string value) &;
    /// Removes every header called `name` (case-insensitively).
    response& remove_header(std::string_view name) &;
    const header_list& headers() const noexcept { return headers_; }
    std::string_view header_value(std::string_view name) const noexcept;

    /// Adds `Set-Cookie: name=value; ...`, as Starlette's `set_cookie` (see cookie_options).
    /// @code
    /// r.set_cookie("sid", token, {.max_age = 3600, .secure = true, .httponly = true});
    /// @endcode
    response& set_cookie(std::string_view name, std::string_view value,
                         const cookie_options& options = {}) & {
        return header("Set-Cookie", format_set_cookie(name, value, options));
    }
    response&& set_cookie(std::string_view name, std::string_view value,
                          const cookie_options& options = {}) && {
        return std::move(set_cookie(name, value, options));
    }
    /// Asks the browser to drop `name`; path, domain, secure and samesite must match the ones
    /// it was set with.
    response& delete_cookie(std::string_view name, const cookie_options& options = {}) & {
        return header("Set-Cookie", format_delete_cookie(name, options));
    }
    response&& delete_cookie(std::string_view name, const cookie_options& options = {}) && {
        return std::move(delete_cookie(name, options));
    }

    /// Runs `task` after the whole response has been written (Starlette's BackgroundTask); tasks
    /// run in the order added, on the connection, before its next request is read. An exception
    /// from a task is logged and does not affect the response or the other tasks.
    /// @code
    /// co_return aster::plain_text("queued").background([id] { return send_mail(id); });
    /// @endcode
    response& background(background_task task) & {
        background_.push_back(std::move(task));
        return *this;
    }
    response&& background(background_task task) && {
        return std::move(background(std::move(task)));
    }
    const std::vector<background_task>& background_tasks() const noexcept { return background_; }
    std::vector<background_task> take_background_tasks() noexcept { return std::move(background_); }

    bool is_streaming() const noexcept { return static_cast<bool>(producer_); }
    const producer& body_producer() const noexcept { return producer_; }
    /// A streaming body of known size goes out with Content-Length instead of chunked; the
    /// producer must write exactly that many bytes: a write past it is not sent, and a body
    /// short of it or too long closes the connection. set_producer() clears it, so a
    /// middleware that wraps a producer (compressing, say) never inherits a length that is
    /// not the length of what it writes.
    std::optional<std::uint64_t> stream_length() const noexcept { return stream_length_; }
    response& set_stream_length(std::optional<std::uint64_t> n) & noexcept {
        return stream_length_ = n, *this;
    }

    /// Conditional GET (RFC 9110 §13): when set, the server answers a GET or HEAD whose
    /// If-None-Match matches this response's ETag (or, without If-None-Match, whose
    /// If-Modified-Since is not older than its Last-Modified) with 304 and no body. It is
    /// decided after every middleware ran, against the representation that would be sent (a
    /// compressed one has its own ETag). file_response sets it.
    bool is_conditional() const noexcept { return conditional_; }
    response& conditional(bool on = true) & noexcept { return conditional_ = on, *this; }
    response&& conditional(bool on = true) && noexcept { return std::move(conditional(on)); }

    // Used by the factories: a content type that is a string literal costs no allocation.
    static response with_static_type(aster::status code, std::string body, std::string_view type) {
        response r(code, std::move(body));
        r.static_type_ = type;
        return r;
    }
    /// Makes the body a stream written by `p`; clears stream_length().
    response& set_producer(producer p) & {
        producer_ = std::move(p);
        stream_length_.reset();
        return *this;
    }

private:
    static void check_header(std::string_view name, std::string_view value) {
        if (!valid_field_name(name) || !valid_field_value(value))
            throw std::invalid_argument(
                "aster::response: header '" + std::string(name) +
                "' has an invalid name or a control character in its value");
    }

    aster::status status_ = aster::status::ok;
    std::string body_;
    std::string_view static_type_;
    std::string owned_type_;
    header_list headers_;
    producer producer_;
    std::vector<background_task> background_;
    std::optional<std::uint64_t> stream_length_;
    bool conditional_ = false;
};

/// `text/plain; charset=utf-8`
inline response plain_text(std::string body, status code = status::ok) {
    return response::with_static_type(code, std::move(body), "text/plain; charset=utf-8");
}

/// `text/html; charset=utf-8`
inline response html(std::string body, status code = status::ok) {
    return response::with_static_type(code, std::move(body), "text/html; charset=utf-8");
}

/// An empty response with a Location header; 307 keeps the method, as Starlette's default.
inline response redirect(std::string location, status code = status::temporary_redirect) {
    response r(code);
    r.header("Location", std::move(location));
    return r;
}

/// A chunked response whose body `producer` writes piece by piece while the client reads.
/// @code
/// co_return aster::streaming([](aster::body_writer& out) -> aster::task<> {
///     for (int i = 0; i < 3; ++i) co_await out.write(std::to_string(i) + "\n");
/// });
/// @endcode
inline response streaming(response::producer producer,
                          std::string content_type = "text/plain; charset=utf-8",
                          status code = status::ok) {
    response r(code, {}, std::move(content_type));
    r.set_producer(std::move(producer));
    return r;
}

/// `application/json`: `value.dump()` of any JSON value with a `dump()` (nlohmann::json), compact
/// and UTF-8 as Starlette's JSONResponse; invalid UTF-8 in a string throws (500).
/// @code
/// co_return aster::json_response(nlohmann::json{{"id", 7}}, aster::status::created);
/// @endcode
template <class Json>
requires requires(const Json& j) {
    { j.dump() } -> std::convertible_to<std::string>;
}
response json_response(const Json& value, status code = status::ok) {
    return response::with_static_type(code, value.dump(), "application/json");
}

} // namespace aster

#include <aster/impl/response.hpp>

#endif // ASTER_RESPONSE_HPP
