// SPDX-License-Identifier: MIT
// Fuzzes detail/utf8.hpp against a reference that decodes code points arithmetically (not with
// Table 3-7's byte ranges, as aster does), whole and fed in fuzzer-chosen pieces; also the close
// payload codec of ws_frame.hpp, which cuts reasons at code point boundaries.
#include "support/fuzz.hpp"

#include <aster/detail/utf8.hpp>
#include <aster/detail/ws_frame.hpp>

#include <cstring>
#include <vector>

namespace {

using aster_fuzz::input;

// The sequence length a lead byte announces from its bit pattern, or 0 for a byte no sequence
// starts with (a continuation byte 10xxxxxx, or 11111xxx).
int announced_length(unsigned char b) {
    if (b < 0x80) return 1;
    if ((b & 0xE0) == 0xC0) return 2;
    if ((b & 0xF0) == 0xE0) return 3;
    if ((b & 0xF8) == 0xF0) return 4;
    return 0;
}

// The code points a sequence of `length` bytes may encode without being overlong.
std::uint32_t smallest_for(int length) {
    return length == 1 ? 0 : length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
}
std::uint32_t largest_for(int length) {
    return length == 1 ? 0x7F : length == 2 ? 0x7FF : length == 3 ? 0xFFFF : 0x10FFFF;
}

// Whether some code point in [lo, hi] is a valid scalar value encodable in `length` bytes.
bool range_has_scalar(std::uint32_t lo, std::uint32_t hi, int length) {
    lo = std::max(lo, smallest_for(length));
    hi = std::min(hi, largest_for(length));
    if (lo > hi) return false;
    return !(lo >= 0xD800 && hi <= 0xDFFF); // all surrogates
}

// Reference: `s` is a prefix of some valid UTF-8 string (`whole`: and is itself complete).
bool reference(std::string_view s, bool whole) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto lead = static_cast<unsigned char>(s[i]);
        int length = announced_length(lead);
        if (length == 0) return false;
        std::uint32_t cp = length == 1 ? lead : lead & (0x7F >> length);
        int have = 1;
        for (; have < length && i + have < s.size(); ++have) {
            auto c = static_cast<unsigned char>(s[i + have]);
            if ((c & 0xC0) != 0x80) return false;
            cp = cp << 6 | (c & 0x3F);
        }
        // The missing continuation bytes may carry anything: all zero bits to all one bits.
        int missing = length - have;
        std::uint32_t lo = cp << (6 * missing), hi = lo | ((1u << (6 * missing)) - 1);
        if (!range_has_scalar(lo, hi, length)) return false;
        if (missing > 0) return !whole;
        i += std::size_t(length);
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace aster::detail;
    input in(data, size);
    const std::uint8_t cuts = in.byte();
    const std::string_view s = in.rest();

    const bool valid = reference(s, true);
    ASTER_FUZZ_CHECK(is_valid_utf8(s) == valid, s);

    // Fed in pieces (the cut points come from the first byte and the text's own bytes): after
    // each piece, failed() says exactly whether the bytes so far can still begin valid UTF-8.
    utf8_validator v;
    std::size_t at = 0, step = 1 + cuts % 13;
    while (at < s.size()) {
        std::size_t n = std::min(step, s.size() - at);
        bool ok = v.feed(s.substr(at, n));
        at += n;
        ASTER_FUZZ_CHECK(ok == reference(s.substr(0, at), false), s.substr(0, at));
        ASTER_FUZZ_CHECK(v.failed() == !ok);
        step = 1 + (static_cast<unsigned char>(s[at - 1]) + cuts) % 37;
    }
    ASTER_FUZZ_CHECK(v.complete() == valid, s);

    // The longest whole valid prefix (short strings: it is byte at a time by design).
    auto head = s.substr(0, 300);
    std::size_t longest = 0;
    for (std::size_t n = 0; n <= head.size(); ++n)
        if (reference(head.substr(0, n), true)) longest = n;
    ASTER_FUZZ_CHECK(utf8_valid_prefix(head) == longest, head);

    // A close payload: code + the longest valid prefix of the reason that fits in 123 bytes;
    // it parses back when the code may be sent.
    std::uint16_t code = std::uint16_t(cuts * 31 + 1000);
    std::uint8_t body[125];
    std::size_t n = encode_close_payload(body, code, s);
    ASTER_FUZZ_CHECK(n >= 2 && n <= 125);
    std::string_view reason(reinterpret_cast<const char*>(body) + 2, n - 2);
    ASTER_FUZZ_CHECK(reason == s.substr(0, reason.size()));
    ASTER_FUZZ_CHECK(reference(reason, true), reason);
    ASTER_FUZZ_CHECK(reason.size() == utf8_valid_prefix(s.substr(0, 123)));
    close_payload parsed;
    auto kind = parse_close_payload(std::span<const std::uint8_t>(body, n), parsed);
    ASTER_FUZZ_CHECK((kind == close_parse::ok) == is_valid_close_code_on_wire(code));
    if (kind == close_parse::ok) ASTER_FUZZ_CHECK(parsed.code == code && parsed.reason == reason);
    // Any close payload: ok only for a valid code and a valid reason.
    auto raw = std::span<const std::uint8_t>(data, std::min<std::size_t>(size, 125));
    kind = parse_close_payload(raw, parsed);
    if (raw.empty()) ASTER_FUZZ_CHECK(kind == close_parse::empty);
    else if (raw.size() < 2) ASTER_FUZZ_CHECK(kind == close_parse::invalid);
    else {
        auto wire = std::uint16_t(raw[0] << 8 | raw[1]);
        std::string_view why(reinterpret_cast<const char*>(raw.data()) + 2, raw.size() - 2);
        bool ok = is_valid_close_code_on_wire(wire) && reference(why, true);
        ASTER_FUZZ_CHECK((kind == close_parse::ok) == ok);
    }
    return 0;
}
