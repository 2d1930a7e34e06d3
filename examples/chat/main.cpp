// SPDX-License-Identifier: MIT
// Runs the chat example: ./chat [--host 127.0.0.1] [--port 8000] [--threads N]; open
// http://127.0.0.1:8000/?room=lobby&name=ada
#include "app.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    try {
        chat::app.run(aster::server_config::from_args(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chat: %s\n", e.what());
        return 1;
    }
}
