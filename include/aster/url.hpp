// SPDX-License-Identifier: MIT
// Percent-encoding (RFC 3986 §2.1) and decoded, multi-valued `query_params` [datastructures.py].
#ifndef ASTER_URL_HPP
#define ASTER_URL_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/http_grammar.hpp>

#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

/// Appends `in` to `out` with every `%XX` escape decoded (and `+` as a space when asked, as in
/// form and query strings). Malformed escapes (`%`, `%2`, `%zz`) are copied literally, like
/// Python's `unquote`; decoded bytes are not checked for UTF-8.
/// Returns true when something was decoded, so a caller can keep a view of `in` on false.
ASTER_DECL bool percent_decode_into(std::string_view in, std::string& out,
                                    bool plus_as_space = false);

/// `percent_decode("caf%C3%A9")` is "café" (as UTF-8 bytes).
ASTER_DECL std::string percent_decode(std::string_view in, bool plus_as_space = false);

/// Escapes every byte but the RFC 3986 unreserved ones (ALPHA DIGIT - . _ ~) and those in `safe`,
/// with upper-case hex; the default keeps `/` so a path stays readable, like Python's `quote`.
ASTER_DECL std::string percent_encode(std::string_view in, std::string_view safe = "/");

/// Query parameters, decoded and in order. Repeated keys keep every value; `get` returns the
/// last one, as Starlette's dict view does. `a=1&a=2&flag&c=%20+` gives a:1, a:2, flag:"", c:"  ".
/// Thread safety: const members may be called concurrently.
/// @code
/// aster::query_params q("tag=a&tag=b&page=2");
/// auto page = q.get("page", "1");       // "2"
/// auto tags = q.get_all("tag");         // {"a", "b"}
/// @endcode
class query_params {
public:
    using value_type = std::pair<std::string, std::string>;
    using const_iterator = std::vector<value_type>::const_iterator;

    query_params() = default;
    /// Parses a raw query string (without the `?`) as `parse_qsl(keep_blank_values=True)` does:
    /// split on `&`, skip empty pieces, `+` is a space, a piece without `=` has an empty value.
    explicit query_params(std::string_view raw);

    /// The last value of `key`, or nullopt.
    std::optional<std::string_view> get(std::string_view key) const noexcept {
        for (auto it = items_.rbegin(); it != items_.rend(); ++it)
            if (it->first == key) return std::string_view(it->second);
        return std::nullopt;
    }
    /// The last value of `key`, or `fallback`.
    std::string_view get(std::string_view key, std::string_view fallback) const noexcept {
        return get(key).value_or(fallback);
    }
    /// Every value of `key`, in order.
    std::vector<std::string_view> get_all(std::string_view key) const {
        std::vector<std::string_view> out;
        for (const auto& [k, v] : items_)
            if (k == key) out.emplace_back(v);
        return out;
    }
    bool contains(std::string_view key) const noexcept { return get(key).has_value(); }
    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    const_iterator begin() const noexcept { return items_.begin(); }
    const_iterator end() const noexcept { return items_.end(); }

    friend bool operator==(const query_params&, const query_params&) = default;

private:
    std::vector<value_type> items_;
};

namespace detail {
// Appends `key=value` (preceded by `&` unless first) in form encoding.
ASTER_DECL void append_query_pair(std::string& out, std::string_view key, std::string_view value);

template <class R>
concept query_pair_range = std::ranges::input_range<R> &&
    requires(std::ranges::range_reference_t<R> p) {
    { p.first } -> std::convertible_to<std::string_view>;
    { p.second } -> std::convertible_to<std::string_view>;
};
} // namespace detail

/// Builds a query string (without `?`) as Python's `urlencode` does: `a=1&b=x+y`; a space becomes
/// `+` and every other byte outside ALPHA DIGIT - . _ ~ is percent-encoded, `/` included.
/// Accepts any range of pairs of strings: a vector, a span, a `query_params`.
/// @code
/// aster::encode_query({{"q", "a b"}, {"page", "2"}});   // "q=a+b&page=2"
/// @endcode
template <class Pairs>
requires detail::query_pair_range<const Pairs&> std::string encode_query(const Pairs& pairs) {
    std::string out;
    for (const auto& p : pairs) detail::append_query_pair(out, p.first, p.second);
    return out;
}
inline std::string
encode_query(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
    std::string out;
    for (const auto& [k, v] : pairs) detail::append_query_pair(out, k, v);
    return out;
}

// ---- implementation ----------------------------------------------------------------------------

namespace detail::url_impl {

constexpr bool is_unreserved(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

inline void encode(std::string& out, std::string_view in, std::string_view safe,
                   bool space_as_plus) {
    constexpr char hex[] = "0123456789ABCDEF";
    for (char c : in) {
        if (is_unreserved(c) || safe.find(c) != std::string_view::npos) {
            out += c;
        } else if (c == ' ' && space_as_plus) {
            out += '+';
        } else {
            auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
        }
    }
}

} // namespace detail::url_impl

ASTER_DECL bool percent_decode_into(std::string_view in, std::string& out, bool plus_as_space) {
    bool changed = false;
    out.reserve(out.size() + in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%' && in.size() - i >= 3) {
            int hi = detail::hex_value(in[i + 1]), lo = detail::hex_value(in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                changed = true;
                continue;
            }
        } else if (c == '+' && plus_as_space) {
            out += ' ';
            changed = true;
            continue;
        }
        out += c;
    }
    return changed;
}

ASTER_DECL std::string percent_decode(std::string_view in, bool plus_as_space) {
    std::string out;
    percent_decode_into(in, out, plus_as_space);
    return out;
}

ASTER_DECL std::string percent_encode(std::string_view in, std::string_view safe) {
    std::string out;
    out.reserve(in.size());
    detail::url_impl::encode(out, in, safe, false);
    return out;
}

ASTER_DECL query_params::query_params(std::string_view raw) {
    while (!raw.empty()) {
        auto amp = raw.find('&');
        auto piece = raw.substr(0, amp);
        raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
        if (piece.empty()) continue;
        auto eq = piece.find('=');
        value_type item;
        percent_decode_into(piece.substr(0, eq), item.first, true);
        if (eq != std::string_view::npos)
            percent_decode_into(piece.substr(eq + 1), item.second, true);
        items_.push_back(std::move(item));
    }
}

ASTER_DECL void detail::append_query_pair(std::string& out, std::string_view key,
                                          std::string_view value) {
    if (!out.empty()) out += '&';
    url_impl::encode(out, key, {}, true);
    out += '=';
    url_impl::encode(out, value, {}, true);
}

} // namespace aster

#endif // ASTER_URL_HPP
