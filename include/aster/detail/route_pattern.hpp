// SPDX-License-Identifier: MIT
// Route patterns parsed at compile time into literal and parameter tokens, and matched at run time.
#ifndef ASTER_DETAIL_ROUTE_PATTERN_HPP
#define ASTER_DETAIL_ROUTE_PATTERN_HPP

#include <aster/detail/config.hpp>
#include <aster/convertors.hpp>
#include <aster/detail/fixed_string.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>
#include <type_traits>

namespace aster::detail {

enum class pattern_error {
    none,
    not_absolute,      // must start with '/'
    unbalanced_brace,  // '{' without '}', '}' without '{', or nested braces
    bad_name,          // parameter name empty or not an identifier
    unknown_convertor, // not one of str, int, float, uuid, path
    duplicate_name,    // the same parameter twice
    adjacent_params,   // "{a}{b}": no literal to tell where one ends
};

struct pattern_token {
    bool is_param = false;
    std::string_view text; // literal text, or the parameter's name
    convertor conv = convertor::str;
    std::size_t param_index = 0;
};

template <std::size_t MaxTokens>
struct parsed_pattern {
    std::array<pattern_token, MaxTokens> tokens{};
    std::size_t token_count = 0;
    std::size_t param_count = 0;
    pattern_error error = pattern_error::none;

    constexpr const pattern_token& param(std::size_t index) const noexcept {
        for (std::size_t i = 0; i < token_count; ++i)
            if (tokens[i].is_param && tokens[i].param_index == index) return tokens[i];
        return tokens[0];
    }
};

// Hand-written instead of string_view::find/==: g++ 12 cannot constant-evaluate those on a
// template parameter object under -fsanitize=undefined, and sanitizer builds must compile.
constexpr std::size_t find_char(std::string_view s, char c, std::size_t from = 0) noexcept {
    for (std::size_t i = from; i < s.size(); ++i)
        if (s[i] == c) return i;
    return std::string_view::npos;
}

constexpr bool same_text(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) return false;
    return true;
}

constexpr std::size_t max_pattern_tokens(std::string_view p) noexcept {
    std::size_t braces = 0;
    for (char c : p) braces += c == '{';
    return braces * 2 + 1;
}

