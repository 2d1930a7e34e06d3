// SPDX-License-Identifier: MIT
// Tests for aster/status.hpp: enumerator values, reason phrases and the Starlette aliases.
#include <aster/status.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <set>
#include <sstream>
#include <string_view>

namespace status_test {

// Written out by hand from Starlette's status.py and Python's http.HTTPStatus, independently of
// the header's table, so a typo in either shows up as a mismatch.
struct http_row {
    aster::status alias;
    std::uint16_t number;
    std::string_view phrase;
};

struct ws_row {
    aster::close_code alias;
    std::uint16_t number;
    std::string_view name;
};

using namespace aster::status_codes;

inline const http_row http_rows[] = {
    {HTTP_100_CONTINUE, 100, "Continue"},
    {HTTP_101_SWITCHING_PROTOCOLS, 101, "Switching Protocols"},
    {HTTP_102_PROCESSING, 102, "Processing"},
    {HTTP_103_EARLY_HINTS, 103, "Early Hints"},
    {HTTP_200_OK, 200, "OK"},
    {HTTP_201_CREATED, 201, "Created"},
    {HTTP_202_ACCEPTED, 202, "Accepted"},
    {HTTP_203_NON_AUTHORITATIVE_INFORMATION, 203, "Non-Authoritative Information"},
    {HTTP_204_NO_CONTENT, 204, "No Content"},
    {HTTP_205_RESET_CONTENT, 205, "Reset Content"},
    {HTTP_206_PARTIAL_CONTENT, 206, "Partial Content"},
    {HTTP_207_MULTI_STATUS, 207, "Multi-Status"},
    {HTTP_208_ALREADY_REPORTED, 208, "Already Reported"},
    {HTTP_226_IM_USED, 226, "IM Used"},
    {HTTP_300_MULTIPLE_CHOICES, 300, "Multiple Choices"},
    {HTTP_301_MOVED_PERMANENTLY, 301, "Moved Permanently"},
    {HTTP_302_FOUND, 302, "Found"},
    {HTTP_303_SEE_OTHER, 303, "See Other"},
    {HTTP_304_NOT_MODIFIED, 304, "Not Modified"},
    {HTTP_305_USE_PROXY, 305, "Use Proxy"},
    {HTTP_306_RESERVED, 306, "Reserved"},
    {HTTP_307_TEMPORARY_REDIRECT, 307, "Temporary Redirect"},
    {HTTP_308_PERMANENT_REDIRECT, 308, "Permanent Redirect"},
    {HTTP_400_BAD_REQUEST, 400, "Bad Request"},
    {HTTP_401_UNAUTHORIZED, 401, "Unauthorized"},
    {HTTP_402_PAYMENT_REQUIRED, 402, "Payment Required"},
    {HTTP_403_FORBIDDEN, 403, "Forbidden"},
    {HTTP_404_NOT_FOUND, 404, "Not Found"},
    {HTTP_405_METHOD_NOT_ALLOWED, 405, "Method Not Allowed"},
    {HTTP_406_NOT_ACCEPTABLE, 406, "Not Acceptable"},
    {HTTP_407_PROXY_AUTHENTICATION_REQUIRED, 407, "Proxy Authentication Required"},
    {HTTP_408_REQUEST_TIMEOUT, 408, "Request Timeout"},
    {HTTP_409_CONFLICT, 409, "Conflict"},
    {HTTP_410_GONE, 410, "Gone"},
    {HTTP_411_LENGTH_REQUIRED, 411, "Length Required"},
    {HTTP_412_PRECONDITION_FAILED, 412, "Precondition Failed"},
    {HTTP_413_REQUEST_ENTITY_TOO_LARGE, 413, "Request Entity Too Large"},
    {HTTP_414_REQUEST_URI_TOO_LONG, 414, "Request-URI Too Long"},
    {HTTP_415_UNSUPPORTED_MEDIA_TYPE, 415, "Unsupported Media Type"},
    {HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE, 416, "Requested Range Not Satisfiable"},
    {HTTP_417_EXPECTATION_FAILED, 417, "Expectation Failed"},
    {HTTP_418_IM_A_TEAPOT, 418, "I'm a Teapot"},
    {HTTP_421_MISDIRECTED_REQUEST, 421, "Misdirected Request"},
    {HTTP_422_UNPROCESSABLE_ENTITY, 422, "Unprocessable Entity"},
    {HTTP_423_LOCKED, 423, "Locked"},
    {HTTP_424_FAILED_DEPENDENCY, 424, "Failed Dependency"},
    {HTTP_425_TOO_EARLY, 425, "Too Early"},
    {HTTP_426_UPGRADE_REQUIRED, 426, "Upgrade Required"},
    {HTTP_428_PRECONDITION_REQUIRED, 428, "Precondition Required"},
    {HTTP_429_TOO_MANY_REQUESTS, 429, "Too Many Requests"},
    {HTTP_431_REQUEST_HEADER_FIELDS_TOO_LARGE, 431, "Request Header Fields Too Large"},
    {HTTP_451_UNAVAILABLE_FOR_LEGAL_REASONS, 451, "Unavailable For Legal Reasons"},
    {HTTP_500_INTERNAL_SERVER_ERROR, 500, "Internal Server Error"},
    {HTTP_501_NOT_IMPLEMENTED, 501, "Not Implemented"},
    {HTTP_502_BAD_GATEWAY, 502, "Bad Gateway"},
    {HTTP_503_SERVICE_UNAVAILABLE, 503, "Service Unavailable"},
    {HTTP_504_GATEWAY_TIMEOUT, 504, "Gateway Timeout"},
    {HTTP_505_HTTP_VERSION_NOT_SUPPORTED, 505, "HTTP Version Not Supported"},
    {HTTP_506_VARIANT_ALSO_NEGOTIATES, 506, "Variant Also Negotiates"},
    {HTTP_507_INSUFFICIENT_STORAGE, 507, "Insufficient Storage"},
    {HTTP_508_LOOP_DETECTED, 508, "Loop Detected"},
    {HTTP_510_NOT_EXTENDED, 510, "Not Extended"},
    {HTTP_511_NETWORK_AUTHENTICATION_REQUIRED, 511, "Network Authentication Required"},
};

inline const ws_row ws_rows[] = {
    {WS_1000_NORMAL_CLOSURE, 1000, "normal_closure"},
    {WS_1001_GOING_AWAY, 1001, "going_away"},
    {WS_1002_PROTOCOL_ERROR, 1002, "protocol_error"},
    {WS_1003_UNSUPPORTED_DATA, 1003, "unsupported_data"},
    {WS_1005_NO_STATUS_RCVD, 1005, "no_status_rcvd"},
    {WS_1006_ABNORMAL_CLOSURE, 1006, "abnormal_closure"},
    {WS_1007_INVALID_FRAME_PAYLOAD_DATA, 1007, "invalid_frame_payload_data"},
    {WS_1008_POLICY_VIOLATION, 1008, "policy_violation"},
    {WS_1009_MESSAGE_TOO_BIG, 1009, "message_too_big"},
    {WS_1010_MANDATORY_EXT, 1010, "mandatory_ext"},
    {WS_1011_INTERNAL_ERROR, 1011, "internal_error"},
    {WS_1012_SERVICE_RESTART, 1012, "service_restart"},
    {WS_1013_TRY_AGAIN_LATER, 1013, "try_again_later"},
    {WS_1014_BAD_GATEWAY, 1014, "bad_gateway"},
    {WS_1015_TLS_HANDSHAKE, 1015, "tls_handshake"},
};

} // namespace status_test

