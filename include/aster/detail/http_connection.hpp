// SPDX-License-Identifier: MIT
// The keep-alive loop of one HTTP/1.x connection over any AsyncStream: read, parse, route, write.
#ifndef ASTER_DETAIL_HTTP_CONNECTION_HPP
#define ASTER_DETAIL_HTTP_CONNECTION_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/app_ref.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/conditional.hpp>
#include <aster/detail/http_parser.hpp>
#include <aster/detail/connection_registry.hpp>
#include <aster/detail/http_writer.hpp>
#include <aster/detail/input_window.hpp>
#include <aster/detail/memory_budget.hpp>
#include <aster/detail/metrics_registry.hpp>
#include <aster/detail/read_buffer.hpp>
#include <aster/detail/read_deadline.hpp>
#include <aster/detail/request_access.hpp>
#include <aster/detail/stream.hpp>
#include <aster/detail/topic_hub.hpp> // the registry, and its bodies with the hub
#include <aster/detail/transfer_watch.hpp>
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
#include <optional>
#include <stdexcept>
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
    // The server's budget for large request bodies and WebSocket messages; may be null.
    memory_budget* budget = nullptr;
    // One info line per request and per WebSocket session (server_config::access_log).
    bool access_log = false;
    // When the app serves metrics_route: this loop's counters, and every loop's for a scrape.
    loop_metrics* metrics = nullptr;
    const metrics_registry* all_metrics = nullptr;
    // This loop's topics (websocket::subscribe, publish); may be null.
    topic_registry* topics = nullptr;
};

/// What an upgraded connection keeps for the WebSocket's life: a copy of the request head,
/// the request viewing it, and the session. It outlives the http_connection that made it, so
/// the parser, buffers and response of HTTP are freed while the WebSocket runs.
template <async_stream Stream>
class upgraded_websocket {
public:
    upgraded_websocket(Stream& stream, const connection_options& options, app_ref app,
                       request_parser& parser, std::string_view head, std::string_view already_read,
                       client_address client, loop_counters* counters)
        : head_(new char[head.size()]), client_(std::move(client)), registry_(options.registry) {
        std::memcpy(head_.get(), head.data(), head.size());
        parser.fill(request_, head_.get());
        if (request_.path().data() < head_.get() ||
            request_.path().data() >= head_.get() + head.size()) {
            decoded_path_.assign(request_.path()); // it viewed the parser's decoding
            request_access::set_target(request_, request_.target(), request_.raw_path(),
                                       decoded_path_, request_.query_string());
        }
        static const std::string no_body;
        request_access::set_body(request_, &no_body);
        request_access::set_client(request_, &client_);
        request_access::set_secure(request_, options.secure);
        request_access::set_routes(request_, app.routes);
        request_access::set_state(request_, app.state, app.state_type);
        request_access::set_topics(request_, options.topics);
        route_ = app.match_websocket(app.app, request_); // path parameters view the copy
        session_.emplace(stream, request_, options.websocket, already_read, options.exception_sink,
                         counters, options.budget);
        if (options.access_log || logger().access_log) session_->log_session(&client_);
        if (options.metrics) session_->count_in(options.metrics);
        session_->join_topics(options.topics);
        if (registry_) registry_->add(*session_);
    }
    ~upgraded_websocket() {
        if (registry_ && session_) registry_->remove(*session_);
    }
    upgraded_websocket(const upgraded_websocket&) = delete;
    upgraded_websocket& operator=(const upgraded_websocket&) = delete;

    /// Runs the route's handler; `app` must outlive the task (the caller's frame holds it).
    task<> run(const app_ref& app) { return session_->run(app, route_); }

private:
    std::unique_ptr<char[]> head_;
    std::string decoded_path_;
    client_address client_;
    request request_;
    std::size_t route_ = 0;
    connection_registry* registry_;
    std::optional<ws_session<Stream>> session_;
};

