// SPDX-License-Identifier: MIT
// HTTP status codes, WebSocket close codes, reason phrases and Starlette-named aliases [status.py].
#ifndef ASTER_STATUS_HPP
#define ASTER_STATUS_HPP

#include <aster/detail/config.hpp>

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
