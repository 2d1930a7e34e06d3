// SPDX-License-Identifier: MIT
// Template bodies of test_client.
#ifndef ASTER_IMPL_TEST_CLIENT_HPP
#define ASTER_IMPL_TEST_CLIENT_HPP

namespace aster {

namespace detail {

template <class App>
task<> serve_test_connection(std::shared_ptr<test::stream> end, const App& app,
                             std::shared_ptr<connection_options> options) {
    {
        http_connection<test::stream, App> connection(*end, app, *options,
                                                      client_address{"testclient", 50000});
        co_await connection.run();
    }
    end->close();
}

} // namespace detail

template <class App>
void test_client<App>::open_connection() {
    drop_connection();
    auto server_end = std::make_shared<test::stream>(ctx_);
    server_end_ = server_end;
    client_end_ = std::make_shared<test::stream>(ctx_);
    client_end_->connect(*server_end);
    if (options_.read_size != 0) server_end->read_size(options_.read_size);
    server_options_ = std::make_shared<detail::connection_options>(
        detail::connection_options{options_.limits, &server_exception_});
    leftover_.clear();
    auto done = std::make_shared<bool>(false);
    server_done_ = done;
    net::co_spawn(ctx_, detail::serve_test_connection(server_end, app_, server_options_),
                  [this, done](std::exception_ptr e) {
                      *done = true;
                      if (e && !server_exception_) server_exception_ = e;
                  });
}

template <class App>
void test_client<App>::drop_connection() {
    if (!client_end_) return;
    client_end_->close();
    // Let the server's coroutine see EOF and finish, so no frame outlives the client.
    const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
    while (server_done_ && !*server_done_) {
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.run_one_until(deadline) == 0) break; // done, stuck, or out of time
    }
    client_end_.reset();
    server_end_.reset();
    leftover_.clear();
}

template <class App>
std::optional<detail::response_parser::message>
test_client<App>::read_response(detail::response_parser& parser, std::string_view what) {
    const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
    for (;;) {
        if (!leftover_.empty()) {
            std::size_t used = parser.feed(leftover_);
            leftover_.erase(0, used);
            if (parser.done()) return parser.take();
        }
        if (!client_end_->pending().empty()) {
            leftover_ += client_end_->take();
            continue;
        }
        if (client_end_->peer_closed()) {
            parser.finish();
            if (parser.done()) return parser.take();
            return std::nullopt;
        }
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.poll() > 0) continue;
        // Nothing is ready. If the server is blocked reading, only more request bytes could
        // move it, and none will come: fail now rather than at the deadline.
        if (server_end_ && server_end_->waiting_to_read() && client_end_->pending().empty())
            throw test_timeout("aster::test_client: " + std::string(what) +
                               ": the app is waiting for more request bytes that will never "
                               "come (the request sent is incomplete)");
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.run_one_until(deadline) == 0 && std::chrono::steady_clock::now() >= deadline)
            throw test_timeout("aster::test_client: no response to " + std::string(what) +
                               " within " + std::to_string(options_.timeout.count()) + " ms");
    }
}

template <class App>
void test_client<App>::rethrow_server_exception() {
    if (!server_exception_) return;
    auto e = std::exchange(server_exception_, nullptr);
    if (options_.raise_server_exceptions) std::rethrow_exception(e);
}

template <class App>
test_response test_client<App>::to_response(detail::response_parser::message&& m) {
    test_response r;
    r.status_code = m.status;
    r.headers = std::move(m.headers);
    r.body = std::move(m.body);
    return r;
}

template <class App>
void test_client<App>::keep_cookies(const test_response& r) {
    for (const auto& value : r.header_values("set-cookie")) {
        auto c = parse_set_cookie(value);
        if (!c) continue;
        if (c->expired) cookies_.erase(c->name);
        else cookies_[c->name] = c->value;
    }
}

