// SPDX-License-Identifier: MIT
// The attacks of the security review, as a client, for bench/hostile_run.sh to measure what
// each costs a server (its CPU and memory are read from /proc by the script). Plain blocking
// sockets: one attack at a time, and the script pins this client to its own core.
//
//   hostile deflate-bomb  --port P [--mib 4]   # one compressed frame of empty final blocks,
//                                              # with GET /hello on another connection meanwhile
//   hostile big-message   --port P [--path /ws-size] [--mode compressed|whole|fragments]
//                                              # a 16 MiB - 1 text message; its answer read
//   hostile hold          --port P --count N --seconds S   # N idle connections held S seconds
//
// Prints `key=value` lines the script reads.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

int connect_to(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(std::uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("hostile: connect");
        std::exit(1);
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        bytes.remove_prefix(std::size_t(n));
    }
    return true;
}

// Reads until `marker` is seen, the peer closes, or `limit` passes; what was read.
std::string read_until(int fd, std::string_view marker, std::chrono::milliseconds limit) {
    std::string in;
    const auto until = clock_type::now() + limit;
    char buf[65536];
    while (in.find(marker) == std::string::npos) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until -
                                                                          clock_type::now());
        if (left.count() <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, int(left.count())) <= 0) break;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, std::size_t(n));
    }
    return in;
}

