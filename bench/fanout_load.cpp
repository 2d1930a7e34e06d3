// SPDX-License-Identifier: MIT
// Fan-out load generator: S subscribers on `/` and one publisher on `/publisher`; the publisher
// sends 32-byte binary messages (a sequence number and the send time) at a fixed rate, or as
// fast as every subscriber keeps up; every subscriber checks it gets each message once and in
// order, and the time from send to receipt goes into a histogram. Subscribers may be spread
// over several servers (--ports), the publisher uses the first.
//
//   ./fanout_load --ports 8000[,8001] [--subscribers 1000] [--rate 1000 | --rate 0 --window 64]
//                 [--duration 5] [--warmup 1] [--server-pid PID[,PID...]]
//
// --rate 0: as fast as it goes, with at most --window messages that some subscriber has not
// received yet. Prints one line: `messages/s M deliveries/s D p50_us A p99_us B max_us C
// client_cpu P% server_cpu Q% server_us_per_delivery U subscribers S rate R`. server_cpu sums
// the --server-pid processes. Exits 1 on any error, including a lost or reordered message.
#include "ws_client.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include <algorithm>
#include <array>
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

class run_state {
public:
    explicit run_state(const settings& s) : config(s), seen(s.window, 0) {}

    const settings& config;
    std::size_t ready = 0;
    bool stopping = false;
    bool measuring = false;
    // Messages before `base` were sent while subscribers were still joining: not counted.
    std::uint64_t base = ~std::uint64_t(0);
    std::uint64_t next = 0;        // the next sequence number to send
    std::uint64_t oldest = 0;      // every subscriber has every message before this (from base)
    std::vector<std::size_t> seen; // per message in the window: subscribers that have it
    std::uint64_t deliveries = 0, published = 0;
    std::size_t synced = 0; // subscribers that received anything
    latency_histogram latency;
    ws_client* publisher = nullptr;

    void publish(std::size_t count) {
        const std::int64_t now = now_ns();
        for (std::size_t i = 0; i < count; ++i) {
            unsigned char m[message_size] = {};
            const std::uint64_t seq = next++;
            std::memcpy(m, &seq, 8);
            std::memcpy(m + 8, &now, 8);
            publisher->append_frame(m, message_size);
        }
        published += count;
        publisher->flush();
    }
    // Fills the window: as fast as it goes, never more than `window` unreceived messages.
    void top_up() {
        if (config.rate != 0 || base == ~std::uint64_t(0)) return;
        if (next < oldest + config.window) publish(oldest + config.window - next);
    }
    void received(std::uint64_t seq) {
        if (config.rate != 0 || seq < base) return; // paced: no window to keep
        if (seq >= oldest + config.window) fail("a message beyond the window arrived");
        if (++seen[seq % config.window] < config.subscribers) return;
        // Only the oldest can complete first: every subscriber receives in order.
        while (oldest < next && seen[oldest % config.window] == config.subscribers) {
            seen[oldest % config.window] = 0;
            ++oldest;
        }
        top_up();
    }
};

class subscriber {
public:
    subscriber(asio::io_context& ctx, run_state& run, std::size_t id)
        : ws_(ctx, 0x9e3779b97f4a7c15ull * (id + 1)), run_(run), id_(id) {}

    asio::awaitable<void> run(tcp::endpoint server) {
        co_await ws_.open(server, "/");
        ++run_.ready;
        co_await ws_.read_frames(run_.stopping,
                                 [this](const unsigned char* d, std::size_t n) { on_frame(d, n); });
    }

private:
    void on_frame(const unsigned char* data, std::size_t size) {
        if (size != message_size) fail("a message of " + std::to_string(size) + " bytes");
        std::uint64_t seq;
        std::int64_t sent;
        std::memcpy(&seq, data, 8);
        std::memcpy(&sent, data + 8, 8);
        if (has_last_ && seq != last_ + 1)
            fail("subscriber " + std::to_string(id_) + " got message " + std::to_string(seq) +
                 " after " + std::to_string(last_) + " (lost or reordered)");
        if (!has_last_) ++run_.synced;
        has_last_ = true;
        last_ = seq;
        if (seq < run_.base) return;
        if (run_.measuring) {
            ++run_.deliveries;
            run_.latency.add(now_ns() - sent);
        }
        run_.received(seq);
    }