TEST_CASE("status: every Starlette HTTP alias has its number and phrase", "[status]") {
    REQUIRE(std::size(status_test::http_rows) == 63);
    std::set<std::uint16_t> seen;
    for (const auto& row : status_test::http_rows) {
        INFO("code " << row.number);
        CHECK(aster::code(row.alias) == row.number);
        CHECK(aster::reason(row.alias) == row.phrase);
        CHECK(aster::reason(row.number) == row.phrase);
        CHECK(aster::is_valid(row.alias));
        seen.insert(row.number);
    }
    CHECK(seen.size() == 63);
}

TEST_CASE("status: exactly the 63 listed codes are valid", "[status]") {
    int named = 0;
    for (int n = 0; n < 1000; ++n) {
        auto s = aster::status(static_cast<std::uint16_t>(n));
        if (aster::is_valid(s)) {
            ++named;
            CHECK(aster::reason(s) != "Unknown");
        } else {
            CHECK(aster::reason(s) == "Unknown");
        }
    }
    CHECK(named == 63);
}

TEST_CASE("status: enumerators carry protocol values", "[status]") {
    STATIC_REQUIRE(aster::code(aster::status::continue_) == 100);
    STATIC_REQUIRE(aster::code(aster::status::ok) == 200);
    STATIC_REQUIRE(aster::code(aster::status::im_used) == 226);
    STATIC_REQUIRE(aster::code(aster::status::reserved) == 306);
    STATIC_REQUIRE(aster::code(aster::status::not_found) == 404);
    STATIC_REQUIRE(aster::code(aster::status::request_entity_too_large) == 413);
    STATIC_REQUIRE(aster::code(aster::status::request_uri_too_long) == 414);
    STATIC_REQUIRE(aster::code(aster::status::im_a_teapot) == 418);
    STATIC_REQUIRE(aster::code(aster::status::request_header_fields_too_large) == 431);
    STATIC_REQUIRE(aster::code(aster::status::network_authentication_required) == 511);
    STATIC_REQUIRE(sizeof(aster::status) == 2);
}

