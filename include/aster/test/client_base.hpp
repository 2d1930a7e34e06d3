// SPDX-License-Identifier: MIT
// What test_client and its WebSocket sessions share: the io_context, options, in-memory
// connections.
#ifndef ASTER_TEST_CLIENT_BASE_HPP
#define ASTER_TEST_CLIENT_BASE_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/response_parser.hpp>
#include <aster/detail/topic_hub.hpp>
#include <aster/cookies.hpp>
#include <aster/headers.hpp>
#include <aster/options.hpp>
#include <aster/redis.hpp>
#include <aster/status.hpp>
#include <aster/test/stream.hpp>
#include <aster/topics.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

class websocket_session;

/// A response as the test sees it: status, headers in order, body.
struct test_response {
    int status_code = 0;
    header_list headers;
    std::string body;

    aster::status status() const noexcept { return aster::status(status_code); }
    const std::string& text() const noexcept { return body; }
    /// The first value of header `name` (any case), or nullopt.
    std::optional<std::string> header(std::string_view name) const {
        for (const auto& [n, v] : headers)
            if (iequals(n, name)) return v;
        return std::nullopt;
    }
    std::vector<std::string> header_values(std::string_view name) const {
        std::vector<std::string> out;
        for (const auto& [n, v] : headers)
            if (iequals(n, name)) out.push_back(v);
        return out;
    }
};

/// Settings of a test_client.
struct test_client_options {
    bool raise_server_exceptions = true;     // rethrow a handler's exception in the test
    bool follow_redirects = true;            // as Starlette's TestClient
    std::chrono::milliseconds timeout{5000}; // every wait fails after this, never hangs
    std::size_t read_size = 0;               // bytes per server read; 0 = all available
    http_limits limits{};                    // the server's limits
    websocket_options websocket{};           // the server's WebSocket limits
    std::string host = "testserver";
    // Every request as if it came over TLS: request::scheme() is "https" ("wss" for
    // WebSockets), as Starlette's TestClient with base_url="https://testserver". An absolute
    // URL (`client.get("https://testserver/x")`, `"ws://..."`) chooses per request.
    bool https = false;
    // Fail at once, instead of at the timeout, when the server waits for request bytes the
    // test never sends. Turn off to test the server's own timeouts (408).
    bool detect_stalls = true;
    // Set: the client's topics are shared through Redis, as a server's with
    // server_config::broker (needs ASTER_HAS_REDIS; without it the client throws
    // std::invalid_argument). The link runs on the client's io_context, so only while the test
    // waits: sync_broker() waits for it. Two clients given the same Redis stand for two
    // processes.
    std::optional<redis_broker> broker{};
};

/// Thrown when the app does not answer within the client's timeout, or cannot answer at all.
class test_timeout : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

namespace detail {

/// One in-memory connection: the client's end, the server's end, and bytes not parsed yet.
struct test_connection {
    std::shared_ptr<test::stream> client, server;
    std::shared_ptr<bool> server_done;
    std::string leftover;
    bool secure = false; // the server side sees a TLS connection (https, wss)

    bool open() const noexcept { return client && !client->peer_closed(); }
};

class test_client_base {
public:
    test_client_base(const test_client_base&) = delete;
    test_client_base& operator=(const test_client_base&) = delete;

    /// Cookies kept from Set-Cookie headers, sent with every later request.
    const std::map<std::string, std::string>& cookies() const noexcept { return cookies_; }
    void set_cookie(std::string name, std::string value) {
        cookies_[std::move(name)] = std::move(value);
    }
    test_client_options& settings() noexcept { return options_; }
    net::io_context& context() noexcept { return ctx_; }

    /// Publishes to the app's subscribers of `topic` in this client (each client has topics of
    /// its own). Delivered when the client next runs, as when a session receives.
    void publish(std::string_view topic, std::string_view message,
                 const publish_options& options = {}) {
        topics_.publish_anywhere(topic, message, options);
    }
    /// The client's topics, as a value to keep.
    aster::topics topics() noexcept { return aster::topics(&topics_); }
    /// With test_client_options::broker: runs the client until Redis has answered a round trip
    /// behind everything the client asked of it so far (the app runs first until it waits).
    /// Then every topic with a subscriber here is subscribed in Redis, every publish made here
    /// has reached Redis (and so every client subscribed by then), and what Redis sent here
    /// before has been read. Call it after subscribing and after publishing, before another
    /// client waits for the messages. Throws test_timeout after `timeout` (Redis away),
    /// std::logic_error without a broker.
    void sync_broker();

protected:
    friend class aster::websocket_session;
    using clock = std::chrono::steady_clock;

