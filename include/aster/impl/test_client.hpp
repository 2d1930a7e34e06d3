// SPDX-License-Identifier: MIT
// Bodies of test_client: compiled in every file that includes aster.hpp (header-only), or once
// in the file that includes aster/impl/src.hpp (ASTER_SEPARATE_COMPILATION).
#ifndef ASTER_IMPL_TEST_CLIENT_HPP
#define ASTER_IMPL_TEST_CLIENT_HPP

#include <aster/test_client.hpp>
#include <aster/detail/base64.hpp>
#include <aster/detail/ws_handshake.hpp>
#include <aster/detail/redis_link.hpp> // empty without ASTER_HAS_REDIS

namespace aster {

namespace detail {

ASTER_ENGINE task<> serve_test_connection(std::shared_ptr<test::stream> end, app_ref app,
                                          std::shared_ptr<connection_options> options) {
    // Named first: g++ 12 mishandles a braced temporary passed by value to a coroutine inside
    // co_await (here a double free of its string).
    client_address client{"testclient", 50000};
    co_await serve_stream(*end, app, *options, std::move(client));
    end->close();
}

} // namespace detail

ASTER_ENGINE void test_client::run_hook(task<> (*hook)(), std::string_view what) {
    if (!hook) return;
    bool done = false;
    std::exception_ptr error;
    net::co_spawn(ctx_, hook(), [&](std::exception_ptr e) {
        done = true;
        error = e;
    });
    const auto deadline = clock::now() + options_.timeout;
    while (!done) {
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.run_one_until(deadline) == 0 && !done) {
            // The frame still refers to `done`: stop the loop so nothing resumes it later.
            ctx_.stop();
            abandoned_ = true;
            throw test_timeout("aster::test_client: the lifespan " + std::string(what) +
                               " did not finish in time");
        }
    }
    if (error) std::rethrow_exception(error);
}

ASTER_ENGINE test_client::~test_client() {
    close_connection(http_);
    try {
        run_hook(app_.shutdown, "shutdown");
    } catch (const std::exception& e) {
        // A destructor cannot throw; the test sees it in the log.
        log(log_level::error,
            std::string("aster::test_client: lifespan shutdown failed: ") + e.what());
    } catch (...) {
        log(log_level::error, "aster::test_client: lifespan shutdown failed");
    }
    stop_broker(); // after the shutdown hook, which may still publish
}

ASTER_ENGINE void test_client::attach_broker() {
    if (!options_.broker) return;
#ifdef ASTER_HAS_REDIS
    topics_.attach(
        std::make_unique<detail::redis_link>(topics_, ctx_.get_executor(), *options_.broker));
#else
    throw std::invalid_argument("aster: test_client_options::broker needs a build with Redis "
                                "(ASTER_HAS_REDIS: CMake -DASTER_REDIS=ON, meson "
                                "-Dredis=enabled)");
#endif
}

ASTER_ENGINE test_client::target test_client::split_url(std::string_view url) const {
    target t{options_.https, options_.host, std::string(url)};
    std::size_t skip = 0;
    for (auto [scheme, secure] : {std::pair{"http://", false}, std::pair{"https://", true},
                                  std::pair{"ws://", false}, std::pair{"wss://", true}}) {
        if (url.starts_with(scheme)) {
            skip = std::string_view(scheme).size();
            t.secure = secure;
        }
    }
    if (skip == 0) return t;
    url.remove_prefix(skip);
    std::size_t end = std::min(url.find_first_of("/?"), url.size());
    t.host = std::string(url.substr(0, end));
    t.path = std::string(url.substr(end));
    if (t.path.empty() || t.path[0] != '/') t.path.insert(0, "/");
    return t;
}

ASTER_ENGINE void test_client::spawn_server(detail::test_connection& c) {
    auto options = std::make_shared<detail::connection_options>(
        detail::connection_options{options_.limits, options_.websocket, &server_exception_});
    options->secure = c.secure;
    options->topics = topic_loop_;
    options->metrics = metrics_.get();
    options->all_metrics = metrics_ ? &all_metrics_ : nullptr;
    net::co_spawn(ctx_, detail::serve_test_connection(c.server, app_, options),
                  [this, done = c.server_done](std::exception_ptr e) {
                      *done = true;
                      if (e && !server_exception_) server_exception_ = e;
                  });
}

