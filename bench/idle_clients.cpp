// SPDX-License-Identifier: MIT
// Opens many connections to a server and leaves them idle, for bench/idle_run.sh to read the
// server's memory. Each connection first makes one exchange: an HTTP keep-alive GET (--mode http)
// or a WebSocket handshake and one echo (--mode ws). Then it prints `open N` and waits for a line
// on stdin; it then makes the same exchange again on every connection (proving each is still
// open and served), prints `alive M` and exits, closing them all.
//
//   ./idle_clients --port 18302 --mode http [--path /plaintext] [--connections 10000]
//                  [--sources 8] [--parallel 200]
//
// Connections come from 127.0.0.1 .. 127.0.0.<sources> so the ephemeral ports of one source
// address do not run short. Exits 1 on any failure while opening.
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#if ASIO_VERSION >= 102300
#include <asio/as_tuple.hpp>
#else
#include <asio/experimental/as_tuple.hpp>
#endif

#include <netinet/in.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using asio::ip::tcp;

#if ASIO_VERSION >= 102300
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
#else
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
#endif

struct settings {
    unsigned short port = 8000;
    bool websocket = false;
    std::string path;
    std::size_t connections = 10000;
    unsigned sources = 8;
    std::size_t parallel = 200;
};

// An HTTP GET and its whole response; false unless the answer is 200 with its full body.
asio::awaitable<bool> http_exchange(tcp::socket& s, const settings& config) {
    std::string request = "GET " + config.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(request), use_tuple);
    if (ec) co_return false;
    std::string reply;
    auto [read_ec, head] = co_await asio::async_read_until(s, asio::dynamic_buffer(reply),
                                                           "\r\n\r\n", use_tuple);
    if (read_ec || !reply.starts_with("HTTP/1.1 200 ")) co_return false;
    std::string lower(reply.substr(0, head));
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    auto at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) co_return false;
    std::size_t length = std::strtoul(lower.c_str() + at + 17, nullptr, 10);
    if (reply.size() < head + length) {
        auto [body_ec,
              m] = co_await asio::async_read(s, asio::dynamic_buffer(reply),
                                             asio::transfer_exactly(head + length - reply.size()),
                                             use_tuple);
        if (body_ec) co_return false;
    }
    co_return reply.size() == head + length;
}

// One masked text frame and its unmasked echo.
asio::awaitable<bool> ws_echo(tcp::socket& s) {
    static constexpr char payload[] = "idle check";
    constexpr std::size_t size = sizeof payload - 1;
    const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    char frame[6 + size];
    frame[0] = char(0x81);
    frame[1] = char(0x80 | size);
    std::memcpy(frame + 2, key, 4);
    for (std::size_t i = 0; i < size; ++i) frame[6 + i] = char(payload[i] ^ key[i % 4]);
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(frame), use_tuple);
    if (ec) co_return false;
    char echo[2 + size];
    auto [read_ec, m] = co_await asio::async_read(s, asio::buffer(echo), use_tuple);
    co_return !read_ec && echo[0] == char(0x81) && echo[1] == char(size) &&
        std::memcmp(echo + 2, payload, size) == 0;
}

asio::awaitable<bool> ws_handshake(tcp::socket& s, const settings& config) {
    std::string request =
        "GET " + config.path +
        " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(request), use_tuple);
    if (ec) co_return false;
    std::string reply;
    auto [read_ec, head] = co_await asio::async_read_until(s, asio::dynamic_buffer(reply),
                                                           "\r\n\r\n", use_tuple);
    co_return !read_ec && reply.starts_with("HTTP/1.1 101 ") && reply.size() == head;
}

class pool {
public:
    pool(asio::io_context& ctx, const settings& config) : ctx_(ctx), config_(config) {
        sockets_.reserve(config.connections);
        for (std::size_t i = 0; i < config.connections; ++i) sockets_.emplace_back(ctx);
    }

