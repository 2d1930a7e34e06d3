// SPDX-License-Identifier: MIT
// Fuzzes permessage-deflate's inflate (detail/ws_deflate.hpp): a message's compressed bytes, fed
// whole and cut into fuzzer-chosen frames, must give the same status and bytes; the output never
// passes the limit by more than one byte; a second end of the DEFLATE stream is always refused;
// and what it accepts agrees with zlib inflating the same stream by itself.
#include "support/fuzz.hpp"

#include <aster/detail/ws_deflate.hpp>

#ifndef ASTER_HAS_ZLIB
#error "the inflate harness needs zlib: tools/fuzz.sh defines ASTER_HAS_ZLIB where zlib.h is"
#endif

#include <zlib.h>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

namespace {

using aster::detail::deflate_codec;
using aster::detail::message_buffer;
using status = deflate_codec::status;

struct outcome {
    status result = status::ok;
    std::string bytes;
};

// One message through a fresh codec, in frames cut at `cuts` (offsets), slice after slice.
outcome run(std::string_view wire, const std::vector<std::size_t>& cuts, std::size_t limit) {
    aster::detail::deflate_params p;
    deflate_codec codec(p, true, 8, 6);
    message_buffer out;
    std::size_t at = 0;
    outcome o;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        const std::size_t end = i < cuts.size() ? cuts[i] : wire.size();
        const bool last = i == cuts.size();
        std::span<const std::uint8_t> frame(reinterpret_cast<const std::uint8_t*>(wire.data()) + at,
                                            end - at);
        at = end;
        do o.result = codec.inflate(frame, last, out, limit);
        while (o.result == status::more);
        ASTER_FUZZ_CHECK(limit == std::size_t(-1) || out.size() <= limit + 1);
        if (o.result != status::ok) break;
    }
    o.bytes.assign(out.view());
    return o;
}

// zlib alone: the raw stream plus the 00 00 FF FF tail (RFC 7692 §7.2.2); how many times the
// stream ended, and what it inflated to (up to `cap` bytes).
struct reference_result {
    bool valid = true;
    int ends = 0;
    std::string bytes;
};

reference_result reference(std::string_view wire, std::size_t cap) {
    reference_result r;
    z_stream z{};
    if (inflateInit2(&z, -15) != Z_OK) return r;
    std::string in(wire);
    in.append("\x00\x00\xff\xff", 4);
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = uInt(in.size());
    char buf[4096];
    // On until the input is used up and inflate leaves output room unused (nothing pending).
    while (r.bytes.size() <= cap) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        int rc = inflate(&z, Z_SYNC_FLUSH);
        r.bytes.append(buf, sizeof buf - z.avail_out);
        if (rc == Z_STREAM_END) {
            if (++r.ends > 1) break;
            inflateReset(&z); // a new stream; no window kept: compared only when ends == 0
            if (z.avail_in == 0) break;
            continue;
        }
        if (rc == Z_BUF_ERROR && z.avail_in == 0) break; // all used, nothing more to give
        if (rc != Z_OK) {
            r.valid = false;
            break;
        }
        if (z.avail_in == 0 && z.avail_out > 0) break;
    }
    inflateEnd(&z);
    return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    aster_fuzz::input in(data, size);
    const std::size_t limit = in.flag() ? std::size_t(-1) : std::size_t(in.u16());
    std::vector<std::size_t> cuts;
    for (int n = in.byte() % 4; n > 0; --n) cuts.push_back(in.u16());
    std::string_view wire = in.rest();
    for (auto& c : cuts) c = wire.empty() ? 0 : c % (wire.size() + 1);
    std::sort(cuts.begin(), cuts.end());

    const outcome whole = run(wire, {}, limit);
    const outcome cut = run(wire, cuts, limit);
    ASTER_FUZZ_CHECK(whole.result == cut.result, wire);
    ASTER_FUZZ_CHECK(whole.result != status::ok || whole.bytes == cut.bytes, wire);
    ASTER_FUZZ_CHECK(whole.result != status::more && whole.result != status::no_budget);

    const auto ref = reference(wire, limit == std::size_t(-1) ? (1u << 20) : limit + 1);
    // Two ends of the stream in one message are refused, whatever else the bytes hold.
    if (ref.ends > 1 && whole.result == status::ok)
        aster_fuzz::fail("a second end of the DEFLATE stream was accepted", wire);
    // A plain stream (no BFINAL) that zlib takes whole, within the limit: the same bytes.
    if (ref.valid && ref.ends == 0 && ref.bytes.size() <= (1u << 20) &&
        (limit == std::size_t(-1) || ref.bytes.size() <= limit)) {
        ASTER_FUZZ_CHECK(whole.result == status::ok, wire);
        ASTER_FUZZ_CHECK(whole.bytes == ref.bytes, wire);
    }
    return 0;
}
