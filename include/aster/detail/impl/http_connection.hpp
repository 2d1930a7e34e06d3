// SPDX-License-Identifier: MIT
// Template bodies of http_connection.
#ifndef ASTER_DETAIL_IMPL_HTTP_CONNECTION_HPP
#define ASTER_DETAIL_IMPL_HTTP_CONNECTION_HPP

#include <chrono>
#include <cstdio>
#include <system_error>

namespace aster::detail {

// Bodies above this go out as their own buffer in a gather write instead of being copied.
inline constexpr std::size_t copy_body_limit = 16 * 1024;
// Pipelined responses are held for one write, but not beyond this many bytes.
inline constexpr std::size_t max_pending_output = 64 * 1024;

template <async_stream Stream>
typename http_connection<Stream>::space http_connection<Stream>::ensure_space() {
    const std::size_t end = in_.end();
    if constexpr (waitable_stream<Stream>)
        if (end == 0) return space::ok; // read_into takes a block when bytes arrive
    // A body of known length gets all its room at once: the memory budget refuses it before
    // any of it is read, and a large one is not copied at every doubling.
    std::size_t needed = end + 1;
    if (parser_.headers_complete())
        if (auto rest = parser_.body_remaining())
            needed = std::max(needed, end + std::size_t(*rest));
    if (needed <= in_.capacity()) return space::ok;
    // The buffer holds one request (headers and body) plus whatever was pipelined after it.
    std::size_t cap = options_.limits.max_header_bytes + options_.limits.max_body_bytes + 64 * 1024;
    if (in_.capacity() >= cap) return space::too_large;
    std::size_t wanted = std::max(needed,
                                  in_.capacity() == 0 ? pooled_block_size : in_.capacity() * 2);
    return in_.grow(std::min(wanted, cap)) ? space::ok : space::busy;
}

template <async_stream Stream>
void http_connection<Stream>::begin_shutdown() {
    shutting_down_ = true;
    if (idle_) cancel_stream(stream_); // nothing in flight: close now
}

template <async_stream Stream>
task<> http_connection<Stream>::run() {
    request_access::set_client(request_, &client_);
    request_access::set_secure(request_, options_.secure);
    request_access::set_routes(request_, app_.routes);
    request_access::set_state(request_, app_.state, app_.state_type);
    request_access::set_metrics(request_, options_.all_metrics);
    request_access::set_topics(request_, options_.topics);
    parser_.pause_before_bodies(app_.streams_body != nullptr);
    const auto& limits = options_.limits;
    bool answered_one = false, head_clock_running = false;
    for (;;) {
        while (in_.has_unparsed()) {
            char* base = in_.chars();
            auto result = parser_.feed(base + in_.begin(), base + in_.parsed(),
                                       in_.end() - in_.parsed());
            in_.took(result.consumed);
            if (result.outcome == request_parser::state::need_more) break;
            if (result.outcome == request_parser::state::failed) {
                append_error(parser_.error_status(), parser_.error_reason());
                co_await flush();
                co_return;
            }
            if (result.outcome == request_parser::state::head_complete) {
                // The body is still arriving, or large: a coroutine route reads it as it comes;
                // a plain handler's is gathered first, as any other.
                if (!start_streaming()) {
                    parser_.read_body(false);
                    continue;
                }
                deadline_.clear();
                answered_one = true;
                head_clock_running = false;
                if (!co_await flush()) co_return; // earlier pipelined answers go first
                route_request();
                if (!co_await respond()) {
                    co_await flush();
                    co_return;
                }
                parser_.next();
                in_.done();
                continue;
            }
            parser_.fill(request_, base + in_.begin());
            deadline_.clear();
            answered_one = true;
            head_clock_running = false;
            if (parser_.websocket_upgrade()) {
                if (!co_await upgrade(in_.parsed_bytes(), in_.unparsed_bytes())) {
                    co_await flush();
                    co_return;
                }
                parser_.next();
                in_.done();
                continue;
            }
            bool keep_alive = false;
            if (!respond_now(keep_alive)) keep_alive = co_await respond();
            else if (out_.size() > max_pending_output && !co_await flush()) co_return;
            if (!keep_alive) {
                co_await flush();
                co_return;
            }
            parser_.next();
            in_.done();
        }
        // RFC 9110 §10.1.1: invite the body only once the headers were accepted.
        if (parser_.take_continue()) out_.append("HTTP/1.1 100 Continue\r\n\r\n");
        // Everything this read brought in has been answered: one write for all of it.
        if (!co_await flush()) co_return;
        in_.compact();
        if (auto room = ensure_space(); room != space::ok) {
            if (room == space::busy) // the server's memory budget, not this request, is full
                append_error(status::service_unavailable, "Service Unavailable");
            else
                append_error(parser_.headers_complete() ? status::request_entity_too_large
                                                        : status::request_header_fields_too_large,
                             "Request Too Large");
            co_await flush();
            co_return;
        }
        const bool idle = in_.holds_nothing() && answered_one;
        // Nothing of a request has arrived (a keep-alive wait, or a fresh connection that has
        // sent nothing yet): a graceful stop may close it at once.
        if (in_.holds_nothing() && shutting_down_) co_return;
        idle_ = in_.holds_nothing();
        if (idle) {
            deadline_.expires_after(limits.keep_alive_timeout);
        } else if (!parser_.headers_complete() || in_.holds_nothing()) {
            if (!head_clock_running) deadline_.expires_after(limits.header_timeout);
            head_clock_running = true;
        } else {
            deadline_.expires_after(limits.body_timeout); // silence between body reads
            receiving_ = true;                            // and its pace (watch)
        }
        // A deadline that fired while a read's completion was queued cancelled no read: read
        // no more, or the next read would wait with no deadline at all (a slowloris's byte).
        std::tuple<std::error_code, std::size_t> got{net::error::timed_out, 0};
        if (!deadline_.expired() && !too_slow_)
            got = co_await read_into(stream_, in_.buffer(), in_.end(), scratch_);
        auto [ec, n] = got;
        idle_ = receiving_ = false;
        received_.add(n);
        if (ec) {
            // A client too slow to finish its request hears why; an idle one is just closed.
            if ((deadline_.expired() || too_slow_) && !idle) {
                append_error(status::request_timeout, "Request Timeout");
                co_await flush();
            }
            co_return;
        }
        in_.arrived(n);
    }
}

template <async_stream Stream>
bool http_connection<Stream>::may_keep_alive() const noexcept {
    return parser_.keep_alive() && !shutting_down_ && !body_closes_ &&
           !iequals(response_.header_value("connection"), "close");
}

// Starts the access log's clock and routes: a plain handler answers into response_ now, a
// coroutine route is left in pending_route_ for respond().
template <async_stream Stream>
void http_connection<Stream>::route_request() {
    logging_ = (options_.access_log || logger().access_log) && log_enabled(log_level::info);
    started_ = logging_ || options_.metrics ? std::chrono::steady_clock::now()
                                            : std::chrono::steady_clock::time_point{};
    try {
        pending_route_ = app_.route_now(app_.app, request_, response_);
    } catch (...) {
        response_ = failure(std::current_exception());
        pending_route_ = app_ref::none;
    }
    if (pending_route_ == app_ref::none) apply_preconditions(request_, response_);
}

// Every exception a handler throws becomes a response here, whichever path ran it.
template <async_stream Stream>
response http_connection<Stream>::failure(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const http_exception& e) {
        response res = plain_text(std::string(e.detail()), e.status());
        for (const auto& [name, value] : e.headers()) res.header(name, value);
        return res;
    } catch (const client_disconnect&) {
        // Nobody is left to read an answer; the connection closes (see finish_body).
        return plain_text("Client Closed Request", status::bad_request);
    } catch (const std::exception& e) {
        log_limited(log_level::error, "handler exception",
                    std::string("exception in handler for ") + std::string(request_.method()) +
                        " " + std::string(request_.target()) + ": " + e.what());
    } catch (...) {
        log_limited(log_level::error, "handler exception",
                    std::string("unknown exception in handler for ") +
                        std::string(request_.method()) + " " + std::string(request_.target()));
    }
    if (options_.exception_sink) *options_.exception_sink = error;
    return plain_text("Internal Server Error", status::internal_server_error);
}

