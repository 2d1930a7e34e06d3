// SPDX-License-Identifier: MIT
// test_client: drives an app's real connection code over an in-memory stream, with no port and no
// thread.
#ifndef ASTER_TEST_CLIENT_HPP
#define ASTER_TEST_CLIENT_HPP

#include <aster/detail/config.hpp>
#include <aster/application.hpp>
#include <aster/detail/app_ref.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/serve_stream.hpp>
#include <aster/detail/response_parser.hpp>
#include <aster/cookies.hpp>
#include <aster/headers.hpp>
#include <aster/log.hpp>
#include <aster/status.hpp>
#include <aster/test/stream.hpp>
#include <aster/test/websocket_session.hpp>
#include <aster/url.hpp>

#include <chrono>
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

/// Per-request extras: `client.post("/items", {.body = "x", .headers = {{"X-Key", "1"}}})`.
struct request_options {
    std::vector<std::pair<std::string, std::string>> params;  // appended to the query string
    header_list headers;                                      // sent after the defaults
    std::vector<std::pair<std::string, std::string>> cookies; // for this request only
    std::string body;
    std::string content_type;             // sets Content-Type when not empty
    bool expect_continue = false;         // send headers, wait for 100 Continue, then the body
    std::optional<bool> follow_redirects; // overrides the client's setting
};

/// Extras for `websocket_connect`.
struct websocket_connect_options {
    std::vector<std::string> subprotocols;                    // offered, in order
    header_list headers;                                      // sent with the handshake
    std::vector<std::pair<std::string, std::string>> cookies; // for this handshake only
    // Sent as Sec-WebSocket-Extensions when set, e.g. "permessage-deflate; client_max_window_bits"
    // (what browsers offer). An agreed permessage-deflate compresses both ways (needs zlib).
    std::string extensions;
};

/// Runs the app's real HTTP and WebSocket code (parser, router, writer, frames) over in-memory
/// streams on the client's own io_context: deterministic, no sockets, no threads. Every wait is
/// bounded by `timeout`, and a handler's exception is rethrown in the test.
/// @code
/// aster::test_client client{app};
/// CHECK(client.get("/hello").text() == "Hello, World!");
/// auto ws = client.websocket_connect("/ws");
/// ws.send_text("Hello!");
/// CHECK(ws.receive_text() == "OK!");
/// @endcode
class test_client : public detail::test_client_base {
public:
    template <class Router, class Middleware>
    explicit test_client(const application<Router, Middleware>& app,
                         test_client_options options = {})
        : test_client(app.ref(), std::move(options)) {}
    /// Drives any route table behind an app_ref; the app must outlive the client.
    /// Runs the app's lifespan startup here, on the client's io_context (its exception
    /// propagates), and the shutdown in the destructor, after the last connection closed.
    /// With options.broker, the Redis link starts after the startup, as a server's does.
    explicit test_client(detail::app_ref app, test_client_options options = {})
        : test_client_base(std::move(options)), app_(app) {
        if (app_.has_metrics) {
            metrics_ = std::make_unique<detail::loop_metrics>();
            all_metrics_.loops.push_back(metrics_.get());
        }
        attach_broker();
        try {
            run_hook(app_.startup, "startup");
        } catch (...) {
            stop_broker(); // no destructor runs: it must go before ctx_ does
            throw;
        }
        if (auto* broker = topics_.broker()) broker->start();
    }
    ~test_client();

    test_response get(std::string_view url, request_options o = {}) {
        return request("GET", url, std::move(o));
    }
    test_response head(std::string_view url, request_options o = {}) {
        return request("HEAD", url, std::move(o));
    }
    test_response post(std::string_view url, request_options o = {}) {
        return request("POST", url, std::move(o));
    }
    test_response put(std::string_view url, request_options o = {}) {
        return request("PUT", url, std::move(o));
    }
    test_response patch(std::string_view url, request_options o = {}) {
        return request("PATCH", url, std::move(o));
    }
    test_response delete_(std::string_view url, request_options o = {}) {
        return request("DELETE", url, std::move(o));
    }
    test_response options(std::string_view url, request_options o = {}) {
        return request("OPTIONS", url, std::move(o));
    }

    /// Sends one request and returns its response, following redirects if asked. `url` is a
    /// path (`/items?x=1`) or an absolute URL (`https://testserver:8443/items`), whose scheme
    /// says whether the app sees TLS and whose authority is sent as Host.
    test_response request(std::string_view method, std::string_view url, request_options o = {});

    /// Writes raw bytes on a fresh connection and collects `count` responses; for protocol tests
    /// (pipelining, malformed requests). Stops early if the server closes the connection.
    std::vector<test_response> exchange(std::string_view bytes, std::size_t count,
                                        bool head_requests = false);

    /// Opens a WebSocket with the real handshake. `url` is a path or `ws://` / `wss://host/path`
    /// (wss: the app sees TLS). Throws `websocket_denial` (carrying the HTTP response) when the
    /// app refuses, or the app's own exception when its handler threw.
    websocket_session websocket_connect(std::string_view url, websocket_connect_options o = {});

    /// True while the in-memory HTTP connection to the app is open (reused across requests).
    bool connected() const noexcept { return http_.open(); }

private:
    // Where a request goes: `/x` on the client's host and scheme, or an absolute URL's own.
    struct target {
        bool secure = false;
        std::string host, path; // Host header; request-target (path and query)
    };
    target split_url(std::string_view url) const;
    void spawn_server(detail::test_connection& c) override;
    void run_hook(task<> (*hook)(), std::string_view what);
    // Builds the Redis link of options_.broker (throws std::invalid_argument in a build
    // without ASTER_HAS_REDIS); not started yet.
    void attach_broker();
    test_response send_once(std::string_view method, std::string_view url,
                            const request_options& o);

    detail::app_ref app_;
    detail::test_connection http_;
    // When the app serves metrics_route: the client's one loop, scraped as a server's.
    std::unique_ptr<detail::loop_metrics> metrics_;
    detail::metrics_registry all_metrics_;
};

} // namespace aster

#if ASTER_HEADER_ONLY
#include <aster/impl/test_client.hpp>
#endif

#endif // ASTER_TEST_CLIENT_HPP
