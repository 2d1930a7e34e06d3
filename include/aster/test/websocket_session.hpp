// SPDX-License-Identifier: MIT
// The client side of a test WebSocket: masked frames out, messages in, every wait bounded.
#ifndef ASTER_TEST_WEBSOCKET_SESSION_HPP
#define ASTER_TEST_WEBSOCKET_SESSION_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/utf8.hpp>
#include <aster/detail/ws_deflate.hpp>
#include <aster/detail/ws_frame.hpp>
#include <aster/detail/ws_reader.hpp>
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
