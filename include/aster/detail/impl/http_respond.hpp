// SPDX-License-Identifier: MIT
// http_connection's answers beyond a plain body: streamed bodies, background tasks, the access
// log and metrics.
#ifndef ASTER_DETAIL_IMPL_HTTP_RESPOND_HPP
#define ASTER_DETAIL_IMPL_HTTP_RESPOND_HPP

#include <charconv>
#include <cstdio>

namespace aster::detail {

template <async_stream Stream>
class http_connection<Stream>::chunk_writer final : public body_writer {
public:
    chunk_writer(http_connection& conn, bool chunked, std::optional<std::uint64_t> length)
        : conn_(conn), chunked_(chunked), length_(length) {}

    task<> write(std::string_view chunk) override {
        if (chunk.empty()) co_return;
        // Bytes past a promised Content-Length would be read as the next response: a producer
        // that writes them is stopped before they leave (and the connection then closes).
        if (length_ && chunk.size() > *length_ - written_)
            throw std::length_error("aster: streaming response: wrote past its Content-Length");
        char size_line[24];
        std::size_t size_len = 0;
        if (chunked_) {
            auto end = std::to_chars(size_line, size_line + 16, chunk.size(), 16).ptr;
            *end++ = '\r';
            *end++ = '\n';
            size_len = std::size_t(end - size_line);
        }
        std::array<net::const_buffer, 3> parts{net::buffer(size_line, size_len), net::buffer(chunk),
                                               net::buffer("\r\n", chunked_ ? 2 : 0)};
        auto ec = co_await conn_.write_counted(parts, size_len + chunk.size() + (chunked_ ? 2 : 0));
        // The producer learns the client is gone from this exception and stops.
        if (ec) {
            client_gone_ = true;
            throw std::system_error(ec, "aster: streaming response: client went away");
        }
        written_ += chunk.size();
    }
    std::uint64_t written() const noexcept { return written_; }
    bool client_gone() const noexcept { return client_gone_; }

private:
    http_connection& conn_;
    bool chunked_;
    std::optional<std::uint64_t> length_;
    std::uint64_t written_ = 0;
    bool client_gone_ = false;
};

// After the response is on the wire (Starlette runs them after the last body message); the next
// request on this connection waits for them, as under uvicorn.
template <async_stream Stream>
task<> http_connection<Stream>::run_background(std::vector<response::background_task>& tasks) {
    for (auto& t : tasks) {
        try {
            co_await t();
        } catch (const std::exception& e) {
            log_limited(log_level::error, "background task",
                        std::string("background task after ") + std::string(request_.method()) +
                            " " + std::string(request_.target()) + " failed: " + e.what());
        } catch (...) {
            log_limited(log_level::error, "background task",
                        std::string("background task after ") + std::string(request_.target()) +
                            " failed");
        }
    }
}

template <async_stream Stream>
void http_connection<Stream>::log_access(const response& res,
                                         std::chrono::steady_clock::time_point started) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
    char duration[32];
    std::snprintf(duration, sizeof duration, "%.1fms", double(micros) / 1000.0);
    std::string line = client_.host + ":" + std::to_string(client_.port) + " - \"" +
                       std::string(request_.method()) + " " + std::string(request_.target()) +
                       " HTTP/" + std::to_string(request_.version_major()) + "." +
                       std::to_string(request_.version_minor()) + "\" " +
                       std::to_string(std::uint16_t(res.status())) + " " +
                       (res.is_streaming() ? std::string("-") : std::to_string(res.body().size())) +
                       " " + duration;
    log(log_level::info, line);
}

template <async_stream Stream>
task<bool> http_connection<Stream>::write_streaming(response& res, bool head_only,
                                                    bool keep_alive) {
    // HTTP/1.0 has no chunked coding: the body ends when the connection does.
    const auto length = res.stream_length();
    const bool chunked = !length &&
                         !(request_.version_major() == 1 && request_.version_minor() == 0);
    if (!chunked && !length) keep_alive = false;
    const bool http10 = request_.version_major() == 1 && request_.version_minor() == 0;
    append_head(out_, res,
                length    ? framing::length
                : chunked ? framing::chunked
                          : framing::until_close,
                length.value_or(0),
                !keep_alive ? connection_header::close
                : http10    ? connection_header::keep_alive
                            : connection_header::none);
    if (!co_await flush()) co_return false;
    if (head_only || !status_allows_body(res.status())) co_return keep_alive;
    chunk_writer writer(*this, chunked, length);
    try {
        co_await res.body_producer()(writer);
        if (length && writer.written() != *length) {
            // The Content-Length promised is wrong: closing is the only way to say so.
            log_limited(log_level::error, "streaming length",
                        "streaming response for " + std::string(request_.target()) + " wrote " +
                            std::to_string(writer.written()) + " bytes, not its Content-Length " +
                            std::to_string(*length));
            co_return false;
        }
    } catch (const std::exception& e) {
        // The head is out; the only honest signal left is to close without the last chunk. A
        // client that left (or stopped reading) is no fault of the server's: debug.
        if (writer.client_gone()) {
            log_limited(log_level::debug, "streaming client gone",
                        "streaming response for " + std::string(request_.target()) +
                            " ended: the client went away");
            co_return false;
        }
        log_limited(log_level::error, "streaming failed",
                    "streaming response for " + std::string(request_.target()) +
                        " failed: " + e.what());
        if (options_.exception_sink) *options_.exception_sink = std::current_exception();
        co_return false;
    }
    if (chunked) out_.append("0\r\n\r\n");
    if (!co_await flush()) co_return false;
    co_return keep_alive;
}

// Metrics (when the app serves metrics_route): an answer is noted when queued...
template <async_stream Stream>
void http_connection<Stream>::note_response(const response& res) {
    if (!options_.metrics) return;
    std::string_view route = request_access::route_label(request_);
    unwritten_.push_back({route.empty() ? unmatched_route : route, request_.method_id(),
                          std::uint16_t(res.status()), started_});
}

// ...and counted once its last byte is written (answers to a pipelined batch go out together).
template <async_stream Stream>
void http_connection<Stream>::record_written() {
    if (unwritten_.empty()) return;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& m : unwritten_)
        options_.metrics->record_request(m.route, m.verb, m.status,
                                         std::chrono::duration<double>(now - m.started).count());
    unwritten_.clear();
}

// Every write of output goes through here, so server_stats::buffered_bytes sees what a slow
// reader holds: one add and one subtract per write, not per response.
template <async_stream Stream>
template <class Buffers>
task<std::error_code> http_connection<Stream>::write_counted(const Buffers& buffers,
                                                             std::size_t size) {
    if (counters_) counters_->buffered_bytes.add(size);
    sending_ = true;
    auto [ec, n] = co_await net::async_write(stream_, buffers, count_progress{&sent_}, use_tuple);
    sending_ = false;
    if (counters_) counters_->buffered_bytes.sub(size);
    co_return ec;
}

// A request refused before any handler saw it: the status, then the connection closes. Worth
// a line (a client or a proxy is broken, or someone probes), at most one a second.

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_HTTP_RESPOND_HPP
