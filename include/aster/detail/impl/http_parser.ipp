// SPDX-License-Identifier: MIT
// llhttp callbacks and request assembly for request_parser.
#ifndef ASTER_DETAIL_IMPL_HTTP_PARSER_IPP
#define ASTER_DETAIL_IMPL_HTTP_PARSER_IPP

namespace aster::detail {

ASTER_ENGINE request_parser::request_parser(const http_limits& limits) : limits_(limits) {
    llhttp_init(&parser_, HTTP_REQUEST, &settings());
    parser_.data = this;
}

ASTER_ENGINE const llhttp_settings_t& request_parser::settings() {
    static const llhttp_settings_t s = [] {
        llhttp_settings_t out;
        llhttp_settings_init(&out);
        out.on_message_begin = &on_message_begin;
        out.on_url = &on_url;
        out.on_header_field = &on_header_field;
        out.on_header_value = &on_header_value;
        out.on_headers_complete = &on_headers_complete;
        out.on_body = &on_body;
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
    self.last_was_value_ = false;
    self.header_bytes_ = 0;
    self.body_.clear();
    self.headers_done_ = self.message_done_ = self.upgrade_ = self.wants_continue_ = false;
    self.websocket_upgrade_ = false;
    return 0;
}

ASTER_ENGINE int request_parser::on_url(llhttp_t* p, const char* at, std::size_t len) {
    auto& self = *static_cast<request_parser*>(p->data);
    self.extend(self.url_, at, len);
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
    if (self.fields_.empty() || self.last_was_value_) {
        if (self.fields_.size() >= self.limits_.max_headers)
            return self.fail(status::request_header_fields_too_large,
                             "Request Header Fields Too Large");
        self.fields_.emplace_back();
        self.last_was_value_ = false;
    }
    self.extend(self.fields_.back().name, at, len);
    self.header_bytes_ += len;
    if (self.header_bytes_ > self.limits_.max_header_bytes)
        return self.fail(status::request_header_fields_too_large,
                         "Request Header Fields Too Large");
    return 0;
}

ASTER_ENGINE int request_parser::on_header_value(llhttp_t* p, const char* at, std::size_t len) {
    auto& self = *static_cast<request_parser*>(p->data);
    self.last_was_value_ = true;
    self.extend(self.fields_.back().value, at, len);
    self.header_bytes_ += len;
    if (self.header_bytes_ > self.limits_.max_header_bytes)
        return self.fail(status::request_header_fields_too_large,
                         "Request Header Fields Too Large");
    return 0;
}

// RFC 9110 §5.6.2 tchar. llhttp 8 lets a space inside a field name through ("Bad Header: x"),
// which proxies may read differently: a request-smuggling vector, so names are checked here.
inline constexpr auto token_chars = [] {
    std::array<bool, 256> table{};
    for (int c = 'a'; c <= 'z'; ++c) table[std::size_t(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) table[std::size_t(c)] = true;
    for (int c = '0'; c <= '9'; ++c) table[std::size_t(c)] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
    return table;
}();

ASTER_ENGINE int request_parser::on_headers_complete(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    self.headers_done_ = true;
    bool has_host = false;
    for (const auto& f : self.fields_) {
        auto name = self.view(f.name, self.request_begin_);
        if (name.empty()) return self.fail(status::bad_request, "Bad Request: empty header name");
        for (char c : name)
            if (!token_chars[static_cast<unsigned char>(c)])
                return self.fail(status::bad_request, "Bad Request: invalid header name");
        // The few names the parser itself cares about, told apart by length first.
        if (name.size() == 4 && iequals(name, "host")) {
            has_host = true;
        } else if (name.size() == 6 && iequals(name, "expect")) {
            if (iequals(self.view(f.value, self.request_begin_), "100-continue"))
                self.wants_continue_ = true;
        } else if (name.size() == 7 && iequals(name, "upgrade")) {
            if (header_has_token(self.view(f.value, self.request_begin_), "websocket"))
                self.websocket_upgrade_ = true;
        }
    }
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is answered with 400.
    if (!has_host && p->http_major == 1 && p->http_minor >= 1)
        return self.fail(status::bad_request, "Bad Request: missing Host header");
    // Refuse an oversized body before reading it, and before inviting it with 100 Continue.
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > self.limits_.max_body_bytes)
        return self.fail(status::request_entity_too_large, "Request Entity Too Large");
    bool has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
    if (!has_body) self.wants_continue_ = false;
    return 0;
}

ASTER_ENGINE int request_parser::on_body(llhttp_t* p, const char* at, std::size_t len) {
    auto& self = *static_cast<request_parser*>(p->data);
    self.wants_continue_ = false; // the client did not wait; no interim response is due
    if (self.body_.size() + len > self.limits_.max_body_bytes)
        return self.fail(status::request_entity_too_large, "Request Entity Too Large");
    self.body_.append(at, len);
    return 0;
}

ASTER_ENGINE int request_parser::on_message_complete(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    self.message_done_ = true;
    self.keep_alive_ = llhttp_should_keep_alive(p) != 0;
    return HPE_PAUSED; // one request at a time: the connection answers it, then resumes
}

ASTER_ENGINE request_parser::result request_parser::feed(const char* request_begin, const char* data,
                                                      std::size_t len) {
    request_begin_ = request_begin;
    llhttp_errno_t err = llhttp_execute(&parser_, data, len);
    if (err == HPE_OK) return {state::need_more, len};
    std::size_t used = std::size_t(llhttp_get_error_pos(&parser_) - data);
    if (err == HPE_PAUSED && message_done_) return {state::complete, used};
    if (err == HPE_PAUSED_UPGRADE && message_done_) {
        upgrade_ = true;
        return {state::complete, used};
    }
    if (error_reason_.empty()) {
        error_status_ = status::bad_request;
        error_reason_ = "Bad Request";
    }
    return {state::failed, used};
}

ASTER_ENGINE void request_parser::fill(request& req, const char* begin) {
    request_access::reset(req);
    request_access::set_method(req, llhttp_method_name(llhttp_method_t(parser_.method)));
    auto target = view(url_, begin);
    // One pass over the target: where the path ends, whether it needs decoding.
    std::size_t path_end = target.size();
    bool escaped = false;
    for (std::size_t i = 0; i < target.size(); ++i) {
        char c = target[i];
        if (c == '?' || c == '#') {
            path_end = i;
            break;
        }
        escaped |= c == '%';
    }
    auto raw_path = target.substr(0, path_end);
    std::string_view query;
    if (path_end < target.size() && target[path_end] == '?') {
        query = target.substr(path_end + 1);
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
    request_access::set_body(req, &body_);
}

ASTER_ENGINE void request_parser::next() {
    message_done_ = false;
    if (upgrade_) llhttp_resume_after_upgrade(&parser_);
    else llhttp_resume(&parser_);
    upgrade_ = false;
}

ASTER_ENGINE bool request_parser::take_continue() noexcept {
    bool due = wants_continue_ && headers_done_ && !message_done_;
    wants_continue_ = false;
    return due;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_HTTP_PARSER_IPP
