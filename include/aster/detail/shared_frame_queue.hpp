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
    /// the buffers of that write, in queue order. Pieces under `copy_below` bytes are copied
    /// into one run instead: a buffer per 20-byte frame costs the kernel more than the copy,
    /// and Asio splits a write at 64 buffers. Larger frames go out from the shared bytes.
    const std::vector<net::const_buffer>& start_write(std::string_view own) {
        inflight_.swap(pending_);
        inflight_bytes_ = pending_bytes_;
        pending_bytes_ = 0;
        flat_.clear();
        pieces_.clear();
        std::size_t done = 0;
        for (const splice& s : inflight_) {
            if (s.at > done) add(own.substr(done, s.at - done));
            add(*s.frame);
            done = s.at;
        }
        if (own.size() > done) add(own.substr(done));
        gather_.clear();
        for (const piece& p : pieces_)
            gather_.emplace_back(p.shared ? p.shared : flat_.data() + p.offset, p.size);
        return gather_;
    }
    /// The write ended (done or failed): its frames are released.
    void finish_write() noexcept {
        inflight_.clear();
        inflight_bytes_ = 0;
        if (flat_.capacity() > keep_flat_up_to) std::string().swap(flat_);
    }
    /// The connection failed: nothing queued will go out.
    void clear() noexcept {
        pending_.clear();
        pending_bytes_ = 0;
    }

private:
    static constexpr std::size_t copy_below = 512;
    static constexpr std::size_t keep_flat_up_to = 64 * 1024;

    struct splice {
        std::size_t at;
        shared_frame frame;
    };
    // A run in flat_ (shared == nullptr) or bytes referenced where they are.
    struct piece {
        const char* shared;
        std::size_t offset, size;
    };

    void add(std::string_view bytes) {
        if (bytes.size() >= copy_below) {
            pieces_.push_back({bytes.data(), 0, bytes.size()});
            return;
        }
        if (pieces_.empty() || pieces_.back().shared)
            pieces_.push_back({nullptr, flat_.size(), 0}); // offsets: flat_ may move as it grows
        flat_.append(bytes);
        pieces_.back().size += bytes.size();
    }

    std::vector<splice> pending_, inflight_;
    std::size_t pending_bytes_ = 0, inflight_bytes_ = 0;
    std::string flat_;
    std::vector<piece> pieces_;
    std::vector<net::const_buffer> gather_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_SHARED_FRAME_QUEUE_HPP
