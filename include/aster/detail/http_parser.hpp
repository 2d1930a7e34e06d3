// SPDX-License-Identifier: MIT
// Incremental HTTP/1.x request parsing over llhttp, recording where each piece lies in the read
// buffer.
#ifndef ASTER_DETAIL_HTTP_PARSER_HPP
#define ASTER_DETAIL_HTTP_PARSER_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/http_grammar.hpp>
#include <aster/detail/request_access.hpp>
#include <aster/detail/ws_handshake.hpp>
#include <aster/options.hpp>
#include <aster/request.hpp>
#include <aster/status.hpp>
#include <aster/url.hpp>

#include <llhttp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster::detail {

/// A Content-Length body above this is streamed to a coroutine route even when all of it is in
/// the buffer already: the handler sees it in pieces rather than as one copy.
inline constexpr std::size_t stream_body_threshold = 64 * 1024;

/// Parses one request at a time from a buffer the connection owns. Pieces are stored as offsets
/// from the request's first byte, so the connection may move or grow its buffer between feeds.
/// A body is either gathered into one string (buffered) or handed out piece by piece as it is
/// fed (streamed), whichever the connection chooses when the head is complete.
class request_parser {
public:
    // head_complete: only with pause_before_bodies, the head of a request whose body is not all
    // fed yet (or is large); body_piece: a streamed body's next piece, see body_piece().
    enum class state { need_more, complete, failed, head_complete, body_piece };
    struct result {
        state outcome;
        std::size_t consumed; // bytes of `data` used
    };

    explicit request_parser(const http_limits& limits);
    request_parser(const request_parser&) = delete;
    request_parser& operator=(const request_parser&) = delete;

    /// Parses `len` bytes at `data`; `request_begin` is where the current request's bytes start
    /// (at or before `data`). Stops after a complete request so each is answered in turn.
    result feed(const char* request_begin, const char* data, std::size_t len);

    /// Stop at head_complete when a body is chunked, larger than stream_body_threshold, or not
    /// all in the bytes fed: the connection then chooses how to read it (read_body).
    void pause_before_bodies(bool on) noexcept { pause_heads_ = on; }
    /// After head_complete: gather the body (false) or stream it (true), then feed on.
    void read_body(bool stream) noexcept;
    /// After body_piece: the piece, a view into the bytes fed (so it is valid until those move).
    std::string_view body_piece() const noexcept { return {piece_at_, piece_length_}; }
    /// After body_piece: the connection is done with the piece; feed on.
    void resume() noexcept;
    /// While a body streams: the earliest offset (from the request's first byte) the parser may
    /// still look back at to check chunked framing; bytes before it and before the parse
    /// position may be dropped with discard(). Unbounded for a Content-Length body.
    std::size_t keep_from() const noexcept;
    /// `count` body bytes at offset `from` were dropped from the buffer: offsets past them move.
    void discard(std::size_t from, std::size_t count) noexcept;
    /// Body bytes still to come of a Content-Length body; nullopt when chunked (unknown).
    std::optional<std::uint64_t> body_remaining() const noexcept;
    /// Where a streamed body is gathered when the handler asks for all of it (request::body).
    std::string& body_storage() noexcept { return body_; }

    /// After `complete`: points `req` at the request's pieces (views into `request_begin`).
    void fill(request& req, const char* request_begin);
    /// Gets ready for the next request on the same connection.
    void next();

    bool headers_complete() const noexcept { return headers_done_; }
    bool keep_alive() const noexcept { return keep_alive_; }
    bool upgrade() const noexcept { return upgrade_; }
    /// The request carries `Upgrade: websocket` (valid handshake or not).
    bool websocket_upgrade() const noexcept { return websocket_upgrade_; }
    /// The request being parsed is a HEAD (known once its method is): an answer to it,
    /// even a refusal, carries no body (RFC 9110 §9.3.2).
    bool head_request() const noexcept { return head_; }
    /// True once per request that sent `Expect: 100-continue` and whose body has not started.
    bool take_continue() noexcept;
    /// The status and text to answer a failed request with (400, 413, 414, 431, 501 or 505).
    aster::status error_status() const noexcept { return error_status_; }
    std::string_view error_reason() const noexcept { return error_reason_; }

private:
    struct piece {
        std::uint32_t offset = 0, length = 0;
    };
    struct field {
        piece name, value;
    };

    static int on_message_begin(llhttp_t*);
    static int on_url(llhttp_t*, const char*, std::size_t);
    static int on_header_field(llhttp_t*, const char*, std::size_t);
    static int on_header_value(llhttp_t*, const char*, std::size_t);
    static int on_headers_complete(llhttp_t*);
    static int on_body(llhttp_t*, const char*, std::size_t);
    static int on_chunk_header(llhttp_t*);
    static int on_chunk_extension_piece(llhttp_t*, const char*, std::size_t);
    static int on_chunk_extension_name_complete(llhttp_t*);
    static int on_chunk_extension_value_complete(llhttp_t*);
    static int on_chunk_complete(llhttp_t*);
    static int on_message_complete(llhttp_t*);
    static const llhttp_settings_t& settings();

    int fail(aster::status code, const char* reason) noexcept;
    int check_head(const llhttp_t& p) noexcept;
    bool blank_line_after(std::size_t from) const noexcept;
    std::size_t offset(const char* at) const noexcept { return std::size_t(at - request_begin_); }
    void extend(piece& p, const char* at, std::size_t len) noexcept;
    std::string_view view(piece p, const char* begin) const noexcept {
        return {begin + p.offset, p.length};
    }

    llhttp_t parser_;
    const http_limits& limits_;
    const char* request_begin_ = nullptr;
    const char* feed_end_ = nullptr; // end of the bytes handed to this feed()
    piece url_;
    std::vector<field> fields_;
    bool in_field_name_ = false;
    // Just past the last target, name or value byte seen (offset from the request's first
    // byte): only line ends may follow it, which is how bare LFs and folded lines show.
    std::size_t line_end_ = 0;
    std::size_t header_bytes_ = 0;
    // Chunked framing checks llhttp 8 leaves out (all offsets from the request's first byte).
    std::size_t chunk_line_ = 0;           // where the next chunk-size line starts
    std::size_t chunk_data_end_ = 0;       // just past the current chunk's data
    std::size_t extension_bytes_ = 0;      // of the chunk-extension name or value being read
    std::size_t line_extension_bytes_ = 0; // of every extension on this chunk line
    bool chunk_has_data_ = false;
    bool last_chunk_ = false;        // the last chunk's line was seen: trailers follow
    std::uint64_t body_bytes_ = 0;   // of the body so far, buffered or streamed
    const char* piece_at_ = nullptr; // the body piece feed() stopped after
    std::size_t piece_length_ = 0;
    std::string body_;
    std::string decoded_path_;
    bool headers_done_ = false, message_done_ = false, keep_alive_ = true, upgrade_ = false;
    bool wants_continue_ = false, websocket_upgrade_ = false, head_ = false;
    bool pause_heads_ = false, head_paused_ = false, streaming_ = false, piece_ready_ = false;
    aster::status error_status_ = aster::status::bad_request;
    std::string_view error_reason_;
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
#include <aster/detail/impl/http_parser.ipp>
#include <aster/detail/impl/http_body_parser.ipp>
#endif

#endif // ASTER_DETAIL_HTTP_PARSER_HPP
