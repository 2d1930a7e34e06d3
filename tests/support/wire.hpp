// SPDX-License-Identifier: MIT
// A server connection over the in-memory stream, driven step by step: the client's bytes go in
// slices, the loop runs until the server waits, and what it wrote is parsed afterwards.
#ifndef ASTER_TESTS_SUPPORT_WIRE_HPP
#define ASTER_TESTS_SUPPORT_WIRE_HPP

#include <aster/aster.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace aster_test_support {

struct wire {
    aster::net::io_context ctx;
    aster::test::stream client{ctx}, server{ctx};
    aster::detail::app_ref app;
    aster::detail::connection_registry registry;
    aster::detail::connection_options options;
    bool done = false;
    std::exception_ptr failure;
    std::size_t peak_input = 0;

    explicit wire(aster::detail::app_ref a, aster::http_limits limits = {}) : app(a) {
        client.connect(server);
        options.limits = limits;
        options.registry = &registry;
        aster::net::co_spawn(ctx, serve(), [this](std::exception_ptr e) {
            failure = e;
            done = true;
        });
    }
    aster::task<> serve() {
        aster::client_address peer{"wire", 1}; // named: g++ 12 and temporaries in co_await
        co_await aster::detail::serve_stream(server, app, options, std::move(peer));
        server.close();
    }
    // Runs whatever is ready: the server ends up waiting for bytes, or done.
    void pump() {
        for (;;) {
            peak_input = std::max(peak_input, registry.counters.input_bytes.get());
            if (ctx.stopped()) ctx.restart();
            if (ctx.poll() == 0) break;
        }
    }
    // Sends `bytes` in slices, running the server after each, as a socket's flow control would.
    void send(std::string_view bytes, std::size_t slice = 64 * 1024) {
        for (std::size_t at = 0; at < bytes.size() && !client.peer_closed(); at += slice) {
            client.send(bytes.substr(at, slice));
            pump();
        }
    }
    // Closes the client's end and lets the server finish, within a deadline.
    void finish() {
        client.close();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!done && std::chrono::steady_clock::now() < deadline) {
            if (ctx.stopped()) ctx.restart();
            ctx.run_one_for(std::chrono::milliseconds(50));
        }
    }
    bool all_released() const {
        return registry.size() == 0 && registry.counters.input_bytes.get() == 0 &&
               registry.counters.buffered_bytes.get() == 0;
    }
};

inline std::vector<aster::detail::response_parser::message> responses_in(std::string_view out) {
    std::vector<aster::detail::response_parser::message> messages;
    aster::detail::response_parser parser;
    while (!out.empty()) {
        std::size_t used = parser.feed(out);
        if (!parser.done()) break;
        messages.push_back(parser.take());
        out.remove_prefix(used);
    }
    return messages;
}

} // namespace aster_test_support

#endif // ASTER_TESTS_SUPPORT_WIRE_HPP
