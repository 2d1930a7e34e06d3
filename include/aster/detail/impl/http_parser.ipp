// SPDX-License-Identifier: MIT
// llhttp callbacks and request assembly for request_parser.
#ifndef ASTER_DETAIL_IMPL_HTTP_PARSER_IPP
#define ASTER_DETAIL_IMPL_HTTP_PARSER_IPP

namespace aster::detail {

ASTER_ENGINE request_parser::request_parser(const http_limits& limits) : limits_(limits) {
    llhttp_init(&parser_, HTTP_REQUEST, &settings());
    parser_.data = this;
    // Off by default in llhttp 8; said again so nobody turns one on by accident: each lets a
    // message through that another parser on the path may frame differently (smuggling).
    llhttp_set_lenient_headers(&parser_, 0);
    llhttp_set_lenient_chunked_length(&parser_, 0);
    llhttp_set_lenient_keep_alive(&parser_, 0);
    llhttp_set_lenient_transfer_encoding(&parser_, 0);
}

ASTER_ENGINE const llhttp_settings_t& request_parser::settings() {
    static const llhttp_settings_t s = [] {
        llhttp_settings_t out;
        llhttp_settings_init(&out);
        out.on_message_begin = &on_message_begin;
        out.on_url = &on_url;
        // Whether the request is a HEAD, known as soon as its method is, however it is cut.
        out.on_method_complete = [](llhttp_t* p) {
            static_cast<request_parser*>(p->data)->head_ = p->method == HTTP_HEAD;
            return 0;
        };
        out.on_header_field = &on_header_field;
        out.on_header_value = &on_header_value;
        out.on_headers_complete = &on_headers_complete;
        out.on_body = &on_body;
        out.on_chunk_header = &on_chunk_header;
        out.on_chunk_extension_name = &on_chunk_extension_piece;
        out.on_chunk_extension_value = &on_chunk_extension_piece;
        out.on_chunk_extension_name_complete = &on_chunk_extension_name_complete;
        out.on_chunk_extension_value_complete = &on_chunk_extension_value_complete;
        out.on_chunk_complete = &on_chunk_complete;
        out.on_message_complete = &on_message_complete;
        return out;
    }();
    return s;
}

ASTER_ENGINE int request_parser::fail(aster::status code, const char* reason) noexcept {
    error_status_ = code;
    error_reason_ = reason;
    return -1;
}

ASTER_ENGINE void request_parser::extend(piece& p, const char* at, std::size_t len) noexcept {
    // llhttp hands a piece over in several calls when it spans reads; the bytes are contiguous.
    if (p.length == 0) p.offset = std::uint32_t(at - request_begin_);
    p.length += std::uint32_t(len);
}

ASTER_ENGINE int request_parser::on_message_begin(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    self.url_ = {};
    self.fields_.clear();
    self.in_field_name_ = self.chunk_has_data_ = false;
    self.line_end_ = self.chunk_line_ = self.chunk_data_end_ = self.extension_bytes_ = 0;
    self.line_extension_bytes_ = 0;
    self.header_bytes_ = 0;
    self.body_.clear();
    self.body_bytes_ = 0;
    self.headers_done_ = self.message_done_ = self.upgrade_ = self.wants_continue_ = false;
    self.websocket_upgrade_ = self.head_ = self.last_chunk_ = false;
    self.head_paused_ = self.streaming_ = self.piece_ready_ = false;
    return 0;
}

ASTER_ENGINE int request_parser::on_url(llhttp_t* p, const char* at, std::size_t len) {
    auto& self = *static_cast<request_parser*>(p->data);
    // llhttp 8 passes a TAB in the target (outside its strict mode); no control byte belongs
    // in a request-target (RFC 9112 §3.2, RFC 3986 §2).
    for (std::size_t i = 0; i < len; ++i) {
        auto c = static_cast<unsigned char>(at[i]);
        if (c <= 0x20 || c == 0x7f)
            return self.fail(status::bad_request, "Bad Request: control character in target");
    }
    self.extend(self.url_, at, len);
    self.line_end_ = self.offset(at) + len;
    if (self.url_.length > self.limits_.max_url_bytes)
        return self.fail(status::request_uri_too_long, "URI Too Long");
    self.header_bytes_ += len;
    if (self.header_bytes_ > self.limits_.max_header_bytes)
        return self.fail(status::request_header_fields_too_large,
                         "Request Header Fields Too Large");
    return 0;
}

ASTER_ENGINE int request_parser::on_header_field(llhttp_t* p, const char* at, std::size_t len) {
    auto& self = *static_cast<request_parser*>(p->data);
    if (!self.in_field_name_) {
        // A field (or trailer) line starts at `at`. RFC 9112 §2.2 and §5.2: the line before it
        // ends in one CRLF. llhttp 8 also takes a bare LF, and a whitespace-only line folded
        // into the previous value.
        const char* last = self.request_begin_ + self.line_end_;
        if (static_cast<const char*>(std::memchr(last, '\n', std::size_t(at - last))) != at - 1 ||
            at[-2] != '\r')
            return self.fail(status::bad_request, "Bad Request: bare LF or folded line");
        self.in_field_name_ = true;
        // Trailer fields are read and dropped: RFC 9110 §6.5.1 forbids merging them into the
        // header section, where they could pose as a second Host or Content-Length.
        if (!self.headers_done_) {
            if (self.fields_.size() >= self.limits_.max_headers)
                return self.fail(status::request_header_fields_too_large,
                                 "Request Header Fields Too Large");
            self.fields_.emplace_back();
        }
    }
    if (!self.headers_done_) self.extend(self.fields_.back().name, at, len);
    if (len > 0) self.line_end_ = self.offset(at) + len;
    self.header_bytes_ += len;
    if (self.header_bytes_ > self.limits_.max_header_bytes)
        return self.fail(status::request_header_fields_too_large,
                         "Request Header Fields Too Large");
    return 0;
}

ASTER_ENGINE int request_parser::on_header_value(llhttp_t* p, const char* at, std::size_t len) {
    auto& self = *static_cast<request_parser*>(p->data);
    if (self.fields_.empty() && !self.headers_done_)
        return self.fail(status::bad_request, "Bad Request: header value without a name");
    self.in_field_name_ = false;
    // llhttp 8 reports an empty value as a zero-length piece after the line's CRLF: it says
    // nothing about where the value is, so only pieces with bytes are placed.
    if (len == 0) return 0;
    // Between the name (or the previous piece) and these bytes there is only `:` and
    // whitespace, unless llhttp joined a continuation line: obs-fold, which RFC 9112 §5.2 lets
    // a server reject with 400.
    const char* last = self.request_begin_ + self.line_end_;
    if (std::memchr(last, '\n', std::size_t(at - last)))
        return self.fail(status::bad_request, "Bad Request: obsolete line folding");
    self.line_end_ = self.offset(at) + len;
    if (!self.headers_done_) self.extend(self.fields_.back().value, at, len);
    self.header_bytes_ += len;
    if (self.header_bytes_ > self.limits_.max_header_bytes)
        return self.fail(status::request_header_fields_too_large,
                         "Request Header Fields Too Large");
    return 0;
}

// RFC 9110 §7.2 Host = uri-host [ ":" port ]: reg-name, IP literal or IPv4 characters only.
inline constexpr auto host_chars = [] {
    std::array<bool, 256> table{};
    for (int c = 'a'; c <= 'z'; ++c) table[std::size_t(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) table[std::size_t(c)] = true;
    for (int c = '0'; c <= '9'; ++c) table[std::size_t(c)] = true;
    for (char c : std::string_view("-._~%!$&'()*+,;=:[]"))
        table[static_cast<unsigned char>(c)] = true;
    return table;
}();

// The transfer codings of a request, over every Transfer-Encoding line in order (RFC 9112 §6.1):
// chunked must come last and once; any coding before it is one aster cannot decode.
struct transfer_codings {
    std::size_t count = 0;
    bool last_chunked = false, chunked_before_last = false, other = false;

    void add(std::string_view list) noexcept {
        // Empty list elements are ignored (RFC 9110 §5.6.1).
        for_each_list_item(list, [this](std::string_view item) {
            if (last_chunked) chunked_before_last = true;
            last_chunked = iequals(item, "chunked");
            if (!last_chunked) other = true;
            ++count;
        });
    }
};

// Everything about the request head llhttp 8 does not check itself. Returns 0 or fail(...).
ASTER_ENGINE int request_parser::check_head(const llhttp_t& p) noexcept {
    // RFC 9112 §2.2: the head ends with an empty line, every line in CRLF. Lines before the
    // last were checked as fields started; here, the last line and the empty one.
    if (!blank_line_after(line_end_))
        return fail(status::bad_request, "Bad Request: bare LF or folded line");
    const char* last = request_begin_ + line_end_;
    chunk_line_ = offset(static_cast<const char*>(
                      std::memchr(last, '\n', std::size_t(feed_end_ - last)))) +
                  3;

    if (p.http_major == 0) return fail(status::bad_request, "Bad Request: HTTP/0.9 request");
    // RFC 9110 §15.6.6: an HTTP/2 request line over HTTP/1 framing is a version we do not speak.
    if (p.http_major > 1)
        return fail(status::http_version_not_supported, "HTTP Version Not Supported");
    // aster is an origin server, not a proxy: there is no tunnel to open (RFC 9110 §9.3.6).
    if (p.method == HTTP_CONNECT) return fail(status::not_implemented, "Not Implemented: CONNECT");

    // RFC 9112 §3.2: origin-form, absolute-form (accepted, routed on its path), or `*` for
    // OPTIONS only. llhttp 8 takes `*` with any method and any scheme in absolute-form.
    auto target = view(url_, request_begin_);
    if (target == "*") {
        if (p.method != HTTP_OPTIONS)
            return fail(status::bad_request, "Bad Request: asterisk-form is for OPTIONS only");
    } else if (target.empty() || target.front() != '/') {
        std::size_t scheme = iequals(target.substr(0, 7), "http://")    ? 7
                             : iequals(target.substr(0, 8), "https://") ? 8
                                                                        : 0;
        if (scheme == 0 || scheme == target.size() || target[scheme] == '/' ||
            target[scheme] == '?' || target[scheme] == '#')
            return fail(status::bad_request, "Bad Request: invalid request target");
    }

    std::size_t hosts = 0;
    transfer_codings codings;
    bool has_transfer_encoding = false;
    for (const auto& f : fields_) {
        auto name = view(f.name, request_begin_);
        if (name.empty()) return fail(status::bad_request, "Bad Request: empty header name");
        // llhttp 8 lets a space inside a field name through ("Bad Header: x"), which proxies
        // may read differently: a request-smuggling vector, so names are checked here.
        for (char c : name)
            if (!is_tchar(c)) return fail(status::bad_request, "Bad Request: invalid header name");
        // The few names the parser itself cares about, told apart by length first.
        auto value = view(f.value, request_begin_);
        if (name.size() == 4 && iequals(name, "host")) {
            ++hosts;
            for (char c : value)
                if (!host_chars[static_cast<unsigned char>(c)])
                    return fail(status::bad_request, "Bad Request: invalid Host header");
        } else if (name.size() == 6 && iequals(name, "expect")) {
            if (iequals(value, "100-continue")) wants_continue_ = true;
        } else if (name.size() == 7 && iequals(name, "upgrade")) {
            if (header_has_token(value, "websocket")) websocket_upgrade_ = true;
        } else if (name.size() == 17 && iequals(name, "transfer-encoding")) {
            has_transfer_encoding = true;
            codings.add(value);
        }
    }
    // RFC 9112 §3.2: no Host in HTTP/1.1, or more than one Host line, is answered with 400.
    if (hosts == 0 && p.http_major == 1 && p.http_minor >= 1)
        return fail(status::bad_request, "Bad Request: missing Host header");
    if (hosts > 1) return fail(status::bad_request, "Bad Request: more than one Host header");
    if (has_transfer_encoding) {
        // RFC 9112 §6.1: HTTP/1.0 has no transfer codings, so its framing cannot be trusted; a
        // coding list that does not end in one chunked cannot be framed at all (400); a coding
        // aster does not implement before chunked gets 501.
        if (p.http_major == 1 && p.http_minor == 0)
            return fail(status::bad_request, "Bad Request: Transfer-Encoding in HTTP/1.0");
        if (codings.count == 0 || !codings.last_chunked || codings.chunked_before_last)
            return fail(status::bad_request, "Bad Request: invalid Transfer-Encoding");
        if (codings.other) return fail(status::not_implemented, "Not Implemented: transfer coding");
    }
    return 0;
}

ASTER_ENGINE int request_parser::on_headers_complete(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    self.headers_done_ = true;
    if (int refused = self.check_head(*p)) return refused;
    // Refuse an oversized body before reading it, and before inviting it with 100 Continue.
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > self.limits_.max_body_bytes)
        return self.fail(status::request_entity_too_large, "Request Entity Too Large");
    bool has_body = (p->flags & F_CHUNKED) ||
                    ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
    if (!has_body) self.wants_continue_ = false;
    // A body not all here yet (or a large one): the connection may stream it to the handler.
    // Upgrade requests are parsed whole, as before (a WebSocket handshake has no body).
    if (self.pause_heads_ && has_body && !self.websocket_upgrade_ && !(p->flags & F_UPGRADE)) {
        const std::size_t fed = std::size_t(self.feed_end_ - self.request_begin_);
        const std::size_t available = fed - std::min(fed, self.chunk_line_); // body bytes fed
        if ((p->flags & F_CHUNKED) || p->content_length > stream_body_threshold ||
            p->content_length > available) {
            // Known now, for an answer that may go out before the body has ended.
            self.keep_alive_ = llhttp_should_keep_alive(p) != 0;
            self.head_paused_ = true;
            return HPE_PAUSED;
        }
    }
    return 0;
}

ASTER_ENGINE request_parser::result request_parser::feed(const char* request_begin,
                                                         const char* data, std::size_t len) {
    request_begin_ = request_begin;
    feed_end_ = data + len;
    llhttp_errno_t err = llhttp_execute(&parser_, data, len);
    if (err == HPE_PAUSED_UPGRADE && !message_done_) {
        // The previous request asked for an Upgrade and was answered as HTTP (a refused
        // WebSocket handshake, or `h2c`, which RFC 9110 §7.8 lets a server ignore): llhttp
        // stops before the next request; it is HTTP, so parse on.
        const char* next = llhttp_get_error_pos(&parser_);
        llhttp_resume_after_upgrade(&parser_);
        err = llhttp_execute(&parser_, next, std::size_t(feed_end_ - next));
    }
    if (err == HPE_OK) return {state::need_more, len};
    std::size_t used = std::size_t(llhttp_get_error_pos(&parser_) - data);
    if (err == HPE_PAUSED && message_done_) return {state::complete, used};
    if (err == HPE_PAUSED && head_paused_) return {state::head_complete, used};
    if (err == HPE_PAUSED && piece_ready_) return {state::body_piece, used};
    if (err == HPE_PAUSED_UPGRADE && message_done_) {
        upgrade_ = true;
        return {state::complete, used};
    }
    if (error_reason_.empty()) {
        // The HTTP/2 connection preface (`PRI * HTTP/2.0`) asks for a version we do not speak.
        error_status_ = err == HPE_PAUSED_H2_UPGRADE ? status::http_version_not_supported
                                                     : status::bad_request;
        error_reason_ = err == HPE_PAUSED_H2_UPGRADE ? "HTTP Version Not Supported" : "Bad Request";
    }
    return {state::failed, used};
}

ASTER_ENGINE void request_parser::fill(request& req, const char* begin) {
    request_access::reset(req);
    request_access::set_method(req, llhttp_method_name(llhttp_method_t(parser_.method)));
    auto target = view(url_, begin);
    // Absolute-form (RFC 9112 §3.2.2, which servers MUST accept): route on the path after the
    // authority; check_head() let only http(s)://authority... through. The Host header stays
    // as sent (aster does no virtual hosting).
    auto local = target;
    if (!local.empty() && local.front() != '/' && local != "*") {
        auto authority = local.find("//") + 2;
        local.remove_prefix(std::min(local.find_first_of("/?#", authority), local.size()));
    }
    // One pass over the target: where the path ends, whether it needs decoding.
    std::size_t path_end = local.size();
    bool escaped = false;
    for (std::size_t i = 0; i < local.size(); ++i) {
        char c = local[i];
        if (c == '?' || c == '#') {
            path_end = i;
            break;
        }
        escaped |= c == '%';
    }
    auto raw_path = local.substr(0, path_end);
    if (raw_path.empty()) raw_path = "/"; // `http://host?x`: the path is empty, that is `/`
    std::string_view query;
    if (path_end < local.size() && local[path_end] == '?') {
        query = local.substr(path_end + 1);
        query = query.substr(0, query.find('#'));
    }
    std::string_view path = raw_path;
    if (escaped) {
        decoded_path_ = percent_decode(raw_path);
        path = decoded_path_;
    }
    request_access::set_target(req, target, raw_path, path, query);
    auto& headers = request_access::headers(req);
    for (const auto& f : fields_) headers.add(view(f.name, begin), view(f.value, begin));
    request_access::set_version(req, parser_.http_major, parser_.http_minor, keep_alive_);
    request_access::set_websocket(req, websocket_upgrade_);
    request_access::set_body(req, &body_);
}

ASTER_ENGINE void request_parser::next() {
    message_done_ = false;
    if (upgrade_) llhttp_resume_after_upgrade(&parser_);
    else llhttp_resume(&parser_);
    upgrade_ = false;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_HTTP_PARSER_IPP
