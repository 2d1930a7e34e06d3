// SPDX-License-Identifier: MIT
// Bodies of topic_registry and topic_hub.
#ifndef ASTER_DETAIL_IMPL_TOPICS_IPP
#define ASTER_DETAIL_IMPL_TOPICS_IPP

#include <algorithm>

namespace aster::detail {

ASTER_ENGINE bool topic_registry::subscribe(std::string_view topic, topic_subscriber& who,
                                            backpressure policy) {
    check_topic_name(topic);
    auto it = topics_.find(topic);
    if (it == topics_.end()) {
        it = topics_.emplace(std::string(topic), std::vector<member>{}).first;
        counts_.topics.add();
        hub_->topic_opened(topic);
    }
    for (const member& m : it->second)
        if (m.who == &who) return false;
    it->second.push_back({&who, policy, ++next_serial_});
    counts_.subscriptions.add();
    return true;
}

ASTER_ENGINE bool topic_registry::unsubscribe(std::string_view topic, topic_subscriber& who) {
    auto it = topics_.find(topic);
    if (it == topics_.end()) return false;
    auto& members = it->second;
    auto m = std::find_if(members.begin(), members.end(),
                          [&](const member& x) { return x.who == &who; });
    if (m == members.end()) return false;
    *m = members.back(); // delivery order among subscribers is not promised
    members.pop_back();
    counts_.subscriptions.sub();
    if (members.empty()) {
        hub_->topic_closed(it->first);
        topics_.erase(it);
        counts_.topics.sub();
    }
    return true;
}

ASTER_ENGINE void topic_registry::count(delivery d) noexcept {
    if (d == delivery::queued) counts_.delivered.add();
    else if (d == delivery::dropped || d == delivery::closed) counts_.dropped.add();
}

// A subscriber's deliver only queues (its writes start on a post or are synchronous writes):
// nothing here resumes a coroutine, so no subscription changes while the list is walked.
ASTER_ENGINE void topic_registry::deliver(std::string_view topic, const shared_frame& frame,
                                          const topic_subscriber* skip,
                                          std::vector<std::uint64_t>* full) {
    auto it = topics_.find(topic);
    if (it == topics_.end()) return;
    for (const member& m : it->second) {
        if (m.who == skip) continue;
        delivery d = m.who->deliver(frame, m.policy);
        if (d == delivery::full) {
            if (full) {
                full->push_back(m.serial);
                continue;
            }
            d = delivery::dropped; // nobody waits: another loop's publish, or a fire-and-forget
        }
        count(d);
    }
}

ASTER_ENGINE topic_subscriber* topic_registry::find(std::string_view topic,
                                                    std::uint64_t serial) const {
    auto it = topics_.find(topic);
    if (it == topics_.end()) return nullptr;
    for (const member& m : it->second)
        if (m.serial == serial) return m.who;
    return nullptr;
}

ASTER_ENGINE task<> topic_registry::publish(std::string_view topic, std::string_view message,
                                            const publish_options& options,
                                            const topic_subscriber* sender) {
    check_topic_name(topic);
    shared_frame frame = make_topic_frame(message, options.binary);
    hub_->count_publish();
    std::vector<std::uint64_t> full;
    deliver(topic, frame, options.to_sender ? nullptr : sender, &full);
    hub_->forward(this, topic, frame);
    hub_->publish_remote(topic, message, options.binary);
    if (!full.empty())
        co_await wait_for_room(std::string(topic), std::move(frame), std::move(full),
                               options.wait_timeout);
}

// The publisher waits for each full subscriber in turn, all against one deadline; a subscriber
// that leaves meanwhile is passed over. Other publishers and the loop go on.
ASTER_ENGINE task<> topic_registry::wait_for_room(std::string topic, shared_frame frame,
                                                  std::vector<std::uint64_t> full,
                                                  std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    net::steady_timer timer(executor_);
    waiting_publisher registered(*this, timer);
    for (std::uint64_t serial : full) {
        for (;;) {
            topic_subscriber* who = find(topic, serial);
            if (!who) break;
            if (who->has_room_for(frame->size())) {
                count(who->deliver(frame, backpressure::drop));
                break;
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                count(delivery::dropped);
                break;
            }
            timer.expires_at(deadline);
            auto [ec] = co_await timer.async_wait(use_tuple);
            (void)ec; // cancelled: room_made; expired: the deadline, seen above
        }
    }
}

ASTER_ENGINE topic_hub_interface& topic_registry::hub() noexcept { return *hub_; }

ASTER_ENGINE void topic_hub::forward(const topic_registry* from, std::string_view topic,
                                     const shared_frame& frame) {
    for (auto& loop : loops_) {
        if (loop.get() == from) continue;
        net::post(loop->get_executor(), [to = loop.get(), name = std::string(topic), frame] {
            to->deliver(name, frame, nullptr, nullptr);
        });
    }
}

ASTER_ENGINE void topic_hub::publish_anywhere(std::string_view topic, std::string_view message,
                                              const publish_options& options) {
    check_topic_name(topic);
    shared_frame frame = make_topic_frame(message, options.binary);
    count_publish();
    publish_remote(topic, message, options.binary);
    for (auto& loop : loops_) {
        if (loop->runs_here()) {
            loop->deliver(topic, frame, nullptr, nullptr);
            forward(loop.get(), topic, frame);
            return;
        }
    }
    forward(nullptr, topic, frame);
}

ASTER_ENGINE void topic_hub::deliver_remote(std::string_view topic, std::string_view message,
                                            bool binary) {
    if (topic.empty() || topic.size() > max_topic_name_bytes) return; // not one of ours
    forward(nullptr, topic, make_topic_frame(message, binary));
}

ASTER_ENGINE void topic_hub::topic_opened(std::string_view topic) {
    if (!broker_) return;
    std::lock_guard lock(loops_per_topic_mutex_);
    auto [it, added] = loops_per_topic_.try_emplace(std::string(topic), 0u);
    if (it->second++ == 0) broker_->watch(topic);
}

ASTER_ENGINE void topic_hub::topic_closed(std::string_view topic) {
    if (!broker_) return;
    std::lock_guard lock(loops_per_topic_mutex_);
    auto it = loops_per_topic_.find(std::string(topic));
    if (it == loops_per_topic_.end()) return;
    if (--it->second == 0) {
        loops_per_topic_.erase(it);
        broker_->unwatch(topic);
    }
}

ASTER_ENGINE topic_stats topic_hub::stats() const noexcept {
    topic_stats t;
    t.published = published_.load(std::memory_order_relaxed);
    for (const auto& loop : loops_) {
        const topic_counts& c = loop->counts();
        t.topics += c.topics.get();
        t.subscriptions += c.subscriptions.get();
        t.delivered += c.delivered.get();
        t.dropped += c.dropped.get();
        t.waiting += c.waiting.get();
    }
    if (broker_) {
        t.broker_dropped = broker_->dropped();
        t.broker_connected = broker_->connected();
    }
    return t;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_TOPICS_IPP
