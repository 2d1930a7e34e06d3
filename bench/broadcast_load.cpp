// SPDX-License-Identifier: MIT
// Broadcast load generator: N WebSocket clients; in each round every client sends one 20-byte
// binary message, which the server publishes to all N (the sender included); the round ends
// when every client has received all N messages of the round, and the next begins. Each
// message carries its sender and round, and a client checks it got each sender's message of
// the round exactly once. Counts the rounds of a measured window after a warm-up.
//
//   ./broadcast_load --port 8000 [--path /] [--clients 100] [--duration 5] [--warmup 1]
//                    [--server-pid PID[,PID...]]
//
// Prints one line: `rounds/s R deliveries/s D rounds N seconds S client_cpu P% server_cpu Q%
// server_us_per_delivery U clients N`. client_cpu is this process's share of one core over the
// window: near 100% means the load generator set the pace. server_cpu sums --server-pid
// (/proc/PID/stat), -1 without it. Exits 1 on any error, including a lost, repeated or foreign
// message.
#include "ws_client.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include <memory>

namespace {

using namespace bench;

struct settings {
    std::string host = "127.0.0.1";
    unsigned short port = 8000;
    std::string path = "/";
    std::size_t clients = 100;
    double duration = 5, warmup = 1;
    std::vector<long> server_pids;
};

// What every message carries: who sent it (bytes 0-3) in which round (4-11), padded with zeros
// to the 20 bytes uWebSockets' broadcast_test sends.
constexpr std::size_t payload_size = 20;

class run_state;

class client {
public:
    client(asio::io_context& ctx, run_state& run, std::uint32_t id)
        : ws_(ctx, 0x9e3779b97f4a7c15ull * (id + 1)), run_(run), id_(id) {}

    asio::awaitable<void> run(tcp::endpoint server);
    void send(std::uint64_t round) {
        unsigned char p[payload_size] = {};
        std::memcpy(p, &id_, 4);
        std::memcpy(p + 4, &round, 8);
        ws_.append_frame(p, payload_size);
        ws_.flush();
    }

private:
    void on_frame(const unsigned char* data, std::size_t size);

    ws_client ws_;
    run_state& run_;
    std::uint32_t id_;
    std::size_t received_ = 0;       // this round's messages so far
    std::vector<bool> seen_senders_; // this round's senders
};

class run_state {
public:
    explicit run_state(const settings& s) : config(s) {}

    void start_round() {
        for (auto& c : clients) c->send(round);
    }
    // A client has all N messages of the round: once all have, the next round starts.
    void client_done() {
        if (++satisfied < clients.size()) return;
        satisfied = 0;
        ++round;
        ++rounds_done;
        start_round();
    }

    const settings& config;
    std::vector<std::unique_ptr<client>> clients;
    std::uint64_t round = 0, rounds_done = 0;
    std::size_t satisfied = 0, ready = 0;
    bool stopping = false;
};

asio::awaitable<void> client::run(tcp::endpoint server) {
    co_await ws_.open(server, run_.config.path);
    seen_senders_.assign(run_.clients.size(), false);
    ++run_.ready;
    co_await ws_.read_frames(run_.stopping,
                             [this](const unsigned char* d, std::size_t n) { on_frame(d, n); });
}

void client::on_frame(const unsigned char* data, std::size_t size) {
    if (size != payload_size) fail("a message of " + std::to_string(size) + " bytes, not 20");
    std::uint32_t sender;
    std::uint64_t round;
    std::memcpy(&sender, data, 4);
    std::memcpy(&round, data + 4, 8);
    if (round != run_.round)
        fail("client " + std::to_string(id_) + " got round " + std::to_string(round) +
             "'s message during round " + std::to_string(run_.round));
    if (sender >= seen_senders_.size() || seen_senders_[sender])
        fail("client " + std::to_string(id_) + " got sender " + std::to_string(sender) +
             "'s message twice in round " + std::to_string(run_.round));
    seen_senders_[sender] = true;
    if (++received_ < seen_senders_.size()) return;
    received_ = 0;
    seen_senders_.assign(seen_senders_.size(), false);
    run_.client_done();
}

asio::awaitable<void> measure(run_state& run, asio::io_context& ctx) {
    const auto& config = run.config;
    for (int waited = 0; run.ready < config.clients; ++waited) {
        if (waited == 3000)
            fail("only " + std::to_string(run.ready) + " of " + std::to_string(config.clients) +
                 " clients connected after 30 s");
        co_await sleep_for(0.01);
    }
    run.start_round();
    co_await sleep_for(config.warmup);
    const std::uint64_t first = run.rounds_done;
    const auto start = clock_type::now();
    const double cpu_start = cpu_seconds();
    const double server_start = processes_cpu_seconds(config.server_pids);
    co_await sleep_for(config.duration);
    const std::uint64_t rounds = run.rounds_done - first;
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    const double server_end = processes_cpu_seconds(config.server_pids);
    const double server_cpu = config.server_pids.empty() || server_start < 0 || server_end < 0
                                  ? -1
                                  : server_end - server_start;
    const double n = double(config.clients);
    const double deliveries = double(rounds) * n * n;
    std::printf("rounds/s %.1f deliveries/s %.0f rounds %llu seconds %.3f client_cpu %.0f%% "
                "server_cpu %.0f%% server_us_per_delivery %.4f clients %zu\n",
                double(rounds) / seconds, deliveries / seconds,
                static_cast<unsigned long long>(rounds), seconds, cpu * 100 / seconds,
                server_cpu < 0 ? -1.0 : server_cpu * 100 / seconds,
                server_cpu < 0 || rounds == 0 ? -1.0 : server_cpu * 1e6 / deliveries,
                config.clients);
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
        else if (arg == "--port") s.port = static_cast<unsigned short>(parse_number(arg, value));
        else if (arg == "--path") s.path = value;
        else if (arg == "--clients") s.clients = std::size_t(parse_number(arg, value));
        else if (arg == "--duration") s.duration = parse_number(arg, value);
        else if (arg == "--warmup") s.warmup = parse_number(arg, value);
        else if (arg == "--server-pid") s.server_pids = parse_list(arg, value);
        else throw std::invalid_argument("unknown option: " + std::string(arg));
    }
    if (s.clients == 0 || s.duration <= 0)
        throw std::invalid_argument("--clients and --duration must be positive");
    return s;
}

} // namespace

int main(int argc, char** argv) {
    bench::program_name = "broadcast_load";
    try {
        const settings config = parse_args(argc, argv);
        asio::io_context ctx{1};
        run_state run(config);
        const tcp::endpoint server(asio::ip::make_address(config.host), config.port);
        for (std::size_t i = 0; i < config.clients; ++i)
            run.clients.push_back(std::make_unique<client>(ctx, run, std::uint32_t(i)));
        for (auto& c : run.clients) asio::co_spawn(ctx, c->run(server), asio::detached);
        asio::co_spawn(ctx, measure(run, ctx), asio::detached);
        ctx.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "broadcast_load: %s\n", e.what());
        return 1;
    }
}
