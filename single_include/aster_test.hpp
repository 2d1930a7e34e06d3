// aster single header, generated from include/ by tools/amalgamate.py: do not edit
// version 0.1.0
// aster's test helpers for Catch2; the rest of aster is in aster.hpp
#include "aster.hpp"
// begin aster/test/catch.hpp
// SPDX-License-Identifier: MIT
// Catch2 v2 helpers: readable printing of test_client results, and matchers for them.
#ifndef ASTER_TEST_CATCH_HPP
#define ASTER_TEST_CATCH_HPP


#if __has_include(<catch2/catch.hpp>)
#include <catch2/catch.hpp>
#else
#error "aster/test/catch.hpp needs Catch2 v2 (<catch2/catch.hpp>; Debian: catch2)"
#endif

#ifdef ASTER_HAS_JSON
#include <nlohmann/json.hpp>
#endif

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

/// Not included by aster.hpp. With it, a failed assertion prints a `test_response` as status
/// line, headers and body (cut after `max_printed_body` bytes), and a `received_message` as its
/// kind and data; and these matchers apply. (`status`, `close_code` and `websocket_disconnect`
/// print readably without it.) Include it in every test file that prints these types, or in
/// none: Catch requires a StringMaker specialization to be seen before any use of the type.
/// @code
/// #include <aster/test/catch.hpp>
/// CHECK_THAT(client.get("/nope"), aster::test::has_status(aster::status::not_found));
/// CHECK_THAT(r, has_status(200) && has_header("content-type", "application/json"));
/// CHECK_THAT(r, is_json(R"({"id": 7})"));  // parsed values compared (with nlohmann/json)
/// CHECK_THROWS_MATCHES(ws.receive_text(), aster::websocket_disconnect, closed_with(1011));
/// @endcode
namespace aster::test {

/// Body bytes printed before the rest is summarised as "... (N more bytes)".
inline constexpr std::size_t max_printed_body = 512;

namespace detail {

// `text` as it can be shown on a terminal: well-formed UTF-8, tabs and newlines as they are;
// other control bytes, and bytes that are not UTF-8, as \xNN.
inline std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        std::size_t ok = aster::detail::utf8_valid_prefix(text);
        for (char c : text.substr(0, ok)) {
            auto byte = static_cast<unsigned char>(c);
            if (byte < 0x20 && c != '\n' && c != '\t') {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
                out += escaped;
            } else if (byte == 0x7F) {
                out += "\\x7F";
            } else {
                out += c;
            }
        }
        text.remove_prefix(ok);
        if (!text.empty()) { // a byte that does not start well-formed UTF-8 here
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02X", static_cast<unsigned char>(text[0]));
            out += escaped;
            text.remove_prefix(1);
        }
    }
    return out;
}

// The first max_printed_body bytes of `body`, cut before a UTF-8 sequence rather than inside one.
inline std::string printable_body(std::string_view body) {
    if (body.size() <= max_printed_body) return printable(body);
    std::size_t cut = max_printed_body;
    for (int i = 0; i < 3 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80; ++i) --cut;
    return printable(body.substr(0, cut)) + "... (" + std::to_string(body.size() - cut) +
           " more bytes, " + std::to_string(body.size()) + " in all)";
}

inline std::string status_line(int code) {
    return std::to_string(code) + " " +
           std::string(aster::reason(static_cast<std::uint16_t>(code)));
}

inline std::string close_code_text(std::uint16_t code) {
    auto name = aster::to_string(static_cast<aster::close_code>(code));
    return name.empty() ? std::to_string(code) : std::to_string(code) + " " + std::string(name);
}

} // namespace detail

/// Matches a `test_response` whose status is `expected`: "has status 404 Not Found".
class has_status : public Catch::MatcherBase<test_response> {
public:
    explicit has_status(int expected) : expected_(expected) {}
    explicit has_status(aster::status expected) : expected_(aster::code(expected)) {}
    bool match(const test_response& r) const override { return r.status_code == expected_; }
    std::string describe() const override { return "has status " + detail::status_line(expected_); }

private:
    int expected_;
};