constexpr bool is_identifier(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

constexpr bool parse_convertor(std::string_view name, convertor& out) noexcept {
    if (same_text(name, "str")) out = convertor::str;
    else if (same_text(name, "int")) out = convertor::int_;
    else if (same_text(name, "float")) out = convertor::float_;
    else if (same_text(name, "uuid")) out = convertor::uuid;
    else if (same_text(name, "path")) out = convertor::path;
    else return false;
    return true;
}

template <std::size_t MaxTokens>
constexpr parsed_pattern<MaxTokens> parse_pattern(std::string_view p) noexcept {
    parsed_pattern<MaxTokens> out;
    auto fail = [&](pattern_error e) {
        out.error = e;
        return out;
    };
    if (p.empty() || p[0] != '/') return fail(pattern_error::not_absolute);
    std::size_t literal_start = 0;
    for (std::size_t i = 0; i < p.size();) {
        if (p[i] == '}') return fail(pattern_error::unbalanced_brace);
        if (p[i] != '{') {
            ++i;
            continue;
        }
        if (i > literal_start)
            out.tokens[out.token_count++] = {false, p.substr(literal_start, i - literal_start)};
        else if (out.token_count > 0 && out.tokens[out.token_count - 1].is_param)
            return fail(pattern_error::adjacent_params);
        auto close = find_char(p, '}', i);
        if (close == std::string_view::npos) return fail(pattern_error::unbalanced_brace);
        auto inner = p.substr(i + 1, close - i - 1);
        if (find_char(inner, '{') != std::string_view::npos)
            return fail(pattern_error::unbalanced_brace);
        auto colon = find_char(inner, ':');
        auto name = inner.substr(0, colon);
        convertor conv = convertor::str;
        if (!is_identifier(name)) return fail(pattern_error::bad_name);
        if (colon != std::string_view::npos && !parse_convertor(inner.substr(colon + 1), conv))
            return fail(pattern_error::unknown_convertor);
        for (std::size_t t = 0; t < out.token_count; ++t)
            if (out.tokens[t].is_param && same_text(out.tokens[t].text, name))
                return fail(pattern_error::duplicate_name);
        out.tokens[out.token_count++] = {true, name, conv, out.param_count++};
        i = close + 1;
        literal_start = i;
    }
    if (literal_start < p.size()) out.tokens[out.token_count++] = {false, p.substr(literal_start)};
    return out;
}

/// The parsed form of one pattern, computed once per distinct pattern.
template <fixed_string Pattern>
inline constexpr auto
    pattern_of = parse_pattern<max_pattern_tokens(Pattern.view())>(Pattern.view());

// Two patterns match exactly the same paths when their tokens agree up to parameter names.
template <std::size_t A, std::size_t B>
constexpr bool same_shape(const parsed_pattern<A>& a, const parsed_pattern<B>& b) noexcept {
    if (a.token_count != b.token_count) return false;
    for (std::size_t i = 0; i < a.token_count; ++i) {
        const auto &x = a.tokens[i], &y = b.tokens[i];
        if (x.is_param != y.is_param) return false;
        if (x.is_param ? x.conv != y.conv : !same_text(x.text, y.text)) return false;
    }
    return true;
}

// Matching follows the regexes Starlette compiles its patterns into: each parameter takes the
// longest extent that lets the rest match. Trying every split recursively is O(n^k) on a hostile
// path ("/{a}-{b}-{c}" against 8 KiB of '-'), so the matcher first works out, right to left, the
// offsets from which the rest of the pattern matches (a bitset per parameter but the last, whose
// set is one offset), then gives each parameter, left to right, the largest end in its set:
// the extents the backtracking would find, in O(n * (parameters + literal bytes)) steps.
inline constexpr std::size_t no_offset = std::string_view::npos;

// The offsets from which the tokens after one parameter match: a bitset, or one offset or none.
struct offset_set {
    std::uint64_t* bits = nullptr;
    std::size_t single = no_offset;

    constexpr bool contains(std::size_t o) const noexcept {
        return bits ? (bits[o >> 6] >> (o & 63)) & 1 : o == single;
    }
    // The largest member in [lo, hi], or no_offset.
    constexpr std::size_t max_in(std::size_t lo, std::size_t hi,
                                 std::size_t& steps) const noexcept {
        if (lo > hi) return no_offset;
        if (!bits) return single >= lo && single <= hi ? single : no_offset;
        for (std::size_t w = hi >> 6;; --w) {
            ++steps;
            std::uint64_t word = bits[w];
            if (w == hi >> 6 && (hi & 63) != 63) word &= (std::uint64_t{1} << ((hi & 63) + 1)) - 1;
            if (word) {
                std::size_t top = w * 64 + 63 - std::size_t(std::countl_zero(word));
                return top >= lo ? top : no_offset;
            }
            if (w == lo >> 6) return no_offset;
        }
    }
};

constexpr std::size_t digits_end(std::string_view s, std::size_t from) noexcept {
    while (from < s.size() && is_digit(s[from])) ++from;
    return from;
}

// Where "." and digits follow the digit run that ends at `e`: the end of those digits.
constexpr std::size_t fraction_end(std::string_view s, std::size_t e) noexcept {
    if (e + 1 < s.size() && s[e] == '.' && is_digit(s[e + 1])) return digits_end(s, e + 1);
    return no_offset;
}

// Where the literal tokens [from, to) match `path` one after another from `o`: their end, or
// no_offset.
template <std::size_t N>
constexpr std::size_t literals_end(const parsed_pattern<N>& pp, std::size_t from, std::size_t to,
                                   std::string_view path, std::size_t o,
                                   std::size_t& steps) noexcept {
    for (std::size_t t = from; t < to; ++t) {
        std::string_view text = pp.tokens[t].text;
        if (path.size() - o < text.size()) return no_offset;
        for (std::size_t i = 0; i < text.size(); ++i, ++steps)
            if (path[o + i] != text[i]) return no_offset;
        o += text.size();
    }
    return o;
}

template <std::size_t N>
constexpr bool match_tokens(const parsed_pattern<N>& pp, std::string_view path,
                            std::string_view* values, std::size_t& steps) noexcept {
    // A parsed pattern starts with a literal and has one between parameters.
    constexpr std::size_t max_params = N / 2;
    const std::size_t n = path.size();
    // The token index of each parameter, and the literal bytes between it and the next one.
    std::size_t param_token[N + 1]{}, literal_after[N + 1]{};
    std::size_t k = 0;
    for (std::size_t t = 0; t < pp.token_count; ++t) {
        if (pp.tokens[t].is_param) param_token[k++] = t;
        else if (k > 0) literal_after[k - 1] += pp.tokens[t].text.size();
    }
    const std::size_t start = literals_end(pp, 0, k ? param_token[0] : pp.token_count, path, 0,
                                           steps);
    if (start == no_offset) return false;
    if (k == 0) return start == n;
    if (k > max_params) return false;
    // The literals after the last parameter must be a suffix: most paths fail here or above.
    const std::size_t tail = literal_after[k - 1];
    if (n - start < tail ||
        literals_end(pp, param_token[k - 1] + 1, pp.token_count, path, n - tail, steps) != n)
        return false;

    offset_set after[max_params < 1 ? 1 : max_params];
    after[k - 1].single = n - tail;
    // Enough for five parameters on a path as long as the default header limit (16 KiB) allows;
    // beyond that the match allocates its bitsets (and fails as no match if it cannot).
    constexpr std::size_t stack_words = max_params < 2
                                            ? 1
                                            : (max_params < 5 ? max_params - 1 : 4) * 257;
    const std::size_t words = n / 64 + 1;
    std::uint64_t stack_bits[stack_words];
    struct heap {
        std::uint64_t* p = nullptr;
        constexpr ~heap() { delete[] p; }
    } heap_bits;
    std::uint64_t* bits = stack_bits;
    if (k > 1 && (k - 1) * words > stack_words) {
        const std::size_t size = (k - 1) * words;
        heap_bits.p = std::is_constant_evaluated() ? new std::uint64_t[size]
                                                   : new (std::nothrow) std::uint64_t[size];
        if (!heap_bits.p) return false;
        bits = heap_bits.p;
    }

    for (std::size_t j = k - 1; j-- > 0;) {
        offset_set& set = after[j];
        set.bits = bits + j * words;
        for (std::size_t w = 0; w < words; ++w, ++steps) set.bits[w] = 0;
        const offset_set& next = after[j + 1];
        const std::size_t literal = literal_after[j];
        const std::size_t p = param_token[j + 1];
        const convertor conv = pp.tokens[p].conv;
        const bool last = p + 1 == pp.token_count;
        // Walking q down keeps the first '/' and non-digit at or after q, and the nearest
        // member of `next` above q, current: parameter p can start at q when one of its ends
        // is in `next`.
        std::size_t slash = n, digits = n, nearest = no_offset;
        std::size_t fraction_for = no_offset, fraction_hit = no_offset;
        for (std::size_t q = n + 1; q-- > start + literal;) {
            ++steps;
            if (q < n) {
                if (path[q] == '/') slash = q;
                if (!is_digit(path[q])) digits = q;
                if (next.contains(q + 1)) nearest = q + 1;
            }
            bool ok = false;
            switch (conv) {
            case convertor::str:
                ok = slash > q && nearest <= slash;
                break;
            case convertor::int_:
                ok = digits > q && nearest <= digits;
                break;
            case convertor::float_:
                // "12.5" ends within "12" or after "12.5", never after "12.".
                if (digits > q && digits != fraction_for) {
                    fraction_for = digits;
                    std::size_t f = fraction_end(path, digits);
                    fraction_hit = no_offset;
                    if (f != no_offset) {
                        steps += f - digits;
                        fraction_hit = next.max_in(digits + 2, f, steps);
                    }
                }
                ok = digits > q && (nearest <= digits || fraction_hit != no_offset);
                break;
            case convertor::uuid:
                ok = n - q >= 36 && next.contains(q + 36) && uuid::parse(path.substr(q, 36));
                steps += ok ? 36 : 0;
                break;
            case convertor::path:
                ok = q < n ? nearest <= n : last && next.contains(n);
                break;
            }
            if (ok &&
                literals_end(pp, param_token[j] + 1, p, path, q - literal, steps) != no_offset)
                set.bits[(q - literal) >> 6] |= std::uint64_t{1} << ((q - literal) & 63);
        }
    }

    // Left to right, each parameter takes its largest end from which the rest matches.
    std::size_t o = start;
    for (std::size_t j = 0; j < k; ++j) {
        const pattern_token& token = pp.tokens[param_token[j]];
        std::size_t end = no_offset;
        auto take = [&](std::size_t lo, std::size_t hi) {
            if (end == no_offset) end = after[j].max_in(lo, hi, steps);
        };
        switch (token.conv) {
        case convertor::str: {
            std::size_t slash = o;
            for (; slash < n && path[slash] != '/'; ++slash) ++steps;
            take(o + 1, slash);
            break;
        }
        case convertor::int_:
        case convertor::float_: {
            std::size_t digits = digits_end(path, o);
            steps += digits - o;
            if (digits == o) break;
            if (token.conv == convertor::float_)
                if (std::size_t f = fraction_end(path, digits); f != no_offset) take(digits + 2, f);
            take(o + 1, digits);
            break;
        }
        case convertor::uuid:
            if (n - o >= 36 && uuid::parse(path.substr(o, 36))) take(o + 36, o + 36);
            break;
        case convertor::path:
            if (o < n) take(o + 1, n);
            else if (param_token[j] + 1 == pp.token_count) take(n, n); // empty only at the end
            break;
        }
        if (end == no_offset) return false;
        values[token.param_index] = path.substr(o, end - o);
        o = end + literal_after[j];
    }
    return true;
}

/// Matches `path` against `pp`, setting `values[i]` to the text of parameter i. `steps`, when
/// given, receives the work done (loop iterations), which tests hold to the bound above.
template <std::size_t N>
constexpr bool match_pattern(const parsed_pattern<N>& pp, std::string_view path,
                             std::string_view* values, std::size_t* steps = nullptr) noexcept {
    std::size_t done = 0;
    bool matched = match_tokens(pp, path, values, done);
    if (steps) *steps = done;
    return matched;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_ROUTE_PATTERN_HPP
