// SPDX-License-Identifier: MIT
// Runs the chat example: ./chat [--host 127.0.0.1] [--port 8000]; open http://127.0.0.1:8000/
#include "app.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    try {
        auto config = aster::server_config::from_args(argc, argv);
        config.threads = 1; // the room is shared without locks: one event loop
        chat::app.run(config);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chat: %s\n", e.what());
        return 1;
    }
}
