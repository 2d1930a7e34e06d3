// SPDX-License-Identifier: MIT
// admission: who gets served. The cap on open connections and the per-client cap, shared by
// the loops of one server or by serve()'s one loop.
#ifndef ASTER_DETAIL_ADMISSION_HPP
#define ASTER_DETAIL_ADMISSION_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/client_limit.hpp>

#include <atomic>
#include <cstddef>
#include <functional>

namespace aster::detail {

class admission {
public:
    admission(std::size_t max_connections, std::size_t max_per_client)
        : max_(max_connections), per_client_(max_per_client) {}
    admission(const admission&) = delete;
    admission& operator=(const admission&) = delete;

    /// Whether admit() needs the client's address (reading it costs a system call).
    bool needs_address() const noexcept { return per_client_.enabled(); }

    /// Counts a new connection; false (counted as refused, not as open) past either cap.
    bool admit(const net::ip::address& client) {
        if (open_.fetch_add(1, std::memory_order_relaxed) >= max_ || !per_client_.admit(client)) {
            open_.fetch_sub(1, std::memory_order_relaxed);
            refused_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        return true;
    }

    /// An admitted connection ended. on_empty runs when it was the last one.
    void leave(const net::ip::address& client) {
        per_client_.leave(client);
        if (open_.fetch_sub(1, std::memory_order_acq_rel) == 1 && on_empty) on_empty();
    }

    std::size_t open() const noexcept { return open_.load(std::memory_order_relaxed); }
    std::size_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }

    /// Set by serve(), whose graceful stop waits for the last connection; runs on the thread
    /// of the connection that ended.
    std::function<void()> on_empty;

private:
    std::size_t max_;
    client_limit per_client_;
    std::atomic<std::size_t> open_{0};
    std::atomic<std::size_t> refused_{0};
};

} // namespace aster::detail

#endif // ASTER_DETAIL_ADMISSION_HPP
