// SPDX-License-Identifier: MIT
// metrics_route: the server's counters in Prometheus' text format, for scraping.
#ifndef ASTER_METRICS_HPP
#define ASTER_METRICS_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/metrics_registry.hpp>
#include <aster/detail/request_access.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>
#include <aster/routing.hpp>

namespace aster {

/// The route `metrics_route<Path>()` makes. An app that has one counts, on every loop and
/// without a lock, its requests by route (the route's name, else its pattern; `<unmatched>` for
/// routing's own 404s and 405s), method and status, a latency histogram per route (from the
/// request's head to the last byte of its response; Prometheus' default buckets), and its
/// WebSocket sessions, messages and close codes; a scrape sums the loops, with the server's
/// live counts (server_stats) as gauges. An app without one pays nothing.
template <fixed_string Path, fixed_string Name = "">
struct metrics_route_t : detail::route_base<Path, Name> {
    static constexpr bool is_metrics = true;
    static constexpr method allowed = method::get | method::head;
    static constexpr method allow_list = allowed;
    static constexpr bool runs_now = true;

    template <fixed_string NewName>
    constexpr auto named() const {
        return metrics_route_t<Path, NewName>{};
    }
    template <fixed_string Prefix>
    constexpr auto mounted_at() const {
        return metrics_route_t<detail::concat<Prefix, Path>(), Name>{};
    }
    static bool values_convert(std::span<const std::string_view>) { return true; }
    response call_now(request& req) const {
        const detail::metrics_registry* registry = detail::request_access::metrics(req);
        if (!registry)
            return plain_text("metrics are counted by aster's server and test_client only",
                              status::service_unavailable);
        return response::with_static_type(status::ok, detail::render_metrics(*registry),
                                          "text/plain; version=0.0.4; charset=utf-8");
    }
    task<response> invoke(request& req) const { co_return call_now(req); }
};

/// Serves the app's metrics at `Path` in Prometheus' text exposition format.
/// @code
/// constexpr auto routes = aster::routes(aster::route<"/hello">(hello),
///                                       aster::metrics_route<"/metrics">());
/// @endcode
template <fixed_string Path>
constexpr auto metrics_route() {
    static_assert(detail::check_pattern<Path>());
    static_assert(detail::pattern_of<Path>.param_count == 0,
                  "aster::metrics_route: the path takes no parameters");
    return metrics_route_t<Path>{};
}

} // namespace aster

#endif // ASTER_METRICS_HPP
