// SPDX-License-Identifier: MIT
// `static_files`: a directory served under a mount, through file_response, with no way out of it
// [staticfiles.py].
#ifndef ASTER_STATIC_FILES_HPP
#define ASTER_STATIC_FILES_HPP

#include <aster/detail/config.hpp>
#include <aster/file_response.hpp>
#include <aster/routing.hpp>

#include <climits>
#include <cstdlib>
#include <string>
#include <string_view>

#include <sys/stat.h>

namespace aster {

struct static_options {
    bool html =
        false; // directories serve index.html (after a redirect to add '/'); misses 404.html
};

/// A directory to mount: `mount<"/static">(static_files{"public", {.html = true}})`. GET and
/// HEAD only (405 otherwise). A path with a `..`, `.` or empty segment, a backslash, a NUL,
/// an encoded `/` (`%2F`), `\` or NUL, or one that resolves (symlinks followed) outside the
/// directory answers 404, as does a missing file. The directory is resolved on each request.
struct static_files {
    std::string_view directory;
    static_options options{};
};

namespace detail {

// Why a request path cannot name a file inside the directory; empty when it may.
inline bool unsafe_static_path(std::string_view raw, std::string_view rest) {
    for (std::string_view bad : {"%2f", "%5c", "%00"})
        for (std::size_t i = 0; i + 3 <= raw.size(); ++i)
            if (iequals(raw.substr(i, 3), bad)) return true;
    if (rest.find('\\') != std::string_view::npos || rest.find('\0') != std::string_view::npos)
        return true;
    if (rest.empty()) return false;
    if (rest.front() == '/') return true; // "//etc/passwd": an absolute path
    std::string_view r = rest.ends_with('/') ? rest.substr(0, rest.size() - 1) : rest;
    while (true) {
        auto slash = r.find('/');
        auto seg = r.substr(0, slash);
        if (seg.empty() || seg == "." || seg == "..") return true;
        if (slash == std::string_view::npos) return false;
        r = r.substr(slash + 1);
    }
}

inline std::string resolve(const std::string& p) {
    char out[PATH_MAX];
    return ::realpath(p.c_str(), out) ? std::string(out) : std::string();
}

inline response serve_static(const static_files& files, request& req, std::string_view rest) {
    if (detail::unsafe_static_path(req.raw_path(), rest)) throw http_exception(status::not_found);
    const std::string root = resolve(std::string(files.directory));
    if (root.empty()) throw http_exception(status::not_found);
    auto not_found = [&]() -> response {
        if (files.options.html) {
            std::string page = root + "/404.html";
            struct stat st {};
            if (::stat(page.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
                response r = file_response(page);
                r.set_status(status::not_found);
                return r;
            }
        }
        throw http_exception(status::not_found);
    };
    std::string full = resolve(root + "/" + std::string(rest));
    // realpath followed every symlink: what it names must still lie under the root.
    if (full.empty() || (full != root && !full.starts_with(root + "/"))) return not_found();
    struct stat st {};
    if (::stat(full.c_str(), &st) != 0) return not_found();
    if (S_ISDIR(st.st_mode)) {
        if (!files.options.html) return not_found();
        if (!req.path().ends_with('/')) {
            std::string location(req.raw_path());
            location += '/';
            if (!req.query_string().empty()) location.append("?").append(req.query_string());
            return redirect(std::move(location));
        }
        std::string index = full + "/index.html";
        if (::stat(index.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return not_found();
        return file_response(req, index);
    }
    return file_response(req, full);
}

} // namespace detail

/// The route a static_files mount becomes; it fits a route table as any other route.
template <fixed_string Prefix, fixed_string Name = "">
struct static_files_route : detail::route_base<detail::concat<Prefix, "/{path:path}">(), Name> {
    static constexpr method allowed = method::get | method::head;
    static constexpr method allow_list = allowed;
    static constexpr bool runs_now = true;

    static_files files;

    // Everything under Prefix + '/': the rest (possibly empty) is the file's path.
    static bool match_path(std::string_view path, std::string_view* values) noexcept {
        constexpr std::string_view prefix = Prefix.view();
        if (path.size() <= prefix.size() || !path.starts_with(prefix) || path[prefix.size()] != '/')
            return false;
        values[0] = path.substr(prefix.size() + 1);
        return true;
    }
    static bool values_convert(std::span<const std::string_view>) { return true; }

    template <fixed_string NewName>
    constexpr auto named() const {
        return static_files_route<Prefix, NewName>{{}, files};
    }
    template <fixed_string Outer>
    constexpr auto mounted_at() const {
        return static_files_route<detail::concat<Outer, Prefix>(), Name>{{}, files};
    }
    response call_now(request& req) const {
        return detail::serve_static(files, req, req.path_param("path"));
    }
    task<response> invoke(request& req) const { co_return call_now(req); }
};

/// `mount<"/static">(static_files{"public"})`: serves the directory under the prefix.
template <fixed_string Prefix>
constexpr auto mount(const static_files& files) {
    static_assert(detail::check_pattern<Prefix>());
    static_assert(detail::pattern_of<Prefix>.param_count == 0,
                  "aster::mount: a mount prefix takes no parameters");
    static_assert(!Prefix.view().ends_with('/'),
                  "aster::mount: write the prefix without a trailing '/'");
    return static_files_route<Prefix>{{}, files};
}

} // namespace aster

#endif // ASTER_STATIC_FILES_HPP
