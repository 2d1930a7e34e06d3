// SPDX-License-Identifier: MIT
// An in-memory duplex AsyncStream: two connected ends, a cap on bytes per read, injected failures.
#ifndef ASTER_TEST_STREAM_HPP
#define ASTER_TEST_STREAM_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/asio.hpp>

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
