// SPDX-License-Identifier: MIT
// Pure form-body parsers: urlencoded and incremental multipart/form-data, on byte buffers, no I/O
// [formparsers.py].
#ifndef ASTER_FORM_PARSER_HPP
#define ASTER_FORM_PARSER_HPP

#include <aster/detail/config.hpp>
#include <aster/error.hpp>
#include <aster/detail/http_grammar.hpp>
#include <aster/headers.hpp>
#include <aster/status.hpp>
#include <aster/url.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

/// Limits on a form body; the defaults are Starlette's (`max_files`, `max_fields`,
/// `max_part_size`) plus bounds Starlette leaves to python-multipart.
struct form_limits {
    std::size_t max_fields = 1000;            // text fields; beyond: 400
    std::size_t max_files = 1000;             // file parts; beyond: 400
    std::size_t max_part_bytes = 1024 * 1024; // one text field's value; beyond: 413
    std::size_t max_name_bytes = 1024;        // one field's (or file part's) name; beyond: 413
    std::size_t max_file_bytes = std::numeric_limits<std::size_t>::max(); // one file; beyond: 413
    std::size_t max_body_bytes = std::numeric_limits<std::size_t>::max(); // the whole form; 413
    std::size_t max_part_header_bytes = 16 * 1024; // one part's header block; beyond: 413
    std::size_t spool_bytes = 1024 * 1024;         // a file part beyond this moves to a temp file
};

/// A form body refused: status 400 (malformed, too many parts) or 413 (too large), with a
/// detail naming the problem. Thrown from a handler it becomes that response.
class form_error : public http_exception {
public:
    using http_exception::http_exception;
};

/// Parses an `application/x-www-form-urlencoded` body: split on `&`, `+` is a space, `%XX`
/// decoded, a piece without `=` has an empty value, empty pieces skipped; order and repeats
/// kept. Throws form_error past `max_fields` (400) or `max_body_bytes`/`max_part_bytes` (413).
ASTER_DECL std::vector<std::pair<std::string, std::string>>
parse_urlencoded(std::string_view body, const form_limits& limits = {});

/// The `boundary` parameter of a `multipart/form-data` Content-Type, unquoted; form_error 400
/// when it is missing or breaks RFC 2046 §5.1.1 (1..70 characters of bchars, no trailing space).
ASTER_DECL std::string multipart_boundary(std::string_view content_type);

/// What a multipart part's headers say.
struct multipart_part {
    std::string name;                    // Content-Disposition `name`
    std::optional<std::string> filename; // set for file parts (`filename` or `filename*`)
    std::string content_type;            // empty when absent
    header_list headers;                 // every header, as sent
};

/// Incremental `multipart/form-data` parser (RFC 7578, RFC 2046 §5.1): feed any split of the
/// body, get each part's headers, its data in pieces as they arrive, and its end. Memory is
/// bounded by one part's header block plus the boundary length, whatever the part sizes.
/// Strict: no closing boundary, a boundary line with trailing bytes, a header line without
/// `:`, folded headers, or a part without `Content-Disposition: form-data; name=...` throw
/// form_error 400; size limits throw 413. Preamble and epilogue are ignored (RFC 2046).
/// Thread safety: one parser per body.
/// @code
/// struct sink : aster::multipart_parser::handler { ... };
/// aster::multipart_parser p(aster::multipart_boundary(content_type));
/// p.feed(chunk1, s); p.feed(chunk2, s); p.finish();
/// @endcode
class multipart_parser {
public:
    struct handler {
        virtual void on_part_begin(const multipart_part& part) = 0;
        virtual void on_part_data(std::string_view bytes) = 0;
        virtual void on_part_end() = 0;

    protected:
        ~handler() = default;
    };

    explicit multipart_parser(std::string_view boundary, form_limits limits = {});

    /// Parses the next bytes of the body. Throws form_error; the parser is unusable after.
    void feed(std::string_view bytes, handler& out);
    /// The body has ended: throws form_error 400 unless the closing boundary was seen.
    void finish() const;
    bool done() const noexcept { return state_ == state::epilogue; }

private:
    enum class state { preamble, after_boundary, headers, data, epilogue };

    void begin_part(std::string_view block, handler& out);
    void emit(std::string_view bytes, handler& out);