// A masked client frame (RFC 6455 §5.2).
std::string frame(std::uint8_t opcode, std::string_view payload, bool fin, bool rsv1) {
    std::string f;
    f += char((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
    if (payload.size() < 126) {
        f += char(0x80 | payload.size());
    } else if (payload.size() <= 0xffff) {
        f += char(0x80 | 126);
        f += char(payload.size() >> 8);
        f += char(payload.size() & 0xff);
    } else {
        f += char(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            f += char((std::uint64_t(payload.size()) >> shift) & 0xff);
    }
    const char mask[4] = {0x11, 0x22, 0x33, 0x44};
    f.append(mask, 4);
    const std::size_t at = f.size();
    f.append(payload);
    for (std::size_t i = 0; i < payload.size(); ++i) f[at + i] ^= mask[i % 4];
    return f;
}

int open_websocket(int port, bool deflate, const std::string& path = "/ws") {
    int fd = connect_to(port);
    std::string head =
        "GET " + path +
        " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    if (deflate) head += "Sec-WebSocket-Extensions: permessage-deflate\r\n";
    send_all(fd, head + "\r\n");
    auto answer = read_until(fd, "\r\n\r\n", std::chrono::seconds(5));
    if (answer.rfind("HTTP/1.1 101", 0) != 0) {
        std::fprintf(stderr, "hostile: no 101: %s\n", answer.c_str());
        std::exit(1);
    }
    return fd;
}

// The close code of the first close frame in `in` (0 when none).
int close_code(const std::string& in) {
    std::size_t i = 0;
    while (i + 2 <= in.size()) {
        std::uint8_t op = std::uint8_t(in[i]) & 0x0f;
        std::size_t len = std::uint8_t(in[i + 1]) & 0x7f, head = 2;
        if (len == 126 && i + 4 <= in.size()) {
            len = std::size_t(std::uint8_t(in[i + 2])) << 8 | std::uint8_t(in[i + 3]);
            head = 4;
        } else if (len == 127 && i + 10 <= in.size()) {
            len = 0;
            for (int k = 2; k < 10; ++k) len = len << 8 | std::uint8_t(in[i + std::size_t(k)]);
            head = 10;
        }
        if (op == 0x8)
            return len >= 2 && i + head + 2 <= in.size()
                       ? std::uint8_t(in[i + head]) << 8 | std::uint8_t(in[i + head + 1])
                       : 1005;
        i += head + len;
    }
    return 0;
}

std::string raw_deflate(const std::string& data) {
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, uLong(data.size())) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = uInt(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = uInt(out.size());
    deflate(&z, Z_SYNC_FLUSH);
    out.resize(out.size() - z.avail_out - 4); // RFC 7692 §7.2.1: the tail goes
    deflateEnd(&z);
    return out;
}

int deflate_bomb(int port, int mib) {
    int ws = open_websocket(port, true);
    std::string bomb;
    bomb.reserve(std::size_t(mib) << 20);
    while (bomb.size() < (std::size_t(mib) << 20)) bomb.append("\x03\x00", 2);
    const auto start = clock_type::now();
    std::thread sender([&] { send_all(ws, frame(0x2, bomb, true, true)); });
    // Another client on the same loop, once the bomb is on its way.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto asked = clock_type::now();
    int http = connect_to(port);
    send_all(http, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    auto hello = read_until(http, "Hello, World!", std::chrono::seconds(60));
    const auto answered = clock_type::now();
    auto closing = read_until(ws, std::string_view("\x88", 1), std::chrono::seconds(120));
    const auto closed = clock_type::now();
    sender.join();
    std::printf("hello_ms=%.1f\nhello_ok=%d\nclose_code=%d\nclose_ms=%.1f\n",
                std::chrono::duration<double, std::milli>(answered - asked).count(),
                hello.find("Hello, World!") != std::string::npos ? 1 : 0, close_code(closing),
                std::chrono::duration<double, std::milli>(closed - start).count());
    ::close(http);
    ::close(ws);
    return 0;
}

int big_message(int port, const std::string& path, const std::string& mode) {
    const std::string text((16u << 20) - 1, 'a');
    int ws = open_websocket(port, mode == "compressed", path);
    std::string wire;
    if (mode == "compressed") {
        wire = frame(0x1, raw_deflate(text), true, true);
    } else if (mode == "whole") {
        wire = frame(0x1, text, true, false);
    } else {
        for (std::size_t at = 0; at < text.size(); at += 64 * 1024)
            wire += frame(at == 0 ? 0x1 : 0x0, std::string_view(text).substr(at, 64 * 1024),
                          at + 64 * 1024 >= text.size(), false);
    }
    std::thread sender([&] { send_all(ws, wire); });
    // The answer: the size (/ws-size), or the message itself (/ws); its first frame is enough.
    const std::size_t want = path == "/ws" ? text.size() : 4;
    std::size_t got = 0;
    char buf[1 << 16];
    const auto until = clock_type::now() + std::chrono::seconds(60);
    while (got < want && clock_type::now() < until) {
        pollfd p{ws, POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0) continue;
        ssize_t n = ::recv(ws, buf, sizeof buf, 0);
        if (n <= 0) break;
        got += std::size_t(n);
    }
    sender.join();
    std::printf("answered=%d\n", got >= want ? 1 : 0);
    ::close(ws);
    return 0;
}

int hold(int port, int count, int seconds) {
    std::vector<int> fds;
    for (int i = 0; i < count; ++i) fds.push_back(connect_to(port));
    std::printf("held=%d\n", count);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    for (int fd : fds) ::close(fd);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: hostile deflate-bomb|big-message|hold --port P ...\n");
        return 2;
    }
    std::string what = argv[1], mode = "compressed", path = "/ws";
    int port = 0, mib = 4, count = 100, seconds = 5;
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string_view flag = argv[i];
        if (flag == "--port") port = std::atoi(argv[i + 1]);
        else if (flag == "--mib") mib = std::atoi(argv[i + 1]);
        else if (flag == "--mode") mode = argv[i + 1];
        else if (flag == "--path") path = argv[i + 1];
        else if (flag == "--count") count = std::atoi(argv[i + 1]);
        else if (flag == "--seconds") seconds = std::atoi(argv[i + 1]);
    }
    if (what == "deflate-bomb") return deflate_bomb(port, mib);
    if (what == "big-message") return big_message(port, path, mode);
    if (what == "hold") return hold(port, count, seconds);
    std::fprintf(stderr, "hostile: unknown attack %s\n", what.c_str());
    return 2;
}
