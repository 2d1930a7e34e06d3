// SPDX-License-Identifier: MIT
// test_client: drives an app's real connection code over an in-memory stream, with no port and no thread.
#ifndef ASTER_TEST_CLIENT_HPP
#define ASTER_TEST_CLIENT_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/http_connection.hpp>
#include <aster/detail/response_parser.hpp>
#include <aster/cookies.hpp>
#include <aster/headers.hpp>
#include <aster/status.hpp>
#include <aster/test/stream.hpp>
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

/// A response as the test sees it: status, headers in order, body.
struct test_response {
    int status_code = 0;
    std::vector<std::pair<std::string, std::string>> headers;
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

/// Per-request extras: `client.post("/items", {.body = "x", .headers = {{"X-Key", "1"}}})`.
struct request_options {
    std::vector<std::pair<std::string, std::string>> params;  // appended to the query string
    std::vector<std::pair<std::string, std::string>> headers; // sent after the defaults
    std::vector<std::pair<std::string, std::string>> cookies; // for this request only
    std::string body;
    std::string content_type;     // sets Content-Type when not empty
    bool expect_continue = false; // send headers, wait for 100 Continue, then the body
    std::optional<bool> follow_redirects; // overrides the client's setting
};

/// Settings of a test_client.
struct test_client_options {
    bool raise_server_exceptions = true;          // rethrow a handler's exception in the test
    bool follow_redirects = true;                 // as Starlette's TestClient
    std::chrono::milliseconds timeout{5000};      // every wait fails after this, never hangs
    std::size_t read_size = 0;                    // bytes per server read; 0 = all available
    http_limits limits{};                         // the server's limits
    std::string host = "testserver";
};

/// Thrown when the app does not answer within the client's timeout, or stops answering.
class test_timeout : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Runs the app's real HTTP code (parser, router, writer) over an in-memory stream on the
/// client's own io_context: deterministic, no sockets, no threads.
/// @code
/// aster::test_client client{app};
/// CHECK(client.get("/hello").text() == "Hello, World!");
/// @endcode
template <class App>
class test_client {
public:
    explicit test_client(const App& app, test_client_options options = {})
        : app_(app), options_(std::move(options)) {}
    test_client(const test_client&) = delete;
    test_client& operator=(const test_client&) = delete;
    ~test_client() { drop_connection(); }

    test_response get(std::string_view url, request_options o = {}) { return request("GET", url, std::move(o)); }
    test_response head(std::string_view url, request_options o = {}) { return request("HEAD", url, std::move(o)); }
    test_response post(std::string_view url, request_options o = {}) { return request("POST", url, std::move(o)); }
    test_response put(std::string_view url, request_options o = {}) { return request("PUT", url, std::move(o)); }
    test_response patch(std::string_view url, request_options o = {}) { return request("PATCH", url, std::move(o)); }
    test_response delete_(std::string_view url, request_options o = {}) { return request("DELETE", url, std::move(o)); }
    test_response options(std::string_view url, request_options o = {}) { return request("OPTIONS", url, std::move(o)); }

    /// Sends one request and returns its response, following redirects if asked.
    test_response request(std::string_view method, std::string_view url, request_options o = {});

    /// Writes raw bytes on a fresh connection and collects `count` responses; for protocol tests
    /// (pipelining, malformed requests). Stops early if the server closes the connection.
    std::vector<test_response> exchange(std::string_view bytes, std::size_t count,
                                        bool head_requests = false);

    /// Cookies kept from Set-Cookie headers, sent with every later request.
    const std::map<std::string, std::string>& cookies() const noexcept { return cookies_; }
    void set_cookie(std::string name, std::string value) { cookies_[std::move(name)] = std::move(value); }
    /// True while the in-memory connection to the app is open (it is reused across requests).
    bool connected() const noexcept { return client_end_ != nullptr && !client_end_->peer_closed(); }
    test_client_options& settings() noexcept { return options_; }
    net::io_context& context() noexcept { return ctx_; }

private:
    test_response send_once(std::string_view method, std::string_view url, const request_options& o);
    void open_connection();
    void drop_connection();
    std::optional<detail::response_parser::message> read_response(detail::response_parser& parser,
                                                                  std::string_view what);
    void rethrow_server_exception();
    void keep_cookies(const test_response& r);
    static test_response to_response(detail::response_parser::message&& m);

    const App& app_;
    test_client_options options_;
    net::io_context ctx_;
    std::shared_ptr<test::stream> client_end_;
    std::shared_ptr<test::stream> server_end_; // for telling "stuck reading" from "busy"

    std::shared_ptr<detail::connection_options> server_options_;
    std::shared_ptr<bool> server_done_;
    std::exception_ptr server_exception_;
    std::string leftover_; // bytes after the last parsed response
    std::map<std::string, std::string> cookies_;
};

template <class App>
test_client(const App&) -> test_client<App>;
template <class App>
test_client(const App&, test_client_options) -> test_client<App>;

} // namespace aster

#include <aster/impl/test_client.hpp>

#endif // ASTER_TEST_CLIENT_HPP
