// SPDX-License-Identifier: MIT
// Runs an app's real connection code over the in-memory test stream, feeding the fuzzer's bytes
// in pieces, and checks what the server wrote: HTTP/1.1 responses, then WebSocket frames.
#ifndef ASTER_TESTS_FUZZ_SUPPORT_SERVER_HPP
#define ASTER_TESTS_FUZZ_SUPPORT_SERVER_HPP

#include "fuzz.hpp"

#include <aster/detail/serve_stream.hpp>
#include <aster/detail/utf8.hpp>
#include <aster/detail/ws_frame.hpp>
#include <aster/test/stream.hpp>

#include <llhttp.h>

#include <memory>
#include <vector>

namespace aster_fuzz {

struct server_run {
    std::string output;               // every byte the server wrote
    std::exception_ptr handler_error; // an exception a handler let escape (answered with 500)
};

// Feeds `pieces` one by one, running the loop until it is idle after each; then closes the
// client's end. The server must finish without any timer firing: a hang is a failure.
inline server_run serve(aster::detail::app_ref app, const std::vector<std::string_view>& pieces,
                        std::size_t read_size, const aster::detail::connection_options& base) {
    using namespace aster;
    net::io_context ctx;
    auto client = std::make_shared<test::stream>(ctx);
    auto server = std::make_shared<test::stream>(ctx);
    client->connect(*server);
    server->read_size(read_size);
    server_run run;
    auto options = std::make_shared<detail::connection_options>(base);
    options->exception_sink = &run.handler_error;
    bool done = false;
    std::exception_ptr escaped;
    net::co_spawn(
        ctx,
        [](std::shared_ptr<test::stream> end, detail::app_ref a,
           std::shared_ptr<detail::connection_options> o) -> task<> {
            client_address client{"fuzz", 1}; // named: g++ 12 and temporaries in co_await
            co_await detail::serve_stream(*end, a, *o, std::move(client));
            end->close();
        }(server, app, options),
        [&](std::exception_ptr e) {
            done = true;
            escaped = e;
        });
    auto settle = [&] {
        for (std::size_t steps = 0; ctx.poll() > 0; ++steps)
            if (steps > 2'000'000) fail("the io_context never went idle (livelock)");
        run.output += client->take();
    };
    settle();
    for (auto piece : pieces) {
        if (done) break;
        client->send(piece);
        settle();
    }
    // Idle and not done: the server must be waiting for bytes, nothing else.
    if (!done && !server->waiting_to_read())
        fail("the server is idle, not reading and not finished (hang)");
    client->close();
    settle();
    if (!done) fail("the server did not finish after the client closed (hang)");
    if (escaped) {
        try {
            std::rethrow_exception(escaped);
        } catch (const std::exception& e) {
            fail("an exception escaped the connection", e.what());
        }
    }
    return run;
}

// One response as the checker read it.
struct parsed_response {
    int status = 0;
    bool keep_alive = true, has_date = false;
    std::size_t content_lengths = 0;
    std::string body;
};

// Parses the server's output strictly as HTTP/1.1 responses; `head_for(i)` says whether the
// i-th final response answers a HEAD request. Stops at a 101 and returns the rest (frames).
class response_checker {
public:
    template <class HeadFor>
    std::string_view check(std::string_view out, HeadFor head_for) {
        llhttp_settings_t s;
        llhttp_settings_init(&s);
        s.on_message_begin = [](llhttp_t* p) {
            auto& self = *static_cast<response_checker*>(p->data);
            self.responses_.emplace_back();
            self.field_.clear();
            return 0;
        };
        s.on_header_field = [](llhttp_t* p, const char* at, std::size_t n) {
            auto& self = *static_cast<response_checker*>(p->data);
            if (self.in_value_) self.field_.clear();
            self.in_value_ = false;
            self.field_.append(at, n);
            return 0;
        };
        s.on_header_value = [](llhttp_t* p, const char*, std::size_t) {
            auto& self = *static_cast<response_checker*>(p->data);
            if (!self.in_value_) {
                if (aster::iequals(self.field_, "date")) self.responses_.back().has_date = true;
                if (aster::iequals(self.field_, "content-length"))
                    ++self.responses_.back().content_lengths;
            }
            self.in_value_ = true;
            return 0;
        };
        s.on_headers_complete = [](llhttp_t* p) {
            auto& self = *static_cast<response_checker*>(p->data);
            self.in_value_ = false;
            self.responses_.back().status = p->status_code;
            bool head = p->status_code >= 200 && self.head_for_(self.finals_);
            return head ? 1 : 0;
        };
        s.on_body = [](llhttp_t* p, const char* at, std::size_t n) {
            static_cast<response_checker*>(p->data)->responses_.back().body.append(at, n);
            return 0;
        };
        s.on_message_complete = [](llhttp_t* p) {
            auto& self = *static_cast<response_checker*>(p->data);
            auto& r = self.responses_.back();
            r.keep_alive = llhttp_should_keep_alive(p) != 0;
            if (r.status >= 200) ++self.finals_;
            return int(HPE_PAUSED);
        };
        head_for_ = head_for;
        llhttp_t parser;
        llhttp_init(&parser, HTTP_RESPONSE, &s);
        parser.data = this;
        std::string_view rest = out;
        while (!rest.empty()) {
            auto err = llhttp_execute(&parser, rest.data(), rest.size());
            if (err == HPE_OK) {
                // The output ended inside a response: only a body delimited by the close may.
                auto end = llhttp_finish(&parser);
                if (end != HPE_OK && end != HPE_PAUSED)
                    fail("the server's output ends inside a response", rest);
                if (end == HPE_PAUSED) check_one(responses_.back(), {});
                break;
            }
            if (err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE)
                fail("the server wrote an invalid HTTP response", rest);
            std::size_t used = std::size_t(llhttp_get_error_pos(&parser) - rest.data());
            rest.remove_prefix(used);
            const auto& r = responses_.back();
            check_one(r, rest);
            if (r.status == 101) return rest; // WebSocket frames follow
            if (!r.keep_alive && !rest.empty())
                fail("bytes after a response that closes the connection", rest);
            llhttp_resume(&parser);
        }
        return {};
    }
    const std::vector<parsed_response>& responses() const noexcept { return responses_; }

private:
    static void check_one(const parsed_response& r, std::string_view) {
        if (r.status < 100 || r.status > 599) fail("status out of range");
        if (r.status > 101 && r.status < 200) fail("unexpected interim response");
        if (r.status >= 200 && !r.has_date) fail("response without Date");
        if (r.content_lengths > 1) fail("two Content-Length headers");
        if ((r.status == 204 || r.status == 304 || r.status < 200) &&
            (r.content_lengths || !r.body.empty()))
            fail("body or Content-Length on a response that has none");
    }

