// SPDX-License-Identifier: MIT
// Fan-out load generator: S subscribers on `/` and one publisher on `/publisher`; the publisher
// sends 32-byte binary messages (a sequence number and the send time) at a fixed rate, or as
// fast as every subscriber keeps up; every subscriber checks it gets each message once and in
// order, and the time from send to receipt goes into a histogram. Subscribers may be spread
// over several servers (--ports), the publisher uses the first. What the publisher receives (a
// server whose publishers also get their messages) is read and ignored.
//
//   ./fanout_load --ports 8000[,8001] [--subscribers 1000] [--rate 1000 | --rate 0 --window 64]
//                 [--duration 5] [--warmup 1] [--server-pid PID[,PID...]]
//
// --rate 0: as fast as it goes, with at most --window messages that some subscriber has not
// received yet. Prints one line: `messages/s M deliveries/s D p50_us A p99_us B max_us C
// client_cpu P% server_cpu Q% server_us_per_delivery U subscribers S rate R`. server_cpu sums
// the --server-pid processes. Exits 1 on any error, including a lost or reordered message.
//
// One thread on epoll, without Asio: the subscribers' reads are most of its work (one recv per
// ready socket per wake), and a generator near its core's limit measures itself.
#include "load_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <memory>

namespace {

using namespace bench;

struct settings {
    std::string host = "127.0.0.1";
    std::vector<long> ports{8000};
    std::size_t subscribers = 1000;
    double rate = 1000; // messages per second; 0: as fast as the subscribers take them
    std::size_t window = 64;
    double duration = 5, warmup = 1;
    std::vector<long> server_pids;
};

constexpr std::size_t message_size = 32;
constexpr std::size_t frame_size = 2 + message_size; // as the server sends it: no mask

// Send-to-receipt times in 10 us buckets up to 1 s, and what is beyond.
class latency_histogram {
public:
    void add(std::int64_t ns) {
        const std::int64_t bucket = std::max<std::int64_t>(ns, 0) / 10'000;
        ++counts_[std::size_t(std::min<std::int64_t>(bucket, buckets - 1))];
        ++total_;
        max_ns_ = std::max(max_ns_, ns);
    }
    void clear() {
        counts_.fill(0);
        total_ = 0;
        max_ns_ = 0;
    }
    // The upper edge of the bucket holding quantile q, in microseconds.
    double quantile_us(double q) const {
        if (total_ == 0) return -1;
        const auto wanted = std::uint64_t(q * double(total_));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < buckets; ++i) {
            seen += counts_[i];
            if (seen > wanted) return double(i + 1) * 10;
        }
        return double(buckets) * 10;
    }
    double max_us() const { return double(max_ns_) / 1000; }

private:
    static constexpr std::size_t buckets = 100'000;
    std::array<std::uint64_t, buckets> counts_{};
    std::uint64_t total_ = 0;
    std::int64_t max_ns_ = 0;
};

