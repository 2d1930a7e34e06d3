// SPDX-License-Identifier: MIT
// shared_frame_queue: topic frames in a WebSocket's send queue, held by reference.
#ifndef ASTER_DETAIL_SHARED_FRAME_QUEUE_HPP
#define ASTER_DETAIL_SHARED_FRAME_QUEUE_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/asio.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster::detail {

using shared_frame = std::shared_ptr<const std::string>;

/// A session's own frames are copied into one string; a topic's frame is shared by every
/// subscriber, so the queue holds a reference and the place it goes: after the first `at`
/// bytes of the own frames queued with it. A write gathers both, in order, in one call.
class shared_frame_queue {
public:
    bool has_pending() const noexcept { return !pending_.empty(); }
    /// Bytes of shared frames queued and being written.
    std::size_t bytes() const noexcept { return pending_bytes_ + inflight_bytes_; }

    void push(std::size_t at, shared_frame frame) {
        pending_bytes_ += frame->size();
        pending_.push_back({at, std::move(frame)});
    }

    /// Moves what is queued to the write starting now, whose own bytes are `own`, and returns
    /// the buffers of that write, in queue order.
    const std::vector<net::const_buffer>& start_write(std::string_view own) {
        inflight_.swap(pending_);
        inflight_bytes_ = pending_bytes_;
        pending_bytes_ = 0;
        gather_.clear();
        std::size_t done = 0;
        for (const splice& s : inflight_) {
            if (s.at > done) gather_.push_back(net::buffer(own.data() + done, s.at - done));
            gather_.push_back(net::buffer(*s.frame));
            done = s.at;
        }
        if (own.size() > done) gather_.push_back(net::buffer(own.data() + done, own.size() - done));
        return gather_;
    }
    /// The write ended (done or failed): its frames are released.
    void finish_write() noexcept {
        inflight_.clear();
        inflight_bytes_ = 0;
    }
    /// The connection failed: nothing queued will go out.
    void clear() noexcept {
        pending_.clear();
        pending_bytes_ = 0;
    }

private:
    struct splice {
        std::size_t at;
        shared_frame frame;
    };
    std::vector<splice> pending_, inflight_;
    std::size_t pending_bytes_ = 0, inflight_bytes_ = 0;
    std::vector<net::const_buffer> gather_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_SHARED_FRAME_QUEUE_HPP
