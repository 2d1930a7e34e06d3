// SPDX-License-Identifier: MIT
// topic_registry: the topics of one event loop, their subscribers, and delivery to them.
#ifndef ASTER_DETAIL_TOPIC_REGISTRY_HPP
#define ASTER_DETAIL_TOPIC_REGISTRY_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/connection_registry.hpp>
#include <aster/detail/shared_frame_queue.hpp>
#include <aster/detail/ws_frame.hpp>
#include <aster/task.hpp>
#include <aster/topics.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aster::detail {

/// A whole WebSocket frame, built once per publish and held by every subscriber's send queue
/// (and every loop) that sends it. Server frames are not masked, so one frame serves every
/// subscriber. Topic messages go uncompressed also to permessage-deflate connections (RSV1 clear,
/// RFC 7692 §6): compressing per subscriber would undo the sharing.
inline shared_frame make_topic_frame(std::string_view message, bool binary) {
    std::uint8_t header[max_frame_header_size];
    const std::size_t n = encode_frame_header(header, true, binary ? opcode::binary : opcode::text,
                                              message.size());
    auto frame = std::make_shared<std::string>();
    frame->reserve(n + message.size());
    frame->append(reinterpret_cast<const char*>(header), n);
    frame->append(message);
    return frame;
}

/// What a publish did at one subscriber.
enum class delivery : std::uint8_t {
    queued,  // in its send queue
    skipped, // its close has begun: it receives no more topic messages
    dropped, // backpressure::drop, or a wait that could not or did not happen
    closed,  // backpressure::close: it is being closed with 1013
    full     // backpressure::wait: the publisher may wait for room
};

/// A connection that receives topic messages: a WebSocket session.
class topic_subscriber {
public:
    /// Queues `frame`; past the connection's topic queue limit, does what `policy` says.
    virtual delivery deliver(const shared_frame& frame, backpressure policy) = 0;
    virtual bool has_room_for(std::size_t bytes) const noexcept = 0;

protected:
    ~topic_subscriber() = default;
};

/// Counts for server_stats: written by the registry's loop only, read from anywhere.
struct topic_counts {
    live_count topics, subscriptions, delivered, dropped, waiting;
};

class topic_hub;

/// One event loop's topics. Everything but counts() runs on that loop's thread; other loops
/// and other threads reach it through topic_hub, which posts to it.
class topic_registry final : public topic_publisher {
public:
    using executor_type = net::any_io_executor;

    topic_registry(topic_hub& hub, executor_type executor) : hub_(&hub), executor_(executor) {}
    topic_registry(const topic_registry&) = delete;
    topic_registry& operator=(const topic_registry&) = delete;

    executor_type get_executor() const noexcept { return executor_; }
    /// True on the thread running this loop now.
    bool runs_here() const noexcept {
        auto* io = executor_.target<net::io_context::executor_type>();
        return io && io->running_in_this_thread();
    }
    const topic_counts& counts() const noexcept { return counts_; }

    /// False when `who` is subscribed already (its policy then stays as it was).
    bool subscribe(std::string_view topic, topic_subscriber& who, backpressure policy);
    /// False when `who` was not subscribed.
    bool unsubscribe(std::string_view topic, topic_subscriber& who);

    task<> publish(std::string_view topic, std::string_view message, const publish_options& options,
                   const topic_subscriber* sender) override;
    topic_hub_interface& hub() noexcept override;

    /// Hands `frame` to this loop's subscribers of `topic` but `skip`. Subscribers that are
    /// full under backpressure::wait go to `full` when given (an awaiting publisher waits for
    /// them), else their copy is dropped.
    void deliver(std::string_view topic, const shared_frame& frame, const topic_subscriber* skip,
                 std::vector<std::uint64_t>* full);

    /// A subscriber's queue drained: publishers waiting for room look again.
    void room_made() noexcept {
        for (net::steady_timer* t : waiters_) t->cancel();
    }
    bool has_waiters() const noexcept { return !waiters_.empty(); }

private:
    struct member {
        topic_subscriber* who;
        backpressure policy;
        std::uint64_t serial; // tells a subscription from a later one at the same address
    };
    struct name_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    using topic_map =
        std::unordered_map<std::string, std::vector<member>, name_hash, std::equal_to<>>;

    // A publisher waiting for room, counted and woken by room_made while it exists; also
    // when the loop is torn down mid-wait, so room_made never reaches a destroyed timer.
    class waiting_publisher {
    public:
        waiting_publisher(topic_registry& registry, net::steady_timer& timer)
            : registry_(registry), timer_(timer) {
            registry_.counts_.waiting.add();
            registry_.waiters_.push_back(&timer_);
        }
        ~waiting_publisher() {
            std::erase(registry_.waiters_, &timer_);
            registry_.counts_.waiting.sub();
        }
        waiting_publisher(const waiting_publisher&) = delete;
        waiting_publisher& operator=(const waiting_publisher&) = delete;

    private:
        topic_registry& registry_;
        net::steady_timer& timer_;
    };

    task<> wait_for_room(std::string topic, shared_frame frame, std::vector<std::uint64_t> full,
                         std::chrono::milliseconds timeout);
    topic_subscriber* find(std::string_view topic, std::uint64_t serial) const;
    void count(delivery d) noexcept;

    topic_hub* hub_;
    executor_type executor_;
    topic_map topics_;
    std::uint64_t next_serial_ = 0;
    std::vector<net::steady_timer*> waiters_; // publishers waiting for room, on their timers
    topic_counts counts_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_TOPIC_REGISTRY_HPP