// A connected socket that finished the WebSocket handshake; bytes after the answer stay in
// `extra`.
int open_websocket(const settings& config, long port, const char* path, std::string& extra) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail(std::string("socket: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, config.host.c_str(), &address.sin_addr) != 1)
        fail("not an IPv4 address: " + config.host);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        fail("connect to port " + std::to_string(port) + ": " + std::strerror(errno));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const std::string request = std::string("GET ") + path +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                "Sec-WebSocket-Version: 13\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
        fail("handshake write failed");
    std::string reply;
    char chunk[1024];
    std::size_t end;
    while ((end = reply.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) fail("handshake read: the server closed or failed");
        reply.append(chunk, std::size_t(n));
    }
    if (!reply.starts_with("HTTP/1.1 101 ") ||
        reply.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == std::string::npos) // RFC 6455 §1.3
        fail("handshake refused: " + reply.substr(0, reply.find("\r\n")));
    extra = reply.substr(end + 4);
    return fd;
}

struct subscriber {
    int fd = -1;
    std::uint64_t last = 0;
    bool has_last = false;
    std::array<unsigned char, frame_size> tail{}; // a frame cut by TCP, kept for the next read
    std::size_t tail_size = 0;
};

class generator {
public:
    explicit generator(const settings& s) : config_(s), seen_(s.window, 0) {}

    void connect_all() {
        std::string extra;
        subscribers_.resize(config_.subscribers);
        for (std::size_t i = 0; i < subscribers_.size(); ++i) {
            subscribers_[i].fd = open_websocket(config_, config_.ports[i % config_.ports.size()],
                                                "/", extra);
            if (!extra.empty()) fail("a subscriber got bytes before anything was published");
        }
        publisher_ = open_websocket(config_, config_.ports[0], "/publisher", extra);
        epoll_ = ::epoll_create1(0);
        timer_ = ::timerfd_create(CLOCK_MONOTONIC, 0);
        if (epoll_ < 0 || timer_ < 0)
            fail("epoll or timerfd: " + std::string(std::strerror(errno)));
        const itimerspec every_ms{{0, 1'000'000}, {0, 1'000'000}};
        ::timerfd_settime(timer_, 0, &every_ms, nullptr);
        watch(timer_, ~std::uint64_t(0));
        watch(publisher_, ~std::uint64_t(0) - 1);
        for (std::size_t i = 0; i < subscribers_.size(); ++i) watch(subscribers_[i].fd, i);
    }

    void run() {
        // Until every subscriber has received something, it may not have joined the topic yet
        // (on another process, Redis may not have its subscription): probe every 10 ms.
        run_until(now_ns() + 10'000'000'000, [&](std::int64_t now) {
            if (synced_ == subscribers_.size()) return true;
            if (now >= next_probe_) {
                publish(1);
                next_probe_ = now + 10'000'000;
            }
            return false;
        });
        if (synced_ != subscribers_.size())
            fail("only " + std::to_string(synced_) + " of " + std::to_string(subscribers_.size()) +
                 " subscribers receive after 10 s");
        run_for(50'000'000); // the probes still on their way arrive
        base_ = oldest_ = next_;
        started_ = now_ns();
        first_paced_ = next_;
        top_up();
        run_for(std::int64_t(config_.warmup * 1e9));
        measuring_ = true;
        const std::uint64_t published = published_;
        const std::int64_t start = now_ns();
        const double cpu_start = cpu_seconds();
        const double server_start = processes_cpu_seconds(config_.server_pids);
        run_for(std::int64_t(config_.duration * 1e9));
        measuring_ = false;
        const double seconds = double(now_ns() - start) / 1e9;
        const double cpu = cpu_seconds() - cpu_start;
        const double server_end = processes_cpu_seconds(config_.server_pids);
        const double server_cpu = config_.server_pids.empty() || server_start < 0 || server_end < 0
                                      ? -1
                                      : server_end - server_start;
        const auto deliveries = double(deliveries_);
        std::printf("messages/s %.0f deliveries/s %.0f p50_us %.0f p99_us %.0f max_us %.0f "
                    "client_cpu %.0f%% server_cpu %.0f%% server_us_per_delivery %.4f "
                    "subscribers %zu rate %.0f\n",
                    double(published_ - published) / seconds, deliveries / seconds,
                    latency_.quantile_us(0.5), latency_.quantile_us(0.99), latency_.max_us(),
                    cpu * 100 / seconds, server_cpu < 0 ? -1.0 : server_cpu * 100 / seconds,
                    server_cpu < 0 || deliveries == 0 ? -1.0 : server_cpu * 1e6 / deliveries,
                    config_.subscribers, config_.rate);
        std::fflush(stdout);
    }

private:
    static constexpr std::uint64_t timer_key = ~std::uint64_t(0);
    static constexpr std::uint64_t publisher_key = ~std::uint64_t(0) - 1;

    void watch(int fd, std::uint64_t key) {
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.u64 = key;
        if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &e) != 0)
            fail(std::string("epoll_ctl: ") + std::strerror(errno));
    }

    void run_for(std::int64_t ns) {
        run_until(now_ns() + ns, [](std::int64_t) { return false; });
    }

    // Serves events until `deadline` or until done(now) says so.
    template <class Done>
    void run_until(std::int64_t deadline, Done done) {
        std::array<epoll_event, 1024> events;
        for (;;) {
            const std::int64_t now = now_ns();
            if (now >= deadline || done(now)) return;
            const int n = ::epoll_wait(epoll_, events.data(), int(events.size()), 2);
            if (n < 0 && errno != EINTR) fail(std::string("epoll_wait: ") + std::strerror(errno));
            for (int i = 0; i < n; ++i) {
                const std::uint64_t key = events[std::size_t(i)].data.u64;
                if (key == timer_key) on_tick();
                else if (key == publisher_key) drain_publisher();
                else read_subscriber(subscribers_[key]);
            }
            top_up();
            flush_publisher();
        }
    }

    void on_tick() {
        std::uint64_t expirations;
        if (::read(timer_, &expirations, sizeof expirations) < 0) return;
        if (config_.rate == 0 || started_ == 0) return;
        // What the rate owes since the start, sent together.
        const double elapsed = double(now_ns() - started_) / 1e9;
        const auto owed = first_paced_ + std::uint64_t(elapsed * config_.rate) + 1;
        if (owed > next_) publish(owed - next_);
    }

    // A server whose publishers are subscribers too (uWebSockets' app-level publish) sends the
    // publisher its own messages: read and ignore them.
    void drain_publisher() {
        const ssize_t n = ::recv(publisher_, in_.data(), in_.size(), 0);
        if (n <= 0) fail("the publisher's connection closed or failed");
    }

    void read_subscriber(subscriber& s) {
        std::memcpy(in_.data(), s.tail.data(), s.tail_size);
        const ssize_t n = ::recv(s.fd, in_.data() + s.tail_size, in_.size() - s.tail_size, 0);
        if (n <= 0) fail("a subscriber's connection closed or failed");
        const std::size_t end = s.tail_size + std::size_t(n);
        std::size_t at = 0;
        const std::int64_t now = measuring_ ? now_ns() : 0;
        for (; at + frame_size <= end; at += frame_size) {
            const unsigned char* frame = in_.data() + at;
            if (frame[0] != 0x82 || frame[1] != message_size)
                fail("expected a 32-byte binary frame, got bytes " + std::to_string(frame[0]) +
                     " " + std::to_string(frame[1]));
            on_message(s, frame + 2, now);
        }
        s.tail_size = end - at;
        std::memcpy(s.tail.data(), in_.data() + at, s.tail_size);
    }

    void on_message(subscriber& s, const unsigned char* m, std::int64_t now) {
        std::uint64_t seq;
        std::int64_t sent;
        std::memcpy(&seq, m, 8);
        std::memcpy(&sent, m + 8, 8);
        if (s.has_last && seq != s.last + 1)
            fail("a subscriber got message " + std::to_string(seq) + " after " +
                 std::to_string(s.last) + " (lost or reordered)");
        if (!s.has_last) ++synced_;
        s.has_last = true;
        s.last = seq;
        if (seq < base_) return;
        if (measuring_) {
            ++deliveries_;
            latency_.add(now - sent);
        }
        if (config_.rate != 0) return; // paced: no window to keep
        if (seq >= oldest_ + config_.window) fail("a message beyond the window arrived");
        if (++seen_[seq % config_.window] < subscribers_.size()) return;
        // Only the oldest can complete first: every subscriber receives in order.
        while (oldest_ < next_ && seen_[oldest_ % config_.window] == subscribers_.size()) {
            seen_[oldest_ % config_.window] = 0;
            ++oldest_;
        }
    }

    // As fast as it goes: never more than `window` messages some subscriber lacks.
    void top_up() {
        if (config_.rate != 0 || started_ == 0) return;
        if (next_ < oldest_ + config_.window) publish(oldest_ + config_.window - next_);
    }

    void publish(std::uint64_t count) {
        const std::int64_t now = now_ns();
        for (std::uint64_t i = 0; i < count; ++i) {
            unsigned char frame[6 + message_size] = {0x82, 0x80 | message_size};
            const std::uint64_t seq = next_++;
            unsigned char m[message_size] = {};
            std::memcpy(m, &seq, 8);
            std::memcpy(m + 8, &now, 8);
            const std::uint32_t key = std::uint32_t(seq * 0x9e3779b9u) | 1;
            std::memcpy(frame + 2, &key, 4);
            for (std::size_t b = 0; b < message_size; ++b) frame[6 + b] = m[b] ^ frame[2 + b % 4];
            out_.append(reinterpret_cast<const char*>(frame), sizeof frame);
        }
        published_ += count;
    }

    void flush_publisher() {
        if (out_.empty()) return;
        const ssize_t n = ::send(publisher_, out_.data(), out_.size(), MSG_NOSIGNAL);
        if (n < 0) fail(std::string("publisher write: ") + std::strerror(errno));
        out_.erase(0, std::size_t(n)); // blocking socket: all of it, unless interrupted
    }

    const settings& config_;
    std::vector<subscriber> subscribers_;
    int publisher_ = -1, epoll_ = -1, timer_ = -1;
    std::array<unsigned char, 64 * 1024> in_{};
    std::string out_;
    std::size_t synced_ = 0;
    std::int64_t next_probe_ = 0, started_ = 0;
    // Messages before base_ were probes: not counted.
    std::uint64_t base_ = ~std::uint64_t(0), next_ = 0, oldest_ = 0, first_paced_ = 0;
    std::vector<std::size_t> seen_; // per message in the window: subscribers that have it
    std::uint64_t deliveries_ = 0, published_ = 0;
    bool measuring_ = false;
    latency_histogram latency_;
};

