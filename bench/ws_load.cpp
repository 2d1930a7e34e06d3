// SPDX-License-Identifier: MIT
// WebSocket echo load generator (standalone Asio, no Beast). Opens N connections, does each
// handshake itself, and keeps K messages in flight on every connection: each read's echoes are
// counted and checked byte for byte against what was sent, and the same number of new frames
// go out in one write. Counts the echoes of a measured window after a warm-up.
//
//   ./ws_load --port 18402 [--path /ws] [--connections 50] [--depth 1] [--size 32]
//             [--binary] [--duration 5] [--warmup 1] [--server-pid PID] [--lockstep]
//
// By default a connection refills after every read, so K stay in flight and the batches the
// server sees settle wherever the two sides' timing puts them. --lockstep waits for all K echoes
// before sending the next K, so every write carries exactly K frames.
//
// Prints one line: `messages/s R echoes N seconds S client_cpu P% server_cpu Q% ...`.
// client_cpu is this process's CPU time over the window as a share of one core: near 100% means
// the load generator, not the server, set the pace. server_cpu is the same for --server-pid
// (read from /proc/PID/stat at both ends of the window), -1 without it. Exits 1 on any error,
// including an echo that differs from the message sent (a wrong length, opcode, sequence number or
// byte).
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#if ASIO_VERSION >= 102300
#include <asio/as_tuple.hpp>
#else
#include <asio/experimental/as_tuple.hpp>
#endif

#include <sys/resource.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

#if ASIO_VERSION >= 102300
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
#else
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
#endif

struct settings {
    std::string host = "127.0.0.1";
    unsigned short port = 8000;
    std::string path = "/ws";
    std::size_t connections = 50;
    std::size_t depth = 1;
    std::size_t size = 32;
    bool binary = false;
    double duration = 5;
    double warmup = 1;
    long server_pid = 0; // 0: not measured
    bool lockstep = false;
};

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "ws_load: %s\n", why.c_str());
    std::exit(1);
}

// Message n's payload: the template below with its first bytes replaced by n in hex, so a
// reordered, lost or corrupted echo is caught. Printable ASCII keeps text frames valid UTF-8.
class payloads {
public:
    explicit payloads(std::size_t size) : template_(size, '\0') {
        for (std::size_t i = 0; i < size; ++i) template_[i] = char('a' + i % 26);
        digits_ = size < 16 ? size : 16;
    }
    std::size_t size() const noexcept { return template_.size(); }
    void write(char* out, std::uint64_t n) const noexcept {
        std::memcpy(out, template_.data(), template_.size());
        stamp(out, n);
    }
    bool matches(const char* in, std::uint64_t n) const noexcept {
        char expected[16];
        stamp(expected, n);
        return std::memcmp(in, expected, digits_) == 0 &&
               std::memcmp(in + digits_, template_.data() + digits_, size() - digits_) == 0;
    }

private:
    void stamp(char* out, std::uint64_t n) const noexcept {
        for (std::size_t i = digits_; i-- > 0; n >>= 4) out[i] = "0123456789abcdef"[n & 15];
    }
    std::string template_;
    std::size_t digits_;
};

struct shared_state {
    const settings& config;
    payloads messages;
    std::uint64_t echoes = 0; // across all connections
    std::size_t ready = 0;    // connections past their handshake
    bool stopping = false;
};

// xorshift64: a new masking key per frame (RFC 6455 §5.3), cheap enough not to matter.
std::uint64_t next_random(std::uint64_t& s) noexcept {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

void mask_in_place(char* data, std::size_t n, std::uint32_t key) noexcept {
    std::uint64_t wide = (std::uint64_t(key) << 32) | key; // the key as bytes, repeated
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, data + i, 8);
        w ^= wide;
        std::memcpy(data + i, &w, 8);
    }
    const auto* k = reinterpret_cast<const unsigned char*>(&key);
    for (; i < n; ++i) data[i] = char(data[i] ^ k[i % 4]);
}

class connection {
public:
    connection(asio::io_context& ctx, shared_state& shared, std::uint64_t seed)
        : socket_(ctx), shared_(shared), random_(seed | 1) {
        const std::size_t frame = shared.messages.size() + 14;
        out_.reserve(frame * shared.config.depth);
        in_.resize(std::max<std::size_t>(64 * 1024, 2 * frame));
    }