// Routing and plain-function handlers run without a coroutine; only a coroutine handler, a
// streaming response or a large body needs respond(). Returns true when the answer is queued.
template <async_stream Stream>
bool http_connection<Stream>::respond_now(bool& keep_alive) {
    route_request();
    if (pending_route_ != app_ref::none) return false;
    if (response_.is_streaming() || response_.body().size() > copy_body_limit ||
        !response_.background_tasks().empty())
        return false;
    keep_alive = queue_response(false);
    return true;
}

template <async_stream Stream>
bool http_connection<Stream>::queue_response(bool body_written_separately) {
    bool keep_alive = may_keep_alive();
    const bool http10 = request_.version_major() == 1 && request_.version_minor() == 0;
    const auto conn = !keep_alive ? connection_header::close
                      : http10    ? connection_header::keep_alive
                                  : connection_header::none;
    if (logging_) log_access(response_, started_);
    note_response(response_);
    const std::string& body = response_.body();
    const bool with_body = status_allows_body(response_.status());
    append_head(out_, response_, framing::length, with_body ? body.size() : 0, conn);
    if (with_body && !body_written_separately && request_.method_id() != method::head)
        out_.append(body);
    return keep_alive;
}

template <async_stream Stream>
task<bool> http_connection<Stream>::respond() {
    if (pending_route_ != app_ref::none) {
        try {
            response_ = co_await app_.invoke(app_.app, pending_route_, request_);
        } catch (...) {
            response_ = failure(std::current_exception());
        }
        apply_preconditions(request_, response_);
    }
    if (body_phase_ != body_phase::none) co_await finish_body();
    const bool head = request_.method_id() == method::head;
    auto tasks = response_.take_background_tasks();
    bool keep_alive = false;
    if (response_.is_streaming()) {
        keep_alive = may_keep_alive();
        if (logging_) log_access(response_, started_);
        keep_alive = co_await write_streaming(response_, head, keep_alive);
        note_response(response_);
        record_written();
    } else {
        const std::string& body = response_.body();
        const bool separate = body.size() > copy_body_limit && !head &&
                              status_allows_body(response_.status());
        keep_alive = queue_response(separate);
        if (separate) {
            std::array<net::const_buffer, 2> parts{net::buffer(out_), net::buffer(body)};
            auto ec = co_await write_counted(parts, out_.size() + body.size());
            out_.clear();
            if (ec) keep_alive = false;
            else record_written();
        }
        if (out_.size() > max_pending_output || !tasks.empty())
            if (!co_await flush()) keep_alive = false;
    }
    if (!tasks.empty()) co_await run_background(tasks);
    co_return keep_alive;
}

