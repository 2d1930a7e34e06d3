// SPDX-License-Identifier: MIT
// Fuzzes the HTTP request path (parser, routing, handlers, response writer, keep-alive,
// pipelining, upgrade) through the in-memory stream. Input: one config byte, then request bytes
// cut into pieces at fuzzer-chosen points (a 0xFF 0xFE pair marks a cut). Every byte the server
// writes must parse as well-formed HTTP/1.1 responses; no exception may escape; no hang.
#include "support/server.hpp"

#include <aster/application.hpp>

#include <algorithm>
#include <stdexcept>

namespace {

using aster::request;
using aster::response;
using aster::task;

// Reflects a client's bytes into a response header, as apps do. aster refuses values that
// would break the response (std::invalid_argument); nothing else may be refused.
void reflect(response& r, const char* name, std::string_view value) {
    try {
        r.header(name, std::string(value));
    } catch (const std::invalid_argument&) {
        bool control = false;
        for (char c : value)
            control = control || (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
        ASTER_FUZZ_CHECK(control, value);
    }
}

task<response> echo_body(request& req) {
    auto body = co_await req.body();
    response r = aster::plain_text(std::string(body));
    if (auto v = req.header("x-echo")) reflect(r, "X-Echo", *v);
    reflect(r, "X-Query", req.query_params().get("q", ""));
    if (auto c = req.cookie("sid")) reflect(r, "X-Sid", *c);
    co_return r;
}

// Reads at most two pieces of the body as it arrives, then answers: what is left is drained or
// the connection closes.
task<response> read_two(request& req) {
    std::string seen;
    for (int i = 0; i < 2; ++i) {
        auto piece = co_await req.read_some();
        if (piece.empty()) break;
        seen.append(piece);
    }
    co_return aster::plain_text(seen);
}

response stream_chunks(request& req) {
    int n = 0;
    auto count = req.query_params().get("n", "3");
    std::from_chars(count.data(), count.data() + count.size(), n);
    n = std::clamp(n, 0, 20);
    return aster::streaming([n](aster::body_writer& out) -> task<> {
        for (int i = 0; i < n; ++i) co_await out.write(std::to_string(i) + "\n");
    });
}

struct item_endpoint : aster::http_endpoint {
    response get(request&, std::int64_t id) { return aster::plain_text(std::to_string(id)); }
    task<response> delete_(request&, std::int64_t) {
        co_return response(aster::status::no_content);
    }
};

task<> ws_echo(aster::websocket& ws) {
    co_await ws.accept();
    for (;;) {
        auto m = co_await ws.receive();
        if (m.text) co_await ws.send_text(m.data);
        else co_await ws.send_bytes(m.data);
    }
}

constexpr auto table = aster::routes(
    aster::route<"/">([](request&) { return aster::plain_text("root"); }),
    aster::route<"/n/{n:int}">(
        [](request&, int n) { return aster::plain_text(std::to_string(n)); }),
    aster::route<"/x/{x:float}">(
        [](request&, double x) { return aster::plain_text(std::to_string(x)); }),
    aster::route<"/u/{u:uuid}">(
        [](request&, aster::uuid u) { return aster::plain_text(u.to_string()); }),
    aster::route<"/p/{p:path}">([](request&, std::string_view p) -> task<response> {
        co_return aster::plain_text(std::string(p));
    }),
    aster::route<"/echo", aster::method::post | aster::method::put>(echo_body),
    aster::route<"/two", aster::method::post | aster::method::put>(read_two),
    aster::route<"/stream">(stream_chunks),
    aster::route<"/big">([](request&) { return aster::plain_text(std::string(20000, 'b')); }),
    aster::route<"/empty">([](request&) { return response(aster::status::not_modified); }),
    aster::route<"/teapot">([](request&) -> response {
        throw aster::http_exception{aster::status::im_a_teapot, "short and stout"};
    }),
    aster::route<"/items/{id:int}", item_endpoint>(),
    aster::route<"/dir/">([](request&) { return aster::plain_text("dir"); }),
    aster::websocket_route<"/ws">(ws_echo));

constexpr aster::application app{table};

// The methods of the requests in `bytes`, in order, as plain llhttp reads them: the server
// answers a prefix of these (aster refuses more than llhttp does, never less), so response i
// answers request i.
std::vector<int> request_methods(std::string_view bytes) {
    struct state {
        std::vector<int> methods;
    } st;
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_method_complete = [](llhttp_t* p) {
        static_cast<state*>(p->data)->methods.back() = p->method;
        return 0;
    };
    s.on_message_begin = [](llhttp_t* p) {
        static_cast<state*>(p->data)->methods.push_back(-1);
        return 0;
    };
    llhttp_t parser;
    llhttp_init(&parser, HTTP_REQUEST, &s);
    parser.data = &st;
    const char* at = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        auto err = llhttp_execute(&parser, at, left);
        if (err != HPE_PAUSED_UPGRADE) break;
        const char* next = llhttp_get_error_pos(&parser);
        left -= std::size_t(next - at);
        at = next;
        llhttp_resume_after_upgrade(&parser);
    }
    return st.methods;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    aster_fuzz::input in(data, size);
    const std::uint8_t config = in.byte();
    std::string_view raw = in.rest();

    // Pieces: cut at every 0xFF 0xFE marker (dropped), so a mutation can move a boundary.
    std::string joined;
    std::vector<std::size_t> cuts;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\xff' && i + 1 < raw.size() && raw[i + 1] == '\xfe') {
            cuts.push_back(joined.size());
            ++i;
            continue;
        }
        joined += raw[i];
    }
    cuts.push_back(joined.size());
    std::vector<std::string_view> pieces;
    std::size_t from = 0;
    for (auto c : cuts) {
        pieces.push_back(std::string_view(joined).substr(from, c - from));
        from = c;
    }

    aster::detail::connection_options options;
    if (config & 1) { // small limits, so 413/414/431 are reachable with small inputs
        options.limits.max_header_bytes = 512;
        options.limits.max_url_bytes = 128;
        options.limits.max_body_bytes = 256;
        options.limits.max_headers = 8;
    }
    options.websocket.max_message_bytes = 4096;
    const std::size_t read_sizes[] = {std::size_t(-1), 1, 2, 3, 7, 16, 64, 256};
    auto run = aster_fuzz::serve(app.ref(), pieces, read_sizes[(config >> 1) & 7], options);
    if (run.handler_error) {
        try {
            std::rethrow_exception(run.handler_error);
        } catch (const std::exception& e) {
            aster_fuzz::fail("a handler threw (answered 500)", e.what());
        }
    }

    const auto methods = request_methods(joined);
    aster_fuzz::response_checker checker;
    auto frames = checker.check(run.output, [&](std::size_t i) {
        return i < methods.size() && methods[i] == HTTP_HEAD;
    });
    std::size_t finals = 0;
    for (const auto& r : checker.responses()) finals += r.status >= 200 || r.status == 101;
    ASTER_FUZZ_CHECK(finals <= std::max<std::size_t>(methods.size(), 1), run.output);
    if (!checker.responses().empty() && checker.responses().back().status == 101) {
        std::uint16_t code = 0;
        aster_fuzz::check_server_frames(frames, code);
    }
    return 0;
}