    asio::awaitable<void> run(tcp::endpoint server) {
        auto [ec] = co_await socket_.async_connect(server, use_tuple);
        if (ec) fail("connect: " + ec.message());
        socket_.set_option(tcp::no_delay(true));
        co_await handshake();
        ++shared_.ready;
        const std::size_t depth = shared_.config.depth;
        while (!shared_.stopping) {
            // Refill: as many new frames as echoes came back (or, in lockstep, all K once all
            // K came back), all in one write.
            if (!shared_.config.lockstep || in_flight_ == 0)
                for (; in_flight_ < depth; ++in_flight_) append_frame(sent_++);
            if (!out_.empty()) {
                auto [write_ec, n] = co_await asio::async_write(socket_, asio::buffer(out_),
                                                                use_tuple);
                if (write_ec) fail("write: " + write_ec.message());
                out_.clear();
            }
            auto [read_ec, n] = co_await socket_.async_read_some(
                asio::buffer(in_.data() + in_end_, in_.size() - in_end_), use_tuple);
            if (read_ec) {
                if (shared_.stopping) break;
                fail("read: " + read_ec.message() + " (the server closed the connection?)");
            }
            in_end_ += n;
            consume_frames();
        }
        std::error_code ignored;
        socket_.close(ignored);
    }

private:
    asio::awaitable<void> handshake() {
        std::string request =
            "GET " + shared_.config.path + " HTTP/1.1\r\nHost: " + shared_.config.host +
            "\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n";
        auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(request), use_tuple);
        if (ec) fail("handshake write: " + ec.message());
        std::string reply;
        auto [read_ec, head] = co_await asio::async_read_until(socket_, asio::dynamic_buffer(reply),
                                                               "\r\n\r\n", use_tuple);
        if (read_ec) fail("handshake read: " + read_ec.message());
        if (!reply.starts_with("HTTP/1.1 101 ") ||
            reply.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == std::string::npos) // RFC 6455 §1.3
            fail("handshake refused: " + reply.substr(0, reply.find("\r\n")));
        // Bytes after the head (none expected: nothing was sent yet) stay for the frame parser.
        std::memcpy(in_.data(), reply.data() + head, reply.size() - head);
        in_end_ = reply.size() - head;
    }

    void append_frame(std::uint64_t n) {
        const std::size_t size = shared_.messages.size();
        unsigned char header[14];
        std::size_t h = 0;
        header[h++] = 0x80 | (shared_.config.binary ? 0x2 : 0x1); // FIN, one frame per message
        if (size < 126) {
            header[h++] = 0x80 | unsigned(size);
        } else if (size <= 0xffff) {
            header[h++] = 0x80 | 126;
            header[h++] = unsigned(size >> 8);
            header[h++] = unsigned(size & 0xff);
        } else {
            header[h++] = 0x80 | 127;
            for (int shift = 56; shift >= 0; shift -= 8)
                header[h++] = unsigned((size >> shift) & 0xff);
        }
        std::uint32_t key = std::uint32_t(next_random(random_));
        std::memcpy(header + h, &key, 4);
        h += 4;
        const std::size_t at = out_.size();
        out_.resize(at + h + size);
        std::memcpy(out_.data() + at, header, h);
        shared_.messages.write(out_.data() + at + h, n);
        mask_in_place(out_.data() + at + h, size, key);
    }

    // Every complete frame in the buffer must be the next echo, unmasked, whole and unchanged.
    void consume_frames() {
        const auto* data = reinterpret_cast<const unsigned char*>(in_.data());
        std::size_t at = 0;
        for (;;) {
            std::size_t available = in_end_ - at;
            if (available < 2) break;
            const unsigned char b0 = data[at], b1 = data[at + 1];
            std::size_t h = 2;
            std::uint64_t length = b1 & 0x7f;
            if (length == 126) {
                if (available < 4) break;
                length = (std::uint64_t(data[at + 2]) << 8) | data[at + 3];
                h = 4;
            } else if (length == 127) {
                if (available < 10) break;
                length = 0;
                for (int i = 0; i < 8; ++i) length = (length << 8) | data[at + 2 + i];
                h = 10;
            }
            if (b1 & 0x80) fail("the server masked a frame (RFC 6455 §5.1 forbids it)");
            const unsigned opcode = b0 & 0x0f;
            if (opcode == 0x8) fail("the server sent a close frame");
            if (!(b0 & 0x80) || opcode != (shared_.config.binary ? 0x2u : 0x1u))
                fail("echo " + std::to_string(received_) + ": expected one unfragmented " +
                     (shared_.config.binary ? "binary" : "text") + " frame, got opcode " +
                     std::to_string(opcode) + ((b0 & 0x80) ? "" : " without FIN"));
            if (length != shared_.messages.size())
                fail("echo " + std::to_string(received_) + ": " + std::to_string(length) +
                     " bytes instead of " + std::to_string(shared_.messages.size()));
            if (available < h + length) {
                if (h + length > in_.size()) fail("frame larger than the read buffer");
                break;
            }
            if (!shared_.messages.matches(in_.data() + at + h, received_))
                fail("echo " + std::to_string(received_) +
                     ": payload differs from the message sent");
            ++received_;
            --in_flight_;
            ++shared_.echoes;
            at += h + std::size_t(length);
        }
        if (at > 0) {
            std::memmove(in_.data(), in_.data() + at, in_end_ - at);
            in_end_ -= at;
        }
    }

    tcp::socket socket_;
    shared_state& shared_;
    std::uint64_t random_;
    std::vector<char> out_; // this refill's frames, reused
    std::vector<char> in_;  // unparsed bytes from the server, reused
    std::size_t in_end_ = 0;
    std::size_t in_flight_ = 0;
    std::uint64_t sent_ = 0, received_ = 0;
};

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// CPU seconds (user + system) a process has used so far, from /proc/PID/stat; -1 if unknown.
double process_cpu_seconds(long pid) {
    std::string path = "/proc/" + std::to_string(pid) + "/stat";
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (!f) return -1;
    char line[1024];
    std::size_t n = std::fread(line, 1, sizeof line - 1, f);
    std::fclose(f);
    line[n] = '\0';
    const char* p = std::strrchr(line, ')'); // the command name may hold spaces
    if (!p) return -1;
    unsigned long long utime = 0, stime = 0;
    // After ") ": state, then fields 4..13; utime and stime are fields 14 and 15.
    if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) != 2)
        return -1;
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