template <async_stream Stream>
void http_connection<Stream>::append_response(const response& res, bool keep_alive) {
    append_head(out_, res, framing::length, res.body().size(),
                keep_alive ? connection_header::none : connection_header::close);
    out_.append(res.body());
}

// A request with `Upgrade: websocket`. Refusals are ordinary HTTP responses on a connection
// that stays usable; an accepted handshake hands the connection to the WebSocket for good.
template <async_stream Stream>
task<bool> http_connection<Stream>::upgrade(std::string_view head, std::string_view already_read) {
    bool keep_alive = parser_.keep_alive();
    // Middleware sees the handshake before routing, as Starlette's pure ASGI middleware does.
    if (app_.check_websocket) {
        response refusal;
        bool refused = false;
        try {
            refused = app_.check_websocket(app_.app, request_, refusal);
        } catch (...) {
            refusal = failure(std::current_exception());
            refused = true;
        }
        if (refused) {
            append_response(refusal, keep_alive);
            co_return keep_alive;
        }
    }
    std::size_t index = app_.match_websocket(app_.app, request_);
    if (index == app_ref::none) {
        // No WebSocket route has this path (an HTTP route may): 404, as for HTTP.
        append_response(plain_text("Not Found", status::not_found), keep_alive);
        co_return keep_alive;
    }
    if (auto refusal = check_websocket_handshake(request_)) {
        append_response(*refusal, keep_alive);
        co_return keep_alive;
    }
    if (!co_await flush()) co_return false; // earlier pipelined answers go first
    if (shutting_down_) {
        append_response(plain_text("Service Unavailable", status::service_unavailable), false);
        co_return false;
    }
    // The WebSocket may live for hours: it keeps just the request head (ws.request() views
    // it); the owner frees everything else of HTTP before running it.
    upgraded_ = std::make_unique<upgraded_websocket<Stream>>(stream_, options_, app_, parser_, head,
                                                             already_read, std::move(client_),
                                                             counters_);
    in_.release();
    co_return false;
}

template <async_stream Stream>
task<bool> http_connection<Stream>::flush() {
    if (out_.empty()) co_return true;
    auto ec = co_await write_counted(net::buffer(out_), out_.size());
    out_.clear();
    if (!ec) record_written();
    co_return !ec;
}

template <async_stream Stream>
void http_connection<Stream>::append_error(status code, std::string_view text) {
    if (log_enabled(log_level::info))
        log_limited(log_level::info, "refused request",
                    client_.host + ":" + std::to_string(client_.port) + " - refused " +
                        std::to_string(std::uint16_t(code)) + " " + std::string(text));
    auto res = plain_text(std::string(text), code);
    append_head(out_, res, framing::length, text.size(), connection_header::close);
    if (!parser_.head_request()) out_.append(text); // RFC 9110 §9.3.2: never a body for HEAD
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_HTTP_CONNECTION_HPP
