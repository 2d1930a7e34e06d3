// SPDX-License-Identifier: MIT
// Limits and server settings as aggregates with designated-initialiser defaults.
#ifndef ASTER_OPTIONS_HPP
#define ASTER_OPTIONS_HPP

#include <aster/detail/config.hpp>
#include <aster/tls.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aster {

/// A transfer in progress (a request body, a WebSocket message, a response or send queue being
/// written) must move at least `bytes_per_second` on average over each `window`: a peer that
/// trickles, or stops reading, cannot hold the connection's buffers for ever. A large upload
/// or download at a steady pace is not cut, however long it takes. Checked about once a
/// second by the server; 0 bytes per second turns the check off.
struct transfer_rate {
    std::size_t bytes_per_second = 240; // Kestrel's default minimum data rate
    std::chrono::milliseconds window{20000};
};

/// What one connection accepts before answering with an error status.
struct http_limits {
    std::size_t max_header_bytes = 16 * 1024; // request line + headers; beyond: 431
    std::size_t max_url_bytes = 8 * 1024;     // request-target; beyond: 414
    std::size_t max_body_bytes = 8 * 1024 * 1024; // whole body, chunked or not; beyond: 413
    std::size_t max_headers = 100;            // header count; beyond: 431
    // Time to receive a whole request head, from its first byte (or from the connection's
    // start): beyond it, 408 and close. Bounds slowloris clients.
    std::chrono::milliseconds header_timeout{10000};
    // Longest silence while a body is arriving: beyond it, 408 and close.
    std::chrono::milliseconds body_timeout{30000};
    // Longest silence between requests on a kept-alive connection: beyond it, a quiet close.
    std::chrono::milliseconds keep_alive_timeout{5000};
    // A body (or its trailers) arriving slower than this: 408 and close.
    transfer_rate min_receive_rate{};
    // A response written slower than this (the client does not read it): the connection closes.
    transfer_rate min_send_rate{};
};

/// permessage-deflate (RFC 7692): what aster accepts when a client offers compression. It takes
/// effect only when zlib is present (ASTER_HAS_ZLIB); without zlib offers are declined.
/// Memory, per connection that uses compression (measured; allocated on the first compressed
/// message each way, so idle and uncompressed connections pay nothing):
///   compressor   (1 << (server_max_window_bits + 2)) + (1 << (mem_level + 9)) + 5.8 KiB
///   decompressor (1 << window) + 7 KiB, window = the client's negotiated bits (15 when the
///                client does not let the server choose)
/// The defaults (12, 12, 5) give 48.8 KiB; zlib's usual (15, 15, 8) 300.8 KiB. The README's
/// WebSockets section has the details.
struct websocket_deflate_options {
    bool enabled = true; // negotiate when offered (browsers and Python's websockets offer it)
    // Our compressor's window, 9..15 (zlib has no raw 8-bit window, so an offer that demands
    // server_max_window_bits=8 is declined). 12 (4 KiB) keeps most of the gain at an eighth of
    // the memory of 15, as Python's websockets chooses.
    int server_max_window_bits = 12;
    // The window asked of a client that lets the server choose (it sent client_max_window_bits),
    // 9..15: our decompressor's window.
    int client_max_window_bits = 12;
    // Reset our compressor after every message (worse ratio, no state carried between
    // messages). Also agreed whenever the client asks for it.
    bool server_no_context_takeover = false;
    // Ask the client to reset its compressor after every message; our decompressor then resets.
    bool client_no_context_takeover = false;
    int mem_level = 5;     // zlib memLevel 1..9: the compressor's hash tables, 1 << (mem_level + 9)
    int level = 6;         // zlib compression level 1..9 (6: zlib's default trade-off)
    // Messages shorter than this are sent uncompressed: deflate saves nothing on a few bytes.
    std::size_t min_compress_bytes = 64;
};

/// WebSocket limits and timing, per connection.
struct websocket_options {
    std::size_t max_message_bytes = 16 * 1024 * 1024; // whole message; beyond: close 1009
    // Bytes queued for a slow reader. A send that finds more than this queued waits until the
    // queue drains below it (backpressure), so memory per connection stays bounded.
    std::size_t max_send_queue_bytes = 16 * 1024 * 1024 + 64 * 1024;
    std::chrono::milliseconds close_timeout{5000}; // wait this long for the peer's close reply
    // Keep-alive: ping every ping_interval; a peer that does not answer within ping_timeout is
    // closed with 1011, so a vanished peer does not hold its connection for ever. 20 s each, as
    // uvicorn and Python's websockets; 0 turns pings off. Pongs are read while the handler
    // receives, as endpoints always do.
    std::chrono::milliseconds ping_interval{20000};
    std::chrono::milliseconds ping_timeout{20000};
    // A message arriving slower than this (counted from its first byte to its last), or a send
    // queue drained slower (the peer does not read): closed with 1008.
    transfer_rate min_receive_rate{};
    transfer_rate min_send_rate{};
    // Compression, when zlib is present and the client offers it. max_message_bytes bounds the
    // decompressed size (a zip bomb is closed with 1009 as soon as it inflates past it).
    websocket_deflate_options deflate{};
};

