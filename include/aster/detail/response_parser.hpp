// SPDX-License-Identifier: MIT
// Client-side HTTP/1.1 response parsing over llhttp, for test_client.
#ifndef ASTER_DETAIL_RESPONSE_PARSER_HPP
#define ASTER_DETAIL_RESPONSE_PARSER_HPP

#include <aster/detail/config.hpp>
#include <aster/headers.hpp>

#include <llhttp.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster::detail {

/// Collects one response: status, owned headers and the decoded body.
class response_parser {
public:
    struct message {
        int status = 0;
        header_list headers;
        std::string body;
        bool keep_alive = true;
    };

    response_parser() {
        llhttp_init(&parser_, HTTP_RESPONSE, &settings());
        parser_.data = this;
    }
    response_parser(const response_parser&) = delete;
    response_parser& operator=(const response_parser&) = delete;

    /// The next response answers a HEAD request: it has no body whatever its headers say.
    void expect_no_body(bool v) noexcept { no_body_ = v; }

    /// Parses bytes; returns how many were used (it stops after one complete response). Throws
    /// std::runtime_error when the bytes are not a valid HTTP response.
    std::size_t feed(std::string_view data) {
        if (data.empty() || done_) return 0;
        auto err = llhttp_execute(&parser_, data.data(), data.size());
        if (err == HPE_OK) return data.size();
        if ((err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) && done_) {
            std::size_t used = std::size_t(llhttp_get_error_pos(&parser_) - data.data());
            llhttp_resume(&parser_);
            return used;
        }
        throw std::runtime_error(std::string("aster::test_client: invalid HTTP response: ") +
                                 llhttp_errno_name(err) + " " + llhttp_get_error_reason(&parser_));
    }
    /// The peer closed: a response delimited by the close is complete now.
    void finish() {
        if (done_) return;
        if (llhttp_finish(&parser_) == HPE_OK && done_) return;
    }
    bool done() const noexcept { return done_; }
    bool started() const noexcept { return started_; }
    message take() {
        done_ = false;
        started_ = false;
        return std::exchange(current_, {});
    }

private:
    static const llhttp_settings_t& settings() {
        static const llhttp_settings_t s = [] {
            llhttp_settings_t out;
            llhttp_settings_init(&out);
            out.on_message_begin = [](llhttp_t* p) {
                auto& self = *static_cast<response_parser*>(p->data);
                self.started_ = true;
                self.current_ = {};
                return 0;
            };
            out.on_header_field = [](llhttp_t* p, const char* at, std::size_t len) {
                auto& self = *static_cast<response_parser*>(p->data);
                if (self.current_.headers.empty() || self.in_value_)
                    self.current_.headers.emplace_back();
                self.in_value_ = false;
                self.current_.headers.back().first.append(at, len);
                return 0;
            };
            out.on_header_value = [](llhttp_t* p, const char* at, std::size_t len) {
                auto& self = *static_cast<response_parser*>(p->data);
                self.in_value_ = true;
                self.current_.headers.back().second.append(at, len);
                return 0;
            };
            out.on_headers_complete = [](llhttp_t* p) {
                auto& self = *static_cast<response_parser*>(p->data);
                self.in_value_ = false;
                self.current_.status = p->status_code;
                // 1 tells llhttp this response has no body (the answer to HEAD).
                return self.no_body_ && p->status_code >= 200 ? 1 : 0;
            };
            out.on_body = [](llhttp_t* p, const char* at, std::size_t len) {
                static_cast<response_parser*>(p->data)->current_.body.append(at, len);
                return 0;
            };
            out.on_message_complete = [](llhttp_t* p) {
                auto& self = *static_cast<response_parser*>(p->data);
                self.current_.keep_alive = llhttp_should_keep_alive(p) != 0;
                self.done_ = true;
                return int(HPE_PAUSED);
            };
            return out;
        }();
        return s;
    }

    llhttp_t parser_;
    message current_;
    bool in_value_ = false, done_ = false, started_ = false, no_body_ = false;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_RESPONSE_PARSER_HPP