ASTER_ENGINE test_response test_client::send_once(std::string_view method, std::string_view url,
                                                  const request_options& o) {
    auto where = split_url(url);
    // One in-memory connection is either "TLS" or not: a change of scheme takes a new one.
    if (http_.open() && http_.secure != where.secure) close_connection(http_);
    if (!http_.open()) {
        http_.secure = where.secure;
        open_connection(http_);
    }
    std::string target = std::move(where.path);
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
    head.append("Host: ").append(where.host).append("\r\n");
    head.append("User-Agent: testclient\r\n");
    if (auto cookies = cookie_header(o.cookies); !cookies.empty())
        head.append("Cookie: ").append(cookies).append("\r\n");
    if (!o.content_type.empty())
        head.append("Content-Type: ").append(o.content_type).append("\r\n");
    for (const auto& [k, v] : o.headers) head.append(k).append(": ").append(v).append("\r\n");
    if (!o.body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
        head.append("Content-Length: ").append(std::to_string(o.body.size())).append("\r\n");
    if (o.expect_continue) head.append("Expect: 100-continue\r\n");
    head.append("\r\n");

    detail::response_parser parser;
    parser.expect_no_body(method == "HEAD");
    std::optional<detail::response_parser::message> message;
    if (o.expect_continue) {
        http_.client->send(head);
        message = read_response(http_, parser, what);
        if (message && message->status == 100) {
            http_.client->send(o.body);
            message.reset();
        }
    } else {
        http_.client->send(head + o.body);
    }
    while (!message || message->status < 200) {
        message = read_response(http_, parser, what);
        if (!message) {
            close_connection(http_);
            rethrow_server_exception();
            throw std::runtime_error("aster::test_client: the app closed the connection without "
                                     "answering " +
                                     what);
        }
    }
    if (ctx_.stopped()) ctx_.restart();
    ctx_.poll();
    if (!message->keep_alive || !http_.open()) close_connection(http_);
    rethrow_server_exception();
    auto r = to_response(std::move(*message));
    keep_cookies(r);
    return r;
}

ASTER_ENGINE test_response test_client::request(std::string_view method, std::string_view url,
                                                request_options o) {
    std::string current_method(method);
    auto where = split_url(url);
    test_response r = send_once(current_method, url, o);
    const bool follow = o.follow_redirects.value_or(options_.follow_redirects);
    auto is_redirect = [](int s) {
        return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
    };
    for (int hops = 0; follow && is_redirect(r.status_code); ++hops) {
        if (hops == 20)
            throw std::runtime_error("aster::test_client: more than 20 redirects from " +
                                     std::string(url));
        auto location = r.header("location");
        if (!location) return r;
        std::string next = *location;
        if (next.starts_with("/")) {
            // Relative: the same scheme and host as the request it answers.
            next = (where.secure ? "https://" : "http://") + where.host + next;
        } else {
            auto to = split_url(next);
            if (to.path == next) return r; // not a URL we can follow
            // Another host (port aside) is not the app's to answer.
            auto name = [](std::string_view authority) { // without the port
                if (authority.starts_with('[')) return authority.substr(0, authority.find(']') + 1);
                return authority.substr(0, authority.find(':'));
            };
            if (name(to.host) != name(options_.host)) return r;
        }
        where = split_url(next);
        int s = r.status_code;
        if (s == 303 || ((s == 301 || s == 302) && current_method == "POST")) {
            current_method = "GET";
            o.body.clear();
            o.content_type.clear();
        }
        o.params.clear(); // the Location carries the query
        r = send_once(current_method, next, o);
    }
    return r;
}

ASTER_ENGINE std::vector<test_response>
test_client::exchange(std::string_view bytes, std::size_t count, bool head_requests) {
    detail::test_connection c;
    open_connection(c);
    c.client->send(bytes);
    std::vector<test_response> out;
    detail::response_parser parser;
    parser.expect_no_body(head_requests);
    try {
        while (out.size() < count) {
            auto message = read_response(c, parser, "raw exchange");
            if (!message) break;
            if (message->status >= 200) out.push_back(to_response(std::move(*message)));
            if (!message->keep_alive) break;
        }
    } catch (...) {
        close_connection(c);
        throw;
    }
    close_connection(c);
    rethrow_server_exception();
    return out;
}

ASTER_ENGINE websocket_session test_client::websocket_connect(std::string_view url,
                                                              websocket_connect_options o) {
    auto where = split_url(url);
    detail::test_connection c;
    c.secure = where.secure;
    open_connection(c);
    std::uint8_t nonce[16];
    for (int i = 0; i < 4; ++i) {
        auto m = next_mask();
        std::copy(m.begin(), m.end(), nonce + 4 * i);
    }
    const std::string key = detail::base64_encode(std::span<const std::uint8_t>(nonce, 16));
    const std::string what = "websocket handshake to " + std::string(url);
    std::string head = "GET " + where.path + " HTTP/1.1\r\nHost: " + where.host +
                       "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
                       key + "\r\nSec-WebSocket-Version: 13\r\n";
    if (!o.subprotocols.empty()) {
        head += "Sec-WebSocket-Protocol: ";
        for (std::size_t i = 0; i < o.subprotocols.size(); ++i)
            head += (i ? ", " : "") + o.subprotocols[i];
        head += "\r\n";
    }
    if (!o.extensions.empty()) head += "Sec-WebSocket-Extensions: " + o.extensions + "\r\n";
    if (auto cookies = cookie_header(o.cookies); !cookies.empty())
        head += "Cookie: " + cookies + "\r\n";
    for (const auto& [k, v] : o.headers) head += k + ": " + v + "\r\n";
    head += "\r\n";
    c.client->send(head);

    detail::response_parser parser;
    std::optional<detail::response_parser::message> message;
    try {
        message = read_response(c, parser, what);
    } catch (...) {
        close_connection(c);
        throw;
    }
    if (!message) {
        close_connection(c);
        rethrow_server_exception();
        throw std::runtime_error("aster::test_client: the app closed the connection during the " +
                                 what);
    }
    if (message->status != 101) {
        close_connection(c);
        rethrow_server_exception();
        throw websocket_denial(to_response(std::move(*message)));
    }
    auto r = to_response(std::move(*message));
    auto expected = detail::websocket_accept_key(key);
    if (r.header("sec-websocket-accept") != std::string(expected.data(), expected.size())) {
        close_connection(c);
        throw std::runtime_error("aster::test_client: wrong Sec-WebSocket-Accept in the " + what);
    }
    // A real client fails the connection on an answer that does not fit its offer (RFC 7692 §7.1).
    std::optional<detail::deflate_params> deflate;
    if (auto answer = r.header("sec-websocket-extensions")) {
        bool offered = false, offered_client_window = false;
        detail::extension_reader offer(o.extensions);
        std::string_view name;
        while (offer.next_extension(name)) {
            if (!iequals(name, "permessage-deflate")) continue;
            offered = true;
            detail::deflate_offer params;
            if (detail::read_deflate_params(offer, params) && params.client_max_window_bits != 0)
                offered_client_window = true;
        }
        if (offered) deflate = detail::parse_deflate_response(*answer, offered_client_window);
#ifndef ASTER_HAS_ZLIB
        deflate.reset();
#endif
        if (!deflate) {
            close_connection(c);
            throw std::runtime_error(
                "aster::test_client: the server answered Sec-WebSocket-Extensions: " + *answer +
                " to the offer '" + o.extensions + "' in the " + what);
        }
    }
    return websocket_session(*this, std::move(c), std::move(r.headers), deflate);
}

} // namespace aster

#endif // ASTER_IMPL_TEST_CLIENT_HPP