    std::vector<parsed_response> responses_;
    std::string field_;
    bool in_value_ = false;
    std::size_t finals_ = 0;
    std::function<bool(std::size_t)> head_for_;
};

// Checks frames a server sent (RFC 6455 §5): unmasked, valid opcodes, text is UTF-8, a close
// frame carries a code that may be sent, and nothing follows it. Returns the frames' kinds and
// payloads, and the close code (0: none sent; 1005: a close without a code).
struct server_frame {
    aster::detail::opcode op;
    std::string payload;
};
inline std::vector<server_frame> check_server_frames(std::string_view bytes,
                                                     std::uint16_t& close_code) {
    using namespace aster::detail;
    std::vector<server_frame> frames;
    close_code = 0;
    while (!bytes.empty()) {
        if (close_code != 0) fail("bytes after the server's close frame", bytes);
        frame_header h;
        frame_error why;
        auto span = std::span<const std::uint8_t>(
            reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
        auto result = parse_frame_header(span, h, why, false, false);
        if (result != frame_parse_result::ok)
            fail("the server wrote an invalid frame header", bytes);
        if (!h.fin) fail("the server fragmented a message");
        if (bytes.size() - h.header_size < h.payload_length)
            fail("the server's frame is cut short");
        std::string payload(bytes.substr(h.header_size, std::size_t(h.payload_length)));
        bytes.remove_prefix(h.header_size + std::size_t(h.payload_length));
        if (h.op == opcode::text && !is_valid_utf8(payload)) fail("the server sent invalid UTF-8");
        if (h.op == opcode::close) {
            close_payload c;
            auto kind = parse_close_payload(
                std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(payload.data()),
                                              payload.size()),
                c);
            if (kind == close_parse::invalid)
                fail("the server sent an invalid close frame", payload);
            close_code = kind == close_parse::empty ? 1005 : c.code;
        }
        frames.push_back({h.op, std::move(payload)});
    }
    return frames;
}

} // namespace aster_fuzz

#endif // ASTER_TESTS_FUZZ_SUPPORT_SERVER_HPP
