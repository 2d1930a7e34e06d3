// SPDX-License-Identifier: MIT
// `file_response`: a file streamed in chunks, with ETag/Last-Modified, 304 and single byte ranges
// [responses.py].
#ifndef ASTER_FILE_RESPONSE_HPP
#define ASTER_FILE_RESPONSE_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/conditional.hpp>
#include <aster/error.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace aster {

/// Content-Type for a file name by its extension (case-insensitive), from a built-in table;
/// `application/octet-stream` when unknown. Text types carry `; charset=utf-8`.
ASTER_DECL std::string_view mime_type(std::string_view path) noexcept;

struct file_options {
    std::string content_type = {};                       // empty: mime_type(path)
    std::string filename = {};                           // set: Content-Disposition with this name
    std::string content_disposition_type = "attachment"; // or "inline"
    std::size_t chunk_size = 64 * 1024;                  // bytes read and written at a time
};

/// Serves the file at `path`, read in `chunk_size` pieces while the client reads (never whole
/// in memory), with Content-Length, Accept-Ranges, ETag and Last-Modified. Given the request:
/// `If-None-Match` (or else `If-Modified-Since`) answers 304; `Range: bytes=a-b`, `a-` or
/// `-n` answers 206 with Content-Range (`If-Range` must match, else 200); an unsatisfiable
/// range answers 416 with `Content-Range: bytes */size`; a malformed one 400 (as Starlette);
/// several ranges, or another unit, answer 200 with the whole file. HEAD gets the headers only.
/// A missing file (or a directory) throws http_exception 404; no permission 403.
/// @code
/// co_return aster::file_response(req, "reports/q3.pdf", {.filename = "q3.pdf"});
/// @endcode
ASTER_DECL response file_response(const request& req, const std::string& path,
                                  const file_options& options = {});
/// The same without conditional or range handling: always 200 with the whole file.
ASTER_DECL response file_response(const std::string& path, const file_options& options = {});

// ---- implementation ----------------------------------------------------------------------------

namespace detail::file_impl {

struct descriptor {
    int fd = -1;
    explicit descriptor(int f) noexcept : fd(f) {}
    ~descriptor() {
        if (fd >= 0) ::close(fd);
    }
};

inline std::optional<std::uint64_t> number(std::string_view s) {
    std::uint64_t n = 0;
    if (s.empty()) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return n;
}

inline response build(const request* req, const std::string& path, const file_options& options) {
    if (path.find('\0') != std::string::npos) throw http_exception(status::not_found);
    // O_NONBLOCK: a FIFO must not block the loop; only regular files are served.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == EACCES) throw http_exception(status::forbidden);
        throw http_exception(status::not_found);
    }
    auto file = std::make_shared<descriptor>(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) throw http_exception(status::not_found);
    const std::uint64_t size = std::uint64_t(st.st_size);
    char etag_buf[64];
    auto etag_len = std::snprintf(etag_buf, sizeof etag_buf, "\"%llx-%llx\"",
                                  (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                                      (unsigned long long)st.st_mtim.tv_nsec,
                                  (unsigned long long)size);
    std::string etag(etag_buf, std::size_t(etag_len));
    std::string modified = detail::http_date_of(st.st_mtim.tv_sec);

    response r(status::ok);
    r.set_content_type(options.content_type.empty() ? std::string(mime_type(path))
                                                    : options.content_type);
    r.header("Accept-Ranges", "bytes");
    r.header("ETag", etag);
    r.header("Last-Modified", modified);
    if (!options.filename.empty())
        r.header("Content-Disposition", options.content_disposition_type + "; filename*=utf-8''" +
                                            percent_encode(options.filename, ""));

    std::uint64_t first = 0, length = size;
    if (req && (req->method_id() == method::get || req->method_id() == method::head)) {
        // If-None-Match and If-Modified-Since (304) are decided by the server once every
        // middleware ran, against the representation it sends (see response::conditional).
        r.conditional();
        auto range = req->header("range");
        if (auto if_range = req->header("if-range"); range && if_range)
            if (*if_range != etag && *if_range != modified) range.reset();
        if (range && range->size() > 6 && iequals(range->substr(0, 6), "bytes=") &&
            range->find(',') == std::string_view::npos) {
            auto spec = range->substr(6);
            while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
            while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
            auto dash = spec.find('-');
            if (dash == std::string_view::npos)
                throw http_exception(status::bad_request, "Malformed range header.");
            auto a = number(spec.substr(0, dash)), b = number(spec.substr(dash + 1));
            bool satisfiable = true;
            if (dash == 0) { // -n: the last n bytes
                if (!b) throw http_exception(status::bad_request, "Malformed range header.");
                satisfiable = *b > 0 && size > 0;
                first = size - std::min(*b, size);
                length = size - first;
            } else {
                if (!a || (dash + 1 < spec.size() && !b) || (b && *b < *a))
                    throw http_exception(status::bad_request, "Malformed range header.");
                satisfiable = *a < size;
                std::uint64_t last = b ? std::min(*b, size - 1) : size - 1;
                first = *a;
                length = satisfiable ? last - first + 1 : 0;
            }
            if (!satisfiable) {
                response refused = plain_text("Range Not Satisfiable",
                                              status::requested_range_not_satisfiable);
                refused.header("Content-Range", "bytes */" + std::to_string(size));
                return refused;
            }
            r.set_status(status::partial_content);
            r.header("Content-Range", "bytes " + std::to_string(first) + "-" +
                                          std::to_string(first + length - 1) + "/" +
                                          std::to_string(size));
        }
    }
    const std::size_t chunk = options.chunk_size ? options.chunk_size : 64 * 1024;
    r.set_producer([file, first, length, chunk](body_writer& out) -> task<> {
        // Plain pread: regular files do not block for long, and the OS caches them.
        std::unique_ptr<char[]> buf(new char[chunk]);
        std::uint64_t offset = first, left = length;
        while (left > 0) {
            auto n = ::pread(file->fd, buf.get(), std::size_t(std::min<std::uint64_t>(chunk, left)),
                             off_t(offset));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw std::runtime_error("aster::file_response: the file shrank or failed");
            co_await out.write(std::string_view(buf.get(), std::size_t(n)));
            offset += std::uint64_t(n);
            left -= std::uint64_t(n);
        }
    });
    r.set_stream_length(length); // after set_producer, which clears it
    return r;
}

} // namespace detail::file_impl

