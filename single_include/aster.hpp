// aster single header, generated from include/ by tools/amalgamate.py: do not edit
// version 0.1.0
// begin aster/aster.hpp
// SPDX-License-Identifier: MIT
// The whole of aster in one include; also the root of the generated single header.
#ifndef ASTER_ASTER_HPP
#define ASTER_ASTER_HPP

// begin aster/detail/config.hpp
// SPDX-License-Identifier: MIT
// Build switches shared by every aster header: header-only vs separate compilation, optional deps.
#ifndef ASTER_DETAIL_CONFIG_HPP
#define ASTER_DETAIL_CONFIG_HPP

#if __cplusplus < 202002L
#error "aster needs C++20 (coroutines, concepts, class-type template parameters)"
#endif

// Header-only by default. Non-template functions defined in headers are marked ASTER_DECL
// (inline).
//
// ASTER_SEPARATE_COMPILATION, defined for every file of a program, keeps the connection engine
// (HTTP connection, WebSocket session, parser, server, test_client) out of the files that include
// aster.hpp: exactly one file includes <aster/impl/src.hpp> and compiles it once. The engine
// reaches the route table only through detail::app_ref, so one compiled engine serves every app.
// The engine's bodies are marked ASTER_ENGINE: inline when header-only, ordinary definitions in
// src.hpp otherwise.
#define ASTER_DECL inline

// Asio chooses between aligned_alloc/free and operator new/delete for its recycled coroutine frames
// by a macro of the standard library's configuration, which only a standard header defines. A file
// whose first include reaches Asio before any standard header would pick operator new while the
// others pick aligned_alloc, and one program would then free frames the other way (an ODR
// violation that AddressSanitizer reports as alloc-dealloc-mismatch). So the standard library's
// configuration comes first, in every file that includes aster.
#include <cstddef>
#if defined(ASIO_VERSION) && defined(_GLIBCXX_HAVE_ALIGNED_ALLOC) && \
    !defined(ASIO_HAS_STD_ALIGNED_ALLOC) && !defined(ASIO_DISABLE_STD_ALIGNED_ALLOC)
#warning \
    "Asio was included before any standard header: include <cstddef> (or aster) first in every file, or Asio's frame allocation differs between files"
#endif
#if defined(ASTER_SEPARATE_COMPILATION)
#define ASTER_HEADER_ONLY 0
#define ASTER_ENGINE
#else
#define ASTER_HEADER_ONLY 1
#define ASTER_ENGINE inline
#endif

#if __has_include(<nlohmann/json.hpp>) && !defined(ASTER_NO_JSON)
#define ASTER_HAS_JSON 1
#endif

// Extras that need a library at link time are switched on by the build, never by finding a
// header: the same command then builds on a machine with or without the library. The build
// defines the macro for every file of a program (CMake and meson options, pkg-config modules;
// by hand -DASTER_HAS_ZLIB with -lz, say), and an extra left off includes none of its headers.
//   ASTER_HAS_ZLIB  permessage-deflate and the gzip middleware (zlib: -lz)
//   ASTER_HAS_TLS   https and wss (OpenSSL: -lssl -lcrypto)
#if defined(ASTER_HAS_ZLIB) && !__has_include(<zlib.h>)
#error "ASTER_HAS_ZLIB needs zlib's header (Debian: zlib1g-dev)"
#endif
#if defined(ASTER_HAS_TLS) && !__has_include(<openssl/ssl.h>)
#error "ASTER_HAS_TLS needs OpenSSL's headers (Debian: libssl-dev)"
#endif

#endif // ASTER_DETAIL_CONFIG_HPP
// end aster/detail/config.hpp
// begin aster/version.hpp
// SPDX-License-Identifier: MIT
// The library version, bumped by hand at release time.
#ifndef ASTER_VERSION_HPP
#define ASTER_VERSION_HPP

#define ASTER_VERSION_MAJOR 0
#define ASTER_VERSION_MINOR 1
#define ASTER_VERSION_PATCH 0
#define ASTER_VERSION_STRING "0.1.0"

#endif // ASTER_VERSION_HPP
// end aster/version.hpp
// begin aster/status.hpp
// SPDX-License-Identifier: MIT
// HTTP status codes, WebSocket close codes, reason phrases and Starlette-named aliases [status.py].
#ifndef ASTER_STATUS_HPP
#define ASTER_STATUS_HPP


#include <cstdint>
#include <string_view>

// One row per code feeds the enum, the reason phrases and the Starlette aliases, so the three
// cannot drift apart. Phrases are those of Python's http.HTTPStatus (306, absent there, is
// "Reserved"). The macros are #undef'd at the bottom of this header.
#define ASTER_HTTP_STATUS_LIST(X)                                                                \
    X(100, continue_, "Continue", HTTP_100_CONTINUE)                                             \
    X(101, switching_protocols, "Switching Protocols", HTTP_101_SWITCHING_PROTOCOLS)             \
    X(102, processing, "Processing", HTTP_102_PROCESSING)                                        \
    X(103, early_hints, "Early Hints", HTTP_103_EARLY_HINTS)                                     \
    X(200, ok, "OK", HTTP_200_OK)                                                                \
    X(201, created, "Created", HTTP_201_CREATED)                                                 \
    X(202, accepted, "Accepted", HTTP_202_ACCEPTED)                                              \
    X(203, non_authoritative_information, "Non-Authoritative Information",                       \
      HTTP_203_NON_AUTHORITATIVE_INFORMATION)                                                    \
    X(204, no_content, "No Content", HTTP_204_NO_CONTENT)                                        \
    X(205, reset_content, "Reset Content", HTTP_205_RESET_CONTENT)                               \
    X(206, partial_content, "Partial Content", HTTP_206_PARTIAL_CONTENT)                         \
    X(207, multi_status, "Multi-Status", HTTP_207_MULTI_STATUS)                                  \
    X(208, already_reported, "Already Reported", HTTP_208_ALREADY_REPORTED)                      \
    X(226, im_used, "IM Used", HTTP_226_IM_USED)                                                 \
    X(300, multiple_choices, "Multiple Choices", HTTP_300_MULTIPLE_CHOICES)                      \
    X(301, moved_permanently, "Moved Permanently", HTTP_301_MOVED_PERMANENTLY)                   \
    X(302, found, "Found", HTTP_302_FOUND)                                                       \
    X(303, see_other, "See Other", HTTP_303_SEE_OTHER)                                           \
    X(304, not_modified, "Not Modified", HTTP_304_NOT_MODIFIED)                                  \
    X(305, use_proxy, "Use Proxy", HTTP_305_USE_PROXY)                                           \
    X(306, reserved, "Reserved", HTTP_306_RESERVED)                                              \
    X(307, temporary_redirect, "Temporary Redirect", HTTP_307_TEMPORARY_REDIRECT)                \
    X(308, permanent_redirect, "Permanent Redirect", HTTP_308_PERMANENT_REDIRECT)                \
    X(400, bad_request, "Bad Request", HTTP_400_BAD_REQUEST)                                     \
    X(401, unauthorized, "Unauthorized", HTTP_401_UNAUTHORIZED)                                  \
    X(402, payment_required, "Payment Required", HTTP_402_PAYMENT_REQUIRED)                      \
    X(403, forbidden, "Forbidden", HTTP_403_FORBIDDEN)                                           \
    X(404, not_found, "Not Found", HTTP_404_NOT_FOUND)                                           \
    X(405, method_not_allowed, "Method Not Allowed", HTTP_405_METHOD_NOT_ALLOWED)                \
    X(406, not_acceptable, "Not Acceptable", HTTP_406_NOT_ACCEPTABLE)                            \
    X(407, proxy_authentication_required, "Proxy Authentication Required",                       \
      HTTP_407_PROXY_AUTHENTICATION_REQUIRED)                                                    \
    X(408, request_timeout, "Request Timeout", HTTP_408_REQUEST_TIMEOUT)                         \
    X(409, conflict, "Conflict", HTTP_409_CONFLICT)                                              \
    X(410, gone, "Gone", HTTP_410_GONE)                                                          \
    X(411, length_required, "Length Required", HTTP_411_LENGTH_REQUIRED)                         \
    X(412, precondition_failed, "Precondition Failed", HTTP_412_PRECONDITION_FAILED)             \
    X(413, request_entity_too_large, "Request Entity Too Large",                                 \
      HTTP_413_REQUEST_ENTITY_TOO_LARGE)                                                         \
    X(414, request_uri_too_long, "Request-URI Too Long", HTTP_414_REQUEST_URI_TOO_LONG)          \
    X(415, unsupported_media_type, "Unsupported Media Type", HTTP_415_UNSUPPORTED_MEDIA_TYPE)    \
    X(416, requested_range_not_satisfiable, "Requested Range Not Satisfiable",                   \
      HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE)                                                  \
    X(417, expectation_failed, "Expectation Failed", HTTP_417_EXPECTATION_FAILED)                \
    X(418, im_a_teapot, "I'm a Teapot", HTTP_418_IM_A_TEAPOT)                                    \
    X(421, misdirected_request, "Misdirected Request", HTTP_421_MISDIRECTED_REQUEST)             \
    X(422, unprocessable_entity, "Unprocessable Entity", HTTP_422_UNPROCESSABLE_ENTITY)          \
    X(423, locked, "Locked", HTTP_423_LOCKED)                                                    \
    X(424, failed_dependency, "Failed Dependency", HTTP_424_FAILED_DEPENDENCY)                   \
    X(425, too_early, "Too Early", HTTP_425_TOO_EARLY)                                           \
    X(426, upgrade_required, "Upgrade Required", HTTP_426_UPGRADE_REQUIRED)                      \
    X(428, precondition_required, "Precondition Required", HTTP_428_PRECONDITION_REQUIRED)       \
    X(429, too_many_requests, "Too Many Requests", HTTP_429_TOO_MANY_REQUESTS)                   \
    X(431, request_header_fields_too_large, "Request Header Fields Too Large",                   \
      HTTP_431_REQUEST_HEADER_FIELDS_TOO_LARGE)                                                  \
    X(451, unavailable_for_legal_reasons, "Unavailable For Legal Reasons",                       \
      HTTP_451_UNAVAILABLE_FOR_LEGAL_REASONS)                                                    \
    X(500, internal_server_error, "Internal Server Error", HTTP_500_INTERNAL_SERVER_ERROR)       \
    X(501, not_implemented, "Not Implemented", HTTP_501_NOT_IMPLEMENTED)                         \
    X(502, bad_gateway, "Bad Gateway", HTTP_502_BAD_GATEWAY)                                     \
    X(503, service_unavailable, "Service Unavailable", HTTP_503_SERVICE_UNAVAILABLE)             \
    X(504, gateway_timeout, "Gateway Timeout", HTTP_504_GATEWAY_TIMEOUT)                         \
    X(505, http_version_not_supported, "HTTP Version Not Supported",                             \
      HTTP_505_HTTP_VERSION_NOT_SUPPORTED)                                                       \
    X(506, variant_also_negotiates, "Variant Also Negotiates", HTTP_506_VARIANT_ALSO_NEGOTIATES) \
    X(507, insufficient_storage, "Insufficient Storage", HTTP_507_INSUFFICIENT_STORAGE)          \
    X(508, loop_detected, "Loop Detected", HTTP_508_LOOP_DETECTED)                               \
    X(510, not_extended, "Not Extended", HTTP_510_NOT_EXTENDED)                                  \
    X(511, network_authentication_required, "Network Authentication Required",                   \
      HTTP_511_NETWORK_AUTHENTICATION_REQUIRED)

// RFC 6455 §7.4.1 plus the IANA registry entries Starlette also names (1012-1014).
#define ASTER_CLOSE_CODE_LIST(X)                                            \
    X(1000, normal_closure, WS_1000_NORMAL_CLOSURE)                         \
    X(1001, going_away, WS_1001_GOING_AWAY)                                 \
    X(1002, protocol_error, WS_1002_PROTOCOL_ERROR)                         \
    X(1003, unsupported_data, WS_1003_UNSUPPORTED_DATA)                     \
    X(1005, no_status_rcvd, WS_1005_NO_STATUS_RCVD)                         \
    X(1006, abnormal_closure, WS_1006_ABNORMAL_CLOSURE)                     \
    X(1007, invalid_frame_payload_data, WS_1007_INVALID_FRAME_PAYLOAD_DATA) \
    X(1008, policy_violation, WS_1008_POLICY_VIOLATION)                     \
    X(1009, message_too_big, WS_1009_MESSAGE_TOO_BIG)                       \
    X(1010, mandatory_ext, WS_1010_MANDATORY_EXT)                           \
    X(1011, internal_error, WS_1011_INTERNAL_ERROR)                         \
    X(1012, service_restart, WS_1012_SERVICE_RESTART)                       \
    X(1013, try_again_later, WS_1013_TRY_AGAIN_LATER)                       \
    X(1014, bad_gateway, WS_1014_BAD_GATEWAY)                               \
    X(1015, tls_handshake, WS_1015_TLS_HANDSHAKE)

namespace aster {

/// An HTTP status code. Every code Starlette's `status` module names has an enumerator; any other
/// 3-digit value may still be cast in (`aster::status(599)`) and reports "Unknown" as its reason.
/// @code
/// throw aster::http_exception{aster::status::not_found};
/// @endcode
enum class status : std::uint16_t {
#define ASTER_STATUS_ENUMERATOR(num, name, phrase, alias) name = num,
    ASTER_HTTP_STATUS_LIST(ASTER_STATUS_ENUMERATOR)
#undef ASTER_STATUS_ENUMERATOR
};

/// A WebSocket close code. 1005, 1006 and 1015 are reported locally and must never be sent in a
/// close frame (RFC 6455 §7.4.1); application codes 4000-4999 may be cast in.
enum class close_code : std::uint16_t {
#define ASTER_CLOSE_ENUMERATOR(num, name, alias) name = num,
    ASTER_CLOSE_CODE_LIST(ASTER_CLOSE_ENUMERATOR)
#undef ASTER_CLOSE_ENUMERATOR
};

constexpr std::uint16_t code(status s) noexcept { return static_cast<std::uint16_t>(s); }
constexpr std::uint16_t code(close_code c) noexcept { return static_cast<std::uint16_t>(c); }

/// The reason phrase of a status line ("Not Found"), or "Unknown" for a code not listed above.
constexpr std::string_view reason(std::uint16_t value) noexcept {
    switch (value) {
#define ASTER_STATUS_PHRASE(num, name, phrase, alias) \
    case num:                                         \
        return phrase;
        ASTER_HTTP_STATUS_LIST(ASTER_STATUS_PHRASE)
#undef ASTER_STATUS_PHRASE
    default:
        return "Unknown";
    }
}
constexpr std::string_view reason(status s) noexcept { return reason(code(s)); }

/// True when `s` is one of the named codes (not merely a number cast to `status`).
constexpr bool is_valid(status s) noexcept { return reason(s) != "Unknown"; }

/// The enumerator's name ("normal_closure"), or an empty view for an unnamed code such as 4001,
/// so callers can fall back to printing the number.
constexpr std::string_view to_string(close_code c) noexcept {
    switch (c) {
#define ASTER_CLOSE_NAME(num, name, alias) \
    case close_code::name:                 \
        return #name;
        ASTER_CLOSE_CODE_LIST(ASTER_CLOSE_NAME)
#undef ASTER_CLOSE_NAME
    }
    return {};
}

/// Writes "404 Not Found", or "1011 internal_error" ("4001" for an unnamed close code), to any
/// output stream, so test frameworks (Catch2, doctest, GoogleTest) print these readably in every
/// file alike. A template, so that this header needs no <ostream>.
template <class Stream>
requires requires(Stream& os, std::string_view text, unsigned number) { os << text << number; }
Stream& operator<<(Stream& os, status s) {
    os << static_cast<unsigned>(code(s)) << std::string_view(" ") << reason(s);
    return os;
}

template <class Stream>
requires requires(Stream& os, std::string_view text, unsigned number) { os << text << number; }
Stream& operator<<(Stream& os, close_code c) {
    os << static_cast<unsigned>(code(c));
    if (auto name = to_string(c); !name.empty()) os << std::string_view(" ") << name;
    return os;
}

/// Starlette's spellings, for code ported from Python:
/// `using namespace aster::status_codes; co_return plain_text("hi", HTTP_201_CREATED);`
namespace status_codes {
#define ASTER_STATUS_ALIAS(num, name, phrase, alias) inline constexpr status alias = status::name;
ASTER_HTTP_STATUS_LIST(ASTER_STATUS_ALIAS)
#undef ASTER_STATUS_ALIAS
#define ASTER_CLOSE_ALIAS(num, name, alias) inline constexpr close_code alias = close_code::name;
ASTER_CLOSE_CODE_LIST(ASTER_CLOSE_ALIAS)
#undef ASTER_CLOSE_ALIAS
} // namespace status_codes

} // namespace aster

#undef ASTER_HTTP_STATUS_LIST
#undef ASTER_CLOSE_CODE_LIST

#endif // ASTER_STATUS_HPP
// end aster/status.hpp
// begin aster/error.hpp
// SPDX-License-Identifier: MIT
// Exceptions the user-facing API throws and the framework turns into responses.
#ifndef ASTER_ERROR_HPP
#define ASTER_ERROR_HPP

// begin aster/headers.hpp
// SPDX-License-Identifier: MIT
// Case-insensitive, multi-valued header list of views into the connection's read buffer.
#ifndef ASTER_HEADERS_HPP
#define ASTER_HEADERS_HPP

// begin aster/detail/http_grammar.hpp
// SPDX-License-Identifier: MIT
// The small pieces of HTTP's grammar (RFC 9110 §5.6) that headers, cookies, forms, CORS, the
// URL decoder and the WebSocket handshake share: whitespace, tokens, hex digits, quoted
// strings and comma-separated lists. Dependency-free and constexpr.
#ifndef ASTER_DETAIL_HTTP_GRAMMAR_HPP
#define ASTER_DETAIL_HTTP_GRAMMAR_HPP

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace aster::detail {

/// OWS: space or horizontal tab (RFC 9110 §5.6.3).
constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

/// `s` without leading and trailing OWS.
constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

inline constexpr std::array<bool, 256> tchar_table = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();

/// tchar (RFC 9110 §5.6.2): the characters of a token, such as a field or cookie name.
constexpr bool is_tchar(char c) noexcept { return tchar_table[static_cast<unsigned char>(c)]; }

/// A non-empty run of tchar.
constexpr bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_tchar(c)) return false;
    return true;
}

constexpr char ascii_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

/// The value of a hex digit, or -1.
constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Reads a quoted-string (RFC 9110 §5.6.4) starting at s[i] == '"', handing each character of
/// its value to `put` with quoted-pairs undone; leaves `i` after the closing quote. False when
/// the string does not end. `lenient_backslash` keeps a backslash that quotes neither `"` nor
/// `\` (old browsers send Windows paths unescaped in multipart file names).
template <class Put>
constexpr bool read_quoted(std::string_view s, std::size_t& i, Put&& put,
                           bool lenient_backslash = false) {
    ++i; // the opening quote
    while (i < s.size()) {
        char c = s[i++];
        if (c == '"') return true;
        if (c == '\\' && i < s.size()) {
            if (!lenient_backslash || s[i] == '"' || s[i] == '\\') c = s[i++];
        }
        put(c);
    }
    return false;
}

/// Calls `item` with each element of a comma-separated list (RFC 9110 §5.6.1), trimmed; empty
/// elements are skipped, as the RFC asks. When `item` returns bool, true stops the walk and is
/// returned. Quoted commas are not special: no list aster reads this way (Connection, Upgrade,
/// Transfer-Encoding, entity tags, subprotocols, CORS headers) holds one.
template <class Item>
constexpr bool for_each_list_item(std::string_view list, Item&& item) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const auto element = trim_ows(list.substr(0, comma));
        if (!element.empty()) {
            if constexpr (std::is_same_v<decltype(item(element)), bool>) {
                if (item(element)) return true;
            } else {
                item(element);
            }
        }
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_HTTP_GRAMMAR_HPP
// end aster/detail/http_grammar.hpp

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

/// Header fields a program owns and sends: a response's, an exception's, a WebSocket accept's,
/// the test client's. Name and value pairs in order; names may repeat.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// ASCII case-insensitive equality, as header names compare (RFC 9110 §5.1).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (detail::ascii_lower(a[i]) != detail::ascii_lower(b[i])) return false;
    return true;
}

/// A field name is a token (RFC 9110 §5.1, §5.6.2).
constexpr bool valid_field_name(std::string_view name) noexcept { return detail::is_token(name); }

/// A field value holds no control character but HTAB (RFC 9110 §5.5): a line break would
/// split the message, a NUL breaks the clients that see it.
constexpr bool valid_field_value(std::string_view value) noexcept {
    for (char c : value)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return false;
    return true;
}

struct header_field {
    std::string_view name;
    std::string_view value;
};

/// The request's headers, in arrival order. Lookups ignore case; repeated names keep every value.
/// The views stay valid while the handler runs (they point into the connection's buffer).
class headers {
public:
    using const_iterator = std::vector<header_field>::const_iterator;

    /// The first value of `name`, or nullopt.
    std::optional<std::string_view> get(std::string_view name) const noexcept {
        for (const auto& f : fields_)
            if (iequals(f.name, name)) return f.value;
        return std::nullopt;
    }
    /// The first value of `name`, or `fallback`.
    std::string_view get(std::string_view name, std::string_view fallback) const noexcept {
        return get(name).value_or(fallback);
    }
    std::vector<std::string_view> get_all(std::string_view name) const {
        std::vector<std::string_view> out;
        for (const auto& f : fields_)
            if (iequals(f.name, name)) out.push_back(f.value);
        return out;
    }
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    const_iterator begin() const noexcept { return fields_.begin(); }
    const_iterator end() const noexcept { return fields_.end(); }

    void add(std::string_view name, std::string_view value) { fields_.push_back({name, value}); }
    void clear() noexcept { fields_.clear(); } // keeps capacity: no allocation per request

private:
    std::vector<header_field> fields_;
};

} // namespace aster

#endif // ASTER_HEADERS_HPP
// end aster/headers.hpp

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace aster {

/// Thrown from a handler to answer with `status`: the body is `detail`, or the reason phrase.
/// @code
/// if (!user) throw aster::http_exception{aster::status::not_found, "no such user"};
/// @endcode
class http_exception : public std::runtime_error {
public:
    using header_list = aster::header_list;

    explicit http_exception(aster::status code, std::string detail = {}, header_list headers = {})
        : std::runtime_error(detail.empty() ? std::string(reason(code)) : detail), status_(code),
          headers_(std::move(headers)) {}

    aster::status status() const noexcept { return status_; }
    std::string_view detail() const noexcept { return what(); }
    const header_list& headers() const noexcept { return headers_; }

private:
    aster::status status_;
    header_list headers_;
};

/// Thrown by `request::read_some` (and body(), json(), form()) when the client goes away before
/// the end of the body, as Starlette's ClientDisconnect. Nobody is left to answer: the
/// connection closes, and nothing is logged as an error if the handler lets it escape.
class client_disconnect : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Thrown by `websocket::receive*` once the connection is closed, and by `test_client` sessions
/// when the server closes. `code()` is the close code: the peer's, 1005 when its close frame
/// had none, 1006 when the connection dropped without one, or the code aster itself sent
/// (1002, 1003, 1007, 1009, 1011).
class websocket_disconnect : public std::runtime_error {
public:
    explicit websocket_disconnect(std::uint16_t code = 1000, std::string reason = {})
        : std::runtime_error(describe(code, reason)), code_(code), reason_(std::move(reason)) {}
    websocket_disconnect(close_code code, std::string reason = {})
        : websocket_disconnect(std::uint16_t(code), std::move(reason)) {}

    std::uint16_t code() const noexcept { return code_; }
    const std::string& reason() const noexcept { return reason_; }

private:
    // "websocket closed with code 1011 (internal_error): reason", as test failures print it.
    static std::string describe(std::uint16_t code, const std::string& reason) {
        std::string text = "websocket closed with code " + std::to_string(code);
        if (auto name = to_string(close_code(code)); !name.empty())
            text.append(" (").append(name).append(")");
        if (!reason.empty()) text += ": " + reason;
        return text;
    }

    std::uint16_t code_;
    std::string reason_;
};

/// Misuse of a websocket (send before accept, accept twice, ...); the message names the state.
class websocket_state_error : public std::logic_error {
    using std::logic_error::logic_error;
};

/// A reverse lookup (`request::url_path_for`, `url_for`) found no route of that name taking
/// those parameters, as Starlette's NoMatchFound; the message names the route and the misfit.
class no_match_found : public std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

} // namespace aster

#endif // ASTER_ERROR_HPP
// end aster/error.hpp
// begin aster/method.hpp
// SPDX-License-Identifier: MIT
// HTTP methods as a bit set, so a route's allowed methods and the `Allow` header are one integer.
#ifndef ASTER_METHOD_HPP
#define ASTER_METHOD_HPP


#include <cstdint>
#include <string>
#include <string_view>

namespace aster {

/// Methods a route answers. Combine with `|`: `route<"/items", method::get | method::post>(fn)`.
enum class method : std::uint16_t {
    none = 0,
    get = 1 << 0,
    head = 1 << 1,
    post = 1 << 2,
    put = 1 << 3,
    patch = 1 << 4,
    delete_ = 1 << 5,
    options = 1 << 6,
    other = 1 << 7, // any method without its own bit (CONNECT, TRACE, PROPFIND, ...)
};

constexpr method operator|(method a, method b) noexcept {
    return method(std::uint16_t(a) | std::uint16_t(b));
}
constexpr method operator&(method a, method b) noexcept {
    return method(std::uint16_t(a) & std::uint16_t(b));
}
constexpr bool any(method m) noexcept { return m != method::none; }

constexpr method parse_method(std::string_view name) noexcept {
    if (name == "GET") return method::get;
    if (name == "HEAD") return method::head;
    if (name == "POST") return method::post;
    if (name == "PUT") return method::put;
    if (name == "PATCH") return method::patch;
    if (name == "DELETE") return method::delete_;
    if (name == "OPTIONS") return method::options;
    return method::other;
}

/// The `Allow` header value for a set, in the fixed order GET, HEAD, POST, PUT, PATCH, DELETE,
/// OPTIONS.
inline std::string allow_header(method set) {
    static constexpr std::pair<method, std::string_view> order[] = {
        {method::get, "GET"},        {method::head, "HEAD"},   {method::post, "POST"},
        {method::put, "PUT"},        {method::patch, "PATCH"}, {method::delete_, "DELETE"},
        {method::options, "OPTIONS"}};
    std::string out;
    for (auto [m, name] : order) {
        if (!any(set & m)) continue;
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

} // namespace aster

#endif // ASTER_METHOD_HPP
// end aster/method.hpp
// begin aster/url.hpp
// SPDX-License-Identifier: MIT
// Percent-encoding (RFC 3986 §2.1) and decoded, multi-valued `query_params` [datastructures.py].
#ifndef ASTER_URL_HPP
#define ASTER_URL_HPP


#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

/// Appends `in` to `out` with every `%XX` escape decoded (and `+` as a space when asked, as in
/// form and query strings). Malformed escapes (`%`, `%2`, `%zz`) are copied literally, like
/// Python's `unquote`; decoded bytes are not checked for UTF-8.
/// Returns true when something was decoded, so a caller can keep a view of `in` on false.
ASTER_DECL bool percent_decode_into(std::string_view in, std::string& out,
                                    bool plus_as_space = false);

/// `percent_decode("caf%C3%A9")` is "café" (as UTF-8 bytes).
ASTER_DECL std::string percent_decode(std::string_view in, bool plus_as_space = false);

/// Escapes every byte but the RFC 3986 unreserved ones (ALPHA DIGIT - . _ ~) and those in `safe`,
/// with upper-case hex; the default keeps `/` so a path stays readable, like Python's `quote`.
ASTER_DECL std::string percent_encode(std::string_view in, std::string_view safe = "/");

/// Query parameters, decoded and in order. Repeated keys keep every value; `get` returns the
/// last one, as Starlette's dict view does. `a=1&a=2&flag&c=%20+` gives a:1, a:2, flag:"", c:"  ".
/// Thread safety: const members may be called concurrently.
/// @code
/// aster::query_params q("tag=a&tag=b&page=2");
/// auto page = q.get("page", "1");       // "2"
/// auto tags = q.get_all("tag");         // {"a", "b"}
/// @endcode
class query_params {
public:
    using value_type = std::pair<std::string, std::string>;
    using const_iterator = std::vector<value_type>::const_iterator;

    query_params() = default;
    /// Parses a raw query string (without the `?`) as `parse_qsl(keep_blank_values=True)` does:
    /// split on `&`, skip empty pieces, `+` is a space, a piece without `=` has an empty value.
    explicit query_params(std::string_view raw);

    /// The last value of `key`, or nullopt.
    std::optional<std::string_view> get(std::string_view key) const noexcept {
        for (auto it = items_.rbegin(); it != items_.rend(); ++it)
            if (it->first == key) return std::string_view(it->second);
        return std::nullopt;
    }
    /// The last value of `key`, or `fallback`.
    std::string_view get(std::string_view key, std::string_view fallback) const noexcept {
        return get(key).value_or(fallback);
    }
    /// Every value of `key`, in order.
    std::vector<std::string_view> get_all(std::string_view key) const {
        std::vector<std::string_view> out;
        for (const auto& [k, v] : items_)
            if (k == key) out.emplace_back(v);
        return out;
    }
    bool contains(std::string_view key) const noexcept { return get(key).has_value(); }
    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    const_iterator begin() const noexcept { return items_.begin(); }
    const_iterator end() const noexcept { return items_.end(); }

    friend bool operator==(const query_params&, const query_params&) = default;

private:
    std::vector<value_type> items_;
};

namespace detail {
// Appends `key=value` (preceded by `&` unless first) in form encoding.
ASTER_DECL void append_query_pair(std::string& out, std::string_view key, std::string_view value);

template <class R>
concept query_pair_range = std::ranges::input_range<R> &&
    requires(std::ranges::range_reference_t<R> p) {
    { p.first } -> std::convertible_to<std::string_view>;
    { p.second } -> std::convertible_to<std::string_view>;
};
} // namespace detail

/// Builds a query string (without `?`) as Python's `urlencode` does: `a=1&b=x+y`; a space becomes
/// `+` and every other byte outside ALPHA DIGIT - . _ ~ is percent-encoded, `/` included.
/// Accepts any range of pairs of strings: a vector, a span, a `query_params`.
/// @code
/// aster::encode_query({{"q", "a b"}, {"page", "2"}});   // "q=a+b&page=2"
/// @endcode
template <class Pairs>
requires detail::query_pair_range<const Pairs&> std::string encode_query(const Pairs& pairs) {
    std::string out;
    for (const auto& p : pairs) detail::append_query_pair(out, p.first, p.second);
    return out;
}
inline std::string
encode_query(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
    std::string out;
    for (const auto& [k, v] : pairs) detail::append_query_pair(out, k, v);
    return out;
}

// ---- implementation ----------------------------------------------------------------------------

namespace detail::url_impl {

constexpr bool is_unreserved(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

inline void encode(std::string& out, std::string_view in, std::string_view safe,
                   bool space_as_plus) {
    constexpr char hex[] = "0123456789ABCDEF";
    for (char c : in) {
        if (is_unreserved(c) || safe.find(c) != std::string_view::npos) {
            out += c;
        } else if (c == ' ' && space_as_plus) {
            out += '+';
        } else {
            auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
        }
    }
}

} // namespace detail::url_impl

ASTER_DECL bool percent_decode_into(std::string_view in, std::string& out, bool plus_as_space) {
    bool changed = false;
    out.reserve(out.size() + in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%' && in.size() - i >= 3) {
            int hi = detail::hex_value(in[i + 1]), lo = detail::hex_value(in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                changed = true;
                continue;
            }
        } else if (c == '+' && plus_as_space) {
            out += ' ';
            changed = true;
            continue;
        }
        out += c;
    }
    return changed;
}

ASTER_DECL std::string percent_decode(std::string_view in, bool plus_as_space) {
    std::string out;
    percent_decode_into(in, out, plus_as_space);
    return out;
}

ASTER_DECL std::string percent_encode(std::string_view in, std::string_view safe) {
    std::string out;
    out.reserve(in.size());
    detail::url_impl::encode(out, in, safe, false);
    return out;
}

ASTER_DECL query_params::query_params(std::string_view raw) {
    while (!raw.empty()) {
        auto amp = raw.find('&');
        auto piece = raw.substr(0, amp);
        raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
        if (piece.empty()) continue;
        auto eq = piece.find('=');
        value_type item;
        percent_decode_into(piece.substr(0, eq), item.first, true);
        if (eq != std::string_view::npos)
            percent_decode_into(piece.substr(eq + 1), item.second, true);
        items_.push_back(std::move(item));
    }
}

ASTER_DECL void detail::append_query_pair(std::string& out, std::string_view key,
                                          std::string_view value) {
    if (!out.empty()) out += '&';
    url_impl::encode(out, key, {}, true);
    out += '=';
    url_impl::encode(out, value, {}, true);
}

} // namespace aster

#endif // ASTER_URL_HPP
// end aster/url.hpp
// begin aster/cookies.hpp
// SPDX-License-Identifier: MIT
// `Cookie` and `Set-Cookie` parsing, and `Set-Cookie` formatting [requests.py, responses.py].
#ifndef ASTER_COOKIES_HPP
#define ASTER_COOKIES_HPP


#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

/// Splits a `Cookie` header leniently, as Starlette's `cookie_parser`: pieces between `;` are
/// trimmed, a piece without `=` has the name "" (browsers send such cookies), empty pieces are
/// skipped and one pair of double quotes around a value is removed. Backslash escapes inside
/// quotes are left as sent, since the result views `header`.
ASTER_DECL std::vector<std::pair<std::string_view, std::string_view>>
parse_cookie_header(std::string_view header);

/// The value of the first cookie called `name` in a `Cookie` header, or nullopt. The first one wins
/// because browsers list the cookie with the longest path first (RFC 6265 §5.4).
ASTER_DECL std::optional<std::string_view> find_cookie(std::string_view header,
                                                       std::string_view name) noexcept;

/// Attributes of a `Set-Cookie` header; the defaults are Starlette's `set_cookie` defaults.
/// @code
/// r.header("Set-Cookie",
///          aster::format_set_cookie("sid", token, {.max_age = 3600, .httponly = true}));
/// @endcode
struct cookie_options {
    std::optional<std::int64_t> max_age = {}; // seconds; none gives a session cookie
    std::string expires = {};                 // an HTTP-date, written as given; empty omits it
    std::string path = "/";                   // whole site: a cookie set under /login is seen at /
    std::string domain = {};                  // empty: host-only, the narrowest scope
    bool secure = false;
    bool httponly = false;
    std::string samesite = "lax"; // browsers' own default; "strict", "lax", "none" or "" to omit
    bool partitioned = false;     // CHIPS; browsers also require `secure`
};

/// A `Set-Cookie` value in Starlette's attribute order: `name=value; Domain=…; expires=…;
/// HttpOnly; Max-Age=…; Path=…; SameSite=…; Secure; Partitioned`.
/// Throws std::invalid_argument when `name` is not an RFC 6265 token, `value` holds a byte outside
/// cookie-octet (controls, space, `"`, `,`, `;`, `\`, non-ASCII: percent-encode such values; one
/// pair of enclosing quotes is allowed), an attribute holds a control byte or `;`, or `samesite`
/// is not strict/lax/none.
ASTER_DECL std::string format_set_cookie(std::string_view name, std::string_view value,
                                         const cookie_options& options = {});

/// A `Set-Cookie` value that makes the browser drop `name`: `name=""; expires=Thu, 01 Jan 1970
/// 00:00:00 GMT; Max-Age=0; Path=/; SameSite=lax`. Path and domain must match the ones it was set
/// with, or the browser keeps the cookie.
ASTER_DECL std::string format_delete_cookie(std::string_view name, std::string_view path = "/",
                                            std::string_view domain = {});
/// The same, keeping the other attributes of `options` (a `__Secure-` cookie needs `secure`).
ASTER_DECL std::string format_delete_cookie(std::string_view name, cookie_options options);

/// What a client keeps from one `Set-Cookie` header.
struct set_cookie {
    std::string name = {};
    std::string value = {};                   // as sent, quotes included (RFC 6265 §5.2)
    std::optional<std::int64_t> max_age = {}; // the last valid Max-Age, if any
    bool expired = false;                     // the server asks the client to drop the cookie
    std::string path = {}; // empty when absent or not starting with '/': the default path
};

/// Parses a `Set-Cookie` header value as a user agent does (RFC 6265 §5.2): attribute names are
/// case-insensitive, malformed attributes are ignored, Max-Age wins over Expires. `expired` is set
/// for Max-Age <= 0 or an Expires not after `now`. Nullopt when there is no `=` or no name.
ASTER_DECL std::optional<set_cookie>
parse_set_cookie(std::string_view header_value,
                 std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// ---- implementation ----------------------------------------------------------------------------

namespace detail::cookie_impl {

// Splits off the text before the next `;` and advances `rest` past it.
constexpr std::string_view next_piece(std::string_view& rest) noexcept {
    auto semi = rest.find(';');
    auto piece = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    return piece;
}

// One `Cookie` piece as cookie_parser reads it: no `=` means an empty name.
constexpr std::pair<std::string_view, std::string_view>
split_cookie(std::string_view piece) noexcept {
    auto eq = piece.find('=');
    bool bare = eq == std::string_view::npos;
    std::string_view name = bare ? std::string_view{} : piece.substr(0, eq);
    std::string_view value = bare ? piece : piece.substr(eq + 1);
    value = trim_ows(value);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
    return {trim_ows(name), value};
}

// RFC 6265 §4.1.1 cookie-octet: visible ASCII except `"`, `,`, `;` and `\`.
constexpr bool is_cookie_octet(char c) noexcept {
    return c > 0x20 && c < 0x7F && c != '"' && c != ',' && c != ';' && c != '\\';
}

inline void check_attribute(std::string_view what, std::string_view value) {
    for (char c : value) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7F || c == ';')
            throw std::invalid_argument("aster: cookie " + std::string(what) +
                                        " must not contain ';' or control characters");
    }
}

// RFC 6265 §5.1.1 cookie-date; nullopt for anything the algorithm rejects.
inline std::optional<std::chrono::sys_seconds> parse_cookie_date(std::string_view s) noexcept {
    constexpr auto is_delimiter = [](char c) {
        auto b = static_cast<unsigned char>(c);
        return b == 0x09 || (b >= 0x20 && b <= 0x2F) || (b >= 0x3B && b <= 0x40) ||
               (b >= 0x5B && b <= 0x60) || (b >= 0x7B && b <= 0x7E);
    };
    constexpr auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    // Reads 1..max digits not followed by another digit; -1 when absent.
    constexpr auto digits = [is_digit](std::string_view& t, std::size_t min, std::size_t max) {
        std::size_t n = 0;
        int v = 0;
        // Counts every digit but adds up at most `max` of them: a long run must not overflow.
        for (; n < t.size() && is_digit(t[n]); ++n)
            if (n < max) v = v * 10 + (t[n] - '0');
        if (n < min || n > max) return -1;
        t.remove_prefix(n);
        return v;
    };
    int hour = -1, minute = -1, second = -1, day = -1, month = -1, year = -1;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_delimiter(s[i])) ++i;
        std::size_t start = i;
        while (i < s.size() && !is_delimiter(s[i])) ++i;
        std::string_view token = s.substr(start, i - start);
        if (token.empty()) continue;
        if (hour < 0) {
            auto t = token;
            int h = digits(t, 1, 2);
            if (h >= 0 && t.starts_with(':')) {
                t.remove_prefix(1);
                int m = digits(t, 1, 2);
                if (m >= 0 && t.starts_with(':')) {
                    t.remove_prefix(1);
                    int sec = digits(t, 1, 2);
                    if (sec >= 0) {
                        hour = h, minute = m, second = sec;
                        continue;
                    }
                }
            }
        }
        if (day < 0) {
            auto t = token;
            if (int d = digits(t, 1, 2); d >= 0) {
                day = d;
                continue;
            }
        }
        if (month < 0 && token.size() >= 3) {
            constexpr std::string_view names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                  "jul", "aug", "sep", "oct", "nov", "dec"};
            for (int m = 0; m < 12; ++m)
                if (iequals(token.substr(0, 3), names[m])) month = m + 1;
            if (month > 0) continue;
        }
        if (year < 0) {
            auto t = token;
            if (int y = digits(t, 2, 4); y >= 0) year = y;
        }
    }
    if (year >= 70 && year <= 99) year += 1900;
    if (year >= 0 && year <= 69) year += 2000;
    if (hour < 0 || day < 1 || month < 1 || year < 1601 || hour > 23 || minute > 59 || second > 59)
        return std::nullopt;
    using namespace std::chrono;
    year_month_day date{std::chrono::year(year), std::chrono::month(unsigned(month)),
                        std::chrono::day(unsigned(day))};
    if (!date.ok()) return std::nullopt;
    return sys_days(date) + hours(hour) + minutes(minute) + seconds(second);
}

// RFC 6265 §5.2.2: an optional '-' then digits only; out-of-range values saturate.
inline std::optional<std::int64_t> parse_max_age(std::string_view v) noexcept {
    bool negative = v.starts_with('-');
    auto digits = negative ? v.substr(1) : v;
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc::result_out_of_range)
        return negative ? std::numeric_limits<std::int64_t>::min()
                        : std::numeric_limits<std::int64_t>::max();
    return n;
}

} // namespace detail::cookie_impl

ASTER_DECL std::vector<std::pair<std::string_view, std::string_view>>
parse_cookie_header(std::string_view header) {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    while (!header.empty()) {
        auto [name,
              value] = detail::cookie_impl::split_cookie(detail::cookie_impl::next_piece(header));
        if (!name.empty() || !value.empty()) out.emplace_back(name, value);
    }
    return out;
}

ASTER_DECL std::optional<std::string_view> find_cookie(std::string_view header,
                                                       std::string_view name) noexcept {
    while (!header.empty()) {
        auto [n, v] = detail::cookie_impl::split_cookie(detail::cookie_impl::next_piece(header));
        if ((!n.empty() || !v.empty()) && n == name) return v;
    }
    return std::nullopt;
}

ASTER_DECL std::string format_set_cookie(std::string_view name, std::string_view value,
                                         const cookie_options& options) {
    using namespace detail::cookie_impl;
    using detail::is_tchar, detail::trim_ows;
    if (name.empty()) throw std::invalid_argument("aster: cookie name must not be empty");
    for (char c : name)
        if (!is_tchar(c))
            throw std::invalid_argument("aster: cookie name '" + std::string(name) +
                                        "' has a character outside RFC 6265 token characters");
    auto inner = value;
    if (inner.size() >= 2 && inner.front() == '"' && inner.back() == '"')
        inner = inner.substr(1, inner.size() - 2);
    for (char c : inner)
        if (!is_cookie_octet(c))
            throw std::invalid_argument("aster: value of cookie '" + std::string(name) +
                                        "' has a byte outside RFC 6265 cookie-octet; "
                                        "percent-encode it");
    check_attribute("expires", options.expires);
    check_attribute("path", options.path);
    check_attribute("domain", options.domain);
    const auto& samesite = options.samesite;
    if (!samesite.empty() && !iequals(samesite, "strict") && !iequals(samesite, "lax") &&
        !iequals(samesite, "none"))
        throw std::invalid_argument("aster: cookie samesite must be 'strict', 'lax' or 'none'");

    std::string out;
    out.reserve(name.size() + value.size() + 64);
    out.append(name).append("=").append(value);
    if (!options.domain.empty()) out.append("; Domain=").append(options.domain);
    if (!options.expires.empty()) out.append("; expires=").append(options.expires);
    if (options.httponly) out.append("; HttpOnly");
    if (options.max_age) out.append("; Max-Age=").append(std::to_string(*options.max_age));
    if (!options.path.empty()) out.append("; Path=").append(options.path);
    if (!samesite.empty()) out.append("; SameSite=").append(samesite);
    if (options.secure) out.append("; Secure");
    if (options.partitioned) out.append("; Partitioned");
    return out;
}

ASTER_DECL std::string format_delete_cookie(std::string_view name, cookie_options options) {
    options.max_age = 0;
    options.expires = "Thu, 01 Jan 1970 00:00:00 GMT";
    return format_set_cookie(name, "\"\"", options);
}

ASTER_DECL std::string format_delete_cookie(std::string_view name, std::string_view path,
                                            std::string_view domain) {
    cookie_options options;
    options.path = path;
    options.domain = domain;
    return format_delete_cookie(name, std::move(options));
}

ASTER_DECL std::optional<set_cookie> parse_set_cookie(std::string_view header_value,
                                                      std::chrono::system_clock::time_point now) {
    using namespace detail::cookie_impl;
    using detail::is_tchar, detail::trim_ows;
    auto pair = next_piece(header_value);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    set_cookie out;
    out.name = trim_ows(pair.substr(0, eq));
    out.value = trim_ows(pair.substr(eq + 1));
    if (out.name.empty()) return std::nullopt;

    std::optional<std::chrono::sys_seconds> expires;
    while (!header_value.empty()) {
        auto attr = next_piece(header_value);
        auto aeq = attr.find('=');
        auto key = trim_ows(attr.substr(0, aeq));
        auto val = aeq == std::string_view::npos ? std::string_view{}
                                                 : trim_ows(attr.substr(aeq + 1));
        if (iequals(key, "max-age")) {
            if (auto n = parse_max_age(val)) out.max_age = n;
        } else if (iequals(key, "expires")) {
            if (auto t = parse_cookie_date(val)) expires = t;
        } else if (iequals(key, "path")) {
            out.path = val.starts_with('/') ? val : std::string_view{};
        }
    }
    if (out.max_age) out.expired = *out.max_age <= 0;
    else if (expires)
        // Compared in seconds: year 9999 in nanoseconds would overflow.
        out.expired = *expires <= std::chrono::floor<std::chrono::seconds>(now);
    return out;
}

} // namespace aster

#endif // ASTER_COOKIES_HPP
// end aster/cookies.hpp
// begin aster/convertors.hpp
// SPDX-License-Identifier: MIT
// Typed path segments: {name} {n:int} {x:float} {u:uuid} {p:path} and the C++ types they convert
// to.
#ifndef ASTER_CONVERTORS_HPP
#define ASTER_CONVERTORS_HPP


#include <array>
#include <charconv>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace aster {

/// The convertor named after the colon in a pattern parameter; `str` when none is named.
enum class convertor { str, int_, float_, uuid, path };

/// A UUID taken from a `{u:uuid}` segment: 16 bytes, printed in lower-case 8-4-4-4-12 form.
struct uuid {
    std::array<std::uint8_t, 16> bytes{};

    static constexpr std::optional<uuid> parse(std::string_view text) noexcept;
    std::string to_string() const;
    friend constexpr bool operator==(const uuid&, const uuid&) = default;
};

namespace detail {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Which C++ parameter types a convertor can feed. Checked at compile time against the handler.
template <convertor C, class T>
constexpr bool convertor_accepts() {
    using U = std::remove_cvref_t<T>;
    if constexpr (C == convertor::int_)
        return std::is_integral_v<U> && !std::is_same_v<U, bool> && !std::is_same_v<U, char>;
    else if constexpr (C == convertor::float_) return std::is_floating_point_v<U>;
    else if constexpr (C == convertor::uuid)
        return std::is_same_v<U, uuid> || std::is_same_v<U, std::string_view> ||
               std::is_same_v<U, std::string>;
    else return std::is_same_v<U, std::string_view> || std::is_same_v<U, std::string>;
}

// The length of the longest prefix of `s` that the convertor's syntax accepts (Starlette regexes:
// str `[^/]+`, int `[0-9]+`, float `[0-9]+(\.[0-9]+)?`, uuid 8-4-4-4-12 hex, path `.*`).
constexpr std::size_t convertor_extent(convertor c, std::string_view s) noexcept {
    switch (c) {
    case convertor::str: {
        auto slash = s.find('/');
        return slash == std::string_view::npos ? s.size() : slash;
    }
    case convertor::int_: {
        std::size_t i = 0;
        while (i < s.size() && is_digit(s[i])) ++i;
        return i;
    }
    case convertor::float_: {
        std::size_t i = 0;
        while (i < s.size() && is_digit(s[i])) ++i;
        if (i > 0 && i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) {
            i += 2;
            while (i < s.size() && is_digit(s[i])) ++i;
        }
        return i;
    }
    case convertor::uuid:
        return s.size() >= 36 && uuid::parse(s.substr(0, 36)) ? 36 : 0;
    case convertor::path:
        return s.size();
    }
    return 0;
}

// Converts an already-matched segment to the handler's parameter type. nullopt means the value
// is syntactically fine but does not fit (an int that overflows `T`): the route then answers 404.
template <class T>
std::optional<std::remove_cvref_t<T>> convert_segment(std::string_view s) {
    using U = std::remove_cvref_t<T>;
    if constexpr (std::is_integral_v<U> || std::is_floating_point_v<U>) {
        U value{};
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
        return value;
    } else if constexpr (std::is_same_v<U, uuid>) {
        return uuid::parse(s);
    } else {
        return U(s);
    }
}

} // namespace detail

constexpr std::optional<uuid> uuid::parse(std::string_view text) noexcept {
    if (text.size() != 36) return std::nullopt;
    uuid out;
    std::size_t byte = 0;
    for (std::size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') return std::nullopt;
            ++i;
            continue;
        }
        int hi = detail::hex_value(text[i]), lo = detail::hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.bytes[byte++] = static_cast<std::uint8_t>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

inline std::string uuid::to_string() const {
    constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(digits[bytes[i] >> 4]);
        out.push_back(digits[bytes[i] & 15]);
    }
    return out;
}

} // namespace aster

#endif // ASTER_CONVERTORS_HPP
// end aster/convertors.hpp
// begin aster/request.hpp
// SPDX-License-Identifier: MIT
// `request`: what a handler sees of one HTTP request: method, path, query, headers, cookies, body,
// client.
#ifndef ASTER_REQUEST_HPP
#define ASTER_REQUEST_HPP

// begin aster/detail/route_table.hpp
// SPDX-License-Identifier: MIT
// route_table: the app's routes as plain data, which every request holds for url_path_for. The
// router fills it (routing.hpp); reverse_route.hpp builds paths from it.
#ifndef ASTER_DETAIL_ROUTE_TABLE_HPP
#define ASTER_DETAIL_ROUTE_TABLE_HPP


#include <charconv>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace aster {
struct uuid; // convertors.hpp: whoever passes one has it
} // namespace aster

namespace aster::detail {

struct pattern_token; // route_pattern.hpp

/// One route as reverse routing sees it. A router holds a constexpr array of these, so
/// reverse_route is one non-template function for every app.
struct route_info {
    std::string_view name; // empty: not named
    std::string_view pattern;
    const pattern_token* tokens = nullptr;
    std::size_t token_count = 0;
    std::size_t param_count = 0;
    bool websocket = false;
};

struct route_table;
using reverse_fn = std::string (*)(route_table table, std::string_view name,
                                   std::span<const std::string> values, bool* websocket);

struct route_table {
    const route_info* routes = nullptr;
    std::size_t size = 0;
    // reverse_route (reverse_route.hpp), set by the router: a request reaches it through here,
    // so request.hpp needs neither the pattern engine nor the function's definition.
    reverse_fn reverse = nullptr;
};

/// Appends a path parameter's text, not yet percent-encoded: integers in decimal, floating
/// point in fixed notation (the shortest form may be `1e+23`, which no {x:float} matches),
/// uuids in their 8-4-4-4-12 form, strings as they are.
template <class T>
void append_path_text(std::string& out, const T& value) {
    using U = std::remove_cvref_t<T>;
    static_assert(!std::is_same_v<U, bool> && !std::is_same_v<U, char>,
                  "aster::url_path_for: a path parameter is a number, a string or an aster::uuid, "
                  "not a bool or a char");
    if constexpr (std::is_floating_point_v<U>) {
        // Up to ~330 characters for a double (more for a long double): grow until it fits.
        std::string buf(64, '\0');
        for (;;) {
            auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value,
                                           std::chars_format::fixed);
            if (ec == std::errc{}) {
                out.append(buf.data(), end);
                return;
            }
            buf.resize(buf.size() * 4);
        }
    } else if constexpr (std::is_arithmetic_v<U>) {
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
        out.append(buf, end);
    } else if constexpr (std::is_same_v<U, uuid>) {
        out += value.to_string();
    } else {
        static_assert(std::is_convertible_v<const T&, std::string_view>,
                      "aster::url_path_for: a path parameter is a number, a string or an "
                      "aster::uuid");
        out += std::string_view(value);
    }
}

} // namespace aster::detail

#endif // ASTER_DETAIL_ROUTE_TABLE_HPP
// end aster/detail/route_table.hpp
// begin aster/task.hpp
// SPDX-License-Identifier: MIT
// `aster::task<T>`: the coroutine type of every handler, an Asio awaitable, so handlers can
// co_await any Asio operation.
#ifndef ASTER_TASK_HPP
#define ASTER_TASK_HPP


#include <asio/awaitable.hpp>

#include <type_traits>

namespace aster {

namespace net = ::asio;

/// The return type of coroutine handlers: `aster::task<aster::response> get(aster::request&)`.
template <class T = void>
using task = net::awaitable<T>;

namespace detail {
template <class T>
struct is_task : std::false_type {};
template <class T, class E>
struct is_task<net::awaitable<T, E>> : std::true_type {
    using value_type = T;
};
} // namespace detail

} // namespace aster

#endif // ASTER_TASK_HPP
// end aster/task.hpp
// begin aster/topics.hpp
// SPDX-License-Identifier: MIT
// Topics: publish/subscribe between the WebSockets of one server or test_client.
#ifndef ASTER_TOPICS_HPP
#define ASTER_TOPICS_HPP

// begin aster/options.hpp
// SPDX-License-Identifier: MIT
// Limits and server settings as aggregates with designated-initialiser defaults.
#ifndef ASTER_OPTIONS_HPP
#define ASTER_OPTIONS_HPP

// begin aster/log.hpp
// SPDX-License-Identifier: MIT
// Minimal levelled logging with a replaceable sink; the server and the connection report through
// it.
#ifndef ASTER_LOG_HPP
#define ASTER_LOG_HPP


#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

enum class log_level { debug = 0, info = 1, warning = 2, error = 3, off = 4 };

/// Process-wide log settings. Set them before serving; they are read without locks.
/// @code
/// aster::logger().level = aster::log_level::warning;
/// aster::logger().sink = [](aster::log_level, std::string_view line) { my_log(line); };
/// @endcode
struct log_config {
    log_level level = log_level::info;
    std::function<void(log_level, std::string_view)> sink; // empty: one line to stderr
    // One info line per HTTP request, as uvicorn writes them:
    // `127.0.0.1:50312 - "GET /hello HTTP/1.1" 200 13 0.1ms`, everywhere, test_client's requests
    // included (a server also has its own switch, server_config::access_log, on by default).
    // Off, it costs one branch.
    bool access_log = false;
    // The default sink starts each line with the UTC time, `2026-12-07T15:47:59.123Z`.
    bool timestamps = false;
};

inline log_config& logger() noexcept {
    static log_config config;
    return config;
}

inline bool log_enabled(log_level level) noexcept {
    return level >= logger().level && logger().level != log_level::off;
}

inline void log(log_level level, std::string_view line) {
    if (!log_enabled(level)) return;
    auto& config = logger();
    if (config.sink) {
        config.sink(level, line);
        return;
    }
    static constexpr const char* names[] = {"DEBUG", "INFO", "WARNING", "ERROR", ""};
    char stamp[32] = "";
    if (config.timestamps) {
        const auto now = std::chrono::system_clock::now();
        const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
        const auto millis =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
            1000;
        std::tm parts{};
        gmtime_r(&seconds, &parts);
        std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &parts);
        std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ ", int(millis));
    }
    std::fprintf(stderr, "%s%s: %.*s\n", stamp, names[int(level)], int(line.size()), line.data());
}

/// Logs `line`, but at most one line of its `kind` (a string literal naming the call site) per
/// second: a line a client can provoke at will (a failing handler, a download it drops) cannot
/// flood the log. The next line logged after some were dropped says how many. Thread-safe.
/// @code
/// aster::log_limited(aster::log_level::error, "report export", "export failed: " + why);
/// @endcode
namespace detail {

// The seconds and counts log_limited keeps per kind; reset() forgets them (for tests that
// check what one request logs).
class log_limits {
public:
    static log_limits& instance() {
        static log_limits limits;
        return limits;
    }
    // True when a line of `kind` may go out now; `dropped` then says how many did not.
    bool admit(const char* kind, std::size_t& dropped) {
        const std::time_t now = std::time(nullptr);
        std::lock_guard lock(mutex_);
        auto it = std::find_if(kinds_.begin(), kinds_.end(),
                               [&](const entry& e) { return e.kind == kind; });
        if (it == kinds_.end()) {
            kinds_.push_back({kind, now, 0});
            return true;
        }
        if (it->second == now) {
            ++it->dropped;
            return false;
        }
        dropped = std::exchange(it->dropped, 0);
        it->second = now;
        return true;
    }
    void reset() {
        std::lock_guard lock(mutex_);
        kinds_.clear();
    }

private:
    struct entry {
        const char* kind;
        std::time_t second;
        std::size_t dropped;
    };
    std::mutex mutex_;
    std::vector<entry> kinds_;
};

} // namespace detail

inline void log_limited(log_level level, const char* kind, std::string_view line) {
    if (!log_enabled(level)) return;
    std::size_t dropped = 0;
    if (!detail::log_limits::instance().admit(kind, dropped)) return;
    if (dropped == 0) return log(level, line);
    log(level, std::string(line) + " (" + std::to_string(dropped) +
                   " more like it in the last second(s) not logged)");
}

} // namespace aster

#endif // ASTER_LOG_HPP
// end aster/log.hpp
// begin aster/redis.hpp
// SPDX-License-Identifier: MIT
// The Redis broker's settings, for topics shared by processes and machines; plain data, so it
// costs nothing without hiredis.
#ifndef ASTER_REDIS_HPP
#define ASTER_REDIS_HPP


#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aster {

/// `server_config::broker = aster::redis_broker{"redis://127.0.0.1:6379/0"}` (or `--redis URL`):
/// every process with the same Redis and channel prefix shares its topics through Redis
/// pub/sub. Needs a build with ASTER_HAS_REDIS (CMake ASTER_REDIS=ON, meson -Dredis=enabled;
/// hiredis); without it, a server given a broker throws. No TLS to Redis (hiredis 0.14 has
/// none): keep Redis on a trusted network. See docs/topics.md.
struct redis_broker {
    // redis://[user:password@]host[:port][/db]; host is an IP address or a name.
    std::string url = "redis://127.0.0.1:6379/0";
    // Topic "t" is the Redis channel prefix + "t": several apps may share one Redis.
    std::string channel_prefix = "aster:";
    // Publishes made while Redis is unreachable wait for it up to this many bytes; beyond,
    // they are dropped (counted in topic_stats::broker_dropped). Local delivery goes on.
    std::size_t max_queued_bytes = 8 * 1024 * 1024;
    // Reconnecting: the first retry after `retry_min`, doubling up to `retry_max`.
    std::chrono::milliseconds retry_min{100};
    std::chrono::milliseconds retry_max{5000};
    std::chrono::milliseconds connect_timeout{2000};
};

/// A redis:// URL taken apart.
struct redis_address {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string username, password;
    unsigned db = 0;

    /// Throws std::invalid_argument naming what is wrong.
    static redis_address parse(std::string_view url) {
        constexpr std::string_view scheme = "redis://";
        if (url.substr(0, scheme.size()) != scheme)
            throw std::invalid_argument("redis URL must start with redis:// (not rediss://: no "
                                        "TLS to Redis): " +
                                        std::string(url));
        redis_address a;
        std::string_view rest = url.substr(scheme.size());
        if (auto at = rest.rfind('@'); at != std::string_view::npos) {
            std::string_view auth = rest.substr(0, at);
            rest = rest.substr(at + 1);
            if (auto colon = auth.find(':'); colon != std::string_view::npos) {
                a.username = std::string(auth.substr(0, colon));
                a.password = std::string(auth.substr(colon + 1));
            } else {
                a.password = std::string(auth); // redis://secret@host: a password only
            }
        }
        std::string_view path;
        if (auto slash = rest.find('/'); slash != std::string_view::npos) {
            path = rest.substr(slash + 1);
            rest = rest.substr(0, slash);
        }
        auto number = [&](std::string_view text, unsigned long max, const char* what) {
            unsigned long v = 0;
            if (text.empty() || text.size() > 10)
                throw std::invalid_argument(std::string("redis URL: bad ") + what + ": " +
                                            std::string(url));
            for (char c : text) {
                if (c < '0' || c > '9')
                    throw std::invalid_argument(std::string("redis URL: bad ") + what + ": " +
                                                std::string(url));
                v = v * 10 + unsigned(c - '0');
            }
            if (v > max)
                throw std::invalid_argument(std::string("redis URL: bad ") + what + ": " +
                                            std::string(url));
            return v;
        };
        if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
            a.port = std::uint16_t(number(rest.substr(colon + 1), 65535, "port"));
            rest = rest.substr(0, colon);
        }
        if (rest.empty()) throw std::invalid_argument("redis URL: no host: " + std::string(url));
        a.host = std::string(rest);
        if (!path.empty()) a.db = unsigned(number(path, 1u << 20, "database number"));
        return a;
    }
};

} // namespace aster

#endif // ASTER_REDIS_HPP
// end aster/redis.hpp
// begin aster/tls.hpp
// SPDX-License-Identifier: MIT
// TLS settings for serving https and wss; plain data, so it costs nothing without OpenSSL.
#ifndef ASTER_TLS_HPP
#define ASTER_TLS_HPP


#include <string>

namespace aster {

/// The certificate and key a server presents when `server_config::tls` is set. HTTP and
/// WebSocket routes then answer over TLS (https, wss) on the same port, through the same
/// connection code. TLS 1.2 is the minimum; ciphers are OpenSSL's defaults.
/// Serving TLS needs a build with ASTER_HAS_TLS (CMake `aster::tls` or `aster::compiled`
/// when OpenSSL was found, meson `aster_tls_dep`); without it, `server::listen()` throws.
/// @code
/// app.run({.port = 8443, .tls = aster::tls_options{.certificate_chain_file = "cert.pem",
///                                                  .private_key_file = "key.pem"}});
/// @endcode
struct tls_options {
    std::string certificate_chain_file; // PEM: the server's certificate, then intermediates
    std::string private_key_file;       // PEM, unencrypted (a server restarts unattended)
};

} // namespace aster

#endif // ASTER_TLS_HPP
// end aster/tls.hpp

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aster {

/// A transfer in progress (a request body, a WebSocket message, a response or send queue being
/// written) must move at least `bytes_per_second` on average over each `window`: a peer that
/// trickles, or stops reading, cannot hold the connection's buffers for ever. A large upload
/// or download at a steady pace is not cut, however long it takes. Checked about once a
/// second by the server; 0 bytes per second turns the check off.
struct transfer_rate {
    std::size_t bytes_per_second = 240; // Kestrel's default minimum data rate
    std::chrono::milliseconds window{20000};
};

/// What one connection accepts before answering with an error status.
struct http_limits {
    std::size_t max_header_bytes = 16 * 1024;     // request line + headers; beyond: 431
    std::size_t max_url_bytes = 8 * 1024;         // request-target; beyond: 414
    std::size_t max_body_bytes = 8 * 1024 * 1024; // whole body, chunked or not; beyond: 413
    std::size_t max_headers = 100;                // header count; beyond: 431
    // Time to receive a whole request head, from its first byte (or from the connection's
    // start): beyond it, 408 and close. Bounds slowloris clients.
    std::chrono::milliseconds header_timeout{10000};
    // Longest silence while a body is arriving: beyond it, 408 and close.
    std::chrono::milliseconds body_timeout{30000};
    // Longest silence between requests on a kept-alive connection: beyond it, a quiet close.
    std::chrono::milliseconds keep_alive_timeout{5000};
    // A body (or its trailers) arriving slower than this: 408 and close.
    transfer_rate min_receive_rate{};
    // A response written slower than this (the client does not read it): the connection closes.
    transfer_rate min_send_rate{};
};

/// permessage-deflate (RFC 7692): what aster accepts when a client offers compression. It takes
/// effect only when zlib is present (ASTER_HAS_ZLIB); without zlib offers are declined.
/// Memory, per connection that uses compression (measured; allocated on the first compressed
/// message each way, so idle and uncompressed connections pay nothing):
///   compressor   (1 << (server_max_window_bits + 2)) + (1 << (mem_level + 9)) + 5.8 KiB
///   decompressor (1 << window) + 7 KiB, window = the client's negotiated bits (15 when the
///                client does not let the server choose)
/// The defaults (12, 12, 5) give 48.8 KiB; zlib's usual (15, 15, 8) 300.8 KiB. The README's
/// WebSockets section has the details.
struct websocket_deflate_options {
    bool enabled = true; // negotiate when offered (browsers and Python's websockets offer it)
    // Our compressor's window, 9..15 (zlib has no raw 8-bit window, so an offer that demands
    // server_max_window_bits=8 is declined). 12 (4 KiB) keeps most of the gain at an eighth of
    // the memory of 15, as Python's websockets chooses.
    int server_max_window_bits = 12;
    // The window asked of a client that lets the server choose (it sent client_max_window_bits),
    // 9..15: our decompressor's window.
    int client_max_window_bits = 12;
    // Reset our compressor after every message (worse ratio, no state carried between
    // messages). Also agreed whenever the client asks for it.
    bool server_no_context_takeover = false;
    // Ask the client to reset its compressor after every message; our decompressor then resets.
    bool client_no_context_takeover = false;
    int mem_level = 5; // zlib memLevel 1..9: the compressor's hash tables, 1 << (mem_level + 9)
    int level = 6;     // zlib compression level 1..9 (6: zlib's default trade-off)
    // Messages shorter than this are sent uncompressed: deflate saves nothing on a few bytes.
    std::size_t min_compress_bytes = 64;
};

/// What a subscriber whose send queue is past websocket_options::max_topic_queue_bytes gets
/// from a publish: closed with 1013 (try again later; the default: a reader that cannot keep
/// up hears so and may reconnect), the message dropped (and counted), or an awaiting
/// publisher on the subscriber's loop waits until it has room, up to publish_options'
/// wait_timeout (then the message is dropped for it).
enum class backpressure : std::uint8_t { close, drop, wait };

/// WebSocket limits and timing, per connection.
struct websocket_options {
    std::size_t max_message_bytes = 16 * 1024 * 1024; // whole message; beyond: close 1009
    // Bytes queued for a slow reader. A send that finds more than this queued waits until the
    // queue drains below it (backpressure), so memory per connection stays bounded.
    std::size_t max_send_queue_bytes = 16 * 1024 * 1024 + 64 * 1024;
    std::chrono::milliseconds close_timeout{5000}; // wait this long for the peer's close reply
    // Keep-alive: ping every ping_interval; a peer that does not answer within ping_timeout is
    // closed with 1011, so a vanished peer does not hold its connection for ever. 20 s each, as
    // uvicorn and Python's websockets; 0 turns pings off. Pongs are read while the handler
    // receives, as endpoints always do.
    std::chrono::milliseconds ping_interval{20000};
    std::chrono::milliseconds ping_timeout{20000};
    // A message arriving slower than this (counted from its first byte to its last), or a send
    // queue drained slower (the peer does not read): closed with 1008.
    transfer_rate min_receive_rate{};
    transfer_rate min_send_rate{};
    // Compression, when zlib is present and the client offers it. max_message_bytes bounds the
    // decompressed size (a zip bomb is closed with 1009 as soon as it inflates past it).
    websocket_deflate_options deflate{};
    // Topics (websocket::subscribe): a subscriber with more than this queued and unsent is
    // treated by `topic_backpressure`, unless it chose a policy when it subscribed. Topic
    // frames are shared, not copied, so this bounds what one slow reader makes the server keep.
    std::size_t max_topic_queue_bytes = 1024 * 1024;
    backpressure topic_backpressure = backpressure::close;
};

/// `app.run({.host = "0.0.0.0", .port = 8080})`.
struct server_config {
    std::string host = "127.0.0.1"; // loopback unless asked: safe default for a dev server
    std::uint16_t port = 8000;      // 0 picks a free port; see server::port()
    // Event loops, one per thread, each with its own acceptor; 0 (the default): one per core.
    unsigned threads = 0;
    http_limits limits{};
    websocket_options websocket{};
    bool handle_signals = true; // SIGINT/SIGTERM stop the server, gracefully
    // A graceful stop lets requests in flight finish and closes WebSockets with 1001; whatever
    // is still open after this long is cut.
    std::chrono::milliseconds shutdown_timeout{10000};
    // Open connections across all loops. One more is answered `503 Service Unavailable` and
    // closed at once, so a flood cannot exhaust file descriptors or memory.
    std::size_t max_connections = 10000;
    // Open connections from one client address; one more gets 503 at once. 0 (the default):
    // no limit, since behind a proxy or NAT every client shares one address. Without a proxy
    // it stops one host from taking all of max_connections.
    std::size_t max_connections_per_client = 0;
    // Bytes all connections together may hold for large request bodies and WebSocket messages
    // (those that need more than a pooled 64 KiB buffer). One that would pass it is refused:
    // HTTP 503 before its body is read, WebSocket close 1013 (try again later).
    std::size_t memory_budget = std::size_t(1) << 30;
    // Set: serve https and wss only, on this port (see tls.hpp).
    std::optional<tls_options> tls{};
    // Set: topics are shared with every process using the same Redis (see redis.hpp).
    std::optional<redis_broker> broker{};
    // Logging, set on aster's logger when the server starts: one line per request and per
    // WebSocket session, as uvicorn writes them (on by default; off for benchmarks), the level
    // (unset: left as logger() has it), and a UTC timestamp in front of each line.
    bool access_log = true;
    std::optional<aster::log_level> log_level{};
    bool log_timestamps = false;
    // Share the port with other processes that ask for it too (SO_REUSEPORT), for restarts
    // without downtime. Off: a port another process listens on is refused ("address already in
    // use"), so two servers never split one port's requests by accident.
    bool reuse_port = false;

    /// The command line of a server program: `--host H`, `--port P` (also `--port=P`),
    /// `--threads N`, `--shutdown-timeout MS`, `--tls-cert FILE --tls-key FILE`,
    /// `--no-access-log`, `--log-level LEVEL`, `--log-timestamps`, `--redis URL`,
    /// `--reuse-port`. `--help`
    /// prints usage() and exits with 0; a bad flag prints why, and the usage, to stderr and
    /// exits with 2.
    static server_config from_args(int argc, char** argv);
    static server_config from_args(int argc, char** argv, server_config defaults);
    /// The same, for programs that handle errors themselves: throws std::invalid_argument
    /// naming a bad flag, and aster::help_requested (whose what() is the usage) for `--help`.
    static server_config parse_args(int argc, char** argv);
    static server_config parse_args(int argc, char** argv, server_config defaults);
    /// The flags above, one per line, for `program`.
    static std::string usage(std::string_view program);
};

/// parse_args() met `-h` or `--help`; what() is the usage text.
class help_requested : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

} // namespace aster

// begin aster/impl/command_line.hpp
// SPDX-License-Identifier: MIT
// Bodies of server_config's command line: from_args, parse_args, usage.
#ifndef ASTER_IMPL_COMMAND_LINE_HPP
#define ASTER_IMPL_COMMAND_LINE_HPP


#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aster {

inline std::string server_config::usage(std::string_view program) {
    return "usage: " + std::string(program) +
           " [options]\n"
           "  --host HOST              address to listen on (default 127.0.0.1)\n"
           "  --port PORT              port to listen on, 0 for any free one (default 8000)\n"
           "  --threads N              event loops, one per thread; 0: one per core (default)\n"
           "  --shutdown-timeout MS    on SIGINT/SIGTERM, cut what is still open after MS\n"
           "  --tls-cert FILE          serve https and wss with this certificate chain (PEM)...\n"
           "  --tls-key FILE           ...and this private key (PEM)\n"
           "  --no-access-log          no line per request and per WebSocket session\n"
           "  --log-level LEVEL        debug, info (default), warning, error or off\n"
           "  --log-timestamps         a UTC timestamp at the start of each log line\n"
           "  --redis URL              share topics through Redis: "
           "redis://[user:pass@]host[:port][/db]\n"
           "  --reuse-port             share the port with other processes (restarts without\n"
           "                           downtime); otherwise a port in use is refused\n"
           "  -h, --help               this text\n";
}

inline server_config server_config::parse_args(int argc, char** argv, server_config config) {
    auto number = [](std::string_view flag, std::string_view text, unsigned long max) {
        unsigned long value = 0;
        if (text.empty()) throw std::invalid_argument(std::string(flag) + " needs a number");
        for (char c : text) {
            if (c < '0' || c > '9' || value > max)
                throw std::invalid_argument(std::string(flag) +
                                            ": not a number: " + std::string(text));
            value = value * 10 + unsigned(c - '0');
        }
        if (value > max)
            throw std::invalid_argument(std::string(flag) + ": out of range: " + std::string(text));
        return value;
    };
    auto file = [](std::string_view flag, std::string_view text) {
        if (text.empty()) throw std::invalid_argument(std::string(flag) + " needs a file name");
        return std::string(text);
    };
    auto level = [](std::string_view text) {
        constexpr std::string_view names[] = {"debug", "info", "warning", "error", "off"};
        for (int i = 0; i < 5; ++i)
            if (text == names[i]) return aster::log_level(i);
        throw std::invalid_argument("--log-level: one of debug, info, warning, error, off, not '" +
                                    std::string(text) + "'");
    };
    const std::string_view program = argc > 0 ? argv[0] : "server";
    std::string cert, key;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i], value;
        auto eq = arg.find('=');
        const bool takes_value = [&] {
            for (std::string_view f : {"--host", "--port", "--threads", "--shutdown-timeout",
                                       "--tls-cert", "--tls-key", "--log-level", "--redis"})
                if (arg.substr(0, eq) == f) return true;
            return false;
        }();
        if (eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        } else if (takes_value && i + 1 < argc) {
            value = argv[++i];
        }
        if (arg == "-h" || arg == "--help") throw help_requested(usage(program));
        else if (arg == "--host") config.host = std::string(value);
        else if (arg == "--port") config.port = std::uint16_t(number(arg, value, 65535));
        else if (arg == "--threads") config.threads = unsigned(number(arg, value, 1024));
        else if (arg == "--shutdown-timeout")
            config.shutdown_timeout = std::chrono::milliseconds(number(arg, value, 86'400'000));
        else if (arg == "--tls-cert") cert = file(arg, value);
        else if (arg == "--tls-key") key = file(arg, value);
        else if (arg == "--log-level") config.log_level = level(value);
        else if (arg == "--redis") {
            redis_address::parse(value); // a bad URL fails here, naming what is wrong
            config.broker = redis_broker{.url = std::string(value)};
        } else if (arg == "--no-access-log" && eq == std::string_view::npos)
            config.access_log = false;
        else if (arg == "--log-timestamps" && eq == std::string_view::npos)
            config.log_timestamps = true;
        else if (arg == "--reuse-port" && eq == std::string_view::npos) config.reuse_port = true;
        else
            throw std::invalid_argument("unknown option: " + std::string(argv[i]) +
                                        " (--help lists the options)");
    }
    if (cert.empty() != key.empty())
        throw std::invalid_argument("--tls-cert and --tls-key go together");
    if (!cert.empty()) config.tls = tls_options{std::move(cert), std::move(key)};
    return config;
}

inline server_config server_config::parse_args(int argc, char** argv) {
    return parse_args(argc, argv, server_config{});
}

inline server_config server_config::from_args(int argc, char** argv) {
    return from_args(argc, argv, server_config{});
}

inline server_config server_config::from_args(int argc, char** argv, server_config config) {
    const std::string program = argc > 0 ? argv[0] : "server";
    try {
        return parse_args(argc, argv, std::move(config));
    } catch (const help_requested& help) {
        std::fputs(help.what(), stdout);
        std::exit(0);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "%s: %s\n%s", program.c_str(), e.what(), usage(program).c_str());
        std::exit(2);
    }
}

} // namespace aster

#endif // ASTER_IMPL_COMMAND_LINE_HPP
// end aster/impl/command_line.hpp

#endif // ASTER_OPTIONS_HPP
// end aster/options.hpp

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aster {

struct publish_options {
    bool binary = false;    // a binary message; text by default
    bool to_sender = false; // a websocket's own publish skips it unless this is set
    // How long `co_await publish` waits for each subscriber under backpressure::wait.
    std::chrono::milliseconds wait_timeout{1000};
};

/// Topic counts of a server or test_client, over all its loops (a snapshot).
struct topic_stats {
    std::size_t topics = 0;        // topics with a subscriber, counted once per loop that has one
    std::size_t subscriptions = 0; // (connection, topic) pairs
    // Since the start: publishes, messages queued to subscribers, and messages a subscriber
    // did not get (dropped under backpressure, or it was closed with 1013).
    std::size_t published = 0, delivered = 0, dropped = 0;
    std::size_t waiting = 0; // publishers waiting now for a subscriber's room (backpressure::wait)
    std::size_t broker_dropped = 0; // publishes not sent to Redis: it was away, the queue full
    bool broker_connected = false;  // the Redis link is up (false without one)
};

/// A topic name is 1 to 256 bytes with no control characters (bytes below 0x20, and 0x7f).
inline constexpr std::size_t max_topic_name_bytes = 256;

/// Throws std::invalid_argument, naming the problem, when `topic` is not a valid topic name.
inline void check_topic_name(std::string_view topic) {
    if (topic.empty()) throw std::invalid_argument("aster topics: a topic name may not be empty");
    if (topic.size() > max_topic_name_bytes)
        throw std::invalid_argument("aster topics: a topic name has at most " +
                                    std::to_string(max_topic_name_bytes) + " bytes, not " +
                                    std::to_string(topic.size()));
    for (char c : topic)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            throw std::invalid_argument("aster topics: a topic name may not hold control "
                                        "characters");
}

namespace detail {
class topic_subscriber;

/// Every loop's topics of one server or test_client: publishes from any thread, at once.
class topic_hub_interface {
public:
    virtual void publish_anywhere(std::string_view topic, std::string_view message,
                                  const publish_options& options) = 0;
    virtual topic_stats stats() const noexcept = 0;

protected:
    ~topic_hub_interface() = default;
};

/// Where a request or a websocket publishes: the topics of its connection's event loop.
class topic_publisher {
public:
    /// Delivers to this loop's subscribers now and hands the message to every other loop.
    /// Waits only for subscribers under backpressure::wait on this loop.
    virtual task<> publish(std::string_view topic, std::string_view message,
                           const publish_options& options, const topic_subscriber* sender) = 0;
    virtual topic_hub_interface& hub() noexcept = 0;

protected:
    ~topic_publisher() = default;
};
} // namespace detail

/// The topics of one server or test_client, as a value to keep: `publish` may be called from
/// any thread, also from a plain function, and returns at once (a subscriber under
/// backpressure::wait that has no room drops the message, counted). Valid while its owner is.
class topics {
public:
    topics() = default;
    explicit topics(detail::topic_hub_interface* hub) noexcept : hub_(hub) {}

    void publish(std::string_view topic, std::string_view message,
                 const publish_options& options = {}) const {
        if (!hub_) throw std::logic_error("aster::topics: not attached to a server or test_client");
        hub_->publish_anywhere(topic, message, options);
    }
    /// Counts over every loop; from any thread.
    topic_stats stats() const noexcept { return hub_ ? hub_->stats() : topic_stats{}; }
    explicit operator bool() const noexcept { return hub_ != nullptr; }

private:
    detail::topic_hub_interface* hub_ = nullptr;
};

} // namespace aster

#endif // ASTER_TOPICS_HPP
// end aster/topics.hpp

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#ifdef ASTER_HAS_JSON
#include <nlohmann/json_fwd.hpp> // declarations only: JSON costs nothing until used
#endif

namespace aster {

namespace detail {
/// One address per type, without RTTI: what request::state<T>() checks its type against.
template <class T>
inline constexpr char type_tag = 0;

struct request_access;
struct metrics_registry;

/// Where a streamed body comes from: the connection, which reads it as the handler asks.
class body_source {
public:
    /// The next piece, valid until the next call; empty once the body has ended. Throws
    /// http_exception (400, 408, 413) when the body breaks a rule, client_disconnect when the
    /// client goes away.
    virtual task<std::string_view> read_some() = 0;

protected:
    ~body_source() = default;
};
} // namespace detail

class form_data;    // <aster/forms.hpp>
struct form_limits; // <aster/forms.hpp>

/// The peer's address: "127.0.0.1" and its port, or "testclient" and 50000 under test_client.
struct client_address {
    std::string host;
    std::uint16_t port = 0;
};

/// A path parameter as matched, before conversion: `{id:int}` on `/users/42` gives {"id", "42"}.
struct path_parameter {
    std::string_view name;
    std::string_view value;
};

/// One HTTP request. It lives in its connection and is reused for the next request, so keep no
/// reference to it, or to the views it hands out, after the handler returns.
/// Thread safety: used only by the connection's coroutine.
class request {
public:
    static constexpr std::size_t max_path_params = 16;

    std::string_view method() const noexcept { return method_name_; }
    aster::method method_id() const noexcept { return method_id_; }
    /// The request-target exactly as sent, e.g. `/search?q=a%20b`.
    std::string_view target() const noexcept { return target_; }
    /// The path, percent-decoded; routes match against this.
    std::string_view path() const noexcept { return path_; }
    /// The path as sent, before decoding.
    std::string_view raw_path() const noexcept { return raw_path_; }
    /// The raw query string, without `?`.
    std::string_view query_string() const noexcept { return query_; }
    /// Decoded, multi-valued query parameters, parsed on first use.
    const aster::query_params& query_params() const {
        if (!query_params_) query_params_.emplace(query_);
        return *query_params_;
    }

    const aster::headers& headers() const noexcept { return headers_; }
    std::optional<std::string_view> header(std::string_view name) const noexcept {
        return headers_.get(name);
    }
    /// Cookies from every `Cookie` header, in order.
    std::vector<std::pair<std::string_view, std::string_view>> cookies() const {
        std::vector<std::pair<std::string_view, std::string_view>> out;
        for (const auto& f : headers_)
            if (iequals(f.name, "cookie"))
                for (auto c : parse_cookie_header(f.value)) out.push_back(c);
        return out;
    }
    std::optional<std::string_view> cookie(std::string_view name) const {
        for (auto [n, v] : cookies())
            if (n == name) return v;
        return std::nullopt;
    }

    /// Sends `message` to every WebSocket subscribed to `topic`, on every event loop of the
    /// server or test_client serving this request (websocket::publish, from HTTP).
    task<> publish(std::string_view topic, std::string_view message,
                   const publish_options& options = {}) const {
        return publisher().publish(topic, message, options, nullptr);
    }
#ifdef ASTER_HAS_JSON
    /// publish() of `value` as compact JSON text.
    template <class Json = nlohmann::json>
    task<> publish_json(std::string_view topic, const Json& value,
                        publish_options options = {}) const {
        options.binary = false;
        std::string text = value.dump();
        co_await publisher().publish(topic, text, options, nullptr);
    }
#endif
    /// The server's topics, to keep and publish from a plain function or another thread.
    aster::topics topics() const { return aster::topics(&publisher().hub()); }

    /// The next piece of the body as it arrives (Starlette's `request.stream()`): a view valid
    /// until the next call, empty once the body has ended; chunked bodies come dechunked. A
    /// coroutine route whose body is large (over 64 KiB) or still arriving gets it this way
    /// straight from the connection's read buffer, so memory stays bounded whatever the size;
    /// otherwise the whole buffered body comes as one piece. `max_body_bytes` bounds either.
    /// Throws http_exception 413 past that limit (400 for broken chunked framing, 408 when the
    /// client stalls past `body_timeout`) and client_disconnect when the client goes away. A
    /// body the handler leaves unread is drained (up to 256 KiB) or the connection closes.
    /// Const like body(): reading changes what is left to read, not what the request says.
    /// @code
    /// std::size_t total = 0;
    /// for (auto p = co_await req.read_some(); !p.empty(); p = co_await req.read_some())
    ///     total += p.size(); // or write it to a file, hash it, forward it...
    /// @endcode
    task<std::string_view> read_some() const {
        if (body_done_) co_return std::string_view();
        std::string_view piece;
        if (source_) {
            piece = co_await source_->read_some();
        } else {
            body_done_ = true; // buffered: the whole body is the one piece
            piece = *body_;
        }
        if (piece.empty()) body_done_ = true;
        else body_taken_ = true;
        co_return piece;
    }
    /// The whole body, at most the server's `max_body_bytes` (413 beyond). Read a body one way:
    /// after read_some() has handed out part of it, body() (and json(), form()) throws
    /// std::logic_error; read_some() after body() gives the whole body once, as Starlette.
    task<std::string_view> body() const {
        if (body_taken_)
            throw std::logic_error(
                "aster::request::body(): read_some() already consumed part of the body; read it "
                "whole (body, json, form) or in pieces, not both");
        if (source_) {
            collected_->clear();
            for (auto piece = co_await source_->read_some(); !piece.empty();
                 piece = co_await source_->read_some())
                collected_->append(piece);
            source_ = nullptr;
            body_ = collected_;
            body_done_ = false; // read_some() now gives the gathered body once
        }
        co_return std::string_view(*body_);
    }
    /// The same bytes without a coroutine, for plain (non-coroutine) handlers, which always get
    /// the whole body. Empty while a coroutine route's body streams: use body() there.
    std::string_view buffered_body() const noexcept { return *body_; }

#ifdef ASTER_HAS_JSON
    /// The body parsed as JSON (include <aster/json.hpp> or <nlohmann/json.hpp> to use it).
    /// A body that is not JSON (empty included) throws http_exception 400 naming the error.
    template <class Json = nlohmann::json>
    task<Json> json() const {
        static_assert(
            requires { Json::parse(std::string_view{}); },
            "aster::request::json(): include <aster/json.hpp> (nlohmann/json)");
        auto text = co_await body();
        try {
            co_return Json::parse(text);
        } catch (const std::exception& e) {
            throw http_exception(status::bad_request,
                                 std::string("Malformed JSON body: ") + e.what());
        }
    }
#endif

    /// The body as a form, by its Content-Type: urlencoded or multipart/form-data (empty for
    /// any other type, as Starlette). Defined in <aster/forms.hpp>; see form_limits there.
    inline task<form_data> form() const;
    inline task<form_data> form(form_limits limits) const;

    const client_address& client() const noexcept { return *client_; }

    std::span<const path_parameter> path_params() const noexcept {
        return {path_params_.data(), path_param_count_};
    }
    /// The raw value of path parameter `name` of the matched route. A name the route's pattern
    /// does not have (a typo) throws std::invalid_argument naming it and the pattern.
    std::string_view path_param(std::string_view name) const {
        for (const auto& p : path_params())
            if (p.name == name) return p.value;
        throw_no_path_param(name);
    }
    /// The pattern of the route that matched (`/users/{id:int}`); empty before routing.
    std::string_view route_pattern() const noexcept { return route_pattern_; }

    /// The URL scheme, as Starlette's `request.url.scheme`: "https" when the connection came in
    /// over TLS, else "http"; for a WebSocket handshake (`ws.request()`, a middleware's
    /// `on_websocket`) "wss" or "ws".
    std::string_view scheme() const noexcept {
        if (websocket_) return secure_ ? "wss" : "ws";
        return secure_ ? "https" : "http";
    }
    /// True over TLS (https, wss), as Starlette's `url.is_secure`.
    bool is_secure() const noexcept { return secure_; }
    /// True for a WebSocket handshake (`Upgrade: websocket`).
    bool is_websocket() const noexcept { return websocket_; }

    /// The path of the app's route named `name`, with one value per path parameter in the
    /// pattern's order (numbers, strings or aster::uuid), as Starlette's `url_path_for`; the
    /// name is looked up at run time. Mounted routes keep their own names. Throws
    /// aster::no_match_found naming the route when the name, the count or a value does not fit.
    /// (`app.url_path_for<"name">(...)` checks the same when the file compiles.)
    /// @code
    /// req.url_path_for("user", 7);    // "/users/7"
    /// req.url_for("user", 7);         // "http://testserver/users/7"
    /// @endcode
    template <class... Params>
    std::string url_path_for(std::string_view name, const Params&... params) const {
        return reverse(name, nullptr, params...);
    }
    /// The absolute URL of the route named `name`: this request's scheme and Host, with `ws` or
    /// `wss` for a WebSocket route. Throws no_match_found as url_path_for, and std::runtime_error
    /// for a request without Host (HTTP/1.0 may omit it).
    template <class... Params>
    std::string url_for(std::string_view name, const Params&... params) const {
        bool websocket = false;
        std::string path = reverse(name, &websocket, params...);
        return absolute_url(path, websocket);
    }

    int version_major() const noexcept { return version_major_; }
    int version_minor() const noexcept { return version_minor_; }
    bool keep_alive() const noexcept { return keep_alive_; }

    /// The app's state (`aster::lifespan{.state = aster::state_of(object)}`, see lifespan.hpp),
    /// shared by every request; throws std::logic_error when the app has no state of type T.
    template <class T>
    T& state() const {
        if (state_ == nullptr || state_type_ != &detail::type_tag<T>)
            throw std::logic_error(
                "aster: request::state<T>(): the app has no state of this type "
                "(give it as aster::lifespan{.state = aster::state_of(object)})");
        return *static_cast<T*>(state_);
    }

private:
    friend struct detail::request_access;

    template <class... Params>
    std::string reverse(std::string_view name, bool* websocket, const Params&... params) const {
        std::array<std::string, sizeof...(Params)> values;
        std::size_t i = 0;
        (detail::append_path_text(values[i++], params), ...);
        (void)i;
        if (!routes_.reverse) // a request made outside an app (a unit test of a handler)
            throw no_match_found("aster: no route exists for name \"" + std::string(name) + "\"");
        return routes_.reverse(routes_, name, values, websocket);
    }
    std::string absolute_url(std::string_view path, bool websocket) const {
        auto host = header("host");
        if (!host || host->empty())
            throw std::runtime_error("aster::request::url_for: the request has no Host header "
                                     "to build an absolute URL from");
        std::string out(websocket ? (secure_ ? "wss" : "ws") : (secure_ ? "https" : "http"));
        out.append("://").append(*host).append(path);
        return out;
    }

    std::string_view method_name_;
    aster::method method_id_ = aster::method::get;
    std::string_view target_, raw_path_, path_, query_;
    aster::headers headers_;
    mutable std::optional<aster::query_params> query_params_;
    mutable const std::string* body_ = nullptr;     // the whole body, once buffered
    mutable detail::body_source* source_ = nullptr; // set while the body is still streaming in
    std::string* collected_ = nullptr;              // where body() gathers a streamed body
    mutable bool body_taken_ = false, body_done_ = false; // what read_some() has handed out
    const client_address* client_ = nullptr;
    void* state_ = nullptr;
    const void* state_type_ = nullptr;
    detail::route_table routes_{}; // the app's, for url_path_for
    std::array<path_parameter, max_path_params> path_params_{};
    std::size_t path_param_count_ = 0;
    std::string_view route_pattern_, route_label_;
    const detail::metrics_registry* metrics_ = nullptr; // metrics_route reads it
    detail::topic_publisher* topics_ = nullptr;         // its connection's loop's topics

    detail::topic_publisher& publisher() const {
        if (!topics_)
            throw std::logic_error("aster::request: topics need a request served by a server or "
                                   "test_client");
        return *topics_;
    }

    [[noreturn]] void throw_no_path_param(std::string_view name) const {
        std::string known;
        for (const auto& p : path_params()) known.append(known.empty() ? "" : ", ").append(p.name);
        throw std::invalid_argument(
            "aster::request::path_param: " +
            (route_pattern_.empty()
                 ? std::string("no route has matched yet, so there is no '") + std::string(name) +
                       "'"
                 : "the route " + std::string(route_pattern_) + " has no parameter '" +
                       std::string(name) + "' (" +
                       (known.empty() ? std::string("it has none") : "it has: " + known) + ")"));
    }
    int version_major_ = 1, version_minor_ = 1;
    bool keep_alive_ = true;
    bool secure_ = false;    // per connection: set once when it starts
    bool websocket_ = false; // per request
};

} // namespace aster

#endif // ASTER_REQUEST_HPP
// end aster/request.hpp
// begin aster/response.hpp
// SPDX-License-Identifier: MIT
// `response`: status, headers and body (or a coroutine producing the body), plus the usual
// factories.
#ifndef ASTER_RESPONSE_HPP
#define ASTER_RESPONSE_HPP


#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

/// What a streaming response's producer writes its body through. Each `write` is one chunk on the
/// wire; an empty chunk is skipped (it would end a chunked body early).
class body_writer {
public:
    virtual task<> write(std::string_view chunk) = 0;

protected:
    ~body_writer() = default;
};

/// An HTTP response. Content-Length, Date and Connection are added when it is written.
/// @code
/// co_return aster::plain_text("created", aster::status::created).header("Location", "/items/7");
/// @endcode
class response {
public:
    using header_list = aster::header_list;
    using producer = std::function<task<>(body_writer&)>;
    using background_task = std::function<task<>()>;

    response() = default;
    explicit response(aster::status code) noexcept : status_(code) {}
    response(aster::status code, std::string body, std::string content_type = {})
        : status_(code), body_(std::move(body)), owned_type_(std::move(content_type)) {}

    aster::status status() const noexcept { return status_; }
    response& set_status(aster::status code) & noexcept { return status_ = code, *this; }
    response&& set_status(aster::status code) && noexcept { return std::move(set_status(code)); }

    const std::string& body() const noexcept { return body_; }
    response& set_body(std::string body) & { return body_ = std::move(body), *this; }
    response&& set_body(std::string body) && { return std::move(set_body(std::move(body))); }

    std::string_view content_type() const noexcept {
        return static_type_.empty() ? std::string_view(owned_type_) : static_type_;
    }
    response& set_content_type(std::string type) & {
        static_type_ = {};
        owned_type_ = std::move(type);
        return *this;
    }

    /// Appends a header. Names are kept as given; Content-Length and Date are the server's.
    /// Throws std::invalid_argument for a line break in either, which would split the response.
    response& header(std::string name, std::string value) & {
        check_header(name, value);
        headers_.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    response&& header(std::string name, std::string value) && {
        return std::move(header(std::move(name), std::move(value)));
    }
    /// Replaces every header called `name` (case-insensitively) with one value.
    response& set_header(std::string_view name, std::string value) &;
    /// Removes every header called `name` (case-insensitively).
    response& remove_header(std::string_view name) &;
    const header_list& headers() const noexcept { return headers_; }
    std::string_view header_value(std::string_view name) const noexcept;

    /// Adds `Set-Cookie: name=value; ...`, as Starlette's `set_cookie` (see cookie_options).
    /// @code
    /// r.set_cookie("sid", token, {.max_age = 3600, .secure = true, .httponly = true});
    /// @endcode
    response& set_cookie(std::string_view name, std::string_view value,
                         const cookie_options& options = {}) & {
        return header("Set-Cookie", format_set_cookie(name, value, options));
    }
    response&& set_cookie(std::string_view name, std::string_view value,
                          const cookie_options& options = {}) && {
        return std::move(set_cookie(name, value, options));
    }
    /// Asks the browser to drop `name`; path, domain, secure and samesite must match the ones
    /// it was set with.
    response& delete_cookie(std::string_view name, const cookie_options& options = {}) & {
        return header("Set-Cookie", format_delete_cookie(name, options));
    }
    response&& delete_cookie(std::string_view name, const cookie_options& options = {}) && {
        return std::move(delete_cookie(name, options));
    }

    /// Runs `task` after the whole response has been written (Starlette's BackgroundTask); tasks
    /// run in the order added, on the connection, before its next request is read. An exception
    /// from a task is logged and does not affect the response or the other tasks.
    /// @code
    /// co_return aster::plain_text("queued").background([id] { return send_mail(id); });
    /// @endcode
    response& background(background_task task) & {
        background_.push_back(std::move(task));
        return *this;
    }
    response&& background(background_task task) && {
        return std::move(background(std::move(task)));
    }
    const std::vector<background_task>& background_tasks() const noexcept { return background_; }
    std::vector<background_task> take_background_tasks() noexcept { return std::move(background_); }

    bool is_streaming() const noexcept { return static_cast<bool>(producer_); }
    const producer& body_producer() const noexcept { return producer_; }
    /// A streaming body of known size goes out with Content-Length instead of chunked; the
    /// producer must write exactly that many bytes: a write past it is not sent, and a body
    /// short of it or too long closes the connection. set_producer() clears it, so a
    /// middleware that wraps a producer (compressing, say) never inherits a length that is
    /// not the length of what it writes.
    std::optional<std::uint64_t> stream_length() const noexcept { return stream_length_; }
    response& set_stream_length(std::optional<std::uint64_t> n) & noexcept {
        return stream_length_ = n, *this;
    }

    /// Conditional GET (RFC 9110 §13): when set, the server answers a GET or HEAD whose
    /// If-None-Match matches this response's ETag (or, without If-None-Match, whose
    /// If-Modified-Since is not older than its Last-Modified) with 304 and no body. It is
    /// decided after every middleware ran, against the representation that would be sent (a
    /// compressed one has its own ETag). file_response sets it.
    bool is_conditional() const noexcept { return conditional_; }
    response& conditional(bool on = true) & noexcept { return conditional_ = on, *this; }
    response&& conditional(bool on = true) && noexcept { return std::move(conditional(on)); }

    // Used by the factories: a content type that is a string literal costs no allocation.
    static response with_static_type(aster::status code, std::string body, std::string_view type) {
        response r(code, std::move(body));
        r.static_type_ = type;
        return r;
    }
    /// Makes the body a stream written by `p`; clears stream_length().
    response& set_producer(producer p) & {
        producer_ = std::move(p);
        stream_length_.reset();
        return *this;
    }

private:
    static void check_header(std::string_view name, std::string_view value) {
        if (!valid_field_name(name) || !valid_field_value(value))
            throw std::invalid_argument(
                "aster::response: header '" + std::string(name) +
                "' has an invalid name or a control character in its value");
    }

    aster::status status_ = aster::status::ok;
    std::string body_;
    std::string_view static_type_;
    std::string owned_type_;
    header_list headers_;
    producer producer_;
    std::vector<background_task> background_;
    std::optional<std::uint64_t> stream_length_;
    bool conditional_ = false;
};

/// `text/plain; charset=utf-8`
inline response plain_text(std::string body, status code = status::ok) {
    return response::with_static_type(code, std::move(body), "text/plain; charset=utf-8");
}

/// `text/html; charset=utf-8`
inline response html(std::string body, status code = status::ok) {
    return response::with_static_type(code, std::move(body), "text/html; charset=utf-8");
}

/// An empty response with a Location header; 307 keeps the method, as Starlette's default.
inline response redirect(std::string location, status code = status::temporary_redirect) {
    response r(code);
    r.header("Location", std::move(location));
    return r;
}

/// A chunked response whose body `producer` writes piece by piece while the client reads.
/// @code
/// co_return aster::streaming([](aster::body_writer& out) -> aster::task<> {
///     for (int i = 0; i < 3; ++i) co_await out.write(std::to_string(i) + "\n");
/// });
/// @endcode
inline response streaming(response::producer producer,
                          std::string content_type = "text/plain; charset=utf-8",
                          status code = status::ok) {
    response r(code, {}, std::move(content_type));
    r.set_producer(std::move(producer));
    return r;
}

/// `application/json`: `value.dump()` of any JSON value with a `dump()` (nlohmann::json), compact
/// and UTF-8 as Starlette's JSONResponse; invalid UTF-8 in a string throws (500).
/// @code
/// co_return aster::json_response(nlohmann::json{{"id", 7}}, aster::status::created);
/// @endcode
template <class Json>
requires requires(const Json& j) {
    { j.dump() } -> std::convertible_to<std::string>;
}
response json_response(const Json& value, status code = status::ok) {
    return response::with_static_type(code, value.dump(), "application/json");
}

} // namespace aster

// begin aster/impl/response.hpp
// SPDX-License-Identifier: MIT
// Out-of-line members of aster::response.
#ifndef ASTER_IMPL_RESPONSE_HPP
#define ASTER_IMPL_RESPONSE_HPP


#include <algorithm>

namespace aster {

inline response& response::set_header(std::string_view name, std::string value) & {
    check_header(name, value);
    remove_header(name);
    headers_.emplace_back(std::string(name), std::move(value));
    return *this;
}

inline response& response::remove_header(std::string_view name) & {
    std::erase_if(headers_, [&](const auto& h) { return iequals(h.first, name); });
    return *this;
}

inline std::string_view response::header_value(std::string_view name) const noexcept {
    for (const auto& [n, v] : headers_)
        if (iequals(n, name)) return v;
    return {};
}

} // namespace aster

#endif // ASTER_IMPL_RESPONSE_HPP
// end aster/impl/response.hpp

#endif // ASTER_RESPONSE_HPP
// end aster/response.hpp
// begin aster/websocket.hpp
// SPDX-License-Identifier: MIT
// `websocket`: what a WebSocket handler sees: accept, receive, send and close, with a state
// machine.
#ifndef ASTER_WEBSOCKET_HPP
#define ASTER_WEBSOCKET_HPP


#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#ifdef ASTER_HAS_JSON
#include <nlohmann/json_fwd.hpp> // declarations only: JSON costs nothing until used
#endif

namespace aster {

/// How a websocket_endpoint wants its messages: text only, binary only, JSON, or either kind.
enum class encoding { text, bytes, json, any };

/// Where a connection is: handshake pending, open, or closed (by either side).
enum class websocket_state { connecting, connected, disconnected };

constexpr std::string_view to_string(websocket_state s) noexcept {
    switch (s) {
    case websocket_state::connecting:
        return "connecting";
    case websocket_state::connected:
        return "connected";
    case websocket_state::disconnected:
        return "disconnected";
    }
    return "unknown";
}

/// One whole message. `data` stays valid until the next receive on the same websocket.
struct websocket_message {
    bool text = true;
    std::string_view data;
};

class websocket;

namespace detail {
struct websocket_access;

// The protocol engine behind a websocket; implemented once per stream type.
class websocket_transport {
public:
    virtual task<> accept(std::string_view subprotocol, const header_list& headers) = 0;
    virtual task<> deny(response r) = 0;
    virtual task<websocket_message> receive() = 0;
    virtual task<> send(bool text, std::string_view payload) = 0;
    virtual task<> close(std::uint16_t code, std::string_view reason) = 0;
    virtual websocket_state state() const noexcept = 0;
    virtual bool accepted() const noexcept = 0;
    virtual std::uint16_t close_code() const noexcept = 0;
    // A handler failed: log it once and hand it to the test client, if one listens.
    virtual void report(std::exception_ptr error) = 0;
    virtual void subscribe(std::string_view topic, std::optional<backpressure> policy) = 0;
    virtual void unsubscribe(std::string_view topic) = 0;
    virtual std::span<const std::string> subscriptions() const noexcept = 0;
    virtual task<> publish(std::string_view topic, std::string_view message,
                           const publish_options& options) = 0;
    virtual aster::topics topics() noexcept = 0;

protected:
    ~websocket_transport() = default;
};
} // namespace detail

/// A WebSocket connection as its handler sees it (Starlette's `WebSocket`).
/// Call `accept` (or `close`/`deny` to refuse: the handshake then gets 403, or your response),
/// then `receive*` and `send_*`. After either side closes, `receive*` throws
/// `websocket_disconnect` with the close code; misuse throws `websocket_state_error`.
/// Thread safety: use it from its connection's executor (other connections' handlers on the
/// same thread may send to it, as a chat room does).
/// @code
/// aster::task<> echo(aster::websocket& ws) {
///     co_await ws.accept();
///     for (;;) co_await ws.send_text(co_await ws.receive_text());
/// }
/// @endcode
class websocket {
public:
    websocket(detail::websocket_transport& transport, aster::request& upgrade,
              std::vector<std::string_view> offered_subprotocols)
        : transport_(&transport), request_(&upgrade),
          subprotocols_(std::move(offered_subprotocols)) {}
    websocket(const websocket&) = delete;
    websocket& operator=(const websocket&) = delete;

    /// The upgrade request: path, query, headers, cookies, path parameters.
    const aster::request& request() const noexcept { return *request_; }
    /// Reverse routing as request::url_path_for and url_for (Starlette's `websocket.url_for`);
    /// url_for gives `ws://` or `wss://` for WebSocket routes, `http(s)://` for the others.
    template <class... Params>
    std::string url_path_for(std::string_view name, const Params&... params) const {
        return request_->url_path_for(name, params...);
    }
    template <class... Params>
    std::string url_for(std::string_view name, const Params&... params) const {
        return request_->url_for(name, params...);
    }
    /// The subprotocols the client offered, in its order of preference.
    std::span<const std::string_view> subprotocols() const noexcept { return subprotocols_; }
    websocket_state state() const noexcept { return transport_->state(); }
    /// True once `accept` ran, even after the connection closed.
    bool accepted() const noexcept { return transport_->accepted(); }
    /// The close code once disconnected: the peer's, or the one aster sent.
    std::uint16_t close_code() const noexcept { return transport_->close_code(); }

    /// Completes the handshake (101), choosing `subprotocol` (one the client offered, or none)
    /// and adding `headers` to the response.
    task<> accept(std::string_view subprotocol = {}, header_list headers = {}) {
        return transport_->accept(subprotocol, headers);
    }
    /// Refuses the handshake with an HTTP response of your own, before accept.
    task<> deny(response r) { return transport_->deny(std::move(r)); }

    task<> send_text(std::string_view text) { return transport_->send(true, text); }
    task<> send_bytes(std::string_view bytes) { return transport_->send(false, bytes); }

    /// The next message of either kind; its data is valid until the next receive.
    task<websocket_message> receive() { return transport_->receive(); }
    /// The next message, which must be text: a binary one closes the connection with 1003.
    task<std::string> receive_text() { return receive_kind(true); }
    /// The next message, which must be binary: a text one closes the connection with 1003.
    task<std::string> receive_bytes() { return receive_kind(false); }

#ifdef ASTER_HAS_JSON
    /// Sends `value` as a compact JSON text message. Include <nlohmann/json.hpp> to use it.
    template <class Json = nlohmann::json>
    task<> send_json(const Json& value) {
        co_await send_text(value.dump());
    }
    /// The next message (text, or binary holding UTF-8) parsed as JSON; malformed JSON closes
    /// the connection with 1003 and throws websocket_disconnect.
    template <class Json = nlohmann::json>
    task<Json> receive_json() {
        auto message = co_await transport_->receive();
        Json value = Json::parse(message.data, nullptr, false);
        if (value.is_discarded()) {
            co_await transport_->close(std::uint16_t(close_code::unsupported_data), {});
            throw websocket_disconnect(close_code::unsupported_data, "malformed JSON");
        }
        co_return value;
    }
#endif

    /// Starts the close handshake. Before accept, this refuses the handshake with 403.
    task<> close(std::uint16_t code = 1000, std::string_view reason = {}) {
        return transport_->close(code, reason);
    }
    task<> close(aster::close_code code, std::string_view reason = {}) {
        return transport_->close(std::uint16_t(code), reason);
    }

    /// Receives what is published to `topic` from now on (Starlette's broadcaster, built in).
    /// Past websocket_options::max_topic_queue_bytes of unsent output, a publish does what
    /// `policy` says; without one, websocket_options::topic_backpressure (close with 1013).
    /// Subscribing twice changes nothing. Throws std::invalid_argument for a bad topic name
    /// and websocket_state_error once the connection is closed. The connection leaves every
    /// topic when its handler (or on_disconnect) returns; a closing one receives nothing more.
    void subscribe(std::string_view topic) { transport_->subscribe(topic, std::nullopt); }
    void subscribe(std::string_view topic, backpressure policy) {
        transport_->subscribe(topic, policy);
    }
    void unsubscribe(std::string_view topic) { transport_->unsubscribe(topic); }
    /// The topics this connection is subscribed to, in the order it subscribed.
    std::span<const std::string> subscriptions() const noexcept {
        return transport_->subscriptions();
    }
    /// Sends `message` to every subscriber of `topic` on every event loop of the server, but
    /// not to this connection unless `options.to_sender`. Waits only when a subscriber on this
    /// loop is full under backpressure::wait. Delivery is at most once.
    task<> publish(std::string_view topic, std::string_view message,
                   const publish_options& options = {}) {
        return transport_->publish(topic, message, options);
    }
#ifdef ASTER_HAS_JSON
    /// publish() of `value` as compact JSON text.
    template <class Json = nlohmann::json>
    task<> publish_json(std::string_view topic, const Json& value, publish_options options = {}) {
        options.binary = false;
        std::string text = value.dump();
        co_await transport_->publish(topic, text, options);
    }
#endif
    /// The server's (or test_client's) topics, to publish from a plain function or a thread.
    aster::topics topics() noexcept { return transport_->topics(); }

private:
    friend struct detail::websocket_access;

    task<std::string> receive_kind(bool text) {
        auto message = co_await transport_->receive();
        if (message.text != text) {
            co_await transport_->close(std::uint16_t(close_code::unsupported_data), {});
            throw websocket_disconnect(close_code::unsupported_data,
                                       text ? "expected a text message, got binary"
                                            : "expected a binary message, got text");
        }
        co_return std::string(message.data);
    }

    detail::websocket_transport* transport_;
    aster::request* request_;
    std::vector<std::string_view> subprotocols_;
};

namespace detail {
struct websocket_access {
    static void report(websocket& ws, std::exception_ptr error) { ws.transport_->report(error); }
};
} // namespace detail

} // namespace aster

#endif // ASTER_WEBSOCKET_HPP
// end aster/websocket.hpp
// begin aster/endpoints.hpp
// SPDX-License-Identifier: MIT
// Class-based endpoints: `http_endpoint` with a member per method, found at compile time.
#ifndef ASTER_ENDPOINTS_HPP
#define ASTER_ENDPOINTS_HPP

// begin aster/detail/handler_call.hpp
// SPDX-License-Identifier: MIT
// Compile-time checks that a handler fits its route pattern, and the call that converts path
// values.
#ifndef ASTER_DETAIL_HANDLER_CALL_HPP
#define ASTER_DETAIL_HANDLER_CALL_HPP

// begin aster/detail/callable_traits.hpp
// SPDX-License-Identifier: MIT
// The return and parameter types of functions, lambdas and member functions, for signature checks.
#ifndef ASTER_DETAIL_CALLABLE_TRAITS_HPP
#define ASTER_DETAIL_CALLABLE_TRAITS_HPP


#include <cstddef>
#include <tuple>

namespace aster::detail {

template <class R, class... Args>
struct signature {
    using result = R;
    using args = std::tuple<Args...>;
    static constexpr std::size_t arity = sizeof...(Args);
};

template <class F>
struct callable_traits : callable_traits<decltype(&F::operator())> {};

template <class R, class... A>
struct callable_traits<R (*)(A...)> : signature<R, A...> {};
template <class R, class... A>
struct callable_traits<R (*)(A...) noexcept> : signature<R, A...> {};
template <class R, class... A>
struct callable_traits<R(A...)> : signature<R, A...> {};

#define ASTER_MEMBER_TRAITS(QUALIFIERS)                                      \
    template <class C, class R, class... A>                                  \
    struct callable_traits<R (C::*)(A...) QUALIFIERS> : signature<R, A...> { \
        using object = C;                                                    \
    };
ASTER_MEMBER_TRAITS()
ASTER_MEMBER_TRAITS(const)
ASTER_MEMBER_TRAITS(noexcept)
ASTER_MEMBER_TRAITS(const noexcept)
ASTER_MEMBER_TRAITS(&)
ASTER_MEMBER_TRAITS(const&)
#undef ASTER_MEMBER_TRAITS

} // namespace aster::detail

#endif // ASTER_DETAIL_CALLABLE_TRAITS_HPP
// end aster/detail/callable_traits.hpp
// begin aster/detail/request_access.hpp
// SPDX-License-Identifier: MIT
// The one door through which the parser and the router fill a request's private fields.
#ifndef ASTER_DETAIL_REQUEST_ACCESS_HPP
#define ASTER_DETAIL_REQUEST_ACCESS_HPP


namespace aster::detail {

struct metrics_registry;

struct request_access {
    static void reset(request& r) noexcept {
        r.headers_.clear();
        r.query_params_.reset();
        r.path_param_count_ = 0;
        r.method_name_ = r.target_ = r.raw_path_ = r.path_ = r.query_ = r.route_pattern_ = {};
        r.route_label_ = {};
    }
    static aster::headers& headers(request& r) noexcept { return r.headers_; }
    static void set_method(request& r, std::string_view name) noexcept {
        r.method_name_ = name;
        r.method_id_ = parse_method(name);
    }
    static void set_target(request& r, std::string_view target, std::string_view raw_path,
                           std::string_view path, std::string_view query) noexcept {
        r.target_ = target;
        r.raw_path_ = raw_path;
        r.path_ = path;
        r.query_ = query;
    }
    static void set_version(request& r, int major, int minor, bool keep_alive) noexcept {
        r.version_major_ = major;
        r.version_minor_ = minor;
        r.keep_alive_ = keep_alive;
    }
    static void set_state(request& r, void* state, const void* type) noexcept {
        r.state_ = state;
        r.state_type_ = type;
    }
    static void set_routes(request& r, route_table routes) noexcept { r.routes_ = routes; }
    static void set_secure(request& r, bool secure) noexcept { r.secure_ = secure; }
    static void set_websocket(request& r, bool websocket) noexcept { r.websocket_ = websocket; }
    /// A buffered body (every request gets one when it is filled in).
    static void set_body(request& r, const std::string* body) noexcept {
        r.body_ = body;
        r.source_ = nullptr;
        r.body_taken_ = r.body_done_ = false;
    }
    /// A body that streams in from `source`; body() gathers it into `storage` (empty now).
    static void set_stream(request& r, body_source* source, std::string* storage) noexcept {
        set_body(r, storage);
        r.source_ = source;
        r.collected_ = storage;
    }
    /// True while the body is still streaming in (a plain handler must have it gathered first).
    static bool body_streaming(const request& r) noexcept { return r.source_ != nullptr; }
    static void set_client(request& r, const client_address* client) noexcept {
        r.client_ = client;
    }
    static void set_path_param(request& r, std::size_t index, std::string_view name,
                               std::string_view value) noexcept {
        r.path_params_[index] = {name, value};
        if (index >= r.path_param_count_) r.path_param_count_ = index + 1;
    }
    static void clear_path_params(request& r) noexcept { r.path_param_count_ = 0; }
    static void set_route(request& r, std::string_view pattern, std::string_view label) noexcept {
        r.route_pattern_ = pattern;
        r.route_label_ = label;
    }
    /// The matched route's name, else its pattern (static strings); empty when none matched.
    static std::string_view route_label(const request& r) noexcept { return r.route_label_; }
    static void set_metrics(request& r, const metrics_registry* m) noexcept { r.metrics_ = m; }
    static void set_topics(request& r, topic_publisher* t) noexcept { r.topics_ = t; }
    static topic_publisher* topics(const request& r) noexcept { return r.topics_; }
    static const metrics_registry* metrics(const request& r) noexcept { return r.metrics_; }
};

} // namespace aster::detail

#endif // ASTER_DETAIL_REQUEST_ACCESS_HPP
// end aster/detail/request_access.hpp
// begin aster/detail/route_pattern.hpp
// SPDX-License-Identifier: MIT
// Route patterns parsed at compile time into literal and parameter tokens, and matched at run time.
#ifndef ASTER_DETAIL_ROUTE_PATTERN_HPP
#define ASTER_DETAIL_ROUTE_PATTERN_HPP

// begin aster/detail/fixed_string.hpp
// SPDX-License-Identifier: MIT
// A string literal usable as a template argument, so route patterns are parsed at compile time.
#ifndef ASTER_DETAIL_FIXED_STRING_HPP
#define ASTER_DETAIL_FIXED_STRING_HPP


#include <cstddef>
#include <string_view>

namespace aster {

/// A compile-time string: `route<"/users/{id:int}">` passes one of these as a template argument.
template <std::size_t N>
struct fixed_string {
    char chars[N]{}; // N counts the terminating zero, as for the literal it came from

    constexpr fixed_string() = default;
    constexpr fixed_string(const char (&literal)[N]) noexcept {
        for (std::size_t i = 0; i < N; ++i) chars[i] = literal[i];
    }

    static constexpr std::size_t length = N - 1;
    constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
    constexpr operator std::string_view() const noexcept { return view(); }

    template <std::size_t M>
    constexpr bool operator==(const fixed_string<M>& other) const noexcept {
        return view() == other.view();
    }
};

template <std::size_t N>
fixed_string(const char (&)[N]) -> fixed_string<N>;

namespace detail {

template <fixed_string A, fixed_string B>
consteval auto concat() {
    fixed_string<A.length + B.length + 1> out;
    for (std::size_t i = 0; i < A.length; ++i) out.chars[i] = A.chars[i];
    for (std::size_t i = 0; i < B.length; ++i) out.chars[A.length + i] = B.chars[i];
    return out;
}

} // namespace detail
} // namespace aster

#endif // ASTER_DETAIL_FIXED_STRING_HPP
// end aster/detail/fixed_string.hpp

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>
#include <type_traits>

namespace aster::detail {

enum class pattern_error {
    none,
    not_absolute,      // must start with '/'
    unbalanced_brace,  // '{' without '}', '}' without '{', or nested braces
    bad_name,          // parameter name empty or not an identifier
    unknown_convertor, // not one of str, int, float, uuid, path
    duplicate_name,    // the same parameter twice
    adjacent_params,   // "{a}{b}": no literal to tell where one ends
};

struct pattern_token {
    bool is_param = false;
    std::string_view text; // literal text, or the parameter's name
    convertor conv = convertor::str;
    std::size_t param_index = 0;
};

template <std::size_t MaxTokens>
struct parsed_pattern {
    std::array<pattern_token, MaxTokens> tokens{};
    std::size_t token_count = 0;
    std::size_t param_count = 0;
    pattern_error error = pattern_error::none;

    constexpr const pattern_token& param(std::size_t index) const noexcept {
        for (std::size_t i = 0; i < token_count; ++i)
            if (tokens[i].is_param && tokens[i].param_index == index) return tokens[i];
        return tokens[0];
    }
};

// Hand-written instead of string_view::find/==: g++ 12 cannot constant-evaluate those on a
// template parameter object under -fsanitize=undefined, and sanitizer builds must compile.
constexpr std::size_t find_char(std::string_view s, char c, std::size_t from = 0) noexcept {
    for (std::size_t i = from; i < s.size(); ++i)
        if (s[i] == c) return i;
    return std::string_view::npos;
}

constexpr bool same_text(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) return false;
    return true;
}

constexpr std::size_t max_pattern_tokens(std::string_view p) noexcept {
    std::size_t braces = 0;
    for (char c : p) braces += c == '{';
    return braces * 2 + 1;
}

constexpr bool is_identifier(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

constexpr bool parse_convertor(std::string_view name, convertor& out) noexcept {
    if (same_text(name, "str")) out = convertor::str;
    else if (same_text(name, "int")) out = convertor::int_;
    else if (same_text(name, "float")) out = convertor::float_;
    else if (same_text(name, "uuid")) out = convertor::uuid;
    else if (same_text(name, "path")) out = convertor::path;
    else return false;
    return true;
}

template <std::size_t MaxTokens>
constexpr parsed_pattern<MaxTokens> parse_pattern(std::string_view p) noexcept {
    parsed_pattern<MaxTokens> out;
    auto fail = [&](pattern_error e) {
        out.error = e;
        return out;
    };
    if (p.empty() || p[0] != '/') return fail(pattern_error::not_absolute);
    std::size_t literal_start = 0;
    for (std::size_t i = 0; i < p.size();) {
        if (p[i] == '}') return fail(pattern_error::unbalanced_brace);
        if (p[i] != '{') {
            ++i;
            continue;
        }
        if (i > literal_start)
            out.tokens[out.token_count++] = {false, p.substr(literal_start, i - literal_start)};
        else if (out.token_count > 0 && out.tokens[out.token_count - 1].is_param)
            return fail(pattern_error::adjacent_params);
        auto close = find_char(p, '}', i);
        if (close == std::string_view::npos) return fail(pattern_error::unbalanced_brace);
        auto inner = p.substr(i + 1, close - i - 1);
        if (find_char(inner, '{') != std::string_view::npos)
            return fail(pattern_error::unbalanced_brace);
        auto colon = find_char(inner, ':');
        auto name = inner.substr(0, colon);
        convertor conv = convertor::str;
        if (!is_identifier(name)) return fail(pattern_error::bad_name);
        if (colon != std::string_view::npos && !parse_convertor(inner.substr(colon + 1), conv))
            return fail(pattern_error::unknown_convertor);
        for (std::size_t t = 0; t < out.token_count; ++t)
            if (out.tokens[t].is_param && same_text(out.tokens[t].text, name))
                return fail(pattern_error::duplicate_name);
        out.tokens[out.token_count++] = {true, name, conv, out.param_count++};
        i = close + 1;
        literal_start = i;
    }
    if (literal_start < p.size()) out.tokens[out.token_count++] = {false, p.substr(literal_start)};
    return out;
}

/// The parsed form of one pattern, computed once per distinct pattern.
template <fixed_string Pattern>
inline constexpr auto
    pattern_of = parse_pattern<max_pattern_tokens(Pattern.view())>(Pattern.view());

// Two patterns match exactly the same paths when their tokens agree up to parameter names.
template <std::size_t A, std::size_t B>
constexpr bool same_shape(const parsed_pattern<A>& a, const parsed_pattern<B>& b) noexcept {
    if (a.token_count != b.token_count) return false;
    for (std::size_t i = 0; i < a.token_count; ++i) {
        const auto &x = a.tokens[i], &y = b.tokens[i];
        if (x.is_param != y.is_param) return false;
        if (x.is_param ? x.conv != y.conv : !same_text(x.text, y.text)) return false;
    }
    return true;
}

// Matching follows the regexes Starlette compiles its patterns into: each parameter takes the
// longest extent that lets the rest match. Trying every split recursively is O(n^k) on a hostile
// path ("/{a}-{b}-{c}" against 8 KiB of '-'), so the matcher first works out, right to left, the
// offsets from which the rest of the pattern matches (a bitset per parameter but the last, whose
// set is one offset), then gives each parameter, left to right, the largest end in its set:
// the extents the backtracking would find, in O(n * (parameters + literal bytes)) steps.
inline constexpr std::size_t no_offset = std::string_view::npos;

// The offsets from which the tokens after one parameter match: a bitset, or one offset or none.
struct offset_set {
    std::uint64_t* bits = nullptr;
    std::size_t single = no_offset;

    constexpr bool contains(std::size_t o) const noexcept {
        return bits ? (bits[o >> 6] >> (o & 63)) & 1 : o == single;
    }
    // The largest member in [lo, hi], or no_offset.
    constexpr std::size_t max_in(std::size_t lo, std::size_t hi,
                                 std::size_t& steps) const noexcept {
        if (lo > hi) return no_offset;
        if (!bits) return single >= lo && single <= hi ? single : no_offset;
        for (std::size_t w = hi >> 6;; --w) {
            ++steps;
            std::uint64_t word = bits[w];
            if (w == hi >> 6 && (hi & 63) != 63) word &= (std::uint64_t{1} << ((hi & 63) + 1)) - 1;
            if (word) {
                std::size_t top = w * 64 + 63 - std::size_t(std::countl_zero(word));
                return top >= lo ? top : no_offset;
            }
            if (w == lo >> 6) return no_offset;
        }
    }
};

constexpr std::size_t digits_end(std::string_view s, std::size_t from) noexcept {
    while (from < s.size() && is_digit(s[from])) ++from;
    return from;
}

// Where "." and digits follow the digit run that ends at `e`: the end of those digits.
constexpr std::size_t fraction_end(std::string_view s, std::size_t e) noexcept {
    if (e + 1 < s.size() && s[e] == '.' && is_digit(s[e + 1])) return digits_end(s, e + 1);
    return no_offset;
}

// Where the literal tokens [from, to) match `path` one after another from `o`: their end, or
// no_offset.
template <std::size_t N>
constexpr std::size_t literals_end(const parsed_pattern<N>& pp, std::size_t from, std::size_t to,
                                   std::string_view path, std::size_t o,
                                   std::size_t& steps) noexcept {
    for (std::size_t t = from; t < to; ++t) {
        std::string_view text = pp.tokens[t].text;
        if (path.size() - o < text.size()) return no_offset;
        for (std::size_t i = 0; i < text.size(); ++i, ++steps)
            if (path[o + i] != text[i]) return no_offset;
        o += text.size();
    }
    return o;
}

template <std::size_t N>
constexpr bool match_tokens(const parsed_pattern<N>& pp, std::string_view path,
                            std::string_view* values, std::size_t& steps) noexcept {
    // A parsed pattern starts with a literal and has one between parameters.
    constexpr std::size_t max_params = N / 2;
    const std::size_t n = path.size();
    // The token index of each parameter, and the literal bytes between it and the next one.
    std::size_t param_token[N + 1]{}, literal_after[N + 1]{};
    std::size_t k = 0;
    for (std::size_t t = 0; t < pp.token_count; ++t) {
        if (pp.tokens[t].is_param) param_token[k++] = t;
        else if (k > 0) literal_after[k - 1] += pp.tokens[t].text.size();
    }
    const std::size_t start = literals_end(pp, 0, k ? param_token[0] : pp.token_count, path, 0,
                                           steps);
    if (start == no_offset) return false;
    if (k == 0) return start == n;
    if (k > max_params) return false;
    // The literals after the last parameter must be a suffix: most paths fail here or above.
    const std::size_t tail = literal_after[k - 1];
    if (n - start < tail ||
        literals_end(pp, param_token[k - 1] + 1, pp.token_count, path, n - tail, steps) != n)
        return false;

    offset_set after[max_params < 1 ? 1 : max_params];
    after[k - 1].single = n - tail;
    // Enough for five parameters on a path as long as the default header limit (16 KiB) allows;
    // beyond that the match allocates its bitsets (and fails as no match if it cannot).
    constexpr std::size_t stack_words = max_params < 2
                                            ? 1
                                            : (max_params < 5 ? max_params - 1 : 4) * 257;
    const std::size_t words = n / 64 + 1;
    std::uint64_t stack_bits[stack_words];
    struct heap {
        std::uint64_t* p = nullptr;
        constexpr ~heap() { delete[] p; }
    } heap_bits;
    std::uint64_t* bits = stack_bits;
    if (k > 1 && (k - 1) * words > stack_words) {
        const std::size_t size = (k - 1) * words;
        heap_bits.p = std::is_constant_evaluated() ? new std::uint64_t[size]
                                                   : new (std::nothrow) std::uint64_t[size];
        if (!heap_bits.p) return false;
        bits = heap_bits.p;
    }

    for (std::size_t j = k - 1; j-- > 0;) {
        offset_set& set = after[j];
        set.bits = bits + j * words;
        for (std::size_t w = 0; w < words; ++w, ++steps) set.bits[w] = 0;
        const offset_set& next = after[j + 1];
        const std::size_t literal = literal_after[j];
        const std::size_t p = param_token[j + 1];
        const convertor conv = pp.tokens[p].conv;
        const bool last = p + 1 == pp.token_count;
        // Walking q down keeps the first '/' and non-digit at or after q, and the nearest
        // member of `next` above q, current: parameter p can start at q when one of its ends
        // is in `next`.
        std::size_t slash = n, digits = n, nearest = no_offset;
        std::size_t fraction_for = no_offset, fraction_hit = no_offset;
        for (std::size_t q = n + 1; q-- > start + literal;) {
            ++steps;
            if (q < n) {
                if (path[q] == '/') slash = q;
                if (!is_digit(path[q])) digits = q;
                if (next.contains(q + 1)) nearest = q + 1;
            }
            bool ok = false;
            switch (conv) {
            case convertor::str:
                ok = slash > q && nearest <= slash;
                break;
            case convertor::int_:
                ok = digits > q && nearest <= digits;
                break;
            case convertor::float_:
                // "12.5" ends within "12" or after "12.5", never after "12.".
                if (digits > q && digits != fraction_for) {
                    fraction_for = digits;
                    std::size_t f = fraction_end(path, digits);
                    fraction_hit = no_offset;
                    if (f != no_offset) {
                        steps += f - digits;
                        fraction_hit = next.max_in(digits + 2, f, steps);
                    }
                }
                ok = digits > q && (nearest <= digits || fraction_hit != no_offset);
                break;
            case convertor::uuid:
                ok = n - q >= 36 && next.contains(q + 36) && uuid::parse(path.substr(q, 36));
                steps += ok ? 36 : 0;
                break;
            case convertor::path:
                ok = q < n ? nearest <= n : last && next.contains(n);
                break;
            }
            if (ok &&
                literals_end(pp, param_token[j] + 1, p, path, q - literal, steps) != no_offset)
                set.bits[(q - literal) >> 6] |= std::uint64_t{1} << ((q - literal) & 63);
        }
    }

    // Left to right, each parameter takes its largest end from which the rest matches.
    std::size_t o = start;
    for (std::size_t j = 0; j < k; ++j) {
        const pattern_token& token = pp.tokens[param_token[j]];
        std::size_t end = no_offset;
        auto take = [&](std::size_t lo, std::size_t hi) {
            if (end == no_offset) end = after[j].max_in(lo, hi, steps);
        };
        switch (token.conv) {
        case convertor::str: {
            std::size_t slash = o;
            for (; slash < n && path[slash] != '/'; ++slash) ++steps;
            take(o + 1, slash);
            break;
        }
        case convertor::int_:
        case convertor::float_: {
            std::size_t digits = digits_end(path, o);
            steps += digits - o;
            if (digits == o) break;
            if (token.conv == convertor::float_)
                if (std::size_t f = fraction_end(path, digits); f != no_offset) take(digits + 2, f);
            take(o + 1, digits);
            break;
        }
        case convertor::uuid:
            if (n - o >= 36 && uuid::parse(path.substr(o, 36))) take(o + 36, o + 36);
            break;
        case convertor::path:
            if (o < n) take(o + 1, n);
            else if (param_token[j] + 1 == pp.token_count) take(n, n); // empty only at the end
            break;
        }
        if (end == no_offset) return false;
        values[token.param_index] = path.substr(o, end - o);
        o = end + literal_after[j];
    }
    return true;
}

/// Matches `path` against `pp`, setting `values[i]` to the text of parameter i. `steps`, when
/// given, receives the work done (loop iterations), which tests hold to the bound above.
template <std::size_t N>
constexpr bool match_pattern(const parsed_pattern<N>& pp, std::string_view path,
                             std::string_view* values, std::size_t* steps = nullptr) noexcept {
    std::size_t done = 0;
    bool matched = match_tokens(pp, path, values, done);
    if (steps) *steps = done;
    return matched;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_ROUTE_PATTERN_HPP
// end aster/detail/route_pattern.hpp

#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace aster::detail {

template <fixed_string Pattern>
constexpr bool check_pattern() {
    constexpr auto e = pattern_of<Pattern>.error;
    static_assert(e != pattern_error::not_absolute, "aster::route: a pattern must start with '/'");
    static_assert(e != pattern_error::unbalanced_brace,
                  "aster::route: malformed pattern: unbalanced '{' or '}'");
    static_assert(e != pattern_error::bad_name,
                  "aster::route: malformed pattern: a parameter name must be an identifier, as in "
                  "{id} or {id:int}");
    static_assert(e != pattern_error::unknown_convertor,
                  "aster::route: unknown convertor in pattern; use str, int, float, uuid or path");
    static_assert(e != pattern_error::duplicate_name,
                  "aster::route: malformed pattern: a parameter name appears twice");
    static_assert(e != pattern_error::adjacent_params,
                  "aster::route: malformed pattern: two parameters need a literal between them");
    static_assert(pattern_of<Pattern>.param_count <= request::max_path_params,
                  "aster::route: a pattern may have at most 16 parameters");
    return e == pattern_error::none;
}

template <class R>
constexpr bool is_response_result = std::is_same_v<R, response> ||
                                    std::is_same_v<R, task<response>>;

// Parameters after the request must match the pattern's convertors in number, order and type.
template <fixed_string Pattern, class Args>
constexpr bool params_fit() {
    constexpr auto& pp = pattern_of<Pattern>;
    if constexpr (std::tuple_size_v<Args> != pp.param_count + 1) {
        return false;
    } else {
        return []<std::size_t... I>(std::index_sequence<I...>) {
            return (convertor_accepts<pp.param(I).conv, std::tuple_element_t<I + 1, Args>>() &&
                    ...);
        }
        (std::make_index_sequence<pp.param_count>{});
    }
}

template <fixed_string Pattern, class Sig>
constexpr bool check_signature() {
    using args = typename Sig::args;
    if constexpr (std::tuple_size_v<args> == 0) {
        static_assert(std::tuple_size_v<args> != 0,
                      "aster::route: a handler's first parameter must be aster::request&");
        return false;
    } else {
        static_assert(std::is_same_v<std::tuple_element_t<0, args>, request&>,
                      "aster::route: a handler's first parameter must be aster::request&");
        static_assert(is_response_result<typename Sig::result>,
                      "aster::route: a handler must return aster::response or "
                      "aster::task<aster::response>");
        static_assert(std::tuple_size_v<args> == pattern_of<Pattern>.param_count + 1,
                      "aster::route: the handler's path parameters do not match the pattern: it "
                      "takes a different number of them");
        static_assert(std::tuple_size_v<args> != pattern_of<Pattern>.param_count + 1 ||
                          params_fit<Pattern, args>(),
                      "aster::route: the handler's path parameters do not match the pattern's "
                      "convertors: int takes an integer, float a floating-point type, str and path "
                      "std::string_view or std::string, uuid aster::uuid");
        return true;
    }
}

// True when every path value converts to the handler's parameter type (an int may overflow it).
template <class Args>
bool values_convert(std::span<const std::string_view> values) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return (convert_segment<std::tuple_element_t<I + 1, Args>>(values[I]).has_value() && ...);
    }
    (std::make_index_sequence<std::tuple_size_v<Args> - 1>{});
}

inline task<response> ready_response(response r) { co_return r; }

// Calls a plain (non-coroutine) handler with converted path values.
template <class Sig, class F>
response call_now(const F& f, request& req) {
    using args = typename Sig::args;
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto params = req.path_params();
        return f(req, *convert_segment<std::tuple_element_t<I + 1, args>>(params[I].value)...);
    }
    (std::make_index_sequence<std::tuple_size_v<args> - 1>{});
}

// A plain handler run from a coroutine (an endpoint's member) with a body still streaming in:
// it reads buffered_body(), so the body is gathered first. The call is type-erased, so the
// frame's type does not depend on the handler's (a lambda at namespace scope, say).
inline task<response> call_gathered(request& req, std::function<response(request&)> call) {
    co_await req.body();
    co_return call(req);
}

// Calls `f(req, converted path values...)`. A coroutine handler's own awaitable is returned as is,
// so the call adds no coroutine frame of its own.
template <class Sig, class F>
task<response> call_handler(F& f, request& req) {
    using args = typename Sig::args;
    if constexpr (std::is_same_v<typename Sig::result, response>) {
        if (request_access::body_streaming(req))
            return call_gathered(req, [f](request& r) { return call_now<Sig>(f, r); });
        return ready_response(call_now<Sig>(f, req));
    } else {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            auto params = req.path_params();
            return f(req, *convert_segment<std::tuple_element_t<I + 1, args>>(params[I].value)...);
        }
        (std::make_index_sequence<std::tuple_size_v<args> - 1>{});
    }
}

} // namespace aster::detail

#endif // ASTER_DETAIL_HANDLER_CALL_HPP
// end aster/detail/handler_call.hpp

namespace aster {

/// Base of class-based HTTP endpoints. Define any of `get`, `head`, `post`, `put`, `patch`,
/// `delete_`, `options`; each takes `request&` then the route's path parameters. HEAD is served by
/// `get` unless `head` exists; other methods get 405 with `Allow` listing the defined ones.
/// One instance is made per request, so members may hold per-request state.
/// @code
/// struct user : aster::http_endpoint {
///     aster::task<aster::response> get(aster::request&, std::int64_t id);
/// };
/// @endcode
struct http_endpoint {};

namespace detail {

// One detector per member, since a member name can't be a template argument.
#define ASTER_ENDPOINT_MEMBER(NAME)                             \
    template <class E>                                          \
    struct NAME##_member {                                      \
        static constexpr bool present = requires { &E::NAME; }; \
        static constexpr auto pointer() { return &E::NAME; }    \
    };
ASTER_ENDPOINT_MEMBER(get)
ASTER_ENDPOINT_MEMBER(head)
ASTER_ENDPOINT_MEMBER(post)
ASTER_ENDPOINT_MEMBER(put)
ASTER_ENDPOINT_MEMBER(patch)
ASTER_ENDPOINT_MEMBER(delete_)
ASTER_ENDPOINT_MEMBER(options)
#undef ASTER_ENDPOINT_MEMBER

template <class E>
constexpr method endpoint_methods() {
    method m = method::none;
    if (get_member<E>::present) m = m | method::get | method::head;
    if (head_member<E>::present) m = m | method::head;
    if (post_member<E>::present) m = m | method::post;
    if (put_member<E>::present) m = m | method::put;
    if (patch_member<E>::present) m = m | method::patch;
    if (delete__member<E>::present) m = m | method::delete_;
    if (options_member<E>::present) m = m | method::options;
    return m;
}

// The `Allow` header lists HEAD only when the endpoint defines it (Starlette does the same).
template <class E>
constexpr method endpoint_allow_list() {
    return head_member<E>::present
               ? endpoint_methods<E>()
               : method(std::uint16_t(endpoint_methods<E>()) & ~std::uint16_t(method::head));
}

template <fixed_string Pattern, class Member>
constexpr bool check_member() {
    if constexpr (Member::present) {
        using sig = callable_traits<decltype(Member::pointer())>;
        return check_signature<Pattern, sig>();
    } else {
        return true;
    }
}

template <fixed_string Pattern, class E>
constexpr bool check_endpoint() {
    static_assert(std::is_base_of_v<http_endpoint, E>,
                  "aster::route<Pattern, Endpoint>(): Endpoint must derive from "
                  "aster::http_endpoint");
    static_assert(std::is_default_constructible_v<E>,
                  "aster::http_endpoint: an endpoint must be default-constructible (one is made "
                  "per request)");
    static_assert(endpoint_methods<E>() != method::none,
                  "aster::http_endpoint: define at least one of get, head, post, put, patch, "
                  "delete_, options");
    return check_member<Pattern, get_member<E>>() && check_member<Pattern, head_member<E>>() &&
           check_member<Pattern, post_member<E>>() && check_member<Pattern, put_member<E>>() &&
           check_member<Pattern, patch_member<E>>() && check_member<Pattern, delete__member<E>>() &&
           check_member<Pattern, options_member<E>>();
}

template <class Member, class E>
task<response> call_member(E& endpoint, request& req) {
    using sig = callable_traits<decltype(Member::pointer())>;
    auto bound = [&endpoint](request& r, auto&&... params) {
        return (endpoint.*Member::pointer())(r, std::forward<decltype(params)>(params)...);
    };
    return call_handler<sig>(bound, req);
}

template <class E>
bool endpoint_values_convert(std::span<const std::string_view> values) {
    // Every member takes the same convertors; checking the first defined one is enough.
    auto check = [&]<class Member>() {
        if constexpr (Member::present)
            return values_convert<typename callable_traits<decltype(Member::pointer())>::args>(
                values);
        else return true;
    };
    return check.template operator()<get_member<E>>() &&
           check.template operator()<head_member<E>>() &&
           check.template operator()<post_member<E>>() &&
           check.template operator()<put_member<E>>() &&
           check.template operator()<patch_member<E>>() &&
           check.template operator()<delete__member<E>>() &&
           check.template operator()<options_member<E>>();
}

// The endpoint object must outlive the member's coroutine, so it lives in this frame.
template <class E>
task<response> run_endpoint(request& req) {
    E endpoint{};
    switch (req.method_id()) {
    case method::head:
        if constexpr (head_member<E>::present)
            co_return co_await call_member<head_member<E>>(endpoint, req);
        [[fallthrough]];
    case method::get:
        if constexpr (get_member<E>::present)
            co_return co_await call_member<get_member<E>>(endpoint, req);
        break;
    case method::post:
        if constexpr (post_member<E>::present)
            co_return co_await call_member<post_member<E>>(endpoint, req);
        break;
    case method::put:
        if constexpr (put_member<E>::present)
            co_return co_await call_member<put_member<E>>(endpoint, req);
        break;
    case method::patch:
        if constexpr (patch_member<E>::present)
            co_return co_await call_member<patch_member<E>>(endpoint, req);
        break;
    case method::delete_:
        if constexpr (delete__member<E>::present)
            co_return co_await call_member<delete__member<E>>(endpoint, req);
        break;
    case method::options:
        if constexpr (options_member<E>::present)
            co_return co_await call_member<options_member<E>>(endpoint, req);
        break;
    default:
        break;
    }
    // The router only sends methods the endpoint defines; this is a bug guard, not a path.
    co_return plain_text("Method Not Allowed", status::method_not_allowed);
}

} // namespace detail

/// Base of class-based WebSocket endpoints (Starlette's `WebSocketEndpoint`). One instance per
/// connection. Hooks, all optional but `on_receive`, all coroutines (or plain functions):
/// - `on_connect(websocket&)`: accept or refuse; when missing, the connection is accepted.
/// - `on_receive(websocket&, M)`: each whole message, as `encoding` says: `std::string_view` for
///   text and bytes, `const websocket_message&` (or `std::string_view`) for any. A message of the
///   wrong kind closes with 1003.
/// - `on_disconnect(websocket&, close_code)`: exactly once per accepted connection, with the
///   peer's code, 1005 (none given), 1006 (dropped), or the code aster sent (1002, 1003, 1007,
///   1009, and 1011 when a hook threw).
/// @code
/// struct echo : aster::websocket_endpoint {
///     static constexpr auto encoding = aster::encoding::text;
///     aster::task<> on_receive(aster::websocket& ws, std::string_view m) { co_await
///     ws.send_text(m); }
/// };
/// @endcode
struct websocket_endpoint {};

namespace detail {

template <class E>
constexpr encoding endpoint_encoding() {
    if constexpr (requires { E::encoding; }) return E::encoding;
    else return encoding::any;
}

// Runs a hook that may be a coroutine or a plain function: `co_await call_hook([&] { ... })`.
template <class F>
task<> call_hook(F&& hook) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) hook();
    else co_await hook();
}

// The JSON type an endpoint receives; dependent on E, so nothing is needed until it is used.
template <class E>
struct json_of {
#ifdef ASTER_HAS_JSON
    using type = nlohmann::json;
#else
    using type = void;
#endif
};

// Whether E has any member called on_connect (or on_disconnect), whatever its signature:
// deriving from E and from a type with a member of that name makes the name ambiguous exactly
// when E has one too. A hook aster would not call must not compile silently.
struct on_connect_probe {
    int on_connect;
};
struct on_disconnect_probe {
    int on_disconnect;
};
template <class E>
struct find_on_connect : E, on_connect_probe {};
template <class E>
struct find_on_disconnect : E, on_disconnect_probe {};
template <class E>
concept names_on_connect = !std::is_final_v<E> && !requires {
    &find_on_connect<E>::on_connect;
};
template <class E>
concept names_on_disconnect = !std::is_final_v<E> && !requires {
    &find_on_disconnect<E>::on_disconnect;
};

template <class E>
constexpr bool check_websocket_endpoint() {
    static_assert(std::is_base_of_v<websocket_endpoint, E>,
                  "aster::websocket_route<Pattern, Endpoint>(): Endpoint must derive from "
                  "aster::websocket_endpoint");
    static_assert(std::is_default_constructible_v<E>,
                  "aster::websocket_endpoint: an endpoint must be default-constructible (one is "
                  "made per connection)");
    if constexpr (names_on_connect<E>)
        static_assert(
            requires(E & e, websocket & ws) { e.on_connect(ws); },
            "aster::websocket_endpoint: on_connect must take (aster::websocket&) and "
            "nothing else: aster::task<> on_connect(aster::websocket& ws) (or a plain "
            "void function); read path parameters with ws.request().path_param(name)");
    if constexpr (names_on_disconnect<E>)
        static_assert(
            requires(E & e, websocket & ws, close_code c) { e.on_disconnect(ws, c); },
            "aster::websocket_endpoint: on_disconnect must take (aster::websocket&, "
            "aster::close_code): aster::task<> on_disconnect(aster::websocket& ws, "
            "aster::close_code code) (or a plain void function)");
    constexpr encoding enc = endpoint_encoding<E>();
#ifndef ASTER_HAS_JSON
    static_assert(enc != encoding::json,
                  "aster::websocket_endpoint: encoding::json needs nlohmann/json "
                  "(<nlohmann/json.hpp> on the include path)");
#endif
    if constexpr (enc == encoding::json) {
        static_assert(
            requires(E & e, websocket & ws, const typename json_of<E>::type& m) {
                e.on_receive(ws, m);
            },
            "aster::websocket_endpoint: define on_receive(aster::websocket&, const "
            "nlohmann::json&) for encoding json");
    } else if constexpr (enc == encoding::any) {
        static_assert(
            requires(E & e, websocket & ws, const websocket_message& m) { e.on_receive(ws, m); } ||
                requires(E & e, websocket & ws, std::string_view m) { e.on_receive(ws, m); },
            "aster::websocket_endpoint: define on_receive(aster::websocket&, const "
            "aster::websocket_message&) or on_receive(aster::websocket&, "
            "std::string_view) (encoding any)");
    } else {
        static_assert(
            requires(E & e, websocket & ws, std::string_view m) { e.on_receive(ws, m); },
            "aster::websocket_endpoint: define on_receive(aster::websocket&, "
            "std::string_view) for encoding text or bytes");
    }
    return true;
}

template <class E>
task<> run_websocket_endpoint(websocket& ws) {
    E endpoint{};
    if constexpr (requires { endpoint.on_connect(ws); })
        co_await call_hook([&] { return endpoint.on_connect(ws); });
    else co_await ws.accept();
    if (!ws.accepted()) co_return; // refused: on_disconnect is for accepted connections only

    constexpr encoding enc = endpoint_encoding<E>();
    std::uint16_t code = 1000;
    std::exception_ptr error;
    try {
        while (ws.state() == websocket_state::connected) {
            websocket_message message = co_await ws.receive();
            if constexpr (enc == encoding::json) {
                // Text or binary holding UTF-8 JSON, as Starlette accepts; malformed: 1003.
                auto value = json_of<E>::type::parse(message.data, nullptr, false);
                if (value.is_discarded()) {
                    co_await ws.close(close_code::unsupported_data);
                    break;
                }
                co_await call_hook([&] { return endpoint.on_receive(ws, value); });
            } else if constexpr (enc == encoding::any) {
                if constexpr (requires { endpoint.on_receive(ws, message); })
                    co_await call_hook([&] { return endpoint.on_receive(ws, message); });
                else co_await call_hook([&] { return endpoint.on_receive(ws, message.data); });
            } else {
                if (message.text != (enc == encoding::text)) {
                    co_await ws.close(close_code::unsupported_data); // on_disconnect sees 1003
                    break;
                }
                co_await call_hook([&] { return endpoint.on_receive(ws, message.data); });
            }
        }
        code = ws.close_code();
    } catch (const websocket_disconnect& closed) {
        code = closed.code();
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        websocket_access::report(ws, error);
        if (ws.state() == websocket_state::connected) co_await ws.close(close_code::internal_error);
        code = std::uint16_t(close_code::internal_error);
    }
    if constexpr (requires { endpoint.on_disconnect(ws, close_code::normal_closure); }) {
        try {
            co_await call_hook([&] { return endpoint.on_disconnect(ws, close_code(code)); });
        } catch (...) {
            websocket_access::report(ws, std::current_exception());
        }
    }
}

} // namespace detail
} // namespace aster

#endif // ASTER_ENDPOINTS_HPP
// end aster/endpoints.hpp
// begin aster/routing.hpp
// SPDX-License-Identifier: MIT
// The compile-time route table: route<"/pattern">(handler), route<"/p", Endpoint>(), mount,
// routes(...).
#ifndef ASTER_ROUTING_HPP
#define ASTER_ROUTING_HPP

// begin aster/detail/reverse_route.hpp
// SPDX-License-Identifier: MIT
// Reverse routing by name at run time: the path a route_table builds.
#ifndef ASTER_DETAIL_REVERSE_ROUTE_HPP
#define ASTER_DETAIL_REVERSE_ROUTE_HPP


#include <array>
#include <charconv>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace aster::detail {

template <class... Routes>
inline constexpr std::array<route_info, sizeof...(Routes)> route_infos{
    route_info{Routes::name.view(), Routes::pattern.view(), Routes::parsed.tokens.data(),
               Routes::parsed.token_count, Routes::parsed.param_count, Routes::is_websocket}...};

/// The path of the route named `name` with `values` (one per parameter, in the pattern's
/// order), percent-encoded as the compile-time url_path_for does. Throws no_match_found when
/// no route has the name, the count differs, or a value does not fit its convertor (an int
/// parameter given "abc" or "-1", an empty str). `websocket`, when given, says whether the
/// route is a WebSocket route.
ASTER_DECL std::string reverse_route(route_table table, std::string_view name,
                                     std::span<const std::string> values, bool* websocket) {
    const route_info* found = nullptr;
    for (std::size_t i = 0; i < table.size && !found; ++i)
        if (!table.routes[i].name.empty() && table.routes[i].name == name) found = &table.routes[i];
    if (!found)
        throw no_match_found("aster: no route exists for name \"" + std::string(name) + "\"");
    const route_info& r = *found;
    const std::string which = "aster: route \"" + std::string(name) + "\" (" +
                              std::string(r.pattern) + ")";
    if (values.size() != r.param_count)
        throw no_match_found(which + " takes " + std::to_string(r.param_count) +
                             " path parameter(s), not " + std::to_string(values.size()));
    std::string out;
    for (std::size_t t = 0; t < r.token_count; ++t) {
        const pattern_token& token = r.tokens[t];
        if (!token.is_param) {
            out += token.text;
            continue;
        }
        const std::string& raw = values[token.param_index];
        // str encodes '/' too (one segment), path keeps it; the others must already fit.
        std::string text = token.conv == convertor::str    ? percent_encode(raw, "")
                           : token.conv == convertor::path ? percent_encode(raw, "/")
                                                           : raw;
        if (convertor_extent(token.conv, text) != text.size() ||
            (text.empty() && token.conv != convertor::path))
            throw no_match_found(which + ": parameter \"" + std::string(token.text) +
                                 "\" cannot be \"" + raw + "\"");
        out += text;
    }
    if (websocket) *websocket = r.websocket;
    return out;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_REVERSE_ROUTE_HPP
// end aster/detail/reverse_route.hpp
// begin aster/detail/route_errors.hpp
// SPDX-License-Identifier: MIT
// Routing mistakes as compile errors that name the culprit. A static_assert's message is a fixed
// literal, so these carry the routes' patterns and names in their template arguments and the
// advice in the name of a deleted function: g++'s first `error:` line then reads, say,
// "use of deleted function '... duplicate_route<First, Second>::give_one_of_them_another_pattern_
// or_other_methods() [with First = ...{"/users/{id:int}"}; Second = ...{"/users/{uid:int}"}]'".
#ifndef ASTER_DETAIL_ROUTE_ERRORS_HPP
#define ASTER_DETAIL_ROUTE_ERRORS_HPP


namespace aster::detail {

/// Two routes of one table with the same pattern (up to parameter names) and a method in common:
/// the second could never be reached.
template <fixed_string First, fixed_string Second>
struct duplicate_route {
    static constexpr bool give_one_of_them_another_pattern_or_other_methods() = delete;
};

/// Two routes of one table (mounts included) with the same name.
template <fixed_string Name>
struct duplicate_route_name {
    static constexpr bool give_each_route_a_name_of_its_own() = delete;
};

/// url_path_for<Name> where no route of the app has that name.
template <fixed_string Name>
struct url_path_for_unknown_name {
    static constexpr bool name_a_route_so_with_named_or_correct_the_spelling() = delete;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_ROUTE_ERRORS_HPP
// end aster/detail/route_errors.hpp

#include <array>
#include <charconv>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace aster {

namespace detail {

template <fixed_string Pattern, fixed_string Name>
struct route_base {
    static constexpr auto pattern = Pattern;
    static constexpr auto name = Name;
    static constexpr const auto& parsed = pattern_of<Pattern>;
    static constexpr bool is_websocket = false;
    static constexpr bool is_metrics = false;
    /// The route's label in the access log's metrics: its name, else its pattern.
    static constexpr std::string_view label() noexcept {
        return Name.view().empty() ? Pattern.view() : Name.view();
    }

    static bool match_path(std::string_view path, std::string_view* values) noexcept {
        return match_pattern(parsed, path, values);
    }
};
} // namespace detail

/// A function route: `route<"/users/{id:int}">(show_user)` answers GET (and HEAD);
/// `route<"/items", method::post>(create)` names other methods.
template <fixed_string Pattern, method Methods, class Handler, fixed_string Name = "">
struct function_route : detail::route_base<Pattern, Name> {
    using signature = detail::callable_traits<Handler>;
    static constexpr method allowed = any(Methods & method::get) ? Methods | method::head : Methods;
    static constexpr method allow_list = allowed;

    Handler handler;

    template <fixed_string NewName>
    constexpr auto named() const {
        return function_route<Pattern, Methods, Handler, NewName>{{}, handler};
    }
    template <fixed_string Prefix>
    constexpr auto mounted_at() const {
        return function_route<detail::concat<Prefix, Pattern>(), Methods, Handler, Name>{{},
                                                                                         handler};
    }
    static bool values_convert(std::span<const std::string_view> values) {
        return detail::values_convert<typename signature::args>(values);
    }
    // A plain function runs inside the router, with no coroutine frame.
    static constexpr bool runs_now = std::is_same_v<typename signature::result, response>;
    response call_now(request& req) const { return detail::call_now<signature>(handler, req); }
    task<response> invoke(request& req) const {
        return detail::call_handler<signature>(handler, req);
    }
};

/// A class-based route: `route<"/users/{id:int}", user_endpoint>()`.
template <fixed_string Pattern, class Endpoint, fixed_string Name = "">
struct endpoint_route : detail::route_base<Pattern, Name> {
    static constexpr method allowed = detail::endpoint_methods<Endpoint>();
    static constexpr method allow_list = detail::endpoint_allow_list<Endpoint>();

    template <fixed_string NewName>
    constexpr auto named() const {
        return endpoint_route<Pattern, Endpoint, NewName>{};
    }
    template <fixed_string Prefix>
    constexpr auto mounted_at() const {
        return endpoint_route<detail::concat<Prefix, Pattern>(), Endpoint, Name>{};
    }
    static bool values_convert(std::span<const std::string_view> values) {
        return detail::endpoint_values_convert<Endpoint>(values);
    }
    static constexpr bool runs_now = false;
    response call_now(request&) const { return {}; }
    task<response> invoke(request& req) const { return detail::run_endpoint<Endpoint>(req); }
};

/// A class-based WebSocket route: `websocket_route<"/ws", chat_endpoint>()`.
template <fixed_string Pattern, class Endpoint, fixed_string Name = "">
struct websocket_endpoint_route : detail::route_base<Pattern, Name> {
    static constexpr bool is_websocket = true;
    static constexpr method allowed = method::get;
    static constexpr method allow_list = method::get;

    template <fixed_string NewName>
    constexpr auto named() const {
        return websocket_endpoint_route<Pattern, Endpoint, NewName>{};
    }
    template <fixed_string Prefix>
    constexpr auto mounted_at() const {
        return websocket_endpoint_route<detail::concat<Prefix, Pattern>(), Endpoint, Name>{};
    }
    static bool values_convert(std::span<const std::string_view>) { return true; }
    task<> run(request&, websocket& ws) const {
        return detail::run_websocket_endpoint<Endpoint>(ws);
    }
};

/// A function WebSocket route: `websocket_route<"/ws/{room}">(fn)` with
/// `aster::task<> fn(aster::websocket&, std::string_view room)`.
template <fixed_string Pattern, class Handler, fixed_string Name = "">
struct websocket_function_route : detail::route_base<Pattern, Name> {
    using signature = detail::callable_traits<Handler>;
    static constexpr bool is_websocket = true;
    static constexpr method allowed = method::get;
    static constexpr method allow_list = method::get;

    Handler handler;

    template <fixed_string NewName>
    constexpr auto named() const {
        return websocket_function_route<Pattern, Handler, NewName>{{}, handler};
    }
    template <fixed_string Prefix>
    constexpr auto mounted_at() const {
        return websocket_function_route<detail::concat<Prefix, Pattern>(), Handler, Name>{{},
                                                                                          handler};
    }
    static bool values_convert(std::span<const std::string_view> values) {
        return detail::values_convert<typename signature::args>(values);
    }
    task<> run(request& req, websocket& ws) const {
        using args = typename signature::args;
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            auto params = req.path_params();
            return handler(ws, *detail::convert_segment<std::tuple_element_t<I + 1, args>>(
                                   params[I].value)...);
        }
        (std::make_index_sequence<std::tuple_size_v<args> - 1>{});
    }
};

template <fixed_string Pattern, class Endpoint>
constexpr auto websocket_route() {
    static_assert(detail::check_pattern<Pattern>());
    static_assert(detail::check_websocket_endpoint<Endpoint>());
    return websocket_endpoint_route<Pattern, Endpoint>{};
}

template <fixed_string Pattern, class Handler>
constexpr auto websocket_route(Handler handler) {
    static_assert(detail::check_pattern<Pattern>());
    using sig = detail::callable_traits<Handler>;
    using args = typename sig::args;
    static_assert(std::is_same_v<typename sig::result, task<>>,
                  "aster::websocket_route: a WebSocket handler must return aster::task<>");
    if constexpr (std::tuple_size_v < args >> 0) {
        static_assert(std::is_same_v<std::tuple_element_t<0, args>, websocket&>,
                      "aster::websocket_route: a WebSocket handler's first parameter must be "
                      "aster::websocket&");
        static_assert(std::tuple_size_v<args> == detail::pattern_of<Pattern>.param_count + 1,
                      "aster::route: the handler's path parameters do not match the pattern: it "
                      "takes a different number of them");
        static_assert(std::tuple_size_v<args> != detail::pattern_of<Pattern>.param_count + 1 ||
                          detail::params_fit<Pattern, args>(),
                      "aster::route: the handler's path parameters do not match the pattern's "
                      "convertors: int takes an integer, float a floating-point type, str and path "
                      "std::string_view or std::string, uuid aster::uuid");
    } else {
        static_assert(std::tuple_size_v<args> > 0,
                      "aster::websocket_route: a WebSocket handler's first parameter must be "
                      "aster::websocket&");
    }
    return websocket_function_route<Pattern, Handler>{{}, handler};
}

template <fixed_string Pattern, method Methods = method::get, class Handler>
constexpr auto route(Handler handler) {
    static_assert(detail::check_pattern<Pattern>());
    static_assert(std::is_class_v<Handler> || std::is_pointer_v<Handler>,
                  "aster::route: the handler must be a function or a callable object");
    static_assert(detail::check_signature<Pattern, detail::callable_traits<Handler>>());
    static_assert(Methods != method::none, "aster::route: name at least one method");
    return function_route<Pattern, Methods, Handler>{{}, handler};
}

template <fixed_string Pattern, class Endpoint>
constexpr auto route() {
    static_assert(detail::check_pattern<Pattern>());
    static_assert(detail::check_endpoint<Pattern, Endpoint>());
    return endpoint_route<Pattern, Endpoint>{};
}

template <class... Routes>
class router;

namespace detail {

template <class T>
struct is_router : std::false_type {};
template <class... R>
struct is_router<router<R...>> : std::true_type {};

template <class T>
constexpr auto as_route_tuple(const T& item) {
    if constexpr (is_router<T>::value) return item.entries();
    else return std::tuple<T>(item);
}

template <class A, class B>
constexpr bool routes_conflict() {
    return A::is_websocket == B::is_websocket && same_shape(A::parsed, B::parsed) &&
           any(A::allowed & B::allowed);
}

template <class A, class B>
constexpr bool names_conflict() {
    return !A::name.view().empty() && same_text(A::name.view(), B::name.view());
}

template <class A, class B>
struct route_conflict : std::bool_constant<routes_conflict<A, B>()> {};
template <class A, class B>
struct name_conflict : std::bool_constant<names_conflict<A, B>()> {};

// The first pair i < j of routes in conflict, as i * n + j; n * n when there is none.
template <template <class, class> class Conflict, class... R>
constexpr std::size_t first_pair() {
    using list = std::tuple<R...>;
    constexpr std::size_t n = sizeof...(R);
    std::size_t found = n * n;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&]<std::size_t... J>(std::index_sequence<J...>) {
                constexpr std::size_t i = I;
                ((found == n * n && J > i &&
                          Conflict<std::tuple_element_t<i, list>,
                                   std::tuple_element_t<J, list>>::value
                      ? void(found = i * n + J)
                      : void()),
                 ...);
            }(std::make_index_sequence<n>{}),
            ...);
    }
    (std::make_index_sequence<n>{});
    return found;
}

// True when no two routes clash; otherwise the first clash is a compile error naming both.
template <class... R>
constexpr bool routes_are_distinct() {
    constexpr std::size_t n = sizeof...(R);
    using list = std::tuple<R...>;
    constexpr std::size_t same = first_pair<route_conflict, R...>();
    if constexpr (same < n * n) {
        using A = std::tuple_element_t<same / n, list>;
        using B = std::tuple_element_t<same % n, list>;
        return duplicate_route<A::pattern,
                               B::pattern>::give_one_of_them_another_pattern_or_other_methods();
    }
    constexpr std::size_t named = first_pair<name_conflict, R...>();
    if constexpr (named < n * n) {
        using A = std::tuple_element_t<named / n, list>;
        return duplicate_route_name<A::name>::give_each_route_a_name_of_its_own();
    }
    return true;
}

template <fixed_string Name, class... R>
constexpr std::size_t index_of_name() {
    constexpr std::array<std::string_view, sizeof...(R)> names{R::name.view()...};
    for (std::size_t i = 0; i < names.size(); ++i)
        if (same_text(names[i], Name.view())) return i;
    return names.size();
}

template <class T>
void append_path_value(std::string& out, convertor conv, const T& value) {
    using U = std::remove_cvref_t<T>;
    if constexpr (std::is_arithmetic_v<U> || std::is_same_v<U, uuid>) {
        append_path_text(out, value);
    } else {
        out += percent_encode(std::string_view(value), conv == convertor::path ? "/" : "");
    }
}

} // namespace detail

/// An ordered table of routes, built at compile time; the first full match wins.
/// @code
/// constexpr auto table = aster::routes(aster::route<"/hello">(hello),
///                                      aster::mount<"/api">(api_routes));
/// @endcode
template <class... Routes>
class router {
    static_assert(detail::routes_are_distinct<Routes...>(),
                  "aster::routes: duplicate route: two routes have the same pattern and share a "
                  "method, or the same name (the first error names them)");

public:
    static constexpr std::size_t size = sizeof...(Routes);

    constexpr explicit router(Routes... r) : routes_(r...) {}
    constexpr explicit router(std::tuple<Routes...> r) : routes_(r) {}

    constexpr const std::tuple<Routes...>& entries() const noexcept { return routes_; }

    static constexpr bool has_websocket_routes = (Routes::is_websocket || ...);
    static constexpr bool has_metrics = (Routes::is_metrics || ...);

    /// The index of the first WebSocket route matching the request's path (path parameters are
    /// filled in), or `size`.
    std::size_t match_websocket(request& req) const;
    /// Runs WebSocket route `index` on an upgraded connection.
    task<> run_websocket(std::size_t index, request& req, websocket& ws) const;

    /// Routes the request and runs its handler: 404 when no path matches, 405 with `Allow` when
    /// only the method misses, a 307 to `/x` from `/x/` (or back) when only the other exists.
    task<response> dispatch(request& req) const;

    /// Routing alone: the index of the route the request reaches (its path parameters filled
    /// in), or `size` with routing's own answer (404, 405 or a redirect) in `out`. `unmatched`,
    /// when given, is set when that answer is a 404 or 405 (for exception handlers).
    std::size_t match(request& req, response& out, bool* unmatched = nullptr) const;
    /// True when route `index` is a plain function, which call_now runs without a coroutine.
    static bool runs_now(std::size_t index) noexcept;
    /// Runs plain route `index` into `out`; its body must be buffered (see request::body).
    void call_now(std::size_t index, request& req, response& out) const;
    /// The synchronous half of dispatch: answers into `out` and returns `size` when no
    /// coroutine is needed (a plain handler ran, or 404/405/redirect); otherwise returns the
    /// index of the coroutine route for `invoke`. `unmatched` as for match.
    std::size_t route_now(request& req, response& out, bool* unmatched = nullptr) const;
    /// Runs coroutine route `index`, returning the handler's own awaitable.
    task<response> invoke(std::size_t index, request& req) const;
    /// True when the request reaches a coroutine route, which may read its body as it arrives
    /// (request::read_some); false for plain handlers (they get it whole) and unmatched paths.
    bool streams_body(request& req) const;

    /// Every route's name and pattern, for run-time reverse routing (request::url_path_for).
    static constexpr detail::route_table route_table() noexcept {
        return {detail::route_infos<Routes...>.data(), size, &detail::reverse_route};
    }

    /// The path of the route named `Name`, with `params` in the pattern's order.
    template <fixed_string Name, class... Params>
    std::string url_path_for(const Params&... params) const;

private:
    std::tuple<Routes...> routes_;
};

/// Builds a table from routes and tables, flattened in order.
template <class... Items>
constexpr auto routes(Items... items) {
    auto all = std::tuple_cat(detail::as_route_tuple(items)...);
    return std::apply([](auto... r) { return router<decltype(r)...>(r...); }, all);
}

/// The routes of `table` under `Prefix`: `mount<"/api">(api)` serves `/api/users` from `/users`.
template <fixed_string Prefix, class... Routes>
constexpr auto mount(const router<Routes...>& table) {
    static_assert(detail::check_pattern<Prefix>());
    static_assert(detail::pattern_of<Prefix>.param_count == 0,
                  "aster::mount: a mount prefix takes no parameters");
    static_assert(!Prefix.view().ends_with('/'),
                  "aster::mount: write the prefix without a trailing '/'");
    return std::apply(
        [](auto... r) {
            return router<decltype(r.template mounted_at<Prefix>())...>(
                r.template mounted_at<Prefix>()...);
        },
        table.entries());
}

} // namespace aster

// begin aster/impl/routing.hpp
// SPDX-License-Identifier: MIT
// Router dispatch and reverse routing.
#ifndef ASTER_IMPL_ROUTING_HPP
#define ASTER_IMPL_ROUTING_HPP


namespace aster {

namespace detail {

// What the WebSocket table holds for an HTTP route; never run (match_websocket skips them).
inline task<> no_websocket_route() { co_return; }

// A full match: the route's parameters become the request's path parameters.
template <class Route>
bool take_match(request& req, std::string_view path, std::span<std::string_view> values) {
    if (!Route::match_path(path, values.data()) || !Route::values_convert(values)) return false;
    request_access::clear_path_params(req);
    request_access::set_route(req, Route::pattern.view(), Route::label());
    for (std::size_t p = 0; p < Route::parsed.param_count; ++p)
        request_access::set_path_param(req, p, Route::parsed.param(p).text, values[p]);
    return true;
}

template <class Route>
bool path_matches(std::string_view path, std::span<std::string_view> values) {
    return Route::match_path(path, values.data()) && Route::values_convert(values);
}
} // namespace detail

template <class... Routes>
task<response> router<Routes...>::dispatch(request& req) const {
    response out;
    std::size_t index = match(req, out);
    if (index == size) co_return out;
    if (!runs_now(index)) co_return co_await invoke(index, req);
    // A plain handler reads buffered_body(): a body still streaming in is gathered first.
    if (detail::request_access::body_streaming(req)) co_await req.body();
    call_now(index, req, out);
    co_return out;
}

template <class... Routes>
bool router<Routes...>::runs_now(std::size_t index) noexcept {
    static constexpr std::array<bool, size> plain{[] {
        if constexpr (Routes::is_websocket) return false;
        else return Routes::runs_now;
    }()...};
    return plain[index];
}

template <class... Routes>
void router<Routes...>::call_now(std::size_t index, request& req, response& out) const {
    // A generated jump table: one call through a function pointer, whatever the route count.
    using runner = void (*)(const router&, request&, response&);
    static constexpr auto table = []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<runner, size>{+[](const router& self, request& r, response& o) {
            using route_type = std::tuple_element_t<I, std::tuple<Routes...>>;
            if constexpr (!route_type::is_websocket)
                if constexpr (route_type::runs_now) o = std::get<I>(self.routes_).call_now(r);
        }...};
    }
    (std::index_sequence_for<Routes...>{});
    table[index](*this, req, out);
}

template <class... Routes>
std::size_t router<Routes...>::route_now(request& req, response& out, bool* unmatched) const {
    std::size_t found = match(req, out, unmatched);
    if (found == size || !runs_now(found)) return found;
    call_now(found, req, out);
    return size;
}

template <class... Routes>
bool router<Routes...>::streams_body(request& req) const {
    response ignored;
    std::size_t found = match(req, ignored);
    return found != size && !runs_now(found);
}

template <class... Routes>
std::size_t router<Routes...>::match(request& req, response& out, bool* unmatched) const {
    const std::string_view path = req.path();
    const method wanted = req.method_id();
    std::array<std::string_view, request::max_path_params> values{};
    std::size_t found = size;
    method allowed_elsewhere = method::none;

    // First full match wins; a path match with the wrong method is remembered for the 405.
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (([&] {
             using route_type = std::tuple_element_t<I, std::tuple<Routes...>>;
             if constexpr (route_type::is_websocket) {
                 return false;
             } else {
                 if (!any(route_type::allowed & wanted)) {
                     if (detail::path_matches<route_type>(path, values))
                         allowed_elsewhere = allowed_elsewhere | route_type::allow_list;
                     return false;
                 }
                 if (!detail::take_match<route_type>(req, path, values)) return false;
                 found = I;
                 return true;
             }
         }()) ||
         ...);
    }
    (std::index_sequence_for<Routes...>{});

    if (found != size) return found;
    if (allowed_elsewhere != method::none) {
        out = plain_text("Method Not Allowed", status::method_not_allowed);
        out.header("Allow", allow_header(allowed_elsewhere));
        if (unmatched) *unmatched = true;
        return size;
    }
    // redirect_slashes, as Starlette: only when the other spelling would match some route.
    if (path != "/" && !path.empty()) {
        std::string other(path);
        if (other.ends_with('/')) other.pop_back();
        else other.push_back('/');
        bool other_matches = false;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            // Converting too: `/n/99999999999999999999/` must not redirect to a 404.
            ((other_matches = other_matches || (!Routes::is_websocket &&
                                                detail::path_matches<Routes>(other, values))),
             ...);
        }
        (std::index_sequence_for<Routes...>{});
        if (other_matches) {
            std::string location;
            std::string raw(req.raw_path());
            if (raw.find('%') == std::string::npos) {
                if (raw.ends_with('/')) raw.pop_back();
                else raw.push_back('/');
            } else {
                // `/x%2F` decodes to `/x/`: the other spelling is `/x`, which the raw path with a
                // slash changed (`/x%2F/`) is not. Encode the decoded path that matched instead.
                raw = percent_encode(other, "/!$&'()*+,;=:@");
            }
            if (auto host = req.header("host"); host && !host->empty())
                location.append(req.is_secure() ? "https://" : "http://").append(*host);
            location += raw;
            if (!req.query_string().empty()) location.append("?").append(req.query_string());
            out = redirect(std::move(location));
            return size;
        }
    }
    out = plain_text("Not Found", status::not_found);
    if (unmatched) *unmatched = true;
    return size;
}

template <class... Routes>
task<response> router<Routes...>::invoke(std::size_t index, request& req) const {
    using invoker = task<response> (*)(const router&, request&);
    static constexpr auto table = []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<invoker, size>{+[](const router& self, request& r) {
            using route_type = std::tuple_element_t<I, std::tuple<Routes...>>;
            if constexpr (route_type::is_websocket) return detail::ready_response({});
            else return std::get<I>(self.routes_).invoke(r);
        }...};
    }
    (std::index_sequence_for<Routes...>{});
    return table[index](*this, req);
}

template <class... Routes>
std::size_t router<Routes...>::match_websocket(request& req) const {
    std::array<std::string_view, request::max_path_params> values{};
    std::size_t found = size;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (([&] {
             using route_type = std::tuple_element_t<I, std::tuple<Routes...>>;
             if constexpr (!route_type::is_websocket) {
                 return false;
             } else {
                 if (!detail::take_match<route_type>(req, req.path(), values)) return false;
                 found = I;
                 return true;
             }
         }()) ||
         ...);
    }
    (std::index_sequence_for<Routes...>{});
    return found;
}

template <class... Routes>
task<> router<Routes...>::run_websocket(std::size_t index, request& req, websocket& ws) const {
    using invoker = task<> (*)(const router&, request&, websocket&);
    // Plain functions handing back the handler's own task: no coroutine frame of their own
    // stays alive under a WebSocket for the connection's life.
    static constexpr auto table = []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<invoker, size>{
            +[](const router& self, request& r, websocket& w) -> task<> {
                using route_type = std::tuple_element_t<I, std::tuple<Routes...>>;
                if constexpr (route_type::is_websocket) return std::get<I>(self.routes_).run(r, w);
                else return detail::no_websocket_route();
            }...};
    }
    (std::index_sequence_for<Routes...>{});
    return table[index](*this, req, ws);
}

template <class... Routes>
template <fixed_string Name, class... Params>
std::string router<Routes...>::url_path_for(const Params&... params) const {
    constexpr std::size_t index = detail::index_of_name<Name, Routes...>();
    if constexpr (index == size)
        static_assert(detail::url_path_for_unknown_name<
                          Name>::name_a_route_so_with_named_or_correct_the_spelling(),
                      "aster::url_path_for: no route has this name (the first error names it)");
    if constexpr (index < size) {
        using route_type = std::tuple_element_t<index, std::tuple<Routes...>>;
        constexpr auto& pp = route_type::parsed;
        static_assert(sizeof...(Params) == pp.param_count,
                      "aster::url_path_for: give exactly one value per path parameter of the "
                      "named route, in the pattern's order");
        std::string out;
        auto append_param = [&](std::size_t wanted_index) {
            std::size_t i = 0;
            ((i++ == wanted_index
                  ? detail::append_path_value(out, pp.param(wanted_index).conv, params)
                  : void()),
             ...);
        };
        for (std::size_t t = 0; t < pp.token_count; ++t) {
            if (pp.tokens[t].is_param) append_param(pp.tokens[t].param_index);
            else out += pp.tokens[t].text;
        }
        return out;
    } else {
        return {};
    }
}

} // namespace aster

#endif // ASTER_IMPL_ROUTING_HPP
// end aster/impl/routing.hpp

#endif // ASTER_ROUTING_HPP
// end aster/routing.hpp
// begin aster/middleware.hpp
// SPDX-License-Identifier: MIT
// Middleware composed at compile time around the route table: `aster::middleware(a, b)`.
#ifndef ASTER_MIDDLEWARE_HPP
#define ASTER_MIDDLEWARE_HPP


#include <concepts>
#include <optional>
#include <tuple>

namespace aster {

/// The rest of the chain, as a middleware sees it: the next middleware, or the router.
/// Cheap to copy (two pointers); valid while the application lives.
class call_next {
public:
    using function = task<response> (*)(const void* app, request& req);
    constexpr call_next(const void* app, function fn) noexcept : app_(app), fn_(fn) {}

    task<response> operator()(request& req) const { return fn_(app_, req); }

private:
    const void* app_;
    function fn_;
};

/// What `aster::middleware(...)` accepts: `task<response> operator()(request&, call_next) const`.
/// It may also define `std::optional<response> on_websocket(request&) const`: a refusal (sent
/// as the HTTP answer to the handshake) or nullopt to let the WebSocket through. A middleware
/// without it lets every WebSocket through untouched.
template <class M>
concept Middleware = requires(const M& m, request& req, call_next next) {
    { m(req, next) } -> std::same_as<task<response>>;
};

template <class M>
concept WebSocketMiddleware = requires(const M& m, request& req) {
    { m.on_websocket(req) } -> std::same_as<std::optional<response>>;
};

/// An ordered list of middleware; the first is outermost (sees the request first and the
/// response last), as in Starlette.
template <class... M>
struct middleware_list {
    std::tuple<M...> items;
};

/// @code
/// aster::application app{routes, aster::middleware(timing{},
/// aster::trusted_host{{"example.com"}})};
/// @endcode
template <class... M>
constexpr middleware_list<M...> middleware(M... m) {
    static_assert(
        (Middleware<M> && ...),
        "aster::middleware: each middleware needs "
        "`aster::task<aster::response> operator()(aster::request&, aster::call_next) const`");
    return {std::tuple<M...>(std::move(m)...)};
}

} // namespace aster

#endif // ASTER_MIDDLEWARE_HPP
// end aster/middleware.hpp
// begin aster/lifespan.hpp
// SPDX-License-Identifier: MIT
// `lifespan`: coroutines an app runs once before serving and once after its last connection.
#ifndef ASTER_LIFESPAN_HPP
#define ASTER_LIFESPAN_HPP


namespace aster {

/// Startup and shutdown hooks, as Starlette's lifespan: `startup` runs before the first
/// connection is accepted (a throw stops the server from starting, with that exception),
/// `shutdown` after the last connection has ended on a graceful stop. Either may be null.
/// Plain function pointers (captureless lambdas convert), so an app stays constexpr.
/// @code
/// aster::application app{routes, aster::lifespan{.startup = open_pool, .shutdown = close_pool}};
/// @endcode
/// An object every handler reaches as `req.state<T>()` (Starlette's lifespan state): the app
/// does not own it, and handlers on several server threads share it, so it must outlive the
/// app and be safe for them to use concurrently.
struct app_state {
    void* object = nullptr;
    const void* type = nullptr; // detail::type_tag<T>, checked by request::state<T>()
};

template <class T>
constexpr app_state state_of(T& object) noexcept {
    return {static_cast<void*>(&object), &detail::type_tag<T>};
}

struct lifespan {
    task<> (*startup)() = nullptr;
    task<> (*shutdown)() = nullptr;
    app_state state{}; // for req.state<T>(); set it with aster::state_of(object)
};

} // namespace aster

#endif // ASTER_LIFESPAN_HPP
// end aster/lifespan.hpp
// begin aster/exception_handlers.hpp
// SPDX-License-Identifier: MIT
// Exception handlers: responses for an http_exception's status (and routing's own 404/405) and
// for exceptions of the app's own types, as Starlette's `exception_handlers`.
#ifndef ASTER_EXCEPTION_HANDLERS_HPP
#define ASTER_EXCEPTION_HANDLERS_HPP


#include <concepts>
#include <exception>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>

namespace aster {

/// Answers an `http_exception` with status `S`, and routing's own 404 or 405 when `S` is that
/// (passed as an http_exception carrying the status and, for 405, the `Allow` header).
template <status S, class F>
struct status_handler {
    F fn;
};

/// Answers an exception of type `E` (or derived from it) that a handler or middleware threw.
template <class E, class F>
struct exception_handler {
    F fn;
};

/// `fn`: `aster::response fn(aster::request&, const aster::http_exception&)`.
template <auto S, class F>
constexpr status_handler<static_cast<status>(S), F> on_status(F fn) {
    static_assert(std::is_invocable_r_v<response, const F&, request&, const http_exception&>,
                  "aster::on_status: the handler needs "
                  "`aster::response (aster::request&, const aster::http_exception&)`");
    return {fn};
}

/// `fn`: `aster::response fn(aster::request&, const E&)`.
template <class E, class F>
constexpr exception_handler<E, F> on_exception(F fn) {
    static_assert(
        std::is_invocable_r_v<response, const F&, request&, const E&>,
        "aster::on_exception<E>: the handler needs `aster::response (aster::request&, const E&)`");
    return {fn};
}

/// The handlers of an app, given to its constructor after the optional middleware:
/// status handlers are looked up first, then exception types in the order given. An
/// exception none of them takes is answered as without handlers (500, or the http_exception's
/// own status). A handler that throws is answered as an unhandled exception.
/// @code
/// aster::application app{routes, aster::exception_handlers(
///     aster::on_status<404>([](aster::request&, const aster::http_exception&) {
///         return aster::html("<h1>Nothing here</h1>", aster::status::not_found); }),
///     aster::on_exception<out_of_stock>([](aster::request&, const out_of_stock& e) {
///         return aster::plain_text(e.what(), aster::status::conflict); }))};
/// @endcode
template <class... H>
struct exception_handler_list {
    std::tuple<H...> items;
};

template <class... H>
constexpr exception_handler_list<H...> exception_handlers(H... h) {
    return {std::tuple<H...>(std::move(h)...)};
}

namespace detail {

template <class T>
inline constexpr bool is_status_handler = false;
template <status S, class F>
inline constexpr bool is_status_handler<status_handler<S, F>> = true;

/// The innermost layer of an app with exception handlers: runs the router itself, so it can
/// tell routing's own 404/405 from a handler's response.
template <class... H>
struct exception_guard {
    std::tuple<H...> handlers;

    template <class Router>
    task<response> run(const Router& router, request& req) const {
        response out;
        bool unmatched = false;
        std::exception_ptr error;
        try {
            std::size_t i = router.match(req, out, &unmatched);
            if (i != Router::size && !Router::runs_now(i)) {
                out = co_await router.invoke(i, req);
            } else if (i != Router::size) {
                // A plain handler reads buffered_body(): gather a body still streaming in.
                if (request_access::body_streaming(req)) co_await req.body();
                router.call_now(i, req, out);
            }
        } catch (...) {
            error = std::current_exception();
        }
        if (error) co_return handle(req, error); // rethrows what no handler takes
        if (unmatched) {
            http_exception::header_list headers;
            if (auto allow = out.header_value("allow"); !allow.empty())
                headers.emplace_back("Allow", std::string(allow));
            http_exception e(out.status(), {}, std::move(headers));
            if (auto r = by_status(req, e)) co_return std::move(*r);
        }
        co_return out;
    }

    std::optional<response> by_status(request& req, const http_exception& e) const {
        std::optional<response> r;
        std::apply(
            [&](const auto&... h) {
                auto one = [&](const auto& item) {
                    using item_type = std::remove_cvref_t<decltype(item)>;
                    if constexpr (is_status_handler<item_type>) {
                        if (e.status() == status_of(item)) {
                            r.emplace(item.fn(req, e));
                            return true;
                        }
                    }
                    return false;
                };
                (one(h) || ...);
            },
            handlers);
        return r;
    }

    response handle(request& req, std::exception_ptr error) const {
        try {
            std::rethrow_exception(error);
        } catch (const http_exception& e) {
            if (auto r = by_status(req, e)) return std::move(*r);
        } catch (...) {
        }
        std::optional<response> r;
        std::apply([&](const auto&... h) { (by_type(req, error, h, r) || ...); }, handlers);
        if (r) return std::move(*r);
        std::rethrow_exception(error);
    }

private:
    template <status S, class F>
    static constexpr status status_of(const status_handler<S, F>&) noexcept {
        return S;
    }

    template <class T>
    static bool by_type(request&, std::exception_ptr, const T&, std::optional<response>&) {
        return false; // a status handler
    }
    template <class E, class F>
    static bool by_type(request& req, std::exception_ptr error, const exception_handler<E, F>& h,
                        std::optional<response>& r) {
        try {
            std::rethrow_exception(error);
        } catch (const E& e) {
            r.emplace(h.fn(req, e));
            return true;
        } catch (...) {
        }
        return false;
    }
};

template <class T>
inline constexpr bool is_exception_guard = false;
template <class... H>
inline constexpr bool is_exception_guard<exception_guard<H...>> = true;

} // namespace detail

} // namespace aster

#endif // ASTER_EXCEPTION_HANDLERS_HPP
// end aster/exception_handlers.hpp
// begin aster/application.hpp
// SPDX-License-Identifier: MIT
// `application`: the route table plus what serves it; what test_client and the server run.
#ifndef ASTER_APPLICATION_HPP
#define ASTER_APPLICATION_HPP

// begin aster/detail/app_ref.hpp
// SPDX-License-Identifier: MIT
// app_ref: what the connection engine needs from an app, behind a few function pointers.
#ifndef ASTER_DETAIL_APP_REF_HPP
#define ASTER_DETAIL_APP_REF_HPP


#include <cstddef>

namespace aster {
class request;
class response;
class websocket;
} // namespace aster

namespace aster::detail {

/// The route table seen through plain function pointers. The connection, WebSocket and server
/// code talks to apps only through this, so it is compiled once for every app rather than once
/// per route table, and can be compiled separately (ASTER_SEPARATE_COMPILATION). The cost is
/// one indirect call per request. The app must outlive every app_ref to it.
struct app_ref {
    /// Returned by route_now and match_websocket when there is nothing more to run.
    static constexpr std::size_t none = static_cast<std::size_t>(-1);

    const void* app = nullptr;
    /// Routes and, for a plain handler, answers into the response; returns `none` then, or the
    /// index of the coroutine route that `invoke` must run.
    std::size_t (*route_now)(const void* app, request& req, response& out) = nullptr;
    task<response> (*invoke)(const void* app, std::size_t index, request& req) = nullptr;
    /// Whether the request reaches a coroutine route, which may read its body as it arrives
    /// (checked when a body is large or still arriving); plain handlers get it whole.
    bool (*streams_body)(const void* app, request& req) = nullptr;
    /// The WebSocket route for the request's path, with path parameters filled in, or `none`.
    std::size_t (*match_websocket)(const void* app, request& req) = nullptr;
    task<> (*run_websocket)(const void* app, std::size_t index, request& req,
                            websocket& ws) = nullptr;
    /// Middleware that may refuse a WebSocket handshake: true with the refusal in `out`.
    /// Null when no middleware looks at WebSockets.
    bool (*check_websocket)(const void* app, request& req, response& out) = nullptr;
    /// The app's lifespan hooks (aster/lifespan.hpp); null when it has none.
    task<> (*startup)() = nullptr;
    task<> (*shutdown)() = nullptr;
    /// The app's state for request::state<T>() and the tag of its type; null when none.
    void* state = nullptr;
    const void* state_type = nullptr;
    /// The routes by name, for request::url_path_for.
    route_table routes{};
    /// The app serves metrics_route: its connections count requests and sessions.
    bool has_metrics = false;
};

/// Binds an app_ref to a router (anything with route_now, invoke, streams_body, match_websocket,
/// run_websocket and a static `size` meaning "none").
template <class Router>
app_ref make_app_ref(const Router& router) noexcept {
    app_ref ref;
    ref.app = &router;
    ref.routes = router.route_table();
    ref.has_metrics = Router::has_metrics;
    ref.route_now = +[](const void* p, request& req, response& out) -> std::size_t {
        std::size_t i = static_cast<const Router*>(p)->route_now(req, out);
        return i == Router::size ? app_ref::none : i;
    };
    ref.invoke = +[](const void* p, std::size_t i, request& req) -> task<response> {
        return static_cast<const Router*>(p)->invoke(i, req);
    };
    ref.streams_body = +[](const void* p, request& req) {
        return static_cast<const Router*>(p)->streams_body(req);
    };
    ref.match_websocket = +[](const void* p, request& req) -> std::size_t {
        std::size_t i = static_cast<const Router*>(p)->match_websocket(req);
        return i == Router::size ? app_ref::none : i;
    };
    ref.run_websocket = +[](const void* p, std::size_t i, request& req, websocket& ws) -> task<> {
        return static_cast<const Router*>(p)->run_websocket(i, req, ws);
    };
    return ref;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_APP_REF_HPP
// end aster/detail/app_ref.hpp

#include <cstdint>
#include <functional>
#include <tuple>
#include <type_traits>
#include <string>

namespace aster {

/// An app: a compile-time route table and the entry points that serve it.
/// Thread safety: const after construction; one app may serve many threads.
/// @code
/// constexpr auto table = aster::routes(aster::route<"/hello">(hello));
/// int main() { aster::application app{table}; app.run({.port = 8000}); }
/// @endcode
template <class Router, class Middleware = middleware_list<>>
class application;

/// With no middleware (the default) requests go straight to the router: no extra call, no
/// coroutine frame. With `aster::middleware(a, b)` each request runs a → b → router.
template <class Router, class... M>
class application<Router, middleware_list<M...>> {
public:
    using router_type = Router;
    static constexpr bool has_middleware = sizeof...(M) > 0;

    constexpr explicit application(Router table) : router_(table) {}
    constexpr application(Router table, middleware_list<M...> mw)
        : router_(table), middleware_(std::move(mw.items)) {}
    /// With startup/shutdown hooks (aster/lifespan.hpp), after the optional middleware.
    constexpr application(Router table, aster::lifespan hooks) : router_(table), lifespan_(hooks) {}
    constexpr application(Router table, middleware_list<M...> mw, aster::lifespan hooks)
        : router_(table), middleware_(std::move(mw.items)), lifespan_(hooks) {}
    /// With exception handlers (aster/exception_handlers.hpp): they sit innermost, around the
    /// router, as `detail::exception_guard`, the last entry of the middleware list.
    template <class... N, class... H>
    constexpr application(Router table, middleware_list<N...> mw, exception_handler_list<H...> eh,
                          aster::lifespan hooks = {})
        : router_(table),
          middleware_(std::tuple_cat(std::move(mw.items),
                                     std::tuple<detail::exception_guard<H...>>(
                                         detail::exception_guard<H...>{std::move(eh.items)}))),
          lifespan_(hooks) {}
    template <class... H>
    constexpr application(Router table, exception_handler_list<H...> eh, aster::lifespan hooks = {})
        : application(table, middleware_list<>{}, std::move(eh), hooks) {}

    /// Runs one request through the middleware and the router.
    task<response> handle(request& req) const {
        if constexpr (has_middleware) return level<0>(this, req);
        else return router_.dispatch(req);
    }

    const Router& routes() const noexcept { return router_; }
    const aster::lifespan& lifespan() const noexcept { return lifespan_; }

    /// The app as the connection engine sees it (valid while this app lives).
    detail::app_ref ref() const noexcept {
        detail::app_ref r = detail::make_app_ref(router_);
        r.startup = lifespan_.startup;
        r.shutdown = lifespan_.shutdown;
        r.state = lifespan_.state.object;
        r.state_type = lifespan_.state.type;
        if constexpr (has_middleware) {
            r.app = this;
            // Everything goes through invoke, which runs the chain (index 0: "the chain").
            r.route_now = +[](const void*, request&, response&) -> std::size_t { return 0; };
            r.invoke = +[](const void* p, std::size_t, request& req) -> task<response> {
                return level<0>(p, req);
            };
            // Middleware sees every body as the route would: streamed for coroutine routes.
            r.streams_body = +[](const void* p, request& req) {
                return static_cast<const application*>(p)->router_.streams_body(req);
            };
            r.match_websocket = +[](const void* p, request& req) -> std::size_t {
                std::size_t i = static_cast<const application*>(p)->router_.match_websocket(req);
                return i == Router::size ? detail::app_ref::none : i;
            };
            r.run_websocket = +[](const void* p, std::size_t i, request& req,
                                  websocket& ws) -> task<> {
                return static_cast<const application*>(p)->router_.run_websocket(i, req, ws);
            };
            if constexpr ((WebSocketMiddleware<M> || ...))
                r.check_websocket = +[](const void* p, request& req, response& out) {
                    return static_cast<const application*>(p)->refuse_websocket(req, out);
                };
        }
        return r;
    }

    /// The path of the route named `Name`; a missing name or a wrong parameter count does not
    /// compile.
    template <fixed_string Name, class... Params>
    std::string url_path_for(const Params&... params) const {
        return router_.template url_path_for<Name>(params...);
    }

    /// Serves on `config.host:config.port` until SIGINT/SIGTERM (defined in server.hpp).
    void run(server_config config = {}) const;

    /// Serves inside the caller's own io_context, as one coroutine on its executor (`threads`
    /// and `handle_signals` do not apply: the caller's loop and signals decide).
    /// `on_listening` gets the bound port (useful with port 0). Cancelling the coroutine stops
    /// it gracefully, as server::stop() does: no new connections, requests in flight finish,
    /// WebSockets close with 1001, and after `shutdown_timeout` (or a second cancellation) the
    /// rest are closed; it returns once every connection has ended. Bind/resolve failures throw
    /// std::system_error.
    /// @code
    /// asio::cancellation_signal stop;
    /// asio::co_spawn(ctx, app.serve({.port = 8080}),
    ///                asio::bind_cancellation_slot(stop.slot(), asio::detached));
    /// // later, on ctx's thread: stop.emit(asio::cancellation_type::terminal);
    /// @endcode
    task<> serve(server_config config = {},
                 std::function<void(std::uint16_t)> on_listening = {}) const;

private:
    // Level I runs middleware I with the rest of the chain as its `call_next`; past the last
    // one it is the router.
    template <std::size_t I>
    static task<response> level(const void* p, request& req) {
        const auto& self = *static_cast<const application*>(p);
        if constexpr (I == sizeof...(M)) return self.router_.dispatch(req);
        else if constexpr (detail::is_exception_guard<std::tuple_element_t<I, std::tuple<M...>>>)
            return std::get<I>(self.middleware_).run(self.router_, req);
        else return std::get<I>(self.middleware_)(req, call_next(p, &level<I + 1>));
    }

    // The first middleware (outermost first) that refuses the handshake answers it.
    bool refuse_websocket(request& req, response& out) const {
        return std::apply(
            [&](const auto&... m) {
                auto one = [&](const auto& item) {
                    if constexpr (WebSocketMiddleware<std::remove_cvref_t<decltype(item)>>) {
                        if (auto refusal = item.on_websocket(req)) {
                            out = std::move(*refusal);
                            return true;
                        }
                    }
                    return false;
                };
                return (one(m) || ...);
            },
            middleware_);
    }

    Router router_;
    [[no_unique_address]] std::tuple<M...> middleware_;
    aster::lifespan lifespan_;
};

template <class Router>
application(Router) -> application<Router>;
template <class Router, class... M>
application(Router, middleware_list<M...>) -> application<Router, middleware_list<M...>>;
template <class Router>
application(Router, lifespan) -> application<Router>;
template <class Router, class... M>
application(Router, middleware_list<M...>, lifespan) -> application<Router, middleware_list<M...>>;
template <class Router, class... M, class... H>
application(Router, middleware_list<M...>, exception_handler_list<H...>)
    -> application<Router, middleware_list<M..., detail::exception_guard<H...>>>;
template <class Router, class... M, class... H>
application(Router, middleware_list<M...>, exception_handler_list<H...>, lifespan)
    -> application<Router, middleware_list<M..., detail::exception_guard<H...>>>;
template <class Router, class... H>
application(Router, exception_handler_list<H...>)
    -> application<Router, middleware_list<detail::exception_guard<H...>>>;
template <class Router, class... H>
application(Router, exception_handler_list<H...>, lifespan)
    -> application<Router, middleware_list<detail::exception_guard<H...>>>;

/// Short name for the common spelling `aster::app app{routes};`.
template <class Router, class Middleware = middleware_list<>>
using app = application<Router, Middleware>;

} // namespace aster

#endif // ASTER_APPLICATION_HPP
// end aster/application.hpp
// begin aster/metrics.hpp
// SPDX-License-Identifier: MIT
// metrics_route: the server's counters in Prometheus' text format, for scraping.
#ifndef ASTER_METRICS_HPP
#define ASTER_METRICS_HPP

// begin aster/detail/metrics_registry.hpp
// SPDX-License-Identifier: MIT
// Counters for metrics_route: one set per event loop, written by its thread alone without a lock
// and summed by a scrape from any thread, then rendered in Prometheus' text format.
#ifndef ASTER_DETAIL_METRICS_REGISTRY_HPP
#define ASTER_DETAIL_METRICS_REGISTRY_HPP


#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace aster::detail {

/// A counter one thread adds to and any thread reads: a relaxed load and store, no locked
/// instruction (as live_count).
template <class T>
class owned_counter {
public:
    void add(T n) noexcept {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    T get() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<T> v_{};
};

struct metrics_registry;
/// Prometheus' text exposition format (version 0.0.4) of everything `registry` holds.
inline std::string render_metrics(const metrics_registry& registry);

/// The route label of requests routing itself answered (404, 405, a slash redirect) or that a
/// middleware answered before routing.
inline constexpr std::string_view unmatched_route = "<unmatched>";

/// One loop's metrics. Routes are told apart by their label's address (a static string: the
/// route's name or pattern), so recording is a short probe of fixed tables of atomics that the
/// owning thread fills and a scrape reads; past their size, entries go to an overflow row.
class loop_metrics {
public:
    // Prometheus' default buckets, in seconds.
    static constexpr std::array<double, 11> bounds{.005, .01, .025, .05, .1, .25,
                                                   .5,   1,   2.5,  5,   10};
    static constexpr std::size_t route_slots = 256, request_slots = 2048, close_slots = 512;

    /// One answered request: `seconds` from its head to the last byte of its response.
    void record_request(std::string_view route, method m, std::uint16_t status,
                        double seconds) noexcept {
        route_row& r = routes_[route_slot(route)];
        const std::uint32_t key = (std::uint32_t(&r - routes_.data()) + 1) << 16 |
                                  std::uint32_t(method_index(m)) << 12 | status;
        requests_[slot_for(keys_, key, request_slots)].count.add(1);
        std::size_t b = 0;
        while (b < bounds.size() && seconds > bounds[b]) ++b;
        r.buckets[b].add(1);
        r.seconds.add(seconds);
    }
    /// One WebSocket session that ended with `code`, with its messages each way.
    void record_websocket(std::string_view route, std::uint16_t code, std::uint64_t in,
                          std::uint64_t out) noexcept {
        route_row& r = routes_[route_slot(route)];
        r.sessions.add(1);
        r.messages_in.add(in);
        r.messages_out.add(out);
        const std::uint32_t key = (std::uint32_t(&r - routes_.data()) + 1) << 16 | code;
        closes_[slot_for(close_keys_, key, close_slots)].count.add(1);
    }

private:
    friend std::string render_metrics(const metrics_registry& registry);

    struct route_row {
        std::atomic<const char*> label{nullptr};
        std::atomic<std::size_t> label_size{0};
        std::array<owned_counter<std::uint64_t>, bounds.size() + 1> buckets; // the last: +Inf
        owned_counter<double> seconds;
        owned_counter<std::uint64_t> sessions, messages_in, messages_out;
    };
    struct count_row {
        owned_counter<std::uint64_t> count;
    };

    std::array<route_row, route_slots + 1> routes_; // the last: overflow
    std::array<std::atomic<std::uint32_t>, request_slots + 1> keys_{};
    std::array<count_row, request_slots + 1> requests_;
    std::array<std::atomic<std::uint32_t>, close_slots + 1> close_keys_{};
    std::array<count_row, close_slots + 1> closes_;

    static constexpr std::string_view method_names[8] = {"GET",   "HEAD",   "POST",    "PUT",
                                                         "PATCH", "DELETE", "OPTIONS", "OTHER"};

    static std::size_t method_index(method m) noexcept {
        constexpr method order[] = {method::get,   method::head,    method::post,   method::put,
                                    method::patch, method::delete_, method::options};
        for (std::size_t i = 0; i < 7; ++i)
            if (m == order[i]) return i;
        return 7;
    }
    std::size_t route_slot(std::string_view label) noexcept {
        std::size_t h = std::hash<const void*>{}(label.data()) % route_slots;
        for (std::size_t probe = 0; probe < route_slots; ++probe, h = (h + 1) % route_slots) {
            const char* seen = routes_[h].label.load(std::memory_order_acquire);
            if (seen == label.data()) return h;
            if (!seen) { // a new route: its counters are zero, then the label publishes it
                routes_[h].label_size.store(label.size(), std::memory_order_relaxed);
                routes_[h].label.store(label.data(), std::memory_order_release);
                return h;
            }
        }
        return route_slots;
    }
    template <std::size_t N>
    static std::size_t slot_for(std::array<std::atomic<std::uint32_t>, N>& keys, std::uint32_t key,
                                std::size_t slots) noexcept {
        std::size_t h = (key * 2654435761u) % slots;
        for (std::size_t probe = 0; probe < slots; ++probe, h = (h + 1) % slots) {
            const std::uint32_t seen = keys[h].load(std::memory_order_acquire);
            if (seen == key) return h;
            if (seen == 0) {
                keys[h].store(key, std::memory_order_release);
                return h;
            }
        }
        return slots;
    }
};

/// What a scrape reads besides the loops' counters: the server's live counts.
struct metrics_gauges {
    std::size_t connections = 0, sockets = 0, websockets = 0, buffered_bytes = 0, input_bytes = 0,
                budget_bytes = 0, budget_refusals = 0, refused_connections = 0;
};

/// Every loop of one server (or one test_client), for metrics_route to render.
struct metrics_registry {
    std::vector<const loop_metrics*> loops;
    std::function<metrics_gauges()> gauges; // empty: no gauges (a test_client)
};

inline std::string render_metrics(const metrics_registry& registry) {
    std::string out;
    auto quoted = [](std::string_view v) {
        std::string q;
        for (char c : v) {
            if (c == '\\' || c == '"') q.push_back('\\');
            if (c == '\n') q += "\\n";
            else q.push_back(c);
        }
        return q;
    };
    auto number = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        return std::string(buf);
    };
    auto family = [&](std::string_view name, std::string_view type, std::string_view help) {
        out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
        out.append(name).append(" ").append(type).append("\n");
    };
    if (registry.gauges) {
        const metrics_gauges g = registry.gauges();
        const std::tuple<std::string_view, std::string_view, std::string_view, std::size_t> rows[] =
            {
                {"aster_connections", "gauge", "Connection coroutines alive.", g.connections},
                {"aster_sockets", "gauge", "Accepted sockets not yet closed.", g.sockets},
                {"aster_websockets", "gauge", "WebSocket sessions alive.", g.websockets},
                {"aster_buffered_bytes", "gauge", "Output held for slow readers.",
                 g.buffered_bytes},
                {"aster_input_bytes", "gauge", "Read buffers held.", g.input_bytes},
                {"aster_memory_budget_bytes", "gauge",
                 "Memory budget reserved by large bodies and messages.", g.budget_bytes},
                {"aster_memory_budget_refusals_total", "counter",
                 "Bodies and messages refused for the memory budget.", g.budget_refusals},
                {"aster_refused_connections_total", "counter",
                 "Connections refused over a connection cap.", g.refused_connections},
            };
        for (const auto& [name, type, help, value] : rows) {
            family(name, type, help);
            out.append(name).append(" ").append(std::to_string(value)).append("\n");
        }
    }
    // Sum the loops, by label text (one route has one label on every loop).
    struct route_sum {
        std::array<std::uint64_t, loop_metrics::bounds.size() + 1> buckets{};
        double seconds = 0;
        std::uint64_t sessions = 0, in = 0, out = 0;
        std::map<std::pair<std::string, std::uint16_t>, std::uint64_t> requests; // (method, status)
        std::map<std::uint16_t, std::uint64_t> closes;
    };
    std::map<std::string, route_sum> routes;
    for (const loop_metrics* loop : registry.loops) {
        auto label_of = [&](std::size_t slot) -> std::string {
            if (slot >= loop_metrics::route_slots) return "<overflow>";
            const char* p = loop->routes_[slot].label.load(std::memory_order_acquire);
            return p ? std::string(p,
                                   loop->routes_[slot].label_size.load(std::memory_order_relaxed))
                     : std::string();
        };
        for (std::size_t slot = 0; slot <= loop_metrics::route_slots; ++slot) {
            const auto& row = loop->routes_[slot];
            std::string label = label_of(slot);
            if (label.empty()) continue;
            route_sum& sum = routes[label];
            for (std::size_t b = 0; b < sum.buckets.size(); ++b)
                sum.buckets[b] += row.buckets[b].get();
            sum.seconds += row.seconds.get();
            sum.sessions += row.sessions.get();
            sum.in += row.messages_in.get();
            sum.out += row.messages_out.get();
        }
        for (std::size_t i = 0; i < loop_metrics::request_slots; ++i) {
            const std::uint32_t key = loop->keys_[i].load(std::memory_order_acquire);
            if (key == 0) continue;
            std::string label = label_of((key >> 16) - 1);
            routes[label].requests[{std::string(loop_metrics::method_names[(key >> 12) & 15]),
                                    std::uint16_t(key & 0xfff)}] += loop->requests_[i].count.get();
        }
        for (std::size_t i = 0; i < loop_metrics::close_slots; ++i) {
            const std::uint32_t key = loop->close_keys_[i].load(std::memory_order_acquire);
            if (key == 0) continue;
            routes[label_of((key >> 16) - 1)].closes[std::uint16_t(key & 0xffff)] +=
                loop->closes_[i].count.get();
        }
    }
    family("aster_http_requests_total", "counter",
           "HTTP requests answered, by route, method and status.");
    for (const auto& [label, sum] : routes)
        for (const auto& [key, count] : sum.requests)
            out.append("aster_http_requests_total{route=\"")
                .append(quoted(label))
                .append("\",method=\"")
                .append(key.first)
                .append("\",status=\"")
                .append(std::to_string(key.second))
                .append("\"} ")
                .append(std::to_string(count))
                .append("\n");
    family("aster_http_request_duration_seconds", "histogram",
           "From a request's head to the last byte of its response, by route.");
    for (const auto& [label, sum] : routes) {
        std::uint64_t total = 0;
        for (auto b : sum.buckets) total += b;
        if (total == 0) continue;
        std::uint64_t cumulative = 0;
        const std::string route = "route=\"" + quoted(label) + "\"";
        for (std::size_t b = 0; b < sum.buckets.size(); ++b) {
            cumulative += sum.buckets[b];
            out.append("aster_http_request_duration_seconds_bucket{")
                .append(route)
                .append(",le=\"")
                .append(b < loop_metrics::bounds.size() ? number(loop_metrics::bounds[b]) : "+Inf")
                .append("\"} ")
                .append(std::to_string(cumulative))
                .append("\n");
        }
        out.append("aster_http_request_duration_seconds_sum{")
            .append(route)
            .append("} ")
            .append(number(sum.seconds))
            .append("\n");
        out.append("aster_http_request_duration_seconds_count{")
            .append(route)
            .append("} ")
            .append(std::to_string(total))
            .append("\n");
    }
    const std::tuple<std::string_view, std::string_view, std::uint64_t route_sum::*> ws[] = {
        {"aster_websocket_sessions_total", "WebSocket sessions ended, by route.",
         &route_sum::sessions},
        {"aster_websocket_messages_received_total", "WebSocket messages received, by route.",
         &route_sum::in},
        {"aster_websocket_messages_sent_total", "WebSocket messages sent, by route.",
         &route_sum::out},
    };
    for (const auto& [name, help, field] : ws) {
        family(name, "counter", help);
        for (const auto& [label, sum] : routes)
            if (sum.sessions > 0)
                out.append(name)
                    .append("{route=\"")
                    .append(quoted(label))
                    .append("\"} ")
                    .append(std::to_string(sum.*field))
                    .append("\n");
    }
    family("aster_websocket_closes_total", "counter",
           "WebSocket sessions ended, by route and close code.");
    for (const auto& [label, sum] : routes)
        for (const auto& [code, count] : sum.closes)
            out.append("aster_websocket_closes_total{route=\"")
                .append(quoted(label))
                .append("\",code=\"")
                .append(std::to_string(code))
                .append("\"} ")
                .append(std::to_string(count))
                .append("\n");
    return out;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_METRICS_REGISTRY_HPP
// end aster/detail/metrics_registry.hpp

namespace aster {

/// The route `metrics_route<Path>()` makes. An app that has one counts, on every loop and
/// without a lock, its requests by route (the route's name, else its pattern; `<unmatched>` for
/// routing's own 404s and 405s), method and status, a latency histogram per route (from the
/// request's head to the last byte of its response; Prometheus' default buckets), and its
/// WebSocket sessions, messages and close codes; a scrape sums the loops, with the server's
/// live counts (server_stats) as gauges. An app without one pays nothing.
template <fixed_string Path, fixed_string Name = "">
struct metrics_route_t : detail::route_base<Path, Name> {
    static constexpr bool is_metrics = true;
    static constexpr method allowed = method::get | method::head;
    static constexpr method allow_list = allowed;
    static constexpr bool runs_now = true;

    template <fixed_string NewName>
    constexpr auto named() const {
        return metrics_route_t<Path, NewName>{};
    }
    template <fixed_string Prefix>
    constexpr auto mounted_at() const {
        return metrics_route_t<detail::concat<Prefix, Path>(), Name>{};
    }
    static bool values_convert(std::span<const std::string_view>) { return true; }
    response call_now(request& req) const {
        const detail::metrics_registry* registry = detail::request_access::metrics(req);
        if (!registry)
            return plain_text("metrics are counted by aster's server and test_client only",
                              status::service_unavailable);
        return response::with_static_type(status::ok, detail::render_metrics(*registry),
                                          "text/plain; version=0.0.4; charset=utf-8");
    }
    task<response> invoke(request& req) const { co_return call_now(req); }
};

/// Serves the app's metrics at `Path` in Prometheus' text exposition format.
/// @code
/// constexpr auto routes = aster::routes(aster::route<"/hello">(hello),
///                                       aster::metrics_route<"/metrics">());
/// @endcode
template <fixed_string Path>
constexpr auto metrics_route() {
    static_assert(detail::check_pattern<Path>());
    static_assert(detail::pattern_of<Path>.param_count == 0,
                  "aster::metrics_route: the path takes no parameters");
    return metrics_route_t<Path>{};
}

} // namespace aster

#endif // ASTER_METRICS_HPP
// end aster/metrics.hpp
// begin aster/server.hpp
// SPDX-License-Identifier: MIT
// The TCP server: acceptors, one event loop per thread, a coroutine per connection, signals.
#ifndef ASTER_SERVER_HPP
#define ASTER_SERVER_HPP

// begin aster/detail/accept_backoff.hpp
// SPDX-License-Identifier: MIT
// accept_backoff: what an accept loop does when accept fails, and the descriptor limit it needs.
#ifndef ASTER_DETAIL_ACCEPT_BACKOFF_HPP
#define ASTER_DETAIL_ACCEPT_BACKOFF_HPP


#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

#include <sys/resource.h>

namespace aster::detail {

/// Out of descriptors or kernel memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the pending
/// connection stays queued and the next accept fails the same way at once.
inline bool is_resource_exhaustion(std::error_code ec) noexcept {
    if (ec.category() != std::system_category() && ec.category() != std::generic_category())
        return false;
    const int e = ec.value();
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

/// Paces an accept loop through failures. An error that exhaustion causes is retried after a
/// pause that doubles from 10 ms to 500 ms (nginx pauses accepts for 500 ms), not at once: a
/// retry at once spins a core while nothing can change. One episode of failures logs two
/// lines, when it starts and when accepts succeed again, with the count in between.
class accept_backoff {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds first_pause{10};
    static constexpr std::chrono::milliseconds longest_pause{500};

    /// Records a failed accept; returns how long to wait before the next one (zero: at once).
    std::chrono::milliseconds failed(std::error_code ec) {
        if (failures_++ == 0) {
            started_ = clock::now();
            log(log_level::warning,
                "aster: accept failed: " + ec.message() +
                    (is_resource_exhaustion(ec)
                         ? " (out of file descriptors or memory: pausing accepts, retrying "
                           "every 10 to 500 ms; raise `ulimit -n` or lower max_connections)"
                         : ""));
        }
        // A one-off error (a client that aborted before accept) is retried at once.
        if (!is_resource_exhaustion(ec) && failures_ == 1) return std::chrono::milliseconds(0);
        pause_ = pause_.count() == 0 ? first_pause : std::min(pause_ * 2, longest_pause);
        return pause_;
    }

    /// Records a successful accept, ending an episode of failures.
    void succeeded() {
        if (failures_ == 0) return;
        if (failures_ > 1 || pause_.count() > 0) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() -
                                                                            started_);
            log(log_level::warning, "aster: accepting again after " + std::to_string(failures_) +
                                        " failed accept(s) over " + std::to_string(ms.count()) +
                                        " ms");
        }
        failures_ = 0;
        pause_ = std::chrono::milliseconds(0);
    }

    std::size_t failures() const noexcept { return failures_; }

private:
    std::size_t failures_ = 0;
    std::chrono::milliseconds pause_{0};
    clock::time_point started_{};
};

/// What to do about RLIMIT_NOFILE for a server that may hold `wanted` descriptors: the soft
/// limit to set (raised toward the hard limit, never lowered), and a warning when even the
/// hard limit is short of it.
struct descriptor_plan {
    std::uint64_t soft = 0;
    std::string warning;
};

inline descriptor_plan plan_descriptors(std::uint64_t soft, std::uint64_t hard,
                                        std::uint64_t wanted) {
    descriptor_plan plan{soft, {}};
    if (soft >= wanted) return plan;
    plan.soft = std::min(hard, wanted);
    if (hard < wanted)
        plan.warning = "aster: max_connections cannot be reached: it needs about " +
                       std::to_string(wanted) + " file descriptors and the hard limit is " +
                       std::to_string(hard) + " (raise it with `ulimit -Hn`, LimitNOFILE= in " +
                       "systemd, or lower max_connections); beyond it new connections wait";
    return plan;
}

/// Room for `max_connections` sockets and a margin (listening sockets, the loops' own
/// descriptors, files being served): raises the soft RLIMIT_NOFILE as far as the hard limit
/// allows and logs a warning when that is not far enough.
inline void ensure_descriptor_room(std::size_t max_connections) {
    constexpr std::uint64_t margin = 64;
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    const auto wanted = std::uint64_t(max_connections) + margin;
    const auto plan = plan_descriptors(lim.rlim_cur, lim.rlim_max, wanted);
    if (plan.soft > lim.rlim_cur) {
        lim.rlim_cur = rlim_t(plan.soft);
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (!plan.warning.empty()) log(log_level::warning, plan.warning);
}

} // namespace aster::detail

#endif // ASTER_DETAIL_ACCEPT_BACKOFF_HPP
// end aster/detail/accept_backoff.hpp
// begin aster/detail/asio.hpp
// SPDX-License-Identifier: MIT
// The Asio pieces the protocol engines use, and nothing more: <asio.hpp> alone costs a second per
// TU.
#ifndef ASTER_DETAIL_ASIO_HPP
#define ASTER_DETAIL_ASIO_HPP


#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#if ASIO_VERSION >= 102300
#include <asio/as_tuple.hpp>
#else
#include <asio/experimental/as_tuple.hpp>
#endif

namespace aster::detail {

// Completion token for I/O whose failure is a value, not an exception (EOF, reset, timeout).
#if ASIO_VERSION >= 102300
inline constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
#else
inline constexpr auto use_tuple = net::experimental::as_tuple(net::use_awaitable);
#endif

} // namespace aster::detail

#endif // ASTER_DETAIL_ASIO_HPP
// end aster/detail/asio.hpp
// begin aster/detail/admission.hpp
// SPDX-License-Identifier: MIT
// admission: who gets served. The cap on open connections and the per-client cap, shared by
// the loops of one server or by serve()'s one loop.
#ifndef ASTER_DETAIL_ADMISSION_HPP
#define ASTER_DETAIL_ADMISSION_HPP

// begin aster/detail/client_limit.hpp
// SPDX-License-Identifier: MIT
// client_limit: open connections per client address, capped (server_config's per-client cap).
#ifndef ASTER_DETAIL_CLIENT_LIMIT_HPP
#define ASTER_DETAIL_CLIENT_LIMIT_HPP


#include <asio/ip/address.hpp>

#include <array>
#include <cstddef>
#include <map>
#include <mutex>

namespace aster::detail {

/// Counts open connections per address, shared by the loops of one server. Touched at accept
/// and at close only, never per request; with no cap it holds nothing and takes no lock.
class client_limit {
public:
    explicit client_limit(std::size_t cap) : cap_(cap) {}
    client_limit(const client_limit&) = delete;
    client_limit& operator=(const client_limit&) = delete;

    bool enabled() const noexcept { return cap_ != 0; }

    /// Counts a new connection from `address`; false (and not counted) past the cap.
    bool admit(const net::ip::address& address) {
        if (!enabled()) return true;
        std::lock_guard lock(mutex_);
        auto& n = open_[key(address)];
        if (n >= cap_) return false;
        ++n;
        return true;
    }
    void leave(const net::ip::address& address) {
        if (!enabled()) return;
        std::lock_guard lock(mutex_);
        auto it = open_.find(key(address));
        if (it != open_.end() && --it->second == 0) open_.erase(it);
    }

private:
    // IPv4 as its IPv6-mapped form, so one host counts once whichever socket family it used.
    static std::array<unsigned char, 16> key(const net::ip::address& a) {
        if (a.is_v4()) return net::ip::make_address_v6(net::ip::v4_mapped, a.to_v4()).to_bytes();
        return a.to_v6().to_bytes();
    }

    std::size_t cap_;
    std::mutex mutex_;
    std::map<std::array<unsigned char, 16>, std::size_t> open_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_CLIENT_LIMIT_HPP
// end aster/detail/client_limit.hpp

#include <atomic>
#include <cstddef>
#include <functional>

namespace aster::detail {

class admission {
public:
    admission(std::size_t max_connections, std::size_t max_per_client)
        : max_(max_connections), per_client_(max_per_client) {}
    admission(const admission&) = delete;
    admission& operator=(const admission&) = delete;

    /// Whether admit() needs the client's address (reading it costs a system call).
    bool needs_address() const noexcept { return per_client_.enabled(); }

    /// Counts a new connection; false (counted as refused, not as open) past either cap.
    bool admit(const net::ip::address& client) {
        if (open_.fetch_add(1, std::memory_order_relaxed) >= max_ || !per_client_.admit(client)) {
            open_.fetch_sub(1, std::memory_order_relaxed);
            refused_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        return true;
    }

    /// An admitted connection ended. on_empty runs when it was the last one.
    void leave(const net::ip::address& client) {
        per_client_.leave(client);
        if (open_.fetch_sub(1, std::memory_order_acq_rel) == 1 && on_empty) on_empty();
    }

    std::size_t open() const noexcept { return open_.load(std::memory_order_relaxed); }
    std::size_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }

    /// Set by serve(), whose graceful stop waits for the last connection; runs on the thread
    /// of the connection that ended.
    std::function<void()> on_empty;

private:
    std::size_t max_;
    client_limit per_client_;
    std::atomic<std::size_t> open_{0};
    std::atomic<std::size_t> refused_{0};
};

} // namespace aster::detail

#endif // ASTER_DETAIL_ADMISSION_HPP
// end aster/detail/admission.hpp
// begin aster/detail/connection_registry.hpp
// SPDX-License-Identifier: MIT
// The live connections of one event loop, so a graceful stop can ask each to finish.
#ifndef ASTER_DETAIL_CONNECTION_REGISTRY_HPP
#define ASTER_DETAIL_CONNECTION_REGISTRY_HPP


#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>

namespace aster::detail {

/// A count only its loop's thread changes and any thread may read (server::stats()): a relaxed
/// load and store, so no locked instruction on the loop's path.
class live_count {
public:
    void add(std::size_t n = 1) noexcept {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void sub(std::size_t n = 1) noexcept {
        value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
    }
    std::size_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::size_t> value_{0};
};

/// What one loop holds right now (see aster::server_stats).
struct loop_counters {
    live_count connections, sockets, websockets, buffered_bytes, input_bytes;
};

/// Decrements a count when it goes out of scope (a connection coroutine ends, say).
class count_guard {
public:
    explicit count_guard(live_count* c) noexcept : count_(c) {
        if (count_) count_->add();
    }
    ~count_guard() {
        if (count_) count_->sub();
    }
    count_guard(const count_guard&) = delete;
    count_guard& operator=(const count_guard&) = delete;

private:
    live_count* count_;
};

/// A connection that can be asked to wind down: finish the request in flight and close, or
/// close its WebSocket with 1001.
class closable {
public:
    virtual void begin_shutdown() = 0;
    /// Closes the connection's stream at once: what is in flight fails and unwinds.
    virtual void abort() noexcept = 0;
    /// The loop's watchdog, about once a second: gives up on a transfer that is too slow.
    virtual void watch(std::chrono::steady_clock::time_point) noexcept {}

protected:
    ~closable() = default;

private:
    friend class connection_registry;
    closable* prev_ = nullptr;
    closable* next_ = nullptr;
};

/// An intrusive list, touched only from its loop's thread: registering costs two pointer stores.
class connection_registry {
public:
    void add(closable& c) noexcept {
        c.prev_ = nullptr;
        c.next_ = head_;
        if (head_) head_->prev_ = &c;
        head_ = &c;
        ++size_;
    }
    void remove(closable& c) noexcept {
        if (c.prev_) c.prev_->next_ = c.next_;
        else head_ = c.next_;
        if (c.next_) c.next_->prev_ = c.prev_;
        c.prev_ = c.next_ = nullptr;
        --size_;
        if (size_ == 0 && on_empty) on_empty();
    }
    std::size_t size() const noexcept { return size_; }
    void shutdown_all() {
        for (closable* c = head_; c;) {
            closable* next = c->next_; // begin_shutdown may remove c
            c->begin_shutdown();
            c = next;
        }
    }
    void abort_all() noexcept {
        for (closable* c = head_; c; c = c->next_) c->abort();
    }
    /// Runs every connection's watch(); none is removed meanwhile (watch only cancels I/O).
    void sweep(std::chrono::steady_clock::time_point now) noexcept {
        for (closable* c = head_; c; c = c->next_) c->watch(now);
    }
    std::function<void()> on_empty; // set while stopping
    loop_counters counters;

private:
    closable* head_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_CONNECTION_REGISTRY_HPP
// end aster/detail/connection_registry.hpp
// begin aster/detail/serve_stream.hpp
// SPDX-License-Identifier: MIT
// serve_stream: the one lifecycle of a connection over any transport (TCP, TLS, the test
// client's in-memory stream): HTTP until it ends or upgrades, then the WebSocket, then the
// transport's graceful end.
#ifndef ASTER_DETAIL_SERVE_STREAM_HPP
#define ASTER_DETAIL_SERVE_STREAM_HPP

// begin aster/detail/http_connection.hpp
// SPDX-License-Identifier: MIT
// The keep-alive loop of one HTTP/1.x connection over any AsyncStream: read, parse, route, write.
#ifndef ASTER_DETAIL_HTTP_CONNECTION_HPP
#define ASTER_DETAIL_HTTP_CONNECTION_HPP

// begin aster/detail/conditional.hpp
// SPDX-License-Identifier: MIT
// Conditional requests (RFC 9110 §13): entity-tag lists, HTTP dates, and the 304 decision.
#ifndef ASTER_DETAIL_CONDITIONAL_HPP
#define ASTER_DETAIL_CONDITIONAL_HPP


#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace aster::detail {

/// IMF-fixdate (RFC 9110 §5.6.7) of `t`.
inline std::string http_date_of(std::time_t t) {
    std::tm parts{};
    gmtime_r(&t, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    return text;
}

/// IMF-fixdate only, which is what clients echo back.
inline std::optional<std::time_t> parse_http_date(std::string_view s) {
    if (s.size() != 29) return std::nullopt;
    std::tm parts{};
    char copy[30];
    s.copy(copy, s.size());
    copy[29] = '\0';
    const char* end = strptime(copy, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    if (!end || *end != '\0') return std::nullopt;
    return timegm(&parts);
}

/// RFC 9110 §8.8.3.2 weak comparison of `etag` against a list of entity tags, or `*`.
inline bool etag_matches(std::string_view list, std::string_view etag) noexcept {
    auto strip = [](std::string_view t) { return t.starts_with("W/") ? t.substr(2) : t; };
    return for_each_list_item(list, [&](std::string_view item) {
        return item == "*" || (!etag.empty() && strip(item) == strip(etag));
    });
}

/// RFC 9110 §13.2.2 for a response that is_conditional(): a GET or HEAD whose If-None-Match
/// matches its ETag, or that has no If-None-Match and an If-Modified-Since no older than its
/// Last-Modified, becomes 304 with no body. Run on the final response, after every
/// middleware, so the tags compared are those of the representation that would be sent.
inline void apply_preconditions(const request& req, response& res) {
    if (!res.is_conditional()) return;
    if (req.method_id() != method::get && req.method_id() != method::head) return;
    if (res.status() != status::ok && res.status() != status::partial_content) return;
    bool unchanged = false;
    if (auto inm = req.header("if-none-match")) {
        unchanged = etag_matches(*inm, res.header_value("etag"));
    } else if (auto ims = req.header("if-modified-since")) {
        auto since = parse_http_date(*ims);
        auto modified = parse_http_date(res.header_value("last-modified"));
        unchanged = since && modified && *modified <= *since;
    }
    if (!unchanged) return;
    res.set_status(status::not_modified);
    res.set_producer({});
    res.set_body({});
    res.remove_header("content-range");
}

} // namespace aster::detail

#endif // ASTER_DETAIL_CONDITIONAL_HPP
// end aster/detail/conditional.hpp
// begin aster/detail/http_parser.hpp
// SPDX-License-Identifier: MIT
// Incremental HTTP/1.x request parsing over llhttp, recording where each piece lies in the read
// buffer.
#ifndef ASTER_DETAIL_HTTP_PARSER_HPP
#define ASTER_DETAIL_HTTP_PARSER_HPP

// begin aster/detail/ws_handshake.hpp
// SPDX-License-Identifier: MIT
// Pure pieces of the WebSocket opening handshake (RFC 6455 §4): accept key, key check, token lists.
#ifndef ASTER_DETAIL_WS_HANDSHAKE_HPP
#define ASTER_DETAIL_WS_HANDSHAKE_HPP

// begin aster/detail/base64.hpp
// SPDX-License-Identifier: MIT
// Base64 with the standard alphabet and padding (RFC 4648 §4); the decoder is strict.
#ifndef ASTER_DETAIL_BASE64_HPP
#define ASTER_DETAIL_BASE64_HPP


#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace aster::detail {

/// Characters base64_encode_into() writes for `n` input bytes (always padded to a multiple of 4).
constexpr std::size_t base64_encoded_size(std::size_t n) noexcept { return (n + 2) / 3 * 4; }

/// Upper bound on the bytes base64_decode_into() writes for `n` input characters.
constexpr std::size_t base64_decoded_size_max(std::size_t n) noexcept { return n / 4 * 3; }

/// Encodes into `out`, which must hold base64_encoded_size(in.size()) chars; returns that count.
ASTER_DECL std::size_t base64_encode_into(std::span<const std::uint8_t> in, char* out) noexcept;

ASTER_DECL std::string base64_encode(std::span<const std::uint8_t> in);
ASTER_DECL std::string base64_encode(std::string_view in);

/// Decodes into `out` (room for base64_decoded_size_max(in.size()) bytes); returns the byte count,
/// or nullopt unless `in` is canonical base64 (see base64_decode). `out` may be partly written.
ASTER_DECL std::optional<std::size_t> base64_decode_into(std::string_view in,
                                                         std::uint8_t* out) noexcept;

/// Strict decode: length a multiple of 4, padding required and only at the end, no whitespace or
/// characters outside the alphabet, and unused trailing bits zero (RFC 4648 §3.5), so that every
/// byte string has exactly one accepted encoding.
ASTER_DECL std::optional<std::string> base64_decode(std::string_view in);

namespace base64_tables {

inline constexpr char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline constexpr std::uint8_t invalid = 0xFF;

// Character → 6-bit value, `invalid` for everything else ('=' included; padding is positional).
inline constexpr std::array<std::uint8_t, 256> values = [] {
    std::array<std::uint8_t, 256> t{};
    for (auto& v : t) v = invalid;
    for (std::uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
    return t;
}();

} // namespace base64_tables

ASTER_DECL std::size_t base64_encode_into(std::span<const std::uint8_t> in, char* out) noexcept {
    const auto* a = base64_tables::alphabet;
    const std::uint8_t* p = in.data();
    std::size_t n = in.size();
    char* o = out;
    for (; n >= 3; p += 3, n -= 3) {
        std::uint32_t v = std::uint32_t(p[0]) << 16 | std::uint32_t(p[1]) << 8 | p[2];
        *o++ = a[v >> 18];
        *o++ = a[(v >> 12) & 63];
        *o++ = a[(v >> 6) & 63];
        *o++ = a[v & 63];
    }
    if (n > 0) { // RFC 4648 §4: a final 1 or 2 bytes give 2 or 3 characters plus padding
        std::uint32_t v = std::uint32_t(p[0]) << 16 | (n == 2 ? std::uint32_t(p[1]) << 8 : 0);
        *o++ = a[v >> 18];
        *o++ = a[(v >> 12) & 63];
        *o++ = n == 2 ? a[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    return std::size_t(o - out);
}

ASTER_DECL std::string base64_encode(std::span<const std::uint8_t> in) {
    std::string s(base64_encoded_size(in.size()), '\0');
    base64_encode_into(in, s.data());
    return s;
}

ASTER_DECL std::string base64_encode(std::string_view in) {
    return base64_encode(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(in.data()), in.size()));
}

ASTER_DECL std::optional<std::size_t> base64_decode_into(std::string_view in,
                                                         std::uint8_t* out) noexcept {
    const auto& t = base64_tables::values;
    if (in.size() % 4 != 0) return std::nullopt;
    std::size_t pad = 0;
    if (!in.empty() && in.back() == '=') pad = in[in.size() - 2] == '=' ? 2 : 1;
    std::size_t full = in.size() - (pad ? 4 : 0); // characters in unpadded quanta
    std::uint8_t* o = out;
    for (std::size_t i = 0; i < full; i += 4) {
        std::uint8_t c0 = t[std::uint8_t(in[i])], c1 = t[std::uint8_t(in[i + 1])],
                     c2 = t[std::uint8_t(in[i + 2])], c3 = t[std::uint8_t(in[i + 3])];
        if ((c0 | c1 | c2 | c3) & 0xC0) return std::nullopt; // only `invalid` has high bits
        std::uint32_t v = std::uint32_t(c0) << 18 | std::uint32_t(c1) << 12 | c2 << 6 | c3;
        *o++ = std::uint8_t(v >> 16);
        *o++ = std::uint8_t(v >> 8);
        *o++ = std::uint8_t(v);
    }
    if (pad) {
        std::string_view last = in.substr(full);
        std::uint8_t c0 = t[std::uint8_t(last[0])], c1 = t[std::uint8_t(last[1])];
        std::uint8_t c2 = pad == 1 ? t[std::uint8_t(last[2])] : 0;
        if ((c0 | c1 | c2) & 0xC0) return std::nullopt; // also catches "==" before position 2
        // RFC 4648 §3.5: the bits padding leaves over must be zero, or two strings decode alike.
        if (pad == 2 ? (c1 & 0x0F) != 0 : (c2 & 0x03) != 0) return std::nullopt;
        *o++ = std::uint8_t(c0 << 2 | c1 >> 4);
        if (pad == 1) *o++ = std::uint8_t(c1 << 4 | c2 >> 2);
    }
    return std::size_t(o - out);
}

ASTER_DECL std::optional<std::string> base64_decode(std::string_view in) {
    std::string s(base64_decoded_size_max(in.size()), '\0');
    auto n = base64_decode_into(in, reinterpret_cast<std::uint8_t*>(s.data()));
    if (!n) return std::nullopt;
    s.resize(*n);
    return s;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_BASE64_HPP
// end aster/detail/base64.hpp
// begin aster/detail/sha1.hpp
// SPDX-License-Identifier: MIT
// SHA-1 (RFC 3174 / FIPS 180-4), only for the WebSocket accept key (RFC 6455 §4.2.2).
#ifndef ASTER_DETAIL_SHA1_HPP
#define ASTER_DETAIL_SHA1_HPP


#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace aster::detail {

using sha1_digest = std::array<std::uint8_t, 20>;

/// Incremental SHA-1: update() any number of times, then finish() once (it also resets).
/// SHA-1 is broken for collision resistance; RFC 6455 uses it only as a fixed transform.
class sha1_hasher {
public:
    sha1_hasher() noexcept { reset(); }

    void reset() noexcept;
    void update(std::span<const std::uint8_t> data) noexcept;
    void update(std::string_view data) noexcept {
        update({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
    }
    sha1_digest finish() noexcept;

private:
    void compress(const std::uint8_t* block) noexcept;

    std::array<std::uint32_t, 5> state_{};
    std::array<std::uint8_t, 64> block_{};
    std::size_t buffered_ = 0; // bytes waiting in block_
    std::uint64_t length_ = 0; // message length in bytes so far
};

/// SHA-1 of a whole message.
ASTER_DECL sha1_digest sha1(std::string_view data) noexcept;

ASTER_DECL void sha1_hasher::reset() noexcept {
    // FIPS 180-4 §5.3.1: initial hash value.
    state_ = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    buffered_ = 0;
    length_ = 0;
}

ASTER_DECL void sha1_hasher::compress(const std::uint8_t* block) noexcept {
    // FIPS 180-4 §6.1.2, with the 80-word schedule kept as a 16-word ring (RFC 3174 §7 method 2).
    std::uint32_t w[16];
    for (int t = 0; t < 16; ++t)
        w[t] = std::uint32_t(block[4 * t]) << 24 | std::uint32_t(block[4 * t + 1]) << 16 |
               std::uint32_t(block[4 * t + 2]) << 8 | std::uint32_t(block[4 * t + 3]);
    std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3], e = state_[4];
    for (int t = 0; t < 80; ++t) {
        if (t >= 16) {
            std::uint32_t x = w[(t + 13) & 15] ^ w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15];
            w[t & 15] = std::rotl(x, 1);
        }
        std::uint32_t f, k;
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999u;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        std::uint32_t temp = std::rotl(a, 5) + f + e + k + w[t & 15];
        e = d;
        d = c;
        c = std::rotl(b, 30);
        b = a;
        a = temp;
    }
    state_[0] += a;
    state_[1] += b;
    state_[2] += c;
    state_[3] += d;
    state_[4] += e;
}

ASTER_DECL void sha1_hasher::update(std::span<const std::uint8_t> data) noexcept {
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    length_ += n;
    if (buffered_ > 0) {
        std::size_t take = n < 64 - buffered_ ? n : 64 - buffered_;
        std::memcpy(block_.data() + buffered_, p, take);
        buffered_ += take;
        p += take;
        n -= take;
        if (buffered_ < 64) return;
        compress(block_.data());
        buffered_ = 0;
    }
    for (; n >= 64; p += 64, n -= 64) compress(p); // whole blocks straight from the input
    if (n > 0) std::memcpy(block_.data(), p, n);
    buffered_ = n;
}

ASTER_DECL sha1_digest sha1_hasher::finish() noexcept {
    // FIPS 180-4 §5.1.1: append 0x80, zeros up to 56 mod 64, then the bit length big-endian.
    std::uint64_t bits = length_ * 8;
    block_[buffered_++] = 0x80;
    if (buffered_ > 56) {
        std::memset(block_.data() + buffered_, 0, 64 - buffered_);
        compress(block_.data());
        buffered_ = 0;
    }
    std::memset(block_.data() + buffered_, 0, 56 - buffered_);
    for (std::size_t i = 0; i < 8; ++i) block_[56 + i] = std::uint8_t(bits >> (56 - 8 * i));
    compress(block_.data());
    sha1_digest out;
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 4; ++j)
            out[4 * i + j] = std::uint8_t(state_[i] >> (24 - 8 * j));
    reset();
    return out;
}

ASTER_DECL sha1_digest sha1(std::string_view data) noexcept {
    sha1_hasher h;
    h.update(data);
    return h.finish();
}

} // namespace aster::detail

#endif // ASTER_DETAIL_SHA1_HPP
// end aster/detail/sha1.hpp

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace aster::detail {

/// RFC 6455 §1.3: the GUID appended to the client's key before hashing.
inline constexpr std::string_view websocket_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 §4.2.2 item 5.4):
/// base64(sha1(key + GUID)), always 28 characters.
ASTER_DECL std::array<char, 28> websocket_accept_key(std::string_view sec_websocket_key) noexcept;

/// True when the key is base64 of exactly 16 bytes (RFC 6455 §4.1 item 7, §4.2.1 item 5).
ASTER_DECL bool is_valid_websocket_key(std::string_view key) noexcept;

/// True when the comma-separated list (e.g. `Connection: keep-alive, Upgrade`) holds `token`,
/// compared ASCII case-insensitively (RFC 9110 §7.6.1, §7.8).
ASTER_DECL bool header_has_token(std::string_view header_value, std::string_view token) noexcept;

/// The items of a comma-separated header value, trimmed of spaces and tabs, empty items dropped
/// (RFC 9110 §5.6.1), e.g. `Sec-WebSocket-Protocol: chat, superchat`. Views into the input.
ASTER_DECL std::vector<std::string_view> split_header_tokens(std::string_view header_value);

/// Checks a WebSocket upgrade request (RFC 6455 §4.2.1). Returns the HTTP response that refuses
/// it, or nullopt when it is acceptable.
ASTER_DECL std::optional<response> check_websocket_handshake(const request& req);

ASTER_DECL std::array<char, 28> websocket_accept_key(std::string_view sec_websocket_key) noexcept {
    sha1_hasher h;
    h.update(sec_websocket_key);
    h.update(websocket_guid);
    sha1_digest digest = h.finish();
    std::array<char, 28> out; // base64_encoded_size(20) == 28
    base64_encode_into(digest, out.data());
    return out;
}

ASTER_DECL bool is_valid_websocket_key(std::string_view key) noexcept {
    // 16 bytes encode to exactly 24 characters; the strict decoder rejects the other spellings.
    if (key.size() != base64_encoded_size(16)) return false;
    std::uint8_t bytes[base64_decoded_size_max(base64_encoded_size(16))];
    auto n = base64_decode_into(key, bytes);
    return n && *n == 16;
}

ASTER_DECL bool header_has_token(std::string_view header_value, std::string_view token) noexcept {
    return for_each_list_item(header_value,
                              [token](std::string_view item) { return iequals(item, token); });
}

ASTER_DECL std::vector<std::string_view> split_header_tokens(std::string_view header_value) {
    std::vector<std::string_view> items;
    for_each_list_item(header_value, [&items](std::string_view item) {
        items.push_back(item);
        return false;
    });
    return items;
}

ASTER_DECL std::optional<response> check_websocket_handshake(const request& req) {
    // RFC 6455 §4.2.1: a GET over HTTP/1.1 with Connection: Upgrade, version 13 and a key.
    if (req.method_id() != method::get)
        return plain_text("WebSocket handshake must use GET", status::bad_request);
    if (req.version_major() != 1 || req.version_minor() < 1)
        return plain_text("WebSocket handshake needs HTTP/1.1", status::bad_request);
    auto connection = req.header("connection");
    if (!connection || !header_has_token(*connection, "upgrade"))
        return plain_text("WebSocket handshake needs Connection: Upgrade", status::bad_request);
    auto version = req.header("sec-websocket-version");
    if (!version || *version != "13") {
        // §4.4: tell the client which version we speak.
        auto r = plain_text("Unsupported WebSocket version; use 13", status::upgrade_required);
        r.header("Sec-WebSocket-Version", "13");
        return r;
    }
    auto key = req.header("sec-websocket-key");
    if (!key || !is_valid_websocket_key(*key))
        return plain_text("Sec-WebSocket-Key must be 16 bytes in base64", status::bad_request);
    return std::nullopt;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_WS_HANDSHAKE_HPP
// end aster/detail/ws_handshake.hpp

#include <llhttp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster::detail {

/// A Content-Length body above this is streamed to a coroutine route even when all of it is in
/// the buffer already: the handler sees it in pieces rather than as one copy.
inline constexpr std::size_t stream_body_threshold = 64 * 1024;

/// Parses one request at a time from a buffer the connection owns. Pieces are stored as offsets
/// from the request's first byte, so the connection may move or grow its buffer between feeds.
/// A body is either gathered into one string (buffered) or handed out piece by piece as it is
/// fed (streamed), whichever the connection chooses when the head is complete.
class request_parser {
public:
    // head_complete: only with pause_before_bodies, the head of a request whose body is not all
    // fed yet (or is large); body_piece: a streamed body's next piece, see body_piece().
    enum class state { need_more, complete, failed, head_complete, body_piece };
    struct result {
        state outcome;
        std::size_t consumed; // bytes of `data` used
    };

    explicit request_parser(const http_limits& limits);
    request_parser(const request_parser&) = delete;
    request_parser& operator=(const request_parser&) = delete;

    /// Parses `len` bytes at `data`; `request_begin` is where the current request's bytes start
    /// (at or before `data`). Stops after a complete request so each is answered in turn.
    result feed(const char* request_begin, const char* data, std::size_t len);

    /// Stop at head_complete when a body is chunked, larger than stream_body_threshold, or not
    /// all in the bytes fed: the connection then chooses how to read it (read_body).
    void pause_before_bodies(bool on) noexcept { pause_heads_ = on; }
    /// After head_complete: gather the body (false) or stream it (true), then feed on.
    void read_body(bool stream) noexcept;
    /// After body_piece: the piece, a view into the bytes fed (so it is valid until those move).
    std::string_view body_piece() const noexcept { return {piece_at_, piece_length_}; }
    /// After body_piece: the connection is done with the piece; feed on.
    void resume() noexcept;
    /// While a body streams: the earliest offset (from the request's first byte) the parser may
    /// still look back at to check chunked framing; bytes before it and before the parse
    /// position may be dropped with discard(). Unbounded for a Content-Length body.
    std::size_t keep_from() const noexcept;
    /// `count` body bytes at offset `from` were dropped from the buffer: offsets past them move.
    void discard(std::size_t from, std::size_t count) noexcept;
    /// Body bytes still to come of a Content-Length body; nullopt when chunked (unknown).
    std::optional<std::uint64_t> body_remaining() const noexcept;
    /// Where a streamed body is gathered when the handler asks for all of it (request::body).
    std::string& body_storage() noexcept { return body_; }

    /// After `complete`: points `req` at the request's pieces (views into `request_begin`).
    void fill(request& req, const char* request_begin);
    /// Gets ready for the next request on the same connection.
    void next();

    bool headers_complete() const noexcept { return headers_done_; }
    bool keep_alive() const noexcept { return keep_alive_; }
    bool upgrade() const noexcept { return upgrade_; }
    /// The request carries `Upgrade: websocket` (valid handshake or not).
    bool websocket_upgrade() const noexcept { return websocket_upgrade_; }
    /// The request being parsed is a HEAD (known once its method is): an answer to it,
    /// even a refusal, carries no body (RFC 9110 §9.3.2).
    bool head_request() const noexcept { return head_; }
    /// True once per request that sent `Expect: 100-continue` and whose body has not started.
    bool take_continue() noexcept;
    /// The status and text to answer a failed request with (400, 413, 414, 431, 501 or 505).
    aster::status error_status() const noexcept { return error_status_; }
    std::string_view error_reason() const noexcept { return error_reason_; }

private:
    struct piece {
        std::uint32_t offset = 0, length = 0;
    };
    struct field {
        piece name, value;
    };

    static int on_message_begin(llhttp_t*);
    static int on_url(llhttp_t*, const char*, std::size_t);
    static int on_header_field(llhttp_t*, const char*, std::size_t);
    static int on_header_value(llhttp_t*, const char*, std::size_t);
    static int on_headers_complete(llhttp_t*);
    static int on_body(llhttp_t*, const char*, std::size_t);
    static int on_chunk_header(llhttp_t*);
    static int on_chunk_extension_piece(llhttp_t*, const char*, std::size_t);
    static int on_chunk_extension_name_complete(llhttp_t*);
    static int on_chunk_extension_value_complete(llhttp_t*);
    static int on_chunk_complete(llhttp_t*);
    static int on_message_complete(llhttp_t*);
    static const llhttp_settings_t& settings();

    int fail(aster::status code, const char* reason) noexcept;
    int check_head(const llhttp_t& p) noexcept;
    bool blank_line_after(std::size_t from) const noexcept;
    std::size_t offset(const char* at) const noexcept { return std::size_t(at - request_begin_); }
    void extend(piece& p, const char* at, std::size_t len) noexcept;
    std::string_view view(piece p, const char* begin) const noexcept {
        return {begin + p.offset, p.length};
    }

    llhttp_t parser_;
    const http_limits& limits_;
    const char* request_begin_ = nullptr;
    const char* feed_end_ = nullptr; // end of the bytes handed to this feed()
    piece url_;
    std::vector<field> fields_;
    bool in_field_name_ = false;
    // Just past the last target, name or value byte seen (offset from the request's first
    // byte): only line ends may follow it, which is how bare LFs and folded lines show.
    std::size_t line_end_ = 0;
    std::size_t header_bytes_ = 0;
    // Chunked framing checks llhttp 8 leaves out (all offsets from the request's first byte).
    std::size_t chunk_line_ = 0;           // where the next chunk-size line starts
    std::size_t chunk_data_end_ = 0;       // just past the current chunk's data
    std::size_t extension_bytes_ = 0;      // of the chunk-extension name or value being read
    std::size_t line_extension_bytes_ = 0; // of every extension on this chunk line
    bool chunk_has_data_ = false;
    bool last_chunk_ = false;        // the last chunk's line was seen: trailers follow
    std::uint64_t body_bytes_ = 0;   // of the body so far, buffered or streamed
    const char* piece_at_ = nullptr; // the body piece feed() stopped after
    std::size_t piece_length_ = 0;
    std::string body_;
    std::string decoded_path_;
    bool headers_done_ = false, message_done_ = false, keep_alive_ = true, upgrade_ = false;
    bool wants_continue_ = false, websocket_upgrade_ = false, head_ = false;
    bool pause_heads_ = false, head_paused_ = false, streaming_ = false, piece_ready_ = false;
    aster::status error_status_ = aster::status::bad_request;
    std::string_view error_reason_;
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
// begin aster/detail/impl/http_parser.ipp
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
// end aster/detail/impl/http_parser.ipp
// begin aster/detail/impl/http_body_parser.ipp
// SPDX-License-Identifier: MIT
// request_parser's bodies: Content-Length and chunked bodies, chunk lines and extensions, trailers,
// and the streamed body's bookkeeping (RFC 9112 §6, §7).
#ifndef ASTER_DETAIL_IMPL_HTTP_BODY_PARSER_IPP
#define ASTER_DETAIL_IMPL_HTTP_BODY_PARSER_IPP

namespace aster::detail {

ASTER_ENGINE int request_parser::on_body(llhttp_t* p, const char* at, std::size_t len) {
    auto& self = *static_cast<request_parser*>(p->data);
    // llhttp reports an empty span when it resumes at the end of the input: nothing to hand out.
    if (len == 0) return 0;
    self.wants_continue_ = false; // the client did not wait; no interim response is due
    if (len > self.limits_.max_body_bytes - self.body_bytes_)
        return self.fail(status::request_entity_too_large, "Request Entity Too Large");
    self.body_bytes_ += len;
    self.chunk_data_end_ = self.offset(at) + len;
    if (self.streaming_) {
        // One piece at a time: the handler reads it where it lies, then asks for the next.
        self.piece_at_ = at;
        self.piece_length_ = len;
        self.piece_ready_ = true;
        return HPE_PAUSED;
    }
    self.body_.append(at, len);
    return 0;
}

ASTER_ENGINE int request_parser::on_chunk_header(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    // A chunk that cannot fit is refused now, not after reading up to the limit (or waiting
    // for 2^60 bytes that never come).
    if (p->content_length > self.limits_.max_body_bytes - self.body_bytes_)
        return self.fail(status::request_entity_too_large, "Request Entity Too Large");
    self.chunk_has_data_ = p->content_length > 0;
    self.line_extension_bytes_ = 0;
    // The last chunk: its line and any trailer lines are checked from where it starts.
    if (!self.chunk_has_data_) {
        self.line_end_ = self.chunk_line_;
        self.last_chunk_ = true;
    }
    return 0;
}

ASTER_ENGINE int request_parser::on_chunk_extension_piece(llhttp_t* p, const char*,
                                                          std::size_t len) {
    auto& self = *static_cast<request_parser*>(p->data);
    self.extension_bytes_ += len;
    // One chunk line's extensions are bounded like a header block, whether the body is
    // gathered or streamed (a streamed one must fit the room behind its head anyway).
    self.line_extension_bytes_ += len;
    if (self.line_extension_bytes_ > self.limits_.max_header_bytes)
        return self.fail(status::bad_request, "Bad Request: chunk extensions too long");
    return 0;
}

// RFC 9112 §7.1.1: chunk-ext-name and chunk-ext-val are a token or a quoted-string, never
// empty; llhttp 8 takes `;=x` and `;a=`.
ASTER_ENGINE int request_parser::on_chunk_extension_name_complete(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    if (std::exchange(self.extension_bytes_, 0) == 0)
        return self.fail(status::bad_request, "Bad Request: empty chunk extension name");
    return 0;
}

ASTER_ENGINE int request_parser::on_chunk_extension_value_complete(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    if (std::exchange(self.extension_bytes_, 0) == 0)
        return self.fail(status::bad_request, "Bad Request: empty chunk extension value");
    return 0;
}

ASTER_ENGINE int request_parser::on_chunk_complete(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    if (!self.chunk_has_data_) return 0;
    // RFC 9112 §7.1: chunk data ends in CRLF. llhttp 8 skips two bytes whatever they are, so
    // "5\r\nhelloXX0\r\n\r\n" would parse: a smuggling vector, checked here.
    const char* end = self.request_begin_ + self.chunk_data_end_;
    if (self.feed_end_ - end < 2 || end[0] != '\r' || end[1] != '\n')
        return self.fail(status::bad_request, "Bad Request: chunk data not ended by CRLF");
    self.chunk_line_ = self.chunk_data_end_ + 2;
    self.chunk_has_data_ = false;
    return 0;
}

// The line with the byte at `from` ends in CRLF and an empty line (CRLF) follows it.
ASTER_ENGINE bool request_parser::blank_line_after(std::size_t from) const noexcept {
    const char* line = request_begin_ + from;
    const auto* lf = static_cast<const char*>(
        std::memchr(line, '\n', std::size_t(feed_end_ - line)));
    return lf && lf[-1] == '\r' && feed_end_ - lf >= 3 && lf[1] == '\r' && lf[2] == '\n';
}

ASTER_ENGINE int request_parser::on_message_complete(llhttp_t* p) {
    auto& self = *static_cast<request_parser*>(p->data);
    // The last-chunk line or the last trailer ends in CRLF, then the empty line (RFC 9112
    // §7.1); llhttp 8 accepts a bare LF in both.
    if ((p->flags & F_CHUNKED) && !self.blank_line_after(self.line_end_))
        return self.fail(status::bad_request, "Bad Request: bare LF or folded line");
    self.message_done_ = true;
    self.keep_alive_ = llhttp_should_keep_alive(p) != 0;
    return HPE_PAUSED; // one request at a time: the connection answers it, then resumes
}

ASTER_ENGINE void request_parser::read_body(bool stream) noexcept {
    head_paused_ = false;
    streaming_ = stream;
    llhttp_resume(&parser_);
}

ASTER_ENGINE void request_parser::resume() noexcept {
    piece_ready_ = false;
    llhttp_resume(&parser_);
}

ASTER_ENGINE std::size_t request_parser::keep_from() const noexcept {
    if (!(parser_.flags & F_CHUNKED)) return static_cast<std::size_t>(-1);
    // Trailer lines are checked from the end of the last one; a chunk's CRLF from the end of
    // its data; the last-chunk line from where its size line starts.
    if (last_chunk_) return line_end_;
    return chunk_has_data_ ? chunk_data_end_ : chunk_line_;
}

ASTER_ENGINE void request_parser::discard(std::size_t from, std::size_t count) noexcept {
    // Offsets into the dropped bytes are stale (keep_from() was at or past them): pin them.
    auto move = [&](std::size_t& at) {
        if (at >= from + count) at -= count;
        else if (at > from) at = from;
    };
    move(line_end_);
    move(chunk_line_);
    move(chunk_data_end_);
}

ASTER_ENGINE std::optional<std::uint64_t> request_parser::body_remaining() const noexcept {
    if (parser_.flags & F_CHUNKED) return std::nullopt;
    return message_done_ ? 0 : parser_.content_length; // llhttp counts it down as bytes come
}

ASTER_ENGINE bool request_parser::take_continue() noexcept {
    bool due = wants_continue_ && headers_done_ && !message_done_;
    wants_continue_ = false;
    return due;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_HTTP_BODY_PARSER_IPP
// end aster/detail/impl/http_body_parser.ipp
#endif

#endif // ASTER_DETAIL_HTTP_PARSER_HPP
// end aster/detail/http_parser.hpp
// begin aster/detail/http_writer.hpp
// SPDX-License-Identifier: MIT
// Serialises status lines and headers into the connection's reused write buffer.
#ifndef ASTER_DETAIL_HTTP_WRITER_HPP
#define ASTER_DETAIL_HTTP_WRITER_HPP


#include <array>
#include <charconv>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

namespace aster::detail {

/// The IMF-fixdate for now (RFC 9110 §5.6.7), recomputed at most once a second per thread.
inline std::string_view http_date() noexcept {
    thread_local std::time_t cached_second = 0;
    thread_local char text[32];
    std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        cached_second = now;
        std::tm parts{};
        gmtime_r(&now, &parts);
        std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    }
    return {text, 29};
}

inline void append_number(std::string& out, std::uint64_t n) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out.append(digits, end);
}

/// RFC 9110 §6.4.1: 1xx, 204 and 304 responses carry no body and no Content-Length.
constexpr bool status_allows_body(status code) noexcept {
    auto n = std::uint16_t(code);
    return n >= 200 && n != 204 && n != 304;
}

enum class connection_header { none, close, keep_alive };
enum class framing { length, chunked, until_close };

/// "HTTP/1.1 200 OK\r\n" for any code, built once per process.
inline std::string_view status_line(status code) {
    static const auto lines = [] {
        std::array<std::string, 600> out;
        for (std::size_t n = 100; n < out.size(); ++n) {
            out[n] = "HTTP/1.1 " + std::to_string(n) + " ";
            out[n] += reason(std::uint16_t(n));
            out[n] += "\r\n";
        }
        return out;
    }();
    auto n = std::size_t(code);
    return n < lines.size() && n >= 100 ? std::string_view(lines[n]) : std::string_view(lines[500]);
}

/// Appends the status line and headers, ending with the blank line. The head is assembled on
/// the stack and appended once: the usual head is a few hundred bytes.
inline void append_head(std::string& out, const response& res, framing body_framing,
                        std::uint64_t content_length, connection_header conn) {
    char buffer[512];
    char* p = buffer;
    char* const end = buffer + sizeof buffer;
    auto put = [&](std::string_view piece) {
        if (std::size_t(end - p) < piece.size()) {
            out.append(buffer, p);
            p = buffer;
            if (piece.size() > sizeof buffer) {
                out.append(piece);
                return;
            }
        }
        std::memcpy(p, piece.data(), piece.size());
        p += piece.size();
    };
    const status code = res.status();
    put(status_line(code));
    if (status_allows_body(code)) {
        if (body_framing == framing::length) {
            char digits[24];
            auto last = std::to_chars(digits, digits + sizeof digits, content_length).ptr;
            put("Content-Length: ");
            put(std::string_view(digits, std::size_t(last - digits)));
            put("\r\n");
        } else if (body_framing == framing::chunked) {
            put("Transfer-Encoding: chunked\r\n");
        }
        if (auto type = res.content_type(); !type.empty()) {
            put("Content-Type: ");
            put(type);
            put("\r\n");
        }
    }
    put("Date: ");
    put(http_date());
    put("\r\n");
    for (const auto& [name, value] : res.headers()) {
        if (iequals(name, "content-length") || iequals(name, "transfer-encoding")) continue;
        put(name);
        put(": ");
        put(value);
        put("\r\n");
    }
    if (conn == connection_header::close) put("Connection: close\r\n");
    else if (conn == connection_header::keep_alive) put("Connection: keep-alive\r\n");
    put("\r\n");
    out.append(buffer, p);
}

} // namespace aster::detail

#endif // ASTER_DETAIL_HTTP_WRITER_HPP
// end aster/detail/http_writer.hpp
// begin aster/detail/input_window.hpp
// SPDX-License-Identifier: MIT
// input_window: a connection's read buffer and where in it the work stands.
#ifndef ASTER_DETAIL_INPUT_WINDOW_HPP
#define ASTER_DETAIL_INPUT_WINDOW_HPP

// begin aster/detail/read_buffer.hpp
// SPDX-License-Identifier: MIT
// read_buffer: a connection's input bytes, in blocks shared through a per-thread pool.
#ifndef ASTER_DETAIL_READ_BUFFER_HPP
#define ASTER_DETAIL_READ_BUFFER_HPP

// begin aster/detail/memory_budget.hpp
// SPDX-License-Identifier: MIT
// memory_budget: the bytes all of a server's connections may hold for bodies and messages.
#ifndef ASTER_DETAIL_MEMORY_BUDGET_HPP
#define ASTER_DETAIL_MEMORY_BUDGET_HPP


#include <atomic>
#include <cstddef>

namespace aster::detail {

/// Shared by every loop of a server: a request body or WebSocket message that needs a buffer of
/// its own (beyond the pooled 64 KiB block) reserves its size here first, and is refused when
/// the total would pass `limit` (HTTP 503, WebSocket 1013). Only such large buffers touch it,
/// so the hot path of small requests and messages never does.
class memory_budget {
public:
    explicit memory_budget(std::size_t limit) noexcept : limit_(limit) {}
    memory_budget(const memory_budget&) = delete;
    memory_budget& operator=(const memory_budget&) = delete;

    bool try_reserve(std::size_t n) noexcept {
        std::size_t now = used_.load(std::memory_order_relaxed);
        do {
            if (n > limit_ || now > limit_ - n) {
                refusals_.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
        } while (!used_.compare_exchange_weak(now, now + n, std::memory_order_relaxed));
        return true;
    }
    void release(std::size_t n) noexcept { used_.fetch_sub(n, std::memory_order_relaxed); }

    std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }
    std::size_t refusals() const noexcept { return refusals_.load(std::memory_order_relaxed); }
    std::size_t limit() const noexcept { return limit_; }

private:
    const std::size_t limit_;
    std::atomic<std::size_t> used_{0}, refusals_{0};
};

/// A reservation held by one buffer: grows and shrinks with it, and is given back with it.
class budget_share {
public:
    explicit budget_share(memory_budget* budget = nullptr) noexcept : budget_(budget) {}
    budget_share(const budget_share&) = delete;
    budget_share& operator=(const budget_share&) = delete;
    ~budget_share() { resize(0); }

    void attach(memory_budget* budget) noexcept {
        resize(0);
        budget_ = budget;
    }
    /// Makes the reservation `n` bytes; false (and unchanged) when the budget refuses.
    bool resize(std::size_t n) noexcept {
        if (!budget_) return true;
        if (n > held_) {
            if (!budget_->try_reserve(n - held_)) return false;
        } else if (n < held_) {
            budget_->release(held_ - n);
        }
        held_ = n;
        return true;
    }

private:
    memory_budget* budget_;
    std::size_t held_ = 0;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_MEMORY_BUDGET_HPP
// end aster/detail/memory_budget.hpp
// begin aster/detail/stream.hpp
// SPDX-License-Identifier: MIT
// The streams the engine runs on (a TCP socket, a TLS stream, test::stream), and the few
// things it asks of them beyond reading and writing: cancel, close, and reads and writes
// that never wait.
#ifndef ASTER_DETAIL_STREAM_HPP
#define ASTER_DETAIL_STREAM_HPP


#include <cstddef>
#include <system_error>

namespace aster::detail {

/// What every engine template runs on: reads and writes awaited on the stream's executor.
template <class S>
concept async_stream = requires(S& s, net::mutable_buffer in, net::const_buffer out) {
    s.get_executor();
    s.async_read_some(in, use_tuple);
    s.async_write_some(out, use_tuple);
};

/// Streams that read and write without waiting once made non-blocking (TCP sockets and
/// test::stream). The engine's fast paths need it: answering in place, the read after a
/// yield, waiting on a small scratch instead of a pooled block. A TLS stream is not one: its
/// records may need a write to read or a read to write.
template <class S>
concept waitable_stream = async_stream<S> && requires(S& s, std::error_code& ec) {
    s.non_blocking(true, ec);
    s.read_some(net::mutable_buffer(), ec);
    s.write_some(net::const_buffer(), ec);
};

/// The layer that owns the descriptor: a TLS stream's socket, else the stream itself.
template <async_stream S>
auto& lowest_layer_of(S& s) noexcept {
    if constexpr (requires { s.lowest_layer(); }) return s.lowest_layer();
    else return s;
}

/// Ends the stream's pending operations with operation_aborted; the stream stays open.
template <async_stream S>
void cancel_stream(S& s) noexcept {
    std::error_code ignored;
    lowest_layer_of(s).cancel(ignored);
}

/// Closes the stream for good, so pending and later operations fail: the cut at a shutdown
/// deadline when the loop itself must keep running.
template <async_stream S>
void close_stream(S& s) noexcept {
    std::error_code ignored;
    lowest_layer_of(s).close(ignored);
}

/// Puts a waitable stream in non-blocking mode, so try_read and try_write never wait; other
/// streams are left as they are.
template <async_stream S>
void make_non_blocking(S& s) noexcept {
    if constexpr (waitable_stream<S>) {
        std::error_code ignored;
        s.non_blocking(true, ignored);
    }
}

/// What a read or write that never waits did: `n` bytes, or an error, or nothing because the
/// stream would have had to wait (`blocked`, with `ec` clear).
struct immediate_io {
    std::error_code ec;
    std::size_t n = 0;
    bool blocked = false;
};

namespace stream_io {
inline immediate_io result(std::error_code ec, std::size_t n) noexcept {
    if (ec == net::error::would_block || ec == net::error::try_again) return {{}, 0, true};
    return {ec, ec ? 0 : n, false};
}
} // namespace stream_io

/// Reads what has arrived into `b`. A stream that cannot read without waiting is always
/// blocked, so a caller's fast path folds away for it.
template <async_stream S>
immediate_io try_read(S& s, net::mutable_buffer b) {
    if constexpr (waitable_stream<S>) {
        std::error_code ec;
        std::size_t n = s.read_some(b, ec);
        return stream_io::result(ec, n);
    } else {
        (void)s;
        (void)b;
        return {{}, 0, true};
    }
}

/// Writes what the stream takes now from `b`; blocked as try_read.
template <async_stream S>
immediate_io try_write(S& s, net::const_buffer b) {
    if constexpr (waitable_stream<S>) {
        std::error_code ec;
        std::size_t n = s.write_some(b, ec);
        return stream_io::result(ec, n);
    } else {
        (void)s;
        (void)b;
        return {{}, 0, true};
    }
}

} // namespace aster::detail

#endif // ASTER_DETAIL_STREAM_HPP
// end aster/detail/stream.hpp

#include <array>
#include <cstddef>
#include <cstring>
#include <system_error>
#include <tuple>
#include <vector>

namespace aster::detail {

/// Big enough for a batch of pipelined requests or small WebSocket frames in one read.
inline constexpr std::size_t pooled_block_size = 16 * 1024;
/// The second size class: frames up to 64 KiB (a 16 KiB message with its header, say) are read
/// without an allocation too.
inline constexpr std::size_t large_block_size = 64 * 1024;

/// Free blocks of the two sizes, one pool per thread (so per event loop): a connection takes a
/// block when bytes arrive and gives it back once it has parsed them all, so idle connections
/// hold no read buffer and busy ones do not allocate.
class block_pool {
public:
    static block_pool& local() noexcept {
        thread_local block_pool pool;
        return pool;
    }
    block_pool() = default;
    block_pool(const block_pool&) = delete;
    block_pool& operator=(const block_pool&) = delete;
    ~block_pool() {
        for (unsigned char* b : small_) delete[] b;
        for (unsigned char* b : large_) delete[] b;
    }

    unsigned char* take(std::size_t size) {
        auto& list = size == pooled_block_size ? small_ : large_;
        if (list.empty()) return new unsigned char[size];
        unsigned char* b = list.back();
        list.pop_back();
        return b;
    }
    void give(unsigned char* block, std::size_t size) noexcept {
        auto& list = size == pooled_block_size ? small_ : large_;
        if (list.size() < max_free) {
            try {
                list.push_back(block);
                return;
            } catch (...) {
            }
        }
        delete[] block;
    }

private:
    static constexpr std::size_t max_free = 64; // kept for reuse: 5 MiB per thread at most
    std::vector<unsigned char*> small_, large_;
};

/// A growable byte buffer that starts as a pooled block. Sizes beyond the large block (a big
/// header block, a large WebSocket frame) are private allocations, freed on release().
class read_buffer {
public:
    read_buffer() = default;
    read_buffer(const read_buffer&) = delete;
    read_buffer& operator=(const read_buffer&) = delete;
    ~read_buffer() { release(); }

    /// Counts the capacity held in `held` (server_stats::input_bytes) from now on; may be null.
    void count_in(live_count* held) noexcept { held_ = held; }
    /// Buffers beyond the large block reserve their size in `budget` first; may be null.
    void charge_to(memory_budget* budget) noexcept { share_.attach(budget); }

    unsigned char* data() noexcept { return data_; }
    const unsigned char* data() const noexcept { return data_; }
    char* chars() noexcept { return reinterpret_cast<char*>(data_); }
    std::size_t capacity() const noexcept { return capacity_; }

    /// Makes the capacity at least `wanted` (at least one pooled block), keeping the first
    /// `used` bytes. False, changing nothing, when a private buffer's size is more than the
    /// memory budget has left.
    bool grow(std::size_t used, std::size_t wanted) {
        if (wanted <= capacity_) return true;
        unsigned char* bigger;
        std::size_t size;
        if (wanted <= large_block_size) {
            size = wanted <= pooled_block_size ? pooled_block_size : large_block_size;
            bigger = block_pool::local().take(size);
        } else {
            if (!share_.resize(wanted)) return false;
            bigger = new unsigned char[wanted];
            size = wanted;
        }
        if (used > 0) std::memcpy(bigger, data_, used);
        release(size > large_block_size);
        data_ = bigger;
        capacity_ = size;
        if (held_) held_->add(size);
        return true;
    }

    /// Gives the storage back; the buffer is empty afterwards.
    void release() noexcept { release(false); }

private:
    // `keep_share`: the budget already holds the size of the buffer replacing this one.
    void release(bool keep_share) noexcept {
        if (!keep_share) share_.resize(0);
        if (!data_) return;
        if (held_) held_->sub(capacity_);
        if (capacity_ == pooled_block_size || capacity_ == large_block_size)
            block_pool::local().give(data_, capacity_);
        else delete[] data_;
        data_ = nullptr;
        capacity_ = 0;
    }

    unsigned char* data_ = nullptr;
    std::size_t capacity_ = 0;
    live_count* held_ = nullptr;
    budget_share share_;
};

/// The first step of read_into, as a plain function, for a coroutine that awaits the stream
/// itself (one coroutine frame fewer on every waiting connection). Either the read is done
/// already (false; its result in `ec` and `n`), or the caller awaits async_read_some into
/// `target` (true) and hands the result to finish_read.
template <async_stream Stream, std::size_t N>
bool start_read(Stream& stream, read_buffer& in, std::size_t used,
                std::array<unsigned char, N>& scratch, net::mutable_buffer& target,
                std::error_code& ec, std::size_t& n) {
    if constexpr (waitable_stream<Stream>) {
        if (used == 0) {
            in.release();
            target = net::buffer(scratch);
            return true;
        }
    }
    target = net::buffer(in.data() + used, in.capacity() - used);
    immediate_io now = try_read(stream, target);
    if (now.blocked) return true;
    ec = now.ec;
    n = now.n;
    return false;
}

/// The bytes an awaited read brought in: `n` of them into `target`. Bytes read into the
/// scratch move into a block taken now, with whatever else has arrived behind them.
template <async_stream Stream, std::size_t N>
std::size_t finish_read(Stream& stream, read_buffer& in, std::array<unsigned char, N>& scratch,
                        net::mutable_buffer target, std::size_t n) {
    if (target.data() == scratch.data()) {
        in.grow(0, pooled_block_size);
        std::memcpy(in.data(), scratch.data(), n);
        if (n == N) { // probably more behind it; an error shows again on the next read
            immediate_io more = try_read(stream, net::buffer(in.data() + n, in.capacity() - n));
            n += more.n;
        }
    }
    return n;
}

/// Reads more bytes into `in` after its first `used` ones (the caller leaves room when
/// `used > 0`). With nothing half read, a TCP socket waits holding no block: it reads into the
/// connection's small `scratch` (Asio tries the read at once and otherwise waits for it without
/// re-arming epoll, which async_wait would do on every call) and takes a block only when bytes
/// arrive. Otherwise it reads what is there and waits holding the block.
template <async_stream Stream, std::size_t N>
task<std::tuple<std::error_code, std::size_t>> read_into(Stream& stream, read_buffer& in,
                                                         std::size_t used,
                                                         std::array<unsigned char, N>& scratch) {
    net::mutable_buffer target;
    std::error_code ec;
    std::size_t n = 0;
    if (start_read(stream, in, used, scratch, target, ec, n)) {
        auto [read_ec, read_n] = co_await stream.async_read_some(target, use_tuple);
        ec = read_ec;
        n = read_ec ? 0 : finish_read(stream, in, scratch, target, read_n);
    }
    co_return std::tuple{ec, n};
}

} // namespace aster::detail

#endif // ASTER_DETAIL_READ_BUFFER_HPP
// end aster/detail/read_buffer.hpp

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace aster::detail {

/// The bytes a connection has read and not yet handled, in its read buffer:
///
///     0 ........ begin ......... parsed .......... end ......... capacity
///       handled    the message in    read, not yet     room to read
///                  progress, parsed  parsed
///
/// A parser takes bytes (`took`), a read brings them (`arrived`), a handled message moves
/// `begin` (`done`, `consume`), and `compact` moves what is held to the front before a read.
/// A view into the buffer (the request's fields) stays valid until compact, erase or grow.
class input_window {
public:
    read_buffer& buffer() noexcept { return buffer_; }
    unsigned char* data() noexcept { return buffer_.data(); }
    char* chars() noexcept { return buffer_.chars(); }
    std::size_t capacity() const noexcept { return buffer_.capacity(); }

    std::size_t begin() const noexcept { return begin_; }
    std::size_t parsed() const noexcept { return parsed_; }
    std::size_t end() const noexcept { return end_; }

    /// Nothing of a message is held: between messages, or before the first.
    bool holds_nothing() const noexcept { return begin_ == end_; }
    bool has_unparsed() const noexcept { return parsed_ < end_; }
    /// The message in progress, as far as it is parsed.
    std::string_view parsed_bytes() noexcept { return {chars() + begin_, parsed_ - begin_}; }
    /// What was read and not parsed yet.
    std::string_view unparsed_bytes() noexcept { return {chars() + parsed_, end_ - parsed_}; }
    /// Everything held, for a reader that parses and consumes in one step.
    std::span<std::uint8_t> held() noexcept { return {data() + begin_, end_ - begin_}; }

    void took(std::size_t n) noexcept { parsed_ += n; }
    void arrived(std::size_t n) noexcept { end_ += n; }
    /// The message in progress is handled: the next one starts where parsing stands.
    void done() noexcept { begin_ = parsed_; }
    /// `n` bytes from `begin` were parsed and handled at once.
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (parsed_ < begin_) parsed_ = begin_;
    }

    /// Moves what is held to the front of the buffer, so the room behind it is all there is.
    void compact() noexcept {
        if (begin_ == 0) return;
        std::memmove(data(), data() + begin_, end_ - begin_);
        parsed_ -= begin_;
        end_ -= begin_;
        begin_ = 0;
    }
    /// Drops the bytes [first, last) of the message in progress (a streamed body's pieces the
    /// parser is done with), moving what follows them back.
    void erase(std::size_t first, std::size_t last) noexcept {
        std::memmove(data() + first, data() + last, end_ - last);
        parsed_ -= last - first;
        end_ -= last - first;
    }

    /// Makes the capacity at least `wanted`, keeping everything read; false when the memory
    /// budget refuses it (read_buffer::grow).
    bool grow(std::size_t wanted) { return buffer_.grow(end_, wanted); }
    /// Gives the buffer back once nothing is held.
    void release() noexcept {
        begin_ = parsed_ = end_ = 0;
        buffer_.release();
    }
    /// Starts the window with `bytes` (what another reader already took from the stream).
    /// False, holding nothing, when the memory budget refuses the room for them.
    [[nodiscard]] bool assign(std::string_view bytes) {
        begin_ = parsed_ = end_ = 0;
        if (bytes.empty()) return true;
        if (!buffer_.grow(0, bytes.size())) return false;
        std::memcpy(data(), bytes.data(), bytes.size());
        end_ = bytes.size();
        return true;
    }

private:
    read_buffer buffer_;
    std::size_t begin_ = 0, parsed_ = 0, end_ = 0;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_INPUT_WINDOW_HPP
// end aster/detail/input_window.hpp
// begin aster/detail/read_deadline.hpp
// SPDX-License-Identifier: MIT
// A deadline on a stream's reads: moving it is a store, the one timer re-arms itself lazily.
#ifndef ASTER_DETAIL_READ_DEADLINE_HPP
#define ASTER_DETAIL_READ_DEADLINE_HPP


#include <chrono>
#include <memory>

namespace aster::detail {

/// Cancels the stream's pending operations once the deadline passes. Setting a new deadline per
/// request costs a clock read; the timer is re-armed only when it fires or must fire earlier.
template <async_stream Stream>
class read_deadline {
public:
    using clock = std::chrono::steady_clock;

    explicit read_deadline(Stream& stream) : state_(std::make_shared<state>(stream)) {}
    read_deadline(const read_deadline&) = delete;
    read_deadline& operator=(const read_deadline&) = delete;
    ~read_deadline() {
        state_->stream = nullptr; // the handler may still run; it must not touch the stream
        state_->timer.cancel();
    }

    void expires_after(clock::duration d) {
        state_->expired = false;
        state_->deadline = clock::now() + d;
        if (state_->waiting && state_->deadline < state_->timer.expiry()) state_->timer.cancel();
        arm(state_);
    }
    void expires_at(clock::time_point t) {
        state_->expired = false;
        state_->deadline = t;
        if (state_->waiting && state_->deadline < state_->timer.expiry()) state_->timer.cancel();
        arm(state_);
    }
    /// No deadline while a handler runs: a slow handler is not a slow client.
    void clear() noexcept { state_->deadline = clock::time_point::max(); }
    bool expired() const noexcept { return state_->expired; }

private:
    struct state {
        explicit state(Stream& s) : timer(s.get_executor()), stream(&s) {}
        net::steady_timer timer;
        Stream* stream;
        clock::time_point deadline = clock::time_point::max();
        bool waiting = false, expired = false;
    };

    static void arm(const std::shared_ptr<state>& s) {
        if (s->waiting || s->deadline == clock::time_point::max()) return;
        s->waiting = true;
        s->timer.expires_at(s->deadline);
        s->timer.async_wait([s](std::error_code) {
            s->waiting = false;
            if (!s->stream || s->deadline == clock::time_point::max()) return;
            if (clock::now() >= s->deadline) {
                s->expired = true;
                cancel_stream(*s->stream);
            } else {
                arm(s); // the deadline moved while we slept
            }
        });
    }

    std::shared_ptr<state> state_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_READ_DEADLINE_HPP
// end aster/detail/read_deadline.hpp
// begin aster/detail/topic_hub.hpp
// SPDX-License-Identifier: MIT
// topic_hub: the topics of every event loop of one server or test_client.
#ifndef ASTER_DETAIL_TOPIC_HUB_HPP
#define ASTER_DETAIL_TOPIC_HUB_HPP

// begin aster/detail/topic_registry.hpp
// SPDX-License-Identifier: MIT
// topic_registry: the topics of one event loop, their subscribers, and delivery to them.
#ifndef ASTER_DETAIL_TOPIC_REGISTRY_HPP
#define ASTER_DETAIL_TOPIC_REGISTRY_HPP

// begin aster/detail/shared_frame_queue.hpp
// SPDX-License-Identifier: MIT
// shared_frame_queue: topic frames in a WebSocket's send queue, held by reference.
#ifndef ASTER_DETAIL_SHARED_FRAME_QUEUE_HPP
#define ASTER_DETAIL_SHARED_FRAME_QUEUE_HPP


#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster::detail {

using shared_frame = std::shared_ptr<const std::string>;

/// A session's own frames are copied into one string; a topic's frame is shared by every
/// subscriber, so the queue holds a reference and the place it goes: after the first `at`
/// bytes of the own frames queued with it. A write gathers both, in order, in one call.
class shared_frame_queue {
public:
    bool has_pending() const noexcept { return !pending_.empty(); }
    /// Bytes of shared frames queued and being written.
    std::size_t bytes() const noexcept { return pending_bytes_ + inflight_bytes_; }

    void push(std::size_t at, shared_frame frame) {
        pending_bytes_ += frame->size();
        pending_.push_back({at, std::move(frame)});
    }

    /// Moves what is queued to the write starting now, whose own bytes are `own`, and returns
    /// the buffers of that write, in queue order. Pieces under `copy_below` bytes are copied
    /// into one run instead: a buffer per 20-byte frame costs the kernel more than the copy,
    /// and Asio splits a write at 64 buffers. Larger frames go out from the shared bytes.
    const std::vector<net::const_buffer>& start_write(std::string_view own) {
        inflight_.swap(pending_);
        inflight_bytes_ = pending_bytes_;
        pending_bytes_ = 0;
        flat_.clear();
        pieces_.clear();
        std::size_t done = 0;
        for (const splice& s : inflight_) {
            if (s.at > done) add(own.substr(done, s.at - done));
            add(*s.frame);
            done = s.at;
        }
        if (own.size() > done) add(own.substr(done));
        gather_.clear();
        for (const piece& p : pieces_)
            gather_.emplace_back(p.shared ? p.shared : flat_.data() + p.offset, p.size);
        return gather_;
    }
    /// The write ended (done or failed): its frames are released.
    void finish_write() noexcept {
        inflight_.clear();
        inflight_bytes_ = 0;
        if (flat_.capacity() > keep_flat_up_to) std::string().swap(flat_);
    }
    /// The connection failed: nothing queued will go out.
    void clear() noexcept {
        pending_.clear();
        pending_bytes_ = 0;
    }

private:
    static constexpr std::size_t copy_below = 512;
    static constexpr std::size_t keep_flat_up_to = 64 * 1024;

    struct splice {
        std::size_t at;
        shared_frame frame;
    };
    // A run in flat_ (shared == nullptr) or bytes referenced where they are.
    struct piece {
        const char* shared;
        std::size_t offset, size;
    };

    void add(std::string_view bytes) {
        if (bytes.size() >= copy_below) {
            pieces_.push_back({bytes.data(), 0, bytes.size()});
            return;
        }
        if (pieces_.empty() || pieces_.back().shared)
            pieces_.push_back({nullptr, flat_.size(), 0}); // offsets: flat_ may move as it grows
        flat_.append(bytes);
        pieces_.back().size += bytes.size();
    }

    std::vector<splice> pending_, inflight_;
    std::size_t pending_bytes_ = 0, inflight_bytes_ = 0;
    std::string flat_;
    std::vector<piece> pieces_;
    std::vector<net::const_buffer> gather_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_SHARED_FRAME_QUEUE_HPP
// end aster/detail/shared_frame_queue.hpp
// begin aster/detail/ws_frame.hpp
// SPDX-License-Identifier: MIT
// WebSocket frame header codec, masking and close payloads (RFC 6455 §5, §7.4); pure, no I/O.
#ifndef ASTER_DETAIL_WS_FRAME_HPP
#define ASTER_DETAIL_WS_FRAME_HPP

// begin aster/detail/utf8.hpp
// SPDX-License-Identifier: MIT
// Incremental, fail-fast UTF-8 validation for WebSocket text (RFC 6455 §8.1, RFC 3629 §4).
#ifndef ASTER_DETAIL_UTF8_HPP
#define ASTER_DETAIL_UTF8_HPP


#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace aster::detail {

/// Validates UTF-8 fed in pieces (e.g. the frames of one message), keeping only the state of a
/// code point cut between pieces. Accepts exactly the well-formed sequences of Unicode Table 3-7:
/// no overlongs, no surrogates (U+D800..DFFF), nothing above U+10FFFF.
/// feed() fails as soon as the bytes so far cannot begin valid UTF-8, so a bad message is
/// rejected without waiting for its end (RFC 6455 §8.1); a failure sticks until reset().
class utf8_validator {
public:
    /// False once the bytes fed since reset() are not a prefix of any valid UTF-8 string.
    bool feed(std::span<const std::uint8_t> data) noexcept;
    bool feed(std::string_view data) noexcept {
        return feed({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
    }
    /// True when nothing failed and no code point is left unfinished.
    bool complete() const noexcept { return need_ == 0 && !failed_; }
    bool failed() const noexcept { return failed_; }
    void reset() noexcept { *this = utf8_validator{}; }

private:
    bool fail() noexcept {
        failed_ = true;
        return false;
    }

    std::uint8_t need_ = 0;  // continuation bytes still expected in the current code point
    std::uint8_t lo_ = 0x80; // allowed range of the next continuation byte: Table 3-7 narrows
    std::uint8_t hi_ = 0xBF; // it only for the byte after E0, ED, F0 and F4
    bool failed_ = false;
};

/// True when `s` is whole, well-formed UTF-8.
ASTER_DECL bool is_valid_utf8(std::string_view s) noexcept;

/// Length of the longest prefix of `s` that is whole, well-formed UTF-8 (byte at a time: meant
/// for short strings such as close reasons).
ASTER_DECL std::size_t utf8_valid_prefix(std::string_view s) noexcept;

ASTER_DECL bool utf8_validator::feed(std::span<const std::uint8_t> data) noexcept {
    if (failed_) return false;
    const std::uint8_t* p = data.data();
    const std::uint8_t* const end = p + data.size();
    constexpr std::uint64_t high_bits = 0x8080808080808080u;
    // A code point cut by the previous piece: finish it byte by byte.
    while (need_ > 0 && p != end) {
        std::uint8_t b = *p++;
        if (b < lo_ || b > hi_) return fail();
        lo_ = 0x80;
        hi_ = 0xBF;
        --need_;
    }
    while (p != end) {
        // ASCII fast path: 8 bytes per step, then 32 once a word was all ASCII, so ASCII text
        // costs about what a copy does while short runs between other letters stay cheap.
        if (end - p >= 8) {
            std::uint64_t word;
            std::memcpy(&word, p, 8);
            if (std::uint64_t high = word & high_bits; high != 0) {
                if constexpr (std::endian::native == std::endian::little)
                    p += std::countr_zero(high) / 8; // skip the ASCII bytes before the lead
            } else {
                p += 8;
                for (std::uint64_t w[4]; end - p >= 32; p += 32) {
                    std::memcpy(w, p, 32);
                    if (((w[0] | w[1] | w[2] | w[3]) & high_bits) != 0) break;
                }
                continue;
            }
        }
        if (p == end) break;
        std::uint8_t b = *p++;
        if (b < 0x80) continue;
        // Table 3-7: the lead byte fixes the length and the range of the second byte.
        std::uint8_t need, lo = 0x80, hi = 0xBF;
        if (b < 0xC2 || b > 0xF4) { // C0, C1 would be overlong; F5..FF beyond U+10FFFF
            return fail();
        } else if (b < 0xE0) {
            need = 1;
        } else if (b < 0xF0) {
            need = 2;
            if (b == 0xE0) lo = 0xA0; // below: overlong (< U+0800)
            if (b == 0xED) hi = 0x9F; // above: surrogates U+D800..DFFF
        } else {
            need = 3;
            if (b == 0xF0) lo = 0x90; // below: overlong (< U+10000)
            if (b == 0xF4) hi = 0x8F; // above: beyond U+10FFFF
        }
        if (std::size_t(end - p) < need) { // the code point continues in the next piece
            while (p != end) {
                if (*p < lo || *p > hi) return fail();
                ++p;
                lo = 0x80;
                hi = 0xBF;
                --need;
            }
            need_ = need;
            lo_ = lo;
            hi_ = hi;
            break;
        }
        // The whole sequence is here: check it in place, saving no state.
        if (p[0] < lo || p[0] > hi) return fail();
        if (need >= 2 && (p[1] & 0xC0) != 0x80) return fail();
        if (need == 3 && (p[2] & 0xC0) != 0x80) return fail();
        p += need;
    }
    return true;
}

ASTER_DECL bool is_valid_utf8(std::string_view s) noexcept {
    utf8_validator v;
    return v.feed(s) && v.complete();
}

ASTER_DECL std::size_t utf8_valid_prefix(std::string_view s) noexcept {
    utf8_validator v;
    std::size_t good = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (!v.feed(s.substr(i, 1))) break;
        if (v.complete()) good = i + 1;
    }
    return good;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_UTF8_HPP
// end aster/detail/utf8.hpp

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace aster::detail {

/// Frame opcodes (RFC 6455 §5.2, §11.8); 3–7 and 11–15 are reserved.
enum class opcode : std::uint8_t {
    continuation = 0,
    text = 1,
    binary = 2,
    close = 8,
    ping = 9,
    pong = 10,
};

/// Control frames are those with the high opcode bit set (§5.5).
constexpr bool is_control(opcode op) noexcept { return (std::uint8_t(op) & 0x8) != 0; }

/// A decoded frame header. `op` is meaningful only after a successful parse; `raw_opcode` keeps
/// the 4 bits as sent. `mask` is all zero for an unmasked frame.
struct frame_header {
    bool fin = false;
    bool rsv1 = false, rsv2 = false, rsv3 = false;
    opcode op = opcode::continuation;
    std::uint8_t raw_opcode = 0;
    bool masked = false;
    std::uint64_t payload_length = 0;
    std::array<std::uint8_t, 4> mask{};
    std::size_t header_size = 0; // 2 to 14 bytes
};

enum class frame_parse_result { ok, need_more, protocol_error };

/// Why parse_frame_header() answered protocol_error (each is a close with 1002, §7.4.1).
enum class frame_error : std::uint8_t {
    none,
    reserved_bits,      // RSV bit set without an extension defining it (§5.2)
    unknown_opcode,     // 3–7 or 11–15 (§5.2)
    fragmented_control, // control frame with FIN clear (§5.5)
    control_too_long,   // control payload above 125 bytes (§5.5)
    non_minimal_length, // length not in the shortest form (§5.2)
    length_too_large,   // 64-bit length with the most significant bit set (§5.2)
    mask_required,      // unmasked frame from a client (§5.1)
    mask_forbidden,     // masked frame from a server (§5.1)
};

/// A short English description, suitable as a close reason.
constexpr std::string_view describe(frame_error e) noexcept {
    switch (e) {
    case frame_error::none:
        return "no error";
    case frame_error::reserved_bits:
        return "reserved bit set";
    case frame_error::unknown_opcode:
        return "unknown opcode";
    case frame_error::fragmented_control:
        return "fragmented control frame";
    case frame_error::control_too_long:
        return "control frame payload over 125 bytes";
    case frame_error::non_minimal_length:
        return "payload length not minimally encoded";
    case frame_error::length_too_large:
        return "payload length has the top bit set";
    case frame_error::mask_required:
        return "client frame not masked";
    case frame_error::mask_forbidden:
        return "server frame masked";
    }
    return "unknown frame error";
}

/// Reads one frame header (2–14 bytes) from the front of `data`; the payload is not touched.
/// need_more: `data` ends inside the header. protocol_error: `why` names the rule broken,
/// reported as soon as the bytes that break it are present. `out` is complete only on ok.
/// `expect_masked`: true on a server (client frames must be masked), false on a client (server
/// frames must not be), §5.1. `allow_rsv1`: permessage-deflate owns RSV1, which it allows on the
/// first frame of a text or binary message only (RFC 7692 §6.1).
ASTER_DECL frame_parse_result parse_frame_header(std::span<const std::uint8_t> data,
                                                 frame_header& out, frame_error& why,
                                                 bool expect_masked = true,
                                                 bool allow_rsv1 = false) noexcept;

/// XORs `payload` with the masking key in place (§5.3). `offset` is the position of
/// payload[0] within the whole frame payload, so a payload can be unmasked in pieces.
ASTER_DECL void unmask(std::span<std::uint8_t> payload, std::array<std::uint8_t, 4> key,
                       std::size_t offset = 0) noexcept;

/// The longest frame header: 2 bytes, 8 of extended length, a 4-byte mask (§5.2).
inline constexpr std::size_t max_frame_header_size = 14;

/// Writes a frame header with the shortest length encoding into `out` (room for 14 bytes) and
/// returns its size. With `mask`, sets the MASK bit and appends the key; the caller masks the
/// payload.
ASTER_DECL std::size_t encode_frame_header(std::uint8_t* out, bool fin, opcode op,
                                           std::uint64_t payload_length,
                                           const std::array<std::uint8_t, 4>* mask = nullptr,
                                           bool rsv1 = false) noexcept;

/// Close codes a peer may put in a close frame (§7.4.1, §7.4.2, IANA registry): 1000–1003,
/// 1007–1014 and 3000–4999. 1005, 1006 and 1015 are for reporting only and never sent.
constexpr bool is_valid_close_code_on_wire(std::uint16_t code) noexcept {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/// A parsed close payload; `reason` views the payload bytes.
struct close_payload {
    std::uint16_t code = 1005;
    std::string_view reason;
};

enum class close_parse {
    ok,
    empty,   // no body: no status code present, reported as 1005 (§7.1.5)
    invalid, // bad length, code or reason: fail the connection with 1002 (§7.4.1)
};

/// Parses a close frame body (§5.5.1): empty, or a 2-byte big-endian code that is valid on the
/// wire plus a UTF-8 reason, at most 125 bytes in all. Fills `out` on ok and empty.
ASTER_DECL close_parse parse_close_payload(std::span<const std::uint8_t> payload,
                                           close_payload& out) noexcept;

/// Writes a close body into `out` (room for 125 bytes): the code, then the longest prefix of
/// `reason` that fits in 123 bytes and is whole valid UTF-8. Returns the body size.
ASTER_DECL std::size_t encode_close_payload(std::uint8_t* out, std::uint16_t code,
                                            std::string_view reason) noexcept;

ASTER_DECL frame_parse_result parse_frame_header(std::span<const std::uint8_t> data,
                                                 frame_header& out, frame_error& why,
                                                 bool expect_masked, bool allow_rsv1) noexcept {
    why = frame_error::none;
    auto fail = [&why](frame_error e) {
        why = e;
        return frame_parse_result::protocol_error;
    };
    const std::size_t n = data.size();
    if (n < 1) return frame_parse_result::need_more;

    // Byte 0: FIN, RSV1-3, opcode. Checked before more bytes arrive, to fail fast.
    const std::uint8_t b0 = data[0];
    out.fin = (b0 & 0x80) != 0;
    out.rsv1 = (b0 & 0x40) != 0;
    out.rsv2 = (b0 & 0x20) != 0;
    out.rsv3 = (b0 & 0x10) != 0;
    out.raw_opcode = b0 & 0x0F;
    out.op = static_cast<opcode>(out.raw_opcode);
    // §5.2: a nonzero RSV bit without a negotiated extension defining it fails the connection.
    if ((out.rsv1 && !allow_rsv1) || out.rsv2 || out.rsv3) return fail(frame_error::reserved_bits);
    if ((out.raw_opcode >= 3 && out.raw_opcode <= 7) || out.raw_opcode >= 11)
        return fail(frame_error::unknown_opcode);
    const bool control = is_control(out.op);
    // RFC 7692 §6.1: the extension's RSV1 ("compressed") marks only the first frame of a data
    // message; on a control frame or a continuation it fails the connection.
    if (out.rsv1 && (control || out.op == opcode::continuation))
        return fail(frame_error::reserved_bits);
    if (control && !out.fin) return fail(frame_error::fragmented_control); // §5.5
    if (n < 2) return frame_parse_result::need_more;

    // Byte 1: MASK and the 7-bit length.
    const std::uint8_t b1 = data[1];
    out.masked = (b1 & 0x80) != 0;
    if (expect_masked && !out.masked) return fail(frame_error::mask_required);
    if (!expect_masked && out.masked) return fail(frame_error::mask_forbidden);
    const std::uint8_t len7 = b1 & 0x7F;
    if (control && len7 > 125) return fail(frame_error::control_too_long); // §5.5

    std::size_t size = 2;
    if (len7 == 126) {
        if (n < 4) return frame_parse_result::need_more;
        out.payload_length = std::uint64_t(data[2]) << 8 | data[3];
        size = 4;
        // §5.2: "the minimal number of bytes MUST be used"; 0–125 fit in the 7-bit field.
        if (out.payload_length < 126) return fail(frame_error::non_minimal_length);
    } else if (len7 == 127) {
        // §5.2: the most significant bit of the 64-bit length MUST be 0.
        if (n >= 3 && (data[2] & 0x80)) return fail(frame_error::length_too_large);
        if (n < 10) return frame_parse_result::need_more;
        std::uint64_t len = 0;
        for (std::size_t i = 2; i < 10; ++i) len = len << 8 | data[i];
        out.payload_length = len;
        size = 10;
        if (len <= 0xFFFF) return fail(frame_error::non_minimal_length);
    } else {
        out.payload_length = len7;
    }

    out.mask = {};
    if (out.masked) {
        if (n < size + 4) return frame_parse_result::need_more;
        std::memcpy(out.mask.data(), data.data() + size, 4);
        size += 4;
    }
    out.header_size = size;
    return frame_parse_result::ok;
}

ASTER_DECL void unmask(std::span<std::uint8_t> payload, std::array<std::uint8_t, 4> key,
                       std::size_t offset) noexcept {
    // The key repeated from position `offset`; built byte-wise and loaded with memcpy, so the
    // 64-bit XOR below applies key[(offset + i) % 4] to byte i on any endianness.
    std::uint8_t rotated[8];
    for (std::size_t i = 0; i < 8; ++i) rotated[i] = key[(offset + i) & 3];
    std::uint64_t wide;
    std::memcpy(&wide, rotated, 8);

    std::uint8_t* p = payload.data();
    std::size_t n = payload.size();
    for (; n >= 8; p += 8, n -= 8) { // 8 is a multiple of 4: the key phase does not move
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        word ^= wide;
        std::memcpy(p, &word, 8);
    }
    for (std::size_t i = 0; i < n; ++i) p[i] ^= rotated[i];
}

ASTER_DECL std::size_t encode_frame_header(std::uint8_t* out, bool fin, opcode op,
                                           std::uint64_t payload_length,
                                           const std::array<std::uint8_t, 4>* mask,
                                           bool rsv1) noexcept {
    out[0] = std::uint8_t((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | std::uint8_t(op));
    const std::uint8_t mask_bit = mask ? 0x80 : 0;
    std::size_t size;
    // §5.2: the shortest of the 7-bit, 16-bit and 64-bit forms.
    if (payload_length < 126) {
        out[1] = std::uint8_t(mask_bit | payload_length);
        size = 2;
    } else if (payload_length <= 0xFFFF) {
        out[1] = mask_bit | 126;
        out[2] = std::uint8_t(payload_length >> 8);
        out[3] = std::uint8_t(payload_length);
        size = 4;
    } else {
        out[1] = mask_bit | 127;
        for (int i = 0; i < 8; ++i) out[2 + i] = std::uint8_t(payload_length >> (56 - 8 * i));
        size = 10;
    }
    if (mask) {
        std::memcpy(out + size, mask->data(), 4);
        size += 4;
    }
    return size;
}

ASTER_DECL close_parse parse_close_payload(std::span<const std::uint8_t> payload,
                                           close_payload& out) noexcept {
    out = close_payload{};
    if (payload.empty()) return close_parse::empty; // §5.5.1: the body is optional
    // §5.5.1: a body starts with a 2-byte code; §5.5: control payloads are at most 125 bytes.
    if (payload.size() < 2 || payload.size() > 125) return close_parse::invalid;
    std::uint16_t code = std::uint16_t(payload[0] << 8 | payload[1]);
    if (!is_valid_close_code_on_wire(code)) return close_parse::invalid; // §7.4
    std::string_view reason(reinterpret_cast<const char*>(payload.data()) + 2, payload.size() - 2);
    if (!is_valid_utf8(reason)) return close_parse::invalid; // §5.5.1, §8.1
    out.code = code;
    out.reason = reason;
    return close_parse::ok;
}

ASTER_DECL std::size_t encode_close_payload(std::uint8_t* out, std::uint16_t code,
                                            std::string_view reason) noexcept {
    out[0] = std::uint8_t(code >> 8);
    out[1] = std::uint8_t(code);
    // §5.5: 125 bytes in all; cut at a code point boundary so the peer does not fail us (§8.1).
    std::size_t n = utf8_valid_prefix(reason.substr(0, 123));
    if (n > 0) std::memcpy(out + 2, reason.data(), n);
    return 2 + n;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_WS_FRAME_HPP
// end aster/detail/ws_frame.hpp

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aster::detail {

/// A whole WebSocket frame, built once per publish and held by every subscriber's send queue
/// (and every loop) that sends it. Server frames are not masked, so one frame serves every
/// subscriber. Topic messages go uncompressed also to permessage-deflate connections (RSV1 clear,
/// RFC 7692 §6): compressing per subscriber would undo the sharing.
inline shared_frame make_topic_frame(std::string_view message, bool binary) {
    std::uint8_t header[max_frame_header_size];
    const std::size_t n = encode_frame_header(header, true, binary ? opcode::binary : opcode::text,
                                              message.size());
    auto frame = std::make_shared<std::string>();
    frame->reserve(n + message.size());
    frame->append(reinterpret_cast<const char*>(header), n);
    frame->append(message);
    return frame;
}

/// What a publish did at one subscriber.
enum class delivery : std::uint8_t {
    queued,  // in its send queue
    skipped, // its close has begun: it receives no more topic messages
    dropped, // backpressure::drop, or a wait that could not or did not happen
    closed,  // backpressure::close: it is being closed with 1013
    full     // backpressure::wait: the publisher may wait for room
};

/// A connection that receives topic messages: a WebSocket session.
class topic_subscriber {
public:
    /// Queues `frame`; past the connection's topic queue limit, does what `policy` says.
    virtual delivery deliver(const shared_frame& frame, backpressure policy) = 0;
    virtual bool has_room_for(std::size_t bytes) const noexcept = 0;

protected:
    ~topic_subscriber() = default;
};

/// Counts for server_stats: written by the registry's loop only, read from anywhere.
struct topic_counts {
    live_count topics, subscriptions, delivered, dropped, waiting;
};

class topic_hub;

/// One event loop's topics. Everything but counts() runs on that loop's thread; other loops
/// and other threads reach it through topic_hub, which posts to it.
class topic_registry final : public topic_publisher {
public:
    using executor_type = net::any_io_executor;

    topic_registry(topic_hub& hub, executor_type executor) : hub_(&hub), executor_(executor) {}
    topic_registry(const topic_registry&) = delete;
    topic_registry& operator=(const topic_registry&) = delete;

    executor_type get_executor() const noexcept { return executor_; }
    /// True on the thread running this loop now.
    bool runs_here() const noexcept {
        auto* io = executor_.target<net::io_context::executor_type>();
        return io && io->running_in_this_thread();
    }
    const topic_counts& counts() const noexcept { return counts_; }

    /// False when `who` is subscribed already (its policy then stays as it was).
    bool subscribe(std::string_view topic, topic_subscriber& who, backpressure policy);
    /// False when `who` was not subscribed.
    bool unsubscribe(std::string_view topic, topic_subscriber& who);

    task<> publish(std::string_view topic, std::string_view message, const publish_options& options,
                   const topic_subscriber* sender) override;
    topic_hub_interface& hub() noexcept override;

    /// Hands `frame` to this loop's subscribers of `topic` but `skip`. Subscribers that are
    /// full under backpressure::wait go to `full` when given (an awaiting publisher waits for
    /// them), else their copy is dropped.
    void deliver(std::string_view topic, const shared_frame& frame, const topic_subscriber* skip,
                 std::vector<std::uint64_t>* full);

    /// A subscriber's queue drained: publishers waiting for room look again.
    void room_made() noexcept {
        for (net::steady_timer* t : waiters_) t->cancel();
    }
    bool has_waiters() const noexcept { return !waiters_.empty(); }

private:
    struct member {
        topic_subscriber* who;
        backpressure policy;
        std::uint64_t serial; // tells a subscription from a later one at the same address
    };
    struct name_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    using topic_map =
        std::unordered_map<std::string, std::vector<member>, name_hash, std::equal_to<>>;

    // A publisher waiting for room, counted and woken by room_made while it exists; also
    // when the loop is torn down mid-wait, so room_made never reaches a destroyed timer.
    class waiting_publisher {
    public:
        waiting_publisher(topic_registry& registry, net::steady_timer& timer)
            : registry_(registry), timer_(timer) {
            registry_.counts_.waiting.add();
            registry_.waiters_.push_back(&timer_);
        }
        ~waiting_publisher() {
            std::erase(registry_.waiters_, &timer_);
            registry_.counts_.waiting.sub();
        }
        waiting_publisher(const waiting_publisher&) = delete;
        waiting_publisher& operator=(const waiting_publisher&) = delete;

    private:
        topic_registry& registry_;
        net::steady_timer& timer_;
    };

    task<> wait_for_room(std::string topic, shared_frame frame, std::vector<std::uint64_t> full,
                         std::chrono::milliseconds timeout);
    topic_subscriber* find(std::string_view topic, std::uint64_t serial) const;
    void count(delivery d) noexcept;

    topic_hub* hub_;
    executor_type executor_;
    topic_map topics_;
    std::uint64_t next_serial_ = 0;
    std::vector<net::steady_timer*> waiters_; // publishers waiting for room, on their timers
    topic_counts counts_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_TOPIC_REGISTRY_HPP
// end aster/detail/topic_registry.hpp

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aster::detail {

/// What carries topics to other processes (redis_link). Every call may come from any thread.
class topic_broker {
public:
    virtual ~topic_broker() = default;
    virtual void start() = 0;
    virtual void stop() noexcept = 0;
    /// A publish made in this process (and delivered in it already).
    virtual void publish(std::string_view topic, std::string_view message, bool binary) = 0;
    /// The first subscriber of `topic` in this process came, or the last left.
    virtual void watch(std::string_view topic) = 0;
    virtual void unwatch(std::string_view topic) = 0;
    /// Publishes dropped because the broker was away too long.
    virtual std::size_t dropped() const noexcept = 0;
    virtual bool connected() const noexcept = 0;
    /// Asks for a round trip through the broker behind everything asked of it so far (the
    /// subscription changes, the publishes); synced(ticket) says when it is back. For tests,
    /// whose loop runs only while they wait.
    virtual std::uint64_t sync() = 0;
    virtual bool synced(std::uint64_t ticket) const noexcept = 0;
    /// After stop(): true once nothing of the broker is left on its loop, so it may go.
    virtual bool stopped() const noexcept = 0;
};

/// One registry per event loop. A publish is delivered on its own loop at once and crosses to
/// each other loop once (a post carrying the shared frame), not once per subscriber; posts to
/// one io_context run in order, so one publisher's messages to a topic arrive in publish order
/// on every loop.
class topic_hub final : public topic_hub_interface {
public:
    topic_hub() = default;
    topic_hub(const topic_hub&) = delete;
    topic_hub& operator=(const topic_hub&) = delete;

    /// Adds a loop's registry; all loops are added before any connection runs.
    topic_registry& add_loop(topic_registry::executor_type executor) {
        loops_.push_back(std::make_unique<topic_registry>(*this, executor));
        return *loops_.back();
    }

    /// After `from` delivered a publish itself, each other loop delivers it; null: every loop.
    void forward(const topic_registry* from, std::string_view topic, const shared_frame& frame);
    /// From any thread: delivered at once when called on one of the loops, posted to the rest.
    void publish_anywhere(std::string_view topic, std::string_view message,
                          const publish_options& options) override;

    void count_publish() noexcept { published_.fetch_add(1, std::memory_order_relaxed); }
    topic_stats stats() const noexcept override;

    /// Shares topics with other processes from now on; before any connection runs.
    void attach(std::unique_ptr<topic_broker> broker) { broker_ = std::move(broker); }
    topic_broker* broker() const noexcept { return broker_.get(); }
    /// Destroys the broker: once its loop has stopped, before that loop's io_context goes.
    void detach_broker() noexcept { broker_.reset(); }
    /// A publish made here goes to the broker too, if there is one.
    void publish_remote(std::string_view topic, std::string_view message, bool binary) {
        if (broker_) broker_->publish(topic, message, binary);
    }
    /// A message from another process: framed once, delivered on every loop.
    void deliver_remote(std::string_view topic, std::string_view message, bool binary);
    /// A loop's first subscriber of `topic` came, or its last left: the broker hears of the
    /// process's first and last (counted over loops).
    void topic_opened(std::string_view topic);
    void topic_closed(std::string_view topic);

private:
    std::vector<std::unique_ptr<topic_registry>> loops_;
    std::atomic<std::size_t> published_{0};
    std::unique_ptr<topic_broker> broker_;
    std::mutex loops_per_topic_mutex_;
    std::unordered_map<std::string, unsigned> loops_per_topic_; // with a broker only
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
// begin aster/detail/impl/topics.ipp
// SPDX-License-Identifier: MIT
// Bodies of topic_registry and topic_hub.
#ifndef ASTER_DETAIL_IMPL_TOPICS_IPP
#define ASTER_DETAIL_IMPL_TOPICS_IPP

#include <algorithm>

namespace aster::detail {

ASTER_ENGINE bool topic_registry::subscribe(std::string_view topic, topic_subscriber& who,
                                            backpressure policy) {
    check_topic_name(topic);
    auto it = topics_.find(topic);
    if (it == topics_.end()) {
        it = topics_.emplace(std::string(topic), std::vector<member>{}).first;
        counts_.topics.add();
        hub_->topic_opened(topic);
    }
    for (const member& m : it->second)
        if (m.who == &who) return false;
    it->second.push_back({&who, policy, ++next_serial_});
    counts_.subscriptions.add();
    return true;
}

ASTER_ENGINE bool topic_registry::unsubscribe(std::string_view topic, topic_subscriber& who) {
    auto it = topics_.find(topic);
    if (it == topics_.end()) return false;
    auto& members = it->second;
    auto m = std::find_if(members.begin(), members.end(),
                          [&](const member& x) { return x.who == &who; });
    if (m == members.end()) return false;
    *m = members.back(); // delivery order among subscribers is not promised
    members.pop_back();
    counts_.subscriptions.sub();
    if (members.empty()) {
        hub_->topic_closed(it->first);
        topics_.erase(it);
        counts_.topics.sub();
    }
    return true;
}

ASTER_ENGINE void topic_registry::count(delivery d) noexcept {
    if (d == delivery::queued) counts_.delivered.add();
    else if (d == delivery::dropped || d == delivery::closed) counts_.dropped.add();
}

// A subscriber's deliver only queues (its writes start on a post or are synchronous writes):
// nothing here resumes a coroutine, so no subscription changes while the list is walked.
ASTER_ENGINE void topic_registry::deliver(std::string_view topic, const shared_frame& frame,
                                          const topic_subscriber* skip,
                                          std::vector<std::uint64_t>* full) {
    auto it = topics_.find(topic);
    if (it == topics_.end()) return;
    for (const member& m : it->second) {
        if (m.who == skip) continue;
        delivery d = m.who->deliver(frame, m.policy);
        if (d == delivery::full) {
            if (full) {
                full->push_back(m.serial);
                continue;
            }
            d = delivery::dropped; // nobody waits: another loop's publish, or a fire-and-forget
        }
        count(d);
    }
}

ASTER_ENGINE topic_subscriber* topic_registry::find(std::string_view topic,
                                                    std::uint64_t serial) const {
    auto it = topics_.find(topic);
    if (it == topics_.end()) return nullptr;
    for (const member& m : it->second)
        if (m.serial == serial) return m.who;
    return nullptr;
}

ASTER_ENGINE task<> topic_registry::publish(std::string_view topic, std::string_view message,
                                            const publish_options& options,
                                            const topic_subscriber* sender) {
    check_topic_name(topic);
    shared_frame frame = make_topic_frame(message, options.binary);
    hub_->count_publish();
    std::vector<std::uint64_t> full;
    deliver(topic, frame, options.to_sender ? nullptr : sender, &full);
    hub_->forward(this, topic, frame);
    hub_->publish_remote(topic, message, options.binary);
    if (!full.empty())
        co_await wait_for_room(std::string(topic), std::move(frame), std::move(full),
                               options.wait_timeout);
}

// The publisher waits for each full subscriber in turn, all against one deadline; a subscriber
// that leaves meanwhile is passed over. Other publishers and the loop go on.
ASTER_ENGINE task<> topic_registry::wait_for_room(std::string topic, shared_frame frame,
                                                  std::vector<std::uint64_t> full,
                                                  std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    net::steady_timer timer(executor_);
    waiting_publisher registered(*this, timer);
    for (std::uint64_t serial : full) {
        for (;;) {
            topic_subscriber* who = find(topic, serial);
            if (!who) break;
            if (who->has_room_for(frame->size())) {
                count(who->deliver(frame, backpressure::drop));
                break;
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                count(delivery::dropped);
                break;
            }
            timer.expires_at(deadline);
            auto [ec] = co_await timer.async_wait(use_tuple);
            (void)ec; // cancelled: room_made; expired: the deadline, seen above
        }
    }
}

ASTER_ENGINE topic_hub_interface& topic_registry::hub() noexcept { return *hub_; }

ASTER_ENGINE void topic_hub::forward(const topic_registry* from, std::string_view topic,
                                     const shared_frame& frame) {
    for (auto& loop : loops_) {
        if (loop.get() == from) continue;
        net::post(loop->get_executor(), [to = loop.get(), name = std::string(topic), frame] {
            to->deliver(name, frame, nullptr, nullptr);
        });
    }
}

ASTER_ENGINE void topic_hub::publish_anywhere(std::string_view topic, std::string_view message,
                                              const publish_options& options) {
    check_topic_name(topic);
    shared_frame frame = make_topic_frame(message, options.binary);
    count_publish();
    publish_remote(topic, message, options.binary);
    for (auto& loop : loops_) {
        if (loop->runs_here()) {
            loop->deliver(topic, frame, nullptr, nullptr);
            forward(loop.get(), topic, frame);
            return;
        }
    }
    forward(nullptr, topic, frame);
}

ASTER_ENGINE void topic_hub::deliver_remote(std::string_view topic, std::string_view message,
                                            bool binary) {
    if (topic.empty() || topic.size() > max_topic_name_bytes) return; // not one of ours
    forward(nullptr, topic, make_topic_frame(message, binary));
}

ASTER_ENGINE void topic_hub::topic_opened(std::string_view topic) {
    if (!broker_) return;
    std::lock_guard lock(loops_per_topic_mutex_);
    auto [it, added] = loops_per_topic_.try_emplace(std::string(topic), 0u);
    if (it->second++ == 0) broker_->watch(topic);
}

ASTER_ENGINE void topic_hub::topic_closed(std::string_view topic) {
    if (!broker_) return;
    std::lock_guard lock(loops_per_topic_mutex_);
    auto it = loops_per_topic_.find(std::string(topic));
    if (it == loops_per_topic_.end()) return;
    if (--it->second == 0) {
        loops_per_topic_.erase(it);
        broker_->unwatch(topic);
    }
}

ASTER_ENGINE topic_stats topic_hub::stats() const noexcept {
    topic_stats t;
    t.published = published_.load(std::memory_order_relaxed);
    for (const auto& loop : loops_) {
        const topic_counts& c = loop->counts();
        t.topics += c.topics.get();
        t.subscriptions += c.subscriptions.get();
        t.delivered += c.delivered.get();
        t.dropped += c.dropped.get();
        t.waiting += c.waiting.get();
    }
    if (broker_) {
        t.broker_dropped = broker_->dropped();
        t.broker_connected = broker_->connected();
    }
    return t;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_TOPICS_IPP
// end aster/detail/impl/topics.ipp
#endif

#endif // ASTER_DETAIL_TOPIC_HUB_HPP
// end aster/detail/topic_hub.hpp
// begin aster/detail/transfer_watch.hpp
// SPDX-License-Identifier: MIT
// transfer_watch: bytes one direction of a connection moved, checked against a minimum rate.
#ifndef ASTER_DETAIL_TRANSFER_WATCH_HPP
#define ASTER_DETAIL_TRANSFER_WATCH_HPP


#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>

namespace aster::detail {

/// The connection's I/O adds the bytes it moves (a plain add on the hot path); the loop's
/// watchdog asks, about once a second, whether a transfer in progress fell short of its
/// minimum over a whole window (see aster::transfer_rate).
class transfer_watch {
public:
    using clock = std::chrono::steady_clock;

    void add(std::size_t n) noexcept { total_ += n; }
    /// Takes back bytes that were no progress (control frames inside a WebSocket message).
    void take_back(std::size_t n) noexcept { total_ -= n; }

    /// `active`: a transfer is under way now. True once it has moved less than `rate` asks
    /// over a whole window; a window that met its share starts the next one.
    bool too_slow(bool active, clock::time_point now, const transfer_rate& rate) noexcept {
        if (!active || rate.bytes_per_second == 0 || rate.window.count() <= 0) {
            started_ = {};
            return false;
        }
        if (started_ == clock::time_point{}) {
            started_ = now;
            at_start_ = total_;
            return false;
        }
        if (now - started_ < rate.window) return false;
        const auto moved = std::int64_t(total_ - at_start_); // may dip below 0 (take_back)
        const auto share = std::int64_t(rate.bytes_per_second) * rate.window.count() / 1000;
        if (moved < share) return true;
        started_ = now;
        at_start_ = total_;
        return false;
    }

private:
    std::uint64_t total_ = 0, at_start_ = 0;
    clock::time_point started_{};
};

/// An async_write completion condition that counts what each write moved into a watch; it
/// writes as transfer_all does.
struct count_progress {
    transfer_watch* watch;
    std::size_t counted = 0;
    std::size_t operator()(const std::error_code& ec, std::size_t transferred) noexcept {
        watch->add(transferred - counted);
        counted = transferred;
        return ec ? 0 : 64 * 1024;
    }
};

} // namespace aster::detail

#endif // ASTER_DETAIL_TRANSFER_WATCH_HPP
// end aster/detail/transfer_watch.hpp
// begin aster/detail/ws_session.hpp
// SPDX-License-Identifier: MIT
// One server-side WebSocket connection over any AsyncStream (RFC 6455): handshake reply, frames,
// message assembly, control frames, the close handshake and a coalescing send queue.
#ifndef ASTER_DETAIL_WS_SESSION_HPP
#define ASTER_DETAIL_WS_SESSION_HPP

// begin aster/detail/async_event.hpp
// SPDX-License-Identifier: MIT
// A broadcast wake-up for coroutines on one executor, built on a timer that never expires.
#ifndef ASTER_DETAIL_ASYNC_EVENT_HPP
#define ASTER_DETAIL_ASYNC_EVENT_HPP


namespace aster::detail {

/// `while (!ready) co_await event.wait();` on one side, `event.notify_all()` on the other.
/// Single-threaded by design: both sides run on the same executor.
class async_event {
public:
    template <class Executor>
    explicit async_event(const Executor& ex) : timer_(ex) {
        timer_.expires_at(net::steady_timer::time_point::max());
    }

    // The expiry is set once: setting it again would cancel the other waiters, and two
    // coroutines waiting at once (a sender and the reader) would wake each other for ever.
    // cancel() leaves the expiry alone, so a later wait waits again.
    task<> wait() {
        auto [ec] = co_await timer_.async_wait(use_tuple);
        (void)ec; // cancelled is the wake-up
    }
    void notify_all() noexcept { timer_.cancel(); }

private:
    net::steady_timer timer_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_ASYNC_EVENT_HPP
// end aster/detail/async_event.hpp
// begin aster/detail/message_buffer.hpp
// SPDX-License-Identifier: MIT
// message_buffer: a WebSocket message being assembled, grown without zero-filling, up to a cap.
#ifndef ASTER_DETAIL_MESSAGE_BUFFER_HPP
#define ASTER_DETAIL_MESSAGE_BUFFER_HPP


#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string_view>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace aster::detail {

/// Bytes appended in place: reserve() room, write into spare(), commit() what was written.
/// Unlike std::string (whose resize zero-fills, and whose growth doubles past any limit),
/// growth never writes the new room and never goes past the cap the caller gives; on Linux a
/// large buffer is its own mapping, grown by mremap without copying, so the memory it holds is
/// what was written, not its capacity or the sum of two copies.
class message_buffer {
public:
    message_buffer() = default;
    message_buffer(const message_buffer&) = delete;
    message_buffer& operator=(const message_buffer&) = delete;
    ~message_buffer() { release(); }

    char* data() noexcept { return data_; }
    const char* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }
    bool empty() const noexcept { return size_ == 0; }
    std::string_view view() const noexcept { return {data_, size_}; }
    operator std::string_view() const noexcept { return view(); }

    char* spare() noexcept { return data_ + size_; }
    std::size_t spare_size() const noexcept { return capacity_ - size_; }
    void commit(std::size_t n) noexcept { size_ += n; }
    void clear() noexcept { size_ = 0; }
    void truncate(std::size_t n) noexcept { size_ = std::min(size_, n); }

    /// Capacity beyond `free_up_to` bytes is reserved in `budget` first; may be null.
    void charge_to(memory_budget* budget, std::size_t free_up_to) noexcept {
        share_.attach(budget);
        free_up_to_ = free_up_to;
    }

    /// Makes room for `extra` more bytes, doubling the capacity when it grows (amortised
    /// appends), but never beyond `cap` bytes in all: the room may then be smaller than asked.
    /// False, changing nothing, when the memory budget refuses the growth.
    bool reserve(std::size_t extra, std::size_t cap = std::size_t(-1)) {
        if (spare_size() >= extra) return true;
        std::size_t wanted = size_ + extra < size_ ? std::size_t(-1) : size_ + extra;
        wanted = std::max(wanted, std::max<std::size_t>(capacity_ * 2, 256));
        wanted = std::min(wanted, cap);
        if (wanted <= capacity_) return true;
        if (!share_.resize(wanted > free_up_to_ ? wanted : 0)) return false;
        reallocate(wanted);
        return true;
    }

    /// Appends `bytes`; false when the memory budget refuses the room. Throws
    /// std::length_error when they do not fit under `cap`.
    bool append(std::string_view bytes, std::size_t cap = std::size_t(-1)) {
        if (!reserve(bytes.size(), cap)) return false;
        if (spare_size() < bytes.size()) throw std::length_error("aster: message past its cap");
        if (!bytes.empty()) std::memcpy(spare(), bytes.data(), bytes.size());
        size_ += bytes.size();
        return true;
    }

    /// Frees the storage; empty afterwards.
    void release() noexcept {
        share_.resize(0);
        if (!data_) return;
#ifdef __linux__
        if (mapped_) ::munmap(data_, capacity_);
        else
#endif
            std::free(data_);
        data_ = nullptr;
        size_ = capacity_ = 0;
        mapped_ = false;
    }

private:
    // From here on a buffer is a mapping of its own (Linux): growing it remaps pages.
    static constexpr std::size_t map_from = 256 * 1024;

    void reallocate(std::size_t wanted) {
#ifdef __linux__
        if (wanted >= map_from) {
            const std::size_t page = 4096;
            wanted = (wanted + page - 1) / page * page;
            void* p;
            if (mapped_) {
                p = ::mremap(data_, capacity_, wanted, MREMAP_MAYMOVE);
            } else {
                p = ::mmap(nullptr, wanted, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                           0);
                if (p != MAP_FAILED && size_ > 0) std::memcpy(p, data_, size_);
                if (p != MAP_FAILED) std::free(data_);
            }
            if (p == MAP_FAILED) throw std::bad_alloc();
            data_ = static_cast<char*>(p);
            capacity_ = wanted;
            mapped_ = true;
            return;
        }
#endif
        void* p = std::realloc(data_, wanted);
        if (!p) throw std::bad_alloc();
        data_ = static_cast<char*>(p);
        capacity_ = wanted;
    }

    char* data_ = nullptr;
    std::size_t size_ = 0, capacity_ = 0;
    bool mapped_ = false;
    budget_share share_;
    std::size_t free_up_to_ = std::size_t(-1);
};

} // namespace aster::detail

#endif // ASTER_DETAIL_MESSAGE_BUFFER_HPP
// end aster/detail/message_buffer.hpp
// begin aster/detail/ws_deflate.hpp
// SPDX-License-Identifier: MIT
// permessage-deflate (RFC 7692 §7.2): the zlib codec that compresses and inflates messages.
#ifndef ASTER_DETAIL_WS_DEFLATE_HPP
#define ASTER_DETAIL_WS_DEFLATE_HPP

// begin aster/detail/ws_extensions.hpp
// SPDX-License-Identifier: MIT
// permessage-deflate's negotiation (RFC 7692 §5, §7.1): extension lists read and answered; pure.
#ifndef ASTER_DETAIL_WS_EXTENSIONS_HPP
#define ASTER_DETAIL_WS_EXTENSIONS_HPP


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
// end aster/detail/ws_extensions.hpp

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
// end aster/detail/ws_deflate.hpp
// begin aster/detail/ws_reader.hpp
// SPDX-License-Identifier: MIT
// ws_reader: one end's incoming WebSocket bytes made messages and control frames, with no I/O
// (RFC 6455 §5, §8; RFC 7692 §7.2.2). The server's session and the test client's both read
// through it; the fuzzers drive it with plain bytes.
#ifndef ASTER_DETAIL_WS_READER_HPP
#define ASTER_DETAIL_WS_READER_HPP


#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace aster::detail {

class deflate_codec; // ws_deflate.hpp, with zlib only

/// Reads frames from the front of a buffer of received bytes, one event at a time:
/// - `message`: a whole message, text checked as UTF-8 as it arrived (§8.1) and inflated when
///   compressed; data() views the buffer (one plain frame) or the reader's own assembly buffer;
/// - `ping`, `pong`: payload() views the buffer;
/// - `close`: the peer's close frame, its code (1005 when it has none) and reason;
/// - `failed`: the bytes broke a rule; close_code() and reason() are what to close with
///   (protocol_error, invalid_frame_payload_data, message_too_big, internal_error when out of
///   memory, try_again_later when the memory budget is spent), the reason the rule's own
///   description (describe(frame_error) for a malformed header);
/// - `need_more`: the frames in the buffer are used up (fragments of a message taken in) and the
///   next is not whole; needed() is the size the rest of the buffer must reach for it (0 while
///   its header itself is incomplete);
/// - `inflating`: a long compressed message was inflated one slice; call read() again (after
///   letting other work run), with the buffer left as it is.
/// Views stay valid until the caller moves or reuses the buffer's bytes, or calls read() again.
class ws_reader {
public:
    enum class event : std::uint8_t { need_more, message, ping, pong, close, failed, inflating };

    struct settings {
        bool from_client = true; // a server reads masked frames; a client reads unmasked ones
        std::size_t max_message_bytes = std::size_t(-1);
    };

    explicit ws_reader(settings s) noexcept : s_(s) {}

    /// permessage-deflate was agreed: compressed messages (RSV1) go through `codec`.
    void use_deflate(deflate_codec* codec) noexcept { deflate_ = codec; }
    /// Frames so far take RSV1 (a message's first frame): compression was agreed.
    bool compressing() const noexcept { return deflate_ != nullptr; }
    /// Large messages reserve their room in `budget`, beyond `free_up_to` bytes.
    void charge_to(memory_budget* budget, std::size_t free_up_to) noexcept {
        assembly_.charge_to(budget, free_up_to);
    }

    /// Reads frames from `bytes` (unmasking payloads in place) up to the next event; `used` says
    /// how many bytes it consumed.
    event read(std::span<std::uint8_t> bytes, std::size_t& used);

    bool text() const noexcept { return text_; }
    /// The last message came compressed (RSV1) and was inflated.
    bool compressed() const noexcept { return compressed_; }
    std::string_view data() const noexcept { return data_; }
    std::string_view payload() const noexcept { return data_; }
    aster::close_code close_code() const noexcept { return code_; }
    std::string_view reason() const noexcept { return reason_; }
    std::size_t needed() const noexcept { return needed_; }
    /// The bytes the last event's frame took on the wire (its header included).
    std::size_t frame_size() const noexcept { return frame_size_; }
    /// The payload bytes on the wire of the last message (compressed, when it was).
    std::size_t wire_bytes() const noexcept { return wire_bytes_; }
    /// A fragmented (or slice by slice inflated) message is under way.
    bool in_message() const noexcept { return in_message_; }
    /// Frees the assembly buffer when it grew past `keep` bytes (an idle connection keeps
    /// little).
    void trim(std::size_t keep) noexcept {
        if (assembly_.capacity() > keep) assembly_.release();
    }

private:
    event fail(aster::close_code code, std::string_view why) noexcept {
        code_ = code;
        reason_ = why;
        in_message_ = pending_inflate_ = false;
        return event::failed;
    }
    event protocol(std::string_view why) noexcept { return fail(close_code::protocol_error, why); }
    event bad_data(std::string_view why) noexcept {
        return fail(close_code::invalid_frame_payload_data, why);
    }
    event too_big() noexcept { return fail(close_code::message_too_big, "message too big"); }
    event message_frame(const frame_header& h, std::span<std::uint8_t> payload);
    event inflate_step();

    settings s_;
    deflate_codec* deflate_ = nullptr;
    message_buffer assembly_; // a fragmented or compressed message
    utf8_validator utf8_;
    std::string_view data_, reason_;
    aster::close_code code_{};
    std::size_t needed_ = 0, frame_size_ = 0, wire_bytes_ = 0;
    bool text_ = false, in_message_ = false, compressed_ = false;
    // A compressed frame part-way through inflating: its rest, and whether it ends the message.
    bool pending_inflate_ = false, pending_fin_ = false;
    std::span<const std::uint8_t> pending_;
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
// begin aster/detail/impl/ws_reader.ipp
// SPDX-License-Identifier: MIT
// ws_reader's frame walk, message assembly and inflation.
#ifndef ASTER_DETAIL_IMPL_WS_READER_IPP
#define ASTER_DETAIL_IMPL_WS_READER_IPP

namespace aster::detail {

ASTER_ENGINE ws_reader::event ws_reader::read(std::span<std::uint8_t> bytes, std::size_t& used) {
    used = 0;
    if (pending_inflate_) {
        event e = inflate_step();
        if (e != event::need_more) return e; // else: the frame is done, the message is not
    }
    for (;;) {
        std::span<std::uint8_t> rest = bytes.subspan(used);
        frame_header h{};
        frame_error why{};
        // §5.1: a client must mask, a server must not; §5.2: no RSV bits without an extension
        // that defines them (permessage-deflate: RSV1 on a message's first frame, RFC 7692 §6).
        auto parsed = parse_frame_header(rest, h, why, s_.from_client, deflate_ != nullptr);
        if (parsed == frame_parse_result::protocol_error) return protocol(describe(why));
        needed_ = 0;
        if (parsed == frame_parse_result::need_more) return event::need_more;
        if (h.payload_length > s_.max_message_bytes) return too_big();
        const std::size_t total = h.header_size + std::size_t(h.payload_length);
        if (rest.size() < total) {
            needed_ = total;
            return event::need_more;
        }
        auto payload = rest.subspan(h.header_size, std::size_t(h.payload_length));
        if (h.masked) unmask(payload, h.mask);
        used += total;
        frame_size_ = total;
        data_ = std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size());
        switch (h.op) {
        case opcode::ping:
            return event::ping;
        case opcode::pong:
            return event::pong;
        case opcode::close: {
            close_payload parsed_close{};
            auto kind = parse_close_payload(payload, parsed_close);
            if (kind == close_parse::invalid) return protocol("invalid close frame");
            code_ = kind == close_parse::empty ? close_code::no_status_rcvd
                                               : aster::close_code(parsed_close.code);
            reason_ = kind == close_parse::empty ? std::string_view() : parsed_close.reason;
            return event::close;
        }
        case opcode::text:
        case opcode::binary:
        case opcode::continuation:
            if (event e = message_frame(h, payload); e != event::need_more) return e;
            continue; // a fragment taken in: on to the next frame
        }
        return protocol("unknown opcode");
    }
}

ASTER_ENGINE ws_reader::event ws_reader::message_frame(const frame_header& h,
                                                       std::span<std::uint8_t> payload) {
    const std::string_view bytes(reinterpret_cast<const char*>(payload.data()), payload.size());
    if (h.op == opcode::continuation) {
        if (!in_message_) return protocol("continuation frame without a message");
        wire_bytes_ += payload.size();
    } else {
        if (in_message_) return protocol("new message inside a fragmented one");
        text_ = h.op == opcode::text;
        compressed_ = h.rsv1; // RFC 7692 §6: set on the first frame of a compressed message
        wire_bytes_ = payload.size();
        assembly_.clear();
        utf8_.reset();
        if (h.fin && !compressed_) {
            // The common case: one plain frame, handed out as a view of the buffer.
            if (text_ && !is_valid_utf8(bytes)) return bad_data("invalid UTF-8");
            data_ = bytes;
            return event::message;
        }
        in_message_ = true;
    }
    if (compressed_) {
        pending_ = payload;
        pending_fin_ = h.fin;
        pending_inflate_ = true;
        return inflate_step();
    }
    if (assembly_.size() + payload.size() > s_.max_message_bytes) return too_big();
    // §8.1: fail as soon as the text cannot be UTF-8, even mid-message.
    if (text_ && !utf8_.feed(bytes)) return bad_data("invalid UTF-8");
    if (!assembly_.append(bytes, s_.max_message_bytes))
        return fail(close_code::try_again_later, "server busy, try again later");
    if (!h.fin) return event::need_more;
    if (text_ && !utf8_.complete()) return bad_data("invalid UTF-8");
    in_message_ = false;
    data_ = assembly_.view();
    return event::message;
}

// One slice of the frame being inflated (the loop runs other work between slices).
ASTER_ENGINE ws_reader::event ws_reader::inflate_step() {
#ifdef ASTER_HAS_ZLIB
    const std::size_t before = assembly_.size();
    auto status = deflate_->inflate(pending_, pending_fin_, assembly_, s_.max_message_bytes);
    switch (status) {
    case deflate_codec::status::ok:
    case deflate_codec::status::more:
        break;
    case deflate_codec::status::too_big: // the decompressed size counts (zip bombs)
        return too_big();
    case deflate_codec::status::bad_data: // not a DEFLATE stream: the payload is invalid data
        return bad_data("invalid compressed data");
    case deflate_codec::status::no_memory:
        return fail(close_code::internal_error, "out of memory");
    case deflate_codec::status::no_budget: // §7.4.1: a temporary condition
        return fail(close_code::try_again_later, "server busy, try again later");
    }
    // §8.1 on what the bytes decompress to, failing as soon as they cannot be UTF-8.
    if (text_ && !utf8_.feed(assembly_.view().substr(before))) return bad_data("invalid UTF-8");
    if (status == deflate_codec::status::more) return event::inflating;
    pending_inflate_ = false;
    if (!pending_fin_) return event::need_more;
    if (text_ && !utf8_.complete()) return bad_data("invalid UTF-8");
    in_message_ = false;
    data_ = assembly_.view();
    return event::message;
#else
    return protocol("compression not negotiated"); // RSV1 is refused before this without zlib
#endif
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_READER_IPP
// end aster/detail/impl/ws_reader.ipp
#endif

#endif // ASTER_DETAIL_WS_READER_HPP
// end aster/detail/ws_reader.hpp

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace aster::detail {

/// A session's topics, made on its first subscribe: the names, and the shared frames queued.
struct ws_topic_state {
    std::vector<std::string> subscriptions;
    shared_frame_queue queue;
};

template <async_stream Stream>
class ws_session final : public websocket_transport, public closable, public topic_subscriber {
public:
    ws_session(Stream& stream, request& upgrade, const websocket_options& options,
               std::string_view already_read, std::exception_ptr* exception_sink,
               loop_counters* counters = nullptr, memory_budget* budget = nullptr);
    ~ws_session();
    ws_session(const ws_session&) = delete;
    ws_session& operator=(const ws_session&) = delete;

    /// Runs the route's handler on this connection and completes the close handshake.
    task<> run(const app_ref& app, std::size_t route_index);

    task<> accept(std::string_view subprotocol, const header_list& headers) override;
    task<> deny(response r) override;
    task<websocket_message> receive() override;
    task<> send(bool text, std::string_view payload) override;
    task<> close(std::uint16_t code, std::string_view reason) override;
    websocket_state state() const noexcept override { return state_; }
    bool accepted() const noexcept override { return accepted_; }
    std::uint16_t close_code() const noexcept override { return code(close_code_); }
    void report(std::exception_ptr error) override;
    void subscribe(std::string_view topic, std::optional<backpressure> policy) override;
    void unsubscribe(std::string_view topic) override;
    std::span<const std::string> subscriptions() const noexcept override;
    task<> publish(std::string_view topic, std::string_view message,
                   const publish_options& options) override;
    aster::topics topics() noexcept override;
    delivery deliver(const shared_frame& frame, backpressure policy) override;
    bool has_room_for(std::size_t bytes) const noexcept override;
    /// Graceful stop: close with 1001; the handler's receive then reports 1001.
    void begin_shutdown() override;
    void abort() noexcept override { close_stream(stream_); }
    /// A message arriving, or the send queue draining, slower than websocket_options' rates:
    /// closed with 1008.
    void watch(std::chrono::steady_clock::time_point now) noexcept override;
    /// Writes one access-log line when the session ends: the client, the path, the handshake's
    /// status, the close code, how long it lasted and the messages each way.
    void log_session(const client_address* client) {
        log_client_ = client;
        opened_ = std::chrono::steady_clock::now();
    }
    /// Counts the session, its messages and its close code in `metrics` when it ends.
    void count_in(loop_metrics* metrics) noexcept { metrics_ = metrics; }
    /// Subscribes and publishes through `topics`, its loop's registry; may be null.
    void join_topics(topic_registry* topics) noexcept { topics_ = topics; }

private:
    void prepare_read();
    task<bool> read_more();
    task<bool> read_frame_bytes();
    void begin_close(aster::close_code code, std::string_view reason, bool send_reason = true);
    void give_up(aster::close_code code, std::string_view reason);
    void queue_frame(opcode op, std::string_view payload, bool rsv1 = false);
    void queue_message(opcode op, std::string_view payload);
    void queue_close(aster::close_code code, std::string_view reason);
    task<> writes_changed();
    void notify_writes() noexcept {
        if (writes_changed_) writes_changed_->notify_all();
    }
    void deny_now(response& r);
    void finish_handler(std::exception_ptr error);
    task<> close_down();
    void schedule_flush();
    void write_now();
    websocket_message hand_out(bool text, std::string_view data) noexcept;
    std::size_t queued() const noexcept {
        return pending_.size() + inflight_.size() + (topic_ ? topic_->queue.bytes() : 0);
    }
    bool shared_pending() const noexcept { return topic_ && topic_->queue.has_pending(); }
    bool has_unsent() const noexcept { return !pending_.empty() || shared_pending(); }
    void drop_unsent() noexcept {
        pending_.clear();
        if (topic_) topic_->queue.clear();
    }
    void leave_topics() noexcept;
    void close_slow_subscriber();
    void account() noexcept;
    void start_write();
    task<> drain_writes();
    task<> await_peer_close();
    task<> keep_alive();
    void stop_keep_alive();
    [[noreturn]] void throw_closed(std::string_view operation) const;

    Stream& stream_;
    request& request_;
    const websocket_options& options_;
    std::exception_ptr* exception_sink_;
    std::vector<std::string_view> offered_;

    input_window in_; // its buffer held only while a frame is being read or handled
    std::array<unsigned char, 64> scratch_;
    ws_reader reader_{{.from_client = true, .max_message_bytes = options_.max_message_bytes}};

    std::string pending_, inflight_; // queued frames; frames being written
    bool writing_ = false, flush_scheduled_ = false, write_failed_ = false;
    // Set when receive hands out the last whole message of what was read: the answer to it
    // (with everything queued before) is written at once, without a post or an async write.
    bool answer_now_ = false;
    bool read_after_yield_ = false;    // write_now sent an answer: see receive()
    std::uint32_t batch_messages_ = 0; // handed out since the last read
    // Made on the first wait (backpressure, the close): an idle connection holds no timer.
    std::unique_ptr<async_event> writes_changed_;
    loop_counters* counters_;
    std::size_t accounted_ = 0; // queued() as counters_->buffered_bytes last heard it

    websocket_state state_ = websocket_state::connecting;
    bool accepted_ = false, sent_close_ = false, received_close_ = false, connection_lost_ = false;
    aster::close_code close_code_ = aster::close_code::abnormal_closure;
    // Keep-alive pings (websocket_options::ping_interval).
    net::steady_timer* ping_timer_ = nullptr;
    bool pinging_ = false, stop_pinging_ = false, awaiting_pong_ = false;
    bool gave_up_ = false; // the pinger or the watchdog ended it (give_up)
    std::unique_ptr<read_deadline<Stream>> closing_deadline_; // a graceful stop's close_timeout
    // The access log's line (log_session): null when off.
    const client_address* log_client_ = nullptr;
    loop_metrics* metrics_ = nullptr;
    std::chrono::steady_clock::time_point opened_{};
    std::uint64_t messages_in_ = 0, messages_out_ = 0;
    std::uint16_t handshake_status_ = 0;
    void log_end() const;
    // The pace of a message being received and of the send queue being written (watch()).
    transfer_watch received_, sent_;
    bool receiving_ = false;
    std::string close_reason_;
    // Topics, last: the per-message fields above keep their places (and cache lines).
    topic_registry* topics_ = nullptr;
    std::unique_ptr<ws_topic_state> topic_; // none until the first subscribe
#ifdef ASTER_HAS_ZLIB
    // Set by accept() when permessage-deflate is agreed; zlib's state inside comes on first use.
    std::unique_ptr<deflate_codec> deflate_;
    message_buffer deflated_; // a compressed message being framed
#endif
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
// begin aster/detail/impl/ws_session.hpp
// SPDX-License-Identifier: MIT
// Template bodies of ws_session, and the handshake checks.
#ifndef ASTER_DETAIL_IMPL_WS_SESSION_HPP
#define ASTER_DETAIL_IMPL_WS_SESSION_HPP

#include <algorithm>

namespace aster::detail {

// Small messages fit; bigger frames grow the buffer, which shrinks back once drained (idle
// connections should cost little memory).
inline constexpr std::size_t keep_buffer_up_to = 16 * 1024;

template <async_stream Stream>
ws_session<Stream>::ws_session(Stream& stream, request& upgrade, const websocket_options& options,
                               std::string_view already_read, std::exception_ptr* exception_sink,
                               loop_counters* counters, memory_budget* budget)
    : stream_(stream), request_(upgrade), options_(options), exception_sink_(exception_sink),
      counters_(counters) {
    if (counters_) counters_->websockets.add();
    in_.buffer().count_in(counters_ ? &counters_->input_bytes : nullptr);
    in_.buffer().charge_to(budget);
    reader_.charge_to(budget, large_block_size);
    for (const auto& f : upgrade.headers())
        if (iequals(f.name, "sec-websocket-protocol"))
            for (auto p : split_header_tokens(f.value)) offered_.push_back(p);
    // Over the memory budget, the session ends at its first read, as when the pinger gives up.
    if (!in_.assign(already_read)) gave_up_ = true;
    make_non_blocking(stream_); // read_more reads what is there, else waits
}

template <async_stream Stream>
ws_session<Stream>::~ws_session() {
    leave_topics();
    if (!counters_) return;
    counters_->buffered_bytes.sub(accounted_);
    counters_->websockets.sub();
}

template <async_stream Stream>
void ws_session<Stream>::report(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        log_limited(log_level::error, "websocket handler exception",
                    "exception in websocket handler for " + std::string(request_.target()) + ": " +
                        e.what());
    } catch (...) {
        log_limited(log_level::error, "websocket handler exception",
                    "unknown exception in websocket handler for " + std::string(request_.target()));
    }
    if (exception_sink_ && !*exception_sink_) *exception_sink_ = error;
}

template <async_stream Stream>
task<> ws_session<Stream>::accept(std::string_view subprotocol, const header_list& headers) {
    if (state_ != websocket_state::connecting)
        throw websocket_state_error(std::string("aster::websocket::accept: already ") +
                                    (accepted_ ? "accepted" : "refused") +
                                    " (state: " + std::string(to_string(state_)) + ")");
    if (!subprotocol.empty() &&
        std::find(offered_.begin(), offered_.end(), subprotocol) == offered_.end())
        throw std::invalid_argument("aster::websocket::accept: the client did not offer "
                                    "subprotocol '" +
                                    std::string(subprotocol) + "'");
    // Checked before anything is queued, so a refusal leaves no half-written head behind.
    for (const auto& [name, value] : headers) {
        if (!valid_field_name(name) || !valid_field_value(value))
            throw std::invalid_argument(
                "aster::websocket::accept: header '" + name +
                "' has an invalid name or a control character in its value");
        if (iequals(name, "sec-websocket-extensions"))
            throw std::invalid_argument(
                "aster::websocket::accept: aster negotiates "
                "Sec-WebSocket-Extensions itself (websocket_options::deflate)");
    }
    auto key = websocket_accept_key(*request_.header("sec-websocket-key"));
    pending_.append("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: ");
    pending_.append(key.data(), key.size());
    pending_.append("\r\n");
    if (!subprotocol.empty())
        pending_.append("Sec-WebSocket-Protocol: ").append(subprotocol).append("\r\n");
    for (const auto& [name, value] : headers)
        pending_.append(name).append(": ").append(value).append("\r\n");
#ifdef ASTER_HAS_ZLIB
    if (options_.deflate.enabled) {
        // RFC 7692 §5.1: accept the first acceptable offer, in the order the client sent them.
        for (const auto& f : request_.headers()) {
            if (!iequals(f.name, "sec-websocket-extensions")) continue;
            auto agreed = negotiate_deflate(f.value, options_.deflate);
            if (!agreed) continue;
            pending_.append("Sec-WebSocket-Extensions: ");
            append_deflate_response(pending_, *agreed);
            pending_.append("\r\n");
            deflate_ = std::make_unique<deflate_codec>(*agreed, true, options_.deflate.mem_level,
                                                       options_.deflate.level);
            reader_.use_deflate(deflate_.get());
            break;
        }
    }
#endif
    pending_.append("\r\n");
    state_ = websocket_state::connected;
    accepted_ = true;
    handshake_status_ = 101;
    schedule_flush();
    if (options_.ping_interval.count() > 0) {
        pinging_ = true;
        net::co_spawn(stream_.get_executor(), keep_alive(), net::detached);
    }
    co_return;
}

template <async_stream Stream>
task<> ws_session<Stream>::deny(response r) {
    if (state_ != websocket_state::connecting)
        throw websocket_state_error("aster::websocket::deny: only before accept (state: " +
                                    std::string(to_string(state_)) + ")");
    deny_now(r);
    co_return;
}

template <async_stream Stream>
void ws_session<Stream>::deny_now(response& r) {
    handshake_status_ = std::uint16_t(r.status());
    append_head(pending_, r, framing::length, r.body().size(), connection_header::close);
    pending_.append(r.body());
    state_ = websocket_state::disconnected;
    close_code_ = close_code::normal_closure;
    schedule_flush();
}

template <async_stream Stream>
task<> ws_session<Stream>::send(bool text, std::string_view payload) {
    if (state_ == websocket_state::connecting)
        throw websocket_state_error("aster::websocket::send: call accept() before sending "
                                    "(state: connecting)");
    // Backpressure: a reader slower than its senders makes them wait, not the queue grow. A
    // frame waits until it fits; only into an empty queue may one bigger than the limit go.
    const std::size_t frame = payload.size() + max_frame_header_size;
    while (state_ == websocket_state::connected && !write_failed_ && queued() > 0 &&
           queued() + frame > options_.max_send_queue_bytes)
        co_await writes_changed();
    if (write_failed_ && state_ == websocket_state::connected) {
        state_ = websocket_state::disconnected;
        connection_lost_ = true;
        close_code_ = close_code::abnormal_closure;
    }
    if (state_ == websocket_state::disconnected) throw_closed("send");
    queue_message(text ? opcode::text : opcode::binary, payload);
}

template <async_stream Stream>
websocket_message ws_session<Stream>::hand_out(bool text, std::string_view data) noexcept {
    ++messages_in_;
    if constexpr (waitable_stream<Stream>) {
        ++batch_messages_;
        // Nothing whole left to handle: what the handler sends next ends this read batch.
        std::span<const std::uint8_t> rest = in_.held();
        frame_header h{};
        frame_error why{};
        answer_now_ = parse_frame_header(rest, h, why, true, reader_.compressing()) ==
                          frame_parse_result::need_more ||
                      rest.size() < h.header_size + h.payload_length;
    }
    return websocket_message{text, data};
}

// Before a read: compacts what is left, makes room, and sends the answers to everything
// complete, so they go out before we wait.
template <async_stream Stream>
void ws_session<Stream>::prepare_read() {
    if (in_.holds_nothing() && in_.capacity() > large_block_size)
        in_.release(); // a huge frame is done with
    in_.compact();
    if (in_.end() == in_.capacity() && !(waitable_stream<Stream> && in_.end() == 0))
        in_.grow(std::max(pooled_block_size, in_.end() * 2));
    start_write();
}

template <async_stream Stream>
task<websocket_message> ws_session<Stream>::receive() {
    if (state_ == websocket_state::connecting)
        throw websocket_state_error("aster::websocket::receive: call accept() before receiving "
                                    "(state: connecting)");
    if (state_ == websocket_state::disconnected) throw_closed("receive");
    answer_now_ = false;
    reader_.trim(keep_buffer_up_to);
    for (;;) {
        std::size_t used = 0;
        const auto e = reader_.read(in_.held(), used);
        in_.consume(used);
        switch (e) {
        case ws_reader::event::message:
            co_return hand_out(reader_.text(), reader_.data());
        case ws_reader::event::inflating:
            // A long inflate must not hold the loop: let other connections run between slices.
            co_await net::post(stream_.get_executor(), net::use_awaitable);
            if (state_ != websocket_state::connected) throw_closed("receive");
            continue;
        case ws_reader::event::ping: {
            if (reader_.in_message()) received_.take_back(reader_.frame_size()); // no progress
            if (sent_close_) continue;
            // A peer that pings but never reads would grow the queue with pongs: read nothing
            // more from it until they drain (the payload stays put: only receive reads).
            const std::string_view payload = reader_.payload();
            while (!write_failed_ && queued() > 0 &&
                   queued() + payload.size() + max_frame_header_size >
                       options_.max_send_queue_bytes) {
                start_write();
                co_await writes_changed();
            }
            queue_frame(opcode::pong, payload); // §5.5.2: same payload
            continue;
        }
        case ws_reader::event::pong:
            if (reader_.in_message()) received_.take_back(reader_.frame_size());
            awaiting_pong_ = false;
            continue;
        case ws_reader::event::close:
            received_close_ = true;
            // §5.5.1: answer with a close frame, echoing the code; after ours, it ends ours.
            if (!sent_close_) begin_close(reader_.close_code(), reader_.reason(), false);
            state_ = websocket_state::disconnected;
            throw_closed("receive");
        case ws_reader::event::failed:
            // An invalid close frame is still the peer's close (§5.5.1): it sends nothing more,
            // so TCP closes at once.
            if (reader_.reason() == "invalid close frame") received_close_ = true;
            begin_close(reader_.close_code(), reader_.reason());
            throw_closed("receive");
        case ws_reader::event::need_more:
            break;
        }
        if (!co_await read_frame_bytes()) throw_closed("receive");
    }
}

// More bytes for the reader: room for the frame it waits for (reserved in the memory budget),
// then one read, the fast paths first. False when the connection is over (the code is set).
template <async_stream Stream>
task<bool> ws_session<Stream>::read_frame_bytes() {
    if (std::size_t needed = reader_.needed(); needed > in_.capacity() - in_.begin()) {
        in_.compact();           // room for the whole frame before reading on
        if (!in_.grow(needed)) { // the memory budget is spent
            begin_close(close_code::try_again_later, "server busy, try again later");
            co_return false;
        }
    }
    prepare_read();
    net::mutable_buffer target;
    std::error_code ec;
    std::size_t n = 0;
    bool read_done = false;
    if constexpr (waitable_stream<Stream>) {
        // An answer just went out and the peer's next message follows it: reading at once
        // would only find the socket empty (one wasted system call). Let the loop's other
        // ready work run first; by then the message has usually arrived.
        if (read_after_yield_ && in_.holds_nothing()) {
            read_after_yield_ = false;
            co_await net::post(stream_.get_executor(), net::use_awaitable);
            // The last read brought several messages: the peer pipelines and its next batch
            // is most likely in. One read straight into a block, rather than the scratch an
            // idle connection waits with and then the rest (two reads).
            if (batch_messages_ > 1 && !gave_up_) {
                in_.grow(pooled_block_size);
                immediate_io now = try_read(stream_, net::buffer(in_.data(), in_.capacity()));
                read_done = !now.blocked;
                ec = now.ec;
                n = now.n;
                received_.add(n);
            }
        }
        batch_messages_ = 0;
    }
    if (!read_done) {
        // The pinger or the watchdog gave up on the peer while no read was waiting (the
        // handler was busy): its cancel reached nothing, so do not start a read that may
        // never end.
        if (gave_up_) {
            ec = net::error::operation_aborted;
        } else if (start_read(stream_, in_.buffer(), in_.end(), scratch_, target, ec, n)) {
            // A message (or frame) begun and not finished: its pace is watched.
            receiving_ = reader_.in_message() || !in_.holds_nothing();
            auto [read_ec, read_n] = co_await stream_.async_read_some(target, use_tuple);
            receiving_ = false;
            ec = read_ec;
            n = read_ec ? 0 : finish_read(stream_, in_.buffer(), scratch_, target, read_n);
        }
        received_.add(n);
    }
    if (ec) {
        connection_lost_ = true;
        state_ = websocket_state::disconnected;
        // §7.1.5: closed without a close frame; unless we closed first (the code stays ours:
        // 1001 at shutdown) or gave up on the peer (give_up() set the code: 1011 for a silent
        // peer, 1008 for a slow one).
        if (!gave_up_ && !sent_close_) {
            close_code_ = close_code::abnormal_closure;
            close_reason_.clear();
        }
        co_return false;
    }
    in_.arrived(n);
    co_return true;
}

// While the handler runs, this frame holds little: what is done after it lives in
// finish_handler (plain) and close_down (a frame only once the handler is over).
template <async_stream Stream>
task<> ws_session<Stream>::run(const app_ref& app, std::size_t route_index) {
    {
        websocket ws(*this, request_, offered_);
        std::exception_ptr error;
        try {
            co_await app.run_websocket(app.app, route_index, request_, ws);
        } catch (const websocket_disconnect&) {
            // The handler let the close propagate; nothing more to report.
        } catch (...) {
            error = std::current_exception();
        }
        leave_topics(); // on_disconnect has seen them
        finish_handler(error);
    }
    co_await close_down();
    if (log_client_) log_end();
    if (metrics_ && accepted_) {
        std::string_view route = request_access::route_label(request_);
        metrics_->record_websocket(route.empty() ? unmatched_route : route, code(close_code_),
                                   messages_in_, messages_out_);
    }
}

// `127.0.0.1:50312 - "WebSocket /ws" 101 1000 2.5s in=3 out=3`, as uvicorn's access log.
template <async_stream Stream>
void ws_session<Stream>::log_end() const {
    if (!log_enabled(log_level::info)) return;
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - opened_)
                            .count();
    char duration[32];
    if (micros >= 1000000) std::snprintf(duration, sizeof duration, "%.1fs", double(micros) / 1e6);
    else std::snprintf(duration, sizeof duration, "%.1fms", double(micros) / 1000.0);
    log(log_level::info,
        log_client_->host + ":" + std::to_string(log_client_->port) + " - \"WebSocket " +
            std::string(request_.target()) + "\" " + std::to_string(handshake_status_) + " " +
            (accepted_ ? std::to_string(code(close_code_)) : std::string("-")) + " " + duration +
            " in=" + std::to_string(messages_in_) + " out=" + std::to_string(messages_out_));
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_SESSION_HPP
// end aster/detail/impl/ws_session.hpp
// begin aster/detail/impl/ws_send.hpp
// SPDX-License-Identifier: MIT
// ws_session's send queue: frames queued while a handler runs, written in one write.
#ifndef ASTER_DETAIL_IMPL_WS_SEND_HPP
#define ASTER_DETAIL_IMPL_WS_SEND_HPP

namespace aster::detail {

// Per batch of frames, not per byte: one relaxed store when the queue's size changes.
template <async_stream Stream>
void ws_session<Stream>::account() noexcept {
    if (!counters_) return;
    const std::size_t now = queued();
    if (now > accounted_) counters_->buffered_bytes.add(now - accounted_);
    else counters_->buffered_bytes.sub(accounted_ - now);
    accounted_ = now;
}

template <async_stream Stream>
task<> ws_session<Stream>::writes_changed() {
    if (!writes_changed_) writes_changed_ = std::make_unique<async_event>(stream_.get_executor());
    return writes_changed_->wait();
}

template <async_stream Stream>
void ws_session<Stream>::queue_frame(opcode op, std::string_view payload, bool rsv1) {
    std::uint8_t header[14];
    std::size_t n = encode_frame_header(header, true, op, payload.size(), nullptr, rsv1);
    pending_.append(reinterpret_cast<const char*>(header), n);
    pending_.append(payload);
    schedule_flush();
}

template <async_stream Stream>
void ws_session<Stream>::queue_message(opcode op, std::string_view payload) {
    ++messages_out_;
#ifdef ASTER_HAS_ZLIB
    if (deflate_ && payload.size() >= options_.deflate.min_compress_bytes) {
        deflated_.clear();
        auto status = deflate_->compress(payload, deflated_);
        // Without context takeover a message that does not shrink may go as it is (RSV1 clear,
        // RFC 7692 §6); with it, the peer's window must see every byte ours saw.
        bool send_raw = status != deflate_codec::status::ok ||
                        (deflate_->compressor_resets() && deflated_.size() >= payload.size());
        if (status != deflate_codec::status::ok)
            log(log_level::warning, "permessage-deflate: compression failed, sending uncompressed");
        if (!send_raw) {
            queue_frame(op, deflated_.view(), true); // RSV1: compressed (§6)
            if (deflated_.capacity() > keep_buffer_up_to) deflated_.release();
            return;
        }
    }
#endif
    queue_frame(op, payload);
}

template <async_stream Stream>
void ws_session<Stream>::queue_close(aster::close_code code, std::string_view reason) {
    std::uint8_t body[125];
    // §7.1.5: 1005 is a report of no code, and is sent as a close frame without a body.
    std::size_t n = code == close_code::no_status_rcvd
                        ? 0
                        : encode_close_payload(body, aster::code(code), reason);
    queue_frame(opcode::close, std::string_view(reinterpret_cast<const char*>(body), n));
}

// The answer to the last message of a read batch, with everything queued before it: one
// write_some on the non-blocking socket; what it does not take goes out asynchronously.
template <async_stream Stream>
void ws_session<Stream>::write_now() {
    answer_now_ = false;
    immediate_io now = try_write(stream_, net::buffer(pending_));
    sent_.add(now.n);
    if (now.ec) {
        write_failed_ = true;
        pending_.clear();
    } else if (now.n == pending_.size()) {
        pending_.clear();
        read_after_yield_ = true;
    } else {
        pending_.erase(0, now.n);
        start_write();
    }
    account();
    notify_writes();
}

// Frames queued while a handler runs go out together once it yields: one write per batch.
template <async_stream Stream>
void ws_session<Stream>::schedule_flush() {
    if constexpr (waitable_stream<Stream>) {
        if (answer_now_ && !writing_ && !write_failed_ && !pending_.empty() && !shared_pending()) {
            write_now();
            if (pending_.empty() || writing_) return;
        }
    }
    account();
    if (flush_scheduled_ || writing_) return;
    flush_scheduled_ = true;
    net::post(stream_.get_executor(), [this] {
        flush_scheduled_ = false;
        start_write();
        if (!writing_) notify_writes();
    });
}

template <async_stream Stream>
void ws_session<Stream>::start_write() {
    if (writing_ || !has_unsent()) return;
    if (write_failed_) {
        drop_unsent();
        account();
        return;
    }
    writing_ = true;
    inflight_.swap(pending_);
    auto done = [this](std::error_code ec, std::size_t) {
        writing_ = false;
        inflight_.clear();
        if (topic_) topic_->queue.finish_write();
        if (inflight_.capacity() > keep_buffer_up_to) std::string().swap(inflight_);
        if (ec) {
            write_failed_ = true;
            drop_unsent();
        }
        account();
        notify_writes();
        if (topics_ && topics_->has_waiters()) topics_->room_made();
        start_write();
    };
    if (shared_pending()) {
        // Own frames and topic frames in queue order, one gathering write.
        const auto& buffers = topic_->queue.start_write(inflight_);
        if (buffers.size() == 1) // small frames: one run, and a plain send
            net::async_write(stream_, buffers.front(), count_progress{&sent_}, std::move(done));
        else
            net::async_write(stream_, std::span<const net::const_buffer>(buffers),
                             count_progress{&sent_}, std::move(done));
    } else {
        net::async_write(stream_, net::buffer(inflight_), count_progress{&sent_}, std::move(done));
    }
}

template <async_stream Stream>
task<> ws_session<Stream>::drain_writes() {
    while (writing_ || flush_scheduled_ || (has_unsent() && !write_failed_)) {
        if (!writing_ && !flush_scheduled_) start_write();
        if (!writing_ && !flush_scheduled_) break;
        co_await writes_changed();
    }
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_SEND_HPP
// end aster/detail/impl/ws_send.hpp
// begin aster/detail/impl/ws_close.hpp
// SPDX-License-Identifier: MIT
// ws_session's close: the one transition into closing, the close handshake, the end of a session.
#ifndef ASTER_DETAIL_IMPL_WS_CLOSE_HPP
#define ASTER_DETAIL_IMPL_WS_CLOSE_HPP

namespace aster::detail {

// The one way a session starts to close (RFC 6455 §7.1.2): our close frame goes out (unless one
// did already, or the connection is gone), and from now on receive and send report `code` and
// `reason`. `send_reason`: false when echoing a peer's close, whose reason we report only.
template <async_stream Stream>
void ws_session<Stream>::begin_close(aster::close_code code, std::string_view reason,
                                     bool send_reason) {
    if (!sent_close_ && !connection_lost_) {
        queue_close(code, send_reason ? reason : std::string_view());
        sent_close_ = true;
    }
    state_ = websocket_state::disconnected;
    close_code_ = code;
    close_reason_ = std::string(reason.substr(0, 123));
}

template <async_stream Stream>
void ws_session<Stream>::begin_shutdown() {
    if (state_ != websocket_state::connected) return;
    begin_close(close_code::going_away, "server shutting down"); // §7.4.1
    // A handler waiting in receive() reads on for the peer's close reply, but only for
    // close_timeout, as await_peer_close does: then its read is cancelled.
    closing_deadline_ = std::make_unique<read_deadline<Stream>>(stream_);
    closing_deadline_->expires_after(options_.close_timeout);
}

template <async_stream Stream>
task<> ws_session<Stream>::close(std::uint16_t code, std::string_view reason) {
    if (state_ == websocket_state::connecting) {
        // Closing before accept refuses the handshake: HTTP 403, as uvicorn answers.
        // (A named response: g++ 12 destroys a temporary in a co_await operand twice.)
        response refusal = plain_text(reason.empty() ? "Forbidden" : std::string(reason),
                                      status::forbidden);
        co_await deny(std::move(refusal));
        close_code_ = aster::close_code(code);
        co_return;
    }
    if (state_ == websocket_state::disconnected) co_return; // closing twice changes nothing
    if (!is_valid_close_code_on_wire(code))
        throw std::invalid_argument("aster::websocket::close: code " + std::to_string(code) +
                                    " may not be sent (RFC 6455 §7.4)");
    begin_close(aster::close_code(code), reason);
}

template <async_stream Stream>
void ws_session<Stream>::throw_closed(std::string_view) const {
    throw websocket_disconnect(close_code_, close_reason_);
}

template <async_stream Stream>
task<bool> ws_session<Stream>::read_more() {
    prepare_read();
    auto [ec, n] = co_await read_into(stream_, in_.buffer(), in_.end(), scratch_);
    if (ec) {
        connection_lost_ = true;
        co_return false;
    }
    in_.arrived(n);
    co_return true;
}

// Ends a connection the peer is not keeping up with: the handler's receive or send reports
// `code`, the close frame goes out if the peer still reads, and nothing waits on it any more.
template <async_stream Stream>
void ws_session<Stream>::give_up(aster::close_code code, std::string_view reason) {
    if (state_ != websocket_state::connected || gave_up_) return;
    gave_up_ = true;
    begin_close(code, reason);
    cancel_stream(stream_);
}

template <async_stream Stream>
task<> ws_session<Stream>::await_peer_close() {
    // §7.1.1: wait for the peer's close frame (discarding data) for a bounded time.
    auto armed = std::make_shared<bool>(true);
    net::steady_timer deadline(stream_.get_executor());
    deadline.expires_after(options_.close_timeout);
    deadline.async_wait([armed, stream = &stream_](std::error_code ec) {
        if (!ec && *armed) cancel_stream(*stream);
    });
    for (bool done = false; !done;) {
        for (;;) {
            std::span<const std::uint8_t> available = in_.held();
            frame_header h{};
            frame_error why{};
            auto result = parse_frame_header(available, h, why, true, reader_.compressing());
            if (result == frame_parse_result::protocol_error) {
                done = true;
                break;
            }
            if (result != frame_parse_result::ok) break;
            std::size_t total = h.header_size + std::size_t(h.payload_length);
            if (total > options_.max_message_bytes + 14) {
                done = true;
                break;
            }
            if (available.size() < total) {
                if (total > in_.capacity()) {
                    done = true; // a huge frame after our close: not worth buffering
                }
                break;
            }
            in_.consume(total);
            if (h.op == opcode::close) {
                received_close_ = true;
                done = true;
                break;
            }
        }
        if (done) break;
        // The deadline may have fired while a read's completion was queued: its cancel then
        // reached no read, and a peer that keeps sending would keep this loop going.
        if (deadline.expiry() <= std::chrono::steady_clock::now()) break;
        if (!co_await read_more()) break; // EOF, reset, or the deadline cancelled the read
    }
    *armed = false;
    deadline.cancel();
}

template <async_stream Stream>
void ws_session<Stream>::finish_handler(std::exception_ptr error) {
    if (error) {
        report(error);
        if (state_ == websocket_state::connecting) {
            response failed = plain_text("Internal Server Error", status::internal_server_error);
            deny_now(failed);
        } else if (state_ == websocket_state::connected) {
            begin_close(close_code::internal_error, {});
        }
    }
    if (state_ == websocket_state::connecting) {
        // Starlette would wait for ever here; the client deserves an answer.
        log_limited(log_level::warning, "websocket not accepted",
                    "websocket handler for " + std::string(request_.target()) +
                        " returned without accept() or close(): answering 403");
        response refusal(status::forbidden);
        deny_now(refusal);
    } else if (state_ == websocket_state::connected) {
        begin_close(close_code::normal_closure, {});
    }
}

template <async_stream Stream>
task<> ws_session<Stream>::close_down() {
    stop_keep_alive();
    while (pinging_) co_await writes_changed(); // the pinger uses this session
    co_await drain_writes();
    if (accepted_ && sent_close_ && !received_close_ && !connection_lost_ && !write_failed_)
        co_await await_peer_close();
    co_await drain_writes();
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_CLOSE_HPP
// end aster/detail/impl/ws_close.hpp
// begin aster/detail/impl/ws_keepalive.hpp
// SPDX-License-Identifier: MIT
// ws_session's watchers: the keep-alive pinger and the transfer-rate watchdog's check.
#ifndef ASTER_DETAIL_IMPL_WS_KEEPALIVE_HPP
#define ASTER_DETAIL_IMPL_WS_KEEPALIVE_HPP

namespace aster::detail {

template <async_stream Stream>
void ws_session<Stream>::watch(std::chrono::steady_clock::time_point now) noexcept {
    if (state_ != websocket_state::connected) return; // a closing one has close_timeout
    if (sent_.too_slow(writing_, now, options_.min_send_rate))
        give_up(close_code::policy_violation,
                "send rate too low"); // §7.4.1: a policy the peer broke
    else if (received_.too_slow(receiving_, now, options_.min_receive_rate))
        give_up(close_code::policy_violation, "receive rate too low");
}

template <async_stream Stream>
task<> ws_session<Stream>::keep_alive() {
    net::steady_timer timer(stream_.get_executor());
    while (!stop_pinging_ && state_ == websocket_state::connected) {
        timer.expires_after(awaiting_pong_ ? options_.ping_timeout : options_.ping_interval);
        ping_timer_ = &timer;
        (void)co_await timer.async_wait(use_tuple); // cancelled means: look again
        ping_timer_ = nullptr;
        if (stop_pinging_ || state_ != websocket_state::connected) break;
        if (awaiting_pong_) {
            give_up(close_code::internal_error,
                    "keepalive ping timeout"); // the peer is gone or stuck
            break;
        }
        queue_frame(opcode::ping, "aster");
        awaiting_pong_ = true;
    }
    pinging_ = false;
    notify_writes();
}

template <async_stream Stream>
void ws_session<Stream>::stop_keep_alive() {
    stop_pinging_ = true;
    if (ping_timer_) ping_timer_->cancel();
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_KEEPALIVE_HPP
// end aster/detail/impl/ws_keepalive.hpp
// begin aster/detail/impl/ws_topics.hpp
// SPDX-License-Identifier: MIT
// ws_session's topics: subscriptions, publishing, and topic frames arriving from a publish.
#ifndef ASTER_DETAIL_IMPL_WS_TOPICS_HPP
#define ASTER_DETAIL_IMPL_WS_TOPICS_HPP

#include <algorithm>
#include <stdexcept>

namespace aster::detail {

template <async_stream Stream>
void ws_session<Stream>::subscribe(std::string_view topic, std::optional<backpressure> policy) {
    check_topic_name(topic);
    if (state_ == websocket_state::disconnected)
        throw websocket_state_error("aster::websocket::subscribe: the connection is closed "
                                    "(state: disconnected)");
    if (!topics_)
        throw std::logic_error("aster::websocket::subscribe: topics need a session served by a "
                               "server or test_client");
    if (!topic_) topic_ = std::make_unique<ws_topic_state>();
    if (topics_->subscribe(topic, *this, policy.value_or(options_.topic_backpressure)))
        topic_->subscriptions.emplace_back(topic);
}

template <async_stream Stream>
void ws_session<Stream>::unsubscribe(std::string_view topic) {
    if (!topic_ || !topics_ || !topics_->unsubscribe(topic, *this)) return;
    std::erase(topic_->subscriptions, topic);
}

template <async_stream Stream>
std::span<const std::string> ws_session<Stream>::subscriptions() const noexcept {
    if (!topic_) return {};
    return topic_->subscriptions;
}

// Right after the handler (and so on_disconnect) returns, and at the latest when the session
// is destroyed: each subscription ends once.
template <async_stream Stream>
void ws_session<Stream>::leave_topics() noexcept {
    if (!topic_ || !topics_) return;
    for (const std::string& t : topic_->subscriptions) topics_->unsubscribe(t, *this);
    topic_->subscriptions.clear();
}

template <async_stream Stream>
task<> ws_session<Stream>::publish(std::string_view topic, std::string_view message,
                                   const publish_options& options) {
    if (!topics_)
        throw std::logic_error("aster::websocket::publish: topics need a session served by a "
                               "server or test_client");
    return topics_->publish(topic, message, options, this);
}

template <async_stream Stream>
aster::topics ws_session<Stream>::topics() noexcept {
    return aster::topics(topics_ ? &topics_->hub() : nullptr);
}

template <async_stream Stream>
bool ws_session<Stream>::has_room_for(std::size_t bytes) const noexcept {
    const std::size_t now = queued();
    return now == 0 || now + bytes <= options_.max_topic_queue_bytes;
}

template <async_stream Stream>
delivery ws_session<Stream>::deliver(const shared_frame& frame, backpressure policy) {
    if (state_ != websocket_state::connected || write_failed_ || !topic_) return delivery::skipped;
    if (!has_room_for(frame->size())) {
        switch (policy) {
        case backpressure::drop:
            return delivery::dropped;
        case backpressure::wait:
            return delivery::full;
        case backpressure::close:
            close_slow_subscriber();
            return delivery::closed;
        }
    }
    topic_->queue.push(pending_.size(), frame);
    ++messages_out_;
    schedule_flush();
    return delivery::queued;
}

// backpressure::close: what is not yet being written is dropped and the close frame (1013)
// queued behind the write in flight, as a graceful stop does; a handler waiting in receive()
// reads for the peer's reply for close_timeout at most, and then the connection ends.
template <async_stream Stream>
void ws_session<Stream>::close_slow_subscriber() {
    drop_unsent();
    begin_close(close_code::try_again_later, "too slow for its topics");
    closing_deadline_ = std::make_unique<read_deadline<Stream>>(stream_);
    closing_deadline_->expires_after(options_.close_timeout);
    account();
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_TOPICS_HPP
// end aster/detail/impl/ws_topics.hpp
#endif

#endif // ASTER_DETAIL_WS_SESSION_HPP
// end aster/detail/ws_session.hpp

#include <array>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace aster::detail {

/// Per-connection settings the server and the test client pass in.
struct connection_options {
    http_limits limits{};
    websocket_options websocket{};
    // When set, a handler's exception is stored here as well as answered with 500, so
    // test_client can rethrow it in the test (Starlette's raise_server_exceptions).
    std::exception_ptr* exception_sink = nullptr;
    // The server's list of live connections on this loop, for a graceful stop; may be null.
    connection_registry* registry = nullptr;
    // The connection came in over TLS: request::scheme() says "https"/"wss". test_client sets
    // it to simulate TLS.
    bool secure = false;
    // The server's budget for large request bodies and WebSocket messages; may be null.
    memory_budget* budget = nullptr;
    // One info line per request and per WebSocket session (server_config::access_log).
    bool access_log = false;
    // When the app serves metrics_route: this loop's counters, and every loop's for a scrape.
    loop_metrics* metrics = nullptr;
    const metrics_registry* all_metrics = nullptr;
    // This loop's topics (websocket::subscribe, publish); may be null.
    topic_registry* topics = nullptr;
};

/// What an upgraded connection keeps for the WebSocket's life: a copy of the request head,
/// the request viewing it, and the session. It outlives the http_connection that made it, so
/// the parser, buffers and response of HTTP are freed while the WebSocket runs.
template <async_stream Stream>
class upgraded_websocket {
public:
    upgraded_websocket(Stream& stream, const connection_options& options, app_ref app,
                       request_parser& parser, std::string_view head, std::string_view already_read,
                       client_address client, loop_counters* counters)
        : head_(new char[head.size()]), client_(std::move(client)), registry_(options.registry) {
        std::memcpy(head_.get(), head.data(), head.size());
        parser.fill(request_, head_.get());
        if (request_.path().data() < head_.get() ||
            request_.path().data() >= head_.get() + head.size()) {
            decoded_path_.assign(request_.path()); // it viewed the parser's decoding
            request_access::set_target(request_, request_.target(), request_.raw_path(),
                                       decoded_path_, request_.query_string());
        }
        static const std::string no_body;
        request_access::set_body(request_, &no_body);
        request_access::set_client(request_, &client_);
        request_access::set_secure(request_, options.secure);
        request_access::set_routes(request_, app.routes);
        request_access::set_state(request_, app.state, app.state_type);
        request_access::set_topics(request_, options.topics);
        route_ = app.match_websocket(app.app, request_); // path parameters view the copy
        session_.emplace(stream, request_, options.websocket, already_read, options.exception_sink,
                         counters, options.budget);
        if (options.access_log || logger().access_log) session_->log_session(&client_);
        if (options.metrics) session_->count_in(options.metrics);
        session_->join_topics(options.topics);
        if (registry_) registry_->add(*session_);
    }
    ~upgraded_websocket() {
        if (registry_ && session_) registry_->remove(*session_);
    }
    upgraded_websocket(const upgraded_websocket&) = delete;
    upgraded_websocket& operator=(const upgraded_websocket&) = delete;

    /// Runs the route's handler; `app` must outlive the task (the caller's frame holds it).
    task<> run(const app_ref& app) { return session_->run(app, route_); }

private:
    std::unique_ptr<char[]> head_;
    std::string decoded_path_;
    client_address client_;
    request request_;
    std::size_t route_ = 0;
    connection_registry* registry_;
    std::optional<ws_session<Stream>> session_;
};

/// One HTTP/1.x connection. Its owner (serve_stream) heap-allocates it, runs it, and when
/// take_websocket() hands over a WebSocket, destroys it before running that one.
/// A body that is all in the buffer (and at most stream_body_threshold) is parsed with its
/// head, as is any body of a plain handler. Otherwise, for a coroutine route, the handler runs
/// once the head is in and reads the body through this connection (the body_source of its
/// request): pieces come straight from the read buffer, which keeps the head and one read's
/// worth of room, so a streamed body costs one block whatever its size.
template <async_stream Stream>
class http_connection final : public closable, private body_source {
public:
    http_connection(Stream& stream, app_ref app, const connection_options& options,
                    client_address client)
        : stream_(stream), app_(app), options_(options), parser_(options_.limits),
          client_(std::move(client)) {
        if (options_.registry) options_.registry->add(*this);
        in_.buffer().count_in(counters_ ? &counters_->input_bytes : nullptr);
        in_.buffer().charge_to(options_.budget);
        make_non_blocking(stream_); // reads take what is there, else wait
    }
    ~http_connection() {
        if (options_.registry) options_.registry->remove(*this);
    }
    http_connection(const http_connection&) = delete;
    http_connection& operator=(const http_connection&) = delete;

    /// Graceful stop: an idle connection closes now, a busy one after its current response,
    /// a WebSocket with 1001.
    void begin_shutdown() override;
    void abort() noexcept override { close_stream(stream_); }
    /// A body arriving, or a response leaving, slower than the limits' transfer rates: the
    /// read is answered 408, the write abandoned; either way the connection closes.
    void watch(std::chrono::steady_clock::time_point now) noexcept override {
        if (too_slow_) return;
        too_slow_ = received_.too_slow(receiving_, now, options_.limits.min_receive_rate) ||
                    sent_.too_slow(sending_, now, options_.limits.min_send_rate);
        if (too_slow_) cancel_stream(stream_);
    }

    /// Serves requests until the peer closes, asks to close, sends something unparseable, or
    /// upgrades: take_websocket() then holds the WebSocket, to run once this is destroyed.
    task<> run();
    std::unique_ptr<upgraded_websocket<Stream>> take_websocket() noexcept {
        return std::move(upgraded_);
    }

private:
    class chunk_writer;
    enum class body_phase : std::uint8_t { none, streaming, ended, failed };
    // What pull_body got: a piece, the end, or why it cannot go on.
    enum class pull : std::uint8_t { piece, end, failed, too_long, timed_out, gone };
    using clock = std::chrono::steady_clock;

    task<std::string_view> read_some() override;
    bool start_streaming();
    task<pull> pull_body(std::string_view& piece, std::size_t& budget, clock::time_point until);
    task<> finish_body();
    bool may_keep_alive() const noexcept;
    void route_request();
    bool respond_now(bool& keep_alive);
    task<bool> respond();
    bool queue_response(bool body_written_separately);
    response failure(std::exception_ptr error);
    task<bool> upgrade(std::string_view head, std::string_view already_read);
    void append_response(const response& res, bool keep_alive);
    void log_access(const response& res, std::chrono::steady_clock::time_point started);
    void note_response(const response& res);
    void record_written();
    task<bool> flush();
    template <class Buffers>
    task<std::error_code> write_counted(const Buffers& buffers, std::size_t size);
    task<bool> write_streaming(response& res, bool head_only, bool keep_alive);
    task<> run_background(std::vector<response::background_task>& tasks);
    void append_error(status code, std::string_view text);
    enum class space : std::uint8_t { ok, too_large, busy };
    space ensure_space();

    Stream& stream_;
    app_ref app_;
    const connection_options& options_; // the caller's, alive as long as the connection
    request_parser parser_;
    client_address client_;
    request request_;
    response response_;             // reused: one per connection, not per request
    std::size_t pending_route_ = 0; // a coroutine route respond() still has to run
    // When the request's head was in: for the access log and metrics; zero when both are off.
    std::chrono::steady_clock::time_point started_{};
    bool logging_ = false; // this request goes to the access log
    read_deadline<Stream> deadline_{stream_};
    input_window in_; // its buffer released while waiting between requests
    // A body streamed to its handler: where it starts (its head lies before) and how it went.
    std::size_t body_start_ = 0;
    body_phase body_phase_ = body_phase::none;
    bool continue_due_ = false;     // 100 Continue owed when the handler first reads the body
    bool piece_out_ = false;        // the handler holds a piece; the parser resumes when it is done
    bool body_closes_ = false;      // the body left the connection unusable: answer, then close
    std::exception_ptr body_error_; // why the body failed, thrown again if read again
    std::array<unsigned char, 256> scratch_; // a typical request head fits: one read
    std::string out_;                        // responses waiting for the end of this read batch
    loop_counters* counters_ = options_.registry ? &options_.registry->counters : nullptr;
    bool shutting_down_ = false, idle_ = false;
    // The pace of a body being received and of output being written (watch()).
    transfer_watch received_, sent_;
    bool receiving_ = false, sending_ = false, too_slow_ = false;
    // Answers queued but not yet written, for metrics: counted once their last byte is out.
    struct pending_metric {
        std::string_view route;
        method verb;
        std::uint16_t status;
        std::chrono::steady_clock::time_point started;
    };
    std::vector<pending_metric> unwritten_;
    std::unique_ptr<upgraded_websocket<Stream>> upgraded_;
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
// begin aster/detail/impl/http_connection.hpp
// SPDX-License-Identifier: MIT
// Template bodies of http_connection.
#ifndef ASTER_DETAIL_IMPL_HTTP_CONNECTION_HPP
#define ASTER_DETAIL_IMPL_HTTP_CONNECTION_HPP

#include <chrono>
#include <cstdio>
#include <system_error>

namespace aster::detail {

// Bodies above this go out as their own buffer in a gather write instead of being copied.
inline constexpr std::size_t copy_body_limit = 16 * 1024;
// Pipelined responses are held for one write, but not beyond this many bytes.
inline constexpr std::size_t max_pending_output = 64 * 1024;

template <async_stream Stream>
typename http_connection<Stream>::space http_connection<Stream>::ensure_space() {
    const std::size_t end = in_.end();
    if constexpr (waitable_stream<Stream>)
        if (end == 0) return space::ok; // read_into takes a block when bytes arrive
    // A body of known length gets all its room at once: the memory budget refuses it before
    // any of it is read, and a large one is not copied at every doubling.
    std::size_t needed = end + 1;
    if (parser_.headers_complete())
        if (auto rest = parser_.body_remaining())
            needed = std::max(needed, end + std::size_t(*rest));
    if (needed <= in_.capacity()) return space::ok;
    // The buffer holds one request (headers and body) plus whatever was pipelined after it.
    std::size_t cap = options_.limits.max_header_bytes + options_.limits.max_body_bytes + 64 * 1024;
    if (in_.capacity() >= cap) return space::too_large;
    std::size_t wanted = std::max(needed,
                                  in_.capacity() == 0 ? pooled_block_size : in_.capacity() * 2);
    return in_.grow(std::min(wanted, cap)) ? space::ok : space::busy;
}

template <async_stream Stream>
void http_connection<Stream>::begin_shutdown() {
    shutting_down_ = true;
    if (idle_) cancel_stream(stream_); // nothing in flight: close now
}

template <async_stream Stream>
task<> http_connection<Stream>::run() {
    request_access::set_client(request_, &client_);
    request_access::set_secure(request_, options_.secure);
    request_access::set_routes(request_, app_.routes);
    request_access::set_state(request_, app_.state, app_.state_type);
    request_access::set_metrics(request_, options_.all_metrics);
    request_access::set_topics(request_, options_.topics);
    parser_.pause_before_bodies(app_.streams_body != nullptr);
    const auto& limits = options_.limits;
    bool answered_one = false, head_clock_running = false;
    for (;;) {
        while (in_.has_unparsed()) {
            char* base = in_.chars();
            auto result = parser_.feed(base + in_.begin(), base + in_.parsed(),
                                       in_.end() - in_.parsed());
            in_.took(result.consumed);
            if (result.outcome == request_parser::state::need_more) break;
            if (result.outcome == request_parser::state::failed) {
                append_error(parser_.error_status(), parser_.error_reason());
                co_await flush();
                co_return;
            }
            if (result.outcome == request_parser::state::head_complete) {
                // The body is still arriving, or large: a coroutine route reads it as it comes;
                // a plain handler's is gathered first, as any other.
                if (!start_streaming()) {
                    parser_.read_body(false);
                    continue;
                }
                deadline_.clear();
                answered_one = true;
                head_clock_running = false;
                if (!co_await flush()) co_return; // earlier pipelined answers go first
                route_request();
                if (!co_await respond()) {
                    co_await flush();
                    co_return;
                }
                parser_.next();
                in_.done();
                continue;
            }
            parser_.fill(request_, base + in_.begin());
            deadline_.clear();
            answered_one = true;
            head_clock_running = false;
            if (parser_.websocket_upgrade()) {
                if (!co_await upgrade(in_.parsed_bytes(), in_.unparsed_bytes())) {
                    co_await flush();
                    co_return;
                }
                parser_.next();
                in_.done();
                continue;
            }
            bool keep_alive = false;
            if (!respond_now(keep_alive)) keep_alive = co_await respond();
            else if (out_.size() > max_pending_output && !co_await flush()) co_return;
            if (!keep_alive) {
                co_await flush();
                co_return;
            }
            parser_.next();
            in_.done();
        }
        // RFC 9110 §10.1.1: invite the body only once the headers were accepted.
        if (parser_.take_continue()) out_.append("HTTP/1.1 100 Continue\r\n\r\n");
        // Everything this read brought in has been answered: one write for all of it.
        if (!co_await flush()) co_return;
        in_.compact();
        if (auto room = ensure_space(); room != space::ok) {
            if (room == space::busy) // the server's memory budget, not this request, is full
                append_error(status::service_unavailable, "Service Unavailable");
            else
                append_error(parser_.headers_complete() ? status::request_entity_too_large
                                                        : status::request_header_fields_too_large,
                             "Request Too Large");
            co_await flush();
            co_return;
        }
        const bool idle = in_.holds_nothing() && answered_one;
        // Nothing of a request has arrived (a keep-alive wait, or a fresh connection that has
        // sent nothing yet): a graceful stop may close it at once.
        if (in_.holds_nothing() && shutting_down_) co_return;
        idle_ = in_.holds_nothing();
        if (idle) {
            deadline_.expires_after(limits.keep_alive_timeout);
        } else if (!parser_.headers_complete() || in_.holds_nothing()) {
            if (!head_clock_running) deadline_.expires_after(limits.header_timeout);
            head_clock_running = true;
        } else {
            deadline_.expires_after(limits.body_timeout); // silence between body reads
            receiving_ = true;                            // and its pace (watch)
        }
        // A deadline that fired while a read's completion was queued cancelled no read: read
        // no more, or the next read would wait with no deadline at all (a slowloris's byte).
        std::tuple<std::error_code, std::size_t> got{net::error::timed_out, 0};
        if (!deadline_.expired() && !too_slow_)
            got = co_await read_into(stream_, in_.buffer(), in_.end(), scratch_);
        auto [ec, n] = got;
        idle_ = receiving_ = false;
        received_.add(n);
        if (ec) {
            // A client too slow to finish its request hears why; an idle one is just closed.
            if ((deadline_.expired() || too_slow_) && !idle) {
                append_error(status::request_timeout, "Request Timeout");
                co_await flush();
            }
            co_return;
        }
        in_.arrived(n);
    }
}

template <async_stream Stream>
bool http_connection<Stream>::may_keep_alive() const noexcept {
    return parser_.keep_alive() && !shutting_down_ && !body_closes_ &&
           !iequals(response_.header_value("connection"), "close");
}

// Starts the access log's clock and routes: a plain handler answers into response_ now, a
// coroutine route is left in pending_route_ for respond().
template <async_stream Stream>
void http_connection<Stream>::route_request() {
    logging_ = (options_.access_log || logger().access_log) && log_enabled(log_level::info);
    started_ = logging_ || options_.metrics ? std::chrono::steady_clock::now()
                                            : std::chrono::steady_clock::time_point{};
    try {
        pending_route_ = app_.route_now(app_.app, request_, response_);
    } catch (...) {
        response_ = failure(std::current_exception());
        pending_route_ = app_ref::none;
    }
    if (pending_route_ == app_ref::none) apply_preconditions(request_, response_);
}

// Every exception a handler throws becomes a response here, whichever path ran it.
template <async_stream Stream>
response http_connection<Stream>::failure(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const http_exception& e) {
        response res = plain_text(std::string(e.detail()), e.status());
        for (const auto& [name, value] : e.headers()) res.header(name, value);
        return res;
    } catch (const client_disconnect&) {
        // Nobody is left to read an answer; the connection closes (see finish_body).
        return plain_text("Client Closed Request", status::bad_request);
    } catch (const std::exception& e) {
        log_limited(log_level::error, "handler exception",
                    std::string("exception in handler for ") + std::string(request_.method()) +
                        " " + std::string(request_.target()) + ": " + e.what());
    } catch (...) {
        log_limited(log_level::error, "handler exception",
                    std::string("unknown exception in handler for ") +
                        std::string(request_.method()) + " " + std::string(request_.target()));
    }
    if (options_.exception_sink) *options_.exception_sink = error;
    return plain_text("Internal Server Error", status::internal_server_error);
}

// Routing and plain-function handlers run without a coroutine; only a coroutine handler, a
// streaming response or a large body needs respond(). Returns true when the answer is queued.
template <async_stream Stream>
bool http_connection<Stream>::respond_now(bool& keep_alive) {
    route_request();
    if (pending_route_ != app_ref::none) return false;
    if (response_.is_streaming() || response_.body().size() > copy_body_limit ||
        !response_.background_tasks().empty())
        return false;
    keep_alive = queue_response(false);
    return true;
}

template <async_stream Stream>
bool http_connection<Stream>::queue_response(bool body_written_separately) {
    bool keep_alive = may_keep_alive();
    const bool http10 = request_.version_major() == 1 && request_.version_minor() == 0;
    const auto conn = !keep_alive ? connection_header::close
                      : http10    ? connection_header::keep_alive
                                  : connection_header::none;
    if (logging_) log_access(response_, started_);
    note_response(response_);
    const std::string& body = response_.body();
    const bool with_body = status_allows_body(response_.status());
    append_head(out_, response_, framing::length, with_body ? body.size() : 0, conn);
    if (with_body && !body_written_separately && request_.method_id() != method::head)
        out_.append(body);
    return keep_alive;
}

template <async_stream Stream>
task<bool> http_connection<Stream>::respond() {
    if (pending_route_ != app_ref::none) {
        try {
            response_ = co_await app_.invoke(app_.app, pending_route_, request_);
        } catch (...) {
            response_ = failure(std::current_exception());
        }
        apply_preconditions(request_, response_);
    }
    if (body_phase_ != body_phase::none) co_await finish_body();
    const bool head = request_.method_id() == method::head;
    auto tasks = response_.take_background_tasks();
    bool keep_alive = false;
    if (response_.is_streaming()) {
        keep_alive = may_keep_alive();
        if (logging_) log_access(response_, started_);
        keep_alive = co_await write_streaming(response_, head, keep_alive);
        note_response(response_);
        record_written();
    } else {
        const std::string& body = response_.body();
        const bool separate = body.size() > copy_body_limit && !head &&
                              status_allows_body(response_.status());
        keep_alive = queue_response(separate);
        if (separate) {
            std::array<net::const_buffer, 2> parts{net::buffer(out_), net::buffer(body)};
            auto ec = co_await write_counted(parts, out_.size() + body.size());
            out_.clear();
            if (ec) keep_alive = false;
            else record_written();
        }
        if (out_.size() > max_pending_output || !tasks.empty())
            if (!co_await flush()) keep_alive = false;
    }
    if (!tasks.empty()) co_await run_background(tasks);
    co_return keep_alive;
}

template <async_stream Stream>
void http_connection<Stream>::append_response(const response& res, bool keep_alive) {
    append_head(out_, res, framing::length, res.body().size(),
                keep_alive ? connection_header::none : connection_header::close);
    out_.append(res.body());
}

// A request with `Upgrade: websocket`. Refusals are ordinary HTTP responses on a connection
// that stays usable; an accepted handshake hands the connection to the WebSocket for good.
template <async_stream Stream>
task<bool> http_connection<Stream>::upgrade(std::string_view head, std::string_view already_read) {
    bool keep_alive = parser_.keep_alive();
    // Middleware sees the handshake before routing, as Starlette's pure ASGI middleware does.
    if (app_.check_websocket) {
        response refusal;
        bool refused = false;
        try {
            refused = app_.check_websocket(app_.app, request_, refusal);
        } catch (...) {
            refusal = failure(std::current_exception());
            refused = true;
        }
        if (refused) {
            append_response(refusal, keep_alive);
            co_return keep_alive;
        }
    }
    std::size_t index = app_.match_websocket(app_.app, request_);
    if (index == app_ref::none) {
        // No WebSocket route has this path (an HTTP route may): 404, as for HTTP.
        append_response(plain_text("Not Found", status::not_found), keep_alive);
        co_return keep_alive;
    }
    if (auto refusal = check_websocket_handshake(request_)) {
        append_response(*refusal, keep_alive);
        co_return keep_alive;
    }
    if (!co_await flush()) co_return false; // earlier pipelined answers go first
    if (shutting_down_) {
        append_response(plain_text("Service Unavailable", status::service_unavailable), false);
        co_return false;
    }
    // The WebSocket may live for hours: it keeps just the request head (ws.request() views
    // it); the owner frees everything else of HTTP before running it.
    upgraded_ = std::make_unique<upgraded_websocket<Stream>>(stream_, options_, app_, parser_, head,
                                                             already_read, std::move(client_),
                                                             counters_);
    in_.release();
    co_return false;
}

template <async_stream Stream>
task<bool> http_connection<Stream>::flush() {
    if (out_.empty()) co_return true;
    auto ec = co_await write_counted(net::buffer(out_), out_.size());
    out_.clear();
    if (!ec) record_written();
    co_return !ec;
}

template <async_stream Stream>
void http_connection<Stream>::append_error(status code, std::string_view text) {
    if (log_enabled(log_level::info))
        log_limited(log_level::info, "refused request",
                    client_.host + ":" + std::to_string(client_.port) + " - refused " +
                        std::to_string(std::uint16_t(code)) + " " + std::string(text));
    auto res = plain_text(std::string(text), code);
    append_head(out_, res, framing::length, text.size(), connection_header::close);
    if (!parser_.head_request()) out_.append(text); // RFC 9110 §9.3.2: never a body for HEAD
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_HTTP_CONNECTION_HPP
// end aster/detail/impl/http_connection.hpp
// begin aster/detail/impl/http_respond.hpp
// SPDX-License-Identifier: MIT
// http_connection's answers beyond a plain body: streamed bodies, background tasks, the access
// log and metrics.
#ifndef ASTER_DETAIL_IMPL_HTTP_RESPOND_HPP
#define ASTER_DETAIL_IMPL_HTTP_RESPOND_HPP

#include <charconv>
#include <cstdio>

namespace aster::detail {

template <async_stream Stream>
class http_connection<Stream>::chunk_writer final : public body_writer {
public:
    chunk_writer(http_connection& conn, bool chunked, std::optional<std::uint64_t> length)
        : conn_(conn), chunked_(chunked), length_(length) {}

    task<> write(std::string_view chunk) override {
        if (chunk.empty()) co_return;
        // Bytes past a promised Content-Length would be read as the next response: a producer
        // that writes them is stopped before they leave (and the connection then closes).
        if (length_ && chunk.size() > *length_ - written_)
            throw std::length_error("aster: streaming response: wrote past its Content-Length");
        char size_line[24];
        std::size_t size_len = 0;
        if (chunked_) {
            auto end = std::to_chars(size_line, size_line + 16, chunk.size(), 16).ptr;
            *end++ = '\r';
            *end++ = '\n';
            size_len = std::size_t(end - size_line);
        }
        std::array<net::const_buffer, 3> parts{net::buffer(size_line, size_len), net::buffer(chunk),
                                               net::buffer("\r\n", chunked_ ? 2 : 0)};
        auto ec = co_await conn_.write_counted(parts, size_len + chunk.size() + (chunked_ ? 2 : 0));
        // The producer learns the client is gone from this exception and stops.
        if (ec) {
            client_gone_ = true;
            throw std::system_error(ec, "aster: streaming response: client went away");
        }
        written_ += chunk.size();
    }
    std::uint64_t written() const noexcept { return written_; }
    bool client_gone() const noexcept { return client_gone_; }

private:
    http_connection& conn_;
    bool chunked_;
    std::optional<std::uint64_t> length_;
    std::uint64_t written_ = 0;
    bool client_gone_ = false;
};

// After the response is on the wire (Starlette runs them after the last body message); the next
// request on this connection waits for them, as under uvicorn.
template <async_stream Stream>
task<> http_connection<Stream>::run_background(std::vector<response::background_task>& tasks) {
    for (auto& t : tasks) {
        try {
            co_await t();
        } catch (const std::exception& e) {
            log_limited(log_level::error, "background task",
                        std::string("background task after ") + std::string(request_.method()) +
                            " " + std::string(request_.target()) + " failed: " + e.what());
        } catch (...) {
            log_limited(log_level::error, "background task",
                        std::string("background task after ") + std::string(request_.target()) +
                            " failed");
        }
    }
}

template <async_stream Stream>
void http_connection<Stream>::log_access(const response& res,
                                         std::chrono::steady_clock::time_point started) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
    char duration[32];
    std::snprintf(duration, sizeof duration, "%.1fms", double(micros) / 1000.0);
    std::string line = client_.host + ":" + std::to_string(client_.port) + " - \"" +
                       std::string(request_.method()) + " " + std::string(request_.target()) +
                       " HTTP/" + std::to_string(request_.version_major()) + "." +
                       std::to_string(request_.version_minor()) + "\" " +
                       std::to_string(std::uint16_t(res.status())) + " " +
                       (res.is_streaming() ? std::string("-") : std::to_string(res.body().size())) +
                       " " + duration;
    log(log_level::info, line);
}

template <async_stream Stream>
task<bool> http_connection<Stream>::write_streaming(response& res, bool head_only,
                                                    bool keep_alive) {
    // HTTP/1.0 has no chunked coding: the body ends when the connection does.
    const auto length = res.stream_length();
    const bool chunked = !length &&
                         !(request_.version_major() == 1 && request_.version_minor() == 0);
    if (!chunked && !length) keep_alive = false;
    const bool http10 = request_.version_major() == 1 && request_.version_minor() == 0;
    append_head(out_, res,
                length    ? framing::length
                : chunked ? framing::chunked
                          : framing::until_close,
                length.value_or(0),
                !keep_alive ? connection_header::close
                : http10    ? connection_header::keep_alive
                            : connection_header::none);
    if (!co_await flush()) co_return false;
    if (head_only || !status_allows_body(res.status())) co_return keep_alive;
    chunk_writer writer(*this, chunked, length);
    try {
        co_await res.body_producer()(writer);
        if (length && writer.written() != *length) {
            // The Content-Length promised is wrong: closing is the only way to say so.
            log_limited(log_level::error, "streaming length",
                        "streaming response for " + std::string(request_.target()) + " wrote " +
                            std::to_string(writer.written()) + " bytes, not its Content-Length " +
                            std::to_string(*length));
            co_return false;
        }
    } catch (const std::exception& e) {
        // The head is out; the only honest signal left is to close without the last chunk. A
        // client that left (or stopped reading) is no fault of the server's: debug.
        if (writer.client_gone()) {
            log_limited(log_level::debug, "streaming client gone",
                        "streaming response for " + std::string(request_.target()) +
                            " ended: the client went away");
            co_return false;
        }
        log_limited(log_level::error, "streaming failed",
                    "streaming response for " + std::string(request_.target()) +
                        " failed: " + e.what());
        if (options_.exception_sink) *options_.exception_sink = std::current_exception();
        co_return false;
    }
    if (chunked) out_.append("0\r\n\r\n");
    if (!co_await flush()) co_return false;
    co_return keep_alive;
}

// Metrics (when the app serves metrics_route): an answer is noted when queued...
template <async_stream Stream>
void http_connection<Stream>::note_response(const response& res) {
    if (!options_.metrics) return;
    std::string_view route = request_access::route_label(request_);
    unwritten_.push_back({route.empty() ? unmatched_route : route, request_.method_id(),
                          std::uint16_t(res.status()), started_});
}

// ...and counted once its last byte is written (answers to a pipelined batch go out together).
template <async_stream Stream>
void http_connection<Stream>::record_written() {
    if (unwritten_.empty()) return;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& m : unwritten_)
        options_.metrics->record_request(m.route, m.verb, m.status,
                                         std::chrono::duration<double>(now - m.started).count());
    unwritten_.clear();
}

// Every write of output goes through here, so server_stats::buffered_bytes sees what a slow
// reader holds: one add and one subtract per write, not per response.
template <async_stream Stream>
template <class Buffers>
task<std::error_code> http_connection<Stream>::write_counted(const Buffers& buffers,
                                                             std::size_t size) {
    if (counters_) counters_->buffered_bytes.add(size);
    sending_ = true;
    auto [ec, n] = co_await net::async_write(stream_, buffers, count_progress{&sent_}, use_tuple);
    sending_ = false;
    if (counters_) counters_->buffered_bytes.sub(size);
    co_return ec;
}

// A request refused before any handler saw it: the status, then the connection closes. Worth
// a line (a client or a proxy is broken, or someone probes), at most one a second.

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_HTTP_RESPOND_HPP
// end aster/detail/impl/http_respond.hpp
// begin aster/detail/impl/http_body_stream.hpp
// SPDX-License-Identifier: MIT
// http_connection's streamed request bodies: set up at the head, read as the handler asks, drained.
#ifndef ASTER_DETAIL_IMPL_HTTP_BODY_STREAM_HPP
#define ASTER_DETAIL_IMPL_HTTP_BODY_STREAM_HPP

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace aster::detail {

// A streamed body its handler left unread is read and dropped up to this many bytes (within
// body_timeout), so the connection can carry the next request; a longer rest closes it, since
// reading megabytes nobody wants costs more than a new connection.
inline constexpr std::size_t drain_limit = 256 * 1024;
// Room kept behind a streamed request's head beyond max_header_bytes (which bounds a trailer
// line): a chunk-size line must fit in it, with space left to read into.
inline constexpr std::size_t stream_room = 4 * 1024;

// At a head whose body is still arriving (or is large): when the request goes to a coroutine
// route, gets the body ready to stream to it and returns true.
template <async_stream Stream>
bool http_connection<Stream>::start_streaming() {
    if (!app_.streams_body) return false;
    parser_.fill(request_, in_.chars() + in_.begin());
    try {
        if (!app_.streams_body(app_.app, request_)) return false;
    } catch (...) {
        return false; // routing throws again when it runs, and is answered then
    }
    // The head goes to the front of the buffer with room behind it, and stays put while the
    // handler runs (the request views it); the body passes through the room a read at a time.
    in_.compact();
    const std::size_t wanted = in_.parsed() + options_.limits.max_header_bytes + stream_room;
    // Beyond the memory budget (a huge max_header_bytes): gathered instead, and refused then.
    if (!in_.grow(std::max(wanted, large_block_size))) return false;
    parser_.fill(request_, in_.chars());
    body_start_ = in_.parsed();
    // RFC 9110 §10.1.1: a client that asked waits for 100 Continue, sent when the handler
    // first reads; not when some of the body came anyway.
    continue_due_ = parser_.take_continue() && !in_.has_unparsed();
    piece_out_ = body_closes_ = false;
    body_phase_ = body_phase::streaming;
    request_access::set_stream(request_, this, &parser_.body_storage());
    parser_.read_body(true);
    return true;
}

// request::read_some of a streamed body: the next piece, as a view into the read buffer.
template <async_stream Stream>
task<std::string_view> http_connection<Stream>::read_some() {
    if (body_phase_ == body_phase::ended) co_return std::string_view();
    if (body_phase_ == body_phase::failed) std::rethrow_exception(body_error_);
    if (body_phase_ == body_phase::none)
        throw std::logic_error("aster::request::read_some(): the handler has returned; the rest "
                               "of its body was dropped");
    if (continue_due_) {
        continue_due_ = false;
        out_.append("HTTP/1.1 100 Continue\r\n\r\n");
        if (!co_await flush()) {
            body_phase_ = body_phase::failed;
            body_error_ = std::make_exception_ptr(
                client_disconnect("aster: the client went away before sending the body"));
            std::rethrow_exception(body_error_);
        }
    }
    std::string_view piece;
    std::size_t unlimited = static_cast<std::size_t>(-1);
    const pull got = co_await pull_body(piece, unlimited, clock::time_point::max());
    if (got == pull::piece) co_return piece;
    if (got == pull::end) {
        body_phase_ = body_phase::ended;
        co_return std::string_view();
    }
    body_phase_ = body_phase::failed;
    if (got == pull::failed)
        body_error_ = std::make_exception_ptr(
            http_exception(parser_.error_status(), std::string(parser_.error_reason())));
    else if (got == pull::too_long)
        body_error_ = std::make_exception_ptr(
            http_exception(status::bad_request, "Bad Request: chunk line too long"));
    else if (got == pull::timed_out)
        body_error_ = std::make_exception_ptr(
            http_exception(status::request_timeout, "Request Timeout"));
    else
        body_error_ = std::make_exception_ptr(
            client_disconnect("aster: the client went away before the end of the request body"));
    std::rethrow_exception(body_error_);
}

// Parses on to the next body piece, reading when every byte is parsed. `budget` is how many
// more bytes it may read (the drain's bound); `until` a deadline for all of them, or max for
// body_timeout per read.
template <async_stream Stream>
task<typename http_connection<Stream>::pull>
http_connection<Stream>::pull_body(std::string_view& piece, std::size_t& budget,
                                   clock::time_point until) {
    for (;;) {
        if (piece_out_) {
            piece_out_ = false;
            parser_.resume();
        }
        char* base = in_.chars();
        auto result = parser_.feed(base, base + in_.parsed(), in_.end() - in_.parsed());
        in_.took(result.consumed);
        if (result.outcome == request_parser::state::body_piece) {
            piece_out_ = true;
            piece = parser_.body_piece();
            co_return pull::piece;
        }
        if (result.outcome == request_parser::state::complete) co_return pull::end;
        if (result.outcome == request_parser::state::failed) co_return pull::failed;
        // Every byte is parsed. Drop the body bytes the parser is done with, so the buffer
        // holds the head and what one read brings, however long the body.
        const std::size_t keep = std::min(in_.parsed(), parser_.keep_from());
        if (keep > body_start_) {
            in_.erase(body_start_, keep);
            parser_.discard(body_start_, keep - body_start_);
        }
        // Full of one chunk line (a flood of extensions or zeros), or past the drain's bound.
        if (in_.end() == in_.capacity() || budget == 0) co_return pull::too_long;
        if (until == clock::time_point::max())
            deadline_.expires_after(options_.limits.body_timeout);
        else deadline_.expires_at(until);
        receiving_ = true;
        auto [ec, n] = co_await read_into(stream_, in_.buffer(), in_.end(), scratch_);
        receiving_ = false;
        deadline_.clear(); // the handler's own time is not the client's
        if (ec) co_return deadline_.expired() || too_slow_ ? pull::timed_out : pull::gone;
        received_.add(n);
        budget -= std::min(budget, n);
        in_.arrived(n);
    }
}

// After the handler of a streamed request. What it left unread is read and dropped when it is
// at most drain_limit and arrives within body_timeout, so the connection can carry the next
// request; otherwise the answer says Connection: close and the connection ends.
template <async_stream Stream>
task<> http_connection<Stream>::finish_body() {
    const body_phase phase = std::exchange(body_phase_, body_phase::none);
    if (phase == body_phase::ended) co_return;
    const bool closing = !may_keep_alive(); // then the rest is not worth reading
    body_closes_ = true;
    // Broken framing cannot be resynchronised. A client still waiting for 100 Continue may
    // send the body after all or not (RFC 9110 §10.1.1): either way, what follows is not
    // known to be a request.
    if (phase == body_phase::failed || continue_due_ || closing) co_return;
    if (auto rest = parser_.body_remaining(); rest && *rest > drain_limit) co_return;
    std::size_t budget = drain_limit;
    const auto until = clock::now() + options_.limits.body_timeout;
    for (;;) {
        std::string_view dropped;
        const pull got = co_await pull_body(dropped, budget, until);
        if (got == pull::piece) continue;
        if (got == pull::end) body_closes_ = false;
        co_return;
    }
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_HTTP_BODY_STREAM_HPP
// end aster/detail/impl/http_body_stream.hpp
#endif

#endif // ASTER_DETAIL_HTTP_CONNECTION_HPP
// end aster/detail/http_connection.hpp

#include <concepts>
#include <memory>
#include <type_traits>
#include <utility>

namespace aster::detail {

/// What owns a connection's stream: the stream, who is on the other end, and how the
/// connection ends (a lingering close for TCP, close_notify for TLS, nothing for a stream
/// that its owner closes). serve_stream takes it by value, so an owning transport lives in
/// the one coroutine frame a connection keeps.
template <class T>
concept transport = std::move_constructible<T> && requires(T& t) {
    requires async_stream<std::remove_reference_t<decltype(t.stream())>>;
    { t.peer() } -> std::convertible_to<client_address>;
    { t.finish() } -> std::same_as<task<>>;
};

/// Serves the transport's stream until the connection ends. HTTP's state and then the
/// WebSocket's live on the heap, so an upgraded connection frees the parser and buffers
/// before the WebSocket runs. `app` and `options` must outlive it.
template <transport Transport>
task<> serve_stream(Transport transport, const app_ref& app, const connection_options& options) {
    using Stream = std::remove_reference_t<decltype(transport.stream())>;
    {
        std::unique_ptr<upgraded_websocket<Stream>> websocket;
        {
            auto connection = std::make_unique<http_connection<Stream>>(
                transport.stream(), app, options, client_address(transport.peer()));
            co_await connection->run();
            websocket = connection->take_websocket();
        }
        if (websocket) co_await websocket->run(app);
    }
    co_await transport.finish();
}

/// A stream its owner closes: the test client's end, a test's or a fuzzer's.
template <async_stream Stream>
class borrowed_stream {
public:
    borrowed_stream(Stream& stream, client_address peer)
        : stream_(&stream), peer_(std::move(peer)) {}
    Stream& stream() noexcept { return *stream_; }
    const client_address& peer() const noexcept { return peer_; }
    task<> finish() { co_return; }

private:
    Stream* stream_;
    client_address peer_;
};

/// serve_stream over a borrowed stream.
template <async_stream Stream>
task<> serve_stream(Stream& stream, const app_ref& app, const connection_options& options,
                    client_address peer) {
    return serve_stream(borrowed_stream<Stream>(stream, std::move(peer)), app, options);
}

} // namespace aster::detail

#endif // ASTER_DETAIL_SERVE_STREAM_HPP
// end aster/detail/serve_stream.hpp
// begin aster/detail/tcp_transport.hpp
// SPDX-License-Identifier: MIT
// tcp_transport: an accepted TCP socket as serve_stream owns it: counted while open, closed
// however the connection ends, and ended by a lingering close.
#ifndef ASTER_DETAIL_TCP_TRANSPORT_HPP
#define ASTER_DETAIL_TCP_TRANSPORT_HPP


#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <system_error>
#include <utility>

namespace aster::detail {

inline constexpr auto linger_timeout = std::chrono::seconds(2);
inline constexpr std::size_t linger_max_bytes = 64 * 1024;

/// Lingering close (RFC 9112 §9.6): send FIN, then drain what the client still sends for a
/// moment, so closing with unread bytes does not reset the connection and destroy the last
/// response (a 400, 413 or 503 above all) before the client reads it.
ASTER_DECL task<> linger_close(net::ip::tcp::socket& socket,
                               std::chrono::steady_clock::duration limit) {
    std::error_code ec;
    socket.shutdown(net::ip::tcp::socket::shutdown_send, ec);
    net::steady_timer deadline(socket.get_executor());
    deadline.expires_after(limit);
    deadline.async_wait([&socket](std::error_code e) {
        if (!e) socket.cancel(e);
    });
    char sink[1024];
    for (std::size_t drained = 0; drained < linger_max_bytes;) {
        auto [read_ec, n] = co_await socket.async_read_some(net::buffer(sink), use_tuple);
        if (read_ec) break;
        drained += n;
    }
    deadline.cancel();
    socket.close(ec);
}

/// Counts the connection (connections) from its construction and the socket (sockets, which
/// the accept loop counted) until its destruction, when it closes the socket. Movable, so it
/// lives in the frame of the coroutine that serves the connection and costs no frame itself.
class tcp_transport {
public:
    tcp_transport(net::ip::tcp::socket socket, loop_counters* counters, client_address peer)
        : socket_(std::move(socket)), counters_(counters), peer_(std::move(peer)) {
        if (counters_) counters_->connections.add();
    }
    tcp_transport(tcp_transport&& other) noexcept
        : socket_(std::move(other.socket_)), counters_(std::exchange(other.counters_, nullptr)),
          peer_(std::move(other.peer_)) {}
    tcp_transport& operator=(tcp_transport&&) = delete;
    ~tcp_transport() {
        std::error_code ignored;
        socket_.close(ignored);
        if (!counters_) return;
        counters_->sockets.sub();
        counters_->connections.sub();
    }

    net::ip::tcp::socket& stream() noexcept { return socket_; }
    const client_address& peer() const noexcept { return peer_; }
    task<> finish() { return linger_close(socket_, linger_timeout); }

private:
    net::ip::tcp::socket socket_;
    loop_counters* counters_;
    client_address peer_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_TCP_TRANSPORT_HPP
// end aster/detail/tcp_transport.hpp

#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace aster {

namespace detail {
class tls_context; // detail/tls_context.hpp, in TLS builds only
struct watchdog_state;
} // namespace detail

/// What a server holds right now, summed over its loops (each loop's count is exact; the sum is
/// a snapshot). Every count returns to zero once all clients are gone, however they left.
struct server_stats {
    std::size_t connections = 0; // connection coroutines alive (HTTP, WebSocket, TLS, 503)
    std::size_t sockets = 0;     // accepted sockets not yet closed
    std::size_t websockets = 0;  // WebSocket sessions alive
    // Output held for slow readers: HTTP responses being written plus WebSocket send queues.
    // Bounded per connection: see websocket_options::max_send_queue_bytes and the README.
    std::size_t buffered_bytes = 0;
    // Read buffers held: a block per connection with a request or frame half read (a body
    // streamed to its handler included, whatever its size); none for idle connections.
    std::size_t input_bytes = 0;
    // Of server_config::memory_budget: bytes reserved now, and bodies or messages refused
    // since the start because it was spent.
    std::size_t budget_bytes = 0;
    std::size_t budget_refusals = 0;
    // Connections refused since the start: over max_connections, or over
    // max_connections_per_client.
    std::size_t refused_connections = 0;
    // Topics, as topic_stats says.
    std::size_t topics = 0;
    std::size_t subscriptions = 0;
    std::size_t published = 0;
    std::size_t delivered = 0;
    std::size_t dropped = 0;
    std::size_t waiting = 0;
};

/// Serves an app over TCP. `listen()` binds (so `port()` is known, also for port 0), `run()`
/// blocks until `stop()` or, when enabled, SIGINT/SIGTERM. Stopping is graceful: no new
/// connections, idle ones close, requests in flight finish (with `Connection: close`),
/// WebSockets close with 1001; after `shutdown_timeout` the rest is cut.
/// With `config.tls` set it serves https and wss instead, through the same connection code.
/// Thread safety: `stop()` may be called from any thread; the rest from the owning thread.
/// @code
/// aster::server srv{app, {.port = 0}};
/// srv.listen();
/// std::thread t([&] { srv.run(); });
/// // ... connect to 127.0.0.1:srv.port() ...
/// srv.stop(); t.join();
/// @endcode
class server {
public:
    template <class Router, class Middleware>
    server(const application<Router, Middleware>& app, server_config config)
        : server(app.ref(), std::move(config)) {}
    /// Serves any route table behind an app_ref; the app must outlive the server.
    server(detail::app_ref app, server_config config);
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    ~server() {
        stop();
        // The broker's sockets and timers belong to loop 0's io_context, and sessions that
        // the loops destroy would still tell it of topics they leave: it goes first.
        topics_.detach_broker();
    }

    /// Binds every loop's acceptor and loads the TLS certificate and key, if any. Throws
    /// std::system_error naming the address or file on failure, std::invalid_argument when TLS
    /// is asked of a build without it.
    void listen();
    std::uint16_t port() const noexcept { return port_; }
    /// Event loops (threads) it runs.
    unsigned threads() const noexcept { return unsigned(loops_.size()); }
    const server_config& config() const noexcept { return config_; }
    /// Runs the app's lifespan startup (its exception propagates, and nothing is served), then
    /// the loops, one on this thread and the rest on new threads, until stopped; then, once
    /// every connection has ended, the lifespan shutdown.
    void run();
    void stop() noexcept;
    /// Live counts; callable from any thread, costs nothing until called.
    server_stats stats() const noexcept;
    /// Publishes to the subscribers of `topic` on every loop; from any thread, returns at once.
    void publish(std::string_view topic, std::string_view message,
                 const publish_options& options = {}) {
        topics_.publish_anywhere(topic, message, options);
    }
    /// The server's topics as a value to keep (for a thread of your own, say).
    aster::topics topics() noexcept { return aster::topics(&topics_); }

private:
    struct loop {
        // Before ctx: connections cut at the shutdown deadline are destroyed with ctx, and
        // unregister themselves as they go.
        detail::connection_registry connections;
        detail::connection_options options;
        net::io_context ctx{1}; // one thread per loop: Asio may skip its locks
        std::optional<net::ip::tcp::acceptor> acceptor;
        std::optional<net::steady_timer> shutdown_deadline;
        net::steady_timer accept_pause{ctx}; // accepts pause on it after a failure
        std::shared_ptr<detail::watchdog_state> watchdog;
        std::unique_ptr<detail::loop_metrics> metrics; // when the app serves metrics_route
        loop() = default;
        loop(const loop&) = delete;
        loop& operator=(const loop&) = delete;
        ~loop() {
            watchdog.reset();
            connections.on_empty = nullptr; // it names shutdown_deadline, which goes first
            shutdown_deadline.reset();
            acceptor.reset();
        }
    };

    void begin_shutdown(loop& l);

    detail::app_ref app_;
    server_config config_;
    detail::connection_options options_;
    // Before loops_: the connections that loops_ destroys give their shares back to it.
    detail::memory_budget budget_;
    detail::admission admission_;
    detail::metrics_registry metrics_;
    // Before loops_: sessions leave their topics as the loops' contexts destroy them.
    detail::topic_hub topics_;
    std::vector<std::unique_ptr<loop>> loops_;
    // After loops_, so it is destroyed first: it lives on loop 0's io_context.
    std::optional<net::signal_set> signals_;
    std::shared_ptr<detail::tls_context> tls_; // set by listen() when config_.tls is
    std::uint16_t port_ = 0;
    std::atomic<bool> stopped_{false};
};

namespace detail {
void open_acceptor(net::ip::tcp::acceptor& acceptor, const net::ip::tcp::endpoint& endpoint,
                   const std::string& host, bool reuse_port);
net::ip::tcp::endpoint resolve_listen_address(const server_config& config,
                                              const net::any_io_executor& executor);
/// The certificate and key of config.tls, or null without; throws when TLS is asked of a
/// build without it.
std::shared_ptr<tls_context> load_tls(const server_config& config);
/// Accepts until the acceptor closes or the wait is cancelled: each connection admitted is
/// served on the acceptor's executor, the others refused with 503; failures back off on `pause`.
task<> accept_connections(net::ip::tcp::acceptor& acceptor, net::steady_timer& pause,
                          admission& gate, const app_ref& app, const connection_options& options,
                          tls_context* tls);
task<> refuse_busy(net::ip::tcp::socket socket, bool answer_503, loop_counters* counters);
void log_connection_end(std::exception_ptr e) noexcept;
/// Runs one lifespan hook (if not null) to its end on `ctx`, rethrowing what it throws.
void run_hook(net::io_context& ctx, task<> (*hook)());
/// One accepted TCP connection: HTTP (and WebSocket) until it ends, then a lingering close.
/// With `tls`, the connection is TLS (https/wss) on the same connection code.
task<> serve_tcp(net::ip::tcp::socket socket, const app_ref& app, const connection_options& options,
                 tls_context* tls);
/// Listens, logs the address and serves until stopped: the body of application::run.
void serve_app(app_ref app, server_config config);
/// serve()'s graceful end: closes the connections of `registry`, cut after `timeout`.
task<> drain(connection_registry& registry, net::steady_timer& drained, const admission& gate,
             std::chrono::steady_clock::duration timeout);
/// The body of application::serve.
task<> serve_in_place(app_ref app, server_config config,
                      std::function<void(std::uint16_t)> on_listening);
} // namespace detail

template <class Router, class... M>
void application<Router, middleware_list<M...>>::run(server_config config) const {
    detail::serve_app(ref(), std::move(config));
}

template <class Router, class... M>
task<> application<Router, middleware_list<M...>>::serve(
    server_config config, std::function<void(std::uint16_t)> on_listening) const {
    return detail::serve_in_place(ref(), std::move(config), std::move(on_listening));
}

} // namespace aster

#if ASTER_HEADER_ONLY
// begin aster/impl/server.hpp
// SPDX-License-Identifier: MIT
// Bodies of server: compiled in every file that includes aster.hpp (header-only), or once in the
// file that includes aster/impl/src.hpp (ASTER_SEPARATE_COMPILATION).
#ifndef ASTER_IMPL_SERVER_HPP
#define ASTER_IMPL_SERVER_HPP

// begin aster/detail/server_settings.hpp
// SPDX-License-Identifier: MIT
// What a server says about itself when it starts: its address, loops, and what differs from
// the defaults; and the logging its config asks for.
#ifndef ASTER_DETAIL_SERVER_SETTINGS_HPP
#define ASTER_DETAIL_SERVER_SETTINGS_HPP


#include <chrono>
#include <string>
#include <string_view>

namespace aster::detail {

/// Sets aster's logger as `config` asks (a level left unset leaves the logger's).
inline void apply_logging(const server_config& config) {
    if (config.log_level) logger().level = *config.log_level;
    if (config.log_timestamps) logger().timestamps = true;
}

/// `name=value` for every setting of `config` that is not its default, comma-separated.
inline std::string non_default_settings(const server_config& config) {
    std::string out;
    auto add = [&](std::string_view name, std::string value) {
        out.append(out.empty() ? "" : ", ").append(name).append("=").append(value);
    };
    auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; };
    auto rate = [](const transfer_rate& r) {
        return std::to_string(r.bytes_per_second) + "B/s per " + std::to_string(r.window.count()) +
               "ms";
    };
    const server_config d{};
    const auto &l = config.limits, &dl = d.limits;
    const auto &w = config.websocket, &dw = d.websocket;
    if (l.max_header_bytes != dl.max_header_bytes)
        add("max_header_bytes", std::to_string(l.max_header_bytes));
    if (l.max_url_bytes != dl.max_url_bytes) add("max_url_bytes", std::to_string(l.max_url_bytes));
    if (l.max_body_bytes != dl.max_body_bytes)
        add("max_body_bytes", std::to_string(l.max_body_bytes));
    if (l.max_headers != dl.max_headers) add("max_headers", std::to_string(l.max_headers));
    if (l.header_timeout != dl.header_timeout) add("header_timeout", ms(l.header_timeout));
    if (l.body_timeout != dl.body_timeout) add("body_timeout", ms(l.body_timeout));
    if (l.keep_alive_timeout != dl.keep_alive_timeout)
        add("keep_alive_timeout", ms(l.keep_alive_timeout));
    if (l.min_receive_rate.bytes_per_second != dl.min_receive_rate.bytes_per_second ||
        l.min_receive_rate.window != dl.min_receive_rate.window)
        add("min_receive_rate", rate(l.min_receive_rate));
    if (l.min_send_rate.bytes_per_second != dl.min_send_rate.bytes_per_second ||
        l.min_send_rate.window != dl.min_send_rate.window)
        add("min_send_rate", rate(l.min_send_rate));
    if (w.max_message_bytes != dw.max_message_bytes)
        add("websocket.max_message_bytes", std::to_string(w.max_message_bytes));
    if (w.max_send_queue_bytes != dw.max_send_queue_bytes)
        add("websocket.max_send_queue_bytes", std::to_string(w.max_send_queue_bytes));
    if (w.close_timeout != dw.close_timeout) add("websocket.close_timeout", ms(w.close_timeout));
    if (w.ping_interval != dw.ping_interval) add("websocket.ping_interval", ms(w.ping_interval));
    if (w.ping_timeout != dw.ping_timeout) add("websocket.ping_timeout", ms(w.ping_timeout));
    if (w.deflate.enabled != dw.deflate.enabled)
        add("websocket.deflate", w.deflate.enabled ? "on" : "off");
    if (config.shutdown_timeout != d.shutdown_timeout)
        add("shutdown_timeout", ms(config.shutdown_timeout));
    if (config.max_connections != d.max_connections)
        add("max_connections", std::to_string(config.max_connections));
    if (config.max_connections_per_client != d.max_connections_per_client)
        add("max_connections_per_client", std::to_string(config.max_connections_per_client));
    if (config.memory_budget != d.memory_budget)
        add("memory_budget", std::to_string(config.memory_budget));
    if (!config.access_log) add("access_log", "off");
    if (config.reuse_port) add("reuse_port", "on");
    return out;
}

/// "listening on http://127.0.0.1:8000 with 2 threads (settings: ...)".
inline std::string listening_line(const server_config& config, std::uint16_t port,
                                  unsigned threads) {
    std::string line = std::string("aster: listening on ") + (config.tls ? "https://" : "http://") +
                       config.host + ":" + std::to_string(port) + " with " +
                       std::to_string(threads) + (threads == 1 ? " thread" : " threads");
    if (auto settings = non_default_settings(config); !settings.empty())
        line += " (" + settings + ")";
    return line;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_SERVER_SETTINGS_HPP
// end aster/detail/server_settings.hpp
// begin aster/detail/tls_connection.hpp
// SPDX-License-Identifier: MIT
// One server connection over TLS: handshake, the ordinary HTTP connection on the TLS stream,
// then close_notify. Only TLS builds compile it.
#ifndef ASTER_DETAIL_TLS_CONNECTION_HPP
#define ASTER_DETAIL_TLS_CONNECTION_HPP

// begin aster/detail/tls_context.hpp
// SPDX-License-Identifier: MIT
// The server's OpenSSL context, loaded once from tls_options. Only TLS builds include OpenSSL.
#ifndef ASTER_DETAIL_TLS_CONTEXT_HPP
#define ASTER_DETAIL_TLS_CONTEXT_HPP


#ifdef ASTER_HAS_TLS


#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include <openssl/ssl.h>

#include <stdexcept>
#include <string>
#include <system_error>

namespace aster::detail {

/// What the server's connections run over when `server_config::tls` is set.
using tls_stream = net::ssl::stream<net::ip::tcp::socket>;

/// Certificate chain, key and protocol settings, shared by every loop: OpenSSL's SSL_CTX may be
/// used from several threads to create connections.
class tls_context {
public:
    /// Throws std::system_error naming the file that cannot be loaded, or std::invalid_argument
    /// when the key does not belong to the certificate.
    explicit tls_context(const tls_options& options);

    net::ssl::context& native() noexcept { return context_; }

private:
    net::ssl::context context_{net::ssl::context::tls_server};
};

ASTER_DECL tls_context::tls_context(const tls_options& options) {
    SSL_CTX* ctx = context_.native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); // 1.0 and 1.1 are deprecated (RFC 8996)
    // Client-initiated renegotiation only costs the server CPU; nothing aster serves needs it.
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    // Idle connections (kept-alive HTTP, quiet WebSockets) give back OpenSSL's read and write
    // buffers, about 34 KiB each.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

    std::error_code ec;
    context_.use_certificate_chain_file(options.certificate_chain_file, ec);
    if (ec)
        throw std::system_error(ec, "aster: cannot load the TLS certificate chain '" +
                                        options.certificate_chain_file + "'");
    context_.use_private_key_file(options.private_key_file, net::ssl::context::pem, ec);
    if (ec)
        throw std::system_error(ec, "aster: cannot load the TLS private key '" +
                                        options.private_key_file + "'");
    if (SSL_CTX_check_private_key(ctx) != 1)
        throw std::invalid_argument("aster: the TLS private key '" + options.private_key_file +
                                    "' does not match the certificate '" +
                                    options.certificate_chain_file + "'");
}

} // namespace aster::detail

#endif // ASTER_HAS_TLS

#endif // ASTER_DETAIL_TLS_CONTEXT_HPP
// end aster/detail/tls_context.hpp

#ifdef ASTER_HAS_TLS


#include <chrono>
#include <string>
#include <system_error>

namespace aster::detail {

// How long to wait for the client's close_notify (or its FIN) after sending ours.
inline constexpr auto tls_close_timeout = std::chrono::seconds(2);

/// A handshake in progress, known to the loop's registry so a graceful stop can cut it short.
class tls_handshake_guard final : public closable {
public:
    tls_handshake_guard(tls_stream& stream, connection_registry* registry)
        : stream_(stream), registry_(registry) {
        if (registry_) registry_->add(*this);
    }
    ~tls_handshake_guard() {
        if (registry_) registry_->remove(*this);
    }
    tls_handshake_guard(const tls_handshake_guard&) = delete;
    tls_handshake_guard& operator=(const tls_handshake_guard&) = delete;

    void begin_shutdown() override { cancel_stream(stream_); }
    void abort() noexcept override { close_stream(stream_); }

private:
    tls_stream& stream_;
    connection_registry* registry_;
};

/// The TLS stream over an accepted socket, for serve_stream. Its end sends close_notify and,
/// like a lingering close, lets OpenSSL read and discard what the client still sends until its
/// close_notify or FIN, so unread request bytes cannot reset the connection before the client
/// has read the last response.
class tls_transport {
public:
    tls_transport(tls_stream& stream, client_address peer)
        : stream_(&stream), peer_(std::move(peer)) {}
    tls_stream& stream() noexcept { return *stream_; }
    const client_address& peer() const noexcept { return peer_; }
    task<> finish() {
        {
            read_deadline<tls_stream> deadline(*stream_);
            deadline.expires_after(tls_close_timeout);
            auto [ignored] = co_await stream_->async_shutdown(use_tuple);
            (void)ignored; // the client may well close without close_notify; nothing to do then
        }
        std::error_code ec;
        stream_->lowest_layer().close(ec);
    }

private:
    tls_stream* stream_;
    client_address peer_;
};

/// Serves one accepted connection over TLS with the same lifecycle as plain TCP. The
/// handshake shares the request head's deadline (header_timeout), so a client that never
/// finishes it is bounded like a slow request.
ASTER_DECL task<> serve_tls(tcp_transport tcp, const app_ref& app,
                            const connection_options& options, tls_context& context) {
    tls_stream stream(std::move(tcp.stream()), context.native());
    std::error_code ec;
    {
        tls_handshake_guard guard(stream, options.registry);
        read_deadline<tls_stream> deadline(stream);
        deadline.expires_after(options.limits.header_timeout);
        auto [handshake_ec] = co_await stream.async_handshake(net::ssl::stream_base::server,
                                                              use_tuple);
        ec = handshake_ec;
        if (ec && deadline.expired()) ec = net::error::timed_out;
    }
    if (ec) {
        // A plain-HTTP client, a scanner or a client that distrusts the certificate: routine on
        // a public port and the client's to fix, so debug, where it cannot flood the log.
        log_limited(log_level::debug, "tls handshake",
                    "aster: TLS handshake with " + tcp.peer().host + ":" +
                        std::to_string(tcp.peer().port) + " failed: " + ec.message());
        stream.lowest_layer().close(ec);
        co_return;
    }
    connection_options secure = options; // outlives the connection, which refers to it
    secure.secure = true;
    tls_transport transport(stream, tcp.peer()); // named: g++ 12 and temporaries in co_await
    co_await serve_stream(std::move(transport), app, secure);
}

} // namespace aster::detail

#endif // ASTER_HAS_TLS

#endif // ASTER_DETAIL_TLS_CONNECTION_HPP
// end aster/detail/tls_connection.hpp
// begin aster/detail/redis_link.hpp
// SPDX-License-Identifier: MIT
// redis_link: a process's topics shared with other processes through Redis pub/sub, over Asio
// sockets with hiredis's RESP reader and command formatter.
#ifndef ASTER_DETAIL_REDIS_LINK_HPP
#define ASTER_DETAIL_REDIS_LINK_HPP


#ifdef ASTER_HAS_REDIS


#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <hiredis/hiredis.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace aster::detail {

/// One RESP command, formatted by hiredis.
inline std::string redis_command(std::initializer_list<std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (auto a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    char* out = nullptr;
    const int n = redisFormatCommandArgv(&out, int(argv.size()), argv.data(), lengths.data());
    if (n < 0 || !out) throw std::bad_alloc();
    std::string command(out, std::size_t(n));
    std::free(out);
    return command;
}

/// hiredis's RESP reader: bytes in, replies out.
class redis_reader {
public:
    struct reply_free {
        void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
    };
    using reply = std::unique_ptr<redisReply, reply_free>;

    redis_reader() : reader_(redisReaderCreate()) {
        if (!reader_) throw std::bad_alloc();
    }
    ~redis_reader() { redisReaderFree(reader_); }
    redis_reader(const redis_reader&) = delete;
    redis_reader& operator=(const redis_reader&) = delete;

    /// False when the stream is not RESP: the connection must end.
    bool feed(const char* data, std::size_t n) {
        return redisReaderFeed(reader_, data, n) == REDIS_OK;
    }
    /// The next whole reply, if one is in; false in `ok` on a protocol error.
    reply next(bool& ok) {
        void* r = nullptr;
        ok = redisReaderGetReply(reader_, &r) == REDIS_OK;
        return reply(static_cast<redisReply*>(r));
    }

private:
    redisReader* reader_;
};

/// What a topic message carries through Redis: who published it (a random 128-bit id per
/// process; process ids collide across containers), whether it is binary, the message.
inline constexpr std::size_t redis_header_size = 17;

/// Two connections to Redis, both on one event loop: one publishes (a bounded queue while
/// Redis is away, dropped and counted beyond it), one subscribes to a channel per topic that
/// has subscribers in this process. Each reconnects with backoff; the subscriber subscribes
/// again to everything. A process delivers its own publishes itself and skips their echo.
/// sync() is `PING <ticket>` on the publisher, behind the queued publishes, then on the
/// subscriber once the publisher's answer is in: Redis answers in order on each connection,
/// so when the subscriber's PONG arrives, Redis has taken every earlier publish, pushed what
/// it sent to this process ahead of the PONG, and confirmed every earlier (UN)SUBSCRIBE.
class redis_link final : public topic_broker {
public:
    redis_link(topic_hub& hub, net::any_io_executor executor, redis_broker settings)
        : hub_(hub), executor_(executor), settings_(std::move(settings)),
          address_(redis_address::parse(settings_.url)), pub_(executor), sub_(executor),
          outbox_ready_(executor) {
        std::random_device random;
        for (std::size_t i = 0; i < id_.size(); i += 4) {
            const auto r = random();
            std::memcpy(id_.data() + i, &r, 4);
        }
    }

    void start() override;
    void stop() noexcept override;
    void publish(std::string_view topic, std::string_view message, bool binary) override;
    void watch(std::string_view topic) override;
    void unwatch(std::string_view topic) override;
    std::size_t dropped() const noexcept override {
        return dropped_.load(std::memory_order_relaxed);
    }
    bool connected() const noexcept override {
        return pub_up_.load(std::memory_order_relaxed) && sub_up_.load(std::memory_order_relaxed);
    }
    std::uint64_t sync() override;
    bool synced(std::uint64_t ticket) const noexcept override {
        return sub_answered_.load(std::memory_order_acquire) >= ticket;
    }
    bool stopped() const noexcept override { return running_.load(std::memory_order_acquire) == 0; }

private:
    struct connection {
        explicit connection(net::any_io_executor ex) : socket(ex) {}
        net::ip::tcp::socket socket;
        std::unique_ptr<redis_reader> reader;
        std::string in;
    };

    struct connect_attempt {
        bool armed = true, timed_out = false;
    };

    task<> run_publisher();
    task<> run_subscriber();
    task<> drain_replies();
    task<bool> open(connection& c);
    task<redis_reader::reply> read_reply(connection& c);
    task<> pause(std::chrono::milliseconds& delay);
    void spawn(task<> coroutine);
    void queue_ping();
    void ping_subscriber();
    static bool ping_answer(const redisReply& r, std::uint64_t& ticket) noexcept;
    void send_subscription(std::string_view verb, std::string_view topic);
    void flush_subscriptions();
    void on_message(const redisReply& r);
    std::string channel(std::string_view topic) const {
        return settings_.channel_prefix + std::string(topic);
    }

    topic_hub& hub_;
    net::any_io_executor executor_;
    redis_broker settings_;
    redis_address address_;
    std::array<char, 16> id_{};
    connection pub_, sub_;
    bool stopping_ = false;
    std::atomic<bool> pub_up_{false}, sub_up_{false};
    // Publisher: formatted PUBLISH commands waiting for the connection.
    std::deque<std::string> outbox_;
    std::size_t outbox_bytes_ = 0;
    async_event outbox_ready_;
    std::atomic<std::size_t> dropped_{0};
    // Subscriber: the channels this process wants, and commands not yet written.
    std::set<std::string, std::less<>> topics_;
    std::string sub_out_, sub_inflight_;
    bool sub_writing_ = false;
    std::vector<net::steady_timer*> timers_; // pauses and connect deadlines now running
    // sync(): the last ticket handed out, and the last answered on each connection.
    std::atomic<std::uint64_t> sync_asked_{0}, pub_answered_{0}, sub_answered_{0};
    std::uint64_t pinged_ = 0;    // the newest ticket queued on the publisher (on the loop)
    std::atomic<int> running_{0}; // coroutines of the link not finished yet
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
// begin aster/detail/impl/redis_link.ipp
// SPDX-License-Identifier: MIT
// Bodies of redis_link.
#ifndef ASTER_DETAIL_IMPL_REDIS_LINK_IPP
#define ASTER_DETAIL_IMPL_REDIS_LINK_IPP

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <exception>
#include <system_error>

namespace aster::detail {

ASTER_ENGINE void redis_link::start() {
    spawn(run_publisher());
    spawn(run_subscriber());
}

// Counted: an owner whose loop runs only while it waits (test_client) runs it until the link
// has wound down, then destroys it.
ASTER_ENGINE void redis_link::spawn(task<> coroutine) {
    running_.fetch_add(1, std::memory_order_relaxed);
    net::co_spawn(executor_, std::move(coroutine),
                  [this](std::exception_ptr) { running_.fetch_sub(1, std::memory_order_release); });
}

// On the link's loop: everything waiting ends, and the two connections do not come back.
ASTER_ENGINE void redis_link::stop() noexcept {
    net::post(executor_, [this] {
        stopping_ = true;
        std::error_code ignored;
        pub_.socket.close(ignored);
        sub_.socket.close(ignored);
        for (net::steady_timer* t : timers_) t->cancel();
        outbox_ready_.notify_all();
    });
}

ASTER_ENGINE void redis_link::publish(std::string_view topic, std::string_view message,
                                      bool binary) {
    std::string payload;
    payload.reserve(redis_header_size + message.size());
    payload.append(id_.data(), id_.size());
    payload.push_back(binary ? 'b' : 't');
    payload.append(message);
    std::string command = redis_command({"PUBLISH", channel(topic), payload});
    net::post(executor_, [this, command = std::move(command)]() mutable {
        if (stopping_) return;
        if (outbox_bytes_ + command.size() > settings_.max_queued_bytes) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        outbox_bytes_ += command.size();
        outbox_.push_back(std::move(command));
        outbox_ready_.notify_all();
    });
}

ASTER_ENGINE std::uint64_t redis_link::sync() {
    const std::uint64_t ticket = sync_asked_.fetch_add(1, std::memory_order_relaxed) + 1;
    // Posted as watch and publish are: behind what they posted before.
    net::post(executor_, [this, ticket] {
        if (stopping_) return;
        pinged_ = std::max(pinged_, ticket);
        queue_ping();
    });
    return ticket;
}

// PING <pinged_> behind the publishes queued so far. Never dropped for room: it is small, and
// a sync waiting for it would otherwise wait for nothing.
ASTER_ENGINE void redis_link::queue_ping() {
    std::string command = redis_command({"PING", std::to_string(pinged_)});
    outbox_bytes_ += command.size();
    outbox_.push_back(std::move(command));
    outbox_ready_.notify_all();
}

// The publisher's answer is in: the subscriber's PING goes behind it. While the subscriber is
// down it is sent on reconnection, after the SUBSCRIBEs.
ASTER_ENGINE void redis_link::ping_subscriber() {
    if (!sub_up_.load(std::memory_order_relaxed)) return;
    sub_out_ += redis_command(
        {"PING", std::to_string(pub_answered_.load(std::memory_order_relaxed))});
    flush_subscriptions();
}

// PING <n> answers "n" (a bulk string), or ["pong", "n"] on a connection subscribed to a
// channel; nothing else this link sends is answered with either.
ASTER_ENGINE bool redis_link::ping_answer(const redisReply& r, std::uint64_t& ticket) noexcept {
    const redisReply* text = &r;
    if (r.type == REDIS_REPLY_ARRAY) {
        if (r.elements != 2 || r.element[0]->type != REDIS_REPLY_STRING ||
            std::string_view(r.element[0]->str, r.element[0]->len) != "pong")
            return false;
        text = r.element[1];
    }
    if (text->type != REDIS_REPLY_STRING) return false;
    const char* end = text->str + text->len;
    auto [at, ec] = std::from_chars(text->str, end, ticket);
    return ec == std::errc() && at == end;
}

ASTER_ENGINE void redis_link::watch(std::string_view topic) {
    net::post(executor_, [this, t = std::string(topic)] {
        if (topics_.insert(t).second) send_subscription("SUBSCRIBE", t);
    });
}

ASTER_ENGINE void redis_link::unwatch(std::string_view topic) {
    net::post(executor_, [this, t = std::string(topic)] {
        if (topics_.erase(t)) send_subscription("UNSUBSCRIBE", t);
    });
}

// While the subscriber is down, nothing is sent: it subscribes to the whole set when it is up.
ASTER_ENGINE void redis_link::send_subscription(std::string_view verb, std::string_view topic) {
    if (!sub_up_.load(std::memory_order_relaxed)) return;
    sub_out_ += redis_command({verb, channel(topic)});
    flush_subscriptions();
}

ASTER_ENGINE void redis_link::flush_subscriptions() {
    if (sub_writing_ || sub_out_.empty() || !sub_up_.load(std::memory_order_relaxed)) return;
    sub_writing_ = true;
    sub_inflight_.swap(sub_out_);
    net::async_write(sub_.socket, net::buffer(sub_inflight_),
                     [this](std::error_code ec, std::size_t) {
                         sub_writing_ = false;
                         sub_inflight_.clear();
                         if (ec) {
                             std::error_code ignored;
                             sub_.socket.close(ignored); // the reader sees it and reconnects
                             return;
                         }
                         flush_subscriptions();
                     });
}

ASTER_ENGINE task<> redis_link::pause(std::chrono::milliseconds& delay) {
    // After stop() nothing would cancel this timer: a stop during a connection attempt would
    // hold the loop (a server's run(), a test_client's destructor) for up to retry_max.
    if (stopping_) co_return;
    net::steady_timer timer(executor_);
    timer.expires_after(delay);
    timers_.push_back(&timer);
    auto [ec] = co_await timer.async_wait(use_tuple);
    (void)ec;
    std::erase(timers_, &timer);
    delay = std::min(delay * 2, settings_.retry_max);
}

ASTER_ENGINE task<redis_reader::reply> redis_link::read_reply(connection& c) {
    for (;;) {
        bool ok = true;
        auto r = c.reader->next(ok);
        if (!ok) co_return nullptr;
        if (r) co_return r;
        char buffer[4096];
        auto [ec, n] = co_await c.socket.async_read_some(net::buffer(buffer), use_tuple);
        if (ec || !c.reader->feed(buffer, n)) co_return nullptr;
    }
}

// Connects (within connect_timeout), then AUTH and SELECT as the URL asks. False, with the
// socket closed, when any of it fails.
ASTER_ENGINE task<bool> redis_link::open(connection& c) {
    std::error_code ec;
    c.socket.close(ec);
    c.reader = std::make_unique<redis_reader>();
    net::steady_timer deadline(executor_);
    deadline.expires_after(settings_.connect_timeout);
    timers_.push_back(&deadline);
    // The handler may run after this frame is gone: it holds only what outlives it.
    auto state = std::make_shared<connect_attempt>();
    deadline.async_wait([this, state, socket = &c.socket](std::error_code e) {
        if (!state->armed) return;
        if (e && !stopping_) return; // cancelled because the attempt ended; at a stop, cut it
        state->timed_out = true;
        std::error_code ignored;
        socket->close(ignored);
    });
    const bool& timed_out = state->timed_out;
    bool ok = false;
    do {
        net::ip::tcp::resolver resolver(executor_);
        auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
            address_.host, std::to_string(address_.port), use_tuple);
        if (resolve_ec || stopping_ || timed_out) break;
        auto [connect_ec, endpoint] = co_await net::async_connect(c.socket, endpoints, use_tuple);
        if (connect_ec || stopping_ || timed_out) break;
        std::error_code ignored;
        c.socket.set_option(net::ip::tcp::no_delay(true), ignored);
        std::string hello;
        if (!address_.password.empty())
            hello += address_.username.empty()
                         ? redis_command({"AUTH", address_.password})
                         : redis_command({"AUTH", address_.username, address_.password});
        if (address_.db != 0) hello += redis_command({"SELECT", std::to_string(address_.db)});
        if (hello.empty()) {
            ok = true;
            break;
        }
        auto [write_ec, written] = co_await net::async_write(c.socket, net::buffer(hello),
                                                             use_tuple);
        (void)written;
        if (write_ec) break;
        const int answers = int(!address_.password.empty()) + int(address_.db != 0);
        ok = true;
        for (int i = 0; i < answers && ok; ++i) {
            auto r = co_await read_reply(c);
            if (!r || r->type == REDIS_REPLY_ERROR) {
                log_limited(log_level::warning, "redis refused",
                            std::string("redis: ") +
                                (r ? std::string(r->str, r->len) : std::string("connection lost")));
                ok = false;
            }
        }
    } while (false);
    state->armed = false;
    deadline.cancel();
    std::erase(timers_, &deadline);
    if (!ok || timed_out || stopping_) {
        c.socket.close(ec);
        co_return false;
    }
    co_return true;
}

// PUBLISH commands go out in batches; the replies (subscriber counts) are read and dropped by
// drain_replies, which also notices the connection end. A batch that was being written when
// the connection broke is lost: delivery is at most once.
ASTER_ENGINE task<> redis_link::run_publisher() {
    auto delay = settings_.retry_min;
    bool logged_down = false;
    while (!stopping_) {
        if (!co_await open(pub_)) {
            if (!logged_down && !stopping_)
                log(log_level::warning, "redis: cannot reach " + address_.host + ":" +
                                            std::to_string(address_.port) + ", retrying");
            logged_down = true;
            co_await pause(delay);
            continue;
        }
        if (logged_down) log(log_level::info, "redis: connected again");
        logged_down = false;
        delay = settings_.retry_min;
        pub_up_.store(true, std::memory_order_relaxed);
        spawn(drain_replies());
        // A sync whose PING went down with the last connection asks again.
        if (pinged_ > pub_answered_.load(std::memory_order_relaxed)) queue_ping();
        std::string batch;
        while (pub_up_.load(std::memory_order_relaxed) && !stopping_) {
            if (outbox_.empty()) {
                co_await outbox_ready_.wait();
                continue;
            }
            batch.clear();
            while (!outbox_.empty() && batch.size() < 64 * 1024) {
                batch += outbox_.front();
                outbox_bytes_ -= outbox_.front().size();
                outbox_.pop_front();
            }
            auto [ec, n] = co_await net::async_write(pub_.socket, net::buffer(batch), use_tuple);
            (void)n;
            if (ec) break;
        }
        pub_up_.store(false, std::memory_order_relaxed);
        std::error_code ignored;
        pub_.socket.close(ignored);
    }
}

ASTER_ENGINE task<> redis_link::drain_replies() {
    for (;;) {
        char buffer[4096];
        auto [ec, n] = co_await pub_.socket.async_read_some(net::buffer(buffer), use_tuple);
        bool ok = !ec && pub_.reader->feed(buffer, n);
        while (ok) {
            auto r = pub_.reader->next(ok);
            if (!r) break;
            std::uint64_t ticket = 0;
            if (ping_answer(*r, ticket) && ticket > pub_answered_.load(std::memory_order_relaxed)) {
                pub_answered_.store(ticket, std::memory_order_relaxed);
                ping_subscriber();
            }
        }
        if (!ok) break;
    }
    pub_up_.store(false, std::memory_order_relaxed);
    outbox_ready_.notify_all(); // the writer looks again and reconnects
}

ASTER_ENGINE task<> redis_link::run_subscriber() {
    auto delay = settings_.retry_min;
    while (!stopping_) {
        if (!co_await open(sub_)) {
            co_await pause(delay);
            continue;
        }
        delay = settings_.retry_min;
        sub_up_.store(true, std::memory_order_relaxed);
        sub_out_.clear();
        for (const std::string& t : topics_) sub_out_ += redis_command({"SUBSCRIBE", channel(t)});
        if (pub_answered_.load(std::memory_order_relaxed) >
            sub_answered_.load(std::memory_order_relaxed))
            ping_subscriber();
        flush_subscriptions();
        for (;;) {
            auto r = co_await read_reply(sub_);
            if (!r) break;
            std::uint64_t ticket = 0;
            if (ping_answer(*r, ticket)) {
                if (ticket > sub_answered_.load(std::memory_order_relaxed))
                    sub_answered_.store(ticket, std::memory_order_release);
            } else {
                on_message(*r);
            }
        }
        sub_up_.store(false, std::memory_order_relaxed);
        std::error_code ignored;
        sub_.socket.close(ignored);
    }
}

// ["message", channel, payload]; subscribe confirmations and anything else are ignored.
ASTER_ENGINE void redis_link::on_message(const redisReply& r) {
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 3) return;
    const redisReply* kind = r.element[0];
    const redisReply* chan = r.element[1];
    const redisReply* body = r.element[2];
    if (kind->type != REDIS_REPLY_STRING || std::string_view(kind->str, kind->len) != "message")
        return;
    std::string_view name(chan->str, chan->len), payload(body->str, body->len);
    if (name.substr(0, settings_.channel_prefix.size()) != settings_.channel_prefix) return;
    if (payload.size() < redis_header_size) return;
    if (std::memcmp(payload.data(), id_.data(), id_.size()) == 0) return; // our own, delivered
    hub_.deliver_remote(name.substr(settings_.channel_prefix.size()),
                        payload.substr(redis_header_size), payload[16] == 'b');
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_REDIS_LINK_IPP
// end aster/detail/impl/redis_link.ipp
#endif

#endif // ASTER_HAS_REDIS

#endif // ASTER_DETAIL_REDIS_LINK_HPP
// end aster/detail/redis_link.hpp

#include <cerrno>

#include <unistd.h>

namespace aster {

namespace detail {

inline constexpr auto busy_linger_timeout = std::chrono::milliseconds(500);

ASTER_ENGINE void open_acceptor(net::ip::tcp::acceptor& acceptor,
                                const net::ip::tcp::endpoint& endpoint, const std::string& host,
                                bool reuse_port) {
    using net::ip::tcp;
    std::error_code ec;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true)); // restarts over TIME_WAIT
#ifdef SO_REUSEPORT
    if (reuse_port)
        acceptor.set_option(net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
#else
    if (reuse_port)
        throw std::invalid_argument("aster: reuse_port: this system has no SO_REUSEPORT");
#endif
    acceptor.bind(endpoint, ec);
    if (ec == net::error::address_in_use)
        throw std::system_error(ec, "aster: cannot listen on " + host + ":" +
                                        std::to_string(endpoint.port()) +
                                        ": another process listens there" +
                                        (reuse_port ? " without --reuse-port"
                                                    : " (--reuse-port shares the port with a "
                                                      "server started the same way)"));
    if (ec)
        throw std::system_error(ec, "aster: cannot listen on " + host + ":" +
                                        std::to_string(endpoint.port()));
    acceptor.listen(net::socket_base::max_listen_connections);
}

ASTER_ENGINE net::ip::tcp::endpoint resolve_listen_address(const server_config& config,
                                                           const net::any_io_executor& executor) {
    using net::ip::tcp;
    tcp::resolver resolver(executor);
    std::error_code ec;
    auto results = resolver.resolve(config.host, std::to_string(config.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
        throw std::system_error(ec, "aster: cannot resolve host '" + config.host + "'");
    return results.begin()->endpoint();
}

// The cap on connections: 503 without waiting on the client (not on a TLS port, where plain
// text means nothing), then a short lingering close so the answer is not lost to a reset.
ASTER_ENGINE task<> refuse_busy(net::ip::tcp::socket socket, bool answer_503,
                                loop_counters* counters) {
    tcp_transport counted(std::move(socket), counters, {});
    static constexpr std::string_view busy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 19\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
        "Service Unavailable";
    std::error_code ignored;
    counted.stream().non_blocking(true, ignored);
    if (answer_503) counted.stream().write_some(net::buffer(busy), ignored); // never wait
    co_await linger_close(counted.stream(), busy_linger_timeout);
}

// The loop's watchdog: once a second each connection checks the pace of its transfers
// (transfer_rate). One timer per loop, none per connection.
struct watchdog_state {
    explicit watchdog_state(const net::any_io_executor& ex, connection_registry& r)
        : timer(ex), registry(&r) {}
    net::steady_timer timer;
    connection_registry* registry; // null once stopped: a late wake-up touches nothing
};

ASTER_ENGINE task<> run_watchdog(std::shared_ptr<watchdog_state> state) {
    while (state->registry) {
        state->timer.expires_after(std::chrono::seconds(1));
        auto [ec] = co_await state->timer.async_wait(use_tuple);
        if (ec || !state->registry) co_return;
        state->registry->sweep(std::chrono::steady_clock::now());
    }
}

ASTER_ENGINE std::shared_ptr<watchdog_state> start_watchdog(const net::any_io_executor& ex,
                                                            connection_registry& registry) {
    auto state = std::make_shared<watchdog_state>(ex, registry);
    net::co_spawn(ex, run_watchdog(state), net::detached);
    return state;
}

ASTER_ENGINE void stop_watchdog(const std::shared_ptr<watchdog_state>& state) noexcept {
    if (!state) return;
    state->registry = nullptr;
    state->timer.cancel();
}

ASTER_ENGINE void log_connection_end(std::exception_ptr e) noexcept {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        log_limited(log_level::error, "connection failed",
                    std::string("aster: connection failed: ") + x.what());
    } catch (...) {
        log_limited(log_level::error, "connection failed", "aster: connection failed");
    }
}

ASTER_ENGINE void run_hook(net::io_context& ctx, task<> (*hook)()) {
    if (!hook) return;
    bool done = false;
    std::exception_ptr error;
    net::co_spawn(ctx, hook(), [&](std::exception_ptr e) {
        done = true;
        error = e;
    });
    // Only until the hook ends: work it spawned stays on the loop for later.
    while (!done) {
        if (ctx.stopped()) ctx.restart();
        if (ctx.run_one() == 0 && !done) // nothing left that could finish it
            throw std::runtime_error("aster: a lifespan hook waits on nothing and never ends");
    }
    if (ctx.stopped()) ctx.restart();
    if (error) std::rethrow_exception(error);
}

} // namespace detail

ASTER_ENGINE server::server(detail::app_ref app, server_config config)
    : app_(app), config_(std::move(config)), options_{config_.limits, config_.websocket, nullptr},
      budget_(config_.memory_budget),
      admission_(config_.max_connections, config_.max_connections_per_client) {
    options_.budget = &budget_;
    options_.access_log = config_.access_log;
    unsigned n = config_.threads == 0 ? std::max(1u, std::thread::hardware_concurrency())
                                      : config_.threads;
    for (unsigned i = 0; i < n; ++i) {
        loops_.push_back(std::make_unique<loop>());
        auto& l = *loops_.back();
        l.options = options_;
        l.options.registry = &l.connections;
        l.options.topics = &topics_.add_loop(l.ctx.get_executor());
        if (app_.has_metrics) {
            l.metrics = std::make_unique<detail::loop_metrics>();
            l.options.metrics = l.metrics.get();
            l.options.all_metrics = &metrics_;
            metrics_.loops.push_back(l.metrics.get());
        }
    }
    if (config_.broker) {
#ifdef ASTER_HAS_REDIS
        topics_.attach(std::make_unique<detail::redis_link>(topics_, loops_[0]->ctx.get_executor(),
                                                            *config_.broker));
#else
        throw std::invalid_argument("aster: server_config::broker needs a build with Redis "
                                    "(ASTER_HAS_REDIS: CMake -DASTER_REDIS=ON, meson "
                                    "-Dredis=enabled)");
#endif
    }
    if (app_.has_metrics)
        metrics_.gauges = [this] {
            const server_stats s = stats();
            return detail::metrics_gauges{s.connections,     s.sockets,
                                          s.websockets,      s.buffered_bytes,
                                          s.input_bytes,     s.budget_bytes,
                                          s.budget_refusals, s.refused_connections};
        };
}

ASTER_ENGINE void server::listen() {
    detail::ensure_descriptor_room(config_.max_connections);
    tls_ = detail::load_tls(config_);
    auto endpoint = detail::resolve_listen_address(config_, loops_[0]->ctx.get_executor());
    for (auto& l : loops_) {
        auto& acceptor = l->acceptor.emplace(l->ctx);
        if (config_.reuse_port || &l == &loops_.front()) {
            // Asked to share the port (SO_REUSEPORT): each loop binds its own socket and the
            // kernel spreads connections, also to other processes that asked the same.
            detail::open_acceptor(acceptor, endpoint, config_.host, config_.reuse_port);
            endpoint.port(acceptor.local_endpoint().port()); // port 0: the others take the same
        } else {
            // Otherwise the loops watch one listening socket, which nobody else can join: a
            // second server on a busy port fails instead of taking half its requests.
            int fd = ::dup(loops_.front()->acceptor->native_handle());
            if (fd < 0)
                throw std::system_error(errno, std::system_category(),
                                        "aster: dup of the listening socket");
            acceptor.assign(endpoint.protocol(), fd);
        }
    }
    port_ = endpoint.port();
}

ASTER_ENGINE void server::run() {
    detail::apply_logging(config_);
    if (!loops_[0]->acceptor) listen();
    detail::run_hook(loops_[0]->ctx, app_.startup);       // before any accept
    if (auto* broker = topics_.broker()) broker->start(); // on loop 0
    for (auto& l : loops_) {
        if (l->acceptor)
            net::co_spawn(l->ctx,
                          detail::accept_connections(*l->acceptor, l->accept_pause, admission_,
                                                     app_, l->options, tls_.get()),
                          net::detached);
        l->watchdog = detail::start_watchdog(l->ctx.get_executor(), l->connections);
    }
    if (config_.handle_signals) {
        signals_.emplace(loops_[0]->ctx, SIGINT, SIGTERM);
        signals_->async_wait([this](std::error_code ec, int signal) {
            if (ec) return;
            log(log_level::info, "aster: signal " + std::to_string(signal) + ", shutting down");
            stop();
        });
    }
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < loops_.size(); ++i)
        threads.emplace_back([l = loops_[i].get()] { l->ctx.run(); });
    loops_[0]->ctx.run();
    for (auto& t : threads) t.join();
    if (app_.shutdown) {
        // A fresh loop: after a shutdown timeout the old ones still hold the cut connections.
        net::io_context after{1};
        detail::run_hook(after, app_.shutdown);
    }
}

ASTER_ENGINE server_stats server::stats() const noexcept {
    server_stats total;
    for (const auto& l : loops_) {
        const auto& c = l->connections.counters;
        total.connections += c.connections.get();
        total.sockets += c.sockets.get();
        total.websockets += c.websockets.get();
        total.buffered_bytes += c.buffered_bytes.get();
        total.input_bytes += c.input_bytes.get();
    }
    total.budget_bytes = budget_.used();
    total.budget_refusals = budget_.refusals();
    total.refused_connections = admission_.refused();
    const topic_stats t = topics_.stats();
    total.topics = t.topics;
    total.subscriptions = t.subscriptions;
    total.published = t.published;
    total.delivered = t.delivered;
    total.dropped = t.dropped;
    total.waiting = t.waiting;
    return total;
}

ASTER_ENGINE void server::stop() noexcept {
    if (stopped_.exchange(true)) return;
    if (auto* broker = topics_.broker()) broker->stop();
    for (auto& l : loops_) net::post(l->ctx, [this, l = l.get()] { begin_shutdown(*l); });
}

// Runs on the loop's own thread: the registry and acceptor are that thread's alone.
ASTER_ENGINE void server::begin_shutdown(loop& l) {
    std::error_code ignored;
    if (l.acceptor) l.acceptor->close(ignored);
    l.accept_pause.cancel();
    detail::stop_watchdog(l.watchdog);
    if (&l == loops_[0].get() && signals_) signals_->cancel(ignored);
    if (l.connections.size() == 0) return; // nothing left: run() returns once work drains
    log(log_level::info,
        "aster: waiting for " + std::to_string(l.connections.size()) + " connection(s) to finish");
    l.shutdown_deadline.emplace(l.ctx);
    l.shutdown_deadline->expires_after(config_.shutdown_timeout);
    l.shutdown_deadline->async_wait([&l](std::error_code ec) {
        if (ec) return; // everything finished in time
        log(log_level::warning, "aster: shutdown timeout: cutting " +
                                    std::to_string(l.connections.size()) + " connection(s)");
        l.ctx.stop();
    });
    l.connections.on_empty = [&l] {
        if (l.shutdown_deadline) l.shutdown_deadline->cancel();
    };
    l.connections.shutdown_all();
}

ASTER_ENGINE std::shared_ptr<detail::tls_context> detail::load_tls(const server_config& config) {
    if (!config.tls) return nullptr;
#ifdef ASTER_HAS_TLS
    return std::make_shared<tls_context>(*config.tls);
#else
    throw std::invalid_argument("aster: server_config::tls is set, but this program was built "
                                "without TLS (define ASTER_HAS_TLS and link OpenSSL)");
#endif
}

ASTER_ENGINE task<> detail::accept_connections(net::ip::tcp::acceptor& acceptor,
                                               net::steady_timer& pause, admission& gate,
                                               const app_ref& app,
                                               const connection_options& options,
                                               tls_context* tls) {
    const auto executor = acceptor.get_executor();
    loop_counters& counters = options.registry->counters;
    accept_backoff backoff;
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
            if (auto wait = backoff.failed(ec); wait.count() > 0) {
                pause.expires_after(wait);
                auto [paused] = co_await pause.async_wait(use_tuple);
                if (paused == net::error::operation_aborted) co_return; // a stop
            }
            continue;
        }
        backoff.succeeded();
        counters.sockets.add(); // serve_tcp or refuse_busy closes and uncounts it
        net::ip::address client;
        if (gate.needs_address()) {
            std::error_code peer_ec;
            client = socket.remote_endpoint(peer_ec).address();
        }
        if (!gate.admit(client)) {
            net::co_spawn(executor, refuse_busy(std::move(socket), !tls, &counters), net::detached);
            continue;
        }
        net::co_spawn(executor, serve_tcp(std::move(socket), app, options, tls),
                      [&gate, client](std::exception_ptr e) {
                          gate.leave(client);
                          log_connection_end(e);
                      });
    }
}

// `app` and `options` are the server's (or serve_in_place's), alive until every connection
// has ended: held by reference, they cost no room in the frame each connection keeps. Not a
// coroutine: the connection's one frame is serve_stream's (serve_tls's with TLS).
ASTER_ENGINE task<> detail::serve_tcp(net::ip::tcp::socket socket, const app_ref& app,
                                      const connection_options& options, tls_context* tls) {
    std::error_code ec;
    socket.set_option(net::ip::tcp::no_delay(true), ec);
    auto peer = socket.remote_endpoint(ec);
    tcp_transport transport(std::move(socket),
                            options.registry ? &options.registry->counters : nullptr,
                            client_address{ec ? std::string() : peer.address().to_string(),
                                           ec ? std::uint16_t(0) : peer.port()});
#ifdef ASTER_HAS_TLS
    if (tls) return serve_tls(std::move(transport), app, options, *tls);
#else
    (void)tls; // listen() refuses TLS in a build without it
#endif
    return serve_stream(std::move(transport), app, options);
}

ASTER_ENGINE void detail::serve_app(app_ref app, server_config config) {
    apply_logging(config);
    server srv(app, std::move(config));
    srv.listen();
    log(log_level::info,
        listening_line(srv.config(), srv.port(), srv.threads()) + " (press Ctrl+C to quit)");
    srv.run();
}

ASTER_ENGINE task<> detail::serve_in_place(app_ref app, server_config config,
                                           std::function<void(std::uint16_t)> on_listening) {
    using net::ip::tcp;
    // The stop arrives as a cancellation; the waits after it must still complete normally.
    co_await net::this_coro::throw_if_cancelled(false);
    if (config.broker)
        throw std::invalid_argument("aster: a Redis broker needs aster::server (app.run), not "
                                    "app.serve()");
    auto executor = co_await net::this_coro::executor;
    tcp::acceptor acceptor(executor);
    std::shared_ptr<tls_context> tls = load_tls(config);
    ensure_descriptor_room(config.max_connections);
    apply_logging(config);
    auto endpoint = resolve_listen_address(config, executor);
    open_acceptor(acceptor, endpoint, config.host, config.reuse_port);
    const std::uint16_t port = acceptor.local_endpoint().port();
    log(log_level::info, listening_line(config, port, 1));
    if (app.startup) co_await app.startup(); // before the first accept; a throw ends serve()
    if (on_listening) on_listening(port);

    connection_registry registry;
    memory_budget budget(config.memory_budget);
    admission gate(config.max_connections, config.max_connections_per_client);
    topic_hub topics; // before the connections, which leave their topics as they end
    connection_options options{config.limits, config.websocket, nullptr, &registry};
    options.budget = &budget;
    options.topics = &topics.add_loop(executor);
    options.access_log = config.access_log;
    std::unique_ptr<loop_metrics> metrics;
    metrics_registry all_metrics;
    if (app.has_metrics) {
        metrics = std::make_unique<loop_metrics>();
        all_metrics.loops.push_back(metrics.get());
        all_metrics.gauges = [&registry, &budget, &gate] {
            const auto& c = registry.counters;
            return metrics_gauges{c.connections.get(),    c.sockets.get(),     c.websockets.get(),
                                  c.buffered_bytes.get(), c.input_bytes.get(), budget.used(),
                                  budget.refusals(),      gate.refused()};
        };
        options.metrics = metrics.get();
        options.all_metrics = &all_metrics;
    }
    bool stopping = false;
    net::steady_timer drained(executor); // pauses accepts; cancelled at the last connection's end
    gate.on_empty = [&stopping, &drained] {
        if (stopping) drained.cancel();
    };
    auto watchdog = start_watchdog(executor, registry);
    co_await accept_connections(acceptor, drained, gate, app, options, tls.get()); // until a stop

    // Graceful stop, as server::stop(), but the caller's loop keeps running: connections that
    // outlive shutdown_timeout are closed rather than abandoned. The connections use this
    // frame's registry and options, so it returns only once every one has ended.
    std::error_code ignored;
    acceptor.close(ignored);
    stop_watchdog(watchdog);
    stopping = true;
    if (gate.open() != 0) co_await drain(registry, drained, gate, config.shutdown_timeout);
    if (app.shutdown) co_await app.shutdown();
}

ASTER_ENGINE task<> detail::drain(connection_registry& registry, net::steady_timer& drained,
                                  const admission& gate,
                                  std::chrono::steady_clock::duration timeout) {
    log(log_level::info,
        "aster: waiting for " + std::to_string(gate.open()) + " connection(s) to finish");
    registry.shutdown_all();
    drained.expires_after(timeout);
    co_await drained.async_wait(use_tuple); // a second cancellation ends the wait: cut now
    if (gate.open() == 0) co_return;
    log(log_level::warning,
        "aster: shutdown timeout: cutting " + std::to_string(gate.open()) + " connection(s)");
    registry.abort_all();
    while (gate.open() >
           0) { // cut streams fail at once; a lingering close ends within linger_timeout
        drained.expires_after(linger_timeout);
        co_await drained.async_wait(use_tuple);
    }
}

} // namespace aster

#endif // ASTER_IMPL_SERVER_HPP
// end aster/impl/server.hpp
#endif

#endif // ASTER_SERVER_HPP
// end aster/server.hpp
// begin aster/test/stream.hpp
// SPDX-License-Identifier: MIT
// An in-memory duplex AsyncStream: two connected ends, a cap on bytes per read, injected failures.
#ifndef ASTER_TEST_STREAM_HPP
#define ASTER_TEST_STREAM_HPP


#include <asio/recycling_allocator.hpp>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace aster::test {

/// One end of an in-memory connection. Bytes written to one end are read from the other, at most
/// `read_size` bytes per read, so a test can deliver a request one byte at a time.
/// `fail_after(n)`: the (n+1)-th read or write fails with connection_reset, for error-path tests.
/// Thread safety: both ends must be used from one io_context's thread.
/// @code
/// aster::test::stream client(ctx), server(ctx);
/// client.connect(server);
/// server.read_size(1);
/// @endcode
class stream {
public:
    using executor_type = net::io_context::executor_type;

    explicit stream(net::io_context& ctx) : ctx_(&ctx), state_(std::make_shared<end_state>()) {}
    stream(stream&&) noexcept = default;
    stream& operator=(stream&&) noexcept = default;
    ~stream() { close(); }

    /// Joins this end and `peer` into one connection.
    void connect(stream& peer) noexcept {
        state_->peer = peer.state_;
        peer.state_->peer = state_;
    }

    executor_type get_executor() const noexcept { return ctx_->get_executor(); }

    void read_size(std::size_t n) noexcept { state_->read_size = std::max<std::size_t>(n, 1); }
    void write_size(std::size_t n) noexcept { state_->write_size = std::max<std::size_t>(n, 1); }
    void fail_after(std::size_t operations) noexcept { state_->fail_after = operations; }
    /// True once an operation failed by fail_after: a fail loop stops at the first n whose run
    /// completes without it.
    bool failure_injected() const noexcept { return state_->failure_injected; }

    /// Closes this end: the peer reads what was already sent, then EOF; writes to it fail.
    void close() noexcept {
        if (!state_ || state_->closed) return;
        state_->closed = true;
        complete_read(*state_, net::error::operation_aborted);
        if (auto peer = state_->peer.lock()) wake(*peer);
    }
    /// Completes a pending read with operation_aborted; the connection stays open.
    void cancel() noexcept {
        if (state_) complete_read(*state_, net::error::operation_aborted);
    }
    /// The socket's spellings, which the engine uses for every stream.
    void close(std::error_code& ec) noexcept {
        close();
        ec = {};
    }
    void cancel(std::error_code& ec) noexcept {
        cancel();
        ec = {};
    }
    bool is_open() const noexcept { return state_ && !state_->closed; }
    /// True when the other end has closed (after which this end reads EOF once data runs out).
    bool peer_closed() const noexcept {
        auto peer = state_->peer.lock();
        return !peer || peer->closed;
    }

    /// True while a read on this end waits for bytes that have not arrived.
    bool waiting_to_read() const noexcept {
        return state_ && state_->reader != nullptr && state_->incoming.empty() && !state_->closed;
    }
    /// Bytes that arrived at this end and were not read yet.
    std::string_view pending() const noexcept { return state_->incoming; }
    /// Takes all bytes that arrived at this end, without an asynchronous read.
    std::string take() { return std::exchange(state_->incoming, {}); }
    /// Sends bytes to the peer without an asynchronous write.
    void send(std::string_view bytes) {
        auto peer = state_->peer.lock();
        if (!peer || peer->closed || state_->closed) return;
        peer->incoming.append(bytes);
        wake(*peer);
    }

    // The synchronous half of a socket in non-blocking mode, so the engine's fast paths (reads
    // of what is there, answers written in place) run in memory as they do over TCP.

    /// Recorded only: reads and writes of this stream never block; they would block instead.
    void non_blocking(bool on, std::error_code& ec) noexcept {
        state_->non_blocking = on;
        ec = {};
    }
    bool non_blocking() const noexcept { return state_->non_blocking; }

    /// Reads what has arrived (at most read_size bytes); would_block when nothing has and the
    /// peer is open, eof once it has closed.
    template <class MutableBuffers>
    std::size_t read_some(const MutableBuffers& buffers, std::error_code& ec) {
        auto& me = *state_;
        auto peer = me.peer.lock();
        ec = {};
        if (me.closed) ec = net::error::bad_descriptor;
        else if (consume_failure(me)) ec = net::error::connection_reset;
        else if (me.incoming.empty() && (!peer || peer->closed)) ec = net::error::eof;
        else if (me.incoming.empty()) ec = net::error::would_block;
        if (ec) return 0;
        const std::size_t n = net::buffer_copy(
            buffers, net::buffer(me.incoming.data(), std::min(me.read_size, me.incoming.size())));
        me.incoming.erase(0, n);
        return n;
    }

    /// Writes at once (at most write_size bytes), as a socket with room in its send buffer.
    template <class ConstBuffers>
    std::size_t write_some(const ConstBuffers& buffers, std::error_code& ec) {
        auto& me = *state_;
        auto peer = me.peer.lock();
        ec = {};
        if (me.closed) ec = net::error::bad_descriptor;
        else if (consume_failure(me) || !peer || peer->closed) ec = net::error::connection_reset;
        if (ec) return 0;
        return deliver(*peer, buffers, me.write_size);
    }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, const MutableBuffers& bufs) {
                auto& me = *state_;
                using op = pending_read<MutableBuffers, decltype(handler)>;
                // Asio's per-thread recycling: a steady stream of reads allocates nothing.
                net::recycling_allocator<op> alloc;
                op* p = alloc.allocate(1);
                new (p) op(bufs, std::move(handler), get_executor());
                me.reader.reset(p);
                if (me.closed) complete_read(me, net::error::operation_aborted);
                else if (consume_failure(me)) complete_read(me, net::error::connection_reset);
                else wake(me);
            },
            token, buffers);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, const ConstBuffers& bufs) {
                auto& me = *state_;
                auto peer = me.peer.lock();
                std::error_code ec;
                std::size_t n = 0;
                if (me.closed) ec = net::error::bad_descriptor;
                else if (consume_failure(me) || !peer || peer->closed)
                    ec = net::error::connection_reset;
                else n = deliver(*peer, bufs, me.write_size);
                auto ex = net::get_associated_executor(handler, get_executor());
                net::post(ex, [h = std::move(handler), ec, n]() mutable { std::move(h)(ec, n); });
            },
            token, buffers);
    }

private:
    struct read_op {
        virtual void complete(std::string& incoming, std::size_t limit, std::error_code ec) = 0;
        virtual void destroy() noexcept = 0;

    protected:
        ~read_op() = default;
    };
    struct destroy_op {
        void operator()(read_op* op) const noexcept { op->destroy(); }
    };

    template <class Buffers, class Handler>
    struct pending_read final : read_op {
        pending_read(const Buffers& b, Handler&& h, executor_type ex)
            : buffers(b), handler(std::move(h)), fallback(ex) {}
        void complete(std::string& incoming, std::size_t limit, std::error_code ec) override {
            std::size_t n = 0;
            if (!ec) {
                n = net::buffer_copy(buffers, net::buffer(incoming.data(),
                                                          std::min(limit, incoming.size())));
                incoming.erase(0, n);
                if (n == 0) ec = net::error::eof;
            }
            auto ex = net::get_associated_executor(handler, fallback);
            net::post(ex, [h = std::move(handler), ec, n]() mutable { std::move(h)(ec, n); });
        }
        void destroy() noexcept override {
            net::recycling_allocator<pending_read> alloc;
            this->~pending_read();
            alloc.deallocate(this, 1);
        }
        Buffers buffers;
        Handler handler;
        executor_type fallback;
    };

    struct end_state {
        std::string incoming;
        std::weak_ptr<end_state> peer;
        std::unique_ptr<read_op, destroy_op> reader;
        std::size_t read_size = std::numeric_limits<std::size_t>::max();
        std::size_t write_size = std::numeric_limits<std::size_t>::max();
        std::size_t fail_after = std::numeric_limits<std::size_t>::max();
        bool closed = false;
        bool failure_injected = false;
        bool non_blocking = false;
    };

    // Appends up to `limit` bytes of `buffers` to the peer's input and wakes its reader.
    template <class ConstBuffers>
    static std::size_t deliver(end_state& peer, const ConstBuffers& buffers, std::size_t limit) {
        const std::size_t total = std::min(net::buffer_size(buffers), limit);
        const std::size_t old = peer.incoming.size();
        peer.incoming.resize(old + total);
        const std::size_t n = net::buffer_copy(net::buffer(peer.incoming.data() + old, total),
                                               buffers);
        wake(peer);
        return n;
    }

    static bool consume_failure(end_state& s) noexcept {
        if (s.fail_after == std::numeric_limits<std::size_t>::max()) return false;
        if (s.fail_after == 0) return s.failure_injected = true;
        --s.fail_after;
        return false;
    }

    static void complete_read(end_state& s, std::error_code ec) {
        if (auto op = std::move(s.reader)) op->complete(s.incoming, s.read_size, ec);
    }

    // Completes a waiting read when there is data, or EOF once the peer closed.
    static void wake(end_state& s) {
        if (!s.reader) return;
        auto peer = s.peer.lock();
        if (!s.incoming.empty()) complete_read(s, {});
        else if (!peer || peer->closed) complete_read(s, {}); // reads 0 bytes: EOF
    }

    net::io_context* ctx_;
    std::shared_ptr<end_state> state_;
};

} // namespace aster::test

#endif // ASTER_TEST_STREAM_HPP
// end aster/test/stream.hpp
// begin aster/test_client.hpp
// SPDX-License-Identifier: MIT
// test_client: drives an app's real connection code over an in-memory stream, with no port and no
// thread.
#ifndef ASTER_TEST_CLIENT_HPP
#define ASTER_TEST_CLIENT_HPP

// begin aster/detail/response_parser.hpp
// SPDX-License-Identifier: MIT
// Client-side HTTP/1.1 response parsing over llhttp, for test_client.
#ifndef ASTER_DETAIL_RESPONSE_PARSER_HPP
#define ASTER_DETAIL_RESPONSE_PARSER_HPP


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
// end aster/detail/response_parser.hpp
// begin aster/test/websocket_session.hpp
// SPDX-License-Identifier: MIT
// The client side of a test WebSocket: masked frames out, messages in, every wait bounded.
#ifndef ASTER_TEST_WEBSOCKET_SESSION_HPP
#define ASTER_TEST_WEBSOCKET_SESSION_HPP

// begin aster/test/client_base.hpp
// SPDX-License-Identifier: MIT
// What test_client and its WebSocket sessions share: the io_context, options, in-memory
// connections.
#ifndef ASTER_TEST_CLIENT_BASE_HPP
#define ASTER_TEST_CLIENT_BASE_HPP


#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

class websocket_session;

/// A response as the test sees it: status, headers in order, body.
struct test_response {
    int status_code = 0;
    header_list headers;
    std::string body;

    aster::status status() const noexcept { return aster::status(status_code); }
    const std::string& text() const noexcept { return body; }
    /// The first value of header `name` (any case), or nullopt.
    std::optional<std::string> header(std::string_view name) const {
        for (const auto& [n, v] : headers)
            if (iequals(n, name)) return v;
        return std::nullopt;
    }
    std::vector<std::string> header_values(std::string_view name) const {
        std::vector<std::string> out;
        for (const auto& [n, v] : headers)
            if (iequals(n, name)) out.push_back(v);
        return out;
    }
};

/// Settings of a test_client.
struct test_client_options {
    bool raise_server_exceptions = true;     // rethrow a handler's exception in the test
    bool follow_redirects = true;            // as Starlette's TestClient
    std::chrono::milliseconds timeout{5000}; // every wait fails after this, never hangs
    std::size_t read_size = 0;               // bytes per server read; 0 = all available
    http_limits limits{};                    // the server's limits
    websocket_options websocket{};           // the server's WebSocket limits
    std::string host = "testserver";
    // Every request as if it came over TLS: request::scheme() is "https" ("wss" for
    // WebSockets), as Starlette's TestClient with base_url="https://testserver". An absolute
    // URL (`client.get("https://testserver/x")`, `"ws://..."`) chooses per request.
    bool https = false;
    // Fail at once, instead of at the timeout, when the server waits for request bytes the
    // test never sends. Turn off to test the server's own timeouts (408).
    bool detect_stalls = true;
    // Set: the client's topics are shared through Redis, as a server's with
    // server_config::broker (needs ASTER_HAS_REDIS; without it the client throws
    // std::invalid_argument). The link runs on the client's io_context, so only while the test
    // waits: sync_broker() waits for it. Two clients given the same Redis stand for two
    // processes.
    std::optional<redis_broker> broker{};
};

/// Thrown when the app does not answer within the client's timeout, or cannot answer at all.
class test_timeout : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

namespace detail {

/// One in-memory connection: the client's end, the server's end, and bytes not parsed yet.
struct test_connection {
    std::shared_ptr<test::stream> client, server;
    std::shared_ptr<bool> server_done;
    std::string leftover;
    bool secure = false; // the server side sees a TLS connection (https, wss)

    bool open() const noexcept { return client && !client->peer_closed(); }
};

class test_client_base {
public:
    test_client_base(const test_client_base&) = delete;
    test_client_base& operator=(const test_client_base&) = delete;

    /// Cookies kept from Set-Cookie headers, sent with every later request.
    const std::map<std::string, std::string>& cookies() const noexcept { return cookies_; }
    void set_cookie(std::string name, std::string value) {
        cookies_[std::move(name)] = std::move(value);
    }
    test_client_options& settings() noexcept { return options_; }
    net::io_context& context() noexcept { return ctx_; }

    /// Publishes to the app's subscribers of `topic` in this client (each client has topics of
    /// its own). Delivered when the client next runs, as when a session receives.
    void publish(std::string_view topic, std::string_view message,
                 const publish_options& options = {}) {
        topics_.publish_anywhere(topic, message, options);
    }
    /// The client's topics, as a value to keep.
    aster::topics topics() noexcept { return aster::topics(&topics_); }
    /// With test_client_options::broker: runs the client until Redis has answered a round trip
    /// behind everything the client asked of it so far (the app runs first until it waits).
    /// Then every topic with a subscriber here is subscribed in Redis, every publish made here
    /// has reached Redis (and so every client subscribed by then), and what Redis sent here
    /// before has been read. Call it after subscribing and after publishing, before another
    /// client waits for the messages. Throws test_timeout after `timeout` (Redis away),
    /// std::logic_error without a broker.
    void sync_broker();

protected:
    friend class aster::websocket_session;
    using clock = std::chrono::steady_clock;

    explicit test_client_base(test_client_options options)
        : options_(std::move(options)), topic_loop_(&topics_.add_loop(ctx_.get_executor())) {}
    virtual ~test_client_base() = default;

    // Stops the broker, runs the loop until it has wound down (bounded by `timeout`) and
    // destroys it: its sockets and timers belong to ctx_, and sessions still to go would tell
    // it of topics they leave. The owner calls it before ctx_ and topics_ go.
    void stop_broker() noexcept;
    virtual void spawn_server(test_connection& c) = 0;
    void open_connection(test_connection& c);
    void close_connection(test_connection& c);
    // Runs the io_context until bytes arrive on `c` or its server closes; throws test_timeout
    // at the deadline, or at once when `fail_when_stuck` and the server waits for bytes itself.
    void wait_for_bytes(test_connection& c, clock::time_point deadline, std::string_view what,
                        bool fail_when_stuck);
    std::optional<response_parser::message>
    read_response(test_connection& c, response_parser& parser, std::string_view what);
    void rethrow_server_exception();
    void keep_cookies(const test_response& r);
    std::string cookie_header(const std::vector<std::pair<std::string, std::string>>& extra) const;
    static test_response to_response(response_parser::message&& m);
    std::array<std::uint8_t, 4> next_mask() noexcept;

    test_client_options options_;
    // Before ctx_: sessions leave their topics as ctx_ destroys them.
    detail::topic_hub topics_;
    net::io_context ctx_;
    detail::topic_registry* topic_loop_;
    std::exception_ptr server_exception_;
    std::map<std::string, std::string> cookies_;
    std::uint32_t mask_state_ = 0x9E3779B9u;
    // A lifespan hook ran out of time: its frame refers to what is gone, so ctx_ must not run
    // again.
    bool abandoned_ = false;
};

inline void test_client_base::sync_broker() {
    detail::topic_broker* broker = topics_.broker();
    if (!broker)
        throw std::logic_error("aster::test_client::sync_broker: the client has no broker "
                               "(test_client_options::broker)");
    // First what is ready runs: a handler just accepted subscribes, a message just sent is
    // published, and the round trip goes behind them.
    if (ctx_.stopped()) ctx_.restart();
    ctx_.poll();
    const std::uint64_t ticket = broker->sync();
    const auto deadline = clock::now() + options_.timeout;
    while (!broker->synced(ticket)) {
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.run_one_until(deadline) == 0 && (clock::now() >= deadline || ctx_.stopped())) {
            const auto where = redis_address::parse(options_.broker->url); // not the password
            throw test_timeout("aster::test_client::sync_broker: no answer from Redis at " +
                               where.host + ":" + std::to_string(where.port) + " within " +
                               std::to_string(options_.timeout.count()) + " ms" +
                               (broker->connected() ? "" : " (not connected)"));
        }
    }
    // What the round trip brought in is handed to the sessions now.
    if (ctx_.stopped()) ctx_.restart();
    ctx_.poll();
}

inline void test_client_base::stop_broker() noexcept {
    detail::topic_broker* broker = topics_.broker();
    if (!broker) return;
    broker->stop();
    const auto deadline = clock::now() + options_.timeout;
    try {
        while (!abandoned_ && !broker->stopped()) {
            if (ctx_.stopped()) ctx_.restart();
            if (ctx_.run_one_until(deadline) == 0 && (clock::now() >= deadline || ctx_.stopped()))
                break;
        }
    } catch (...) {
        // A handler's exception while winding down: the destructor goes on.
    }
    // Destroyed even when it did not wind down in time: ctx_ never runs again, and its
    // frames left on ctx_ go with it unresumed.
    topics_.detach_broker();
}

inline void test_client_base::open_connection(test_connection& c) {
    close_connection(c);
    c.server = std::make_shared<test::stream>(ctx_);
    c.client = std::make_shared<test::stream>(ctx_);
    c.client->connect(*c.server);
    if (options_.read_size != 0) c.server->read_size(options_.read_size);
    c.server_done = std::make_shared<bool>(false);
    c.leftover.clear();
    spawn_server(c);
}

inline void test_client_base::close_connection(test_connection& c) {
    if (!c.client) return;
    c.client->close();
    // Let the server's coroutine see EOF and finish, so no frame outlives the client.
    const auto deadline = clock::now() + options_.timeout;
    while (c.server_done && !*c.server_done) {
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.run_one_until(deadline) == 0) break; // finished, or out of time
    }
    c.client.reset();
    c.server.reset();
    c.leftover.clear();
}

inline void test_client_base::wait_for_bytes(test_connection& c, clock::time_point deadline,
                                             std::string_view what, bool fail_when_stuck) {
    for (;;) {
        if (!c.client->pending().empty()) {
            c.leftover += c.client->take();
            return;
        }
        if (c.client->peer_closed()) return;
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.poll() > 0) continue;
        // Nothing is ready. If the server is blocked reading, only more bytes from the test
        // could move it, and none will come: fail now rather than at the deadline.
        if (fail_when_stuck && options_.detect_stalls && c.server && c.server->waiting_to_read())
            throw test_timeout("aster::test_client: " + std::string(what) +
                               ": the app is waiting for more request bytes that will never "
                               "come (the request sent is incomplete)");
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.run_one_until(deadline) == 0 && clock::now() >= deadline)
            throw test_timeout("aster::test_client: no answer to " + std::string(what) +
                               " within " + std::to_string(options_.timeout.count()) + " ms");
    }
}

inline std::optional<response_parser::message>
test_client_base::read_response(test_connection& c, response_parser& parser,
                                std::string_view what) {
    const auto deadline = clock::now() + options_.timeout;
    for (;;) {
        if (!c.leftover.empty()) {
            std::size_t used = parser.feed(c.leftover);
            c.leftover.erase(0, used);
            if (parser.done()) return parser.take();
        }
        if (c.client->peer_closed() && c.client->pending().empty()) {
            parser.finish();
            if (parser.done()) return parser.take();
            return std::nullopt;
        }
        wait_for_bytes(c, deadline, what, true);
    }
}

inline void test_client_base::rethrow_server_exception() {
    if (!server_exception_) return;
    auto e = std::exchange(server_exception_, nullptr);
    if (options_.raise_server_exceptions) std::rethrow_exception(e);
}

inline test_response test_client_base::to_response(response_parser::message&& m) {
    test_response r;
    r.status_code = m.status;
    r.headers = std::move(m.headers);
    r.body = std::move(m.body);
    return r;
}

inline void test_client_base::keep_cookies(const test_response& r) {
    for (const auto& value : r.header_values("set-cookie")) {
        auto c = parse_set_cookie(value);
        if (!c) continue;
        if (c->expired) cookies_.erase(c->name);
        else cookies_[c->name] = c->value;
    }
}

inline std::string test_client_base::cookie_header(
    const std::vector<std::pair<std::string, std::string>>& extra) const {
    std::string line;
    auto add = [&](std::string_view k, std::string_view v) {
        if (!line.empty()) line += "; ";
        line.append(k).append("=").append(v);
    };
    for (const auto& [k, v] : cookies_) add(k, v);
    for (const auto& [k, v] : extra) add(k, v);
    return line;
}

inline std::array<std::uint8_t, 4> test_client_base::next_mask() noexcept {
    // xorshift32: masks differ frame to frame, and runs are reproducible.
    mask_state_ ^= mask_state_ << 13;
    mask_state_ ^= mask_state_ >> 17;
    mask_state_ ^= mask_state_ << 5;
    return {std::uint8_t(mask_state_), std::uint8_t(mask_state_ >> 8),
            std::uint8_t(mask_state_ >> 16), std::uint8_t(mask_state_ >> 24)};
}

} // namespace detail
} // namespace aster

#endif // ASTER_TEST_CLIENT_BASE_HPP
// end aster/test/client_base.hpp

#ifdef ASTER_HAS_JSON
#include <nlohmann/json_fwd.hpp>
#endif

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

/// Thrown by `websocket_connect` when the app refuses the handshake; carries its HTTP response
/// (403 after a close before accept, or whatever `websocket::deny` sent).
class websocket_denial : public std::runtime_error {
public:
    explicit websocket_denial(test_response r)
        : std::runtime_error("aster::test_client: websocket handshake denied with " +
                             std::to_string(r.status_code) + ": " + r.body),
          response_(std::move(r)) {}
    const test_response& response() const noexcept { return response_; }

private:
    test_response response_;
};

/// A message as the test receives it.
struct received_message {
    bool text = true;
    std::string data;
    bool compressed = false;    // it came with RSV1 (permessage-deflate) and was inflated
    std::size_t wire_bytes = 0; // payload bytes as sent on the wire (compressed, if it was)
};

/// A WebSocket opened by `test_client::websocket_connect`. Sends are masked frames, as a real
/// client's; receives wait at most the client's timeout. When the server closes, receives throw
/// `websocket_disconnect` with its code and reason (or the app's own exception, if its handler
/// threw). Leaving scope closes with 1000 and waits for the server to finish.
class websocket_session {
public:
    websocket_session(detail::test_client_base& client, detail::test_connection connection,
                      header_list handshake_headers,
                      std::optional<detail::deflate_params> deflate = std::nullopt);
    websocket_session(websocket_session&& other) noexcept;
    websocket_session& operator=(websocket_session&&) = delete;
    ~websocket_session();

    /// A whole message in one frame; compressed when permessage-deflate was agreed and
    /// compression() is on.
    void send_text(std::string_view text) { send_message(detail::opcode::text, text); }
    void send_bytes(std::string_view bytes) { send_message(detail::opcode::binary, bytes); }
    /// One frame, as given (for protocol tests: fragments, pings, odd opcodes, RSV1).
    void send_frame(detail::opcode op, std::string_view payload, bool fin, bool rsv1 = false);
    /// Raw bytes on the wire, unchecked (for tests of hostile input).
    void send_raw(std::string_view bytes);

#ifdef ASTER_HAS_JSON
    template <class Json = nlohmann::json>
    void send_json(const Json& value) {
        send_text(value.dump());
    }
    /// The next message parsed as JSON; throws std::runtime_error when it is not JSON.
    template <class Json = nlohmann::json>
    Json receive_json() {
        auto message = receive();
        Json value = Json::parse(message.data, nullptr, false);
        if (value.is_discarded())
            throw std::runtime_error("aster::websocket_session: not JSON: " + message.data);
        return value;
    }
#endif

    received_message receive();
    std::string receive_text();
    std::string receive_bytes();

    /// Sends a close frame and waits for the server's. Does nothing if already closed.
    void close(std::uint16_t code = 1000, std::string_view reason = {});

    /// Drops the connection without a close frame, as a vanished client does; the server
    /// reports 1006.
    void drop() {
        if (!client_ || closed_) return;
        closed_ = true;
        close_code_ = 1006;
        finish();
    }

    /// True when the server agreed to permessage-deflate (offer it with
    /// `websocket_connect_options::extensions`).
    bool deflate_agreed() const noexcept { return deflate_.has_value(); }
    /// What was agreed; meaningful when deflate_agreed().
    const detail::deflate_params& deflate_params() const { return deflate_.value(); }
    /// Whether send_text/send_bytes compress (on by default once agreed).
    void set_compression(bool on) noexcept { compress_ = on; }
    /// `message` compressed by this session's compressor (RFC 7692 §7.2.1, tail removed), for
    /// sending by hand with send_frame(..., rsv1 = true), e.g. cut into fragments. With context
    /// takeover the compressor remembers it, so send what it returns.
    std::string compress(std::string_view message);

    /// The subprotocol the server chose, or empty.
    std::string subprotocol() const { return header("sec-websocket-protocol").value_or(""); }
    const header_list& headers() const noexcept { return headers_; }
    std::optional<std::string> header(std::string_view name) const;
    bool closed() const noexcept { return closed_; }
    /// The code of the close frame the server sent (0 while open; 1006 if it dropped).
    std::uint16_t close_code() const noexcept { return close_code_; }
    void set_timeout(std::chrono::milliseconds t) noexcept { timeout_ = t; }
    /// Payloads of the pongs received so far (receives answer pings and skip pongs).
    const std::vector<std::string>& pongs() const noexcept { return pongs_; }

private:
    // The reader's next event over what the server sent, waiting (bounded) for more; nullopt
    // once the server closed the connection. consume() then drops the bytes it used.
    std::optional<detail::ws_reader::event>
    next_event(std::chrono::steady_clock::time_point deadline, std::string_view what);
    void consume() {
        connection_.leftover.erase(0, used_);
        used_ = 0;
    }
    [[noreturn]] void server_closed(std::uint16_t code, std::string reason);
    void finish();
    void send_message(detail::opcode op, std::string_view payload);

    detail::test_client_base* client_;
    detail::test_connection connection_;
    header_list headers_;
    std::chrono::milliseconds timeout_;
    bool sent_close_ = false, closed_ = false;
    std::uint16_t close_code_ = 0;
    std::string close_reason_;
    std::vector<std::string> pongs_;
    std::optional<detail::deflate_params> deflate_;
    bool compress_ = true;
#ifdef ASTER_HAS_ZLIB
    std::unique_ptr<detail::deflate_codec> codec_;
#endif
    // The same reader the server's session uses, on the client's side of the protocol.
    std::unique_ptr<detail::ws_reader> reader_ = std::make_unique<detail::ws_reader>(
        detail::ws_reader::settings{.from_client = false});
    std::size_t used_ = 0; // bytes of leftover the reader's last event used
};

inline websocket_session::websocket_session(detail::test_client_base& client,
                                            detail::test_connection connection,
                                            header_list handshake_headers,
                                            std::optional<detail::deflate_params> deflate)
    : client_(&client), connection_(std::move(connection)), headers_(std::move(handshake_headers)),
      timeout_(client.options_.timeout), deflate_(deflate) {
#ifdef ASTER_HAS_ZLIB
    // zlib's defaults on the client side, as browsers use.
    if (deflate_) codec_ = std::make_unique<detail::deflate_codec>(*deflate_, false, 8, 6);
    reader_->use_deflate(codec_.get());
#else
    if (deflate_) throw std::logic_error("aster::websocket_session: permessage-deflate needs zlib");
#endif
}

inline websocket_session::websocket_session(websocket_session&& other) noexcept
    : client_(std::exchange(other.client_, nullptr)), connection_(std::move(other.connection_)),
      headers_(std::move(other.headers_)), timeout_(other.timeout_), sent_close_(other.sent_close_),
      closed_(other.closed_), close_code_(other.close_code_),
      close_reason_(std::move(other.close_reason_)), pongs_(std::move(other.pongs_)),
      deflate_(other.deflate_), compress_(other.compress_)
#ifdef ASTER_HAS_ZLIB
      ,
      codec_(std::move(other.codec_))
#endif
      ,
      reader_(std::move(other.reader_)), used_(other.used_) {
}

inline websocket_session::~websocket_session() {
    if (!client_) return;
    try {
        close(1000);
    } catch (...) {
        // A destructor must not throw; a stored server exception surfaces on the next call.
    }
    client_->close_connection(connection_);
}

inline std::optional<std::string> websocket_session::header(std::string_view name) const {
    for (const auto& [n, v] : headers_)
        if (iequals(n, name)) return v;
    return std::nullopt;
}

inline void websocket_session::send_raw(std::string_view bytes) {
    if (!client_ || !connection_.client)
        throw std::logic_error("aster::websocket_session: moved from");
    connection_.client->send(bytes);
}

inline std::string websocket_session::compress(std::string_view message) {
#ifdef ASTER_HAS_ZLIB
    if (!codec_)
        throw std::logic_error("aster::websocket_session::compress: permessage-deflate "
                               "was not agreed");
    detail::message_buffer out;
    if (codec_->compress(message, out) != detail::deflate_codec::status::ok)
        throw std::runtime_error("aster::websocket_session: compression failed");
    return std::string(out.view());
#else
    (void)message;
    throw std::logic_error("aster::websocket_session::compress: built without zlib");
#endif
}

inline void websocket_session::send_message(detail::opcode op, std::string_view payload) {
    if (deflate_ && compress_) {
        if (closed_ || sent_close_)
            throw websocket_disconnect(close_code_ ? close_code_ : 1000, close_reason_);
        send_frame(op, compress(payload), true, true);
    } else {
        send_frame(op, payload, true);
    }
}

inline void websocket_session::send_frame(detail::opcode op, std::string_view payload, bool fin,
                                          bool rsv1) {
    if (closed_ || sent_close_)
        throw websocket_disconnect(close_code_ ? close_code_ : 1000, close_reason_);
    auto mask = client_->next_mask();
    std::uint8_t header[14];
    std::size_t n = detail::encode_frame_header(header, fin, op, payload.size(), &mask, rsv1);
    std::string wire(reinterpret_cast<const char*>(header), n);
    std::size_t start = wire.size();
    wire.append(payload);
    detail::unmask(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(wire.data()) + start,
                                           payload.size()),
                   mask);
    connection_.client->send(wire);
}

inline std::optional<detail::ws_reader::event>
websocket_session::next_event(std::chrono::steady_clock::time_point deadline,
                              std::string_view what) {
    auto& buffer = connection_.leftover;
    for (;;) {
        std::size_t used = 0;
        auto e = reader_->read(
            std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(buffer.data()) + used_,
                                    buffer.size() - used_),
            used);
        used_ += used;
        if (e == detail::ws_reader::event::inflating) continue; // a test waits for the whole
        if (e != detail::ws_reader::event::need_more) return e;
        consume(); // fragments taken in; nothing refers to their bytes now
        if (connection_.client->peer_closed() && connection_.client->pending().empty())
            return std::nullopt;
        client_->wait_for_bytes(connection_, deadline, what, false);
    }
}

inline void websocket_session::server_closed(std::uint16_t code, std::string reason) {
    closed_ = true;
    close_code_ = code;
    close_reason_ = reason;
    finish();
    client_->rethrow_server_exception();
    throw websocket_disconnect(code, std::move(reason));
}

inline void websocket_session::finish() {
    // The server closes the TCP connection after the close handshake (§7.1.1).
    client_->close_connection(connection_);
}

inline received_message websocket_session::receive() {
    if (!client_) throw std::logic_error("aster::websocket_session: moved from");
    if (closed_) {
        client_->rethrow_server_exception();
        throw websocket_disconnect(close_code_, close_reason_);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (;;) {
        auto e = next_event(deadline, "websocket receive");
        if (!e) server_closed(1006, "the server dropped the connection without a close frame");
        switch (*e) {
        case detail::ws_reader::event::message: {
            received_message message;
            message.text = reader_->text();
            message.compressed = reader_->compressed();
            message.wire_bytes = reader_->wire_bytes();
            message.data = std::string(reader_->data());
            consume();
            return message;
        }
        case detail::ws_reader::event::ping: {
            std::string payload(reader_->payload());
            consume();
            if (!sent_close_) send_frame(detail::opcode::pong, payload, true);
            continue;
        }
        case detail::ws_reader::event::pong:
            pongs_.emplace_back(reader_->payload());
            consume();
            continue;
        case detail::ws_reader::event::close: {
            const std::uint16_t code = aster::code(reader_->close_code());
            std::string reason(reader_->reason());
            consume();
            if (!sent_close_) {
                // Echo the code (§5.5.1) so the server's close handshake completes.
                std::uint8_t body[125];
                std::size_t n = code == 1005 ? 0 : detail::encode_close_payload(body, code, {});
                send_frame(detail::opcode::close,
                           std::string_view(reinterpret_cast<const char*>(body), n), true);
                sent_close_ = true;
            }
            server_closed(code, std::move(reason));
        }
        case detail::ws_reader::event::failed:
            throw std::runtime_error("aster::websocket_session: the server broke RFC 6455: " +
                                     std::string(reader_->reason()) + " (a client closes with " +
                                     std::to_string(aster::code(reader_->close_code())) + ")");
        case detail::ws_reader::event::need_more:
        case detail::ws_reader::event::inflating:
            break; // next_event never returns these
        }
    }
}

inline std::string websocket_session::receive_text() {
    auto m = receive();
    if (!m.text)
        throw std::runtime_error("aster::websocket_session: expected text, got a binary message");
    return std::move(m.data);
}

inline std::string websocket_session::receive_bytes() {
    auto m = receive();
    if (m.text)
        throw std::runtime_error("aster::websocket_session: expected binary, got a text message");
    return std::move(m.data);
}

inline void websocket_session::close(std::uint16_t code, std::string_view reason) {
    if (!client_ || closed_) return;
    if (!sent_close_) {
        std::uint8_t body[125];
        std::size_t n = detail::encode_close_payload(body, code, reason);
        send_frame(detail::opcode::close, std::string_view(reinterpret_cast<const char*>(body), n),
                   true);
        sent_close_ = true;
    }
    // Wait for the server's close frame; data frames still in flight are dropped.
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (;;) {
        auto e = next_event(deadline, "websocket close");
        if (!e || *e == detail::ws_reader::event::failed) {
            closed_ = true;
            close_code_ = 1006;
            break;
        }
        if (*e == detail::ws_reader::event::close) {
            closed_ = true;
            close_code_ = aster::code(reader_->close_code());
            consume();
            break;
        }
        consume();
    }
    finish();
    client_->rethrow_server_exception();
}

} // namespace aster

#endif // ASTER_TEST_WEBSOCKET_SESSION_HPP
// end aster/test/websocket_session.hpp

#include <chrono>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

/// Per-request extras: `client.post("/items", {.body = "x", .headers = {{"X-Key", "1"}}})`.
struct request_options {
    std::vector<std::pair<std::string, std::string>> params;  // appended to the query string
    header_list headers;                                      // sent after the defaults
    std::vector<std::pair<std::string, std::string>> cookies; // for this request only
    std::string body;
    std::string content_type;             // sets Content-Type when not empty
    bool expect_continue = false;         // send headers, wait for 100 Continue, then the body
    std::optional<bool> follow_redirects; // overrides the client's setting
};

/// Extras for `websocket_connect`.
struct websocket_connect_options {
    std::vector<std::string> subprotocols;                    // offered, in order
    header_list headers;                                      // sent with the handshake
    std::vector<std::pair<std::string, std::string>> cookies; // for this handshake only
    // Sent as Sec-WebSocket-Extensions when set, e.g. "permessage-deflate; client_max_window_bits"
    // (what browsers offer). An agreed permessage-deflate compresses both ways (needs zlib).
    std::string extensions;
};

/// Runs the app's real HTTP and WebSocket code (parser, router, writer, frames) over in-memory
/// streams on the client's own io_context: deterministic, no sockets, no threads. Every wait is
/// bounded by `timeout`, and a handler's exception is rethrown in the test.
/// @code
/// aster::test_client client{app};
/// CHECK(client.get("/hello").text() == "Hello, World!");
/// auto ws = client.websocket_connect("/ws");
/// ws.send_text("Hello!");
/// CHECK(ws.receive_text() == "OK!");
/// @endcode
class test_client : public detail::test_client_base {
public:
    template <class Router, class Middleware>
    explicit test_client(const application<Router, Middleware>& app,
                         test_client_options options = {})
        : test_client(app.ref(), std::move(options)) {}
    /// Drives any route table behind an app_ref; the app must outlive the client.
    /// Runs the app's lifespan startup here, on the client's io_context (its exception
    /// propagates), and the shutdown in the destructor, after the last connection closed.
    /// With options.broker, the Redis link starts after the startup, as a server's does.
    explicit test_client(detail::app_ref app, test_client_options options = {})
        : test_client_base(std::move(options)), app_(app) {
        if (app_.has_metrics) {
            metrics_ = std::make_unique<detail::loop_metrics>();
            all_metrics_.loops.push_back(metrics_.get());
        }
        attach_broker();
        try {
            run_hook(app_.startup, "startup");
        } catch (...) {
            stop_broker(); // no destructor runs: it must go before ctx_ does
            throw;
        }
        if (auto* broker = topics_.broker()) broker->start();
    }
    ~test_client();

    test_response get(std::string_view url, request_options o = {}) {
        return request("GET", url, std::move(o));
    }
    test_response head(std::string_view url, request_options o = {}) {
        return request("HEAD", url, std::move(o));
    }
    test_response post(std::string_view url, request_options o = {}) {
        return request("POST", url, std::move(o));
    }
    test_response put(std::string_view url, request_options o = {}) {
        return request("PUT", url, std::move(o));
    }
    test_response patch(std::string_view url, request_options o = {}) {
        return request("PATCH", url, std::move(o));
    }
    test_response delete_(std::string_view url, request_options o = {}) {
        return request("DELETE", url, std::move(o));
    }
    test_response options(std::string_view url, request_options o = {}) {
        return request("OPTIONS", url, std::move(o));
    }

    /// Sends one request and returns its response, following redirects if asked. `url` is a
    /// path (`/items?x=1`) or an absolute URL (`https://testserver:8443/items`), whose scheme
    /// says whether the app sees TLS and whose authority is sent as Host.
    test_response request(std::string_view method, std::string_view url, request_options o = {});

    /// Writes raw bytes on a fresh connection and collects `count` responses; for protocol tests
    /// (pipelining, malformed requests). Stops early if the server closes the connection.
    std::vector<test_response> exchange(std::string_view bytes, std::size_t count,
                                        bool head_requests = false);

    /// Opens a WebSocket with the real handshake. `url` is a path or `ws://` / `wss://host/path`
    /// (wss: the app sees TLS). Throws `websocket_denial` (carrying the HTTP response) when the
    /// app refuses, or the app's own exception when its handler threw.
    websocket_session websocket_connect(std::string_view url, websocket_connect_options o = {});

    /// True while the in-memory HTTP connection to the app is open (reused across requests).
    bool connected() const noexcept { return http_.open(); }

private:
    // Where a request goes: `/x` on the client's host and scheme, or an absolute URL's own.
    struct target {
        bool secure = false;
        std::string host, path; // Host header; request-target (path and query)
    };
    target split_url(std::string_view url) const;
    void spawn_server(detail::test_connection& c) override;
    void run_hook(task<> (*hook)(), std::string_view what);
    // Builds the Redis link of options_.broker (throws std::invalid_argument in a build
    // without ASTER_HAS_REDIS); not started yet.
    void attach_broker();
    test_response send_once(std::string_view method, std::string_view url,
                            const request_options& o);

    detail::app_ref app_;
    detail::test_connection http_;
    // When the app serves metrics_route: the client's one loop, scraped as a server's.
    std::unique_ptr<detail::loop_metrics> metrics_;
    detail::metrics_registry all_metrics_;
};

} // namespace aster

#if ASTER_HEADER_ONLY
// begin aster/impl/test_client.hpp
// SPDX-License-Identifier: MIT
// Bodies of test_client: compiled in every file that includes aster.hpp (header-only), or once
// in the file that includes aster/impl/src.hpp (ASTER_SEPARATE_COMPILATION).
#ifndef ASTER_IMPL_TEST_CLIENT_HPP
#define ASTER_IMPL_TEST_CLIENT_HPP


namespace aster {

namespace detail {

ASTER_ENGINE task<> serve_test_connection(std::shared_ptr<test::stream> end, app_ref app,
                                          std::shared_ptr<connection_options> options) {
    // Named first: g++ 12 mishandles a braced temporary passed by value to a coroutine inside
    // co_await (here a double free of its string).
    client_address client{"testclient", 50000};
    co_await serve_stream(*end, app, *options, std::move(client));
    end->close();
}

} // namespace detail

ASTER_ENGINE void test_client::run_hook(task<> (*hook)(), std::string_view what) {
    if (!hook) return;
    bool done = false;
    std::exception_ptr error;
    net::co_spawn(ctx_, hook(), [&](std::exception_ptr e) {
        done = true;
        error = e;
    });
    const auto deadline = clock::now() + options_.timeout;
    while (!done) {
        if (ctx_.stopped()) ctx_.restart();
        if (ctx_.run_one_until(deadline) == 0 && !done) {
            // The frame still refers to `done`: stop the loop so nothing resumes it later.
            ctx_.stop();
            abandoned_ = true;
            throw test_timeout("aster::test_client: the lifespan " + std::string(what) +
                               " did not finish in time");
        }
    }
    if (error) std::rethrow_exception(error);
}

ASTER_ENGINE test_client::~test_client() {
    close_connection(http_);
    try {
        run_hook(app_.shutdown, "shutdown");
    } catch (const std::exception& e) {
        // A destructor cannot throw; the test sees it in the log.
        log(log_level::error,
            std::string("aster::test_client: lifespan shutdown failed: ") + e.what());
    } catch (...) {
        log(log_level::error, "aster::test_client: lifespan shutdown failed");
    }
    stop_broker(); // after the shutdown hook, which may still publish
}

ASTER_ENGINE void test_client::attach_broker() {
    if (!options_.broker) return;
#ifdef ASTER_HAS_REDIS
    topics_.attach(
        std::make_unique<detail::redis_link>(topics_, ctx_.get_executor(), *options_.broker));
#else
    throw std::invalid_argument("aster: test_client_options::broker needs a build with Redis "
                                "(ASTER_HAS_REDIS: CMake -DASTER_REDIS=ON, meson "
                                "-Dredis=enabled)");
#endif
}

ASTER_ENGINE test_client::target test_client::split_url(std::string_view url) const {
    target t{options_.https, options_.host, std::string(url)};
    std::size_t skip = 0;
    for (auto [scheme, secure] : {std::pair{"http://", false}, std::pair{"https://", true},
                                  std::pair{"ws://", false}, std::pair{"wss://", true}}) {
        if (url.starts_with(scheme)) {
            skip = std::string_view(scheme).size();
            t.secure = secure;
        }
    }
    if (skip == 0) return t;
    url.remove_prefix(skip);
    std::size_t end = std::min(url.find_first_of("/?"), url.size());
    t.host = std::string(url.substr(0, end));
    t.path = std::string(url.substr(end));
    if (t.path.empty() || t.path[0] != '/') t.path.insert(0, "/");
    return t;
}

ASTER_ENGINE void test_client::spawn_server(detail::test_connection& c) {
    auto options = std::make_shared<detail::connection_options>(
        detail::connection_options{options_.limits, options_.websocket, &server_exception_});
    options->secure = c.secure;
    options->topics = topic_loop_;
    options->metrics = metrics_.get();
    options->all_metrics = metrics_ ? &all_metrics_ : nullptr;
    net::co_spawn(ctx_, detail::serve_test_connection(c.server, app_, options),
                  [this, done = c.server_done](std::exception_ptr e) {
                      *done = true;
                      if (e && !server_exception_) server_exception_ = e;
                  });
}

ASTER_ENGINE test_response test_client::send_once(std::string_view method, std::string_view url,
                                                  const request_options& o) {
    auto where = split_url(url);
    // One in-memory connection is either "TLS" or not: a change of scheme takes a new one.
    if (http_.open() && http_.secure != where.secure) close_connection(http_);
    if (!http_.open()) {
        http_.secure = where.secure;
        open_connection(http_);
    }
    std::string target = std::move(where.path);
    if (!o.params.empty()) {
        target.push_back(target.find('?') == std::string::npos ? '?' : '&');
        bool first = true;
        for (const auto& [k, v] : o.params) {
            if (!first) target.push_back('&');
            first = false;
            target += percent_encode(k, "") + "=" + percent_encode(v, "");
        }
    }
    const std::string what = std::string(method) + " " + target;
    std::string head;
    head.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    head.append("Host: ").append(where.host).append("\r\n");
    head.append("User-Agent: testclient\r\n");
    if (auto cookies = cookie_header(o.cookies); !cookies.empty())
        head.append("Cookie: ").append(cookies).append("\r\n");
    if (!o.content_type.empty())
        head.append("Content-Type: ").append(o.content_type).append("\r\n");
    for (const auto& [k, v] : o.headers) head.append(k).append(": ").append(v).append("\r\n");
    if (!o.body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
        head.append("Content-Length: ").append(std::to_string(o.body.size())).append("\r\n");
    if (o.expect_continue) head.append("Expect: 100-continue\r\n");
    head.append("\r\n");

    detail::response_parser parser;
    parser.expect_no_body(method == "HEAD");
    std::optional<detail::response_parser::message> message;
    if (o.expect_continue) {
        http_.client->send(head);
        message = read_response(http_, parser, what);
        if (message && message->status == 100) {
            http_.client->send(o.body);
            message.reset();
        }
    } else {
        http_.client->send(head + o.body);
    }
    while (!message || message->status < 200) {
        message = read_response(http_, parser, what);
        if (!message) {
            close_connection(http_);
            rethrow_server_exception();
            throw std::runtime_error("aster::test_client: the app closed the connection without "
                                     "answering " +
                                     what);
        }
    }
    if (ctx_.stopped()) ctx_.restart();
    ctx_.poll();
    if (!message->keep_alive || !http_.open()) close_connection(http_);
    rethrow_server_exception();
    auto r = to_response(std::move(*message));
    keep_cookies(r);
    return r;
}

ASTER_ENGINE test_response test_client::request(std::string_view method, std::string_view url,
                                                request_options o) {
    std::string current_method(method);
    auto where = split_url(url);
    test_response r = send_once(current_method, url, o);
    const bool follow = o.follow_redirects.value_or(options_.follow_redirects);
    auto is_redirect = [](int s) {
        return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
    };
    for (int hops = 0; follow && is_redirect(r.status_code); ++hops) {
        if (hops == 20)
            throw std::runtime_error("aster::test_client: more than 20 redirects from " +
                                     std::string(url));
        auto location = r.header("location");
        if (!location) return r;
        std::string next = *location;
        if (next.starts_with("/")) {
            // Relative: the same scheme and host as the request it answers.
            next = (where.secure ? "https://" : "http://") + where.host + next;
        } else {
            auto to = split_url(next);
            if (to.path == next) return r; // not a URL we can follow
            // Another host (port aside) is not the app's to answer.
            auto name = [](std::string_view authority) { // without the port
                if (authority.starts_with('[')) return authority.substr(0, authority.find(']') + 1);
                return authority.substr(0, authority.find(':'));
            };
            if (name(to.host) != name(options_.host)) return r;
        }
        where = split_url(next);
        int s = r.status_code;
        if (s == 303 || ((s == 301 || s == 302) && current_method == "POST")) {
            current_method = "GET";
            o.body.clear();
            o.content_type.clear();
        }
        o.params.clear(); // the Location carries the query
        r = send_once(current_method, next, o);
    }
    return r;
}

ASTER_ENGINE std::vector<test_response>
test_client::exchange(std::string_view bytes, std::size_t count, bool head_requests) {
    detail::test_connection c;
    open_connection(c);
    c.client->send(bytes);
    std::vector<test_response> out;
    detail::response_parser parser;
    parser.expect_no_body(head_requests);
    try {
        while (out.size() < count) {
            auto message = read_response(c, parser, "raw exchange");
            if (!message) break;
            if (message->status >= 200) out.push_back(to_response(std::move(*message)));
            if (!message->keep_alive) break;
        }
    } catch (...) {
        close_connection(c);
        throw;
    }
    close_connection(c);
    rethrow_server_exception();
    return out;
}

ASTER_ENGINE websocket_session test_client::websocket_connect(std::string_view url,
                                                              websocket_connect_options o) {
    auto where = split_url(url);
    detail::test_connection c;
    c.secure = where.secure;
    open_connection(c);
    std::uint8_t nonce[16];
    for (int i = 0; i < 4; ++i) {
        auto m = next_mask();
        std::copy(m.begin(), m.end(), nonce + 4 * i);
    }
    const std::string key = detail::base64_encode(std::span<const std::uint8_t>(nonce, 16));
    const std::string what = "websocket handshake to " + std::string(url);
    std::string head = "GET " + where.path + " HTTP/1.1\r\nHost: " + where.host +
                       "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
                       key + "\r\nSec-WebSocket-Version: 13\r\n";
    if (!o.subprotocols.empty()) {
        head += "Sec-WebSocket-Protocol: ";
        for (std::size_t i = 0; i < o.subprotocols.size(); ++i)
            head += (i ? ", " : "") + o.subprotocols[i];
        head += "\r\n";
    }
    if (!o.extensions.empty()) head += "Sec-WebSocket-Extensions: " + o.extensions + "\r\n";
    if (auto cookies = cookie_header(o.cookies); !cookies.empty())
        head += "Cookie: " + cookies + "\r\n";
    for (const auto& [k, v] : o.headers) head += k + ": " + v + "\r\n";
    head += "\r\n";
    c.client->send(head);

    detail::response_parser parser;
    std::optional<detail::response_parser::message> message;
    try {
        message = read_response(c, parser, what);
    } catch (...) {
        close_connection(c);
        throw;
    }
    if (!message) {
        close_connection(c);
        rethrow_server_exception();
        throw std::runtime_error("aster::test_client: the app closed the connection during the " +
                                 what);
    }
    if (message->status != 101) {
        close_connection(c);
        rethrow_server_exception();
        throw websocket_denial(to_response(std::move(*message)));
    }
    auto r = to_response(std::move(*message));
    auto expected = detail::websocket_accept_key(key);
    if (r.header("sec-websocket-accept") != std::string(expected.data(), expected.size())) {
        close_connection(c);
        throw std::runtime_error("aster::test_client: wrong Sec-WebSocket-Accept in the " + what);
    }
    // A real client fails the connection on an answer that does not fit its offer (RFC 7692 §7.1).
    std::optional<detail::deflate_params> deflate;
    if (auto answer = r.header("sec-websocket-extensions")) {
        bool offered = false, offered_client_window = false;
        detail::extension_reader offer(o.extensions);
        std::string_view name;
        while (offer.next_extension(name)) {
            if (!iequals(name, "permessage-deflate")) continue;
            offered = true;
            detail::deflate_offer params;
            if (detail::read_deflate_params(offer, params) && params.client_max_window_bits != 0)
                offered_client_window = true;
        }
        if (offered) deflate = detail::parse_deflate_response(*answer, offered_client_window);
#ifndef ASTER_HAS_ZLIB
        deflate.reset();
#endif
        if (!deflate) {
            close_connection(c);
            throw std::runtime_error(
                "aster::test_client: the server answered Sec-WebSocket-Extensions: " + *answer +
                " to the offer '" + o.extensions + "' in the " + what);
        }
    }
    return websocket_session(*this, std::move(c), std::move(r.headers), deflate);
}

} // namespace aster

#endif // ASTER_IMPL_TEST_CLIENT_HPP
// end aster/impl/test_client.hpp
#endif

#endif // ASTER_TEST_CLIENT_HPP
// end aster/test_client.hpp

#endif // ASTER_ASTER_HPP
// end aster/aster.hpp
// begin aster/event_source.hpp
// SPDX-License-Identifier: MIT
// Server-sent events (HTML Living Standard §9.2) on the streaming response: event_source_response.
#ifndef ASTER_EVENT_SOURCE_HPP
#define ASTER_EVENT_SOURCE_HPP


#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace aster {

/// One event. `data` may hold line breaks (CRLF, CR or LF): each line becomes a `data:` field.
struct server_sent_event {
    std::string data = {};
    std::string event = {};                  // empty: the client's default "message"
    std::optional<std::string> id = {};      // set (even empty): `id:` resets Last-Event-ID
    std::optional<std::uint64_t> retry = {}; // reconnection time in milliseconds
};

/// The wire form of `e`, ending with the blank line. Throws std::invalid_argument for a line
/// break in `event` or `id`, or a NUL in `id`, which would corrupt the stream.
inline std::string format_event(const server_sent_event& e) {
    if (e.event.find_first_of("\r\n") != std::string::npos)
        throw std::invalid_argument("aster: server-sent event name must not contain line breaks");
    if (e.id && e.id->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
        throw std::invalid_argument(
            "aster: server-sent event id must not contain line breaks or NUL");
    std::string out;
    if (!e.event.empty()) out.append("event: ").append(e.event).append("\n");
    std::string_view data = e.data;
    while (true) {
        auto brk = data.find_first_of("\r\n");
        out.append("data: ").append(data.substr(0, brk)).append("\n");
        if (brk == std::string_view::npos) break;
        std::size_t skip = data.substr(brk, 2) == "\r\n" ? 2 : 1;
        data = data.substr(brk + skip);
    }
    if (e.id) out.append("id: ").append(*e.id).append("\n");
    if (e.retry) out.append("retry: ").append(std::to_string(*e.retry)).append("\n");
    out.append("\n");
    return out;
}

/// What an event_source_response's producer sends through.
class event_writer {
public:
    explicit event_writer(body_writer& out) noexcept : out_(out) {}
    task<> send(const server_sent_event& e) { co_await out_.write(format_event(e)); }
    /// An event with only `data`.
    task<> send_data(std::string data) {
        server_sent_event e;
        e.data = std::move(data);
        co_await send(e);
    }
    /// `: text` — ignored by clients; a keep-alive through proxies that cut idle streams.
    task<> comment(std::string_view text = {}) {
        std::string line = text.empty() ? ":" : ": ";
        for (char c : text)
            if (c != '\r' && c != '\n') line += c;
        co_await out_.write(line + "\n\n");
    }

private:
    body_writer& out_;
};

namespace detail {
inline task<> run_event_source(const std::function<task<>(event_writer&)>& producer,
                               body_writer& out) {
    event_writer events(out);
    co_await producer(events);
}
} // namespace detail

/// A `text/event-stream` response (Cache-Control: no-cache, X-Accel-Buffering: no) whose
/// producer sends events while the client listens; it ends when the producer returns, and a
/// client that leaves makes the next send throw.
/// @code
/// co_return aster::event_source_response([](aster::event_writer& out) -> aster::task<> {
///     aster::server_sent_event e{.data = "line 1\nline 2", .event = "update", .id = "1"};
///     co_await out.send(e); // named: GCC 12 miscompiles braced temporaries in co_await
/// });
/// @endcode
inline response event_source_response(std::function<task<>(event_writer&)> producer) {
    // A plain lambda handing out a coroutine: the producer lives in the response meanwhile.
    response r =
        streaming([producer = std::move(producer)](
                      body_writer& out) { return detail::run_event_source(producer, out); },
                  "text/event-stream");
    r.header("Cache-Control", "no-cache");
    r.header("X-Accel-Buffering", "no"); // nginx would otherwise hold events back
    return r;
}

} // namespace aster

#endif // ASTER_EVENT_SOURCE_HPP
// end aster/event_source.hpp
// begin aster/file_response.hpp
// SPDX-License-Identifier: MIT
// `file_response`: a file streamed in chunks, with ETag/Last-Modified, 304 and single byte ranges
// [responses.py].
#ifndef ASTER_FILE_RESPONSE_HPP
#define ASTER_FILE_RESPONSE_HPP


#include <cerrno>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace aster {

/// Content-Type for a file name by its extension (case-insensitive), from a built-in table;
/// `application/octet-stream` when unknown. Text types carry `; charset=utf-8`.
ASTER_DECL std::string_view mime_type(std::string_view path) noexcept;

struct file_options {
    std::string content_type = {};                       // empty: mime_type(path)
    std::string filename = {};                           // set: Content-Disposition with this name
    std::string content_disposition_type = "attachment"; // or "inline"
    std::size_t chunk_size = 64 * 1024;                  // bytes read and written at a time
};

/// Serves the file at `path`, read in `chunk_size` pieces while the client reads (never whole
/// in memory), with Content-Length, Accept-Ranges, ETag and Last-Modified. Given the request:
/// `If-None-Match` (or else `If-Modified-Since`) answers 304; `Range: bytes=a-b`, `a-` or
/// `-n` answers 206 with Content-Range (`If-Range` must match, else 200); an unsatisfiable
/// range answers 416 with `Content-Range: bytes */size`; a malformed one 400 (as Starlette);
/// several ranges, or another unit, answer 200 with the whole file. HEAD gets the headers only.
/// A missing file (or a directory) throws http_exception 404; no permission 403.
/// @code
/// co_return aster::file_response(req, "reports/q3.pdf", {.filename = "q3.pdf"});
/// @endcode
ASTER_DECL response file_response(const request& req, const std::string& path,
                                  const file_options& options = {});
/// The same without conditional or range handling: always 200 with the whole file.
ASTER_DECL response file_response(const std::string& path, const file_options& options = {});

// ---- implementation ----------------------------------------------------------------------------

namespace detail::file_impl {

struct descriptor {
    int fd = -1;
    explicit descriptor(int f) noexcept : fd(f) {}
    ~descriptor() {
        if (fd >= 0) ::close(fd);
    }
};

inline std::optional<std::uint64_t> number(std::string_view s) {
    std::uint64_t n = 0;
    if (s.empty()) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return n;
}

inline response build(const request* req, const std::string& path, const file_options& options) {
    if (path.find('\0') != std::string::npos) throw http_exception(status::not_found);
    // O_NONBLOCK: a FIFO must not block the loop; only regular files are served.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == EACCES) throw http_exception(status::forbidden);
        throw http_exception(status::not_found);
    }
    auto file = std::make_shared<descriptor>(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) throw http_exception(status::not_found);
    const std::uint64_t size = std::uint64_t(st.st_size);
    char etag_buf[64];
    auto etag_len = std::snprintf(etag_buf, sizeof etag_buf, "\"%llx-%llx\"",
                                  (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                                      (unsigned long long)st.st_mtim.tv_nsec,
                                  (unsigned long long)size);
    std::string etag(etag_buf, std::size_t(etag_len));
    std::string modified = detail::http_date_of(st.st_mtim.tv_sec);

    response r(status::ok);
    r.set_content_type(options.content_type.empty() ? std::string(mime_type(path))
                                                    : options.content_type);
    r.header("Accept-Ranges", "bytes");
    r.header("ETag", etag);
    r.header("Last-Modified", modified);
    if (!options.filename.empty())
        r.header("Content-Disposition", options.content_disposition_type + "; filename*=utf-8''" +
                                            percent_encode(options.filename, ""));

    std::uint64_t first = 0, length = size;
    if (req && (req->method_id() == method::get || req->method_id() == method::head)) {
        // If-None-Match and If-Modified-Since (304) are decided by the server once every
        // middleware ran, against the representation it sends (see response::conditional).
        r.conditional();
        auto range = req->header("range");
        if (auto if_range = req->header("if-range"); range && if_range)
            if (*if_range != etag && *if_range != modified) range.reset();
        if (range && range->size() > 6 && iequals(range->substr(0, 6), "bytes=") &&
            range->find(',') == std::string_view::npos) {
            auto spec = range->substr(6);
            while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
            while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
            auto dash = spec.find('-');
            if (dash == std::string_view::npos)
                throw http_exception(status::bad_request, "Malformed range header.");
            auto a = number(spec.substr(0, dash)), b = number(spec.substr(dash + 1));
            bool satisfiable = true;
            if (dash == 0) { // -n: the last n bytes
                if (!b) throw http_exception(status::bad_request, "Malformed range header.");
                satisfiable = *b > 0 && size > 0;
                first = size - std::min(*b, size);
                length = size - first;
            } else {
                if (!a || (dash + 1 < spec.size() && !b) || (b && *b < *a))
                    throw http_exception(status::bad_request, "Malformed range header.");
                satisfiable = *a < size;
                std::uint64_t last = b ? std::min(*b, size - 1) : size - 1;
                first = *a;
                length = satisfiable ? last - first + 1 : 0;
            }
            if (!satisfiable) {
                response refused = plain_text("Range Not Satisfiable",
                                              status::requested_range_not_satisfiable);
                refused.header("Content-Range", "bytes */" + std::to_string(size));
                return refused;
            }
            r.set_status(status::partial_content);
            r.header("Content-Range", "bytes " + std::to_string(first) + "-" +
                                          std::to_string(first + length - 1) + "/" +
                                          std::to_string(size));
        }
    }
    const std::size_t chunk = options.chunk_size ? options.chunk_size : 64 * 1024;
    r.set_producer([file, first, length, chunk](body_writer& out) -> task<> {
        // Plain pread: regular files do not block for long, and the OS caches them.
        std::unique_ptr<char[]> buf(new char[chunk]);
        std::uint64_t offset = first, left = length;
        while (left > 0) {
            auto n = ::pread(file->fd, buf.get(), std::size_t(std::min<std::uint64_t>(chunk, left)),
                             off_t(offset));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw std::runtime_error("aster::file_response: the file shrank or failed");
            co_await out.write(std::string_view(buf.get(), std::size_t(n)));
            offset += std::uint64_t(n);
            left -= std::uint64_t(n);
        }
    });
    r.set_stream_length(length); // after set_producer, which clears it
    return r;
}

} // namespace detail::file_impl

ASTER_DECL std::string_view mime_type(std::string_view path) noexcept {
    struct entry {
        std::string_view ext, type;
    };
    static constexpr entry table[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"map", "application/json"},
        {"txt", "text/plain; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},
        {"xml", "application/xml"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"avif", "image/avif"},
        {"ico", "image/vnd.microsoft.icon"},
        {"bmp", "image/bmp"},
        {"tif", "image/tiff"},
        {"tiff", "image/tiff"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},
        {"otf", "font/otf"},
        {"wasm", "application/wasm"},
        {"pdf", "application/pdf"},
        {"zip", "application/zip"},
        {"gz", "application/gzip"},
        {"tar", "application/x-tar"},
        {"mp3", "audio/mpeg"},
        {"ogg", "audio/ogg"},
        {"wav", "audio/wav"},
        {"mp4", "video/mp4"},
        {"webm", "video/webm"},
        {"mpeg", "video/mpeg"},
        {"webmanifest", "application/manifest+json"},
        {"rss", "application/rss+xml"},
        {"atom", "application/atom+xml"},
        {"yaml", "application/yaml"},
        {"yml", "application/yaml"},
        {"toml", "application/toml"},
        {"ics", "text/calendar; charset=utf-8"},
        {"sh", "text/x-shellscript; charset=utf-8"},
    };
    auto slash = path.find_last_of('/');
    auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    auto dot = name.find_last_of('.');
    if (dot == std::string_view::npos || dot == 0) return "application/octet-stream";
    auto ext = name.substr(dot + 1);
    for (const auto& e : table)
        if (iequals(e.ext, ext)) return e.type;
    return "application/octet-stream";
}

ASTER_DECL response file_response(const request& req, const std::string& path,
                                  const file_options& options) {
    return detail::file_impl::build(&req, path, options);
}

ASTER_DECL response file_response(const std::string& path, const file_options& options) {
    return detail::file_impl::build(nullptr, path, options);
}

} // namespace aster

#endif // ASTER_FILE_RESPONSE_HPP
// end aster/file_response.hpp
// begin aster/form_parser.hpp
// SPDX-License-Identifier: MIT
// Pure form-body parsers: urlencoded and incremental multipart/form-data, on byte buffers, no I/O
// [formparsers.py].
#ifndef ASTER_FORM_PARSER_HPP
#define ASTER_FORM_PARSER_HPP


#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

/// Limits on a form body; the defaults are Starlette's (`max_files`, `max_fields`,
/// `max_part_size`) plus bounds Starlette leaves to python-multipart.
struct form_limits {
    std::size_t max_fields = 1000;            // text fields; beyond: 400
    std::size_t max_files = 1000;             // file parts; beyond: 400
    std::size_t max_part_bytes = 1024 * 1024; // one text field's value; beyond: 413
    std::size_t max_name_bytes = 1024;        // one field's (or file part's) name; beyond: 413
    std::size_t max_file_bytes = std::numeric_limits<std::size_t>::max(); // one file; beyond: 413
    std::size_t max_body_bytes = std::numeric_limits<std::size_t>::max(); // the whole form; 413
    std::size_t max_part_header_bytes = 16 * 1024; // one part's header block; beyond: 413
    std::size_t spool_bytes = 1024 * 1024;         // a file part beyond this moves to a temp file
};

/// A form body refused: status 400 (malformed, too many parts) or 413 (too large), with a
/// detail naming the problem. Thrown from a handler it becomes that response.
class form_error : public http_exception {
public:
    using http_exception::http_exception;
};

/// Parses an `application/x-www-form-urlencoded` body: split on `&`, `+` is a space, `%XX`
/// decoded, a piece without `=` has an empty value, empty pieces skipped; order and repeats
/// kept. Throws form_error past `max_fields` (400) or `max_body_bytes`/`max_part_bytes` (413).
ASTER_DECL std::vector<std::pair<std::string, std::string>>
parse_urlencoded(std::string_view body, const form_limits& limits = {});

/// The `boundary` parameter of a `multipart/form-data` Content-Type, unquoted; form_error 400
/// when it is missing or breaks RFC 2046 §5.1.1 (1..70 characters of bchars, no trailing space).
ASTER_DECL std::string multipart_boundary(std::string_view content_type);

/// What a multipart part's headers say.
struct multipart_part {
    std::string name;                    // Content-Disposition `name`
    std::optional<std::string> filename; // set for file parts (`filename` or `filename*`)
    std::string content_type;            // empty when absent
    header_list headers;                 // every header, as sent
};

/// Incremental `multipart/form-data` parser (RFC 7578, RFC 2046 §5.1): feed any split of the
/// body, get each part's headers, its data in pieces as they arrive, and its end. Memory is
/// bounded by one part's header block plus the boundary length, whatever the part sizes.
/// Strict: no closing boundary, a boundary line with trailing bytes, a header line without
/// `:`, folded headers, or a part without `Content-Disposition: form-data; name=...` throw
/// form_error 400; size limits throw 413. Preamble and epilogue are ignored (RFC 2046).
/// Thread safety: one parser per body.
/// @code
/// struct sink : aster::multipart_parser::handler { ... };
/// aster::multipart_parser p(aster::multipart_boundary(content_type));
/// p.feed(chunk1, s); p.feed(chunk2, s); p.finish();
/// @endcode
class multipart_parser {
public:
    struct handler {
        virtual void on_part_begin(const multipart_part& part) = 0;
        virtual void on_part_data(std::string_view bytes) = 0;
        virtual void on_part_end() = 0;

    protected:
        ~handler() = default;
    };

    explicit multipart_parser(std::string_view boundary, form_limits limits = {});

    /// Parses the next bytes of the body. Throws form_error; the parser is unusable after.
    void feed(std::string_view bytes, handler& out);
    /// The body has ended: throws form_error 400 unless the closing boundary was seen.
    void finish() const;
    bool done() const noexcept { return state_ == state::epilogue; }

private:
    enum class state { preamble, after_boundary, headers, data, epilogue };

    void begin_part(std::string_view block, handler& out);
    void emit(std::string_view bytes, handler& out);

    std::string delimiter_; // CRLF "--" boundary
    form_limits limits_;
    state state_ = state::preamble;
    std::string buffer_; // bytes not yet consumed
    std::size_t total_ = 0, part_bytes_ = 0, fields_ = 0, files_ = 0;
    bool part_is_file_ = false;
    std::string part_name_;
};

// ---- implementation ----------------------------------------------------------------------------

namespace detail::form_impl {

[[noreturn]] inline void fail(status code, std::string detail) {
    throw form_error(code, std::move(detail));
}

// Header parameters `; key=value; key="quoted \" value"` after the first `;`, as
// {lower-case key, value}. Nullopt when malformed.
inline std::optional<std::vector<std::pair<std::string, std::string>>>
parse_parameters(std::string_view s) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t i = 0;
    auto skip_space = [&] {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    };
    while (true) {
        skip_space();
        if (i == s.size()) return out;
        if (s[i] != ';') return std::nullopt;
        ++i;
        skip_space();
        if (i == s.size()) return out; // a trailing ';' is common and harmless
        std::size_t start = i;
        while (i < s.size() && is_tchar(s[i]) && s[i] != '=') ++i;
        std::string key(s.substr(start, i - start));
        for (auto& c : key)
            if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
        skip_space();
        if (key.empty() || i == s.size() || s[i] != '=') return std::nullopt;
        ++i;
        skip_space();
        std::string value;
        if (i < s.size() && s[i] == '"') {
            // Browsers do not escape (they percent-encode `"`), but RFC 9110 quoted-pair says
            // `\"` is a quote; a backslash before anything else is kept, as Windows paths from
            // old browsers contain them.
            if (!read_quoted(
                    s, i, [&value](char c) { value += c; }, true))
                return std::nullopt;
        } else {
            start = i;
            while (i < s.size() && s[i] != ';' && s[i] != ' ' && s[i] != '\t') ++i;
            value = s.substr(start, i - start);
        }
        out.emplace_back(std::move(key), std::move(value));
    }
}

inline const std::string* find_parameter(const std::vector<std::pair<std::string, std::string>>& ps,
                                         std::string_view key) {
    for (const auto& [k, v] : ps)
        if (k == key) return &v;
    return nullptr;
}

} // namespace detail::form_impl

ASTER_DECL std::vector<std::pair<std::string, std::string>>
parse_urlencoded(std::string_view body, const form_limits& limits) {
    using detail::form_impl::fail;
    if (body.size() > limits.max_body_bytes)
        fail(status::request_entity_too_large,
             "Form body exceeds " + std::to_string(limits.max_body_bytes) + " bytes");
    std::vector<std::pair<std::string, std::string>> out;
    while (!body.empty()) {
        auto amp = body.find('&');
        auto piece = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (piece.empty()) continue;
        if (out.size() == limits.max_fields)
            fail(status::bad_request, "Too many fields. Maximum number of fields is " +
                                          std::to_string(limits.max_fields) + ".");
        auto eq = piece.find('=');
        if (eq != std::string_view::npos && piece.size() - eq - 1 > 3 * limits.max_part_bytes)
            fail(status::request_entity_too_large,
                 "Form field exceeds " + std::to_string(limits.max_part_bytes) + " bytes");
        const auto name_too_long = [&] {
            fail(status::request_entity_too_large,
                 "Form field name exceeds " + std::to_string(limits.max_name_bytes) + " bytes");
        };
        if (std::min(eq, piece.size()) > 3 * limits.max_name_bytes) name_too_long();
        std::pair<std::string, std::string> item;
        percent_decode_into(piece.substr(0, eq), item.first, true);
        if (item.first.size() > limits.max_name_bytes) name_too_long();
        if (eq != std::string_view::npos)
            percent_decode_into(piece.substr(eq + 1), item.second, true);
        if (item.second.size() > limits.max_part_bytes)
            fail(status::request_entity_too_large, "Form field '" + item.first + "' exceeds " +
                                                       std::to_string(limits.max_part_bytes) +
                                                       " bytes");
        out.push_back(std::move(item));
    }
    return out;
}

ASTER_DECL std::string multipart_boundary(std::string_view content_type) {
    using namespace detail::form_impl;
    auto semi = content_type.find(';');
    auto params = parse_parameters(semi == std::string_view::npos ? std::string_view{}
                                                                  : content_type.substr(semi));
    if (!params) fail(status::bad_request, "Malformed multipart Content-Type parameters");
    const std::string* b = find_parameter(*params, "boundary");
    if (!b || b->empty()) fail(status::bad_request, "Missing boundary in multipart Content-Type");
    // RFC 2046 §5.1.1 bchars: DIGIT ALPHA '()+_,-./:=? and space (not last), 1..70 of them.
    constexpr std::string_view extra = "'()+_,-./:=? ";
    bool ok = b->size() <= 70 && b->back() != ' ';
    for (char c : *b)
        ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    extra.find(c) != std::string_view::npos);
    if (!ok) fail(status::bad_request, "Invalid multipart boundary");
    return *b;
}

ASTER_DECL multipart_parser::multipart_parser(std::string_view boundary, form_limits limits)
    : limits_(limits) {
    if (boundary.empty() || boundary.size() > 70)
        detail::form_impl::fail(status::bad_request, "Invalid multipart boundary");
    delimiter_.append("\r\n--").append(boundary);
    // The first boundary may open the body without a line break before it.
    buffer_ = "\r\n";
}

ASTER_DECL void multipart_parser::emit(std::string_view bytes, handler& out) {
    if (bytes.empty()) return;
    part_bytes_ += bytes.size();
    const std::size_t limit = part_is_file_ ? limits_.max_file_bytes : limits_.max_part_bytes;
    if (part_bytes_ > limit)
        detail::form_impl::fail(status::request_entity_too_large,
                                std::string(part_is_file_ ? "File" : "Field") + " '" + part_name_ +
                                    "' exceeds " + std::to_string(limit) + " bytes");
    out.on_part_data(bytes);
}

ASTER_DECL void multipart_parser::begin_part(std::string_view block, handler& out) {
    using namespace detail::form_impl;
    using detail::is_tchar, detail::trim_ows;
    multipart_part part;
    bool disposition = false;
    // RFC 7578 §4.8 / RFC 9112 §5.2: no obsolete line folding.
    if (block.find("\r\n ") != std::string_view::npos ||
        block.find("\r\n\t") != std::string_view::npos)
        fail(status::bad_request, "Folded multipart part header");
    while (!block.empty()) {
        auto eol = block.find("\r\n");
        auto line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
        if (line.empty()) fail(status::bad_request, "Malformed multipart part headers");
        if (line.front() == ' ' || line.front() == '\t')
            fail(status::bad_request, "Folded multipart part header");
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            fail(status::bad_request, "Malformed multipart part header line");
        auto name = line.substr(0, colon);
        for (char c : name)
            if (!is_tchar(c)) fail(status::bad_request, "Malformed multipart part header name");
        auto value = trim_ows(line.substr(colon + 1));
        for (char c : value)
            if (c == '\0' || c == '\r' || c == '\n')
                fail(status::bad_request, "Malformed multipart part header value");
        part.headers.emplace_back(std::string(name), std::string(value));
        if (iequals(name, "content-type")) {
            part.content_type = value;
        } else if (iequals(name, "content-disposition")) {
            if (disposition) fail(status::bad_request, "Two Content-Disposition headers in a part");
            disposition = true;
            auto semi = value.find(';');
            if (!iequals(trim_ows(value.substr(0, semi)), "form-data"))
                fail(status::bad_request, "Multipart part is not form-data");
            auto params = parse_parameters(semi == std::string_view::npos ? std::string_view{}
                                                                          : value.substr(semi));
            if (!params) fail(status::bad_request, "Malformed Content-Disposition parameters");
            const std::string* n = find_parameter(*params, "name");
            if (!n) fail(status::bad_request, "Multipart part without a name");
            if (n->size() > limits_.max_name_bytes)
                fail(status::request_entity_too_large, "Form field name exceeds " +
                                                           std::to_string(limits_.max_name_bytes) +
                                                           " bytes");
            part.name = *n;
            if (const std::string* f = find_parameter(*params, "filename*")) {
                // RFC 5987 ext-value: charset'lang'percent-encoded; only UTF-8 is meaningful.
                auto second = f->find('\'', f->find('\'') + 1);
                if (f->find('\'') == std::string::npos || second == std::string::npos)
                    fail(status::bad_request, "Malformed filename* parameter");
                part.filename = percent_decode(std::string_view(*f).substr(second + 1));
            } else if (const std::string* f = find_parameter(*params, "filename")) {
                part.filename = *f;
            }
        }
    }
    if (!disposition) fail(status::bad_request, "Multipart part without Content-Disposition");
    part_is_file_ = part.filename.has_value();
    if (part_is_file_ && ++files_ > limits_.max_files)
        fail(status::bad_request, "Too many files. Maximum number of files is " +
                                      std::to_string(limits_.max_files) + ".");
    if (!part_is_file_ && ++fields_ > limits_.max_fields)
        fail(status::bad_request, "Too many fields. Maximum number of fields is " +
                                      std::to_string(limits_.max_fields) + ".");
    part_name_ = part.name;
    part_bytes_ = 0;
    out.on_part_begin(part);
}

ASTER_DECL void multipart_parser::feed(std::string_view bytes, handler& out) {
    using detail::form_impl::fail;
    total_ += bytes.size();
    if (total_ > limits_.max_body_bytes)
        fail(status::request_entity_too_large,
             "Form body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes");
    if (state_ == state::epilogue) return; // RFC 2046: ignored
    buffer_.append(bytes);
    std::size_t pos = 0; // consumed bytes of buffer_
    const std::string_view buf_view = buffer_;
    for (bool progress = true; progress;) {
        progress = false;
        std::string_view rest = buf_view.substr(pos);
        switch (state_) {
        case state::preamble: {
            auto at = rest.find(delimiter_);
            if (at == std::string_view::npos) {
                // Keep a tail that may be the start of the delimiter; drop the preamble.
                if (rest.size() >= delimiter_.size()) pos += rest.size() - delimiter_.size() + 1;
                break;
            }
            pos += at + delimiter_.size();
            state_ = state::after_boundary;
            progress = true;
            break;
        }
        case state::after_boundary: {
            // "--" closes the body; otherwise optional transport padding, then CRLF.
            if (rest.size() < 2) break;
            if (rest.starts_with("--")) {
                pos = buf_view.size();
                state_ = state::epilogue;
                break;
            }
            std::size_t i = 0;
            while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
            if (i > 64) fail(status::bad_request, "Malformed multipart boundary line");
            if (rest.size() - i < 2) break;
            if (rest.substr(i, 2) != "\r\n")
                fail(status::bad_request, "Malformed multipart boundary line");
            pos += i + 2;
            state_ = state::headers;
            progress = true;
            break;
        }
        case state::headers: {
            if (rest.starts_with("\r\n"))
                fail(status::bad_request, "Multipart part without Content-Disposition");
            auto end = rest.find("\r\n\r\n");
            if (end == std::string_view::npos) {
                // The blank line may still start in the last three bytes held, so the block is
                // known too large only past limit + 3: any cut of the body gives the same answer.
                if (rest.size() > limits_.max_part_header_bytes + 3)
                    fail(status::request_entity_too_large, "Multipart part headers too large");
                break;
            }
            if (end > limits_.max_part_header_bytes)
                fail(status::request_entity_too_large, "Multipart part headers too large");
            begin_part(rest.substr(0, end), out);
            pos += end + 4;
            state_ = state::data;
            progress = true;
            break;
        }
        case state::data: {
            auto at = rest.find(delimiter_);
            if (at == std::string_view::npos) {
                if (rest.size() >= delimiter_.size()) {
                    std::size_t n = rest.size() - delimiter_.size() + 1;
                    emit(rest.substr(0, n), out);
                    pos += n;
                }
                break;
            }
            emit(rest.substr(0, at), out);
            out.on_part_end();
            pos += at + delimiter_.size();
            state_ = state::after_boundary;
            progress = true;
            break;
        }
        case state::epilogue:
            pos = buf_view.size();
            break;
        }
    }
    buffer_.erase(0, pos);
}

ASTER_DECL void multipart_parser::finish() const {
    if (state_ != state::epilogue)
        detail::form_impl::fail(status::bad_request,
                                state_ == state::preamble
                                    ? "Multipart body has no boundary"
                                    : "Multipart body ended before its closing boundary");
}

} // namespace aster

#endif // ASTER_FORM_PARSER_HPP
// end aster/form_parser.hpp
// begin aster/forms.hpp
// SPDX-License-Identifier: MIT
// `co_await req.form()`: form_data with text fields and upload_file parts spooled to disk
// [datastructures.py].
#ifndef ASTER_FORMS_HPP
#define ASTER_FORMS_HPP


#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace aster {

/// One uploaded file: kept in memory up to `form_limits::spool_bytes`, then moved to an
/// anonymous temporary file (std::tmpfile: deleted when closed), as Starlette's UploadFile.
/// Move-only. Thread safety: none; one handler uses it.
/// @code
/// auto* f = form.file("avatar");
/// if (f && f->size() < 1 << 20) store(f->filename, f->read_all());
/// @endcode
class upload_file {
public:
    std::string filename;
    std::string content_type;
    header_list headers;

    explicit upload_file(std::size_t spool_bytes = 1024 * 1024) : spool_bytes_(spool_bytes) {}

    std::size_t size() const noexcept { return size_; }
    /// True once the content moved to a temporary file.
    bool on_disk() const noexcept { return file_ != nullptr; }

    /// Appends bytes (what the parser does as parts arrive); throws std::runtime_error when the
    /// temporary file cannot be written.
    void write(std::string_view bytes) {
        if (!file_ && memory_.size() + bytes.size() > spool_bytes_) {
            file_.reset(std::tmpfile());
            if (!file_)
                throw std::runtime_error("aster::upload_file: cannot create a temporary file");
            put(memory_);
            std::string().swap(memory_);
        }
        if (file_) put(bytes);
        else memory_.append(bytes);
        size_ += bytes.size();
    }
    /// Reads up to `n` bytes from the current position (0 at the end).
    std::size_t read(char* out, std::size_t n) {
        if (file_) return std::fread(out, 1, n, file_.get());
        std::size_t k = std::min(n, memory_.size() - position_);
        memory_.copy(out, k, position_);
        position_ += k;
        return k;
    }
    /// The whole content, from the start.
    std::string read_all() {
        rewind();
        std::string out(size_, '\0');
        std::size_t got = 0;
        while (got < size_) {
            std::size_t n = read(out.data() + got, size_ - got);
            if (n == 0) break;
            got += n;
        }
        out.resize(got);
        return out;
    }
    /// Back to the first byte.
    void rewind() {
        position_ = 0;
        if (file_) std::fseek(file_.get(), 0, SEEK_SET);
    }

private:
    struct closer {
        void operator()(std::FILE* f) const noexcept { std::fclose(f); }
    };
    void put(std::string_view bytes) {
        if (std::fseek(file_.get(), 0, SEEK_END) != 0 ||
            std::fwrite(bytes.data(), 1, bytes.size(), file_.get()) != bytes.size())
            throw std::runtime_error("aster::upload_file: cannot write the temporary file");
    }

    std::size_t spool_bytes_;
    std::size_t size_ = 0, position_ = 0;
    std::string memory_;
    std::unique_ptr<std::FILE, closer> file_;
};

/// A parsed form: fields in order, each a text value or an upload_file. Repeated names keep
/// every value; `get` returns the last text value, as Starlette's FormData.
/// @code
/// auto form = co_await req.form();
/// auto name = form.get("name", "anonymous");
/// auto tags = form.get_all("tag");
/// @endcode
class form_data {
public:
    using value_type = std::pair<std::string, std::variant<std::string, upload_file>>;

    /// The last text value of `key`, or nullopt (file parts are not text).
    std::optional<std::string_view> get(std::string_view key) const noexcept {
        for (auto it = items_.rbegin(); it != items_.rend(); ++it)
            if (it->first == key)
                if (auto* s = std::get_if<std::string>(&it->second)) return std::string_view(*s);
        return std::nullopt;
    }
    std::string_view get(std::string_view key, std::string_view fallback) const noexcept {
        return get(key).value_or(fallback);
    }
    /// Every text value of `key`, in order.
    std::vector<std::string_view> get_all(std::string_view key) const {
        std::vector<std::string_view> out;
        for (const auto& [k, v] : items_)
            if (k == key)
                if (auto* s = std::get_if<std::string>(&v)) out.emplace_back(*s);
        return out;
    }
    /// The last file part called `key`, or nullptr.
    upload_file* file(std::string_view key) noexcept {
        for (auto it = items_.rbegin(); it != items_.rend(); ++it)
            if (it->first == key)
                if (auto* f = std::get_if<upload_file>(&it->second)) return f;
        return nullptr;
    }
    /// Every file part called `key`, in order.
    std::vector<upload_file*> files(std::string_view key) {
        std::vector<upload_file*> out;
        for (auto& [k, v] : items_)
            if (k == key)
                if (auto* f = std::get_if<upload_file>(&v)) out.push_back(f);
        return out;
    }
    bool contains(std::string_view key) const noexcept {
        for (const auto& item : items_)
            if (item.first == key) return true;
        return false;
    }
    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    auto begin() noexcept { return items_.begin(); }
    auto end() noexcept { return items_.end(); }
    auto begin() const noexcept { return items_.begin(); }
    auto end() const noexcept { return items_.end(); }

    void add(std::string key, std::string value) {
        items_.emplace_back(std::move(key), std::move(value));
    }
    void add(std::string key, upload_file file) {
        items_.emplace_back(std::move(key), std::move(file));
    }

private:
    std::vector<value_type> items_;
};

namespace detail::form_impl {

// The media type of a Content-Type, without parameters.
inline std::string_view media_type(std::string_view content_type) noexcept {
    return trim_ows(content_type.substr(0, content_type.find(';')));
}

// Builds form_data from a multipart_parser's events: text fields in memory, files in
// upload_files (spooled to disk past spool_bytes).
struct collector final : multipart_parser::handler {
    form_data& form;
    const form_limits& limits;
    std::string name, text;
    std::optional<upload_file> file;
    collector(form_data& f, const form_limits& l) : form(f), limits(l) {}
    void on_part_begin(const multipart_part& part) override {
        name = part.name;
        text.clear();
        file.reset();
        if (part.filename) {
            file.emplace(limits.spool_bytes);
            file->filename = *part.filename;
            file->content_type = part.content_type;
            file->headers = part.headers;
        }
    }
    void on_part_data(std::string_view bytes) override {
        if (file) file->write(bytes);
        else text.append(bytes);
    }
    void on_part_end() override {
        if (file) {
            file->rewind();
            form.add(std::move(name), std::move(*file));
            file.reset();
        } else {
            form.add(std::move(name), std::move(text));
            text = {};
        }
    }
};

} // namespace detail::form_impl

/// Parses a form body given its Content-Type (no I/O; what `request::form` runs on a buffered
/// body). Other content types give an empty form. Throws form_error (400/413).
inline form_data parse_form(std::string_view content_type, std::string_view body,
                            const form_limits& limits = {}) {
    form_data out;
    auto media = detail::form_impl::media_type(content_type);
    if (iequals(media, "application/x-www-form-urlencoded")) {
        for (auto& [k, v] : parse_urlencoded(body, limits)) out.add(std::move(k), std::move(v));
    } else if (iequals(media, "multipart/form-data")) {
        detail::form_impl::collector sink(out, limits);
        multipart_parser parser(multipart_boundary(content_type), limits);
        // Fed in slices, as a streamed body would be: the parser's buffer stays small.
        constexpr std::size_t slice = 64 * 1024;
        for (std::size_t at = 0; at < body.size(); at += slice)
            parser.feed(body.substr(at, slice), sink);
        parser.finish();
    }
    return out;
}

// A multipart body still streaming in is parsed as it arrives, so files go to their
// upload_file (and to disk) without the body in memory, and a limit refuses it before the rest
// is read. Anything else is read whole (bounded by max_body_bytes), then parsed; a content type
// that is not a form leaves the body unread.
inline task<form_data> request::form(form_limits limits) const {
    const auto content_type = header("content-type").value_or("");
    const auto media = detail::form_impl::media_type(content_type);
    const bool multipart = iequals(media, "multipart/form-data");
    if (multipart && source_ && !body_taken_) {
        form_data out;
        detail::form_impl::collector sink(out, limits);
        multipart_parser parser(multipart_boundary(content_type), limits);
        for (auto piece = co_await read_some(); !piece.empty(); piece = co_await read_some())
            parser.feed(piece, sink);
        parser.finish();
        co_return out;
    }
    if (!multipart && !iequals(media, "application/x-www-form-urlencoded")) co_return form_data{};
    co_return parse_form(content_type, co_await body(), limits);
}

inline task<form_data> request::form() const { return form(form_limits{}); }

} // namespace aster

#endif // ASTER_FORMS_HPP
// end aster/forms.hpp
// begin aster/json.hpp
// SPDX-License-Identifier: MIT
// Optional nlohmann/json glue: `co_await req.json()` and `aster::json_response(value)`
// [responses.py].
#ifndef ASTER_JSON_HPP
#define ASTER_JSON_HPP


#ifdef ASTER_HAS_JSON
// Not in aster.hpp: nlohmann/json.hpp costs about a second of compile time per file.
#include <nlohmann/json.hpp>

namespace aster {
using json = nlohmann::json;
} // namespace aster
#endif

#endif // ASTER_JSON_HPP
// end aster/json.hpp
// begin aster/middleware/cors.hpp
// SPDX-License-Identifier: MIT
// cors: Cross-Origin Resource Sharing headers and preflight answers, as Starlette's CORSMiddleware.
#ifndef ASTER_MIDDLEWARE_CORS_HPP
#define ASTER_MIDDLEWARE_CORS_HPP


#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aster {

namespace detail {
/// A compiled `allow_origin_regex`. std::regex costs every file that includes <regex> about a
/// second, so it stays behind this class: header-only builds include it from
/// middleware/impl/cors.ipp; ASTER_SEPARATE_COMPILATION builds compile it once in src.hpp.
class origin_regex {
public:
    /// Throws std::invalid_argument naming the pattern when it is not a valid ECMAScript regex.
    explicit origin_regex(const std::string& pattern);
    /// True when the whole of `origin` matches (Starlette's `fullmatch`).
    bool full_match(std::string_view origin) const;

private:
    std::shared_ptr<const void> regex_; // a std::regex
};
} // namespace detail

/// Settings of `cors`, with Starlette's defaults. "*" in `allow_origins`, `allow_methods` or
/// `allow_headers` allows every value.
struct cors_options {
    std::vector<std::string> allow_origins{};
    // Origins that match it as a whole are allowed too (ECMAScript syntax, as std::regex), e.g.
    // R"(https://.*\.example\.org)". Empty: none.
    std::string allow_origin_regex{};
    std::vector<std::string> allow_methods{"GET"};
    std::vector<std::string> allow_headers{};
    bool allow_credentials = false;
    std::vector<std::string> expose_headers{};
    std::uint32_t max_age = 600;
};

/// Requests without an Origin pass untouched. An origin is allowed when it is listed in
/// `allow_origins` or matches `allow_origin_regex` whole (an invalid regex throws
/// std::invalid_argument here; origins over 1024 bytes never match it). A preflight (OPTIONS with
/// Origin and Access-Control-Request-Method) is answered here, without calling the route: 200 "OK",
/// or 400 "Disallowed CORS origin, method, headers" (the failing parts). Other requests with an
/// Origin run normally and get Access-Control-Allow-Origin ("*", or the origin itself with `Vary:
/// Origin` when specific origins are listed, or credentials/cookies are involved),
/// Access-Control-Allow-Credentials and Access-Control-Expose-Headers. The CORS-safelisted
/// headers (Accept, Accept-Language, Content-Language, Content-Type) are always allowed.
/// WebSockets are not affected (browsers do not apply CORS to them), as in Starlette. Unlike
/// Starlette, empty entries in Access-Control-Request-Headers are ignored, not refused.
/// @code
/// aster::application app{routes, aster::middleware(aster::cors{{
///     .allow_origins = {"https://example.org"}, .allow_methods = {"GET", "POST"}}})};
/// @endcode
class cors {
public:
    explicit cors(cors_options o = {}) : opt_(std::move(o)) {
        auto has_star = [](const std::vector<std::string>& v) {
            return std::find(v.begin(), v.end(), "*") != v.end();
        };
        allow_all_origins_ = has_star(opt_.allow_origins);
        allow_all_headers_ = has_star(opt_.allow_headers);
        if (has_star(opt_.allow_methods))
            opt_.allow_methods = {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"};
        explicit_origin_ = !allow_all_origins_ || opt_.allow_credentials;
        if (!opt_.allow_origin_regex.empty())
            origin_regex_ = std::make_shared<detail::origin_regex>(opt_.allow_origin_regex);

        // Precomputed once: the per-request work is comparisons and a few header appends.
        std::vector<std::string> listed{"Accept", "Accept-Language", "Content-Language",
                                        "Content-Type"};
        for (const auto& h : opt_.allow_headers)
            if (std::find(listed.begin(), listed.end(), h) == listed.end()) listed.push_back(h);
        std::sort(listed.begin(), listed.end());
        if (!allow_all_headers_) allow_headers_text_ = join(listed);
        for (auto& h : listed) {
            for (auto& c : h) c = detail::ascii_lower(c);
            lower_headers_.push_back(std::move(h));
        }
        methods_text_ = join(opt_.allow_methods);
        expose_text_ = join(opt_.expose_headers);
    }

    task<response> operator()(request& req, call_next next) const {
        auto origin = req.header("origin");
        if (!origin) co_return co_await next(req);
        if (req.method() == "OPTIONS" && req.header("access-control-request-method"))
            co_return preflight(req, *origin);
        // Copied now: the request's views may not outlive the rest of the chain's changes.
        std::string from(*origin);
        bool has_cookie = req.header("cookie").has_value();
        auto res = co_await next(req);
        if (allow_all_origins_) {
            if (has_cookie || opt_.allow_credentials) allow_origin(res, from);
            else res.set_header("Access-Control-Allow-Origin", "*");
        } else if (is_allowed_origin(from)) {
            allow_origin(res, from);
        }
        if (opt_.allow_credentials) res.set_header("Access-Control-Allow-Credentials", "true");
        if (!expose_text_.empty()) res.set_header("Access-Control-Expose-Headers", expose_text_);
        co_return res;
    }

private:
    static std::string join(const std::vector<std::string>& v) {
        std::string out;
        for (const auto& s : v) out.append(out.empty() ? "" : ", ").append(s);
        return out;
    }
    // Adds "Origin" to Vary, keeping what the route already varies on.
    static void allow_origin(response& res, std::string origin) {
        res.set_header("Access-Control-Allow-Origin", std::move(origin));
        std::string_view vary = res.header_value("vary");
        if (vary.empty()) res.header("Vary", "Origin");
        else res.set_header("Vary", std::string(vary) + ", Origin");
    }

    bool is_allowed_origin(std::string_view origin) const {
        if (allow_all_origins_) return true;
        for (std::string_view o : opt_.allow_origins)
            if (o == origin) return true;
        // A real origin is a scheme, a host of at most 253 bytes and a port. The cap also keeps
        // libstdc++'s recursive matcher from deep recursion on a hostile 16 KiB header.
        return origin_regex_ && origin.size() <= 1024 && origin_regex_->full_match(origin);
    }

    response preflight(const request& req, std::string_view origin) const {
        std::string_view method = *req.header("access-control-request-method");
        auto requested = req.header("access-control-request-headers");
        response res = plain_text("OK");
        std::string failures;
        auto fail = [&](std::string_view what) {
            failures.append(failures.empty() ? "" : ", ").append(what);
        };

        if (is_allowed_origin(origin)) {
            res.header("Access-Control-Allow-Origin", explicit_origin_ ? std::string(origin) : "*");
        } else {
            fail("origin");
            if (!explicit_origin_) res.header("Access-Control-Allow-Origin", "*");
        }
        if (explicit_origin_) res.header("Vary", "Origin");
        res.header("Access-Control-Allow-Methods", methods_text_);
        res.header("Access-Control-Max-Age", std::to_string(opt_.max_age));
        if (std::find(opt_.allow_methods.begin(), opt_.allow_methods.end(), method) ==
            opt_.allow_methods.end())
            fail("method");

        if (allow_all_headers_) {
            if (requested) res.header("Access-Control-Allow-Headers", std::string(*requested));
        } else {
            res.header("Access-Control-Allow-Headers", allow_headers_text_);
            if (requested) {
                // An empty entry ("a, , b" or a blank header) names nothing to refuse.
                const bool unknown =
                    detail::for_each_list_item(*requested, [&](std::string_view one) {
                        return std::none_of(lower_headers_.begin(), lower_headers_.end(),
                                            [&](const std::string& h) { return iequals(h, one); });
                    });
                if (unknown) fail("headers");
            }
        }
        if (opt_.allow_credentials) res.header("Access-Control-Allow-Credentials", "true");
        if (!failures.empty()) {
            res.set_status(status::bad_request);
            res.set_body("Disallowed CORS " + failures);
        }
        return res;
    }

    cors_options opt_;
    std::shared_ptr<const detail::origin_regex> origin_regex_; // shared: middleware are copied
    bool allow_all_origins_ = false;
    bool allow_all_headers_ = false;
    bool explicit_origin_ = true;
    std::string allow_headers_text_;
    std::vector<std::string> lower_headers_;
    std::string methods_text_;
    std::string expose_text_;
};

} // namespace aster

#if ASTER_HEADER_ONLY
// begin aster/middleware/impl/cors.ipp
// SPDX-License-Identifier: MIT
// The one user of <regex>: cors' allow_origin_regex.
#ifndef ASTER_MIDDLEWARE_IMPL_CORS_IPP
#define ASTER_MIDDLEWARE_IMPL_CORS_IPP


#include <regex>
#include <stdexcept>

namespace aster::detail {

ASTER_ENGINE origin_regex::origin_regex(const std::string& pattern) {
    try {
        regex_ = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        throw std::invalid_argument("aster::cors: allow_origin_regex \"" + pattern +
                                    "\" is not a valid ECMAScript regular expression: " + e.what());
    }
}

ASTER_ENGINE bool origin_regex::full_match(std::string_view origin) const {
    return std::regex_match(origin.begin(), origin.end(),
                            *static_cast<const std::regex*>(regex_.get()));
}

} // namespace aster::detail

#endif // ASTER_MIDDLEWARE_IMPL_CORS_IPP
// end aster/middleware/impl/cors.ipp
#endif

#endif // ASTER_MIDDLEWARE_CORS_HPP
// end aster/middleware/cors.hpp
// begin aster/middleware/gzip.hpp
// SPDX-License-Identifier: MIT
// gzip: compresses responses for clients that accept it, as Starlette's GZipMiddleware. Needs zlib.
#ifndef ASTER_MIDDLEWARE_GZIP_HPP
#define ASTER_MIDDLEWARE_GZIP_HPP


#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#if ASTER_HAS_ZLIB
#include <zlib.h>
#endif

namespace aster {

#if ASTER_HAS_ZLIB

/// Compresses the body with gzip when the request's Accept-Encoding mentions gzip, the response
/// has no Content-Encoding yet, is not `text/event-stream`, not a 206 (ranges are served from
/// the uncompressed representation, RFC 9110 §14), and its body has at least `minimum_size`
/// bytes. Sets Content-Encoding: gzip, adds Accept-Encoding to Vary and gives the compressed
/// representation its own ETag (`"tag"` becomes `"tag-gzip"`); the server writes the
/// compressed Content-Length. Streaming responses (a file's among them) are compressed chunk by
/// chunk and go out chunked, whatever length the uncompressed stream had: each chunk the
/// producer writes is flushed (Z_SYNC_FLUSH), so a client sees it at once. `level` is zlib's,
/// 1 (fast) to 9 (small).
/// @code
/// aster::application app{routes, aster::middleware(aster::gzip{.minimum_size = 1000})};
/// @endcode
struct gzip {
    std::size_t minimum_size = 500;
    int level = 6;

    task<response> operator()(request& req, call_next next) const {
        bool accepts = accepts_gzip(req.header("accept-encoding").value_or(""));
        auto res = co_await next(req);
        if (!accepts || !res.header_value("content-encoding").empty() ||
            res.status() == status::partial_content || !res.header_value("content-range").empty() ||
            res.content_type().starts_with("text/event-stream"))
            co_return res;
        if (res.is_streaming()) {
            response::producer inner = res.body_producer();
            int lvl = level;
            // Not a coroutine lambda: the copies live in compress_stream's frame, not in a
            // lambda object that could go away while the body is written. set_producer drops
            // the uncompressed stream's length: the compressed body goes out chunked.
            res.set_producer([inner = std::move(inner), lvl](body_writer& out) {
                return compress_stream(inner, lvl, out);
            });
        } else {
            // An empty body stays empty even with minimum_size 0: a 204 or 304 must not get one.
            if (res.body().empty() || res.body().size() < minimum_size) co_return res;
            res.set_body(compress(res.body(), level));
        }
        res.set_header("Content-Encoding", "gzip");
        if (auto tag = res.header_value("etag"); !tag.empty()) {
            // A tag names one representation (RFC 9110 §8.8.3): the compressed bytes get their
            // own, so a cache or a conditional request never mixes the two up.
            if (tag.size() >= 2 && tag.back() == '"')
                res.set_header("ETag", std::string(tag.substr(0, tag.size() - 1)) + "-gzip\"");
            else res.remove_header("etag");
        }
        std::string_view vary = res.header_value("vary");
        if (vary.empty()) res.header("Vary", "Accept-Encoding");
        else res.set_header("Vary", std::string(vary) + ", Accept-Encoding");
        co_return res;
    }

    /// One gzip member holding `data`; exposed for tests and for callers that precompress.
    static std::string compress(std::string_view data, int level) {
        deflater d(level);
        std::string out;
        d.run(data, Z_FINISH, out);
        return out;
    }

private:
    static bool accepts_gzip(std::string_view accept) noexcept {
        // As Starlette: any mention of gzip (q-values are not weighed).
        for (std::size_t i = 0; i + 4 <= accept.size(); ++i)
            if (iequals(accept.substr(i, 4), "gzip")) return true;
        return false;
    }

    // A z_stream set up for gzip output, ended whatever happens.
    class deflater {
    public:
        explicit deflater(int level) {
            if (deflateInit2(&z_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                throw std::invalid_argument("aster::gzip: level must be 0..9 (or -1), not " +
                                            std::to_string(level));
        }
        deflater(const deflater&) = delete;
        deflater& operator=(const deflater&) = delete;
        ~deflater() { deflateEnd(&z_); }

        // Appends the compressed form of `in` to `out`, then flushes as `flush` asks.
        void run(std::string_view in, int flush, std::string& out) {
            z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
            z_.avail_in = static_cast<uInt>(in.size());
            do {
                std::size_t had = out.size();
                std::size_t room = deflateBound(&z_, z_.avail_in) + 64;
                out.resize(had + room);
                z_.next_out = reinterpret_cast<Bytef*>(out.data() + had);
                z_.avail_out = static_cast<uInt>(room);
                int rc = deflate(&z_, flush);
                out.resize(had + room - z_.avail_out);
                if (rc == Z_STREAM_ERROR) throw std::runtime_error("aster::gzip: deflate failed");
            } while (z_.avail_out == 0 || z_.avail_in != 0);
        }

    private:
        z_stream z_{};
    };

    class gzip_writer final : public body_writer {
    public:
        gzip_writer(body_writer& out, int level) : out_(out), d_(level) {}
        task<> write(std::string_view chunk) override {
            if (chunk.empty()) co_return; // nothing to flush; an empty chunk would end the body
            buf_.clear();
            d_.run(chunk, Z_SYNC_FLUSH, buf_);
            co_await out_.write(buf_);
        }
        task<> finish() {
            buf_.clear();
            d_.run({}, Z_FINISH, buf_);
            co_await out_.write(buf_);
        }

    private:
        body_writer& out_;
        deflater d_;
        std::string buf_;
    };

    static task<> compress_stream(response::producer inner, int level, body_writer& out) {
        gzip_writer gz(out, level);
        co_await inner(gz);
        co_await gz.finish();
    }
};

#else

namespace detail {
template <class>
inline constexpr bool gzip_needs_zlib = false;
}

/// Without zlib (a build without ASTER_HAS_ZLIB) gzip cannot compress: using it fails to
/// compile with this message, while merely including the header does not.
struct gzip {
    std::size_t minimum_size = 500;
    int level = 6;

    template <class Request>
    task<response> operator()(Request&, call_next) const {
        static_assert(detail::gzip_needs_zlib<Request>,
                      "aster::gzip needs zlib: build with ASTER_HAS_ZLIB (CMake -DASTER_ZLIB=ON, "
                      "meson -Dzlib=enabled, by hand -DASTER_HAS_ZLIB and -lz; Debian: "
                      "zlib1g-dev)");
        co_return response{};
    }
};

#endif

} // namespace aster

#endif // ASTER_MIDDLEWARE_GZIP_HPP
// end aster/middleware/gzip.hpp
// begin aster/middleware/https_redirect.hpp
// SPDX-License-Identifier: MIT
// https_redirect: a 307 from http to https and ws to wss, as Starlette's HTTPSRedirectMiddleware.
#ifndef ASTER_MIDDLEWARE_HTTPS_REDIRECT_HPP
#define ASTER_MIDDLEWARE_HTTPS_REDIRECT_HPP


#include <optional>
#include <string>
#include <string_view>

namespace aster {

/// Requests that did not come over TLS get a 307 to the same URL with the scheme `https`
/// (`wss` for a WebSocket handshake, which is refused with that 307 before routing): the host
/// from the Host header, port 80 or 443 dropped and any other kept, the path and query as
/// sent. Requests already over TLS (`request::is_secure()`) pass through untouched. A request
/// without Host (only HTTP/1.0 may omit it) gets 400 "Missing Host header": there is no URL
/// to send it to.
/// @code
/// aster::application app{routes, aster::middleware(aster::https_redirect{})};
/// @endcode
struct https_redirect {
    task<response> operator()(request& req, call_next next) const {
        if (auto moved = check(req)) co_return std::move(*moved);
        co_return co_await next(req);
    }
    std::optional<response> on_websocket(request& req) const { return check(req); }

private:
    static std::optional<response> check(const request& req) {
        if (req.is_secure()) return std::nullopt;
        std::string_view host = req.header("host").value_or("");
        if (host.empty()) return plain_text("Missing Host header", status::bad_request);
        // The port follows the last ':' outside an IPv6 literal's brackets.
        auto colon = host.rfind(':');
        if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
            std::string_view port = host.substr(colon + 1);
            if (port == "80" || port == "443") host = host.substr(0, colon);
        }
        std::string location = req.is_websocket() ? "wss://" : "https://";
        location.append(host).append(req.raw_path());
        if (!req.query_string().empty()) location.append("?").append(req.query_string());
        return redirect(std::move(location), status::temporary_redirect);
    }
};

} // namespace aster

#endif // ASTER_MIDDLEWARE_HTTPS_REDIRECT_HPP
// end aster/middleware/https_redirect.hpp
// begin aster/middleware/trusted_host.hpp
// SPDX-License-Identifier: MIT
// trusted_host: refuses requests whose Host header is not allowed, as Starlette's
// TrustedHostMiddleware.
#ifndef ASTER_MIDDLEWARE_TRUSTED_HOST_HPP
#define ASTER_MIDDLEWARE_TRUSTED_HOST_HPP


#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace aster {

/// Answers 400 "Invalid host header" unless the Host (port ignored) is in `allowed_hosts`:
/// exact names, "*.example.com" for any subdomain, or "*" for all. With `www_redirect`, a
/// request for "example.com" when only "www.example.com" is allowed gets a 307 there.
/// WebSocket handshakes with a bad host are refused the same way (HTTP 400, before routing).
/// Throws std::invalid_argument for a wildcard anywhere but a leading "*.".
/// @code
/// aster::application app{routes, aster::middleware(aster::trusted_host{{"example.com",
/// "*.example.com"}})};
/// @endcode
class trusted_host {
public:
    explicit trusted_host(std::vector<std::string> allowed_hosts = {"*"}, bool www_redirect = true)
        : allowed_(std::move(allowed_hosts)), www_redirect_(www_redirect) {
        for (const auto& p : allowed_) {
            std::string_view v = p;
            if (v == "*") allow_any_ = true;
            else if (v.find('*', v.starts_with("*.") ? 1 : 0) != std::string_view::npos)
                throw std::invalid_argument("aster::trusted_host: domain wildcard patterns must "
                                            "be like '*.example.com', not '" +
                                            p + "'");
        }
    }

    task<response> operator()(request& req, call_next next) const {
        if (auto refusal = check(req)) co_return std::move(*refusal);
        co_return co_await next(req);
    }
    std::optional<response> on_websocket(request& req) const { return check(req); }

private:
    std::optional<response> check(const request& req) const {
        if (allow_any_) return std::nullopt;
        std::string_view full = req.header("host").value_or("");
        std::string_view host = full.substr(0, full.find(':'));
        bool www = false;
        for (std::string_view p : allowed_) {
            if (host == p || (p.starts_with('*') && host.ends_with(p.substr(1))))
                return std::nullopt;
            if (p.size() == host.size() + 4 && p.starts_with("www.") && p.substr(4) == host)
                www = true;
        }
        if (www && www_redirect_) {
            // The request's own scheme, so https (or wss) stays so.
            std::string location = std::string(req.scheme()) + "://www." + std::string(full) +
                                   std::string(req.raw_path());
            if (!req.query_string().empty()) location += "?" + std::string(req.query_string());
            return redirect(std::move(location));
        }
        return plain_text("Invalid host header", status::bad_request);
    }

    std::vector<std::string> allowed_;
    bool www_redirect_;
    bool allow_any_ = false;
};

} // namespace aster

#endif // ASTER_MIDDLEWARE_TRUSTED_HOST_HPP
// end aster/middleware/trusted_host.hpp
// begin aster/static_files.hpp
// SPDX-License-Identifier: MIT
// `static_files`: a directory served under a mount, through file_response, with no way out of it
// [staticfiles.py].
#ifndef ASTER_STATIC_FILES_HPP
#define ASTER_STATIC_FILES_HPP


#include <climits>
#include <cstdlib>
#include <string>
#include <string_view>

#include <sys/stat.h>

namespace aster {

struct static_options {
    bool html =
        false; // directories serve index.html (after a redirect to add '/'); misses 404.html
};

/// A directory to mount: `mount<"/static">(static_files{"public", {.html = true}})`. GET and
/// HEAD only (405 otherwise). A path with a `..`, `.` or empty segment, a backslash, a NUL,
/// an encoded `/` (`%2F`), `\` or NUL, or one that resolves (symlinks followed) outside the
/// directory answers 404, as does a missing file. The directory is resolved on each request.
struct static_files {
    std::string_view directory;
    static_options options{};
};

namespace detail {

// Why a request path cannot name a file inside the directory; empty when it may.
inline bool unsafe_static_path(std::string_view raw, std::string_view rest) {
    for (std::string_view bad : {"%2f", "%5c", "%00"})
        for (std::size_t i = 0; i + 3 <= raw.size(); ++i)
            if (iequals(raw.substr(i, 3), bad)) return true;
    if (rest.find('\\') != std::string_view::npos || rest.find('\0') != std::string_view::npos)
        return true;
    if (rest.empty()) return false;
    if (rest.front() == '/') return true; // "//etc/passwd": an absolute path
    std::string_view r = rest.ends_with('/') ? rest.substr(0, rest.size() - 1) : rest;
    while (true) {
        auto slash = r.find('/');
        auto seg = r.substr(0, slash);
        if (seg.empty() || seg == "." || seg == "..") return true;
        if (slash == std::string_view::npos) return false;
        r = r.substr(slash + 1);
    }
}

inline std::string resolve(const std::string& p) {
    char out[PATH_MAX];
    return ::realpath(p.c_str(), out) ? std::string(out) : std::string();
}

inline response serve_static(const static_files& files, request& req, std::string_view rest) {
    if (detail::unsafe_static_path(req.raw_path(), rest)) throw http_exception(status::not_found);
    const std::string root = resolve(std::string(files.directory));
    if (root.empty()) throw http_exception(status::not_found);
    auto not_found = [&]() -> response {
        if (files.options.html) {
            std::string page = root + "/404.html";
            struct stat st {};
            if (::stat(page.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
                response r = file_response(page);
                r.set_status(status::not_found);
                return r;
            }
        }
        throw http_exception(status::not_found);
    };
    std::string full = resolve(root + "/" + std::string(rest));
    // realpath followed every symlink: what it names must still lie under the root.
    if (full.empty() || (full != root && !full.starts_with(root + "/"))) return not_found();
    struct stat st {};
    if (::stat(full.c_str(), &st) != 0) return not_found();
    if (S_ISDIR(st.st_mode)) {
        if (!files.options.html) return not_found();
        if (!req.path().ends_with('/')) {
            std::string location(req.raw_path());
            location += '/';
            if (!req.query_string().empty()) location.append("?").append(req.query_string());
            return redirect(std::move(location));
        }
        std::string index = full + "/index.html";
        if (::stat(index.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return not_found();
        return file_response(req, index);
    }
    return file_response(req, full);
}

} // namespace detail

/// The route a static_files mount becomes; it fits a route table as any other route.
template <fixed_string Prefix, fixed_string Name = "">
struct static_files_route : detail::route_base<detail::concat<Prefix, "/{path:path}">(), Name> {
    static constexpr method allowed = method::get | method::head;
    static constexpr method allow_list = allowed;
    static constexpr bool runs_now = true;

    static_files files;

    // Everything under Prefix + '/': the rest (possibly empty) is the file's path.
    static bool match_path(std::string_view path, std::string_view* values) noexcept {
        constexpr std::string_view prefix = Prefix.view();
        if (path.size() <= prefix.size() || !path.starts_with(prefix) || path[prefix.size()] != '/')
            return false;
        values[0] = path.substr(prefix.size() + 1);
        return true;
    }
    static bool values_convert(std::span<const std::string_view>) { return true; }

    template <fixed_string NewName>
    constexpr auto named() const {
        return static_files_route<Prefix, NewName>{{}, files};
    }
    template <fixed_string Outer>
    constexpr auto mounted_at() const {
        return static_files_route<detail::concat<Outer, Prefix>(), Name>{{}, files};
    }
    response call_now(request& req) const {
        return detail::serve_static(files, req, req.path_param("path"));
    }
    task<response> invoke(request& req) const { co_return call_now(req); }
};

/// `mount<"/static">(static_files{"public"})`: serves the directory under the prefix.
template <fixed_string Prefix>
constexpr auto mount(const static_files& files) {
    static_assert(detail::check_pattern<Prefix>());
    static_assert(detail::pattern_of<Prefix>.param_count == 0,
                  "aster::mount: a mount prefix takes no parameters");
    static_assert(!Prefix.view().ends_with('/'),
                  "aster::mount: write the prefix without a trailing '/'");
    return static_files_route<Prefix>{{}, files};
}

} // namespace aster

#endif // ASTER_STATIC_FILES_HPP
// end aster/static_files.hpp
