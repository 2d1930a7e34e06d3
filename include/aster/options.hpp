// SPDX-License-Identifier: MIT
// Limits and server settings as aggregates with designated-initialiser defaults.
#ifndef ASTER_OPTIONS_HPP
#define ASTER_OPTIONS_HPP

#include <aster/detail/config.hpp>
#include <aster/log.hpp>
#include <aster/redis.hpp>
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
    std::size_t max_header_bytes = 16 * 1024;     // request line + headers; beyond: 431
    std::size_t max_url_bytes = 8 * 1024;         // request-target; beyond: 414
    std::size_t max_body_bytes = 8 * 1024 * 1024; // whole body, chunked or not; beyond: 413
    std::size_t max_headers = 100;                // header count; beyond: 431
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
    int mem_level = 5; // zlib memLevel 1..9: the compressor's hash tables, 1 << (mem_level + 9)
    int level = 6;     // zlib compression level 1..9 (6: zlib's default trade-off)
    // Messages shorter than this are sent uncompressed: deflate saves nothing on a few bytes.
    std::size_t min_compress_bytes = 64;
};

/// What a subscriber whose send queue is past websocket_options::max_topic_queue_bytes gets
/// from a publish: closed with 1013 (try again later; the default: a reader that cannot keep
/// up hears so and may reconnect), the message dropped (and counted), or an awaiting
/// publisher on the subscriber's loop waits until it has room, up to publish_options'
/// wait_timeout (then the message is dropped for it).
enum class backpressure : std::uint8_t { close, drop, wait };

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
    // Topics (websocket::subscribe): a subscriber with more than this queued and unsent is
    // treated by `topic_backpressure`, unless it chose a policy when it subscribed. Topic
    // frames are shared, not copied, so this bounds what one slow reader makes the server keep.
    std::size_t max_topic_queue_bytes = 1024 * 1024;
    backpressure topic_backpressure = backpressure::close;
};

/// `app.run({.host = "0.0.0.0", .port = 8080})`.
struct server_config {
    std::string host = "127.0.0.1"; // loopback unless asked: safe default for a dev server
    std::uint16_t port = 8000;      // 0 picks a free port; see server::port()
    // Event loops, one per thread, each with its own acceptor; 0 (the default): one per core.
    unsigned threads = 0;
    http_limits limits{};
    websocket_options websocket{};
    bool handle_signals = true; // SIGINT/SIGTERM stop the server, gracefully
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
    // Set: topics are shared with every process using the same Redis (see redis.hpp).
    std::optional<redis_broker> broker{};
    // Logging, set on aster's logger when the server starts: one line per request and per
    // WebSocket session, as uvicorn writes them (on by default; off for benchmarks), the level
    // (unset: left as logger() has it), and a UTC timestamp in front of each line.
    bool access_log = true;
    std::optional<aster::log_level> log_level{};
    bool log_timestamps = false;
    // Share the port with other processes that ask for it too (SO_REUSEPORT), for restarts
    // without downtime. Off: a port another process listens on is refused ("address already in
    // use"), so two servers never split one port's requests by accident.
    bool reuse_port = false;

    /// The command line of a server program: `--host H`, `--port P` (also `--port=P`),
    /// `--threads N`, `--shutdown-timeout MS`, `--tls-cert FILE --tls-key FILE`,
    /// `--no-access-log`, `--log-level LEVEL`, `--log-timestamps`, `--redis URL`,
    /// `--reuse-port`. `--help`
    /// prints usage() and exits with 0; a bad flag prints why, and the usage, to stderr and
    /// exits with 2.
    static server_config from_args(int argc, char** argv);
    static server_config from_args(int argc, char** argv, server_config defaults);
    /// The same, for programs that handle errors themselves: throws std::invalid_argument
    /// naming a bad flag, and aster::help_requested (whose what() is the usage) for `--help`.
    static server_config parse_args(int argc, char** argv);
    static server_config parse_args(int argc, char** argv, server_config defaults);
    /// The flags above, one per line, for `program`.
    static std::string usage(std::string_view program);
};

/// parse_args() met `-h` or `--help`; what() is the usage text.
class help_requested : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

} // namespace aster

#include <aster/impl/command_line.hpp>

#endif // ASTER_OPTIONS_HPP
