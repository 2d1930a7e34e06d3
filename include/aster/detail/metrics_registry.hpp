// SPDX-License-Identifier: MIT
// Counters for metrics_route: one set per event loop, written by its thread alone without a lock
// and summed by a scrape from any thread, then rendered in Prometheus' text format.
#ifndef ASTER_DETAIL_METRICS_REGISTRY_HPP
#define ASTER_DETAIL_METRICS_REGISTRY_HPP

#include <aster/detail/config.hpp>
#include <aster/method.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace aster::detail {

/// A counter one thread adds to and any thread reads: a relaxed load and store, no locked
/// instruction (as live_count).
template <class T>
class owned_counter {
public:
    void add(T n) noexcept {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    T get() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<T> v_{};
};

struct metrics_registry;
/// Prometheus' text exposition format (version 0.0.4) of everything `registry` holds.
inline std::string render_metrics(const metrics_registry& registry);

/// The route label of requests routing itself answered (404, 405, a slash redirect) or that a
/// middleware answered before routing.
inline constexpr std::string_view unmatched_route = "<unmatched>";

/// One loop's metrics. Routes are told apart by their label's address (a static string: the
/// route's name or pattern), so recording is a short probe of fixed tables of atomics that the
/// owning thread fills and a scrape reads; past their size, entries go to an overflow row.
class loop_metrics {
public:
    // Prometheus' default buckets, in seconds.
    static constexpr std::array<double, 11> bounds{.005, .01, .025, .05, .1, .25,
                                                   .5,   1,   2.5,  5,   10};
    static constexpr std::size_t route_slots = 256, request_slots = 2048, close_slots = 512;

    /// One answered request: `seconds` from its head to the last byte of its response.
    void record_request(std::string_view route, method m, std::uint16_t status,
                        double seconds) noexcept {
        route_row& r = routes_[route_slot(route)];
        const std::uint32_t key = (std::uint32_t(&r - routes_.data()) + 1) << 16 |
                                  std::uint32_t(method_index(m)) << 12 | status;
        requests_[slot_for(keys_, key, request_slots)].count.add(1);
        std::size_t b = 0;
        while (b < bounds.size() && seconds > bounds[b]) ++b;
        r.buckets[b].add(1);
        r.seconds.add(seconds);
    }
    /// One WebSocket session that ended with `code`, with its messages each way.
    void record_websocket(std::string_view route, std::uint16_t code, std::uint64_t in,
                          std::uint64_t out) noexcept {
        route_row& r = routes_[route_slot(route)];
        r.sessions.add(1);
        r.messages_in.add(in);
        r.messages_out.add(out);
        const std::uint32_t key = (std::uint32_t(&r - routes_.data()) + 1) << 16 | code;
        closes_[slot_for(close_keys_, key, close_slots)].count.add(1);
    }

private:
    friend std::string render_metrics(const metrics_registry& registry);

    struct route_row {
        std::atomic<const char*> label{nullptr};
        std::atomic<std::size_t> label_size{0};
        std::array<owned_counter<std::uint64_t>, bounds.size() + 1> buckets; // the last: +Inf
        owned_counter<double> seconds;
        owned_counter<std::uint64_t> sessions, messages_in, messages_out;
    };
    struct count_row {
        owned_counter<std::uint64_t> count;
    };

    std::array<route_row, route_slots + 1> routes_; // the last: overflow
    std::array<std::atomic<std::uint32_t>, request_slots + 1> keys_{};
    std::array<count_row, request_slots + 1> requests_;
    std::array<std::atomic<std::uint32_t>, close_slots + 1> close_keys_{};
    std::array<count_row, close_slots + 1> closes_;

    static constexpr std::string_view method_names[8] = {"GET",   "HEAD",   "POST",    "PUT",
                                                         "PATCH", "DELETE", "OPTIONS", "OTHER"};

