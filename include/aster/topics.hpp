// SPDX-License-Identifier: MIT
// Topics: publish/subscribe between the WebSockets of one server or test_client.
#ifndef ASTER_TOPICS_HPP
#define ASTER_TOPICS_HPP

#include <aster/detail/config.hpp>
#include <aster/options.hpp>
#include <aster/task.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aster {

struct publish_options {
    bool binary = false;    // a binary message; text by default
    bool to_sender = false; // a websocket's own publish skips it unless this is set
    // How long `co_await publish` waits for each subscriber under backpressure::wait.
    std::chrono::milliseconds wait_timeout{1000};
};

/// Topic counts of a server or test_client, over all its loops (a snapshot).
struct topic_stats {
    std::size_t topics = 0;        // topics with a subscriber, counted once per loop that has one
    std::size_t subscriptions = 0; // (connection, topic) pairs
    // Since the start: publishes, messages queued to subscribers, and messages a subscriber
    // did not get (dropped under backpressure, or it was closed with 1013).
    std::size_t published = 0, delivered = 0, dropped = 0;
    std::size_t waiting = 0; // publishers waiting now for a subscriber's room (backpressure::wait)
    std::size_t broker_dropped = 0; // publishes not sent to Redis: it was away, the queue full
    bool broker_connected = false;  // the Redis link is up (false without one)
};

/// A topic name is 1 to 256 bytes with no control characters (bytes below 0x20, and 0x7f).
inline constexpr std::size_t max_topic_name_bytes = 256;

/// Throws std::invalid_argument, naming the problem, when `topic` is not a valid topic name.
inline void check_topic_name(std::string_view topic) {
    if (topic.empty()) throw std::invalid_argument("aster topics: a topic name may not be empty");
    if (topic.size() > max_topic_name_bytes)
        throw std::invalid_argument("aster topics: a topic name has at most " +
                                    std::to_string(max_topic_name_bytes) + " bytes, not " +
                                    std::to_string(topic.size()));
    for (char c : topic)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            throw std::invalid_argument("aster topics: a topic name may not hold control "
                                        "characters");
}

namespace detail {
class topic_subscriber;

/// Every loop's topics of one server or test_client: publishes from any thread, at once.
class topic_hub_interface {
public:
    virtual void publish_anywhere(std::string_view topic, std::string_view message,
                                  const publish_options& options) = 0;
    virtual topic_stats stats() const noexcept = 0;

protected:
    ~topic_hub_interface() = default;
};

/// Where a request or a websocket publishes: the topics of its connection's event loop.
class topic_publisher {
public:
    /// Delivers to this loop's subscribers now and hands the message to every other loop.
    /// Waits only for subscribers under backpressure::wait on this loop.
    virtual task<> publish(std::string_view topic, std::string_view message,
                           const publish_options& options, const topic_subscriber* sender) = 0;
    virtual topic_hub_interface& hub() noexcept = 0;

protected:
    ~topic_publisher() = default;
};
} // namespace detail

/// The topics of one server or test_client, as a value to keep: `publish` may be called from
/// any thread, also from a plain function, and returns at once (a subscriber under
/// backpressure::wait that has no room drops the message, counted). Valid while its owner is.
class topics {
public:
    topics() = default;
    explicit topics(detail::topic_hub_interface* hub) noexcept : hub_(hub) {}

    void publish(std::string_view topic, std::string_view message,
                 const publish_options& options = {}) const {
        if (!hub_) throw std::logic_error("aster::topics: not attached to a server or test_client");
        hub_->publish_anywhere(topic, message, options);
    }
    /// Counts over every loop; from any thread.
    topic_stats stats() const noexcept { return hub_ ? hub_->stats() : topic_stats{}; }
    explicit operator bool() const noexcept { return hub_ != nullptr; }

private:
    detail::topic_hub_interface* hub_ = nullptr;
};

} // namespace aster

#endif // ASTER_TOPICS_HPP
