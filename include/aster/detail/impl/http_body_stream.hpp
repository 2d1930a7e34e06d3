// SPDX-License-Identifier: MIT
// http_connection's streamed request bodies: set up at the head, read as the handler asks, drained.
#ifndef ASTER_DETAIL_IMPL_HTTP_BODY_STREAM_HPP
#define ASTER_DETAIL_IMPL_HTTP_BODY_STREAM_HPP

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace aster::detail {

// A streamed body its handler left unread is read and dropped up to this many bytes (within
// body_timeout), so the connection can carry the next request; a longer rest closes it, since
// reading megabytes nobody wants costs more than a new connection.
inline constexpr std::size_t drain_limit = 256 * 1024;
// Room kept behind a streamed request's head beyond max_header_bytes (which bounds a trailer
// line): a chunk-size line must fit in it, with space left to read into.
inline constexpr std::size_t stream_room = 4 * 1024;

// At a head whose body is still arriving (or is large): when the request goes to a coroutine
// route, gets the body ready to stream to it and returns true.
template <async_stream Stream>
bool http_connection<Stream>::start_streaming() {
    if (!app_.streams_body) return false;
    parser_.fill(request_, in_.chars() + in_.begin());
    try {
        if (!app_.streams_body(app_.app, request_)) return false;
    } catch (...) {
        return false; // routing throws again when it runs, and is answered then
    }
    // The head goes to the front of the buffer with room behind it, and stays put while the
    // handler runs (the request views it); the body passes through the room a read at a time.
    in_.compact();
    const std::size_t wanted = in_.parsed() + options_.limits.max_header_bytes + stream_room;
    // Beyond the memory budget (a huge max_header_bytes): gathered instead, and refused then.
    if (!in_.grow(std::max(wanted, large_block_size))) return false;
    parser_.fill(request_, in_.chars());
    body_start_ = in_.parsed();
    // RFC 9110 §10.1.1: a client that asked waits for 100 Continue, sent when the handler
    // first reads; not when some of the body came anyway.
    continue_due_ = parser_.take_continue() && !in_.has_unparsed();
    piece_out_ = body_closes_ = false;
    body_phase_ = body_phase::streaming;
    request_access::set_stream(request_, this, &parser_.body_storage());
    parser_.read_body(true);
    return true;
}

// request::read_some of a streamed body: the next piece, as a view into the read buffer.
template <async_stream Stream>
task<std::string_view> http_connection<Stream>::read_some() {
    if (body_phase_ == body_phase::ended) co_return std::string_view();
    if (body_phase_ == body_phase::failed) std::rethrow_exception(body_error_);
    if (body_phase_ == body_phase::none)
        throw std::logic_error("aster::request::read_some(): the handler has returned; the rest "
                               "of its body was dropped");
    if (continue_due_) {
        continue_due_ = false;
        out_.append("HTTP/1.1 100 Continue\r\n\r\n");
        if (!co_await flush()) {
            body_phase_ = body_phase::failed;
            body_error_ = std::make_exception_ptr(
                client_disconnect("aster: the client went away before sending the body"));
            std::rethrow_exception(body_error_);
        }
    }
    std::string_view piece;
    std::size_t unlimited = static_cast<std::size_t>(-1);
    const pull got = co_await pull_body(piece, unlimited, clock::time_point::max());
    if (got == pull::piece) co_return piece;
    if (got == pull::end) {
        body_phase_ = body_phase::ended;
        co_return std::string_view();
    }
    body_phase_ = body_phase::failed;
    if (got == pull::failed)
        body_error_ = std::make_exception_ptr(
            http_exception(parser_.error_status(), std::string(parser_.error_reason())));
    else if (got == pull::too_long)
        body_error_ = std::make_exception_ptr(
            http_exception(status::bad_request, "Bad Request: chunk line too long"));
    else if (got == pull::timed_out)
        body_error_ = std::make_exception_ptr(
            http_exception(status::request_timeout, "Request Timeout"));
    else
        body_error_ = std::make_exception_ptr(
            client_disconnect("aster: the client went away before the end of the request body"));
    std::rethrow_exception(body_error_);
}

// Parses on to the next body piece, reading when every byte is parsed. `budget` is how many
// more bytes it may read (the drain's bound); `until` a deadline for all of them, or max for
// body_timeout per read.
template <async_stream Stream>
task<typename http_connection<Stream>::pull>
http_connection<Stream>::pull_body(std::string_view& piece, std::size_t& budget,
                                   clock::time_point until) {
    for (;;) {
        if (piece_out_) {
            piece_out_ = false;
            parser_.resume();
        }
        char* base = in_.chars();
        auto result = parser_.feed(base, base + in_.parsed(), in_.end() - in_.parsed());
        in_.took(result.consumed);
        if (result.outcome == request_parser::state::body_piece) {
            piece_out_ = true;
            piece = parser_.body_piece();
            co_return pull::piece;
        }
        if (result.outcome == request_parser::state::complete) co_return pull::end;
        if (result.outcome == request_parser::state::failed) co_return pull::failed;
        // Every byte is parsed. Drop the body bytes the parser is done with, so the buffer
        // holds the head and what one read brings, however long the body.
        const std::size_t keep = std::min(in_.parsed(), parser_.keep_from());
        if (keep > body_start_) {
            in_.erase(body_start_, keep);
            parser_.discard(body_start_, keep - body_start_);
        }
        // Full of one chunk line (a flood of extensions or zeros), or past the drain's bound.
        if (in_.end() == in_.capacity() || budget == 0) co_return pull::too_long;
        if (until == clock::time_point::max())
            deadline_.expires_after(options_.limits.body_timeout);
        else deadline_.expires_at(until);
        receiving_ = true;
        auto [ec, n] = co_await read_into(stream_, in_.buffer(), in_.end(), scratch_);
        receiving_ = false;
        deadline_.clear(); // the handler's own time is not the client's
        if (ec) co_return deadline_.expired() || too_slow_ ? pull::timed_out : pull::gone;
        received_.add(n);
        budget -= std::min(budget, n);
        in_.arrived(n);
    }
}

// After the handler of a streamed request. What it left unread is read and dropped when it is
// at most drain_limit and arrives within body_timeout, so the connection can carry the next
// request; otherwise the answer says Connection: close and the connection ends.
template <async_stream Stream>
task<> http_connection<Stream>::finish_body() {
    const body_phase phase = std::exchange(body_phase_, body_phase::none);
    if (phase == body_phase::ended) co_return;
    const bool closing = !may_keep_alive(); // then the rest is not worth reading
    body_closes_ = true;
    // Broken framing cannot be resynchronised. A client still waiting for 100 Continue may
    // send the body after all or not (RFC 9110 §10.1.1): either way, what follows is not
    // known to be a request.
    if (phase == body_phase::failed || continue_due_ || closing) co_return;
    if (auto rest = parser_.body_remaining(); rest && *rest > drain_limit) co_return;
    std::size_t budget = drain_limit;
    const auto until = clock::now() + options_.limits.body_timeout;
    for (;;) {
        std::string_view dropped;
        const pull got = co_await pull_body(dropped, budget, until);
        if (got == pull::piece) continue;
        if (got == pull::end) body_closes_ = false;
        co_return;
    }
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_HTTP_BODY_STREAM_HPP