    std::string delimiter_; // CRLF "--" boundary
    form_limits limits_;
    state state_ = state::preamble;
    std::string buffer_; // bytes not yet consumed
    std::size_t total_ = 0, part_bytes_ = 0, fields_ = 0, files_ = 0;
    bool part_is_file_ = false;
    std::string part_name_;
};

// ---- implementation ----------------------------------------------------------------------------

namespace detail::form_impl {

[[noreturn]] inline void fail(status code, std::string detail) {
    throw form_error(code, std::move(detail));
}

// Header parameters `; key=value; key="quoted \" value"` after the first `;`, as
// {lower-case key, value}. Nullopt when malformed.
inline std::optional<std::vector<std::pair<std::string, std::string>>>
parse_parameters(std::string_view s) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t i = 0;
    auto skip_space = [&] {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    };
    while (true) {
        skip_space();
        if (i == s.size()) return out;
        if (s[i] != ';') return std::nullopt;
        ++i;
        skip_space();
        if (i == s.size()) return out; // a trailing ';' is common and harmless
        std::size_t start = i;
        while (i < s.size() && is_tchar(s[i]) && s[i] != '=') ++i;
        std::string key(s.substr(start, i - start));
        for (auto& c : key)
            if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
        skip_space();
        if (key.empty() || i == s.size() || s[i] != '=') return std::nullopt;
        ++i;
        skip_space();
        std::string value;
        if (i < s.size() && s[i] == '"') {
            // Browsers do not escape (they percent-encode `"`), but RFC 9110 quoted-pair says
            // `\"` is a quote; a backslash before anything else is kept, as Windows paths from
            // old browsers contain them.
            if (!read_quoted(
                    s, i, [&value](char c) { value += c; }, true))
                return std::nullopt;
        } else {
            start = i;
            while (i < s.size() && s[i] != ';' && s[i] != ' ' && s[i] != '\t') ++i;
            value = s.substr(start, i - start);
        }
        out.emplace_back(std::move(key), std::move(value));
    }
}

inline const std::string* find_parameter(const std::vector<std::pair<std::string, std::string>>& ps,
                                         std::string_view key) {
    for (const auto& [k, v] : ps)
        if (k == key) return &v;
    return nullptr;
}

} // namespace detail::form_impl

ASTER_DECL std::vector<std::pair<std::string, std::string>>
parse_urlencoded(std::string_view body, const form_limits& limits) {
    using detail::form_impl::fail;
    if (body.size() > limits.max_body_bytes)
        fail(status::request_entity_too_large,
             "Form body exceeds " + std::to_string(limits.max_body_bytes) + " bytes");
    std::vector<std::pair<std::string, std::string>> out;
    while (!body.empty()) {
        auto amp = body.find('&');
        auto piece = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (piece.empty()) continue;
        if (out.size() == limits.max_fields)
            fail(status::bad_request, "Too many fields. Maximum number of fields is " +
                                          std::to_string(limits.max_fields) + ".");
        auto eq = piece.find('=');
        if (eq != std::string_view::npos && piece.size() - eq - 1 > 3 * limits.max_part_bytes)
            fail(status::request_entity_too_large,
                 "Form field exceeds " + std::to_string(limits.max_part_bytes) + " bytes");
        const auto name_too_long = [&] {
            fail(status::request_entity_too_large,
                 "Form field name exceeds " + std::to_string(limits.max_name_bytes) + " bytes");
        };
        if (std::min(eq, piece.size()) > 3 * limits.max_name_bytes) name_too_long();
        std::pair<std::string, std::string> item;
        percent_decode_into(piece.substr(0, eq), item.first, true);
        if (item.first.size() > limits.max_name_bytes) name_too_long();
        if (eq != std::string_view::npos)
            percent_decode_into(piece.substr(eq + 1), item.second, true);
        if (item.second.size() > limits.max_part_bytes)
            fail(status::request_entity_too_large, "Form field '" + item.first + "' exceeds " +
                                                       std::to_string(limits.max_part_bytes) +
                                                       " bytes");
        out.push_back(std::move(item));
    }
    return out;
}