/// Matches a `test_response` with header `name` (any case), or with one whose value is exactly
/// `value`: "has header content-type: text/plain".
class has_header : public Catch::MatcherBase<test_response> {
public:
    explicit has_header(std::string name) : name_(std::move(name)) {}
    has_header(std::string name, std::string value)
        : name_(std::move(name)), value_(std::move(value)) {}
    bool match(const test_response& r) const override {
        if (!value_) return r.header(name_).has_value();
        for (const auto& v : r.header_values(name_))
            if (v == *value_) return true;
        return false;
    }
    std::string describe() const override {
        return "has header " + name_ + (value_ ? ": " + detail::printable(*value_) : std::string());
    }

private:
    std::string name_;
    std::optional<std::string> value_;
};

/// Matches a `websocket_disconnect` with close code `expected` (and, when given, exactly that
/// reason): "closed with 1011 internal_error".
class closed_with : public Catch::MatcherBase<websocket_disconnect> {
public:
    explicit closed_with(std::uint16_t expected) : expected_(expected) {}
    explicit closed_with(aster::close_code expected) : expected_(aster::code(expected)) {}
    closed_with(std::uint16_t expected, std::string reason)
        : expected_(expected), reason_(std::move(reason)) {}
    bool match(const websocket_disconnect& e) const override {
        return e.code() == expected_ && (!reason_ || e.reason() == *reason_);
    }
    std::string describe() const override {
        return "closed with " + detail::close_code_text(expected_) +
               (reason_ ? ", reason \"" + *reason_ + "\"" : std::string());
    }

private:
    std::uint16_t expected_;
    std::optional<std::string> reason_;
};

#ifdef ASTER_HAS_JSON
/// Matches a `test_response` whose body parses as JSON equal to `expected` (also JSON text), so
/// spacing and key order do not matter: "is JSON equal to {"a":1}". Throws std::invalid_argument
/// if `expected` is not JSON.
class is_json : public Catch::MatcherBase<test_response> {
public:
    explicit is_json(std::string_view expected)
        : expected_(nlohmann::json::parse(expected, nullptr, false)) {
        if (expected_.is_discarded())
            throw std::invalid_argument("aster::test::is_json: not JSON: " + std::string(expected));
    }
    bool match(const test_response& r) const override {
        auto body = nlohmann::json::parse(r.body, nullptr, false);
        return !body.is_discarded() && body == expected_;
    }
    std::string describe() const override { return "is JSON equal to " + expected_.dump(); }

private:
    nlohmann::json expected_;
};
#endif

} // namespace aster::test

namespace Catch {

/// "200 OK", one "name: value" line per header, a blank line and the body, as on the wire; the
/// trailing newline puts a matcher's description on a line of its own.
template <>
struct StringMaker<aster::test_response> {
    static std::string convert(const aster::test_response& r) {
        using aster::test::detail::printable;
        std::string out = aster::test::detail::status_line(r.status_code) + "\n";
        for (const auto& [name, value] : r.headers)
            out += printable(name) + ": " + printable(value) + "\n";
        // The blank line holds a space: Catch's console reporter drops the indentation of the
        // line after an empty one.
        out += " \n";
        out += r.body.empty() ? "(no body)" : aster::test::detail::printable_body(r.body);
        return out + "\n";
    }
};

template <>
struct StringMaker<aster::received_message> {
    static std::string convert(const aster::received_message& m) {
        return std::string(m.text ? "text" : "binary") + " message of " +
               std::to_string(m.data.size()) + " bytes: \"" +
               aster::test::detail::printable_body(m.data) + "\"";
    }
};

} // namespace Catch

#endif // ASTER_TEST_CATCH_HPP
// end aster/test/catch.hpp
