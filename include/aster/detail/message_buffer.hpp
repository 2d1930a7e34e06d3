// SPDX-License-Identifier: MIT
// message_buffer: a WebSocket message being assembled, grown without zero-filling, up to a cap.
#ifndef ASTER_DETAIL_MESSAGE_BUFFER_HPP
#define ASTER_DETAIL_MESSAGE_BUFFER_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/memory_budget.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string_view>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace aster::detail {

/// Bytes appended in place: reserve() room, write into spare(), commit() what was written.
/// Unlike std::string (whose resize zero-fills, and whose growth doubles past any limit),
/// growth never writes the new room and never goes past the cap the caller gives; on Linux a
/// large buffer is its own mapping, grown by mremap without copying, so the memory it holds is
/// what was written, not its capacity or the sum of two copies.
class message_buffer {
public:
    message_buffer() = default;
    message_buffer(const message_buffer&) = delete;
    message_buffer& operator=(const message_buffer&) = delete;
    ~message_buffer() { release(); }

    char* data() noexcept { return data_; }
    const char* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }
    bool empty() const noexcept { return size_ == 0; }
    std::string_view view() const noexcept { return {data_, size_}; }
    operator std::string_view() const noexcept { return view(); }

    char* spare() noexcept { return data_ + size_; }
    std::size_t spare_size() const noexcept { return capacity_ - size_; }
    void commit(std::size_t n) noexcept { size_ += n; }
    void clear() noexcept { size_ = 0; }
    void truncate(std::size_t n) noexcept { size_ = std::min(size_, n); }

    /// Capacity beyond `free_up_to` bytes is reserved in `budget` first; may be null.
    void charge_to(memory_budget* budget, std::size_t free_up_to) noexcept {
        share_.attach(budget);
        free_up_to_ = free_up_to;
    }

    /// Makes room for `extra` more bytes, doubling the capacity when it grows (amortised
    /// appends), but never beyond `cap` bytes in all: the room may then be smaller than asked.
    /// False, changing nothing, when the memory budget refuses the growth.
    bool reserve(std::size_t extra, std::size_t cap = std::size_t(-1)) {
        if (spare_size() >= extra) return true;
        std::size_t wanted = size_ + extra < size_ ? std::size_t(-1) : size_ + extra;
        wanted = std::max(wanted, std::max<std::size_t>(capacity_ * 2, 256));
        wanted = std::min(wanted, cap);
        if (wanted <= capacity_) return true;
        if (!share_.resize(wanted > free_up_to_ ? wanted : 0)) return false;
        reallocate(wanted);
        return true;
    }

    /// Appends `bytes`; false when the memory budget refuses the room. Throws
    /// std::length_error when they do not fit under `cap`.
    bool append(std::string_view bytes, std::size_t cap = std::size_t(-1)) {
        if (!reserve(bytes.size(), cap)) return false;
        if (spare_size() < bytes.size()) throw std::length_error("aster: message past its cap");
        if (!bytes.empty()) std::memcpy(spare(), bytes.data(), bytes.size());
        size_ += bytes.size();
        return true;
    }

    /// Frees the storage; empty afterwards.
    void release() noexcept {
        share_.resize(0);
        if (!data_) return;
#ifdef __linux__
        if (mapped_) ::munmap(data_, capacity_);
        else
#endif
            std::free(data_);
        data_ = nullptr;
        size_ = capacity_ = 0;
        mapped_ = false;
    }

private:
    // From here on a buffer is a mapping of its own (Linux): growing it remaps pages.
    static constexpr std::size_t map_from = 256 * 1024;

    void reallocate(std::size_t wanted) {
#ifdef __linux__
        if (wanted >= map_from) {
            const std::size_t page = 4096;
            wanted = (wanted + page - 1) / page * page;
            void* p;
            if (mapped_) {
                p = ::mremap(data_, capacity_, wanted, MREMAP_MAYMOVE);
            } else {
                p = ::mmap(nullptr, wanted, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                           0);
                if (p != MAP_FAILED && size_ > 0) std::memcpy(p, data_, size_);
                if (p != MAP_FAILED) std::free(data_);
            }
            if (p == MAP_FAILED) throw std::bad_alloc();
            data_ = static_cast<char*>(p);
            capacity_ = wanted;
            mapped_ = true;
            return;
        }
#endif
        void* p = std::realloc(data_, wanted);
        if (!p) throw std::bad_alloc();
        data_ = static_cast<char*>(p);
        capacity_ = wanted;
    }

    char* data_ = nullptr;
    std::size_t size_ = 0, capacity_ = 0;
    bool mapped_ = false;
    budget_share share_;
    std::size_t free_up_to_ = std::size_t(-1);
};

} // namespace aster::detail

#endif // ASTER_DETAIL_MESSAGE_BUFFER_HPP