TEST_CASE("status: reason phrases are constexpr and match http.HTTPStatus", "[status]") {
    STATIC_REQUIRE(aster::reason(aster::status::ok) == "OK");
    STATIC_REQUIRE(aster::reason(aster::status::method_not_allowed) == "Method Not Allowed");
    STATIC_REQUIRE(aster::reason(414) == "Request-URI Too Long");
    CHECK(aster::reason(aster::status::requested_range_not_satisfiable) ==
          "Requested Range Not Satisfiable");
    CHECK(aster::reason(aster::status::unprocessable_entity) == "Unprocessable Entity");
    CHECK(aster::reason(aster::status::im_a_teapot) == "I'm a Teapot");
}

TEST_CASE("status: unlisted codes are Unknown", "[status]") {
    STATIC_REQUIRE(aster::reason(599) == "Unknown");
    STATIC_REQUIRE(!aster::is_valid(aster::status(419)));
    CHECK(aster::reason(0) == "Unknown");
    CHECK(aster::reason(427) == "Unknown");
    CHECK(aster::reason(509) == "Unknown");
    CHECK(aster::reason(aster::status(1000)) == "Unknown");
    CHECK(aster::code(aster::status(599)) == 599);
}

TEST_CASE("status: every Starlette WebSocket alias has its close code", "[status]") {
    REQUIRE(std::size(status_test::ws_rows) == 15);
    for (const auto& row : status_test::ws_rows) {
        INFO("close code " << row.number);
        CHECK(aster::code(row.alias) == row.number);
        CHECK(aster::to_string(row.alias) == row.name);
    }
    STATIC_REQUIRE(aster::code(aster::close_code::normal_closure) == 1000);
    STATIC_REQUIRE(aster::code(aster::close_code::no_status_rcvd) == 1005);
    STATIC_REQUIRE(aster::code(aster::close_code::internal_error) == 1011);
    STATIC_REQUIRE(aster::code(aster::close_code::tls_handshake) == 1015);
    STATIC_REQUIRE(sizeof(aster::close_code) == 2);
}

TEST_CASE("status: unnamed close codes have an empty name", "[status]") {
    CHECK(aster::to_string(aster::close_code(1004)).empty());
    CHECK(aster::to_string(aster::close_code(4001)).empty());
    CHECK(aster::code(aster::close_code(4001)) == 4001);
}

TEST_CASE("status: codes print with their reason or name on any stream", "[status]") {
    // Catch finds the operator<< too, so a failed CHECK shows these in every test file alike.
    CHECK(Catch::Detail::stringify(aster::status::not_found) == "404 Not Found");
    CHECK(Catch::Detail::stringify(aster::status(599)) == "599 Unknown");
    CHECK(Catch::Detail::stringify(aster::close_code::internal_error) == "1011 internal_error");
    CHECK(Catch::Detail::stringify(aster::close_code(4001)) == "4001");
    std::ostringstream os;
    os << aster::status::created << ", " << aster::close_code::going_away;
    CHECK(os.str() == "201 Created, 1001 going_away");
}
