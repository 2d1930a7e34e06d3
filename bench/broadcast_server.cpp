// SPDX-License-Identifier: MIT
// aster's side of the broadcast and fan-out benchmarks, on topics. Every WebSocket at `/` is
// subscribed to the topic "broadcast" and every message it sends is published there, the sender
// included (so uWebSockets' benchmarks/broadcast_test.c can drive it too). A WebSocket at
// `/publisher` publishes what it sends without subscribing: the fan-out benchmark's one
// publisher. Warnings and errors only, no access log.
//
//   ./broadcast_server [--host 127.0.0.1] [--port 8000] [--threads 1] [--redis URL]
#include <aster/aster.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string_view>
#include <utility>

namespace {

constexpr std::string_view topic = "broadcast";

struct member : aster::websocket_endpoint {
    static constexpr auto encoding = aster::encoding::any;

    // Subscribed before the handshake's answer goes out, so a client may publish as soon as it
    // has that answer (uWebSockets' broadcast_test does) and every member gets the message.
    aster::task<> on_connect(aster::websocket& ws) {
        ws.subscribe(topic);
        co_await ws.accept();
    }
    aster::task<> on_receive(aster::websocket& ws, const aster::websocket_message& m) {
        co_await ws.publish(topic, m.data, {.binary = !m.text, .to_sender = true});
    }
};

struct publisher : aster::websocket_endpoint {
    static constexpr auto encoding = aster::encoding::any;

    aster::task<> on_receive(aster::websocket& ws, const aster::websocket_message& m) {
        co_await ws.publish(topic, m.data, {.binary = !m.text});
    }
};

constexpr auto routes = aster::routes(aster::websocket_route<"/", member>(),
                                      aster::websocket_route<"/publisher", publisher>());
const aster::application app{routes};

} // namespace

int main(int argc, char** argv) {
    aster::logger().level = aster::log_level::warning; // nothing logged per connection
    try {
        aster::server_config quiet;
        quiet.access_log = false;
        // No keep-alive pings: uWebSockets' broadcast_test counts every byte it reads as payload.
        quiet.websocket.ping_interval = std::chrono::milliseconds(0);
        auto config = aster::server_config::from_args(argc, argv, quiet);
        config.max_connections = 10000; // the fan-out holds 1,000 subscribers and more
        app.run(std::move(config));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "broadcast_server: %s\n", e.what());
        return 1;
    }
}
