// SPDX-License-Identifier: MIT
// Bodies of redis_link.
#ifndef ASTER_DETAIL_IMPL_REDIS_LINK_IPP
#define ASTER_DETAIL_IMPL_REDIS_LINK_IPP

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <exception>
#include <system_error>

namespace aster::detail {

ASTER_ENGINE void redis_link::start() {
    spawn(run_publisher());
    spawn(run_subscriber());
}

// Counted: an owner whose loop runs only while it waits (test_client) runs it until the link
// has wound down, then destroys it.
ASTER_ENGINE void redis_link::spawn(task<> coroutine) {
    running_.fetch_add(1, std::memory_order_relaxed);
    net::co_spawn(executor_, std::move(coroutine),
                  [this](std::exception_ptr) { running_.fetch_sub(1, std::memory_order_release); });
}

// On the link's loop: everything waiting ends, and the two connections do not come back.
ASTER_ENGINE void redis_link::stop() noexcept {
    net::post(executor_, [this] {
        stopping_ = true;
        std::error_code ignored;
        pub_.socket.close(ignored);
        sub_.socket.close(ignored);
        for (net::steady_timer* t : timers_) t->cancel();
        outbox_ready_.notify_all();
    });
}

ASTER_ENGINE void redis_link::publish(std::string_view topic, std::string_view message,
                                      bool binary) {
    std::string payload;
    payload.reserve(redis_header_size + message.size());
    payload.append(id_.data(), id_.size());
    payload.push_back(binary ? 'b' : 't');
    payload.append(message);
    std::string command = redis_command({"PUBLISH", channel(topic), payload});
    net::post(executor_, [this, command = std::move(command)]() mutable {
        if (stopping_) return;
        if (outbox_bytes_ + command.size() > settings_.max_queued_bytes) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        outbox_bytes_ += command.size();
        outbox_.push_back(std::move(command));
        outbox_ready_.notify_all();
    });
}

ASTER_ENGINE std::uint64_t redis_link::sync() {
    const std::uint64_t ticket = sync_asked_.fetch_add(1, std::memory_order_relaxed) + 1;
    // Posted as watch and publish are: behind what they posted before.
    net::post(executor_, [this, ticket] {
        if (stopping_) return;
        pinged_ = std::max(pinged_, ticket);
        queue_ping();
    });
    return ticket;
}

// PING <pinged_> behind the publishes queued so far. Never dropped for room: it is small, and
// a sync waiting for it would otherwise wait for nothing.
ASTER_ENGINE void redis_link::queue_ping() {
    std::string command = redis_command({"PING", std::to_string(pinged_)});
    outbox_bytes_ += command.size();
    outbox_.push_back(std::move(command));
    outbox_ready_.notify_all();
}

// The publisher's answer is in: the subscriber's PING goes behind it. While the subscriber is
// down it is sent on reconnection, after the SUBSCRIBEs.
ASTER_ENGINE void redis_link::ping_subscriber() {
    if (!sub_up_.load(std::memory_order_relaxed)) return;
    sub_out_ += redis_command(
        {"PING", std::to_string(pub_answered_.load(std::memory_order_relaxed))});
    flush_subscriptions();
}

// PING <n> answers "n" (a bulk string), or ["pong", "n"] on a connection subscribed to a
// channel; nothing else this link sends is answered with either.
ASTER_ENGINE bool redis_link::ping_answer(const redisReply& r, std::uint64_t& ticket) noexcept {
    const redisReply* text = &r;
    if (r.type == REDIS_REPLY_ARRAY) {
        if (r.elements != 2 || r.element[0]->type != REDIS_REPLY_STRING ||
            std::string_view(r.element[0]->str, r.element[0]->len) != "pong")
            return false;
        text = r.element[1];
    }
    if (text->type != REDIS_REPLY_STRING) return false;
    const char* end = text->str + text->len;
    auto [at, ec] = std::from_chars(text->str, end, ticket);
    return ec == std::errc() && at == end;
}

ASTER_ENGINE void redis_link::watch(std::string_view topic) {
    net::post(executor_, [this, t = std::string(topic)] {
        if (topics_.insert(t).second) send_subscription("SUBSCRIBE", t);
    });
}

ASTER_ENGINE void redis_link::unwatch(std::string_view topic) {
    net::post(executor_, [this, t = std::string(topic)] {
        if (topics_.erase(t)) send_subscription("UNSUBSCRIBE", t);
    });
}

// While the subscriber is down, nothing is sent: it subscribes to the whole set when it is up.
ASTER_ENGINE void redis_link::send_subscription(std::string_view verb, std::string_view topic) {
    if (!sub_up_.load(std::memory_order_relaxed)) return;
    sub_out_ += redis_command({verb, channel(topic)});
    flush_subscriptions();
}

ASTER_ENGINE void redis_link::flush_subscriptions() {
    if (sub_writing_ || sub_out_.empty() || !sub_up_.load(std::memory_order_relaxed)) return;
    sub_writing_ = true;
    sub_inflight_.swap(sub_out_);
    net::async_write(sub_.socket, net::buffer(sub_inflight_),
                     [this](std::error_code ec, std::size_t) {
                         sub_writing_ = false;
                         sub_inflight_.clear();
                         if (ec) {
                             std::error_code ignored;
                             sub_.socket.close(ignored); // the reader sees it and reconnects
                             return;
                         }
                         flush_subscriptions();
                     });
}

ASTER_ENGINE task<> redis_link::pause(std::chrono::milliseconds& delay) {
    // After stop() nothing would cancel this timer: a stop during a connection attempt would
    // hold the loop (a server's run(), a test_client's destructor) for up to retry_max.
    if (stopping_) co_return;
    net::steady_timer timer(executor_);
    timer.expires_after(delay);
    timers_.push_back(&timer);
    auto [ec] = co_await timer.async_wait(use_tuple);
    (void)ec;
    std::erase(timers_, &timer);
    delay = std::min(delay * 2, settings_.retry_max);
}

ASTER_ENGINE task<redis_reader::reply> redis_link::read_reply(connection& c) {
    for (;;) {
        bool ok = true;
        auto r = c.reader->next(ok);
        if (!ok) co_return nullptr;
        if (r) co_return r;
        char buffer[4096];
        auto [ec, n] = co_await c.socket.async_read_some(net::buffer(buffer), use_tuple);
        if (ec || !c.reader->feed(buffer, n)) co_return nullptr;
    }
}

// Connects (within connect_timeout), then AUTH and SELECT as the URL asks. False, with the
// socket closed, when any of it fails.
ASTER_ENGINE task<bool> redis_link::open(connection& c) {
    std::error_code ec;
    c.socket.close(ec);
    c.reader = std::make_unique<redis_reader>();
    net::steady_timer deadline(executor_);
    deadline.expires_after(settings_.connect_timeout);
    timers_.push_back(&deadline);
    // The handler may run after this frame is gone: it holds only what outlives it.
    auto state = std::make_shared<connect_attempt>();
    deadline.async_wait([this, state, socket = &c.socket](std::error_code e) {
        if (!state->armed) return;
        if (e && !stopping_) return; // cancelled because the attempt ended; at a stop, cut it
        state->timed_out = true;
        std::error_code ignored;
        socket->close(ignored);
    });
    const bool& timed_out = state->timed_out;
    bool ok = false;
    do {
        net::ip::tcp::resolver resolver(executor_);
        auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
            address_.host, std::to_string(address_.port), use_tuple);
        if (resolve_ec || stopping_ || timed_out) break;
        auto [connect_ec, endpoint] = co_await net::async_connect(c.socket, endpoints, use_tuple);
        if (connect_ec || stopping_ || timed_out) break;
        std::error_code ignored;
        c.socket.set_option(net::ip::tcp::no_delay(true), ignored);
        std::string hello;
        if (!address_.password.empty())
            hello += address_.username.empty()
                         ? redis_command({"AUTH", address_.password})
                         : redis_command({"AUTH", address_.username, address_.password});
        if (address_.db != 0) hello += redis_command({"SELECT", std::to_string(address_.db)});
        if (hello.empty()) {
            ok = true;
            break;
        }
        auto [write_ec, written] = co_await net::async_write(c.socket, net::buffer(hello),
                                                             use_tuple);
        (void)written;
        if (write_ec) break;
        const int answers = int(!address_.password.empty()) + int(address_.db != 0);
        ok = true;
        for (int i = 0; i < answers && ok; ++i) {
            auto r = co_await read_reply(c);
            if (!r || r->type == REDIS_REPLY_ERROR) {
                log_limited(log_level::warning, "redis refused",
                            std::string("redis: ") +
                                (r ? std::string(r->str, r->len) : std::string("connection lost")));
                ok = false;
            }
        }
    } while (false);
    state->armed = false;
    deadline.cancel();
    std::erase(timers_, &deadline);
    if (!ok || timed_out || stopping_) {
        c.socket.close(ec);
        co_return false;
    }
    co_return true;
}