ASTER_DECL std::string multipart_boundary(std::string_view content_type) {
    using namespace detail::form_impl;
    auto semi = content_type.find(';');
    auto params = parse_parameters(semi == std::string_view::npos ? std::string_view{}
                                                                  : content_type.substr(semi));
    if (!params) fail(status::bad_request, "Malformed multipart Content-Type parameters");
    const std::string* b = find_parameter(*params, "boundary");
    if (!b || b->empty()) fail(status::bad_request, "Missing boundary in multipart Content-Type");
    // RFC 2046 §5.1.1 bchars: DIGIT ALPHA '()+_,-./:=? and space (not last), 1..70 of them.
    constexpr std::string_view extra = "'()+_,-./:=? ";
    bool ok = b->size() <= 70 && b->back() != ' ';
    for (char c : *b)
        ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    extra.find(c) != std::string_view::npos);
    if (!ok) fail(status::bad_request, "Invalid multipart boundary");
    return *b;
}

ASTER_DECL multipart_parser::multipart_parser(std::string_view boundary, form_limits limits)
    : limits_(limits) {
    if (boundary.empty() || boundary.size() > 70)
        detail::form_impl::fail(status::bad_request, "Invalid multipart boundary");
    delimiter_.append("\r\n--").append(boundary);
    // The first boundary may open the body without a line break before it.
    buffer_ = "\r\n";
}

ASTER_DECL void multipart_parser::emit(std::string_view bytes, handler& out) {
    if (bytes.empty()) return;
    part_bytes_ += bytes.size();
    const std::size_t limit = part_is_file_ ? limits_.max_file_bytes : limits_.max_part_bytes;
    if (part_bytes_ > limit)
        detail::form_impl::fail(status::request_entity_too_large,
                                std::string(part_is_file_ ? "File" : "Field") + " '" + part_name_ +
                                    "' exceeds " + std::to_string(limit) + " bytes");
    out.on_part_data(bytes);
}

ASTER_DECL void multipart_parser::begin_part(std::string_view block, handler& out) {
    using namespace detail::form_impl;
    using detail::is_tchar, detail::trim_ows;
    multipart_part part;
    bool disposition = false;
    // RFC 7578 §4.8 / RFC 9112 §5.2: no obsolete line folding.
    if (block.find("\r\n ") != std::string_view::npos ||
        block.find("\r\n\t") != std::string_view::npos)
        fail(status::bad_request, "Folded multipart part header");
    while (!block.empty()) {
        auto eol = block.find("\r\n");
        auto line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
        if (line.empty()) fail(status::bad_request, "Malformed multipart part headers");
        if (line.front() == ' ' || line.front() == '\t')
            fail(status::bad_request, "Folded multipart part header");
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            fail(status::bad_request, "Malformed multipart part header line");
        auto name = line.substr(0, colon);
        for (char c : name)
            if (!is_tchar(c)) fail(status::bad_request, "Malformed multipart part header name");
        auto value = trim_ows(line.substr(colon + 1));
        for (char c : value)
            if (c == '\0' || c == '\r' || c == '\n')
                fail(status::bad_request, "Malformed multipart part header value");
        part.headers.emplace_back(std::string(name), std::string(value));
        if (iequals(name, "content-type")) {
            part.content_type = value;
        } else if (iequals(name, "content-disposition")) {
            if (disposition) fail(status::bad_request, "Two Content-Disposition headers in a part");
            disposition = true;
            auto semi = value.find(';');
            if (!iequals(trim_ows(value.substr(0, semi)), "form-data"))
                fail(status::bad_request, "Multipart part is not form-data");
            auto params = parse_parameters(semi == std::string_view::npos ? std::string_view{}
                                                                          : value.substr(semi));
            if (!params) fail(status::bad_request, "Malformed Content-Disposition parameters");
            const std::string* n = find_parameter(*params, "name");
            if (!n) fail(status::bad_request, "Multipart part without a name");
            if (n->size() > limits_.max_name_bytes)
                fail(status::request_entity_too_large, "Form field name exceeds " +
                                                           std::to_string(limits_.max_name_bytes) +
                                                           " bytes");
            part.name = *n;
            if (const std::string* f = find_parameter(*params, "filename*")) {
                // RFC 5987 ext-value: charset'lang'percent-encoded; only UTF-8 is meaningful.
                auto second = f->find('\'', f->find('\'') + 1);
                if (f->find('\'') == std::string::npos || second == std::string::npos)
                    fail(status::bad_request, "Malformed filename* parameter");
                part.filename = percent_decode(std::string_view(*f).substr(second + 1));
            } else if (const std::string* f = find_parameter(*params, "filename")) {
                part.filename = *f;
            }
        }
    }
    if (!disposition) fail(status::bad_request, "Multipart part without Content-Disposition");
    part_is_file_ = part.filename.has_value();
    if (part_is_file_ && ++files_ > limits_.max_files)
        fail(status::bad_request, "Too many files. Maximum number of files is " +
                                      std::to_string(limits_.max_files) + ".");
    if (!part_is_file_ && ++fields_ > limits_.max_fields)
        fail(status::bad_request, "Too many fields. Maximum number of fields is " +
                                      std::to_string(limits_.max_fields) + ".");
    part_name_ = part.name;
    part_bytes_ = 0;
    out.on_part_begin(part);
}