template <class App>
test_response test_client<App>::send_once(std::string_view method, std::string_view url,
                                          const request_options& o) {
    if (!connected()) open_connection();
    std::string target(url);
    if (!o.params.empty()) {
        target.push_back(target.find('?') == std::string::npos ? '?' : '&');
        bool first = true;
        for (const auto& [k, v] : o.params) {
            if (!first) target.push_back('&');
            first = false;
            target += percent_encode(k, "") + "=" + percent_encode(v, "");
        }
    }
    const std::string what = std::string(method) + " " + target;
    std::string head;
    head.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    head.append("Host: ").append(options_.host).append("\r\n");
    head.append("User-Agent: testclient\r\n");
    std::string cookie_line;
    auto add_cookie = [&](std::string_view k, std::string_view v) {
        if (!cookie_line.empty()) cookie_line += "; ";
        cookie_line.append(k).append("=").append(v);
    };
    for (const auto& [k, v] : cookies_) add_cookie(k, v);
    for (const auto& [k, v] : o.cookies) add_cookie(k, v);
    if (!cookie_line.empty()) head.append("Cookie: ").append(cookie_line).append("\r\n");
    if (!o.content_type.empty()) head.append("Content-Type: ").append(o.content_type).append("\r\n");
    for (const auto& [k, v] : o.headers) head.append(k).append(": ").append(v).append("\r\n");
    if (!o.body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
        head.append("Content-Length: ").append(std::to_string(o.body.size())).append("\r\n");
    if (o.expect_continue) head.append("Expect: 100-continue\r\n");
    head.append("\r\n");

    detail::response_parser parser;
    parser.expect_no_body(method == "HEAD");
    std::optional<detail::response_parser::message> message;
    if (o.expect_continue) {
        client_end_->send(head);
        message = read_response(parser, what);
        if (message && message->status == 100) {
            client_end_->send(o.body);
            message.reset();
        }
    } else {
        client_end_->send(head + o.body);
    }
    while (!message || message->status < 200) {
        message = read_response(parser, what);
        if (!message) {
            drop_connection();
            rethrow_server_exception();
            throw std::runtime_error("aster::test_client: the app closed the connection without "
                                     "answering " + what);
        }
    }
    if (ctx_.stopped()) ctx_.restart();
    ctx_.poll();
    if (!message->keep_alive || client_end_->peer_closed()) drop_connection();
    rethrow_server_exception();
    auto r = to_response(std::move(*message));
    keep_cookies(r);
    return r;
}

template <class App>
test_response test_client<App>::request(std::string_view method, std::string_view url,
                                        request_options o) {
    std::string current_method(method);
    test_response r = send_once(current_method, url, o);
    const bool follow = o.follow_redirects.value_or(options_.follow_redirects);
    for (int hops = 0; follow && hops < 20; ++hops) {
        int s = r.status_code;
        if (s != 301 && s != 302 && s != 303 && s != 307 && s != 308) return r;
        auto location = r.header("location");
        if (!location) return r;
        std::string next = *location;
        std::string origin = "http://" + options_.host;
        if (next.starts_with(origin)) next.erase(0, origin.size());
        if (next.empty() || next[0] != '/') return r; // another host: not ours to follow
        if (s == 303 || ((s == 301 || s == 302) && current_method == "POST")) {
            current_method = "GET";
            o.body.clear();
            o.content_type.clear();
        }
        o.params.clear(); // the Location carries the query
        r = send_once(current_method, next, o);
    }
    if (follow && (r.status_code == 301 || r.status_code == 302 || r.status_code == 303 ||
                   r.status_code == 307 || r.status_code == 308))
        throw std::runtime_error("aster::test_client: more than 20 redirects from " + std::string(url));
    return r;
}

template <class App>
std::vector<test_response> test_client<App>::exchange(std::string_view bytes, std::size_t count,
                                                      bool head_requests) {
    open_connection();
    client_end_->send(bytes);
    std::vector<test_response> out;
    detail::response_parser parser;
    parser.expect_no_body(head_requests);
    while (out.size() < count) {
        auto message = read_response(parser, "raw exchange");
        if (!message) break;
        if (message->status >= 200) out.push_back(to_response(std::move(*message)));
        if (!out.empty() && !out.back().header("connection").value_or("").empty() &&
            iequals(*out.back().header("connection"), "close"))
            break;
    }
    drop_connection();
    rethrow_server_exception();
    return out;
}

} // namespace aster

#endif // ASTER_IMPL_TEST_CLIENT_HPP
