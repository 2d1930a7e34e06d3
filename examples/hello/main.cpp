// SPDX-License-Identifier: MIT
// Runs the founding example: ./hello [--host 127.0.0.1] [--port 8000]
#include "app.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    try {
        hello::app.run(aster::server_config::from_args(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hello: %s\n", e.what());
        return 1;
    }
}
