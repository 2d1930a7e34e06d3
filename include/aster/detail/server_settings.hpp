// SPDX-License-Identifier: MIT
// What a server says about itself when it starts: its address, loops, and what differs from
// the defaults; and the logging its config asks for.
#ifndef ASTER_DETAIL_SERVER_SETTINGS_HPP
#define ASTER_DETAIL_SERVER_SETTINGS_HPP

#include <aster/detail/config.hpp>
#include <aster/log.hpp>
#include <aster/options.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace aster::detail {

/// Sets aster's logger as `config` asks (a level left unset leaves the logger's).
inline void apply_logging(const server_config& config) {
    if (config.log_level) logger().level = *config.log_level;
    if (config.log_timestamps) logger().timestamps = true;
}

/// `name=value` for every setting of `config` that is not its default, comma-separated.
inline std::string non_default_settings(const server_config& config) {
    std::string out;
    auto add = [&](std::string_view name, std::string value) {
        out.append(out.empty() ? "" : ", ").append(name).append("=").append(value);
    };
    auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; };
    auto rate = [](const transfer_rate& r) {
        return std::to_string(r.bytes_per_second) + "B/s per " + std::to_string(r.window.count()) +
               "ms";
    };
    const server_config d{};
    const auto &l = config.limits, &dl = d.limits;
    const auto &w = config.websocket, &dw = d.websocket;
    if (l.max_header_bytes != dl.max_header_bytes)
        add("max_header_bytes", std::to_string(l.max_header_bytes));
    if (l.max_url_bytes != dl.max_url_bytes) add("max_url_bytes", std::to_string(l.max_url_bytes));
    if (l.max_body_bytes != dl.max_body_bytes)
        add("max_body_bytes", std::to_string(l.max_body_bytes));
    if (l.max_headers != dl.max_headers) add("max_headers", std::to_string(l.max_headers));
    if (l.header_timeout != dl.header_timeout) add("header_timeout", ms(l.header_timeout));
    if (l.body_timeout != dl.body_timeout) add("body_timeout", ms(l.body_timeout));
    if (l.keep_alive_timeout != dl.keep_alive_timeout)
        add("keep_alive_timeout", ms(l.keep_alive_timeout));
    if (l.min_receive_rate.bytes_per_second != dl.min_receive_rate.bytes_per_second ||
        l.min_receive_rate.window != dl.min_receive_rate.window)
        add("min_receive_rate", rate(l.min_receive_rate));
    if (l.min_send_rate.bytes_per_second != dl.min_send_rate.bytes_per_second ||
        l.min_send_rate.window != dl.min_send_rate.window)
        add("min_send_rate", rate(l.min_send_rate));
    if (w.max_message_bytes != dw.max_message_bytes)
        add("websocket.max_message_bytes", std::to_string(w.max_message_bytes));
    if (w.max_send_queue_bytes != dw.max_send_queue_bytes)
        add("websocket.max_send_queue_bytes", std::to_string(w.max_send_queue_bytes));
    if (w.close_timeout != dw.close_timeout) add("websocket.close_timeout", ms(w.close_timeout));
    if (w.ping_interval != dw.ping_interval) add("websocket.ping_interval", ms(w.ping_interval));
    if (w.ping_timeout != dw.ping_timeout) add("websocket.ping_timeout", ms(w.ping_timeout));
    if (w.deflate.enabled != dw.deflate.enabled)
        add("websocket.deflate", w.deflate.enabled ? "on" : "off");
    if (config.shutdown_timeout != d.shutdown_timeout)
        add("shutdown_timeout", ms(config.shutdown_timeout));
    if (config.max_connections != d.max_connections)
        add("max_connections", std::to_string(config.max_connections));
    if (config.max_connections_per_client != d.max_connections_per_client)
        add("max_connections_per_client", std::to_string(config.max_connections_per_client));
    if (config.memory_budget != d.memory_budget)
        add("memory_budget", std::to_string(config.memory_budget));
    if (!config.access_log) add("access_log", "off");
    if (config.reuse_port) add("reuse_port", "on");
    return out;
}

/// "listening on http://127.0.0.1:8000 with 2 threads (settings: ...)".
inline std::string listening_line(const server_config& config, std::uint16_t port,
                                  unsigned threads) {
    std::string line = std::string("aster: listening on ") + (config.tls ? "https://" : "http://") +
                       config.host + ":" + std::to_string(port) + " with " +
                       std::to_string(threads) + (threads == 1 ? " thread" : " threads");
    if (auto settings = non_default_settings(config); !settings.empty())
        line += " (" + settings + ")";
    return line;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_SERVER_SETTINGS_HPP
