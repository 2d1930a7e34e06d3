// SPDX-License-Identifier: MIT
// What every fuzz harness shares: a reader over the fuzzer's bytes and a loud failure.
#ifndef ASTER_TESTS_FUZZ_SUPPORT_FUZZ_HPP
#define ASTER_TESTS_FUZZ_SUPPORT_FUZZ_HPP

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// Each harness defines this; libFuzzer calls it, or support/replay_main.cpp does without libFuzzer.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace aster_fuzz {

// An invariant broke: print it and abort, so libFuzzer keeps the input as a crash artifact.
[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
    std::fprintf(stderr, "aster fuzz invariant broken: %s\n", what);
    if (!detail.empty())
        std::fprintf(stderr, "  detail (%zu bytes): %.*s\n", detail.size(),
                     int(detail.size() > 400 ? 400 : detail.size()), detail.data());
    std::abort();
}

#define ASTER_FUZZ_CHECK(cond, ...)                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ::aster_fuzz::fail("CHECK(" #cond ") at line " ASTER_FUZZ_STR(__LINE__) __VA_OPT__(, ) \
                                   __VA_ARGS__);                                                   \
    } while (0)
#define ASTER_FUZZ_STR(x) ASTER_FUZZ_STR2(x)
#define ASTER_FUZZ_STR2(x) #x

// Consumes the fuzzer's bytes front to back; past the end everything reads as zero/empty.
class input {
public:
    input(const std::uint8_t* data, std::size_t size)
        : data_(reinterpret_cast<const char*>(data)), size_(size) {}

    bool empty() const noexcept { return pos_ >= size_; }
    std::size_t left() const noexcept { return size_ - pos_; }
    std::uint8_t byte() noexcept { return empty() ? 0 : std::uint8_t(data_[pos_++]); }
    std::uint16_t u16() noexcept { return std::uint16_t(byte() << 8 | byte()); }
    bool flag() noexcept { return byte() & 1; }
    // Up to `max` bytes, the length taken from the next byte.
    std::string_view bytes(std::size_t max) noexcept {
        std::size_t n = byte();
        if (n > max) n = max;
        return take(n);
    }
    // A string ending at the next 0 byte (or the end): lets a dictionary word stay whole.
    std::string_view until_nul() noexcept {
        std::size_t start = pos_;
        while (pos_ < size_ && data_[pos_] != 0) ++pos_;
        std::string_view out(data_ + start, pos_ - start);
        if (pos_ < size_) ++pos_;
        return out;
    }
    std::string_view take(std::size_t n) noexcept {
        if (n > left()) n = left();
        std::string_view out(data_ + pos_, n);
        pos_ += n;
        return out;
    }
    std::string_view rest() noexcept { return take(left()); }

private:
    const char* data_;
    std::size_t size_, pos_ = 0;
};

} // namespace aster_fuzz

#endif // ASTER_TESTS_FUZZ_SUPPORT_FUZZ_HPP
