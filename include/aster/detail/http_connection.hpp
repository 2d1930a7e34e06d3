// SPDX-License-Identifier: MIT
// The keep-alive loop of one HTTP/1.x connection over any AsyncStream: read, parse, route, write.
#ifndef ASTER_DETAIL_HTTP_CONNECTION_HPP
#define ASTER_DETAIL_HTTP_CONNECTION_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/app_ref.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/async_event.hpp>
#include <aster/detail/http_parser.hpp>
#include <aster/detail/connection_registry.hpp>
#include <aster/detail/http_writer.hpp>
#include <aster/detail/read_buffer.hpp>
#include <aster/detail/read_deadline.hpp>
#include <aster/detail/request_access.hpp>
#include <aster/error.hpp>
#include <aster/log.hpp>
#include <aster/options.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>
#include <aster/detail/ws_session.hpp>

#include <array>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace aster::detail {

/// Per-connection settings the server and the test client pass in.
struct connection_options {
    http_limits limits{};
    websocket_options websocket{};
    // When set, a handler's exception is stored here as well as answered with 500, so
    // test_client can rethrow it in the test (Starlette's raise_server_exceptions).
    std::exception_ptr* exception_sink = nullptr;
    // The server's list of live connections on this loop, for a graceful stop; may be null.
    connection_registry* registry = nullptr;
    // The connection came in over TLS: request::scheme() says "https"/"wss". test_client sets
    // it to simulate TLS.
    bool secure = false;
};

template <class Stream>
class http_connection final : public closable {
public:
    http_connection(Stream& stream, app_ref app, const connection_options& options,
                    client_address client)
        : stream_(stream), app_(app), options_(options), parser_(options_.limits),
          client_(std::move(client)) {
        if (options_.registry) options_.registry->add(*this);
        if constexpr (waitable_stream<Stream>) {
            std::error_code ignored;
            stream_.non_blocking(true, ignored); // read_some reads what is there, else waits
        }
    }
    ~http_connection() {
        if (options_.registry) options_.registry->remove(*this);
    }
    http_connection(const http_connection&) = delete;
    http_connection& operator=(const http_connection&) = delete;

    /// Graceful stop: an idle connection closes now, a busy one after its current response,
    /// a WebSocket with 1001.
    void begin_shutdown() override;
    void abort() noexcept override { close_stream(stream_); }

    /// Serves requests until the peer closes, asks to close, or sends something unparseable.
    task<> run();

private:
    class chunk_writer;

    bool respond_now(bool& keep_alive);
    task<bool> respond();
    bool queue_response(bool body_written_separately);
    response failure(std::exception_ptr error);
    task<bool> upgrade(std::string_view head, std::string_view already_read);
    void append_response(const response& res, bool keep_alive);
    void log_access(const response& res, std::chrono::steady_clock::time_point started);
    task<bool> flush();
    template <class Buffers>
    task<std::error_code> write_counted(const Buffers& buffers, std::size_t size);
    task<bool> write_streaming(response& res, bool head_only, bool keep_alive);
    task<> run_background(std::vector<response::background_task>& tasks);
    void append_error(status code, std::string_view text);
    bool ensure_space(std::size_t start, std::size_t end);

    Stream& stream_;
    app_ref app_;
    connection_options options_;
    request_parser parser_;
    client_address client_;
    request request_;
    response response_;                 // reused: one per connection, not per request
    std::size_t pending_route_ = 0;     // a coroutine route respond() still has to run
    std::chrono::steady_clock::time_point started_{}; // for the access log; zero when off
    read_deadline<Stream> deadline_{stream_};
    read_buffer in_; // released while waiting between requests
    std::array<unsigned char, 256> scratch_; // a typical request head fits: one read
    std::string out_; // responses waiting for the end of this read batch
    loop_counters* counters_ = options_.registry ? &options_.registry->counters : nullptr;
    bool shutting_down_ = false, idle_ = false;
    closable* websocket_ = nullptr; // the session, once upgraded
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
#include <aster/detail/impl/http_connection.hpp>
#endif

#endif // ASTER_DETAIL_HTTP_CONNECTION_HPP
