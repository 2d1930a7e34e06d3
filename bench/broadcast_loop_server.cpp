// SPDX-License-Identifier: MIT
// The broadcast benchmark's "before topics" point: the same app as broadcast_server, written
// as a chat was written without topics: the members in a vector, every message sent to each
// of them in turn, one event loop (a plain vector needs it). Serves `/` like broadcast_server.
//
//   ./broadcast_loop_server [--host 127.0.0.1] [--port 8000]
#include <aster/aster.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace {

std::vector<aster::websocket*> members;

struct member : aster::websocket_endpoint {
    static constexpr auto encoding = aster::encoding::any;

    aster::task<> on_connect(aster::websocket& ws) {
        co_await ws.accept();
        members.push_back(&ws);
    }
    aster::task<> on_receive(aster::websocket&, const aster::websocket_message& m) {
        // A send may suspend while others join or leave: loop over a copy, skip who left.
        const std::string data(m.data);
        const auto recipients = members;
        for (auto* to : recipients) {
            if (std::find(members.begin(), members.end(), to) == members.end()) continue;
            try {
                if (m.text) co_await to->send_text(data);
                else co_await to->send_bytes(data);
            } catch (const aster::websocket_disconnect&) {
                // That member is leaving; its own on_disconnect removes it.
            }
        }
    }
    aster::task<> on_disconnect(aster::websocket& ws, aster::close_code) {
        std::erase(members, &ws);
        co_return;
    }
};

constexpr auto routes = aster::routes(aster::websocket_route<"/", member>());
const aster::application app{routes};

} // namespace

int main(int argc, char** argv) {
    aster::logger().level = aster::log_level::warning;
    try {
        aster::server_config quiet;
        quiet.access_log = false;
        // No keep-alive pings: uWebSockets' broadcast_test counts every byte it reads as payload.
        quiet.websocket.ping_interval = std::chrono::milliseconds(0);
        auto config = aster::server_config::from_args(argc, argv, quiet);
        config.threads = 1;             // the vector belongs to one loop
        config.max_connections = 10000; // the fan-out holds 1,000 subscribers and more
        app.run(std::move(config));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "broadcast_loop_server: %s\n", e.what());
        return 1;
    }
}