ASTER_DECL std::string_view mime_type(std::string_view path) noexcept {
    struct entry {
        std::string_view ext, type;
    };
    static constexpr entry table[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"map", "application/json"},
        {"txt", "text/plain; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},
        {"xml", "application/xml"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"avif", "image/avif"},
        {"ico", "image/vnd.microsoft.icon"},
        {"bmp", "image/bmp"},
        {"tif", "image/tiff"},
        {"tiff", "image/tiff"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},
        {"otf", "font/otf"},
        {"wasm", "application/wasm"},
        {"pdf", "application/pdf"},
        {"zip", "application/zip"},
        {"gz", "application/gzip"},
        {"tar", "application/x-tar"},
        {"mp3", "audio/mpeg"},
        {"ogg", "audio/ogg"},
        {"wav", "audio/wav"},
        {"mp4", "video/mp4"},
        {"webm", "video/webm"},
        {"mpeg", "video/mpeg"},
        {"webmanifest", "application/manifest+json"},
        {"rss", "application/rss+xml"},
        {"atom", "application/atom+xml"},
        {"yaml", "application/yaml"},
        {"yml", "application/yaml"},
        {"toml", "application/toml"},
        {"ics", "text/calendar; charset=utf-8"},
        {"sh", "text/x-shellscript; charset=utf-8"},
    };
    auto slash = path.find_last_of('/');
    auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    auto dot = name.find_last_of('.');
    if (dot == std::string_view::npos || dot == 0) return "application/octet-stream";
    auto ext = name.substr(dot + 1);
    for (const auto& e : table)
        if (iequals(e.ext, ext)) return e.type;
    return "application/octet-stream";
}

ASTER_DECL response file_response(const request& req, const std::string& path,
                                  const file_options& options) {
    return detail::file_impl::build(&req, path, options);
}

ASTER_DECL response file_response(const std::string& path, const file_options& options) {
    return detail::file_impl::build(nullptr, path, options);
}

} // namespace aster

#endif // ASTER_FILE_RESPONSE_HPP
