// SPDX-License-Identifier: MIT
// `co_await req.form()`: form_data with text fields and upload_file parts spooled to disk
// [datastructures.py].
#ifndef ASTER_FORMS_HPP
#define ASTER_FORMS_HPP

#include <aster/detail/config.hpp>
#include <aster/form_parser.hpp>
#include <aster/request.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace aster {

/// One uploaded file: kept in memory up to `form_limits::spool_bytes`, then moved to an
/// anonymous temporary file (std::tmpfile: deleted when closed), as Starlette's UploadFile.
/// Move-only. Thread safety: none; one handler uses it.
/// @code
/// auto* f = form.file("avatar");
/// if (f && f->size() < 1 << 20) store(f->filename, f->read_all());
/// @endcode
class upload_file {
public:
    std::string filename;
    std::string content_type;
    header_list headers;

    explicit upload_file(std::size_t spool_bytes = 1024 * 1024) : spool_bytes_(spool_bytes) {}

    std::size_t size() const noexcept { return size_; }
    /// True once the content moved to a temporary file.
    bool on_disk() const noexcept { return file_ != nullptr; }

    /// Appends bytes (what the parser does as parts arrive); throws std::runtime_error when the
    /// temporary file cannot be written.
    void write(std::string_view bytes) {
        if (!file_ && memory_.size() + bytes.size() > spool_bytes_) {
            file_.reset(std::tmpfile());
            if (!file_)
                throw std::runtime_error("aster::upload_file: cannot create a temporary file");
            put(memory_);
            std::string().swap(memory_);
        }
        if (file_) put(bytes);
        else memory_.append(bytes);
        size_ += bytes.size();
    }
    /// Reads up to `n` bytes from the current position (0 at the end).
    std::size_t read(char* out, std::size_t n) {
        if (file_) return std::fread(out, 1, n, file_.get());
        std::size_t k = std::min(n, memory_.size() - position_);
        memory_.copy(out, k, position_);
        position_ += k;
        return k;
    }
    /// The whole content, from the start.
    std::string read_all() {
        rewind();
        std::string out(size_, '\0');
        std::size_t got = 0;
        while (got < size_) {
            std::size_t n = read(out.data() + got, size_ - got);
            if (n == 0) break;
            got += n;
        }
        out.resize(got);
        return out;
    }
    /// Back to the first byte.
    void rewind() {
        position_ = 0;
        if (file_) std::fseek(file_.get(), 0, SEEK_SET);
    }

private:
    struct closer {
        void operator()(std::FILE* f) const noexcept { std::fclose(f); }
    };
    void put(std::string_view bytes) {
        if (std::fseek(file_.get(), 0, SEEK_END) != 0 ||
            std::fwrite(bytes.data(), 1, bytes.size(), file_.get()) != bytes.size())
            throw std::runtime_error("aster::upload_file: cannot write the temporary file");
    }

    std::size_t spool_bytes_;
    std::size_t size_ = 0, position_ = 0;
    std::string memory_;
    std::unique_ptr<std::FILE, closer> file_;
};

/// A parsed form: fields in order, each a text value or an upload_file. Repeated names keep
/// every value; `get` returns the last text value, as Starlette's FormData.
/// @code
/// auto form = co_await req.form();
/// auto name = form.get("name", "anonymous");
/// auto tags = form.get_all("tag");
/// @endcode
class form_data {
public:
    using value_type = std::pair<std::string, std::variant<std::string, upload_file>>;

    /// The last text value of `key`, or nullopt (file parts are not text).
    std::optional<std::string_view> get(std::string_view key) const noexcept {
        for (auto it = items_.rbegin(); it != items_.rend(); ++it)
            if (it->first == key)
                if (auto* s = std::get_if<std::string>(&it->second)) return std::string_view(*s);
        return std::nullopt;
    }
    std::string_view get(std::string_view key, std::string_view fallback) const noexcept {
        return get(key).value_or(fallback);
    }
    /// Every text value of `key`, in order.
    std::vector<std::string_view> get_all(std::string_view key) const {
        std::vector<std::string_view> out;
        for (const auto& [k, v] : items_)
            if (k == key)
                if (auto* s = std::get_if<std::string>(&v)) out.emplace_back(*s);
        return out;
    }
    /// The last file part called `key`, or nullptr.
    upload_file* file(std::string_view key) noexcept {
        for (auto it = items_.rbegin(); it != items_.rend(); ++it)
            if (it->first == key)
                if (auto* f = std::get_if<upload_file>(&it->second)) return f;
        return nullptr;
    }
    /// Every file part called `key`, in order.
    std::vector<upload_file*> files(std::string_view key) {
        std::vector<upload_file*> out;
        for (auto& [k, v] : items_)
            if (k == key)
                if (auto* f = std::get_if<upload_file>(&v)) out.push_back(f);
        return out;
    }
    bool contains(std::string_view key) const noexcept {
        for (const auto& item : items_)
            if (item.first == key) return true;
        return false;
    }
    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    auto begin() noexcept { return items_.begin(); }
    auto end() noexcept { return items_.end(); }
    auto begin() const noexcept { return items_.begin(); }
    auto end() const noexcept { return items_.end(); }

