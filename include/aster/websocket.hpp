// SPDX-License-Identifier: MIT
// `websocket`: what a WebSocket handler sees: accept, receive, send and close, with a state
// machine.
#ifndef ASTER_WEBSOCKET_HPP
#define ASTER_WEBSOCKET_HPP

#include <aster/detail/config.hpp>
#include <aster/error.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>
#include <aster/status.hpp>
#include <aster/task.hpp>
#include <aster/topics.hpp>

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
