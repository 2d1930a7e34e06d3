// SPDX-License-Identifier: MIT
// memory_budget: the bytes all of a server's connections may hold for bodies and messages.
#ifndef ASTER_DETAIL_MEMORY_BUDGET_HPP
#define ASTER_DETAIL_MEMORY_BUDGET_HPP

#include <aster/detail/config.hpp>

#include <atomic>
#include <cstddef>

namespace aster::detail {

/// Shared by every loop of a server: a request body or WebSocket message that needs a buffer of
/// its own (beyond the pooled 64 KiB block) reserves its size here first, and is refused when
/// the total would pass `limit` (HTTP 503, WebSocket 1013). Only such large buffers touch it,
/// so the hot path of small requests and messages never does.
class memory_budget {
public:
    explicit memory_budget(std::size_t limit) noexcept : limit_(limit) {}
    memory_budget(const memory_budget&) = delete;
    memory_budget& operator=(const memory_budget&) = delete;

    bool try_reserve(std::size_t n) noexcept {
        std::size_t now = used_.load(std::memory_order_relaxed);
        do {
            if (n > limit_ || now > limit_ - n) {
                refusals_.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
        } while (!used_.compare_exchange_weak(now, now + n, std::memory_order_relaxed));
        return true;
    }
    void release(std::size_t n) noexcept { used_.fetch_sub(n, std::memory_order_relaxed); }

    std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }
    std::size_t refusals() const noexcept { return refusals_.load(std::memory_order_relaxed); }
    std::size_t limit() const noexcept { return limit_; }

private:
    const std::size_t limit_;
    std::atomic<std::size_t> used_{0}, refusals_{0};
};

/// A reservation held by one buffer: grows and shrinks with it, and is given back with it.
class budget_share {
public:
    explicit budget_share(memory_budget* budget = nullptr) noexcept : budget_(budget) {}
    budget_share(const budget_share&) = delete;
    budget_share& operator=(const budget_share&) = delete;
    ~budget_share() { resize(0); }

    void attach(memory_budget* budget) noexcept {
        resize(0);
        budget_ = budget;
    }
    /// Makes the reservation `n` bytes; false (and unchanged) when the budget refuses.
    bool resize(std::size_t n) noexcept {
        if (!budget_) return true;
        if (n > held_) {
            if (!budget_->try_reserve(n - held_)) return false;
        } else if (n < held_) {
            budget_->release(held_ - n);
        }
        held_ = n;
        return true;
    }

private:
    memory_budget* budget_;
    std::size_t held_ = 0;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_MEMORY_BUDGET_HPP