    ws_client ws_;
    run_state& run_;
    std::size_t id_;
    bool has_last_ = false;
    std::uint64_t last_ = 0;
};

// Paced publishing: every millisecond, what the rate owes since the start.
asio::awaitable<void> pace(run_state& run) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto start = clock_type::now();
    const std::uint64_t first = run.next;
    auto tick = start;
    while (!run.stopping) {
        tick += std::chrono::milliseconds(1);
        timer.expires_at(tick);
        co_await timer.async_wait(use_tuple);
        const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
        const auto owed = std::uint64_t(elapsed * run.config.rate) + 1;
        if (first + owed > run.next) run.publish(first + owed - run.next);
    }
}

asio::awaitable<void> measure(run_state& run, asio::io_context& ctx) {
    const auto& config = run.config;
    for (int waited = 0; run.ready < config.subscribers + 1; ++waited) {
        if (waited == 3000)
            fail("only " + std::to_string(run.ready) + " of " +
                 std::to_string(config.subscribers + 1) + " connections open after 30 s");
        co_await sleep_for(0.01);
    }
    // Until every subscriber has received something, it may not have joined the topic yet
    // (on another process, Redis may not have its subscription): probe every 10 ms.
    for (int waited = 0; run.synced < config.subscribers; ++waited) {
        if (waited == 1000)
            fail("only " + std::to_string(run.synced) + " of " +
                 std::to_string(config.subscribers) + " subscribers receive after 10 s");
        run.publish(1);
        co_await sleep_for(0.01);
    }
    co_await sleep_for(0.05); // the probes still on their way arrive
    run.base = run.oldest = run.next;
    if (config.rate == 0) run.top_up();
    else asio::co_spawn(ctx, pace(run), asio::detached);
    co_await sleep_for(config.warmup);
    run.measuring = true;
    const std::uint64_t published = run.published;
    const auto start = clock_type::now();
    const double cpu_start = cpu_seconds();
    const double server_start = processes_cpu_seconds(config.server_pids);
    co_await sleep_for(config.duration);
    run.measuring = false;
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    const double server_end = processes_cpu_seconds(config.server_pids);
    const double server_cpu = config.server_pids.empty() || server_start < 0 || server_end < 0
                                  ? -1
                                  : server_end - server_start;
    const auto deliveries = double(run.deliveries);
    std::printf("messages/s %.0f deliveries/s %.0f p50_us %.0f p99_us %.0f max_us %.0f "
                "client_cpu %.0f%% server_cpu %.0f%% server_us_per_delivery %.4f "
                "subscribers %zu rate %.0f\n",
                double(run.published - published) / seconds, deliveries / seconds,
                run.latency.quantile_us(0.5), run.latency.quantile_us(0.99), run.latency.max_us(),
                cpu * 100 / seconds, server_cpu < 0 ? -1.0 : server_cpu * 100 / seconds,
                server_cpu < 0 || deliveries == 0 ? -1.0 : server_cpu * 1e6 / deliveries,
                config.subscribers, config.rate);
    std::fflush(stdout);
    run.stopping = true;
    ctx.stop();
}

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
        asio::io_context ctx{1};
        auto run = std::make_unique<run_state>(config);
        const auto address = asio::ip::make_address(config.host);
        auto endpoint = [&](std::size_t i) {
            return tcp::endpoint(address, static_cast<unsigned short>(
                                              config.ports[i % config.ports.size()]));
        };
        std::vector<std::unique_ptr<subscriber>> subscribers;
        for (std::size_t i = 0; i < config.subscribers; ++i) {
            subscribers.push_back(std::make_unique<subscriber>(ctx, *run, i));
            asio::co_spawn(ctx, subscribers.back()->run(endpoint(i)), asio::detached);
        }
        ws_client publisher(ctx, 7);
        run->publisher = &publisher;
        asio::co_spawn(
            ctx,
            [&]() -> asio::awaitable<void> {
                co_await publisher.open(endpoint(0), "/publisher");
                ++run->ready;
                co_await publisher.read_frames(run->stopping,
                                               [](const unsigned char*, std::size_t) {
                                                   fail("the publisher received a message");
                                               });
            },
            asio::detached);
        asio::co_spawn(ctx, measure(*run, ctx), asio::detached);
        ctx.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fanout_load: %s\n", e.what());
        return 1;
    }
}
