// SPDX-License-Identifier: MIT
// permessage-deflate (RFC 7692 §7.2): the zlib codec that compresses and inflates messages.
#ifndef ASTER_DETAIL_WS_DEFLATE_HPP
#define ASTER_DETAIL_WS_DEFLATE_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/message_buffer.hpp>
#include <aster/detail/ws_extensions.hpp>
#include <aster/headers.hpp>
#include <aster/options.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#ifdef ASTER_HAS_ZLIB
#include <zlib.h>
#endif

namespace aster::detail {

#ifdef ASTER_HAS_ZLIB

/// One end of a permessage-deflate connection: compresses whole messages it sends and inflates
/// the frames of messages it receives (RFC 7692 §7.2). zlib's streams are made on first use, so a
/// connection that never sends or receives a compressed message holds no zlib memory; memory()
/// counts what zlib holds (every allocation goes through this object).
class deflate_codec {
public:
    // more: inflate stopped after its work slice with input left; call it again (after
    // letting the loop run other work) with the rest.
    // no_budget: the server's memory budget refused the room (see memory_budget).
    enum class status { ok, too_big, bad_data, no_memory, more, no_budget };

    /// Input inflated per call at most: a long message yields to the loop between slices.
    static constexpr std::size_t inflate_slice_in = 256 * 1024;
    /// Output produced per call, roughly at most (one inflate step may pass it).
    static constexpr std::size_t inflate_slice_out = 4 * 1024 * 1024;

    /// `server`: which end this is, which says whose window and context rules apply each way.
    deflate_codec(const deflate_params& p, bool server, int mem_level, int level) noexcept;
    ~deflate_codec();
    deflate_codec(const deflate_codec&) = delete;
    deflate_codec& operator=(const deflate_codec&) = delete;

    /// Appends `message` compressed to `out`, without the 00 00 FF FF tail (§7.2.1). The room
    /// reserved for the worst case is not written before deflate fills it.
    status compress(std::string_view message, message_buffer& out);
    /// True when the compressor forgets each message (no context takeover), so a message may
    /// also be sent uncompressed without the two ends' windows drifting apart.
    bool compressor_resets() const noexcept { return local_reset_; }
    /// Inflates a frame of a compressed message from the front of `payload` (which it
    /// advances), appending to `out`; `last` (the FIN frame) adds the 00 00 FF FF tail
    /// (§7.2.2). `out` growing past `limit` gives too_big at once; it never holds more than
    /// limit + 1 bytes (plus a page). A second end of the DEFLATE stream (BFINAL) inside one
    /// message is bad_data: empty final blocks would otherwise cost a stream restart each
    /// while inflating to nothing. After one slice of work it returns `more`.
    status inflate(std::span<const std::uint8_t>& payload, bool last, message_buffer& out,
                   std::size_t limit);
    /// Bytes zlib holds for this connection now.
    std::size_t memory() const noexcept { return memory_; }

private:
    static void* allocate(void* self, unsigned items, unsigned size) noexcept;
    static void release(void* self, void* p) noexcept;
    status run_inflate(std::span<const std::uint8_t>& input, message_buffer& out, std::size_t limit,
                       std::size_t out_budget);
    void restart_inflate() noexcept;