    static std::size_t method_index(method m) noexcept {
        constexpr method order[] = {method::get,   method::head,    method::post,   method::put,
                                    method::patch, method::delete_, method::options};
        for (std::size_t i = 0; i < 7; ++i)
            if (m == order[i]) return i;
        return 7;
    }
    std::size_t route_slot(std::string_view label) noexcept {
        std::size_t h = std::hash<const void*>{}(label.data()) % route_slots;
        for (std::size_t probe = 0; probe < route_slots; ++probe, h = (h + 1) % route_slots) {
            const char* seen = routes_[h].label.load(std::memory_order_acquire);
            if (seen == label.data()) return h;
            if (!seen) { // a new route: its counters are zero, then the label publishes it
                routes_[h].label_size.store(label.size(), std::memory_order_relaxed);
                routes_[h].label.store(label.data(), std::memory_order_release);
                return h;
            }
        }
        return route_slots;
    }
    template <std::size_t N>
    static std::size_t slot_for(std::array<std::atomic<std::uint32_t>, N>& keys, std::uint32_t key,
                                std::size_t slots) noexcept {
        std::size_t h = (key * 2654435761u) % slots;
        for (std::size_t probe = 0; probe < slots; ++probe, h = (h + 1) % slots) {
            const std::uint32_t seen = keys[h].load(std::memory_order_acquire);
            if (seen == key) return h;
            if (seen == 0) {
                keys[h].store(key, std::memory_order_release);
                return h;
            }
        }
        return slots;
    }
};

/// What a scrape reads besides the loops' counters: the server's live counts.
struct metrics_gauges {
    std::size_t connections = 0, sockets = 0, websockets = 0, buffered_bytes = 0, input_bytes = 0,
                budget_bytes = 0, budget_refusals = 0, refused_connections = 0;
};

/// Every loop of one server (or one test_client), for metrics_route to render.
struct metrics_registry {
    std::vector<const loop_metrics*> loops;
    std::function<metrics_gauges()> gauges; // empty: no gauges (a test_client)
};

inline std::string render_metrics(const metrics_registry& registry) {
    std::string out;
    auto quoted = [](std::string_view v) {
        std::string q;
        for (char c : v) {
            if (c == '\\' || c == '"') q.push_back('\\');
            if (c == '\n') q += "\\n";
            else q.push_back(c);
        }
        return q;
    };
    auto number = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        return std::string(buf);
    };
    auto family = [&](std::string_view name, std::string_view type, std::string_view help) {
        out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
        out.append(name).append(" ").append(type).append("\n");
    };
    if (registry.gauges) {
        const metrics_gauges g = registry.gauges();
        const std::tuple<std::string_view, std::string_view, std::string_view, std::size_t> rows[] =
            {
                {"aster_connections", "gauge", "Connection coroutines alive.", g.connections},
                {"aster_sockets", "gauge", "Accepted sockets not yet closed.", g.sockets},
                {"aster_websockets", "gauge", "WebSocket sessions alive.", g.websockets},
                {"aster_buffered_bytes", "gauge", "Output held for slow readers.",
                 g.buffered_bytes},
                {"aster_input_bytes", "gauge", "Read buffers held.", g.input_bytes},
                {"aster_memory_budget_bytes", "gauge",
                 "Memory budget reserved by large bodies and messages.", g.budget_bytes},
                {"aster_memory_budget_refusals_total", "counter",
                 "Bodies and messages refused for the memory budget.", g.budget_refusals},
                {"aster_refused_connections_total", "counter",
                 "Connections refused over a connection cap.", g.refused_connections},
            };
        for (const auto& [name, type, help, value] : rows) {
            family(name, type, help);
            out.append(name).append(" ").append(std::to_string(value)).append("\n");
        }
    }
    // Sum the loops, by label text (one route has one label on every loop).
    struct route_sum {
        std::array<std::uint64_t, loop_metrics::bounds.size() + 1> buckets{};
        double seconds = 0;
        std::uint64_t sessions = 0, in = 0, out = 0;
        std::map<std::pair<std::string, std::uint16_t>, std::uint64_t> requests; // (method, status)
        std::map<std::uint16_t, std::uint64_t> closes;
    };
    std::map<std::string, route_sum> routes;
    for (const loop_metrics* loop : registry.loops) {
        auto label_of = [&](std::size_t slot) -> std::string {
            if (slot >= loop_metrics::route_slots) return "<overflow>";
            const char* p = loop->routes_[slot].label.load(std::memory_order_acquire);
            return p ? std::string(p,
                                   loop->routes_[slot].label_size.load(std::memory_order_relaxed))
                     : std::string();
        };
        for (std::size_t slot = 0; slot <= loop_metrics::route_slots; ++slot) {
            const auto& row = loop->routes_[slot];
            std::string label = label_of(slot);
            if (label.empty()) continue;
            route_sum& sum = routes[label];
            for (std::size_t b = 0; b < sum.buckets.size(); ++b)
                sum.buckets[b] += row.buckets[b].get();
            sum.seconds += row.seconds.get();
            sum.sessions += row.sessions.get();
            sum.in += row.messages_in.get();
            sum.out += row.messages_out.get();
        }
        for (std::size_t i = 0; i < loop_metrics::request_slots; ++i) {
            const std::uint32_t key = loop->keys_[i].load(std::memory_order_acquire);
            if (key == 0) continue;
            std::string label = label_of((key >> 16) - 1);
            routes[label].requests[{std::string(loop_metrics::method_names[(key >> 12) & 15]),
                                    std::uint16_t(key & 0xfff)}] += loop->requests_[i].count.get();
        }
        for (std::size_t i = 0; i < loop_metrics::close_slots; ++i) {
            const std::uint32_t key = loop->close_keys_[i].load(std::memory_order_acquire);
            if (key == 0) continue;
            routes[label_of((key >> 16) - 1)].closes[std::uint16_t(key & 0xffff)] +=
                loop->closes_[i].count.get();
        }
    }
    family("aster_http_requests_total", "counter",
           "HTTP requests answered, by route, method and status.");
    for (const auto& [label, sum] : routes)
        for (const auto& [key, count] : sum.requests)
            out.append("aster_http_requests_total{route=\"")
                .append(quoted(label))
                .append("\",method=\"")
                .append(key.first)
                .append("\",status=\"")
                .append(std::to_string(key.second))
                .append("\"} ")
                .append(std::to_string(count))
                .append("\n");
    family("aster_http_request_duration_seconds", "histogram",
           "From a request's head to the last byte of its response, by route.");
    for (const auto& [label, sum] : routes) {
        std::uint64_t total = 0;
        for (auto b : sum.buckets) total += b;
        if (total == 0) continue;
        std::uint64_t cumulative = 0;
        const std::string route = "route=\"" + quoted(label) + "\"";
        for (std::size_t b = 0; b < sum.buckets.size(); ++b) {
            cumulative += sum.buckets[b];
            out.append("aster_http_request_duration_seconds_bucket{")
                .append(route)
                .append(",le=\"")
                .append(b < loop_metrics::bounds.size() ? number(loop_metrics::bounds[b]) : "+Inf")
                .append("\"} ")
                .append(std::to_string(cumulative))
                .append("\n");
        }
        out.append("aster_http_request_duration_seconds_sum{")
            .append(route)
            .append("} ")
            .append(number(sum.seconds))
            .append("\n");
        out.append("aster_http_request_duration_seconds_count{")
            .append(route)
            .append("} ")
            .append(std::to_string(total))
            .append("\n");
    }
    const std::tuple<std::string_view, std::string_view, std::uint64_t route_sum::*> ws[] = {
        {"aster_websocket_sessions_total", "WebSocket sessions ended, by route.",
         &route_sum::sessions},
        {"aster_websocket_messages_received_total", "WebSocket messages received, by route.",
         &route_sum::in},
        {"aster_websocket_messages_sent_total", "WebSocket messages sent, by route.",
         &route_sum::out},
    };
    for (const auto& [name, help, field] : ws) {
        family(name, "counter", help);
        for (const auto& [label, sum] : routes)
            if (sum.sessions > 0)
                out.append(name)
                    .append("{route=\"")
                    .append(quoted(label))
                    .append("\"} ")
                    .append(std::to_string(sum.*field))
                    .append("\n");
    }
    family("aster_websocket_closes_total", "counter",
           "WebSocket sessions ended, by route and close code.");
    for (const auto& [label, sum] : routes)
        for (const auto& [code, count] : sum.closes)
            out.append("aster_websocket_closes_total{route=\"")
                .append(quoted(label))
                .append("\",code=\"")
                .append(std::to_string(code))
                .append("\"} ")
                .append(std::to_string(count))
                .append("\n");
    return out;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_METRICS_REGISTRY_HPP
