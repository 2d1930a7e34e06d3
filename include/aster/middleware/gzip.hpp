// SPDX-License-Identifier: MIT
// gzip: compresses responses for clients that accept it, as Starlette's GZipMiddleware. Needs zlib.
#ifndef ASTER_MIDDLEWARE_GZIP_HPP
#define ASTER_MIDDLEWARE_GZIP_HPP

#include <aster/detail/config.hpp>
#include <aster/headers.hpp>
#include <aster/middleware.hpp>
#include <aster/status.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#if ASTER_HAS_ZLIB
#include <zlib.h>
#endif

namespace aster {

#if ASTER_HAS_ZLIB

/// Compresses the body with gzip when the request's Accept-Encoding mentions gzip, the response
/// has no Content-Encoding yet, is not `text/event-stream`, not a 206 (ranges are served from
/// the uncompressed representation, RFC 9110 §14), and its body has at least `minimum_size`
/// bytes. Sets Content-Encoding: gzip, adds Accept-Encoding to Vary and gives the compressed
/// representation its own ETag (`"tag"` becomes `"tag-gzip"`); the server writes the
/// compressed Content-Length. Streaming responses (a file's among them) are compressed chunk by
/// chunk and go out chunked, whatever length the uncompressed stream had: each chunk the
/// producer writes is flushed (Z_SYNC_FLUSH), so a client sees it at once. `level` is zlib's,
/// 1 (fast) to 9 (small).
/// @code
/// aster::application app{routes, aster::middleware(aster::gzip{.minimum_size = 1000})};
/// @endcode
struct gzip {
    std::size_t minimum_size = 500;
    int level = 6;

    task<response> operator()(request& req, call_next next) const {
        bool accepts = accepts_gzip(req.header("accept-encoding").value_or(""));
        auto res = co_await next(req);
        if (!accepts || !res.header_value("content-encoding").empty() ||
            res.status() == status::partial_content || !res.header_value("content-range").empty() ||
            res.content_type().starts_with("text/event-stream"))
            co_return res;
        if (res.is_streaming()) {
            response::producer inner = res.body_producer();
            int lvl = level;
            // Not a coroutine lambda: the copies live in compress_stream's frame, not in a
            // lambda object that could go away while the body is written. set_producer drops
            // the uncompressed stream's length: the compressed body goes out chunked.
            res.set_producer([inner = std::move(inner), lvl](body_writer& out) {
                return compress_stream(inner, lvl, out);
            });
        } else {
            // An empty body stays empty even with minimum_size 0: a 204 or 304 must not get one.
            if (res.body().empty() || res.body().size() < minimum_size) co_return res;
            res.set_body(compress(res.body(), level));
        }
        res.set_header("Content-Encoding", "gzip");
        if (auto tag = res.header_value("etag"); !tag.empty()) {
            // A tag names one representation (RFC 9110 §8.8.3): the compressed bytes get their
            // own, so a cache or a conditional request never mixes the two up.
            if (tag.size() >= 2 && tag.back() == '"')
                res.set_header("ETag", std::string(tag.substr(0, tag.size() - 1)) + "-gzip\"");
            else res.remove_header("etag");
        }
        std::string_view vary = res.header_value("vary");
        if (vary.empty()) res.header("Vary", "Accept-Encoding");
        else res.set_header("Vary", std::string(vary) + ", Accept-Encoding");
        co_return res;
    }

    /// One gzip member holding `data`; exposed for tests and for callers that precompress.
    static std::string compress(std::string_view data, int level) {
        deflater d(level);
        std::string out;
        d.run(data, Z_FINISH, out);
        return out;
    }

private:
    static bool accepts_gzip(std::string_view accept) noexcept {
        // As Starlette: any mention of gzip (q-values are not weighed).
        for (std::size_t i = 0; i + 4 <= accept.size(); ++i)
            if (iequals(accept.substr(i, 4), "gzip")) return true;
        return false;
    }

    // A z_stream set up for gzip output, ended whatever happens.
    class deflater {
    public:
        explicit deflater(int level) {
            if (deflateInit2(&z_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                throw std::invalid_argument("aster::gzip: level must be 0..9 (or -1), not " +
                                            std::to_string(level));
        }
        deflater(const deflater&) = delete;
        deflater& operator=(const deflater&) = delete;
        ~deflater() { deflateEnd(&z_); }

        // Appends the compressed form of `in` to `out`, then flushes as `flush` asks.
        void run(std::string_view in, int flush, std::string& out) {
            z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
            z_.avail_in = static_cast<uInt>(in.size());
            do {
                std::size_t had = out.size();
                std::size_t room = deflateBound(&z_, z_.avail_in) + 64;
                out.resize(had + room);
                z_.next_out = reinterpret_cast<Bytef*>(out.data() + had);
                z_.avail_out = static_cast<uInt>(room);
                int rc = deflate(&z_, flush);
                out.resize(had + room - z_.avail_out);
                if (rc == Z_STREAM_ERROR) throw std::runtime_error("aster::gzip: deflate failed");
            } while (z_.avail_out == 0 || z_.avail_in != 0);
        }

    private:
        z_stream z_{};
    };

    class gzip_writer final : public body_writer {
    public:
        gzip_writer(body_writer& out, int level) : out_(out), d_(level) {}
        task<> write(std::string_view chunk) override {
            if (chunk.empty()) co_return; // nothing to flush; an empty chunk would end the body
            buf_.clear();
            d_.run(chunk, Z_SYNC_FLUSH, buf_);
            co_await out_.write(buf_);
        }
        task<> finish() {
            buf_.clear();
            d_.run({}, Z_FINISH, buf_);
            co_await out_.write(buf_);
        }

    private:
        body_writer& out_;
        deflater d_;
        std::string buf_;
    };

    static task<> compress_stream(response::producer inner, int level, body_writer& out) {
        gzip_writer gz(out, level);
        co_await inner(gz);
        co_await gz.finish();
    }
};

#else

namespace detail {
template <class>
inline constexpr bool gzip_needs_zlib = false;
}

/// Without zlib (a build without ASTER_HAS_ZLIB) gzip cannot compress: using it fails to
/// compile with this message, while merely including the header does not.
struct gzip {
    std::size_t minimum_size = 500;
    int level = 6;

    template <class Request>
    task<response> operator()(Request&, call_next) const {
        static_assert(detail::gzip_needs_zlib<Request>,
                      "aster::gzip needs zlib: build with ASTER_HAS_ZLIB (CMake -DASTER_ZLIB=ON, "
                      "meson -Dzlib=enabled, by hand -DASTER_HAS_ZLIB and -lz; Debian: "
                      "zlib1g-dev)");
        co_return response{};
    }
};

#endif

} // namespace aster

#endif // ASTER_MIDDLEWARE_GZIP_HPP
