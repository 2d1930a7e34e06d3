// SPDX-License-Identifier: MIT
// ws_session's topics: subscriptions, publishing, and topic frames arriving from a publish.
#ifndef ASTER_DETAIL_IMPL_WS_TOPICS_HPP
#define ASTER_DETAIL_IMPL_WS_TOPICS_HPP

#include <algorithm>
#include <stdexcept>

namespace aster::detail {

template <async_stream Stream>
void ws_session<Stream>::subscribe(std::string_view topic, std::optional<backpressure> policy) {
    check_topic_name(topic);
    if (state_ == websocket_state::disconnected)
        throw websocket_state_error("aster::websocket::subscribe: the connection is closed "
                                    "(state: disconnected)");
    if (!topics_)
        throw std::logic_error("aster::websocket::subscribe: topics need a session served by a "
                               "server or test_client");
    if (!topic_) topic_ = std::make_unique<ws_topic_state>();
    if (topics_->subscribe(topic, *this, policy.value_or(options_.topic_backpressure)))
        topic_->subscriptions.emplace_back(topic);
}

template <async_stream Stream>
void ws_session<Stream>::unsubscribe(std::string_view topic) {
    if (!topic_ || !topics_ || !topics_->unsubscribe(topic, *this)) return;
    std::erase(topic_->subscriptions, topic);
}

template <async_stream Stream>
std::span<const std::string> ws_session<Stream>::subscriptions() const noexcept {
    if (!topic_) return {};
    return topic_->subscriptions;
}

// Right after the handler (and so on_disconnect) returns, and at the latest when the session
// is destroyed: each subscription ends once.
template <async_stream Stream>
void ws_session<Stream>::leave_topics() noexcept {
    if (!topic_ || !topics_) return;
    for (const std::string& t : topic_->subscriptions) topics_->unsubscribe(t, *this);
    topic_->subscriptions.clear();
}

template <async_stream Stream>
task<> ws_session<Stream>::publish(std::string_view topic, std::string_view message,
                                   const publish_options& options) {
    if (!topics_)
        throw std::logic_error("aster::websocket::publish: topics need a session served by a "
                               "server or test_client");
    return topics_->publish(topic, message, options, this);
}

template <async_stream Stream>
aster::topics ws_session<Stream>::topics() noexcept {
    return aster::topics(topics_ ? &topics_->hub() : nullptr);
}

template <async_stream Stream>
bool ws_session<Stream>::has_room_for(std::size_t bytes) const noexcept {
    const std::size_t now = queued();
    return now == 0 || now + bytes <= options_.max_topic_queue_bytes;
}

template <async_stream Stream>
delivery ws_session<Stream>::deliver(const shared_frame& frame, backpressure policy) {
    if (state_ != websocket_state::connected || write_failed_ || !topic_) return delivery::skipped;
    if (!has_room_for(frame->size())) {
        switch (policy) {
        case backpressure::drop:
            return delivery::dropped;
        case backpressure::wait:
            return delivery::full;
        case backpressure::close:
            close_slow_subscriber();
            return delivery::closed;
        }
    }
    topic_->queue.push(pending_.size(), frame);
    ++messages_out_;
    schedule_flush();
    return delivery::queued;
}

// backpressure::close: what is not yet being written is dropped and the close frame (1013)
// queued behind the write in flight, as a graceful stop does; a handler waiting in receive()
// reads for the peer's reply for close_timeout at most, and then the connection ends.
template <async_stream Stream>
void ws_session<Stream>::close_slow_subscriber() {
    drop_unsent();
    begin_close(close_code::try_again_later, "too slow for its topics");
    closing_deadline_ = std::make_unique<read_deadline<Stream>>(stream_);
    closing_deadline_->expires_after(options_.close_timeout);
    account();
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_TOPICS_HPP
