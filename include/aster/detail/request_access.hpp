// SPDX-License-Identifier: MIT
// The one door through which the parser and the router fill a request's private fields.
#ifndef ASTER_DETAIL_REQUEST_ACCESS_HPP
#define ASTER_DETAIL_REQUEST_ACCESS_HPP

#include <aster/detail/config.hpp>
#include <aster/request.hpp>

namespace aster::detail {

struct metrics_registry;

struct request_access {
    static void reset(request& r) noexcept {
        r.headers_.clear();
        r.query_params_.reset();
        r.path_param_count_ = 0;
        r.method_name_ = r.target_ = r.raw_path_ = r.path_ = r.query_ = r.route_pattern_ = {};
        r.route_label_ = {};
    }
    static aster::headers& headers(request& r) noexcept { return r.headers_; }
    static void set_method(request& r, std::string_view name) noexcept {
        r.method_name_ = name;
        r.method_id_ = parse_method(name);
    }
    static void set_target(request& r, std::string_view target, std::string_view raw_path,
                           std::string_view path, std::string_view query) noexcept {
        r.target_ = target;
        r.raw_path_ = raw_path;
        r.path_ = path;
        r.query_ = query;
    }
    static void set_version(request& r, int major, int minor, bool keep_alive) noexcept {
        r.version_major_ = major;
        r.version_minor_ = minor;
        r.keep_alive_ = keep_alive;
    }
    static void set_state(request& r, void* state, const void* type) noexcept {
        r.state_ = state;
        r.state_type_ = type;
    }
    static void set_routes(request& r, route_table routes) noexcept { r.routes_ = routes; }
    static void set_secure(request& r, bool secure) noexcept { r.secure_ = secure; }
    static void set_websocket(request& r, bool websocket) noexcept { r.websocket_ = websocket; }
    /// A buffered body (every request gets one when it is filled in).
    static void set_body(request& r, const std::string* body) noexcept {
        r.body_ = body;
        r.source_ = nullptr;
        r.body_taken_ = r.body_done_ = false;
    }
    /// A body that streams in from `source`; body() gathers it into `storage` (empty now).
    static void set_stream(request& r, body_source* source, std::string* storage) noexcept {
        set_body(r, storage);
        r.source_ = source;
        r.collected_ = storage;
    }
    /// True while the body is still streaming in (a plain handler must have it gathered first).
    static bool body_streaming(const request& r) noexcept { return r.source_ != nullptr; }
    static void set_client(request& r, const client_address* client) noexcept {
        r.client_ = client;
    }
    static void set_path_param(request& r, std::size_t index, std::string_view name,
                               std::string_view value) noexcept {
        r.path_params_[index] = {name, value};
        if (index >= r.path_param_count_) r.path_param_count_ = index + 1;
    }
    static void clear_path_params(request& r) noexcept { r.path_param_count_ = 0; }
    static void set_route(request& r, std::string_view pattern, std::string_view label) noexcept {
        r.route_pattern_ = pattern;
        r.route_label_ = label;
    }
    /// The matched route's name, else its pattern (static strings); empty when none matched.
    static std::string_view route_label(const request& r) noexcept { return r.route_label_; }
    static void set_metrics(request& r, const metrics_registry* m) noexcept { r.metrics_ = m; }
    static void set_topics(request& r, topic_publisher* t) noexcept { r.topics_ = t; }
    static topic_publisher* topics(const request& r) noexcept { return r.topics_; }
    static const metrics_registry* metrics(const request& r) noexcept { return r.metrics_; }
};

} // namespace aster::detail

#endif // ASTER_DETAIL_REQUEST_ACCESS_HPP
