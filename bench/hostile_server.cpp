// SPDX-License-Identifier: MIT
// The server bench/hostile_run.sh attacks: the echo example's app (GET /hello, /ws echoes), plus
// /ws-size, which answers each message with its size only, so a large message's cost is the
// receiving side's alone (an echo also queues a copy). One event loop, warnings only. It uses
// only long-standing API, so the script can build it against an older tree as a baseline.
// ./hostile_server [--port 8000]
#include "../examples/echo/app.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <utility>

namespace {

aster::task<> size_socket(aster::websocket& ws) {
    co_await ws.accept();
    for (;;) {
        auto message = co_await ws.receive();
        co_await ws.send_text(std::to_string(message.data.size()));
    }
}

const aster::application app{aster::routes(aster::route<"/hello">(echo::hello),
                                           aster::websocket_route<"/ws">(echo::echo_socket),
                                           aster::websocket_route<"/ws-size">(size_socket))};

} // namespace

int main(int argc, char** argv) {
    aster::logger().level = aster::log_level::warning;
    try {
        auto config = aster::server_config::from_args(argc, argv); // warnings only: see above
        config.threads = 1;
        app.run(std::move(config));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hostile_server: %s\n", e.what());
        return 1;
    }
}