/// One HTTP/1.x connection. Its owner (serve_stream) heap-allocates it, runs it, and when
/// take_websocket() hands over a WebSocket, destroys it before running that one.
/// A body that is all in the buffer (and at most stream_body_threshold) is parsed with its
/// head, as is any body of a plain handler. Otherwise, for a coroutine route, the handler runs
/// once the head is in and reads the body through this connection (the body_source of its
/// request): pieces come straight from the read buffer, which keeps the head and one read's
/// worth of room, so a streamed body costs one block whatever its size.
template <async_stream Stream>
class http_connection final : public closable, private body_source {
public:
    http_connection(Stream& stream, app_ref app, const connection_options& options,
                    client_address client)
        : stream_(stream), app_(app), options_(options), parser_(options_.limits),
          client_(std::move(client)) {
        if (options_.registry) options_.registry->add(*this);
        in_.buffer().count_in(counters_ ? &counters_->input_bytes : nullptr);
        in_.buffer().charge_to(options_.budget);
        make_non_blocking(stream_); // reads take what is there, else wait
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
    /// A body arriving, or a response leaving, slower than the limits' transfer rates: the
    /// read is answered 408, the write abandoned; either way the connection closes.
    void watch(std::chrono::steady_clock::time_point now) noexcept override {
        if (too_slow_) return;
        too_slow_ = received_.too_slow(receiving_, now, options_.limits.min_receive_rate) ||
                    sent_.too_slow(sending_, now, options_.limits.min_send_rate);
        if (too_slow_) cancel_stream(stream_);
    }

    /// Serves requests until the peer closes, asks to close, sends something unparseable, or
    /// upgrades: take_websocket() then holds the WebSocket, to run once this is destroyed.
    task<> run();
    std::unique_ptr<upgraded_websocket<Stream>> take_websocket() noexcept {
        return std::move(upgraded_);
    }

private:
    class chunk_writer;
    enum class body_phase : std::uint8_t { none, streaming, ended, failed };
    // What pull_body got: a piece, the end, or why it cannot go on.
    enum class pull : std::uint8_t { piece, end, failed, too_long, timed_out, gone };
    using clock = std::chrono::steady_clock;

    task<std::string_view> read_some() override;
    bool start_streaming();
    task<pull> pull_body(std::string_view& piece, std::size_t& budget, clock::time_point until);
    task<> finish_body();
    bool may_keep_alive() const noexcept;
    void route_request();
    bool respond_now(bool& keep_alive);
    task<bool> respond();
    bool queue_response(bool body_written_separately);
    response failure(std::exception_ptr error);
    task<bool> upgrade(std::string_view head, std::string_view already_read);
    void append_response(const response& res, bool keep_alive);
    void log_access(const response& res, std::chrono::steady_clock::time_point started);
    void note_response(const response& res);
    void record_written();
    task<bool> flush();
    template <class Buffers>
    task<std::error_code> write_counted(const Buffers& buffers, std::size_t size);
    task<bool> write_streaming(response& res, bool head_only, bool keep_alive);
    task<> run_background(std::vector<response::background_task>& tasks);
    void append_error(status code, std::string_view text);
    enum class space : std::uint8_t { ok, too_large, busy };
    space ensure_space();

    Stream& stream_;
    app_ref app_;
    const connection_options& options_; // the caller's, alive as long as the connection
    request_parser parser_;
    client_address client_;
    request request_;
    response response_;             // reused: one per connection, not per request
    std::size_t pending_route_ = 0; // a coroutine route respond() still has to run
    // When the request's head was in: for the access log and metrics; zero when both are off.
    std::chrono::steady_clock::time_point started_{};
    bool logging_ = false; // this request goes to the access log
    read_deadline<Stream> deadline_{stream_};
    input_window in_; // its buffer released while waiting between requests
    // A body streamed to its handler: where it starts (its head lies before) and how it went.
    std::size_t body_start_ = 0;
    body_phase body_phase_ = body_phase::none;
    bool continue_due_ = false;     // 100 Continue owed when the handler first reads the body
    bool piece_out_ = false;        // the handler holds a piece; the parser resumes when it is done
    bool body_closes_ = false;      // the body left the connection unusable: answer, then close
    std::exception_ptr body_error_; // why the body failed, thrown again if read again
    std::array<unsigned char, 256> scratch_; // a typical request head fits: one read
    std::string out_;                        // responses waiting for the end of this read batch
    loop_counters* counters_ = options_.registry ? &options_.registry->counters : nullptr;
    bool shutting_down_ = false, idle_ = false;
    // The pace of a body being received and of output being written (watch()).
    transfer_watch received_, sent_;
    bool receiving_ = false, sending_ = false, too_slow_ = false;
    // Answers queued but not yet written, for metrics: counted once their last byte is out.
    struct pending_metric {
        std::string_view route;
        method verb;
        std::uint16_t status;
        std::chrono::steady_clock::time_point started;
    };
    std::vector<pending_metric> unwritten_;
    std::unique_ptr<upgraded_websocket<Stream>> upgraded_;
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
#include <aster/detail/impl/http_connection.hpp>
#include <aster/detail/impl/http_respond.hpp>
#include <aster/detail/impl/http_body_stream.hpp>
#endif

#endif // ASTER_DETAIL_HTTP_CONNECTION_HPP