/// `app.run({.host = "0.0.0.0", .port = 8080})`.
struct server_config {
    std::string host = "127.0.0.1"; // loopback unless asked: safe default for a dev server
    std::uint16_t port = 8000;      // 0 picks a free port; see server::port()
    // Event loops, one per thread, each with its own acceptor; 0 (the default): one per core.
    unsigned threads = 0;
    http_limits limits{};
    websocket_options websocket{};
    bool handle_signals = true;     // SIGINT/SIGTERM stop the server, gracefully
    // A graceful stop lets requests in flight finish and closes WebSockets with 1001; whatever
    // is still open after this long is cut.
    std::chrono::milliseconds shutdown_timeout{10000};
    // Open connections across all loops. One more is answered `503 Service Unavailable` and
    // closed at once, so a flood cannot exhaust file descriptors or memory.
    std::size_t max_connections = 10000;
    // Open connections from one client address; one more gets 503 at once. 0 (the default):
    // no limit, since behind a proxy or NAT every client shares one address. Without a proxy
    // it stops one host from taking all of max_connections.
    std::size_t max_connections_per_client = 0;
    // Bytes all connections together may hold for large request bodies and WebSocket messages
    // (those that need more than a pooled 64 KiB buffer). One that would pass it is refused:
    // HTTP 503 before its body is read, WebSocket close 1013 (try again later).
    std::size_t memory_budget = std::size_t(1) << 30;
    // Set: serve https and wss only, on this port (see tls.hpp).
    std::optional<tls_options> tls{};

    /// Reads `--host H`, `--port P`, `--threads N`, `--shutdown-timeout MS` and
    /// `--tls-cert FILE --tls-key FILE` (also `--port=P`); throws std::invalid_argument naming a
    /// bad flag.
    static server_config from_args(int argc, char** argv);
    static server_config from_args(int argc, char** argv, server_config defaults);
};

inline server_config server_config::from_args(int argc, char** argv) {
    return from_args(argc, argv, server_config{});
}

inline server_config server_config::from_args(int argc, char** argv, server_config config) {
    auto number = [](std::string_view flag, std::string_view text, unsigned long max) {
        unsigned long value = 0;
        if (text.empty()) throw std::invalid_argument(std::string(flag) + " needs a number");
        for (char c : text) {
            if (c < '0' || c > '9' || value > max)
                throw std::invalid_argument(std::string(flag) + ": not a number: " + std::string(text));
            value = value * 10 + unsigned(c - '0');
        }
        if (value > max) throw std::invalid_argument(std::string(flag) + ": out of range: " + std::string(text));
        return value;
    };
    auto file = [](std::string_view flag, std::string_view text) {
        if (text.empty()) throw std::invalid_argument(std::string(flag) + " needs a file name");
        return std::string(text);
    };
    std::string cert, key;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i], value;
        auto eq = arg.find('=');
        if (eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        } else if (i + 1 < argc && (arg == "--host" || arg == "--port" || arg == "--threads" ||
                                    arg == "--shutdown-timeout" || arg == "--tls-cert" ||
                                    arg == "--tls-key")) {
            value = argv[++i];
        }
        if (arg == "--host") config.host = std::string(value);
        else if (arg == "--port") config.port = std::uint16_t(number(arg, value, 65535));
        else if (arg == "--threads") config.threads = unsigned(number(arg, value, 1024));
        else if (arg == "--shutdown-timeout")
            config.shutdown_timeout = std::chrono::milliseconds(number(arg, value, 86'400'000));
        else if (arg == "--tls-cert") cert = file(arg, value);
        else if (arg == "--tls-key") key = file(arg, value);
        else throw std::invalid_argument("unknown option: " + std::string(argv[i]) +
                                         " (use --host, --port, --threads, --shutdown-timeout, "
                                         "--tls-cert, --tls-key)");
    }
    if (cert.empty() != key.empty())
        throw std::invalid_argument("--tls-cert and --tls-key go together");
    if (!cert.empty()) config.tls = tls_options{std::move(cert), std::move(key)};
    return config;
}

} // namespace aster

#endif // ASTER_OPTIONS_HPP
