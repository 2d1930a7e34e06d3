// SPDX-License-Identifier: MIT
// Fuzzes form_parser.hpp: urlencoded bodies against a reference split, and the incremental
// multipart parser fed the same body whole and cut at fuzzer-chosen points, which must agree
// event for event, error for error; every refusal is a form_error with 400 or 413.
#include "support/fuzz.hpp"

#include <aster/form_parser.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace {

// Everything the parser reports, in order, with data pieces joined per part: how a body is cut
// must not change it.
struct recorder : aster::multipart_parser::handler {
    std::vector<std::string> events;
    bool in_part = false;
    void on_part_begin(const aster::multipart_part& part) override {
        ASTER_FUZZ_CHECK(!in_part, "a part began inside a part");
        in_part = true;
        events.push_back("begin " + part.name + (part.filename ? " file " + *part.filename : "") +
                         " type " + part.content_type);
        events.emplace_back("data ");
    }
    void on_part_data(std::string_view bytes) override {
        ASTER_FUZZ_CHECK(in_part, "data outside a part");
        events.back().append(bytes);
    }
    void on_part_end() override {
        ASTER_FUZZ_CHECK(in_part, "a part ended that had not begun");
        in_part = false;
        events.emplace_back("end");
    }
};

// The outcome of one parse: its events and, when refused, the status.
struct outcome {
    std::vector<std::string> events;
    int status = 0;
};

outcome parse_multipart(std::string_view boundary, std::string_view body,
                        const std::vector<std::size_t>& cuts, const aster::form_limits& limits) {
    recorder out;
    outcome result;
    try {
        aster::multipart_parser parser(boundary, limits);
        std::size_t at = 0;
        for (std::size_t cut : cuts) {
            if (cut <= at || cut > body.size()) continue;
            parser.feed(body.substr(at, cut - at), out);
            at = cut;
        }
        parser.feed(body.substr(at), out);
        parser.finish();
        ASTER_FUZZ_CHECK(!out.in_part, "finish() accepted a body ending inside a part");
    } catch (const aster::form_error& e) {
        result.status = int(e.status());
        ASTER_FUZZ_CHECK(result.status == 400 || result.status == 413, body);
    }
    result.events = std::move(out.events);
    return result;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    aster_fuzz::input in(data, size);
    const std::uint8_t mode = in.byte();
    aster::form_limits limits;
    if (in.flag()) { // small limits, so every refusal path is reachable
        limits.max_fields = in.byte() % 8;
        limits.max_files = in.byte() % 8;
        limits.max_part_bytes = in.byte();
        limits.max_file_bytes = in.u16();
        limits.max_part_header_bytes = 1 + in.byte();
    }

    if (mode % 2 == 0) {
        std::string_view body = in.rest();
        try {
            auto fields = aster::parse_urlencoded(body, limits);
            // The reference: non-empty pieces between '&', name before the first '='. Without
            // '%' or '+' nothing is decoded, so the pieces must come back as they are.
            std::vector<std::pair<std::string, std::string>> expected;
            std::size_t start = 0;
            for (;;) {
                auto amp = body.find('&', start);
                auto piece = body.substr(start, amp == body.npos ? body.npos : amp - start);
                if (!piece.empty()) {
                    auto eq = piece.find('=');
                    expected.emplace_back(std::string(piece.substr(0, eq)),
                                          eq == piece.npos ? std::string()
                                                           : std::string(piece.substr(eq + 1)));
                }
                if (amp == body.npos) break;
                start = amp + 1;
            }
            ASTER_FUZZ_CHECK(fields.size() <= expected.size(), body);
            if (body.find_first_of("%+") == body.npos) ASTER_FUZZ_CHECK(fields == expected, body);
        } catch (const aster::form_error& e) {
            int status = int(e.status());
            ASTER_FUZZ_CHECK(status == 400 || status == 413, body);
        }
        return 0;
    }

    // Multipart: a boundary (checked by multipart_boundary when it comes as a Content-Type),
    // cut points, then the body.
    std::string boundary(in.until_nul());
    if (in.flag()) {
        try {
            boundary = aster::multipart_boundary("multipart/form-data; boundary=" + boundary);
        } catch (const aster::form_error& e) {
            ASTER_FUZZ_CHECK(int(e.status()) == 400, boundary);
            return 0;
        }
    }
    if (boundary.empty() || boundary.size() > 70) return 0;
    std::vector<std::size_t> cuts;
    for (int n = in.byte() % 8; n > 0; --n) cuts.push_back(in.u16());
    std::sort(cuts.begin(), cuts.end());
    std::string_view body = in.rest();

    auto whole = parse_multipart(boundary, body, {}, limits);
    auto cut = parse_multipart(boundary, body, cuts, limits);
    std::vector<std::size_t> every_byte;
    if (body.size() <= 512)
        for (std::size_t i = 1; i < body.size(); ++i) every_byte.push_back(i);
    auto bytewise = parse_multipart(boundary, body, every_byte, limits);
    ASTER_FUZZ_CHECK(whole.status == cut.status && whole.status == bytewise.status, body);
    // A refusal may come at a different event depending on the cut; what was accepted must not.
    if (whole.status == 0) {
        ASTER_FUZZ_CHECK(whole.events == cut.events, body);
        ASTER_FUZZ_CHECK(whole.events == bytewise.events, body);
    }
    return 0;
}
