// SPDX-License-Identifier: MIT
// The founding example: GET /hello answers "Hello, World!", and /ws answers "OK!" to every message.
#pragma once

#include <aster/aster.hpp>

#include <string>

namespace hello {

struct HelloEndpoint : aster::http_endpoint {
    aster::task<aster::response> get(aster::request&) {
        co_return aster::plain_text("Hello, World!");
    }
};

struct WSEndpoint : aster::websocket_endpoint {
    aster::task<> on_connect(aster::websocket& ws) {
        co_await ws.accept();
        aster::log(aster::log_level::info, "Connected");
    }
    aster::task<> on_receive(aster::websocket& ws, std::string_view) {
        co_await ws.send_text("OK!");
    }
    aster::task<> on_disconnect(aster::websocket&, aster::close_code code) {
        aster::log(aster::log_level::info, "Disconnected: close_code=" + std::to_string(int(code)));
        co_return;
    }
};

inline constexpr auto routes = aster::routes(aster::route<"/hello", HelloEndpoint>(),
                                             aster::websocket_route<"/ws", WSEndpoint>());

inline const aster::application app{routes};

} // namespace hello
