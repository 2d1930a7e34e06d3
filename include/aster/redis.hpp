// SPDX-License-Identifier: MIT
// The Redis broker's settings, for topics shared by processes and machines; plain data, so it
// costs nothing without hiredis.
#ifndef ASTER_REDIS_HPP
#define ASTER_REDIS_HPP

#include <aster/detail/config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aster {

/// `server_config::broker = aster::redis_broker{"redis://127.0.0.1:6379/0"}` (or `--redis URL`):
/// every process with the same Redis and channel prefix shares its topics through Redis
/// pub/sub. Needs a build with ASTER_HAS_REDIS (CMake ASTER_REDIS=ON, meson -Dredis=enabled;
/// hiredis); without it, a server given a broker throws. No TLS to Redis (hiredis 0.14 has
/// none): keep Redis on a trusted network. See docs/topics.md.
struct redis_broker {
    // redis://[user:password@]host[:port][/db]; host is an IP address or a name.
    std::string url = "redis://127.0.0.1:6379/0";
    // Topic "t" is the Redis channel prefix + "t": several apps may share one Redis.
    std::string channel_prefix = "aster:";
    // Publishes made while Redis is unreachable wait for it up to this many bytes; beyond,
    // they are dropped (counted in topic_stats::broker_dropped). Local delivery goes on.
    std::size_t max_queued_bytes = 8 * 1024 * 1024;
    // Reconnecting: the first retry after `retry_min`, doubling up to `retry_max`.
    std::chrono::milliseconds retry_min{100};
    std::chrono::milliseconds retry_max{5000};
    std::chrono::milliseconds connect_timeout{2000};
};

/// A redis:// URL taken apart.
struct redis_address {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string username, password;
    unsigned db = 0;

    /// Throws std::invalid_argument naming what is wrong.
    static redis_address parse(std::string_view url) {
        constexpr std::string_view scheme = "redis://";
        if (url.substr(0, scheme.size()) != scheme)
            throw std::invalid_argument("redis URL must start with redis:// (not rediss://: no "
                                        "TLS to Redis): " +
                                        std::string(url));
        redis_address a;
        std::string_view rest = url.substr(scheme.size());
        if (auto at = rest.rfind('@'); at != std::string_view::npos) {
            std::string_view auth = rest.substr(0, at);
            rest = rest.substr(at + 1);
            if (auto colon = auth.find(':'); colon != std::string_view::npos) {
                a.username = std::string(auth.substr(0, colon));
                a.password = std::string(auth.substr(colon + 1));
            } else {
                a.password = std::string(auth); // redis://secret@host: a password only
            }
        }
        std::string_view path;
        if (auto slash = rest.find('/'); slash != std::string_view::npos) {
            path = rest.substr(slash + 1);
            rest = rest.substr(0, slash);
        }
        auto number = [&](std::string_view text, unsigned long max, const char* what) {
            unsigned long v = 0;
            if (text.empty() || text.size() > 10)
                throw std::invalid_argument(std::string("redis URL: bad ") + what + ": " +
                                            std::string(url));
            for (char c : text) {
                if (c < '0' || c > '9')
                    throw std::invalid_argument(std::string("redis URL: bad ") + what + ": " +
                                                std::string(url));
                v = v * 10 + unsigned(c - '0');
            }
            if (v > max)
                throw std::invalid_argument(std::string("redis URL: bad ") + what + ": " +
                                            std::string(url));
            return v;
        };
        if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
            a.port = std::uint16_t(number(rest.substr(colon + 1), 65535, "port"));
            rest = rest.substr(0, colon);
        }
        if (rest.empty()) throw std::invalid_argument("redis URL: no host: " + std::string(url));
        a.host = std::string(rest);
        if (!path.empty()) a.db = unsigned(number(path, 1u << 20, "database number"));
        return a;
    }
};

} // namespace aster

#endif // ASTER_REDIS_HPP
