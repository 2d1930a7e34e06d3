// SPDX-License-Identifier: MIT
// permessage-deflate's negotiation (RFC 7692 §5, §7.1): extension lists read and answered; pure.
#ifndef ASTER_DETAIL_WS_EXTENSIONS_HPP
#define ASTER_DETAIL_WS_EXTENSIONS_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/http_grammar.hpp>
#include <aster/headers.hpp>
#include <aster/options.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace aster::detail {

/// Reads a Sec-WebSocket-Extensions value (RFC 6455 §9.1): comma-separated extensions, each a
/// token followed by `; name[=token|quoted-string]` parameters. Quoted values are unescaped
/// (values longer than 16 bytes are cut, which no parameter aster knows accepts anyway).
class extension_reader {
public:
    explicit constexpr extension_reader(std::string_view list) noexcept : s_(list) {}

    /// Moves to the next extension and reads its name; false at the end or on a syntax error.
    bool next_extension(std::string_view& name) noexcept;
    /// The next parameter of the current extension; false once the extension ends.
    bool next_param(std::string_view& name, std::string_view& value, bool& has_value) noexcept;
    /// True after a syntax error; nothing more is read then.
    bool malformed() const noexcept { return bad_; }

private:
    void skip_ows() noexcept {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
    }
    std::string_view token() noexcept {
        std::size_t start = i_;
        while (i_ < s_.size() && is_tchar(s_[i_])) ++i_;
        return s_.substr(start, i_ - start);
    }
    bool fail() noexcept {
        bad_ = true;
        in_extension_ = false;
        return false;
    }

    std::string_view s_;
    std::size_t i_ = 0;
    bool in_extension_ = false, bad_ = false;
    char value_[16]{};
};

/// What the two ends agreed for one connection (RFC 7692 §7.1). The *_in_response flags say
/// which window parameters the server's answer names.
struct deflate_params {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 15;
    int client_max_window_bits = 15;
    bool server_window_in_response = false;
    bool client_window_in_response = false;
};

/// The parameters of one permessage-deflate offer or answer, as written.
struct deflate_offer {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 0; // 0: absent
    int client_max_window_bits = 0; // 0: absent; -1: present without a value (offers only)
};

/// Reads the parameters of the extension `r` is on. False when one is unknown, repeated or has
/// an invalid value (RFC 7692 §7: such an offer is declined, such an answer fails the client).
ASTER_DECL bool read_deflate_params(extension_reader& r, deflate_offer& out) noexcept;

/// Server side (RFC 7692 §5.1, §7.1): the first permessage-deflate offer in `offers` (one
/// Sec-WebSocket-Extensions value) that aster can honour within `options`; nullopt declines them
/// all, and the connection goes on uncompressed. Offers with unknown, repeated or invalid
/// parameters are declined, as is one that demands server_max_window_bits=8 (zlib cannot make a
/// raw deflate stream with a 256-byte window). A malformed list declines everything after the
/// error; the handshake never fails over extensions.
ASTER_DECL std::optional<deflate_params>
negotiate_deflate(std::string_view offers, const websocket_deflate_options& options) noexcept;

/// Appends the Sec-WebSocket-Extensions value that accepts `p`.
ASTER_DECL void append_deflate_response(std::string& out, const deflate_params& p);

/// Client side: checks the server's Sec-WebSocket-Extensions answer (RFC 7692 §7.1): exactly
/// one permessage-deflate with valid parameters, client_max_window_bits only if offered.
ASTER_DECL std::optional<deflate_params>
parse_deflate_response(std::string_view answer, bool offered_client_window) noexcept;

// --- definitions -------------------------------------------------------------------------------

ASTER_DECL bool extension_reader::next_extension(std::string_view& name) noexcept {
    std::string_view n, v;
    bool hv;
    while (in_extension_ && next_param(n, v, hv)) {
    }
    if (bad_) return false;
    // Empty list items are allowed (RFC 9110 §5.6.1).
    for (skip_ows(); i_ < s_.size() && s_[i_] == ','; skip_ows()) ++i_;
    if (i_ == s_.size()) return false;
    name = token();
    if (name.empty()) return fail();
    in_extension_ = true;
    return true;
}

ASTER_DECL bool extension_reader::next_param(std::string_view& name, std::string_view& value,
                                             bool& has_value) noexcept {
    if (!in_extension_ || bad_) return false;
    skip_ows();
    if (i_ == s_.size() || s_[i_] == ',') {
        if (i_ < s_.size()) ++i_;
        in_extension_ = false;
        return false;
    }
    if (s_[i_] != ';') return fail();
    ++i_;
    skip_ows();
    name = token();
    if (name.empty()) return fail();
    skip_ows();
    has_value = false;
    value = {};
    if (i_ < s_.size() && s_[i_] == '=') {
        ++i_;
        skip_ows();
        has_value = true;
        if (i_ < s_.size() && s_[i_] == '"') {
            std::size_t n = 0; // a longer value is invalid anyway: keep its start only
            const bool closed = read_quoted(s_, i_, [this, &n](char c) {
                if (n < sizeof value_) value_[n] = c;
                ++n;
            });
            if (!closed) return fail();
            value = std::string_view(value_, std::min(n, sizeof value_));
        } else {
            value = token();
            if (value.empty()) return fail();
        }
    }
    return true;
}