asio::awaitable<void> sleep_for(double seconds) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(
        std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds)));
    co_await timer.async_wait(use_tuple);
}

asio::awaitable<void> measure(shared_state& shared, asio::io_context& ctx) {
    const auto& config = shared.config;
    for (int waited = 0; shared.ready < config.connections; ++waited) {
        if (waited == 1000)
            fail("only " + std::to_string(shared.ready) + " of " +
                 std::to_string(config.connections) + " connections open after 10 s");
        co_await sleep_for(0.01);
    }
    co_await sleep_for(config.warmup);
    const std::uint64_t first = shared.echoes;
    const auto start = clock_type::now();
    const double cpu_start = cpu_seconds();
    const double server_start = config.server_pid ? process_cpu_seconds(config.server_pid) : -1;
    co_await sleep_for(config.duration);
    const std::uint64_t echoes = shared.echoes - first;
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    const double server_end = config.server_pid ? process_cpu_seconds(config.server_pid) : -1;
    const double server_cpu = server_start >= 0 && server_end >= 0 ? server_end - server_start : -1;
    std::printf("messages/s %.0f echoes %llu seconds %.3f client_cpu %.0f%% server_cpu %.0f%% "
                "server_us_per_message %.3f connections %zu depth %zu size %zu %s\n",
                double(echoes) / seconds, static_cast<unsigned long long>(echoes), seconds,
                cpu * 100 / seconds, server_cpu < 0 ? -1.0 : server_cpu * 100 / seconds,
                server_cpu < 0 || echoes == 0 ? -1.0 : server_cpu * 1e6 / double(echoes),
                config.connections, config.depth, config.size, config.binary ? "binary" : "text");
    std::fflush(stdout);
    shared.stopping = true;
    ctx.stop();
}

settings parse_args(int argc, char** argv) {
    settings s;
    auto number = [](std::string_view flag, const char* text) {
        char* end = nullptr;
        double value = std::strtod(text, &end);
        if (*text == '\0' || *end != '\0' || value < 0)
            throw std::invalid_argument(std::string(flag) + ": not a number: " + text);
        return value;
    };
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--binary") {
            s.binary = true;
            continue;
        }
        if (arg == "--text") {
            s.binary = false;
            continue;
        }
        if (arg == "--lockstep") {
            s.lockstep = true;
            continue;
        }
        if (i + 1 >= argc) throw std::invalid_argument("missing value after " + std::string(arg));
        const char* value = argv[++i];
        if (arg == "--host") s.host = value;
        else if (arg == "--port") s.port = static_cast<unsigned short>(number(arg, value));
        else if (arg == "--path") s.path = value;
        else if (arg == "--connections") s.connections = std::size_t(number(arg, value));
        else if (arg == "--depth") s.depth = std::size_t(number(arg, value));
        else if (arg == "--size") s.size = std::size_t(number(arg, value));
        else if (arg == "--duration") s.duration = number(arg, value);
        else if (arg == "--warmup") s.warmup = number(arg, value);
        else if (arg == "--server-pid") s.server_pid = long(number(arg, value));
        else throw std::invalid_argument("unknown option: " + std::string(arg));
    }
    if (s.connections == 0 || s.depth == 0 || s.size == 0 || s.duration <= 0)
        throw std::invalid_argument(
            "--connections, --depth, --size and --duration must be positive");
    return s;
}

} // namespace

int main(int argc, char** argv) {
    try {
        const settings config = parse_args(argc, argv);
        asio::io_context ctx{1};
        shared_state shared{config, payloads(config.size)};
        tcp::endpoint server(asio::ip::make_address(config.host), config.port);
        std::vector<std::unique_ptr<connection>> connections;
        for (std::size_t i = 0; i < config.connections; ++i) {
            connections.push_back(
                std::make_unique<connection>(ctx, shared, 0x9e3779b97f4a7c15ull * (i + 1)));
            asio::co_spawn(ctx, connections.back()->run(server), asio::detached);
        }
        asio::co_spawn(ctx, measure(shared, ctx), asio::detached);
        ctx.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ws_load: %s\n", e.what());
        return 1;
    }
}
