// SPDX-License-Identifier: MIT
// The live connections of one event loop, so a graceful stop can ask each to finish.
#ifndef ASTER_DETAIL_CONNECTION_REGISTRY_HPP
#define ASTER_DETAIL_CONNECTION_REGISTRY_HPP

#include <aster/detail/config.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>

namespace aster::detail {

/// A count only its loop's thread changes and any thread may read (server::stats()): a relaxed
/// load and store, so no locked instruction on the loop's path.
class live_count {
public:
    void add(std::size_t n = 1) noexcept {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void sub(std::size_t n = 1) noexcept {
        value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
    }
    std::size_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::size_t> value_{0};
};

/// What one loop holds right now (see aster::server_stats).
struct loop_counters {
    live_count connections, sockets, websockets, buffered_bytes, input_bytes;
};

/// Decrements a count when it goes out of scope (a connection coroutine ends, say).
class count_guard {
public:
    explicit count_guard(live_count* c) noexcept : count_(c) {
        if (count_) count_->add();
    }
    ~count_guard() {
        if (count_) count_->sub();
    }
    count_guard(const count_guard&) = delete;
    count_guard& operator=(const count_guard&) = delete;

private:
    live_count* count_;
};

/// A connection that can be asked to wind down: finish the request in flight and close, or
/// close its WebSocket with 1001.
class closable {
public:
    virtual void begin_shutdown() = 0;
    /// Closes the connection's stream at once: what is in flight fails and unwinds.
    virtual void abort() noexcept = 0;
    /// The loop's watchdog, about once a second: gives up on a transfer that is too slow.
    virtual void watch(std::chrono::steady_clock::time_point) noexcept {}

protected:
    ~closable() = default;

private:
    friend class connection_registry;
    closable* prev_ = nullptr;
    closable* next_ = nullptr;
};

/// An intrusive list, touched only from its loop's thread: registering costs two pointer stores.
class connection_registry {
public:
    void add(closable& c) noexcept {
        c.prev_ = nullptr;
        c.next_ = head_;
        if (head_) head_->prev_ = &c;
        head_ = &c;
        ++size_;
    }
    void remove(closable& c) noexcept {
        if (c.prev_) c.prev_->next_ = c.next_;
        else head_ = c.next_;
        if (c.next_) c.next_->prev_ = c.prev_;
        c.prev_ = c.next_ = nullptr;
        --size_;
        if (size_ == 0 && on_empty) on_empty();
    }
    std::size_t size() const noexcept { return size_; }
    void shutdown_all() {
        for (closable* c = head_; c;) {
            closable* next = c->next_; // begin_shutdown may remove c
            c->begin_shutdown();
            c = next;
        }
    }
    void abort_all() noexcept {
        for (closable* c = head_; c; c = c->next_) c->abort();
    }
    /// Runs every connection's watch(); none is removed meanwhile (watch only cancels I/O).
    void sweep(std::chrono::steady_clock::time_point now) noexcept {
        for (closable* c = head_; c; c = c->next_) c->watch(now);
    }
    std::function<void()> on_empty; // set while stopping
    loop_counters counters;

private:
    closable* head_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_CONNECTION_REGISTRY_HPP