// PUBLISH commands go out in batches; the replies (subscriber counts) are read and dropped by
// drain_replies, which also notices the connection end. A batch that was being written when
// the connection broke is lost: delivery is at most once.
ASTER_ENGINE task<> redis_link::run_publisher() {
    auto delay = settings_.retry_min;
    bool logged_down = false;
    while (!stopping_) {
        if (!co_await open(pub_)) {
            if (!logged_down && !stopping_)
                log(log_level::warning, "redis: cannot reach " + address_.host + ":" +
                                            std::to_string(address_.port) + ", retrying");
            logged_down = true;
            co_await pause(delay);
            continue;
        }
        if (logged_down) log(log_level::info, "redis: connected again");
        logged_down = false;
        delay = settings_.retry_min;
        pub_up_.store(true, std::memory_order_relaxed);
        spawn(drain_replies());
        // A sync whose PING went down with the last connection asks again.
        if (pinged_ > pub_answered_.load(std::memory_order_relaxed)) queue_ping();
        std::string batch;
        while (pub_up_.load(std::memory_order_relaxed) && !stopping_) {
            if (outbox_.empty()) {
                co_await outbox_ready_.wait();
                continue;
            }
            batch.clear();
            while (!outbox_.empty() && batch.size() < 64 * 1024) {
                batch += outbox_.front();
                outbox_bytes_ -= outbox_.front().size();
                outbox_.pop_front();
            }
            auto [ec, n] = co_await net::async_write(pub_.socket, net::buffer(batch), use_tuple);
            (void)n;
            if (ec) break;
        }
        pub_up_.store(false, std::memory_order_relaxed);
        std::error_code ignored;
        pub_.socket.close(ignored);
    }
}