ASTER_DECL void multipart_parser::feed(std::string_view bytes, handler& out) {
    using detail::form_impl::fail;
    total_ += bytes.size();
    if (total_ > limits_.max_body_bytes)
        fail(status::request_entity_too_large,
             "Form body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes");
    if (state_ == state::epilogue) return; // RFC 2046: ignored
    buffer_.append(bytes);
    std::size_t pos = 0; // consumed bytes of buffer_
    const std::string_view buf_view = buffer_;
    for (bool progress = true; progress;) {
        progress = false;
        std::string_view rest = buf_view.substr(pos);
        switch (state_) {
        case state::preamble: {
            auto at = rest.find(delimiter_);
            if (at == std::string_view::npos) {
                // Keep a tail that may be the start of the delimiter; drop the preamble.
                if (rest.size() >= delimiter_.size()) pos += rest.size() - delimiter_.size() + 1;
                break;
            }
            pos += at + delimiter_.size();
            state_ = state::after_boundary;
            progress = true;
            break;
        }
        case state::after_boundary: {
            // "--" closes the body; otherwise optional transport padding, then CRLF.
            if (rest.size() < 2) break;
            if (rest.starts_with("--")) {
                pos = buf_view.size();
                state_ = state::epilogue;
                break;
            }
            std::size_t i = 0;
            while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
            if (i > 64) fail(status::bad_request, "Malformed multipart boundary line");
            if (rest.size() - i < 2) break;
            if (rest.substr(i, 2) != "\r\n")
                fail(status::bad_request, "Malformed multipart boundary line");
            pos += i + 2;
            state_ = state::headers;
            progress = true;
            break;
        }
        case state::headers: {
            if (rest.starts_with("\r\n"))
                fail(status::bad_request, "Multipart part without Content-Disposition");
            auto end = rest.find("\r\n\r\n");
            if (end == std::string_view::npos) {
                // The blank line may still start in the last three bytes held, so the block is
                // known too large only past limit + 3: any cut of the body gives the same answer.
                if (rest.size() > limits_.max_part_header_bytes + 3)
                    fail(status::request_entity_too_large, "Multipart part headers too large");
                break;
            }
            if (end > limits_.max_part_header_bytes)
                fail(status::request_entity_too_large, "Multipart part headers too large");
            begin_part(rest.substr(0, end), out);
            pos += end + 4;
            state_ = state::data;
            progress = true;
            break;
        }
        case state::data: {
            auto at = rest.find(delimiter_);
            if (at == std::string_view::npos) {
                if (rest.size() >= delimiter_.size()) {
                    std::size_t n = rest.size() - delimiter_.size() + 1;
                    emit(rest.substr(0, n), out);
                    pos += n;
                }
                break;
            }
            emit(rest.substr(0, at), out);
            out.on_part_end();
            pos += at + delimiter_.size();
            state_ = state::after_boundary;
            progress = true;
            break;
        }
        case state::epilogue:
            pos = buf_view.size();
            break;
        }
    }
    buffer_.erase(0, pos);
}

ASTER_DECL void multipart_parser::finish() const {
    if (state_ != state::epilogue)
        detail::form_impl::fail(status::bad_request,
                                state_ == state::preamble
                                    ? "Multipart body has no boundary"
                                    : "Multipart body ended before its closing boundary");
}

} // namespace aster

#endif // ASTER_FORM_PARSER_HPP
