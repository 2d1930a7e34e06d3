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
#include <memory>
#include <string_view>
#include <vector>

namespace aster::detail {

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

private:
    std::vector<std::unique_ptr<topic_registry>> loops_;
    std::atomic<std::size_t> published_{0};
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
#include <aster/detail/impl/topics.ipp>
#endif

#endif // ASTER_DETAIL_TOPIC_HUB_HPP
