// SPDX-License-Identifier: MIT
// topic_hub: the topics of every event loop of one server or test_client.
#ifndef ASTER_DETAIL_TOPIC_HUB_HPP
#define ASTER_DETAIL_TOPIC_HUB_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/topic_registry.hpp>
#include <aster/topics.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aster::detail {

/// What carries topics to other processes (redis_link). Every call may come from any thread.
class topic_broker {
public:
    virtual ~topic_broker() = default;
    virtual void start() = 0;
    virtual void stop() noexcept = 0;
    /// A publish made in this process (and delivered in it already).
    virtual void publish(std::string_view topic, std::string_view message, bool binary) = 0;
    /// The first subscriber of `topic` in this process came, or the last left.
    virtual void watch(std::string_view topic) = 0;
    virtual void unwatch(std::string_view topic) = 0;
    /// Publishes dropped because the broker was away too long.
    virtual std::size_t dropped() const noexcept = 0;
    virtual bool connected() const noexcept = 0;
    /// Asks for a round trip through the broker behind everything asked of it so far (the
    /// subscription changes, the publishes); synced(ticket) says when it is back. For tests,
    /// whose loop runs only while they wait.
    virtual std::uint64_t sync() = 0;
    virtual bool synced(std::uint64_t ticket) const noexcept = 0;
    /// After stop(): true once nothing of the broker is left on its loop, so it may go.
    virtual bool stopped() const noexcept = 0;
};

/// One registry per event loop. A publish is delivered on its own loop at once and crosses to
/// each other loop once (a post carrying the shared frame), not once per subscriber; posts to
/// one io_context run in order, so one publisher's messages to a topic arrive in publish order
/// on every loop.
class topic_hub final : public topic_hub_interface {
public:
    topic_hub() = default;
    topic_hub(const topic_hub&) = delete;
    topic_hub& operator=(const topic_hub&) = delete;

    /// Adds a loop's registry; all loops are added before any connection runs.
    topic_registry& add_loop(topic_registry::executor_type executor) {
        loops_.push_back(std::make_unique<topic_registry>(*this, executor));
        return *loops_.back();
    }

    /// After `from` delivered a publish itself, each other loop delivers it; null: every loop.
    void forward(const topic_registry* from, std::string_view topic, const shared_frame& frame);
    /// From any thread: delivered at once when called on one of the loops, posted to the rest.
    void publish_anywhere(std::string_view topic, std::string_view message,
                          const publish_options& options) override;

    void count_publish() noexcept { published_.fetch_add(1, std::memory_order_relaxed); }
    topic_stats stats() const noexcept override;

    /// Shares topics with other processes from now on; before any connection runs.
    void attach(std::unique_ptr<topic_broker> broker) { broker_ = std::move(broker); }
    topic_broker* broker() const noexcept { return broker_.get(); }
    /// Destroys the broker: once its loop has stopped, before that loop's io_context goes.
    void detach_broker() noexcept { broker_.reset(); }
    /// A publish made here goes to the broker too, if there is one.
    void publish_remote(std::string_view topic, std::string_view message, bool binary) {
        if (broker_) broker_->publish(topic, message, binary);
    }
    /// A message from another process: framed once, delivered on every loop.
    void deliver_remote(std::string_view topic, std::string_view message, bool binary);
    /// A loop's first subscriber of `topic` came, or its last left: the broker hears of the
    /// process's first and last (counted over loops).
    void topic_opened(std::string_view topic);
    void topic_closed(std::string_view topic);

private:
    std::vector<std::unique_ptr<topic_registry>> loops_;
    std::atomic<std::size_t> published_{0};
    std::unique_ptr<topic_broker> broker_;
    std::mutex loops_per_topic_mutex_;
    std::unordered_map<std::string, unsigned> loops_per_topic_; // with a broker only
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
#include <aster/detail/impl/topics.ipp>
#endif

#endif // ASTER_DETAIL_TOPIC_HUB_HPP
