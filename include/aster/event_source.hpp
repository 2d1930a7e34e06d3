// SPDX-License-Identifier: MIT
// Server-sent events (HTML Living Standard §9.2) on the streaming response: event_source_response.
#ifndef ASTER_EVENT_SOURCE_HPP
#define ASTER_EVENT_SOURCE_HPP

#include <aster/detail/config.hpp>
#include <aster/response.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace aster {

/// One event. `data` may hold line breaks (CRLF, CR or LF): each line becomes a `data:` field.
struct server_sent_event {
    std::string data = {};
    std::string event = {};                  // empty: the client's default "message"
    std::optional<std::string> id = {};      // set (even empty): `id:` resets Last-Event-ID
    std::optional<std::uint64_t> retry = {}; // reconnection time in milliseconds
};

/// The wire form of `e`, ending with the blank line. Throws std::invalid_argument for a line
/// break in `event` or `id`, or a NUL in `id`, which would corrupt the stream.
inline std::string format_event(const server_sent_event& e) {
    if (e.event.find_first_of("\r\n") != std::string::npos)
        throw std::invalid_argument("aster: server-sent event name must not contain line breaks");
    if (e.id && e.id->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
        throw std::invalid_argument(
            "aster: server-sent event id must not contain line breaks or NUL");
    std::string out;
    if (!e.event.empty()) out.append("event: ").append(e.event).append("\n");
    std::string_view data = e.data;
    while (true) {
        auto brk = data.find_first_of("\r\n");
        out.append("data: ").append(data.substr(0, brk)).append("\n");
        if (brk == std::string_view::npos) break;
        std::size_t skip = data.substr(brk, 2) == "\r\n" ? 2 : 1;
        data = data.substr(brk + skip);
    }
    if (e.id) out.append("id: ").append(*e.id).append("\n");
    if (e.retry) out.append("retry: ").append(std::to_string(*e.retry)).append("\n");
    out.append("\n");
    return out;
}

/// What an event_source_response's producer sends through.
class event_writer {
public:
    explicit event_writer(body_writer& out) noexcept : out_(out) {}
    task<> send(const server_sent_event& e) { co_await out_.write(format_event(e)); }
    /// An event with only `data`.
    task<> send_data(std::string data) {
        server_sent_event e;
        e.data = std::move(data);
        co_await send(e);
    }
    /// `: text` — ignored by clients; a keep-alive through proxies that cut idle streams.
    task<> comment(std::string_view text = {}) {
        std::string line = text.empty() ? ":" : ": ";
        for (char c : text)
            if (c != '\r' && c != '\n') line += c;
        co_await out_.write(line + "\n\n");
    }

private:
    body_writer& out_;
};

namespace detail {
inline task<> run_event_source(const std::function<task<>(event_writer&)>& producer,
                               body_writer& out) {
    event_writer events(out);
    co_await producer(events);
}
} // namespace detail

/// A `text/event-stream` response (Cache-Control: no-cache, X-Accel-Buffering: no) whose
/// producer sends events while the client listens; it ends when the producer returns, and a
/// client that leaves makes the next send throw.
/// @code
/// co_return aster::event_source_response([](aster::event_writer& out) -> aster::task<> {
///     aster::server_sent_event e{.data = "line 1\nline 2", .event = "update", .id = "1"};
///     co_await out.send(e); // named: GCC 12 miscompiles braced temporaries in co_await
/// });
/// @endcode
inline response event_source_response(std::function<task<>(event_writer&)> producer) {
    // A plain lambda handing out a coroutine: the producer lives in the response meanwhile.
    response r =
        streaming([producer = std::move(producer)](
                      body_writer& out) { return detail::run_event_source(producer, out); },
                  "text/event-stream");
    r.header("Cache-Control", "no-cache");
    r.header("X-Accel-Buffering", "no"); // nginx would otherwise hold events back
    return r;
}

} // namespace aster

#endif // ASTER_EVENT_SOURCE_HPP
