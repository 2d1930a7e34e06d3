// SPDX-License-Identifier: MIT
// Echo: GET /hello, POST /echo returns its body, /ws echoes text as text and binary as binary,
// and GET /metrics serves the counters in Prometheus' format.
#pragma once

#include <aster/aster.hpp>

#include <string>

namespace echo {

inline aster::response hello(aster::request&) { return aster::plain_text("Hello, World!"); }

inline aster::task<aster::response> echo_body(aster::request& req) {
    auto body = co_await req.body();
    co_return aster::response(aster::status::ok, std::string(body),
                              std::string(
                                  req.header("content-type").value_or("application/octet-stream")));
}

// Function style: the handler owns the loop. Messages up to 16 MiB (the default limit).
inline aster::task<> echo_socket(aster::websocket& ws) {
    co_await ws.accept();
    for (;;) {
        auto message = co_await ws.receive(); // throws websocket_disconnect when the peer closes
        if (message.text) co_await ws.send_text(message.data);
        else co_await ws.send_bytes(message.data);
    }
}

inline constexpr auto routes = aster::routes(aster::route<"/hello">(hello),
                                             aster::route<"/echo", aster::method::post>(echo_body),
                                             aster::websocket_route<"/ws">(echo_socket),
                                             aster::metrics_route<"/metrics">());

inline const aster::application app{routes};

} // namespace echo