namespace ws_deflate_detail {

// RFC 7692 §7.1.2.1: 1*DIGIT in 8..15 without leading zeros; 0 when invalid.
constexpr int window_bits(std::string_view v) noexcept {
    if (v.size() == 1 && (v[0] == '8' || v[0] == '9')) return v[0] - '0';
    if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + (v[1] - '0');
    return 0;
}

inline void append_bits(std::string& out, std::string_view name, int bits) {
    out.append("; ").append(name).push_back('=');
    if (bits >= 10) out.push_back('1');
    out.push_back(char('0' + bits % 10));
}

} // namespace ws_deflate_detail

ASTER_DECL bool read_deflate_params(extension_reader& r, deflate_offer& out) noexcept {
    out = {};
    std::string_view name, value;
    bool has_value = false;
    while (r.next_param(name, value, has_value)) {
        if (iequals(name, "server_no_context_takeover")) {
            if (has_value || out.server_no_context_takeover) return false;
            out.server_no_context_takeover = true;
        } else if (iequals(name, "client_no_context_takeover")) {
            if (has_value || out.client_no_context_takeover) return false;
            out.client_no_context_takeover = true;
        } else if (iequals(name, "server_max_window_bits")) {
            if (out.server_max_window_bits != 0) return false;
            out.server_max_window_bits = has_value ? ws_deflate_detail::window_bits(value) : 0;
            if (out.server_max_window_bits == 0) return false;
        } else if (iequals(name, "client_max_window_bits")) {
            if (out.client_max_window_bits != 0) return false;
            out.client_max_window_bits = has_value ? ws_deflate_detail::window_bits(value) : -1;
            if (out.client_max_window_bits == 0) return false;
        } else {
            return false; // §7: a parameter not defined for this extension
        }
    }
    return !r.malformed();
}

ASTER_DECL std::optional<deflate_params>
negotiate_deflate(std::string_view offers, const websocket_deflate_options& o) noexcept {
    extension_reader r(offers);
    std::string_view name;
    while (r.next_extension(name)) {
        if (!iequals(name, "permessage-deflate")) continue;
        deflate_offer offer;
        if (!read_deflate_params(r, offer)) continue; // §7: decline this offer, try the next
        deflate_params p;
        // §7.1.2.1: our window is at most what the client allows; zlib's raw deflate needs 9.
        p.server_max_window_bits = std::clamp(o.server_max_window_bits, 9, 15);
        if (offer.server_max_window_bits != 0) {
            if (offer.server_max_window_bits < 9) continue;
            p.server_max_window_bits = std::min(p.server_max_window_bits,
                                                offer.server_max_window_bits);
        }
        p.server_window_in_response = offer.server_max_window_bits != 0 ||
                                      p.server_max_window_bits < 15;
        // §7.1.1.1: a client's server_no_context_takeover must be honoured; §7.1.1.2: the server
        // may ask client_no_context_takeover even when the client did not offer it.
        p.server_no_context_takeover = offer.server_no_context_takeover ||
                                       o.server_no_context_takeover;
        p.client_no_context_takeover = offer.client_no_context_takeover ||
                                       o.client_no_context_takeover;
        // §7.1.2.2: only a client that sent client_max_window_bits may be given a window.
        if (offer.client_max_window_bits != 0) {
            p.client_max_window_bits = std::clamp(o.client_max_window_bits, 9, 15);
            if (offer.client_max_window_bits > 0)
                p.client_max_window_bits = std::min(p.client_max_window_bits,
                                                    offer.client_max_window_bits);
            p.client_window_in_response = true;
        }
        return p;
    }
    return std::nullopt;
}

ASTER_DECL void append_deflate_response(std::string& out, const deflate_params& p) {
    out.append("permessage-deflate");
    if (p.server_no_context_takeover) out.append("; server_no_context_takeover");
    if (p.client_no_context_takeover) out.append("; client_no_context_takeover");
    if (p.server_window_in_response)
        ws_deflate_detail::append_bits(out, "server_max_window_bits", p.server_max_window_bits);
    if (p.client_window_in_response)
        ws_deflate_detail::append_bits(out, "client_max_window_bits", p.client_max_window_bits);
}

ASTER_DECL std::optional<deflate_params>
parse_deflate_response(std::string_view answer, bool offered_client_window) noexcept {
    extension_reader r(answer);
    std::string_view name;
    if (!r.next_extension(name) || !iequals(name, "permessage-deflate")) return std::nullopt;
    deflate_offer a;
    if (!read_deflate_params(r, a) || a.client_max_window_bits < 0) return std::nullopt;
    if (a.client_max_window_bits != 0 && !offered_client_window) return std::nullopt;
    if (r.next_extension(name) || r.malformed()) return std::nullopt; // one extension only
    deflate_params p;
    p.server_no_context_takeover = a.server_no_context_takeover;
    p.client_no_context_takeover = a.client_no_context_takeover;
    if (a.server_max_window_bits) p.server_max_window_bits = a.server_max_window_bits;
    if (a.client_max_window_bits) p.client_max_window_bits = a.client_max_window_bits;
    p.server_window_in_response = a.server_max_window_bits != 0;
    p.client_window_in_response = a.client_max_window_bits != 0;
    return p;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_WS_EXTENSIONS_HPP
