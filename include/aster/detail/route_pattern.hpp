// SPDX-License-Identifier: MIT
// Route patterns parsed at compile time into literal and parameter tokens, and matched at run time.
#ifndef ASTER_DETAIL_ROUTE_PATTERN_HPP
#define ASTER_DETAIL_ROUTE_PATTERN_HPP

#include <aster/detail/config.hpp>
#include <aster/convertors.hpp>
#include <aster/detail/fixed_string.hpp>

#include <array>
#include <cstddef>
#include <string_view>

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
    if (literal_start < p.size())
        out.tokens[out.token_count++] = {false, p.substr(literal_start)};
    return out;
}

/// The parsed form of one pattern, computed once per distinct pattern.
template <fixed_string Pattern>
inline constexpr auto pattern_of = parse_pattern<max_pattern_tokens(Pattern.view())>(Pattern.view());

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

// Matches `path` against tokens [index, end). Parameters take the longest extent that lets the
// rest match, which is what the regexes Starlette compiles its patterns into do.
template <std::size_t N>
constexpr bool match_from(const parsed_pattern<N>& pp, std::size_t index, std::string_view path,
                          std::string_view* values) noexcept {
    if (index == pp.token_count) return path.empty();
    const pattern_token& token = pp.tokens[index];
    if (!token.is_param) {
        if (!path.starts_with(token.text)) return false;
        return match_from(pp, index + 1, path.substr(token.text.size()), values);
    }
    std::size_t longest = convertor_extent(token.conv, path);
    for (std::size_t n = longest; n >= 1; --n) {
        if (n != longest && convertor_extent(token.conv, path.substr(0, n)) != n) continue;
        values[token.param_index] = path.substr(0, n);
        if (match_from(pp, index + 1, path.substr(n), values)) return true;
    }
    // `path` may be empty only at the very end of the URL.
    if (token.conv == convertor::path && path.empty() && index + 1 == pp.token_count) {
        values[token.param_index] = path;
        return true;
    }
    return false;
}

template <std::size_t N>
constexpr bool match_pattern(const parsed_pattern<N>& pp, std::string_view path,
                             std::string_view* values) noexcept {
    return match_from(pp, 0, path, values);
}

} // namespace aster::detail

#endif // ASTER_DETAIL_ROUTE_PATTERN_HPP