ASTER_ENGINE task<> redis_link::drain_replies() {
    for (;;) {
        char buffer[4096];
        auto [ec, n] = co_await pub_.socket.async_read_some(net::buffer(buffer), use_tuple);
        bool ok = !ec && pub_.reader->feed(buffer, n);
        while (ok) {
            auto r = pub_.reader->next(ok);
            if (!r) break;
            std::uint64_t ticket = 0;
            if (ping_answer(*r, ticket) && ticket > pub_answered_.load(std::memory_order_relaxed)) {
                pub_answered_.store(ticket, std::memory_order_relaxed);
                ping_subscriber();
            }
        }
        if (!ok) break;
    }
    pub_up_.store(false, std::memory_order_relaxed);
    outbox_ready_.notify_all(); // the writer looks again and reconnects
}

ASTER_ENGINE task<> redis_link::run_subscriber() {
    auto delay = settings_.retry_min;
    while (!stopping_) {
        if (!co_await open(sub_)) {
            co_await pause(delay);
            continue;
        }
        delay = settings_.retry_min;
        sub_up_.store(true, std::memory_order_relaxed);
        sub_out_.clear();
        for (const std::string& t : topics_) sub_out_ += redis_command({"SUBSCRIBE", channel(t)});
        if (pub_answered_.load(std::memory_order_relaxed) >
            sub_answered_.load(std::memory_order_relaxed))
            ping_subscriber();
        flush_subscriptions();
        for (;;) {
            auto r = co_await read_reply(sub_);
            if (!r) break;
            std::uint64_t ticket = 0;
            if (ping_answer(*r, ticket)) {
                if (ticket > sub_answered_.load(std::memory_order_relaxed))
                    sub_answered_.store(ticket, std::memory_order_release);
            } else {
                on_message(*r);
            }
        }
        sub_up_.store(false, std::memory_order_relaxed);
        std::error_code ignored;
        sub_.socket.close(ignored);
    }
}

// ["message", channel, payload]; subscribe confirmations and anything else are ignored.
ASTER_ENGINE void redis_link::on_message(const redisReply& r) {
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 3) return;
    const redisReply* kind = r.element[0];
    const redisReply* chan = r.element[1];
    const redisReply* body = r.element[2];
    if (kind->type != REDIS_REPLY_STRING || std::string_view(kind->str, kind->len) != "message")
        return;
    std::string_view name(chan->str, chan->len), payload(body->str, body->len);
    if (name.substr(0, settings_.channel_prefix.size()) != settings_.channel_prefix) return;
    if (payload.size() < redis_header_size) return;
    if (std::memcmp(payload.data(), id_.data(), id_.size()) == 0) return; // our own, delivered
    hub_.deliver_remote(name.substr(settings_.channel_prefix.size()),
                        payload.substr(redis_header_size), payload[16] == 'b');
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_REDIS_LINK_IPP
