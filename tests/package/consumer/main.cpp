// SPDX-License-Identifier: MIT
// A program that uses aster from outside its source tree, as tests/package/check.sh builds it
// (find_package, pkg-config, the single header, a meson subproject): examples/hello's HTTP part,
// checked in-process with test_client and then over loopback. Exits non-zero on a wrong answer.
#ifdef ASTER_CONSUMER_SINGLE_HEADER
#include "aster.hpp"
#else
#include <aster/aster.hpp>
#endif

#include <asio/write.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <thread>

namespace {

struct HelloEndpoint : aster::http_endpoint {
    aster::task<aster::response> get(aster::request&) {
        co_return aster::plain_text("Hello, World!");
    }
};

struct WSEndpoint : aster::websocket_endpoint {
    aster::task<> on_receive(aster::websocket& ws, std::string_view) {
        co_await ws.send_text("OK!");
    }
};

constexpr aster::application app{aster::routes(aster::route<"/hello", HelloEndpoint>(),
                                               aster::websocket_route<"/ws", WSEndpoint>())};

int failures = 0;

void expect(bool ok, const char* what, const std::string& got) {
    std::printf("consumer: %s: %s\n", what, ok ? "ok" : ("FAILED, got: " + got).c_str());
    if (!ok) ++failures;
}

// GET /hello over a real socket to a server on 127.0.0.1; returns the whole raw response.
std::string get_over_loopback() {
    aster::server srv{app, {.port = 0, .handle_signals = false}};
    srv.listen();
    std::thread loop([&] { srv.run(); });
    std::string out;
    try {
        using aster::net::ip::tcp;
        aster::net::io_context ctx;
        tcp::socket socket(ctx);
        socket.connect(tcp::endpoint(aster::net::ip::make_address("127.0.0.1"), srv.port()));
        std::string request = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        aster::net::write(socket, aster::net::buffer(request));
        char buf[4096];
        std::error_code ec;
        for (int i = 0; i < 100 && !ec; ++i) // the server closes after Connection: close
            out.append(buf, socket.read_some(aster::net::buffer(buf), ec));
    } catch (const std::exception& e) {
        out = std::string("exception: ") + e.what();
    }
    srv.stop();
    loop.join();
    return out;
}

} // namespace

int main() {
    try {
        aster::test_client client{app};
        auto r = client.get("/hello");
        expect(r.status_code == 200 && r.text() == "Hello, World!", "test_client GET /hello",
               std::to_string(r.status_code) + " " + r.text());
        auto ws = client.websocket_connect("/ws");
        ws.send_text("Hello!");
        auto reply = ws.receive_text();
        expect(reply == "OK!", "test_client websocket /ws", reply);

        auto raw = get_over_loopback();
        bool ok = raw.starts_with("HTTP/1.1 200 OK\r\n") && raw.ends_with("\r\n\r\nHello, World!");
        expect(ok, "GET /hello over 127.0.0.1", raw);
    } catch (const std::exception& e) {
        std::printf("consumer: FAILED with an exception: %s\n", e.what());
        return 1;
    }
    return failures == 0 ? 0 : 1;
}
