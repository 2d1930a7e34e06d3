// SPDX-License-Identifier: MIT
// Exceptions the user-facing API throws and the framework turns into responses.
#ifndef ASTER_ERROR_HPP
#define ASTER_ERROR_HPP

#include <aster/detail/config.hpp>
#include <aster/headers.hpp>
#include <aster/status.hpp>

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