    explicit test_client_base(test_client_options options)
        : options_(std::move(options)), topic_loop_(&topics_.add_loop(ctx_.get_executor())) {}
    virtual ~test_client_base() = default;

    // Stops the broker, runs the loop until it has wound down (bounded by `timeout`) and
    // destroys it: its sockets and timers belong to ctx_, and sessions still to go would tell
    // it of topics they leave. The owner calls it before ctx_ and topics_ go.
    void stop_broker() noexcept;
    virtual void spawn_server(test_connection& c) = 0;
    void open_connection(test_connection& c);
    void close_connection(test_connection& c);
    // Runs the io_context until bytes arrive on `c` or its server closes; throws test_timeout
    // at the deadline, or at once when `fail_when_stuck` and the server waits for bytes itself.
    void wait_for_bytes(test_connection& c, clock::time_point deadline, std::string_view what,
                        bool fail_when_stuck);
    std::optional<response_parser::message>
    read_response(test_connection& c, response_parser& parser, std::string_view what);
    void rethrow_server_exception();
    void keep_cookies(const test_response& r);
    std::string cookie_header(const std::vector<std::pair<std::string, std::string>>& extra) const;
    static test_response to_response(response_parser::message&& m);
    std::array<std::uint8_t, 4> next_mask() noexcept;

    test_client_options options_;
    // Before ctx_: sessions leave their topics as ctx_ destroys them.
    detail::topic_hub topics_;
    net::io_context ctx_;
    detail::topic_registry* topic_loop_;
    std::exception_ptr server_exception_;
    std::map<std::string, std::string> cookies_;
    std::uint32_t mask_state_ = 0x9E3779B9u;
    // A lifespan hook ran out of time: its frame refers to what is gone, so ctx_ must not run
    // again.
    bool abandoned_ = false;
};

inline void test_client_base::sync_broker() {
    detail::topic_broker* broker = topics_.broker();
    if (!broker)
        throw std::logic_error("aster::test_client::sync_broker: the client has no broker "
                               "(test_client_options::broker)");
    // First what is ready runs: a handler just accepted subscribes, a message just sent is
    // published, and the round trip goes behind them.
    if (ctx_.stopped()) ctx_.restart();
    ctx_.poll();
    const std::uint64_t ticket = broker->sync();
    const auto deadline = clock::now() + options_.timeout;
    while (!broker->synced(ticket)) {
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.run_one_until(deadline) == 0 && (clock::now() >= deadline || ctx_.stopped())) {
            const auto where = redis_address::parse(options_.broker->url); // not the password
            throw test_timeout("aster::test_client::sync_broker: no answer from Redis at " +
                               where.host + ":" + std::to_string(where.port) + " within " +
                               std::to_string(options_.timeout.count()) + " ms" +
                               (broker->connected() ? "" : " (not connected)"));
        }
    }
    // What the round trip brought in is handed to the sessions now.
    if (ctx_.stopped()) ctx_.restart();
    ctx_.poll();
}

inline void test_client_base::stop_broker() noexcept {
    detail::topic_broker* broker = topics_.broker();
    if (!broker) return;
    broker->stop();
    const auto deadline = clock::now() + options_.timeout;
    try {
        while (!abandoned_ && !broker->stopped()) {
            if (ctx_.stopped()) ctx_.restart();
            if (ctx_.run_one_until(deadline) == 0 && (clock::now() >= deadline || ctx_.stopped()))
                break;
        }
    } catch (...) {
        // A handler's exception while winding down: the destructor goes on.
    }
    // Destroyed even when it did not wind down in time: ctx_ never runs again, and its
    // frames left on ctx_ go with it unresumed.
    topics_.detach_broker();
}