    // Opens every connection, `parallel` at a time; throws on the first failure.
    void open() {
        next_ = 0;
        for (std::size_t w = 0; w < config_.parallel; ++w)
            asio::co_spawn(ctx_, open_some(), [](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
            });
        ctx_.restart();
        ctx_.run();
    }

    // The exchange again on every connection; returns how many answered correctly.
    std::size_t check() {
        next_ = 0;
        alive_ = 0;
        for (std::size_t w = 0; w < config_.parallel; ++w)
            asio::co_spawn(ctx_, check_some(), asio::detached);
        ctx_.restart();
        ctx_.run();
        return alive_;
    }

private:
    asio::awaitable<void> open_some() {
        while (next_ < sockets_.size()) {
            std::size_t i = next_++;
            tcp::socket& s = sockets_[i];
            s.open(tcp::v4());
            // The port is chosen at connect time, per (source, destination): more room.
            s.set_option(
                asio::detail::socket_option::boolean<IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT>(true));
            asio::ip::address_v4::bytes_type source{127, 0, 0,
                                                    std::uint8_t(1 + i % config_.sources)};
            s.bind(tcp::endpoint(asio::ip::address_v4(source), 0));
            auto [ec] = co_await s.async_connect(
                tcp::endpoint(asio::ip::make_address("127.0.0.1"), config_.port), use_tuple);
            if (ec) throw std::runtime_error("connect #" + std::to_string(i) + ": " + ec.message());
            bool ok = config_.websocket ? co_await ws_handshake(s, config_) && co_await ws_echo(s)
                                        : co_await http_exchange(s, config_);
            if (!ok)
                throw std::runtime_error("first exchange failed on connection #" +
                                         std::to_string(i));
        }
    }

    asio::awaitable<void> check_some() {
        while (next_ < sockets_.size()) {
            tcp::socket& s = sockets_[next_++];
            bool ok = config_.websocket ? co_await ws_echo(s) : co_await http_exchange(s, config_);
            if (ok) ++alive_;
        }
    }

    asio::io_context& ctx_;
    const settings& config_;
    std::vector<tcp::socket> sockets_;
    std::size_t next_ = 0, alive_ = 0;
};

settings parse_args(int argc, char** argv) {
    settings s;
    auto number = [](std::string_view flag, const char* text) {
        char* end = nullptr;
        unsigned long value = std::strtoul(text, &end, 10);
        if (*text == '\0' || *end != '\0')
            throw std::invalid_argument(std::string(flag) + ": not a number: " + text);
        return value;
    };
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string_view arg = argv[i];
        const char* value = argv[i + 1];
        if (arg == "--port") s.port = static_cast<unsigned short>(number(arg, value));
        else if (arg == "--mode") s.websocket = std::string_view(value) == "ws";
        else if (arg == "--path") s.path = value;
        else if (arg == "--connections") s.connections = number(arg, value);
        else if (arg == "--sources") s.sources = unsigned(number(arg, value));
        else if (arg == "--parallel") s.parallel = number(arg, value);
        else throw std::invalid_argument("unknown option: " + std::string(arg));
    }
    if (argc % 2 == 0) throw std::invalid_argument("every option takes a value");
    if (s.path.empty()) s.path = s.websocket ? "/ws" : "/plaintext";
    if (s.sources == 0 || s.sources > 254 || s.parallel == 0)
        throw std::invalid_argument("--sources must be 1..254 and --parallel positive");
    return s;
}

} // namespace

int main(int argc, char** argv) {
    try {
        const settings config = parse_args(argc, argv);
        asio::io_context ctx{1};
        pool connections(ctx, config);
        connections.open();
        std::printf("open %zu\n", config.connections);
        std::fflush(stdout);
        std::string line;
        std::getline(std::cin, line); // the caller has read the server's memory
        std::printf("alive %zu\n", connections.check());
        std::fflush(stdout);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "idle_clients: %s\n", e.what());
        return 1;
    }
}