    int local_bits_, remote_bits_, mem_level_, level_;
    bool local_reset_, remote_reset_;
    bool deflating_ = false, inflating_ = false;
    bool ended_ = false;            // the last input ended the stream (BFINAL), nothing came since
    bool ended_in_message_ = false; // the stream ended once in the current message
    z_stream deflater_{}, inflater_{};
    std::size_t memory_ = 0;
};

#endif // ASTER_HAS_ZLIB

// --- definitions -------------------------------------------------------------------------------

#ifdef ASTER_HAS_ZLIB

// The 4 bytes a sync flush ends with; stripped when sending, put back when receiving (§7.2).
inline constexpr std::uint8_t deflate_tail[4] = {0x00, 0x00, 0xff, 0xff};

ASTER_DECL deflate_codec::deflate_codec(const deflate_params& p, bool server, int mem_level,
                                        int level) noexcept
    : local_bits_(server ? p.server_max_window_bits : p.client_max_window_bits),
      // Inflating with a window at least the sender's always works; 9 also covers peers whose
      // zlib silently turned a requested 8 into 9.
      remote_bits_(std::max(9, server ? p.client_max_window_bits : p.server_max_window_bits)),
      mem_level_(std::clamp(mem_level, 1, 9)), level_(std::clamp(level, 0, 9)),
      local_reset_(server ? p.server_no_context_takeover : p.client_no_context_takeover),
      remote_reset_(server ? p.client_no_context_takeover : p.server_no_context_takeover) {
    local_bits_ = std::clamp(local_bits_, 9, 15);
}

ASTER_DECL deflate_codec::~deflate_codec() {
    if (deflating_) deflateEnd(&deflater_);
    if (inflating_) inflateEnd(&inflater_);
}

// Each block carries its size in front, so memory() stays exact.
ASTER_DECL void* deflate_codec::allocate(void* self, unsigned items, unsigned size) noexcept {
    std::size_t n = std::size_t(items) * size;
    auto* block = static_cast<unsigned char*>(std::malloc(n + 16));
    if (!block) return nullptr;
    std::memcpy(block, &n, sizeof n);
    static_cast<deflate_codec*>(self)->memory_ += n;
    return block + 16;
}

ASTER_DECL void deflate_codec::release(void* self, void* p) noexcept {
    if (!p) return;
    auto* block = static_cast<unsigned char*>(p) - 16;
    std::size_t n;
    std::memcpy(&n, block, sizeof n);
    static_cast<deflate_codec*>(self)->memory_ -= n;
    std::free(block);
}

ASTER_DECL deflate_codec::status deflate_codec::compress(std::string_view message,
                                                         message_buffer& out) {
    if (!deflating_) {
        deflater_.zalloc = &deflate_codec::allocate;
        deflater_.zfree = &deflate_codec::release;
        deflater_.opaque = this;
        // Negative window bits: raw deflate, no zlib header (§7.2.1).
        if (deflateInit2(&deflater_, level_, Z_DEFLATED, -local_bits_, mem_level_,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return status::no_memory;
        deflating_ = true;
    }
    const std::size_t start = out.size();
    auto* in = reinterpret_cast<const Bytef*>(message.data());
    std::size_t left = message.size();
    constexpr std::size_t max_chunk = std::size_t(1) << 30; // avail_in is 32 bits
    for (;;) {
        const std::size_t chunk = std::min(left, max_chunk);
        const bool last = chunk == left;
        deflater_.next_in = const_cast<Bytef*>(in);
        deflater_.avail_in = uInt(chunk);
        for (;;) {
            // Room for the message plus deflate's small overhead; more if it still runs out.
            std::size_t room = std::max<std::size_t>(chunk + chunk / 512 + 64, 4096);
            room = std::min(room, max_chunk);
            if (!out.reserve(room)) {
                out.truncate(start);
                return status::no_budget;
            }
            room = std::min(out.spare_size(), max_chunk);
            deflater_.next_out = reinterpret_cast<Bytef*>(out.spare());
            deflater_.avail_out = uInt(room);
            int rc = deflate(&deflater_, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
            out.commit(room - deflater_.avail_out);
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                out.truncate(start);
                return status::no_memory;
            }
            // A flush is complete once deflate leaves output space unused (zlib manual).
            if (deflater_.avail_in == 0 && deflater_.avail_out > 0) break;
        }
        in += chunk;
        left -= chunk;
        if (last) break;
    }
    const std::size_t used = out.size();
    if (used - start >= 4 && std::memcmp(out.data() + used - 4, deflate_tail, 4) == 0)
        out.truncate(used - 4);                 // §7.2.1: remove the tail of the sync flush
    if (local_reset_) deflateReset(&deflater_); // §7.1.1.1: no context takeover
    return status::ok;
}

ASTER_DECL deflate_codec::status deflate_codec::inflate(std::span<const std::uint8_t>& payload,
                                                        bool last, message_buffer& out,
                                                        std::size_t limit) {
    if (!inflating_) {
        inflater_.zalloc = &deflate_codec::allocate;
        inflater_.zfree = &deflate_codec::release;
        inflater_.opaque = this;
        if (inflateInit2(&inflater_, -remote_bits_) != Z_OK) return status::no_memory;
        inflating_ = true;
    }
    auto slice = payload.first(std::min(payload.size(), inflate_slice_in));
    const std::size_t before = slice.size();
    status s = run_inflate(slice, out, limit, inflate_slice_out);
    payload = payload.subspan(before - slice.size());
    if (s != status::ok) return s;
    if (!payload.empty()) return status::more;
    if (last) {
        // After a final block (BFINAL) the tail would start a stream of its own: leave it out.
        if (!ended_) {
            std::span<const std::uint8_t> tail(deflate_tail);
            s = run_inflate(tail, out, limit, std::size_t(-1));
        }
        if (remote_reset_) inflateReset(&inflater_); // §7.1.1.2: the next message starts afresh
        ended_ = false;
        ended_in_message_ = false;
    }
    return s;
}

ASTER_DECL void deflate_codec::restart_inflate() noexcept {
    // A block with BFINAL set ended the stream; later data is a new one. With context takeover
    // the window carries over, so keep it as the new stream's dictionary.
    if (remote_reset_) {
        inflateReset(&inflater_);
        return;
    }
    Bytef window[32768];
    uInt n = sizeof window;
    if (inflateGetDictionary(&inflater_, window, &n) != Z_OK) n = 0;
    inflateReset(&inflater_);
    if (n > 0) inflateSetDictionary(&inflater_, window, n);
}

ASTER_DECL deflate_codec::status deflate_codec::run_inflate(std::span<const std::uint8_t>& input,
                                                            message_buffer& out, std::size_t limit,
                                                            std::size_t out_budget) {
    if (!input.empty()) ended_ = false;
    const std::size_t start = out.size();
    // input is at most one slice, far below avail_in's 32 bits.
    inflater_.next_in = const_cast<Bytef*>(input.data());
    inflater_.avail_in = uInt(input.size());
    auto consumed = [&] { input = input.last(inflater_.avail_in); };
    for (;;) {
        // Room tied to the input, so a tiny frame costs little, and never past limit + 1: the
        // byte beyond the limit proves the message too big (a zip bomb stops there, having
        // cost at most the limit). The room is not written before inflate fills it.
        const std::size_t step = std::clamp<std::size_t>(4 * std::size_t(inflater_.avail_in), 4096,
                                                         256 * 1024);
        const std::size_t cap = limit == std::size_t(-1) ? limit : limit + 1;
        if (!out.reserve(step, cap)) {
            consumed();
            return status::no_budget;
        }
        std::size_t room = std::min(out.spare_size(), cap - std::min(cap, out.size()));
        room = std::min<std::size_t>(room, std::numeric_limits<uInt>::max());
        if (room == 0) {
            consumed();
            return status::too_big;
        }
        inflater_.next_out = reinterpret_cast<Bytef*>(out.spare());
        inflater_.avail_out = uInt(room);
        int rc = ::inflate(&inflater_, Z_SYNC_FLUSH);
        out.commit(room - inflater_.avail_out);
        if (out.size() > limit) {
            consumed();
            return status::too_big;
        }
        if (rc == Z_STREAM_END) {
            // One end per message at most: a second one is no data a peer needs to send,
            // and each restart costs work while producing nothing (a CPU bomb).
            if (ended_in_message_) {
                consumed();
                return status::bad_data;
            }
            ended_in_message_ = true;
            restart_inflate();
            ended_ = inflater_.avail_in == 0;
            if (ended_) break;
            continue;
        }
        if (rc == Z_MEM_ERROR) {
            consumed();
            return status::no_memory;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            consumed();
            return status::bad_data;
        }
        if (inflater_.avail_in == 0 && inflater_.avail_out > 0) break;
        if (rc == Z_BUF_ERROR && inflater_.avail_out > 0) {
            consumed();
            return status::bad_data;
        }
        if (out.size() - start >= out_budget) break; // enough for one slice: yield
    }
    consumed();
    return status::ok;
}

#endif // ASTER_HAS_ZLIB

} // namespace aster::detail

#endif // ASTER_DETAIL_WS_DEFLATE_HPP
