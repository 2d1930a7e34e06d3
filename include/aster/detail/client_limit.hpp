// SPDX-License-Identifier: MIT
// client_limit: open connections per client address, capped (server_config's per-client cap).
#ifndef ASTER_DETAIL_CLIENT_LIMIT_HPP
#define ASTER_DETAIL_CLIENT_LIMIT_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/asio.hpp>

#include <asio/ip/address.hpp>

#include <array>
#include <cstddef>
#include <map>
#include <mutex>

namespace aster::detail {

/// Counts open connections per address, shared by the loops of one server. Touched at accept
/// and at close only, never per request; with no cap it holds nothing and takes no lock.
class client_limit {
public:
    explicit client_limit(std::size_t cap) : cap_(cap) {}
    client_limit(const client_limit&) = delete;
    client_limit& operator=(const client_limit&) = delete;

    bool enabled() const noexcept { return cap_ != 0; }

    /// Counts a new connection from `address`; false (and not counted) past the cap.
    bool admit(const net::ip::address& address) {
        if (!enabled()) return true;
        std::lock_guard lock(mutex_);
        auto& n = open_[key(address)];
        if (n >= cap_) return false;
        ++n;
        return true;
    }
    void leave(const net::ip::address& address) {
        if (!enabled()) return;
        std::lock_guard lock(mutex_);
        auto it = open_.find(key(address));
        if (it != open_.end() && --it->second == 0) open_.erase(it);
    }

private:
    // IPv4 as its IPv6-mapped form, so one host counts once whichever socket family it used.
    static std::array<unsigned char, 16> key(const net::ip::address& a) {
        if (a.is_v4()) return net::ip::make_address_v6(net::ip::v4_mapped, a.to_v4()).to_bytes();
        return a.to_v6().to_bytes();
    }

    std::size_t cap_;
    std::mutex mutex_;
    std::map<std::array<unsigned char, 16>, std::size_t> open_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_CLIENT_LIMIT_HPP