    void add(std::string key, std::string value) {
        items_.emplace_back(std::move(key), std::move(value));
    }
    void add(std::string key, upload_file file) {
        items_.emplace_back(std::move(key), std::move(file));
    }

private:
    std::vector<value_type> items_;
};

namespace detail::form_impl {

// The media type of a Content-Type, without parameters.
inline std::string_view media_type(std::string_view content_type) noexcept {
    return trim_ows(content_type.substr(0, content_type.find(';')));
}

// Builds form_data from a multipart_parser's events: text fields in memory, files in
// upload_files (spooled to disk past spool_bytes).
struct collector final : multipart_parser::handler {
    form_data& form;
    const form_limits& limits;
    std::string name, text;
    std::optional<upload_file> file;
    collector(form_data& f, const form_limits& l) : form(f), limits(l) {}
    void on_part_begin(const multipart_part& part) override {
        name = part.name;
        text.clear();
        file.reset();
        if (part.filename) {
            file.emplace(limits.spool_bytes);
            file->filename = *part.filename;
            file->content_type = part.content_type;
            file->headers = part.headers;
        }
    }
    void on_part_data(std::string_view bytes) override {
        if (file) file->write(bytes);
        else text.append(bytes);
    }
    void on_part_end() override {
        if (file) {
            file->rewind();
            form.add(std::move(name), std::move(*file));
            file.reset();
        } else {
            form.add(std::move(name), std::move(text));
            text = {};
        }
    }
};

} // namespace detail::form_impl

/// Parses a form body given its Content-Type (no I/O; what `request::form` runs on a buffered
/// body). Other content types give an empty form. Throws form_error (400/413).
inline form_data parse_form(std::string_view content_type, std::string_view body,
                            const form_limits& limits = {}) {
    form_data out;
    auto media = detail::form_impl::media_type(content_type);
    if (iequals(media, "application/x-www-form-urlencoded")) {
        for (auto& [k, v] : parse_urlencoded(body, limits)) out.add(std::move(k), std::move(v));
    } else if (iequals(media, "multipart/form-data")) {
        detail::form_impl::collector sink(out, limits);
        multipart_parser parser(multipart_boundary(content_type), limits);
        // Fed in slices, as a streamed body would be: the parser's buffer stays small.
        constexpr std::size_t slice = 64 * 1024;
        for (std::size_t at = 0; at < body.size(); at += slice)
            parser.feed(body.substr(at, slice), sink);
        parser.finish();
    }
    return out;
}

// A multipart body still streaming in is parsed as it arrives, so files go to their
// upload_file (and to disk) without the body in memory, and a limit refuses it before the rest
// is read. Anything else is read whole (bounded by max_body_bytes), then parsed; a content type
// that is not a form leaves the body unread.
inline task<form_data> request::form(form_limits limits) const {
    const auto content_type = header("content-type").value_or("");
    const auto media = detail::form_impl::media_type(content_type);
    const bool multipart = iequals(media, "multipart/form-data");
    if (multipart && source_ && !body_taken_) {
        form_data out;
        detail::form_impl::collector sink(out, limits);
        multipart_parser parser(multipart_boundary(content_type), limits);
        for (auto piece = co_await read_some(); !piece.empty(); piece = co_await read_some())
            parser.feed(piece, sink);
        parser.finish();
        co_return out;
    }
    if (!multipart && !iequals(media, "application/x-www-form-urlencoded")) co_return form_data{};
    co_return parse_form(content_type, co_await body(), limits);
}

inline task<form_data> request::form() const { return form(form_limits{}); }

} // namespace aster

#endif // ASTER_FORMS_HPP
