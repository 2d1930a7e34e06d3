// SPDX-License-Identifier: MIT
// redis_link: a process's topics shared with other processes through Redis pub/sub, over Asio
// sockets with hiredis's RESP reader and command formatter.
#ifndef ASTER_DETAIL_REDIS_LINK_HPP
#define ASTER_DETAIL_REDIS_LINK_HPP

#include <aster/detail/config.hpp>

#ifdef ASTER_HAS_REDIS

#include <aster/detail/asio.hpp>
#include <aster/detail/async_event.hpp>
#include <aster/detail/topic_hub.hpp>
#include <aster/log.hpp>
#include <aster/redis.hpp>
#include <aster/task.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <hiredis/hiredis.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace aster::detail {

/// One RESP command, formatted by hiredis.
inline std::string redis_command(std::initializer_list<std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (auto a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    char* out = nullptr;
    const int n = redisFormatCommandArgv(&out, int(argv.size()), argv.data(), lengths.data());
    if (n < 0 || !out) throw std::bad_alloc();
    std::string command(out, std::size_t(n));
    std::free(out);
    return command;
}

/// hiredis's RESP reader: bytes in, replies out.
class redis_reader {
public:
    struct reply_free {
        void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
    };
    using reply = std::unique_ptr<redisReply, reply_free>;

    redis_reader() : reader_(redisReaderCreate()) {
        if (!reader_) throw std::bad_alloc();
    }
    ~redis_reader() { redisReaderFree(reader_); }
    redis_reader(const redis_reader&) = delete;
    redis_reader& operator=(const redis_reader&) = delete;

    /// False when the stream is not RESP: the connection must end.
    bool feed(const char* data, std::size_t n) {
        return redisReaderFeed(reader_, data, n) == REDIS_OK;
    }
    /// The next whole reply, if one is in; false in `ok` on a protocol error.
    reply next(bool& ok) {
        void* r = nullptr;
        ok = redisReaderGetReply(reader_, &r) == REDIS_OK;
        return reply(static_cast<redisReply*>(r));
    }

private:
    redisReader* reader_;
};

/// What a topic message carries through Redis: who published it (a random 128-bit id per
/// process; process ids collide across containers), whether it is binary, the message.
inline constexpr std::size_t redis_header_size = 17;

/// Two connections to Redis, both on one event loop: one publishes (a bounded queue while
/// Redis is away, dropped and counted beyond it), one subscribes to a channel per topic that
/// has subscribers in this process. Each reconnects with backoff; the subscriber subscribes
/// again to everything. A process delivers its own publishes itself and skips their echo.
/// sync() is `PING <ticket>` on the publisher, behind the queued publishes, then on the
/// subscriber once the publisher's answer is in: Redis answers in order on each connection,
/// so when the subscriber's PONG arrives, Redis has taken every earlier publish, pushed what
/// it sent to this process ahead of the PONG, and confirmed every earlier (UN)SUBSCRIBE.
class redis_link final : public topic_broker {
public:
    redis_link(topic_hub& hub, net::any_io_executor executor, redis_broker settings)
        : hub_(hub), executor_(executor), settings_(std::move(settings)),
          address_(redis_address::parse(settings_.url)), pub_(executor), sub_(executor),
          outbox_ready_(executor) {
        std::random_device random;
        for (std::size_t i = 0; i < id_.size(); i += 4) {
            const auto r = random();
            std::memcpy(id_.data() + i, &r, 4);
        }
    }

    void start() override;
    void stop() noexcept override;
    void publish(std::string_view topic, std::string_view message, bool binary) override;
    void watch(std::string_view topic) override;
    void unwatch(std::string_view topic) override;
    std::size_t dropped() const noexcept override {
        return dropped_.load(std::memory_order_relaxed);
    }
    bool connected() const noexcept override {
        return pub_up_.load(std::memory_order_relaxed) && sub_up_.load(std::memory_order_relaxed);
    }
    std::uint64_t sync() override;
    bool synced(std::uint64_t ticket) const noexcept override {
        return sub_answered_.load(std::memory_order_acquire) >= ticket;
    }
    bool stopped() const noexcept override { return running_.load(std::memory_order_acquire) == 0; }

private:
    struct connection {
        explicit connection(net::any_io_executor ex) : socket(ex) {}
        net::ip::tcp::socket socket;
        std::unique_ptr<redis_reader> reader;
        std::string in;
    };

    struct connect_attempt {
        bool armed = true, timed_out = false;
    };

    task<> run_publisher();
    task<> run_subscriber();
    task<> drain_replies();
    task<bool> open(connection& c);
    task<redis_reader::reply> read_reply(connection& c);
    task<> pause(std::chrono::milliseconds& delay);
    void spawn(task<> coroutine);
    void queue_ping();
    void ping_subscriber();
    static bool ping_answer(const redisReply& r, std::uint64_t& ticket) noexcept;
    void send_subscription(std::string_view verb, std::string_view topic);
    void flush_subscriptions();
    void on_message(const redisReply& r);
    std::string channel(std::string_view topic) const {
        return settings_.channel_prefix + std::string(topic);
    }

    topic_hub& hub_;
    net::any_io_executor executor_;
    redis_broker settings_;
    redis_address address_;
    std::array<char, 16> id_{};
    connection pub_, sub_;
    bool stopping_ = false;
    std::atomic<bool> pub_up_{false}, sub_up_{false};
    // Publisher: formatted PUBLISH commands waiting for the connection.
    std::deque<std::string> outbox_;
    std::size_t outbox_bytes_ = 0;
    async_event outbox_ready_;
    std::atomic<std::size_t> dropped_{0};
    // Subscriber: the channels this process wants, and commands not yet written.
    std::set<std::string, std::less<>> topics_;
    std::string sub_out_, sub_inflight_;
    bool sub_writing_ = false;
    std::vector<net::steady_timer*> timers_; // pauses and connect deadlines now running
    // sync(): the last ticket handed out, and the last answered on each connection.
    std::atomic<std::uint64_t> sync_asked_{0}, pub_answered_{0}, sub_answered_{0};
    std::uint64_t pinged_ = 0;    // the newest ticket queued on the publisher (on the loop)
    std::atomic<int> running_{0}; // coroutines of the link not finished yet
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
#include <aster/detail/impl/redis_link.ipp>
#endif

#endif // ASTER_HAS_REDIS

#endif // ASTER_DETAIL_REDIS_LINK_HPP
