// SPDX-License-Identifier: MIT
// The client side of a test WebSocket: masked frames out, messages in, every wait bounded.
#ifndef ASTER_TEST_WEBSOCKET_SESSION_HPP
#define ASTER_TEST_WEBSOCKET_SESSION_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/utf8.hpp>
#include <aster/detail/ws_deflate.hpp>
#include <aster/detail/ws_frame.hpp>
#include <aster/error.hpp>
#include <aster/test/client_base.hpp>

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
    bool compressed = false; // it came with RSV1 (permessage-deflate) and was inflated
    std::size_t wire_bytes = 0; // payload bytes as sent on the wire (compressed, if it was)
};

/// A WebSocket opened by `test_client::websocket_connect`. Sends are masked frames, as a real
/// client's; receives wait at most the client's timeout. When the server closes, receives throw
/// `websocket_disconnect` with its code and reason (or the app's own exception, if its handler
/// threw). Leaving scope closes with 1000 and waits for the server to finish.
class websocket_session {
public:
    websocket_session(detail::test_client_base& client, detail::test_connection connection,
                      std::vector<std::pair<std::string, std::string>> handshake_headers,
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
    const std::vector<std::pair<std::string, std::string>>& headers() const noexcept { return headers_; }
    std::optional<std::string> header(std::string_view name) const;
    bool closed() const noexcept { return closed_; }
    /// The code of the close frame the server sent (0 while open; 1006 if it dropped).
    std::uint16_t close_code() const noexcept { return close_code_; }
    void set_timeout(std::chrono::milliseconds t) noexcept { timeout_ = t; }
    /// Payloads of the pongs received so far (receives answer pings and skip pongs).
    const std::vector<std::string>& pongs() const noexcept { return pongs_; }

private:
    struct frame {
        detail::frame_header header;
        std::string payload;
    };
    std::optional<frame> next_frame(std::chrono::steady_clock::time_point deadline,
                                    std::string_view what);
    [[noreturn]] void server_closed(std::uint16_t code, std::string reason);
    void finish();
    void send_message(detail::opcode op, std::string_view payload);
    void inflate_into(std::string& out, std::string_view payload, bool fin);

    detail::test_client_base* client_;
    detail::test_connection connection_;
    std::vector<std::pair<std::string, std::string>> headers_;
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
};

inline websocket_session::websocket_session(
    detail::test_client_base& client, detail::test_connection connection,
    std::vector<std::pair<std::string, std::string>> handshake_headers,
    std::optional<detail::deflate_params> deflate)
    : client_(&client), connection_(std::move(connection)), headers_(std::move(handshake_headers)),
      timeout_(client.options_.timeout), deflate_(deflate) {
#ifdef ASTER_HAS_ZLIB
    // zlib's defaults on the client side, as browsers use.
    if (deflate_) codec_ = std::make_unique<detail::deflate_codec>(*deflate_, false, 8, 6);
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
      , codec_(std::move(other.codec_))
#endif
{
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
    if (!client_ || !connection_.client) throw std::logic_error("aster::websocket_session: moved from");
    connection_.client->send(bytes);
}

inline std::string websocket_session::compress(std::string_view message) {
#ifdef ASTER_HAS_ZLIB
    if (!codec_) throw std::logic_error("aster::websocket_session::compress: permessage-deflate "
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

inline void websocket_session::inflate_into(std::string& out, std::string_view payload, bool fin) {
#ifdef ASTER_HAS_ZLIB
    std::span<const std::uint8_t> rest(reinterpret_cast<const std::uint8_t*>(payload.data()),
                                       payload.size());
    detail::message_buffer inflated;
    auto status = detail::deflate_codec::status::more;
    while (status == detail::deflate_codec::status::more)
        status = codec_->inflate(rest, fin, inflated, std::size_t(-1));
    if (status != detail::deflate_codec::status::ok)
        throw std::runtime_error("aster::websocket_session: the server sent invalid compressed data");
    out.append(inflated.view());
#else
    (void)out, (void)payload, (void)fin;
#endif
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

inline std::optional<websocket_session::frame>
websocket_session::next_frame(std::chrono::steady_clock::time_point deadline, std::string_view what) {
    for (;;) {
        auto& buffer = connection_.leftover;
        std::span<const std::uint8_t> available(reinterpret_cast<const std::uint8_t*>(buffer.data()),
                                                buffer.size());
        detail::frame_header h{};
        detail::frame_error why{};
        // Frames from a server are never masked (RFC 6455 §5.1); RSV1 only under deflate.
        auto result = detail::parse_frame_header(available, h, why, false, deflate_.has_value());
        if (result == detail::frame_parse_result::protocol_error)
            throw std::runtime_error("aster::websocket_session: the server sent an invalid frame");
        if (result == detail::frame_parse_result::ok &&
            available.size() >= h.header_size + h.payload_length) {
            frame f{h, buffer.substr(h.header_size, std::size_t(h.payload_length))};
            buffer.erase(0, h.header_size + std::size_t(h.payload_length));
            return f;
        }
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
    received_message message;
    bool in_message = false;
    for (;;) {
        auto f = next_frame(deadline, "websocket receive");
        if (!f) server_closed(1006, "the server dropped the connection without a close frame");
        switch (f->header.op) {
        case detail::opcode::ping:
            if (!sent_close_) send_frame(detail::opcode::pong, f->payload, true);
            continue;
        case detail::opcode::pong:
            pongs_.push_back(std::move(f->payload));
            continue;
        case detail::opcode::close: {
            detail::close_payload parsed{};
            auto kind = detail::parse_close_payload(
                std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(f->payload.data()),
                                              f->payload.size()),
                parsed);
            if (kind == detail::close_parse::invalid)
                throw std::runtime_error("aster::websocket_session: invalid close frame from the server");
            std::uint16_t code = kind == detail::close_parse::empty ? 1005 : parsed.code;
            std::string reason(kind == detail::close_parse::empty ? std::string_view() : parsed.reason);
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
        case detail::opcode::text:
        case detail::opcode::binary:
            message.text = f->header.op == detail::opcode::text;
            message.compressed = f->header.rsv1;
            message.wire_bytes = f->payload.size();
            if (message.compressed) inflate_into(message.data, f->payload, f->header.fin);
            else message.data = std::move(f->payload);
            if (f->header.fin) return message;
            in_message = true;
            continue;
        case detail::opcode::continuation:
            if (!in_message)
                throw std::runtime_error("aster::websocket_session: continuation without a message");
            message.wire_bytes += f->payload.size();
            if (message.compressed) inflate_into(message.data, f->payload, f->header.fin);
            else message.data += f->payload;
            if (f->header.fin) return message;
            continue;
        default:
            throw std::runtime_error("aster::websocket_session: unknown opcode from the server");
        }
    }
}

inline std::string websocket_session::receive_text() {
    auto m = receive();
    if (!m.text) throw std::runtime_error("aster::websocket_session: expected text, got a binary message");
    return std::move(m.data);
}

inline std::string websocket_session::receive_bytes() {
    auto m = receive();
    if (m.text) throw std::runtime_error("aster::websocket_session: expected binary, got a text message");
    return std::move(m.data);
}

inline void websocket_session::close(std::uint16_t code, std::string_view reason) {
    if (!client_ || closed_) return;
    if (!sent_close_) {
        std::uint8_t body[125];
        std::size_t n = detail::encode_close_payload(body, code, reason);
        send_frame(detail::opcode::close, std::string_view(reinterpret_cast<const char*>(body), n), true);
        sent_close_ = true;
    }
    // Wait for the server's close frame; data frames still in flight are dropped.
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (;;) {
        auto f = next_frame(deadline, "websocket close");
        if (!f) {
            closed_ = true;
            close_code_ = 1006;
            break;
        }
        if (f->header.op == detail::opcode::close) {
            detail::close_payload parsed{};
            auto kind = detail::parse_close_payload(
                std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(f->payload.data()),
                                              f->payload.size()),
                parsed);
            closed_ = true;
            close_code_ = kind == detail::close_parse::ok ? parsed.code : 1005;
            break;
        }
    }
    finish();
    client_->rethrow_server_exception();
}

} // namespace aster

#endif // ASTER_TEST_WEBSOCKET_SESSION_HPP
