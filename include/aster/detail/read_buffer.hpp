// SPDX-License-Identifier: MIT
// read_buffer: a connection's input bytes, in blocks shared through a per-thread pool.
#ifndef ASTER_DETAIL_READ_BUFFER_HPP
#define ASTER_DETAIL_READ_BUFFER_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/connection_registry.hpp>
#include <aster/detail/memory_budget.hpp>
#include <aster/detail/stream.hpp>
#include <aster/task.hpp>

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
