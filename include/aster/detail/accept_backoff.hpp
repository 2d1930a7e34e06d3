// SPDX-License-Identifier: MIT
// accept_backoff: what an accept loop does when accept fails, and the descriptor limit it needs.
#ifndef ASTER_DETAIL_ACCEPT_BACKOFF_HPP
#define ASTER_DETAIL_ACCEPT_BACKOFF_HPP

#include <aster/detail/config.hpp>
#include <aster/log.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

#include <sys/resource.h>

namespace aster::detail {

/// Out of descriptors or kernel memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the pending
/// connection stays queued and the next accept fails the same way at once.
inline bool is_resource_exhaustion(std::error_code ec) noexcept {
    if (ec.category() != std::system_category() && ec.category() != std::generic_category())
        return false;
    const int e = ec.value();
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

/// Paces an accept loop through failures. An error that exhaustion causes is retried after a
/// pause that doubles from 10 ms to 500 ms (nginx pauses accepts for 500 ms), not at once: a
/// retry at once spins a core while nothing can change. One episode of failures logs two
/// lines, when it starts and when accepts succeed again, with the count in between.
class accept_backoff {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds first_pause{10};
    static constexpr std::chrono::milliseconds longest_pause{500};

    /// Records a failed accept; returns how long to wait before the next one (zero: at once).
    std::chrono::milliseconds failed(std::error_code ec) {
        if (failures_++ == 0) {
            started_ = clock::now();
            log(log_level::warning,
                "aster: accept failed: " + ec.message() +
                    (is_resource_exhaustion(ec)
                         ? " (out of file descriptors or memory: pausing accepts, retrying "
                           "every 10 to 500 ms; raise `ulimit -n` or lower max_connections)"
                         : ""));
        }
        // A one-off error (a client that aborted before accept) is retried at once.
        if (!is_resource_exhaustion(ec) && failures_ == 1) return std::chrono::milliseconds(0);
        pause_ = pause_.count() == 0 ? first_pause : std::min(pause_ * 2, longest_pause);
        return pause_;
    }

    /// Records a successful accept, ending an episode of failures.
    void succeeded() {
        if (failures_ == 0) return;
        if (failures_ > 1 || pause_.count() > 0) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() -
                                                                            started_);
            log(log_level::warning, "aster: accepting again after " + std::to_string(failures_) +
                                        " failed accept(s) over " + std::to_string(ms.count()) +
                                        " ms");
        }
        failures_ = 0;
        pause_ = std::chrono::milliseconds(0);
    }

    std::size_t failures() const noexcept { return failures_; }

private:
    std::size_t failures_ = 0;
    std::chrono::milliseconds pause_{0};
    clock::time_point started_{};
};

/// What to do about RLIMIT_NOFILE for a server that may hold `wanted` descriptors: the soft
/// limit to set (raised toward the hard limit, never lowered), and a warning when even the
/// hard limit is short of it.
struct descriptor_plan {
    std::uint64_t soft = 0;
    std::string warning;
};

inline descriptor_plan plan_descriptors(std::uint64_t soft, std::uint64_t hard,
                                        std::uint64_t wanted) {
    descriptor_plan plan{soft, {}};
    if (soft >= wanted) return plan;
    plan.soft = std::min(hard, wanted);
    if (hard < wanted)
        plan.warning = "aster: max_connections cannot be reached: it needs about " +
                       std::to_string(wanted) + " file descriptors and the hard limit is " +
                       std::to_string(hard) + " (raise it with `ulimit -Hn`, LimitNOFILE= in " +
                       "systemd, or lower max_connections); beyond it new connections wait";
    return plan;
}

/// Room for `max_connections` sockets and a margin (listening sockets, the loops' own
/// descriptors, files being served): raises the soft RLIMIT_NOFILE as far as the hard limit
/// allows and logs a warning when that is not far enough.
inline void ensure_descriptor_room(std::size_t max_connections) {
    constexpr std::uint64_t margin = 64;
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    const auto wanted = std::uint64_t(max_connections) + margin;
    const auto plan = plan_descriptors(lim.rlim_cur, lim.rlim_max, wanted);
    if (plan.soft > lim.rlim_cur) {
        lim.rlim_cur = rlim_t(plan.soft);
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (!plan.warning.empty()) log(log_level::warning, plan.warning);
}

} // namespace aster::detail

#endif // ASTER_DETAIL_ACCEPT_BACKOFF_HPP
