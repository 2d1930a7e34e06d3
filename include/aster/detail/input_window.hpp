// SPDX-License-Identifier: MIT
// input_window: a connection's read buffer and where in it the work stands.
#ifndef ASTER_DETAIL_INPUT_WINDOW_HPP
#define ASTER_DETAIL_INPUT_WINDOW_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/read_buffer.hpp>

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