settings parse_args(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (i + 1 >= argc) throw std::invalid_argument("missing value after " + std::string(arg));
        const char* value = argv[++i];
        if (arg == "--host") s.host = value;
        else if (arg == "--ports" || arg == "--port") s.ports = parse_list(arg, value);
        else if (arg == "--subscribers") s.subscribers = std::size_t(parse_number(arg, value));
        else if (arg == "--rate") s.rate = parse_number(arg, value);
        else if (arg == "--window") s.window = std::size_t(parse_number(arg, value));
        else if (arg == "--duration") s.duration = parse_number(arg, value);
        else if (arg == "--warmup") s.warmup = parse_number(arg, value);
        else if (arg == "--server-pid") s.server_pids = parse_list(arg, value);
        else throw std::invalid_argument("unknown option: " + std::string(arg));
    }
    if (s.subscribers == 0 || s.duration <= 0 || s.window == 0 || s.ports.empty())
        throw std::invalid_argument("--subscribers, --duration, --window, --ports: not empty");
    return s;
}

} // namespace

int main(int argc, char** argv) {
    bench::program_name = "fanout_load";
    try {
        const settings config = parse_args(argc, argv);
        auto g = std::make_unique<generator>(config);
        g->connect_all();
        g->run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fanout_load: %s\n", e.what());
        return 1;
    }
}
