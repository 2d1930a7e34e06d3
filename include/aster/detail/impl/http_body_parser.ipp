// SPDX-License-Identifier: MIT
// request_parser's bodies: Content-Length and chunked bodies, chunk lines and extensions, trailers,
// and the streamed body's bookkeeping (RFC 9112 §6, §7).
#ifndef ASTER_DETAIL_IMPL_HTTP_BODY_PARSER_IPP
#define ASTER_DETAIL_IMPL_HTTP_BODY_PARSER_IPP

namespace aster::detail {

ASTER_ENGINE int request_parser::on_body(llhttp_t* p, const char* at, std::size_t len) {
    auto& self = *static_cast<request_parser*>(p->data);
    // llhttp reports an empty span when it resumes at the end of the input: nothing to hand out.
    if (len == 0) return 0;
    self.wants_continue_ = false; // the client did not wait; no interim response is due
    if (len > self.limits_.max_body_bytes - self.body_bytes_)
        return self.fail(status::request_entity_too_large, "Request Entity Too Large");
    self.body_bytes_ += len;
    self.chunk_data_end_ = self.offset(at) + len;
    if (self.streaming_) {
        // One piece at a time: the handler reads it where it lies, then asks for the next.
        self.piece_at_ = at;
        self.piece_length_ = len;
        self.piece_ready_ = true;
        return HPE_PAUSED;
    }
    self.body_.append(at, len);
    return 0;
}

ASTER_ENGINE int request_parser::on_chunk_header(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    // A chunk that cannot fit is refused now, not after reading up to the limit (or waiting
    // for 2^60 bytes that never come).
    if (p->content_length > self.limits_.max_body_bytes - self.body_bytes_)
        return self.fail(status::request_entity_too_large, "Request Entity Too Large");
    self.chunk_has_data_ = p->content_length > 0;
    self.line_extension_bytes_ = 0;
    // The last chunk: its line and any trailer lines are checked from where it starts.
    if (!self.chunk_has_data_) {
        self.line_end_ = self.chunk_line_;
        self.last_chunk_ = true;
    }
    return 0;
}

ASTER_ENGINE int request_parser::on_chunk_extension_piece(llhttp_t* p, const char*,
                                                          std::size_t len) {
    auto& self = *static_cast<request_parser*>(p->data);
    self.extension_bytes_ += len;
    // One chunk line's extensions are bounded like a header block, whether the body is
    // gathered or streamed (a streamed one must fit the room behind its head anyway).
    self.line_extension_bytes_ += len;
    if (self.line_extension_bytes_ > self.limits_.max_header_bytes)
        return self.fail(status::bad_request, "Bad Request: chunk extensions too long");
    return 0;
}

// RFC 9112 §7.1.1: chunk-ext-name and chunk-ext-val are a token or a quoted-string, never
// empty; llhttp 8 takes `;=x` and `;a=`.
ASTER_ENGINE int request_parser::on_chunk_extension_name_complete(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    if (std::exchange(self.extension_bytes_, 0) == 0)
        return self.fail(status::bad_request, "Bad Request: empty chunk extension name");
    return 0;
}

ASTER_ENGINE int request_parser::on_chunk_extension_value_complete(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    if (std::exchange(self.extension_bytes_, 0) == 0)
        return self.fail(status::bad_request, "Bad Request: empty chunk extension value");
    return 0;
}

ASTER_ENGINE int request_parser::on_chunk_complete(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    if (!self.chunk_has_data_) return 0;
    // RFC 9112 §7.1: chunk data ends in CRLF. llhttp 8 skips two bytes whatever they are, so
    // "5\r\nhelloXX0\r\n\r\n" would parse: a smuggling vector, checked here.
    const char* end = self.request_begin_ + self.chunk_data_end_;
    if (self.feed_end_ - end < 2 || end[0] != '\r' || end[1] != '\n')
        return self.fail(status::bad_request, "Bad Request: chunk data not ended by CRLF");
    self.chunk_line_ = self.chunk_data_end_ + 2;
    self.chunk_has_data_ = false;
    return 0;
}

// The line with the byte at `from` ends in CRLF and an empty line (CRLF) follows it.
ASTER_ENGINE bool request_parser::blank_line_after(std::size_t from) const noexcept {
    const char* line = request_begin_ + from;
    const auto* lf = static_cast<const char*>(
        std::memchr(line, '\n', std::size_t(feed_end_ - line)));
    return lf && lf[-1] == '\r' && feed_end_ - lf >= 3 && lf[1] == '\r' && lf[2] == '\n';
}

ASTER_ENGINE int request_parser::on_message_complete(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    // The last-chunk line or the last trailer ends in CRLF, then the empty line (RFC 9112
    // §7.1); llhttp 8 accepts a bare LF in both.
    if ((p->flags & F_CHUNKED) && !self.blank_line_after(self.line_end_))
        return self.fail(status::bad_request, "Bad Request: bare LF or folded line");
    self.message_done_ = true;
    self.keep_alive_ = llhttp_should_keep_alive(p) != 0;
    return HPE_PAUSED; // one request at a time: the connection answers it, then resumes
}

ASTER_ENGINE void request_parser::read_body(bool stream) noexcept {
    head_paused_ = false;
    streaming_ = stream;
    llhttp_resume(&parser_);
}

ASTER_ENGINE void request_parser::resume() noexcept {
    piece_ready_ = false;
    llhttp_resume(&parser_);
}

ASTER_ENGINE std::size_t request_parser::keep_from() const noexcept {
    if (!(parser_.flags & F_CHUNKED)) return static_cast<std::size_t>(-1);
    // Trailer lines are checked from the end of the last one; a chunk's CRLF from the end of
    // its data; the last-chunk line from where its size line starts.
    if (last_chunk_) return line_end_;
    return chunk_has_data_ ? chunk_data_end_ : chunk_line_;
}

ASTER_ENGINE void request_parser::discard(std::size_t from, std::size_t count) noexcept {
    // Offsets into the dropped bytes are stale (keep_from() was at or past them): pin them.
    auto move = [&](std::size_t& at) {
        if (at >= from + count) at -= count;
        else if (at > from) at = from;
    };
    move(line_end_);
    move(chunk_line_);
    move(chunk_data_end_);
}

ASTER_ENGINE std::optional<std::uint64_t> request_parser::body_remaining() const noexcept {
    if (parser_.flags & F_CHUNKED) return std::nullopt;
    return message_done_ ? 0 : parser_.content_length; // llhttp counts it down as bytes come
}

ASTER_ENGINE bool request_parser::take_continue() noexcept {
    bool due = wants_continue_ && headers_done_ && !message_done_;
    wants_continue_ = false;
    return due;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_HTTP_BODY_PARSER_IPP
