// SPDX-License-Identifier: MIT
// Runs the echo example: ./echo [--host 127.0.0.1] [--port 8000] [--threads N]
#include "app.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    try {
        echo::app.run(aster::server_config::from_args(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo: %s\n", e.what());
        return 1;
    }
}
