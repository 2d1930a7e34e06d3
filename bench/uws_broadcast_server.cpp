// SPDX-License-Identifier: MIT
// uWebSockets' own topics as the reference for aster's broadcast: every WebSocket subscribes to
// "broadcast" and every message received is published there with the app-level publish, so the
// sender is included and each client gets all N messages of a round (what uWebSockets'
// benchmarks/broadcast_test.c counts). Built against uWebSockets by bench/uws_build.sh, never here.
// ./uws_broadcast_server [--host 127.0.0.1] [--port 9001]; one thread, one event loop.
#include <App.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

struct PerSocket {}; // nothing per connection: the topic tree holds the subscriptions

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr, "usage: %s [--host 127.0.0.1] [--port 9001]\n", argv0);
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    int port = 9001;
    for (int i = 1; i < argc; ++i) {
        if (i + 1 >= argc) usage(argv[0]);
        if (std::strcmp(argv[i], "--host") == 0) host = argv[++i];
        else if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[++i]);
        else usage(argv[0]);
    }
    if (port <= 0 || port > 65535) usage(argv[0]);

    uWS::App app;
    app.ws<PerSocket>(
        "/*", {
                  // broadcast_test.c counts exactly 22 bytes per frame: no permessage-deflate.
                  .compression = uWS::DISABLED,
                  .maxPayloadLength = 16 * 1024,
                  // 0 disables the idle timeout: a socket waiting through a slow round (or a
                  // client paused between runs) must not be closed, the client exits on a close.
                  .idleTimeout = 0,
                  // A round at N = 500 queues 500 frames of 22 bytes per socket; keep slow readers
                  // buffered rather than dropped or closed (the client exits on any close).
                  .maxBackpressure = 64 * 1024 * 1024,
                  .closeOnBackpressureLimit = false,
                  // The client never answers pings and would count their bytes as payload.
                  .sendPingsAutomatically = false,
                  .open = [](auto* ws) { ws->subscribe("broadcast"); },
                  // App-level publish (not ws->publish, which skips the sender).
                  .message = [&app](auto*, std::string_view message,
                                    uWS::OpCode op) { app.publish("broadcast", message, op); },
              });

    // uSockets sets SO_REUSEPORT by default, so a stale server on the same port would silently
    // share it (and half the connections); exclusive makes that a failure to listen instead.
    bool listening = false;
    app.listen(host, port, LIBUS_LISTEN_EXCLUSIVE_PORT,
               [&](us_listen_socket_t* socket) { listening = socket != nullptr; });
    if (!listening) {
        std::fprintf(stderr, "uws_broadcast_server: cannot listen on %s:%d\n", host.c_str(), port);
        return 1;
    }
    std::printf("listening on %s:%d\n", host.c_str(), port);
    std::fflush(stdout);
    app.run();
    return 0;
}