inline void test_client_base::open_connection(test_connection& c) {
    close_connection(c);
    c.server = std::make_shared<test::stream>(ctx_);
    c.client = std::make_shared<test::stream>(ctx_);
    c.client->connect(*c.server);
    if (options_.read_size != 0) c.server->read_size(options_.read_size);
    c.server_done = std::make_shared<bool>(false);
    c.leftover.clear();
    spawn_server(c);
}

inline void test_client_base::close_connection(test_connection& c) {
    if (!c.client) return;
    c.client->close();
    // Let the server's coroutine see EOF and finish, so no frame outlives the client.
    const auto deadline = clock::now() + options_.timeout;
    while (c.server_done && !*c.server_done) {
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.run_one_until(deadline) == 0) break; // finished, or out of time
    }
    c.client.reset();
    c.server.reset();
    c.leftover.clear();
}

inline void test_client_base::wait_for_bytes(test_connection& c, clock::time_point deadline,
                                             std::string_view what, bool fail_when_stuck) {
    for (;;) {
        if (!c.client->pending().empty()) {
            c.leftover += c.client->take();
            return;
        }
        if (c.client->peer_closed()) return;
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.poll() > 0) continue;
        // Nothing is ready. If the server is blocked reading, only more bytes from the test
        // could move it, and none will come: fail now rather than at the deadline.
        if (fail_when_stuck && options_.detect_stalls && c.server && c.server->waiting_to_read())
            throw test_timeout("aster::test_client: " + std::string(what) +
                               ": the app is waiting for more request bytes that will never "
                               "come (the request sent is incomplete)");
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.run_one_until(deadline) == 0 && clock::now() >= deadline)
            throw test_timeout("aster::test_client: no answer to " + std::string(what) +
                               " within " + std::to_string(options_.timeout.count()) + " ms");
    }
}

inline std::optional<response_parser::message>
test_client_base::read_response(test_connection& c, response_parser& parser,
                                std::string_view what) {
    const auto deadline = clock::now() + options_.timeout;
    for (;;) {
        if (!c.leftover.empty()) {
            std::size_t used = parser.feed(c.leftover);
            c.leftover.erase(0, used);
            if (parser.done()) return parser.take();
        }
        if (c.client->peer_closed() && c.client->pending().empty()) {
            parser.finish();
            if (parser.done()) return parser.take();
            return std::nullopt;
        }
        wait_for_bytes(c, deadline, what, true);
    }
}

inline void test_client_base::rethrow_server_exception() {
    if (!server_exception_) return;
    auto e = std::exchange(server_exception_, nullptr);
    if (options_.raise_server_exceptions) std::rethrow_exception(e);
}

inline test_response test_client_base::to_response(response_parser::message&& m) {
    test_response r;
    r.status_code = m.status;
    r.headers = std::move(m.headers);
    r.body = std::move(m.body);
    return r;
}

inline void test_client_base::keep_cookies(const test_response& r) {
    for (const auto& value : r.header_values("set-cookie")) {
        auto c = parse_set_cookie(value);
        if (!c) continue;
        if (c->expired) cookies_.erase(c->name);
        else cookies_[c->name] = c->value;
    }
}

inline std::string test_client_base::cookie_header(
    const std::vector<std::pair<std::string, std::string>>& extra) const {
    std::string line;
    auto add = [&](std::string_view k, std::string_view v) {
        if (!line.empty()) line += "; ";
        line.append(k).append("=").append(v);
    };
    for (const auto& [k, v] : cookies_) add(k, v);
    for (const auto& [k, v] : extra) add(k, v);
    return line;
}

inline std::array<std::uint8_t, 4> test_client_base::next_mask() noexcept {
    // xorshift32: masks differ frame to frame, and runs are reproducible.
    mask_state_ ^= mask_state_ << 13;
    mask_state_ ^= mask_state_ >> 17;
    mask_state_ ^= mask_state_ << 5;
    return {std::uint8_t(mask_state_), std::uint8_t(mask_state_ >> 8),
            std::uint8_t(mask_state_ >> 16), std::uint8_t(mask_state_ >> 24)};
}

} // namespace detail
} // namespace aster

#endif // ASTER_TEST_CLIENT_BASE_HPP
